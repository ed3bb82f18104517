// Data types: names, storage arrays, promotion rules and half-precision conversion.

/** Element types, named as PyTorch names them. */
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

/** Any typed array a tensor's storage can be. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
];

/** True for the floating-point dtypes. */
export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/** True for float16 and bfloat16, whose storage holds raw 16-bit patterns. */
export function isHalf(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'bfloat16';
}

/**
 * Allocates a storage array for `length` elements.
 * Policy: int64 is held in a Float64Array (exact up to 2^53); bool in a Uint8Array of 0/1;
 * float16 and bfloat16 in a Uint16Array of raw bit patterns.
 */
export function storageArrayFor(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
    case 'int64':
      return new Float64Array(length);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
    default:
      return assertNever(dtype);
  }
}

/** Bytes per element as PyTorch stores it (int64 is 8 bytes on disk). */
export function dtypeByteSize(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
      return 2;
    case 'int8':
    case 'uint8':
    case 'bool':
      return 1;
    default:
      return assertNever(dtype);
  }
}

/** Checks that a storage array has the class the dtype's policy asks for. */
export function storageMatches(dtype: DType, data: TypedArray): boolean {
  return data.constructor === storageArrayFor(dtype, 0).constructor;
}

const RANK: Record<DType, number> = {
  bool: 0,
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  bfloat16: 5,
  float32: 6,
  float64: 7,
};

/** PyTorch's type promotion for two tensor operands (category, then width). */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if ((a === 'float16' && b === 'bfloat16') || (a === 'bfloat16' && b === 'float16')) return 'float32';
  if ((a === 'uint8' && b === 'int8') || (a === 'int8' && b === 'uint8')) return 'int16';
  return RANK[a] >= RANK[b] ? a : b;
}

/** Promotion of a tensor dtype with a Python-style scalar: the scalar only changes the category. */
export function promoteWithScalar(dtype: DType, value: number | boolean): DType {
  if (typeof value === 'boolean') return dtype;
  if (isFloating(dtype)) return dtype;
  if (!Number.isInteger(value) || !Number.isFinite(value)) return 'float32';
  return dtype === 'bool' ? 'int64' : dtype;
}

export function assertNever(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Decodes an IEEE binary16 bit pattern. */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Encodes a number as binary16 with round-to-nearest-even, as PyTorch's `.half()` does. */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  // A carry out of the mantissa bumps the exponent, which is the correct rounding (up to infinity).
  return sign | half;
}

/** Decodes a bfloat16 bit pattern. */
export function bfloat16ToFloat32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

let halfTable: Float32Array | null = null;

/**
 * float16 bit patterns to float32 values, in bulk: a lookup in a 65,536-entry table (256 KiB, made on
 * first use), about a hundred times faster than mapping `float16ToFloat32` over the elements.
 */
export function decodeFloat16(
  src: Uint16Array,
  dst: Float32Array = new Float32Array(src.length),
): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = float16ToFloat32(i);
  }
  const t = halfTable;
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]];
  return dst;
}

/** bfloat16 bit patterns to float32 values, in bulk (the pattern is the float32's top half). */
export function decodeBfloat16(
  src: Uint16Array,
  dst: Float32Array = new Float32Array(src.length),
): Float32Array {
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return dst;
}

/** float32 values to float16 bit patterns (round to nearest even), in bulk. */
export function encodeFloat16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = float32ToFloat16(src[i]);
  return out;
}

/** float32 values to bfloat16 bit patterns (round to nearest even), in bulk. */
export function encodeBfloat16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = float32ToBfloat16(src[i]);
  return out;
}

/** Encodes a number as bfloat16 with round-to-nearest-even (NaN stays NaN). */
export function float32ToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if (Number.isNaN(value)) return ((x >>> 16) | 0x40) & 0xffff;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** Converts a JS number to what a dtype can hold (truncation toward zero for ints, wrap like C casts). */
export function castScalar(value: number, dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(value);
    case 'float64':
      return value;
    case 'float16':
      return float16ToFloat32(float32ToFloat16(value));
    case 'bfloat16':
      return bfloat16ToFloat32(float32ToBfloat16(value));
    case 'int64':
      // `+ 0` turns the -0 that Math.trunc gives for (-1, 0) into the integer 0.
      return Number.isFinite(value) ? Math.trunc(value) + 0 : 0;
    case 'int32':
      return Number.isFinite(value) ? Math.trunc(value) | 0 : 0;
    case 'int16':
      return ((Math.trunc(value) << 16) >> 16) | 0;
    case 'int8':
      return ((Math.trunc(value) << 24) >> 24) | 0;
    case 'uint8':
      return Math.trunc(value) & 0xff;
    case 'bool':
      return value !== 0 ? 1 : 0;
    default:
      return assertNever(dtype);
  }
}
