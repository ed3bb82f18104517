// Downloading checkpoints: streamed to a temp file beside the target, sha256-checked, then renamed into place.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { DownloadProgress } from '../checkpoint-source/types.js';
import { fileNameFromUrl, hashMismatchError, hashPrefixFromFileName } from '../hash-prefix.js';
import { type CacheOrigin, findCachedCheckpoint, graftCheckpointDir } from './cache-dirs.js';
import { stderrProgressBar } from './progress.js';

/** Options of a download. */
export interface DownloadOptions {
  /** The sha256 prefix the file must match (default: from the destination's name; null: no check). */
  hashPrefix?: string | null;
  /** Draw a progress bar on stderr when it is a terminal (default true). */
  progress?: boolean;
  /** Called as bytes arrive, and once more with `done: true`. */
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Downloads `url` to `destination` atomically: the bytes stream into a temp file in the same folder,
 * their sha256 is checked against the expected prefix, and only then is the file renamed into place.
 * A failed or refused download leaves nothing behind.
 */
export async function downloadCheckpoint(
  url: string,
  destination: string,
  options: DownloadOptions = {},
): Promise<void> {
  const fileName = basename(destination);
  const expected = options.hashPrefix === undefined ? hashPrefixFromFileName(fileName) : options.hashPrefix;
  const bar = options.progress === false ? undefined : stderrProgressBar();
  const report = (progress: DownloadProgress) => {
    options.onProgress?.(progress);
    bar?.(progress);
  };

  const response = await fetch(url);
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`download: ${url} failed: HTTP ${response.status} ${response.statusText}`);
  }
  const length = Number(response.headers.get('content-length'));
  const totalBytes = Number.isFinite(length) && length > 0 ? length : null;

  await mkdir(dirname(destination), { recursive: true });
  const temp = join(
    dirname(destination),
    `.${fileName}.${process.pid}.${randomBytes(6).toString('hex')}.partial`,
  );
  const hash = createHash('sha256');
  let receivedBytes = 0;
  try {
    await pipeline(
      Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>),
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          receivedBytes += chunk.byteLength;
          report({ url, fileName, receivedBytes, totalBytes, done: false });
          yield chunk;
        }
      },
      createWriteStream(temp, { flags: 'wx' }),
    );
    report({ url, fileName, receivedBytes, totalBytes, done: true });
    if (totalBytes !== null && receivedBytes !== totalBytes) {
      throw new Error(`download: ${url} ended after ${receivedBytes} of ${totalBytes} bytes`);
    }
    const digest = hash.digest('hex');
    if (expected && !digest.startsWith(expected)) throw hashMismatchError(url, expected, digest);
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, destination);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

/** Where a checkpoint came from. */
export type CheckpointOrigin = CacheOrigin | 'download';

/** Options of ensureCheckpoint. */
export interface EnsureCheckpointOptions extends DownloadOptions {
  /** The name to cache the file under (default: the URL's last path segment). */
  fileName?: string;
}

/**
 * The local path of a checkpoint URL, as torch.hub resolves it and then some: graft's cache
 * (`$GRAFT_HOME/checkpoints`), then PyTorch's (`$TORCH_HOME/hub/checkpoints`), else a download
 * into graft's cache.
 */
export async function ensureCheckpoint(
  url: string,
  options: EnsureCheckpointOptions = {},
): Promise<{ path: string; origin: CheckpointOrigin }> {
  const fileName = options.fileName ?? fileNameFromUrl(url);
  const cached = await findCachedCheckpoint(fileName);
  if (cached) return cached;
  const path = join(graftCheckpointDir(), fileName);
  await downloadCheckpoint(url, path, {
    ...options,
    hashPrefix: options.hashPrefix === undefined ? hashPrefixFromFileName(fileName) : options.hashPrefix,
  });
  return { path, origin: 'download' };
}
