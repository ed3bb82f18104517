// Turning a strided layout into element offsets, so kernels loop over flat arrays.

import type { Layout } from '../backend.js';
import { isContiguousLayout, numelOf } from '../shape.js';

/**
 * Offsets of every element of a layout in row-major order, or null when the layout is
 * contiguous (element i is then at offset + i).
 */
export function stridedOffsets(layout: Layout): Int32Array | null {
  const { shape, strides, offset } = layout;
  if (isContiguousLayout(shape, strides)) return null;
  return offsetsOf(shape, strides, offset);
}

/** Offsets for all elements, always materialised. */
export function offsetsOf(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const n = numelOf(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  if (n === 0) return out;
  if (nd === 0) {
    out[0] = offset;
    return out;
  }
  // Innermost dim in a tight loop; outer dims via an odometer.
  const last = nd - 1;
  const inner = shape[last];
  const innerStride = strides[last];
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  let k = 0;
  while (k < n) {
    for (let j = 0, o = base; j < inner; j++, o += innerStride) out[k++] = o;
    let d = last - 1;
    while (d >= 0) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}
