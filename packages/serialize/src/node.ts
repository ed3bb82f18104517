// Node file helpers: load a checkpoint from a path, save one atomically (temp file, fsync, rename).

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { hostBytes } from '@graft/tensor';
import type { Encoded } from './chunks.js';
import { SerializeError } from './errors.js';
import {
  type LoadOptions,
  loadBytes,
  type PyValue,
  planSave,
  type SaveInput,
  type SaveOptions,
} from './index.js';
import { checkLoadOptions, checkSaveOptions } from './options.js';

export * from './index.js';

/** Reads a checkpoint file (a path or file URL); the format comes from its bytes, not its extension. */
export async function load(path: string | URL, options: LoadOptions = {}): Promise<PyValue> {
  if (typeof path !== 'string' && !(path instanceof URL))
    throw new SerializeError(`load: expected a file path (string or URL), got ${typeName(path)}`);
  checkLoadOptions('load', options);
  return loadBytes(await readIntoTensorMemory(path), options);
}

/**
 * The file's bytes, read straight into CPU tensor memory (`hostBytes`), so that its float32 tensors
 * become tensors in place: one copy of the file in memory, not the file plus the tensors.
 */
async function readIntoTensorMemory(path: string | URL): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const bytes = hostBytes(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await file.read(bytes, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got !== size)
      throw new SerializeError(`load: ${String(path)} changed while it was read (${got} of ${size} bytes)`);
    return bytes;
  } finally {
    await file.close();
  }
}

/** Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a torn one. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeAtomic(path, { size: bytes.length, emit: (sink) => sink(bytes) });
}

/**
 * Writes the chunks to a temporary file beside `path`, syncs it and renames it over `path`. The chunks
 * are written synchronously as they are produced (a chunk may view WebAssembly memory), so the file's
 * bytes never exist as one more whole copy in memory.
 */
async function writeAtomic(path: string, encoded: Encoded): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx');
  try {
    try {
      encoded.emit((chunk) => {
        for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
      });
      fsyncSync(fd);
    } finally {
      closeSync(fd);
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
  if (typeof path !== 'string') {
    const swapped =
      typeof value === 'string' ? `; did you swap them? call save(value, ${JSON.stringify(value)})` : '';
    throw new SerializeError(
      `save: expected (value, path) with a string path, got a path of type ${typeName(path)}${swapped}`,
    );
  }
  checkSaveOptions('save', options, path);
  const ext = extname(path).toLowerCase();
  const format = options.format ?? (ext === '.safetensors' ? 'safetensors' : 'pytorch-zip');
  const cleaned = basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const stem = /^\.*$/.test(cleaned) ? 'archive' : cleaned;
  const zipName = format === 'pytorch-zip' ? { archiveName: stem } : {};
  await writeAtomic(path, await planSave(value, { ...zipName, ...options, format }));
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
