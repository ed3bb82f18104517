// CPU storage, shared by the reference and WebAssembly backends: typed arrays in the dtype's storage
// format, float32 ones in the WebAssembly heap where it can hold tensors (wasm/heap.ts).

import type { Backend, Layout, Storage, View } from '../backend.js';
import {
  type DType,
  decodeBfloat16,
  decodeFloat16,
  encodeBfloat16,
  encodeFloat16,
  type TypedArray,
} from '../dtype.js';
import { nextStorageSerial } from '../serial.js';
import type { FloatArray } from './gemm.js';
import { offsetsOf } from './strided.js';
import { cpuHeap } from './wasm/heap.js';

/**
 * CPU storage: a typed array in the dtype's storage format. float32 arrays live in the WebAssembly
 * heap where it can hold tensors (see wasm/heap.ts), so kernels take their pointers without copies.
 */
export class CpuStorage implements Storage {
  readonly device = 'cpu' as const;
  readonly serial = nextStorageSerial();
  constructor(
    readonly data: TypedArray,
    /** The backend whose kernels ops on this storage run (both CPU backends read any CpuStorage). */
    readonly backend?: Backend,
  ) {}
  get length(): number {
    return this.data.length;
  }
  /** Returns a heap block to the allocator now; later use of this storage is an error. */
  dispose(): void {
    if (this.data instanceof Float32Array || this.data instanceof Float64Array) cpuHeap()?.dispose(this.data);
  }
  /** See `Storage.letGo`: counts towards asking the collector to run (wasm/ballast.ts). */
  letGo(): void {
    cpuHeap()?.ballast.letGo(this.data);
  }
}

export function arr(v: View): TypedArray {
  return (v.storage as CpuStorage).data;
}

/** Values readable as numbers: half-precision storages are decoded once. */
export function numeric(v: View): ArrayLike<number> {
  const a = arr(v);
  if (v.dtype === 'float16') return decodeFloat16(a as Uint16Array);
  if (v.dtype === 'bfloat16') return decodeBfloat16(a as Uint16Array);
  return a;
}

/** A CPU backend as its kernels see it: where new arrays come from (JavaScript memory, or the heap). */
export type ArrayAllocator = Backend & { allocArray(dtype: DType, n: number, zero?: boolean): TypedArray };

/** Output buffer in a computable format, then converted to storage format by `finish`. */
export function output(
  backend: ArrayAllocator,
  dtype: DType,
  n: number,
): { out: TypedArray; finish: () => CpuStorage } {
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const out = new Float32Array(n);
    const enc = dtype === 'float16' ? encodeFloat16 : encodeBfloat16;
    return { out, finish: () => new CpuStorage(enc(out), backend) };
  }
  const out = backend.allocArray(dtype, n);
  return { out, finish: () => new CpuStorage(out, backend) };
}

/** Needs explicit conversion when a plain typed-array store would not do what a cast does. */
export function needsCast(dtype: DType): boolean {
  return dtype === 'int64' || dtype === 'bool';
}

export function offsets(v: Layout): Int32Array {
  return offsetsOf(v.shape, v.strides, v.offset);
}

/** A zeroed array of the same float type as `like`, from `backend` where it is float32. */
export function floatsLike(backend: ArrayAllocator, like: FloatArray, n: number): FloatArray {
  return like instanceof Float64Array
    ? new Float64Array(n)
    : (backend.allocArray('float32', n) as Float32Array);
}

/** The storage of a float32 or float64 operand; other dtypes are refused with the op's name. */
export function floats(v: View, op: string): FloatArray {
  const a = arr(v);
  if (v.dtype !== 'float32' && v.dtype !== 'float64') {
    throw new Error(`${op}: expected a float32 or float64 tensor on the CPU backend, got ${v.dtype}`);
  }
  return a as FloatArray;
}
