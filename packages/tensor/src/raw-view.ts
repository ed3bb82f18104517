// Zero-copy access to a CPU tensor's values, for writers that consume them at once (checkpoint files).

import { CpuStorage } from './cpu/storage.js';
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
