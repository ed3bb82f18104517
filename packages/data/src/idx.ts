// IDX files (the MNIST family's format): header parsing, size checks and gzip, on bytes (browser-safe).
import { gunzipSync } from 'fflate';

/** Element types an IDX file can declare. */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Element arrays for each IDX element type. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: element type, dimensions and the elements in native byte order. */
export interface IdxArray {
  dtype: IdxDType;
  shape: number[];
  data: IdxData;
}

const TYPE_CODES: Record<number, { dtype: IdxDType; bytes: number }> = {
  8: { dtype: 'uint8', bytes: 1 },
  9: { dtype: 'int8', bytes: 1 },
  11: { dtype: 'int16', bytes: 2 },
  12: { dtype: 'int32', bytes: 4 },
  13: { dtype: 'float32', bytes: 4 },
  14: { dtype: 'float64', bytes: 8 },
};

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflates gzip bytes with fflate; a corrupt or truncated stream is an error naming `name`. */
export function gunzipBytes(bytes: Uint8Array, name: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${name}: gzip data is corrupt or truncated (${bytes.length} compressed bytes): ${reason}`,
    );
  }
}

/**
 * Parses an uncompressed IDX file. Errors name `name` (a file path, usually) with the expected
 * and actual sizes: a truncated file, extra trailing bytes, a bad magic number or type code.
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  if (bytes.length < 4) {
    throw new Error(`${name}: IDX header needs at least 4 bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(
      `${name}: not an IDX file: expected magic bytes 0x00 0x00, got ${hex(bytes[0])} ${hex(bytes[1])}` +
        (isGzip(bytes) ? ' (this is gzip data; decompress it first or use decodeIdx)' : ''),
    );
  }
  const type = TYPE_CODES[bytes[2]];
  if (type === undefined) {
    throw new Error(
      `${name}: unknown IDX element type ${hex(bytes[2])}, expected one of 0x08 uint8, 0x09 int8, ` +
        '0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64',
    );
  }
  const ndim = bytes[3];
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${name}: truncated IDX header: expected ${headerBytes} bytes for ${ndim} dimensions, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated IDX data' : 'IDX data has trailing bytes';
    throw new Error(
      `${name}: ${what}: expected ${expected} bytes (${headerBytes}-byte header + ` +
        `${shape.join('×') || '1'} ${type.dtype}), got ${bytes.length}`,
    );
  }
  return { dtype: type.dtype, shape, data: readElements(view, headerBytes, count, type.dtype, bytes) };
}

// IDX stores multi-byte elements big-endian; DataView reads them regardless of host order.
function readElements(
  view: DataView,
  offset: number,
  count: number,
  dtype: IdxDType,
  bytes: Uint8Array,
): IdxData {
  switch (dtype) {
    case 'uint8':
      return bytes.subarray(offset, offset + count);
    case 'int8':
      return new Int8Array(bytes.buffer, bytes.byteOffset + offset, count);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
    default: {
      const unreachable: never = dtype;
      throw new Error(`readElements: unhandled dtype ${String(unreachable)}`);
    }
  }
}

/** Parses IDX bytes that may be gzip-compressed (detected from the magic number, not the name). */
export function decodeIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  return parseIdx(isGzip(bytes) ? gunzipBytes(bytes, name) : bytes, name);
}
