// Checkpoint bytes in Node: URLs through the graft/torch caches and an atomic, hash-checked download; paths read directly.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { checkOptions } from '@graft/tensor';
import { expandHome } from '../node/cache-dirs.js';
import { ensureCheckpoint } from '../node/download.js';
import { CHECKPOINT_REQUEST_KEYS, type CheckpointRequest } from './types.js';

export type { CheckpointRequest, DownloadProgress } from './types.js';

/** Reads a checkpoint: http(s) URLs through the caches (downloading once), file URLs and paths from disk. */
export async function readCheckpointBytes(request: CheckpointRequest): Promise<Uint8Array> {
  checkOptions('readCheckpointBytes', request, CHECKPOINT_REQUEST_KEYS);
  const { source, fileName, hashPrefix, progress, onProgress } = request;
  let path: string;
  if (/^https?:\/\//i.test(source)) {
    path = (await ensureCheckpoint(source, { fileName, hashPrefix, progress, onProgress })).path;
  } else if (/^file:\/\//i.test(source)) path = fileURLToPath(source);
  else path = expandHome(source);
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`weights: no checkpoint file at ${path}`);
    throw e;
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
