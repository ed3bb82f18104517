// Checkpoint bytes in a browser (or any runtime without Node's file system): fetch a URL, check its hash.
import { checkOptions } from '@graft/tensor';
import { fileNameFromUrl, hashMismatchError, hashPrefixFromFileName, toHex } from '../hash-prefix.js';
import { CHECKPOINT_REQUEST_KEYS, type CheckpointRequest } from './types.js';

export type { CheckpointRequest, DownloadProgress } from './types.js';

/** Fetches a checkpoint URL; local paths need Node (`@graft/models` resolves to its Node build there). */
export async function readCheckpointBytes(request: CheckpointRequest): Promise<Uint8Array> {
  checkOptions('readCheckpointBytes', request, CHECKPOINT_REQUEST_KEYS);
  const { source } = request;
  if (!/^https?:\/\//i.test(source)) {
    throw new Error(
      `weights: "${source}" is not an http(s) URL; local files need Node, or pass the checkpoint's bytes (Uint8Array) instead`,
    );
  }
  const fileName = request.fileName ?? fileNameFromUrl(source);
  // Without a file cache, the advice for a fetch that fails is to serve or pass the file yourself.
  const remedy = `serve ${fileName} from your own site and pass its URL, or pass the checkpoint's bytes (Uint8Array)`;
  request.onProgress?.({ url: source, fileName, receivedBytes: 0, totalBytes: null, done: false });
  let response: Response;
  try {
    response = await fetch(source);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(
      `weights: downloading ${fileName} from ${source} failed: ${reason} (offline, or a host without cross-origin access?); ${remedy}`,
      { cause: e },
    );
  }
  if (!response.ok || response.body === null) {
    throw new Error(
      `weights: downloading ${fileName} from ${source} failed: HTTP ${response.status} ${response.statusText}; ${remedy}`,
    );
  }
  const length = Number(response.headers.get('content-length'));
  const totalBytes = Number.isFinite(length) && length > 0 ? length : null;
  const chunks: Uint8Array[] = [];
  let receivedBytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    receivedBytes += value.byteLength;
    request.onProgress?.({ url: source, fileName, receivedBytes, totalBytes, done: false });
  }
  const bytes = new Uint8Array(receivedBytes);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  request.onProgress?.({ url: source, fileName, receivedBytes, totalBytes, done: true });
  const expected = request.hashPrefix === undefined ? hashPrefixFromFileName(fileName) : request.hashPrefix;
  if (expected) {
    const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
    if (!digest.startsWith(expected)) throw hashMismatchError(source, expected, digest);
  }
  return bytes;
}
