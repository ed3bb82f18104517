// The reference backend's indexing kernels: gather, scatterAdd, indexSelect, indexAdd and topk.

import type { Storage, View } from '../../backend.js';
import { contiguousStrides, numelOf } from '../../shape.js';
import { type ArrayAllocator, arr, CpuStorage, numeric, offsets, output } from '../storage.js';
import { offsetsOf } from '../strided.js';
import { checkIndex, remapOffset } from './helpers.js';

/** torch.gather: out[..i..] = x[..index[..i..]..] along `dim`. */
export function referenceGather(cpu: ArrayAllocator, x: View, dim: number, index: View): Storage {
  const X = numeric(x);
  const I = arr(index);
  const shape = index.shape;
  const n = numelOf(shape);
  const oi = offsets(index);
  const { out, finish } = output(cpu, x.dtype, n);
  const walk = contiguousStrides(shape);
  for (let i = 0; i < n; i++) {
    out[i] =
      X[remapOffset(i, walk, dim, x.strides, x.offset, () => checkIndex(I[oi[i]], x.shape[dim], 'gather'))];
  }
  return finish();
}

/**
 * Zeros of `shape` plus src's values at `walkShape`'s positions i (src element offsets(src)[i]), each
 * added where position i lands along `dim` at `target(i, c)` (c: i's coordinate along `dim`).
 */
function addAlong(
  cpu: ArrayAllocator,
  shape: readonly number[],
  dim: number,
  src: View,
  walkShape: readonly number[],
  target: (i: number, c: number) => number,
): Storage {
  const S = numeric(src);
  const n = numelOf(walkShape);
  const os = offsets(src);
  const { out, finish } = output(cpu, src.dtype, numelOf(shape));
  const outStrides = contiguousStrides(shape);
  const walk = contiguousStrides(walkShape);
  for (let i = 0; i < n; i++) out[remapOffset(i, walk, dim, outStrides, 0, (c) => target(i, c))] += S[os[i]];
  return finish();
}

/** torch.scatter_add into zeros of `shape`: out[..index[..i..]..] += src[..i..] along `dim`. */
export function referenceScatterAdd(
  cpu: ArrayAllocator,
  shape: readonly number[],
  dim: number,
  index: View,
  src: View,
): Storage {
  const I = arr(index);
  const oi = offsets(index);
  return addAlong(cpu, shape, dim, src, index.shape, (i) => checkIndex(I[oi[i]], shape[dim], 'scatterAdd'));
}

/** torch.index_select: the slices of `x` along `dim` at `index`. */
export function referenceIndexSelect(cpu: ArrayAllocator, x: View, dim: number, index: View): Storage {
  const X = numeric(x);
  const I = numeric(index);
  const k = numelOf(index.shape);
  const outShape = [...x.shape];
  outShape[dim] = k;
  const n = numelOf(outShape);
  const { out, finish } = output(cpu, x.dtype, n);
  const walk = contiguousStrides(outShape);
  const oi = offsets(index);
  for (let i = 0; i < n; i++) {
    out[i] =
      X[
        remapOffset(i, walk, dim, x.strides, x.offset, (c) =>
          checkIndex(I[oi[c]], x.shape[dim], 'indexSelect'),
        )
      ];
  }
  return finish();
}

/** torch.index_add into zeros of `shape`: the slices of `src` added at `index` along `dim`. */
export function referenceIndexAdd(
  cpu: ArrayAllocator,
  shape: readonly number[],
  dim: number,
  index: View,
  src: View,
): Storage {
  const I = numeric(index);
  const oi = offsets(index);
  return addAlong(cpu, shape, dim, src, src.shape, (_, c) => checkIndex(I[oi[c]], shape[dim], 'indexAdd'));
}

/** The k largest (or smallest) values along `dim` and their indices, sorted, NaN counted largest. */
export function referenceTopk(
  cpu: ArrayAllocator,
  x: View,
  k: number,
  dim: number,
  largest: boolean,
  sorted: boolean,
): { values: Storage; indices: Storage } {
  void sorted; // always sorted: a valid answer for sorted=false too
  const X = numeric(x);
  const nd = x.shape.length;
  const order = [...[...Array(nd).keys()].filter((d) => d !== dim), dim];
  const shape = order.map((d) => x.shape[d]);
  const strides = order.map((d) => x.strides[d]);
  const offs = offsetsOf(shape, strides, x.offset);
  const L = x.shape[dim];
  const outer = numelOf(shape) / Math.max(L, 1);
  // Results are produced with `dim` last, then moved back into place.
  const tmpV = new Float64Array(outer * k);
  const tmpI = new Float64Array(outer * k);
  const idx = Array.from({ length: L }, (_, i) => i);
  for (let o = 0; o < outer; o++) {
    const vals = (i: number) => X[offs[o * L + i]];
    const cmp = (a: number, b: number) => {
      const va = vals(a);
      const vb = vals(b);
      // NaN counts as the largest value, as in PyTorch.
      const na = va !== va;
      const nb = vb !== vb;
      if (na || nb) return na && nb ? a - b : largest ? (na ? -1 : 1) : na ? 1 : -1;
      return va === vb ? a - b : largest ? vb - va : va - vb;
    };
    const sortedIdx = [...idx].sort(cmp);
    for (let j = 0; j < k; j++) {
      tmpV[o * k + j] = vals(sortedIdx[j]);
      tmpI[o * k + j] = sortedIdx[j];
    }
  }
  const outShape = [...x.shape];
  outShape[dim] = k;
  const { out: values, finish } = output(cpu, x.dtype, outer * k);
  const indices = new Float64Array(outer * k);
  const permShape = order.map((d) => outShape[d]);
  const cs = contiguousStrides(outShape);
  const permStrides = order.map((d) => cs[d]);
  const dest = offsetsOf(permShape, permStrides, 0);
  for (let i = 0; i < outer * k; i++) {
    values[dest[i]] = tmpV[i];
    indices[dest[i]] = tmpI[i];
  }
  return { values: finish(), indices: new CpuStorage(indices, cpu) };
}
