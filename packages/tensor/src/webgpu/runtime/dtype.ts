// How every dtype is held on the GPU (32 bits per element) and converted on upload and readback.

import {
  assertNever,
  bfloat16ToFloat32,
  castScalar,
  type DType,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  type TypedArray,
} from '../../dtype.js';

/** How a dtype is held in a GPU buffer: every element is 32 bits. */
export type GpuClass = 'f32' | 'i32' | 'u32';

/** Bytes of one element on the GPU. */
export const ELEM = 4;

/**
 * GPU storage policy: float32/float64/float16/bfloat16 as f32 (float16 and bfloat16 values are
 * rounded to their precision on every store, float64 is computed in float32); int64/int32/int16/int8
 * as i32 (int64 is exact for |v| < 2^31); uint8 and bool as u32.
 */
export function gpuClass(dtype: DType): GpuClass {
  switch (dtype) {
    case 'float32':
    case 'float64':
    case 'float16':
    case 'bfloat16':
      return 'f32';
    case 'int64':
    case 'int32':
    case 'int16':
    case 'int8':
      return 'i32';
    case 'uint8':
    case 'bool':
      return 'u32';
    default:
      return assertNever(dtype);
  }
}

/** Compute type: float when any operand or the result is floating, else i32. */
export type ComputeType = 'f32' | 'i32';

export function computeType(...dtypes: DType[]): ComputeType {
  return dtypes.some((d) => gpuClass(d) === 'f32') ? 'f32' : 'i32';
}

/** Host array in the GPU format of `dtype`, from the dtype's storage format. */
export function toGpuArray(data: TypedArray, dtype: DType): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'float64':
      return Float32Array.from(data);
    case 'float16':
      return Float32Array.from(data as Uint16Array, float16ToFloat32);
    case 'bfloat16':
      return Float32Array.from(data as Uint16Array, bfloat16ToFloat32);
    case 'int64': {
      const out = new Int32Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (!(v >= -2147483648 && v <= 2147483647)) {
          throw new Error(
            `webgpu: int64 value ${v} (element ${i}) does not fit the GPU's 32-bit integer storage; int64 tensors on webgpu hold |v| < 2^31`,
          );
        }
        out[i] = v;
      }
      return out;
    }
    case 'int32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'int16':
    case 'int8':
      return Int32Array.from(data);
    case 'uint8':
    case 'bool':
      return Uint32Array.from(data);
    default:
      return assertNever(dtype);
  }
}

/** Storage-format array of `dtype` from `n` GPU words. */
export function fromGpuBytes(bytes: ArrayBuffer, dtype: DType, n: number): TypedArray {
  switch (gpuClass(dtype)) {
    case 'f32': {
      const f = new Float32Array(bytes, 0, n);
      if (dtype === 'float32') return f.slice();
      if (dtype === 'float64') return Float64Array.from(f);
      if (dtype === 'float16') return Uint16Array.from(f, float32ToFloat16);
      return Uint16Array.from(f, float32ToBfloat16);
    }
    case 'i32': {
      const a = new Int32Array(bytes, 0, n);
      if (dtype === 'int64') return Float64Array.from(a);
      if (dtype === 'int32') return a.slice();
      if (dtype === 'int16') return Int16Array.from(a);
      return Int8Array.from(a);
    }
    default:
      return Uint8Array.from(new Uint32Array(bytes, 0, n));
  }
}

/** The 32-bit pattern (as an i32) that holds `value` in `dtype`. */
export function fillBits(dtype: DType, value: number): number {
  const f = new Float32Array(1);
  const i = new Int32Array(f.buffer);
  switch (gpuClass(dtype)) {
    case 'f32':
      f[0] = dtype === 'float16' || dtype === 'bfloat16' ? castScalar(value, dtype) : value;
      return i[0];
    case 'i32': {
      const v = castScalar(value, dtype);
      if (v < -2147483648 || v > 2147483647) {
        throw new Error(`webgpu: fill value ${value} does not fit the GPU's 32-bit storage of ${dtype}`);
      }
      return v;
    }
    default:
      return castScalar(value, dtype);
  }
}
