// Zero-copy access to a CPU tensor's values, for writers that consume them at once (checkpoint files).

import { CpuStorage } from './cpu/storage.js';
import { cpuHeap } from './cpu/wasm/heap.js';
import type { TypedArray } from './dtype.js';
import type { Tensor } from './tensor.js';

/**
 * The tensor's values in row-major storage format (float16 bits as a Uint16Array), like
 * `readRawSync()`, but without copying when the tensor is a contiguous CPU tensor: the result then
 * views the tensor's storage, possibly WebAssembly memory. Use it at once and keep nothing: it is
 * valid only until the next tensor operation, and writing to it changes the tensor. CPU only.
 */
export function rawViewSync(t: Tensor): TypedArray {
  const v = t._view;
  if (v.storage instanceof CpuStorage && t.isContiguous()) {
    return v.storage.data.subarray(v.offset, v.offset + t.numel());
  }
  return t.readRawSync();
}

/**
 * `n` zeroed-or-not bytes to read data into (a checkpoint file) that then becomes CPU tensors without a
 * copy: a little-endian float32 view of it passed to `fromTypedArray` is adopted as the tensor's storage
 * where CPU tensors live in WebAssembly memory, and the memory is freed once these bytes and every such
 * tensor are gone. Views of other dtypes are copied. Elsewhere it is a plain `Uint8Array`, and
 * `fromTypedArray` behaves as usual. The contents are unspecified until written.
 */
export function hostBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`hostBytes: expected a byte count (a non-negative integer), got ${n}`);
  return cpuHeap()?.hostBytes(n) ?? new Uint8Array(n);
}
