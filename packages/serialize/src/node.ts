// Node file helpers: load a checkpoint from a path, save one atomically (temp file, fsync, rename).

import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, unlinkSync, writeSync } from 'node:fs';
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
  await stage(path, { size: bytes.length, emit: (sink) => sink(bytes) }).commit();
}

/**
 * A write in progress: the bytes are in the file system's hands (the source may change now), and
 * `done` settles once they are synced and renamed into place, or rejects with the write's error.
 */
export interface BackgroundWrite {
  readonly path: string;
  readonly done: Promise<void>;
}

/**
 * As `writeFileAtomic`, but resolves as soon as the bytes are written to a temporary file beside `path`
 * (so `bytes` may be reused); the sync and the rename over `path` run after, and `done` settles then.
 */
export async function writeFileAtomicInBackground(path: string, bytes: Uint8Array): Promise<BackgroundWrite> {
  return background(path, stage(path, { size: bytes.length, emit: (sink) => sink(bytes) }));
}

/** `done` with a handler attached, so a failure nobody has awaited yet is not an unhandled rejection. */
function background(path: string, staged: Staged): BackgroundWrite {
  const done = staged.commit();
  done.catch(() => undefined);
  return { path, done };
}

interface Staged {
  /** Syncs the temporary file, renames it over its destination and syncs the folder (best effort). */
  commit(): Promise<void>;
}

/**
 * Writes the chunks to a temporary file beside `path`, synchronously as they are produced (a chunk may
 * view WebAssembly memory, so the file's bytes never exist as one more whole copy in memory, and the
 * tensors may change once this returns). `commit` makes the file durable and puts it in place; a crash
 * before then leaves the old file.
 */
function stage(path: string, encoded: Encoded): Staged {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx');
  try {
    encoded.emit((chunk) => {
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
    });
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // the temporary file is gone already
    }
    throw e;
  }
  return {
    async commit() {
      try {
        try {
          await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
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
    },
  };
}

/**
 * Saves `value` to `path`: safetensors for a `.safetensors` path, PyTorch's zip format otherwise
 * (the zip's folder is named after the file, as torch.save does). The write is atomic.
 */
export async function save(value: SaveInput, path: string, options: SaveOptions = {}): Promise<void> {
  await (await stageSave('save', value, path, options)).commit();
}

/**
 * As `save`, but resolves once the file's bytes are written under a temporary name, so the tensors may
 * change from then on (a training loop can go on); the returned `done` settles when the file is synced
 * and renamed over `path` (as `torch.distributed.checkpoint.async_save`'s future). Await `done` before
 * saving to the same path again, and before the process exits.
 */
export async function saveInBackground(
  value: SaveInput,
  path: string,
  options: SaveOptions = {},
): Promise<BackgroundWrite> {
  return background(path, await stageSave('saveInBackground', value, path, options));
}

async function stageSave(
  where: string,
  value: SaveInput,
  path: string,
  options: SaveOptions,
): Promise<Staged> {
  if (typeof path !== 'string') {
    const swapped =
      typeof value === 'string' ? `; did you swap them? call ${where}(value, ${JSON.stringify(value)})` : '';
    throw new SerializeError(
      `${where}: expected (value, path) with a string path, got a path of type ${typeName(path)}${swapped}`,
    );
  }
  checkSaveOptions(where, options, path);
  const ext = extname(path).toLowerCase();
  const format = options.format ?? (ext === '.safetensors' ? 'safetensors' : 'pytorch-zip');
  const cleaned = basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const stem = /^\.*$/.test(cleaned) ? 'archive' : cleaned;
  const zipName = format === 'pytorch-zip' ? { archiveName: stem } : {};
  return stage(path, await planSave(value, { ...zipName, ...options, format }));
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
