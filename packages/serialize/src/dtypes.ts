// Dtype tables for the file formats and the conversion between on-disk bytes and graft's storage arrays.

import { SerializeError } from './errors.js';

/** Element types, as @graft/tensor names them (kept identical to its `DType`). */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** The storage arrays graft keeps per dtype (int64 as Float64Array, float16/bfloat16 as raw Uint16Array bits). */
export type StorageArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

export const ELEMENT_SIZE: Readonly<Record<DType, number>> = {
  float64: 8,
  int64: 8,
  float32: 4,
  int32: 4,
  float16: 2,
  bfloat16: 2,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** safetensors dtype names. */
export const SAFETENSORS_NAME: Readonly<Record<DType, string>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

export const DTYPE_FROM_SAFETENSORS: ReadonlyMap<string, DType> = new Map(
  Object.entries(SAFETENSORS_NAME).map(([d, n]) => [n, d as DType]),
);

/** PyTorch's typed-storage class names (`torch.FloatStorage`, ...). */
export const STORAGE_CLASS: Readonly<Record<DType, string>> = {
  float64: 'DoubleStorage',
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

export const DTYPE_FROM_STORAGE_CLASS: ReadonlyMap<string, DType> = new Map([
  ...Object.entries(STORAGE_CLASS).map(([d, n]) => [n, d as DType] as const),
  // Untyped storages hold bytes.
  ['UntypedStorage', 'uint8'] as const,
]);

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function viewOrCopy<A extends StorageArray>(
  bytes: Uint8Array,
  ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): A; BYTES_PER_ELEMENT: number },
  bigEndian: boolean,
): A {
  const size = ctor.BYTES_PER_ELEMENT;
  const n = bytes.length / size;
  if (!bigEndian && hostIsLittleEndian && bytes.byteOffset % size === 0) {
    return new ctor(bytes.buffer, bytes.byteOffset, n);
  }
  const copy = bytes.slice();
  if (bigEndian !== !hostIsLittleEndian && size > 1) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  return new ctor(copy.buffer, 0, n);
}

/**
 * Turns a storage's bytes into graft's storage array for `dtype`. Aligned little-endian data is
 * viewed without copying (the array aliases `bytes`); int64 is always converted into a Float64Array.
 */
export function storageArrayFromBytes(
  bytes: Uint8Array,
  dtype: DType,
  what: string,
  bigEndian = false,
): StorageArray {
  const size = ELEMENT_SIZE[dtype];
  if (bytes.length % size !== 0) {
    throw new SerializeError(
      `${what}: ${bytes.length} bytes is not a whole number of ${dtype} elements (${size} bytes each)`,
    );
  }
  switch (dtype) {
    case 'float32':
      return viewOrCopy(bytes, Float32Array, bigEndian);
    case 'float64':
      return viewOrCopy(bytes, Float64Array, bigEndian);
    case 'int32':
      return viewOrCopy(bytes, Int32Array, bigEndian);
    case 'int16':
      return viewOrCopy(bytes, Int16Array, bigEndian);
    case 'float16':
    case 'bfloat16':
      return viewOrCopy(bytes, Uint16Array, bigEndian);
    case 'int8':
      return viewOrCopy(bytes, Int8Array, false);
    case 'uint8':
      return viewOrCopy(bytes, Uint8Array, false);
    case 'bool': {
      // PyTorch writes 0/1; anything else is normalized on a copy so the view never lies.
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i] > 1) return Uint8Array.from(bytes, (b) => (b ? 1 : 0));
      }
      return viewOrCopy(bytes, Uint8Array, false);
    }
    case 'int64': {
      const n = bytes.length / 8;
      const out = new Float64Array(n);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const le = !bigEndian;
      for (let i = 0; i < n; i++) {
        const lo = view.getUint32(i * 8 + (le ? 0 : 4), le);
        const hi = view.getInt32(i * 8 + (le ? 4 : 0), le);
        out[i] = hi * 0x100000000 + lo;
      }
      return out;
    }
    default:
      return assertNever(dtype);
  }
}

/** Little-endian bytes of a storage array in `dtype` (a view where the layout already matches). */
export function bytesFromStorageArray(array: StorageArray, dtype: DType): Uint8Array {
  if (dtype === 'int64') {
    const out = new Uint8Array(array.length * 8);
    const view = new DataView(out.buffer);
    for (let i = 0; i < array.length; i++) {
      let v = array[i];
      v = Number.isFinite(v) ? Math.trunc(v) : 0;
      const hi = Math.floor(v / 0x100000000);
      view.setUint32(i * 8, v - hi * 0x100000000, true);
      view.setInt32(i * 8 + 4, hi, true);
    }
    return out;
  }
  const expected = ELEMENT_SIZE[dtype];
  if (array.BYTES_PER_ELEMENT !== expected) {
    throw new SerializeError(
      `storage array for ${dtype}: expected ${expected}-byte elements, got ${array.constructor.name}`,
    );
  }
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (hostIsLittleEndian || expected === 1) return bytes;
  const copy = bytes.slice();
  for (let i = 0; i < copy.length; i += expected) copy.subarray(i, i + expected).reverse();
  return copy;
}

export function assertNever(x: never): never {
  throw new SerializeError(`unreachable: ${String(x)}`);
}
