// Reading IDX files from disk (gzip through Node's zlib).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { type IdxArray, isGzip, parseIdx } from '../idx.js';

/** A plain Uint8Array over a Buffer's bytes: tensors of dtype uint8 take a Uint8Array, not a Buffer. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function inflate(bytes: Uint8Array, path: string): Uint8Array {
  if (!isGzip(bytes)) return plain(bytes);
  try {
    return plain(gunzipSync(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${path}: gzip data is corrupt or truncated (${bytes.length} compressed bytes): ${reason}`,
    );
  }
}

function readBytes(path: string, read: (p: string) => Uint8Array): Uint8Array {
  try {
    return read(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`readIdxFile: ${path} does not exist`);
    throw error;
  }
}

/** Reads an IDX file, gzip-compressed or raw (told from the bytes); errors name the path and the sizes. */
export function readIdxFileSync(path: string): IdxArray {
  return parseIdx(inflate(readBytes(path, readFileSync), path), path);
}

/** Reads an IDX file, gzip-compressed or raw, without blocking on the file read. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`readIdxFile: ${path} does not exist`);
    throw error;
  }
  return parseIdx(inflate(bytes, path), path);
}
