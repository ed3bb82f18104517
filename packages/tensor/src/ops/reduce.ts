// Reductions with their gradients: sum, mean, var, prod, max/min (all or along a dim), argmax, logsumexp,
// and the running sum (cumsum).

import { autocastActive, autocastCall } from '../amp/autocast.js';
import { noGrad, record } from '../autograd.js';
import type { ReduceOp } from '../backend.js';
import { type DType, isFloating } from '../dtype.js';
import { normDim, normDims, numelOf } from '../shape.js';
import { type Tensor, type ValuesIndices, valuesIndices } from '../tensor.js';
import { backendOf, requireFloat, wrap } from './core.js';
import { cast, where } from './elementwise.js';
import { cat } from './indexing.js';

/** Output shape after reducing `dims`, with or without keeping them as size 1. */
function reducedShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  return keepdim
    ? shape.map((s, i) => (dims.includes(i) ? 1 : s))
    : shape.filter((_, i) => !dims.includes(i));
}

function reduceRaw(x: Tensor, op: ReduceOp, dims: number[], keepdim: boolean, outDtype: DType): Tensor {
  const storage = backendOf(x).reduce(op, x._view, dims, outDtype);
  return wrap(storage, reducedShape(x.shape, dims, keepdim), outDtype);
}

/** Re-inserts reduced dims as size 1 so a reduced gradient broadcasts against the input. */
function keepDims(
  g: Tensor,
  inputShape: readonly number[],
  dims: readonly number[],
  keepdim: boolean,
): Tensor {
  return keepdim ? g : g.reshape(reducedShape(inputShape, dims, true));
}

function sumDtype(d: DType): DType {
  return isFloating(d) ? d : 'int64';
}

export function sum(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  if (autocastActive()) return autocastCall('float32', sum, [x, dim, keepdim]);
  const dims = normDims(dim, x.ndim, 'sum');
  const out = reduceRaw(x, 'sum', dims, keepdim, sumDtype(x.dtype));
  return record(dim === undefined ? 'SumBackward0' : 'SumBackward1', out, [x], (g) => [
    keepDims(g, x.shape, dims, keepdim).expand(x.shape),
  ]);
}

export function mean(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  if (!isFloating(x.dtype)) {
    throw new Error(
      `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${x.dtype}`,
    );
  }
  const dims = normDims(dim, x.ndim, 'mean');
  const n = numelOf(dims.map((d) => x.shape[d]));
  // 16-bit floats sum in float32 and divide before rounding, as PyTorch (a float16 sum overflows at 65504).
  const acc = x.dtype === 'float16' || x.dtype === 'bfloat16' ? 'float32' : x.dtype;
  const s = noGrad(() => reduceRaw(x, 'sum', dims, keepdim, acc).div(n).to(x.dtype));
  return record(dim === undefined ? 'MeanBackward0' : 'MeanBackward1', s, [x], (g) => [
    keepDims(g, x.shape, dims, keepdim).div(n).expand(x.shape),
  ]);
}

export function variance(
  x: Tensor,
  dim: number | number[] | undefined,
  correction: number,
  keepdim: boolean,
): Tensor {
  requireFloat(x, 'var');
  const dims = normDims(dim, x.ndim, 'var');
  const n = numelOf(dims.map((d) => x.shape[d]));
  // Composite: mean((x - mean)^2) * n / (n - correction); autograd follows the composition.
  const centered = x.sub(mean(x, dims, true));
  return sum(centered.mul(centered), dims, keepdim).div(Math.max(n - correction, 0));
}

/** max()/min() over all elements; the gradient is shared evenly among ties. */
export function maxAll(x: Tensor, op: 'max' | 'min'): Tensor {
  if (x.numel() === 0) {
    throw new Error(
      `${op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`,
    );
  }
  const dims = normDims(undefined, x.ndim, op);
  const out = reduceRaw(x, op, dims, false, x.dtype);
  return record(
    op === 'max' ? 'MaxBackward1' : 'MinBackward1',
    out,
    [x],
    (g) => {
      const mask = x.eq(out).to(g.dtype);
      return [mask.mul(g.div(mask.sum()))];
    },
    [x, out],
  );
}

/** amax/amin over dims: gradient shared evenly among ties in each slice. */
export function amax(
  x: Tensor,
  op: 'max' | 'min',
  dim: number | number[] | undefined,
  keepdim: boolean,
): Tensor {
  const dims = normDims(dim, x.ndim, op === 'max' ? 'amax' : 'amin');
  const out = reduceRaw(x, op, dims, keepdim, x.dtype);
  return record(
    op === 'max' ? 'AmaxBackward0' : 'AminBackward0',
    out,
    [x],
    (g) => {
      const o = keepDims(out, x.shape, dims, keepdim);
      const mask = x.eq(o).to(g.dtype);
      const count = mask.sum(dims, true);
      return [mask.mul(keepDims(g, x.shape, dims, keepdim).div(count))];
    },
    [x, out],
  );
}

/** max(dim)/min(dim): values and the index of the first extreme element; gradient goes to that index. */
export function maxDim(x: Tensor, op: 'max' | 'min', dim: number, keepdim: boolean): ValuesIndices {
  const d = normDim(dim, x.ndim, op);
  if (x.ndim === 0) return valuesIndices(x, wrap(backendOf(x).fill('int64', 1, 0), [], 'int64'));
  const indices = reduceRaw(x, op === 'max' ? 'argmax' : 'argmin', [d], keepdim, 'int64');
  const values = reduceRaw(x, op, [d], keepdim, x.dtype);
  record(
    op === 'max' ? 'MaxBackward0' : 'MinBackward0',
    values,
    [x],
    (g) => {
      const idx = keepDims(indices, x.shape, [d], keepdim);
      const gk = keepDims(g, x.shape, [d], keepdim);
      return [scatterAddInto(x.shape, d, idx, gk)];
    },
    [],
  );
  return valuesIndices(values, indices);
}

function scatterAddInto(shape: readonly number[], dim: number, index: Tensor, src: Tensor): Tensor {
  return wrap(
    backendOf(src).scatterAdd(shape, dim, index.contiguous()._view, src.contiguous()._view),
    shape,
    src.dtype,
  );
}

export function argmax(
  x: Tensor,
  op: 'argmax' | 'argmin',
  dim: number | undefined,
  keepdim: boolean,
): Tensor {
  if (dim === undefined) {
    const flat = x.reshape([-1]);
    const r = reduceRaw(flat, op, [0], false, 'int64');
    return keepdim ? r.reshape(x.shape.map(() => 1)) : r;
  }
  const d = normDim(dim, x.ndim, op);
  if (x.ndim === 0) return wrap(backendOf(x).fill('int64', 1, 0), [], 'int64');
  return reduceRaw(x, op, [d], keepdim, 'int64');
}

export function logsumexp(x: Tensor, dim: number | number[], keepdim: boolean): Tensor {
  requireFloat(x, 'logsumexp');
  const dims = normDims(dim, x.ndim, 'logsumexp');
  // Shifting by the (detached) max keeps exp finite; infinite maxima are replaced by 0 as PyTorch does.
  const m = noGrad(() => {
    const mx = reduceRaw(x, 'max', dims, true, x.dtype);
    return mx.where(mx.isfinite(), 0);
  });
  const s = sum(x.sub(m).exp(), dims, true).log().add(m);
  return keepdim ? s : s.squeeze(dims);
}

/**
 * prod over all elements (ProdBackward0) or one dim (ProdBackward1). The gradient of each element is the
 * product of the others in its slice, computed as PyTorch does with zeros in mind: with no zero it is
 * prod / x; with exactly one zero only that element gets the product of the rest; with two or more, all 0.
 */
export function prod(x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (autocastActive()) return autocastCall('float32', prod, [x, dim, keepdim]);
  const dims = normDims(dim, x.ndim, 'prod');
  const out = reduceRaw(x, 'prod', dims, keepdim, sumDtype(x.dtype));
  return record(
    dim === undefined ? 'ProdBackward0' : 'ProdBackward1',
    out,
    [x],
    (g) => {
      const isZero = x.eq(0);
      const zeros = isZero.sum(dims, true);
      const safe = where(isZero, 1, x);
      const others = reduceRaw(safe, 'prod', dims, true, safe.dtype);
      const onlyZero = where(zeros.eq(1).logicalAnd(isZero), others, 0);
      const d = where(zeros.eq(0), others.div(safe), onlyZero);
      return [keepDims(g, x.shape, dims, keepdim).mul(d)];
    },
    [x],
  );
}

/**
 * Running sum along `dim` (bool and integer inputs give int64, as in PyTorch). Composed from core
 * kernels: log2(n) rounds of shifted adds (Hillis-Steele), so it runs on every backend; the gradient
 * is the same scan run from the other end.
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  if (autocastActive()) return autocastCall('float32', cumsum, [x, dim]);
  const d = normDim(dim, x.ndim, 'cumsum');
  const out = noGrad(() => scan(cast(x, sumDtype(x.dtype)), d, false));
  return record('CumsumBackward0', out, [x], (g) => [scan(g, d, true)]);
}

/** Inclusive prefix sums along d (suffix sums when `reverse`), as a fresh tensor. */
function scan(x: Tensor, d: number, reverse: boolean): Tensor {
  let out = x.clone();
  const n = x.ndim === 0 ? 1 : x.shape[d];
  for (let s = 1; s < n; s *= 2) {
    const head = out.narrow(d, 0, n - s);
    const tail = out.narrow(d, s, n - s);
    out = reverse
      ? cat([head.add(tail), out.narrow(d, n - s, s)], d)
      : cat([out.narrow(d, 0, s), tail.add(head)], d);
  }
  return out;
}

export function reduceNoGrad(x: Tensor, op: ReduceOp, dim: number | undefined, keepdim: boolean): Tensor {
  const dims = normDims(dim, x.ndim, op);
  const outDtype: DType = op === 'any' || op === 'all' ? 'bool' : op === 'prod' ? sumDtype(x.dtype) : x.dtype;
  return reduceRaw(x, op, dims, keepdim, outDtype);
}
