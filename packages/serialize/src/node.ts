// Node file helpers: load a checkpoint from a path, save one atomically (temp file, fsync, rename).

import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import {
  type LoadOptions,
  loadBytes,
  type PyValue,
  type SaveInput,
  type SaveOptions,
  saveBytes,
} from './index.js';

export * from './index.js';

/** Reads a checkpoint file; the format comes from its bytes, not its extension. */
export async function load(path: string, options: LoadOptions = {}): Promise<PyValue> {
  const buffer = await readFile(path);
  return loadBytes(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), options);
}

/** Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a torn one. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  // Persist the rename itself; not every platform lets a directory be opened, so this is best effort.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // ignore: the data is already durable in the renamed file
  }
}

/**
 * Saves `value` to `path`: safetensors for a `.safetensors` path, PyTorch's zip format otherwise
 * (the zip's folder is named after the file, as torch.save does). The write is atomic.
 */
export async function save(value: SaveInput, path: string, options: SaveOptions = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  const format = options.format ?? (ext === '.safetensors' ? 'safetensors' : 'pytorch-zip');
  const cleaned = basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const stem = /^\.*$/.test(cleaned) ? 'archive' : cleaned;
  const bytes = await saveBytes(value, { archiveName: stem, ...options, format });
  await writeFileAtomic(path, bytes);
}
