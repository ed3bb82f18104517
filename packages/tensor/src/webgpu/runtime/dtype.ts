// How every dtype is held on the GPU (float16 as f16, the rest in 32-bit words) and converted on upload
// and readback.

import {
  assertNever,
  bfloat16ToFloat32,
  castScalar,
  type DType,
  float32ToBfloat16,
  float32ToFloat16,
  type TypedArray,
} from '../../dtype.js';

/** How a dtype is held in a GPU buffer: f16 takes 2 bytes an element, the others 4. */
export type GpuClass = 'f32' | 'f16' | 'i32' | 'u32';

/** Bytes of one element of `dtype` on the GPU. */
export function elemBytes(dtype: DType): number {
  return dtype === 'float16' ? 2 : 4;
}

/**
 * GPU storage policy: float16 as f16 (WGSL's `f16`, which needs the device feature 'shader-f16');
 * float32/float64/bfloat16 as f32 (bfloat16 values are rounded to their precision on every store,
 * float64 is computed in float32); int64/int32/int16/int8 as i32 (int64 is exact for |v| < 2^31);
 * uint8 and bool as u32.
 */
export function gpuClass(dtype: DType): GpuClass {
  switch (dtype) {
    case 'float16':
      return 'f16';
    case 'float32':
    case 'float64':
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

/** True for the floating classes. */
export function isFloatClass(c: GpuClass): boolean {
  return c === 'f32' || c === 'f16';
}

/**
 * Compute type: f32 when any operand or the result is floating, else i32. float16 operands compute in
 * f32 too and round once on the store, as PyTorch's CUDA kernels do (their "opmath" type for half).
 */
export type ComputeType = 'f32' | 'i32';

export function computeType(...dtypes: DType[]): ComputeType {
  return dtypes.some((d) => isFloatClass(gpuClass(d))) ? 'f32' : 'i32';
}

/**
 * Host array in the GPU format of `dtype`, from the dtype's storage format. float16 keeps its bit
 * patterns, padded to an even count (queue writes move whole 4-byte words).
 */
export function toGpuArray(
  data: TypedArray,
  dtype: DType,
): Float32Array | Int32Array | Uint32Array | Uint16Array {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'float64':
      return Float32Array.from(data);
    case 'float16': {
      const out = new Uint16Array(data.length + (data.length & 1));
      out.set(data as Uint16Array);
      return out;
    }
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

/** Storage-format array of `dtype` from `n` GPU elements. */
export function fromGpuBytes(bytes: ArrayBuffer, dtype: DType, n: number): TypedArray {
  switch (gpuClass(dtype)) {
    case 'f16':
      return new Uint16Array(bytes, 0, n).slice();
    case 'f32': {
      const f = new Float32Array(bytes, 0, n);
      if (dtype === 'float32') return f.slice();
      if (dtype === 'float64') return Float64Array.from(f);
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

/** The bit pattern (as an i32; float16's in the low 16 bits) that holds `value` in `dtype`. */
export function fillBits(dtype: DType, value: number): number {
  const f = new Float32Array(1);
  const i = new Int32Array(f.buffer);
  switch (gpuClass(dtype)) {
    case 'f16':
      return float32ToFloat16(value);
    case 'f32':
      f[0] = dtype === 'bfloat16' ? castScalar(value, dtype) : value;
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

/**
 * WGSL the launcher adds (after `enable f16;`) to shaders that use f16. `to_f16` rounds an f32 to
 * nearest-even f16 with overflow to +-inf (round_f16 in kernels/math.ts) and builds infinities and NaN
 * from their bit patterns: WGSL leaves converting a non-finite f32 to f16 undefined, and a GradScaler
 * must see the inf of an overflowing float16 gradient.
 */
export const F16_HELPERS = /* wgsl */ `
fn to_f16(x: f32) -> f16 {
  let r = round_f16(x);
  if (is_finite(r)) { return f16(r); }
  let neg = (bitcast<u32>(r) >> 31u) == 1u;
  let bits = select(select(0x7c00u, 0xfc00u, neg), 0x7e00u, is_nan(r));
  return bitcast<vec2<f16>>(bits).x;
}
fn from_f16(x: f16) -> f32 {
  let bits = bitcast<u32>(vec2<f16>(x, f16(0.0))) & 0xffffu;
  if ((bits & 0x7c00u) != 0x7c00u) { return f32(x); }
  if ((bits & 0x3ffu) != 0u) { return mk_nan(); }
  return mk_inf((bits & 0x8000u) != 0u);
}
`;

/** Whether WGSL source uses the f16 type (and so needs `enable f16;` and F16_HELPERS). */
export function usesF16(code: string): boolean {
  return /\bf16\b/.test(code);
}
