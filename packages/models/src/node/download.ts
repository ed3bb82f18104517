// Downloading checkpoints: streamed to a temp file beside the target, sha256-checked, then renamed into place.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { checkOptions } from '@graft/tensor';
import type { DownloadProgress } from '../checkpoint-source/types.js';
import { fileNameFromUrl, hashMismatchError, hashPrefixFromFileName } from '../hash-prefix.js';
import {
  type CacheOrigin,
  findCachedCheckpoint,
  graftCheckpointDir,
  torchHubCheckpointDir,
} from './cache-dirs.js';
import { stderrProgressBar } from './progress.js';

/** Options of a download. */
export interface DownloadOptions {
  /** The sha256 prefix the file must match (default: from the destination's name; null: no check). */
  hashPrefix?: string | null;
  /**
   * Announce the download on stderr (`Downloading: "<url>" to <path>`, as torch.hub does) and draw a
   * progress bar when stderr is a terminal (default true). false: quiet.
   */
  progress?: boolean;
  /** Called before the request (0 bytes, with the destination), as bytes arrive, and once more with `done: true`. */
  onProgress?: (progress: DownloadProgress) => void;
}

const DOWNLOAD_OPTION_KEYS: readonly (keyof DownloadOptions)[] = ['hashPrefix', 'progress', 'onProgress'];

/**
 * A download that could not be made: no connection, an HTTP error, or a transfer cut short. (A file that
 * arrived but fails its hash check is a plain Error: copying it by hand would not help.)
 */
export class DownloadError extends Error {
  readonly url: string;
  readonly fileName: string;
  constructor(message: string, url: string, fileName: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadError';
    this.url = url;
    this.fileName = fileName;
  }
}

/** Why a fetch failed, in a few words: undici's 'fetch failed' hides the reason in its cause. */
function networkReason(e: unknown): string {
  const error = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = error?.cause;
  const detail = cause?.message || cause?.code;
  const message = error?.message ?? String(e);
  return detail && detail !== message ? `${message} (${detail})` : message;
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
  checkOptions('downloadCheckpoint', options, DOWNLOAD_OPTION_KEYS);
  const fileName = basename(destination);
  const expected = options.hashPrefix === undefined ? hashPrefixFromFileName(fileName) : options.hashPrefix;
  const bar = options.progress === false ? undefined : stderrProgressBar();
  const report = (progress: DownloadProgress) => {
    options.onProgress?.(progress);
    bar?.(progress);
  };

  if (options.progress !== false) process.stderr.write(`Downloading: "${url}" to ${destination}\n`);
  report({ url, fileName, destination, receivedBytes: 0, totalBytes: null, done: false });
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DownloadError(`download: ${url} failed: ${networkReason(e)}`, url, fileName, { cause: e });
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new DownloadError(
      `download: ${url} failed: HTTP ${response.status} ${response.statusText}`,
      url,
      fileName,
    );
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
        const received = chunks[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<Uint8Array>;
          try {
            next = await received.next();
          } catch (e) {
            throw new DownloadError(
              `download: ${url} failed after ${receivedBytes} bytes: ${networkReason(e)}`,
              url,
              fileName,
              { cause: e },
            );
          }
          if (next.done) break;
          const chunk = next.value;
          hash.update(chunk);
          receivedBytes += chunk.byteLength;
          report({ url, fileName, destination, receivedBytes, totalBytes, done: false });
          yield chunk;
        }
      },
      createWriteStream(temp, { flags: 'wx' }),
    );
    report({ url, fileName, destination, receivedBytes, totalBytes, done: true });
    if (totalBytes !== null && receivedBytes !== totalBytes) {
      throw new DownloadError(
        `download: ${url} ended after ${receivedBytes} of ${totalBytes} bytes`,
        url,
        fileName,
      );
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

const ENSURE_OPTION_KEYS: readonly (keyof EnsureCheckpointOptions)[] = ['fileName', ...DOWNLOAD_OPTION_KEYS];

/**
 * The message for a checkpoint that is in neither cache and cannot be downloaded: what failed, then
 * the file name and both folders it can be copied into by hand.
 */
function offlineMessage(failure: string, fileName: string): string {
  return [
    failure,
    `graft looks for ${fileName} in these folders, in order, before downloading it:`,
    `  ${graftCheckpointDir()}  (graft's cache: $GRAFT_HOME/checkpoints, default ~/.cache/graft/checkpoints)`,
    `  ${torchHubCheckpointDir()}  (PyTorch's cache: $TORCH_HOME/hub/checkpoints, default ~/.cache/torch/hub/checkpoints)`,
    `Offline? Download the URL on a machine with network access and copy ${fileName} into either folder, ` +
      "or pass the local file's path as weights.",
  ].join('\n');
}

/**
 * The local path of a checkpoint URL, as torch.hub resolves it and then some: graft's cache
 * (`$GRAFT_HOME/checkpoints`), then PyTorch's (`$TORCH_HOME/hub/checkpoints`), else a download
 * into graft's cache. A download that cannot be made throws a DownloadError naming the URL, the
 * file name and both folders.
 */
export async function ensureCheckpoint(
  url: string,
  options: EnsureCheckpointOptions = {},
): Promise<{ path: string; origin: CheckpointOrigin }> {
  checkOptions('ensureCheckpoint', options, ENSURE_OPTION_KEYS);
  const fileName = options.fileName ?? fileNameFromUrl(url);
  const cached = await findCachedCheckpoint(fileName);
  if (cached) return cached;
  const path = join(graftCheckpointDir(), fileName);
  try {
    await downloadCheckpoint(url, path, {
      hashPrefix: options.hashPrefix === undefined ? hashPrefixFromFileName(fileName) : options.hashPrefix,
      progress: options.progress,
      onProgress: options.onProgress,
    });
  } catch (e) {
    if (e instanceof DownloadError) {
      throw new DownloadError(offlineMessage(e.message, fileName), url, fileName, { cause: e.cause ?? e });
    }
    throw e;
  }
  return { path, origin: 'download' };
}
