// Gather, index_select, topk, flip, masked_fill, cat/stack and one_hot, with gradients where PyTorch has them.

import { noGrad, record, relabel } from '../autograd.js';
import { eye } from '../creation.js';
import { isFloating, promoteTypes } from '../dtype.js';
import { fmtShape, normDim } from '../shape.js';
import { Tensor, type ValuesIndices, valuesIndices } from '../tensor.js';
import { backendOf, sumToShape, typeName, wrap } from './core.js';
import { cast, where } from './elementwise.js';

function requireIndex(index: Tensor, op: string): void {
  if (index.dtype !== 'int64' && index.dtype !== 'int32') {
    throw new Error(`${op}: expected index to be an int64 (or int32) tensor, got ${index.dtype}`);
  }
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex(index, 'gather');
  const d = normDim(dim, x.ndim, 'gather');
  if (index.ndim !== x.ndim) {
    throw new Error(
      `gather: index tensor must have the same number of dimensions as input tensor (${index.ndim} vs ${x.ndim})`,
    );
  }
  index.shape.forEach((s, i) => {
    if (i !== d && s > x.shape[i]) {
      throw new Error(
        `gather: size does not match at dimension ${i}: index ${fmtShape(index.shape)} vs input ${fmtShape(x.shape)}`,
      );
    }
  });
  const out = wrap(backendOf(x).gather(x._view, d, index._view), index.shape, x.dtype);
  return record(
    'GatherBackward0',
    out,
    [x],
    (g) => [wrap(backendOf(g).scatterAdd(x.shape, d, index._view, g._view), x.shape, g.dtype)],
    [index],
  );
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex(index, 'indexSelect');
  if (index.ndim > 1) throw new Error(`indexSelect: index must be 0-D or 1-D, got ${index.ndim}-D`);
  const d = normDim(dim, x.ndim, 'indexSelect');
  const shape = [...x.shape];
  if (x.ndim > 0) shape[d] = index.numel();
  const out = wrap(backendOf(x).indexSelect(x._view, d, index._view), shape, x.dtype);
  return record(
    'IndexSelectBackward0',
    out,
    [x],
    (g) => [wrap(backendOf(g).indexAdd(x.shape, d, index._view, g.contiguous()._view), x.shape, g.dtype)],
    [index],
  );
}

/** The k largest (or smallest) elements along `dim` (default: the last), sorted, with their indices. */
export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
  const d = normDim(dim, x.ndim, 'topk');
  const n = x.ndim === 0 ? 1 : x.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new Error(`topk: k (${k}) out of range for dimension ${d} of size ${n}`);
  const r = backendOf(x).topk(x._view, k, d, largest, sorted);
  const shape = [...x.shape];
  if (x.ndim > 0) shape[d] = k;
  const values = wrap(r.values, shape, x.dtype);
  const indices = wrap(r.indices, shape, 'int64');
  record('TopkBackward0', values, [x], (g) => [
    wrap(backendOf(g).scatterAdd(x.shape, d, indices._view, g.contiguous()._view), x.shape, g.dtype),
  ]);
  return valuesIndices(values, indices);
}

/** Reverses `dims` (FlipBackward0; its gradient is the same flip). A copy, as in PyTorch. */
export function flip(x: Tensor, dims: readonly number[]): Tensor {
  const ds = dims.map((d) => normDim(d, x.ndim, 'flip'));
  ds.forEach((d, i) => {
    if (ds.indexOf(d) !== i) throw new Error(`flip: dim ${d} appears multiple times in the list of dims`);
  });
  const out = noGrad(() => reverse(x, ds));
  return record('FlipBackward0', out, [x], (g) => [reverse(g, ds)]);
}

/** A copy of x with `dims` reversed, one index_select per dim (a core kernel on every backend). */
function reverse(x: Tensor, dims: readonly number[]): Tensor {
  let out = x;
  for (const d of x.ndim === 0 ? [] : dims) {
    const n = x.shape[d];
    if (n < 2) continue;
    const index = wrap(
      backendOf(x).fromArray(
        Float64Array.from({ length: n }, (_, i) => n - 1 - i),
        'int64',
      ),
      [n],
      'int64',
    );
    const shape = [...out.shape];
    out = wrap(backendOf(out).indexSelect(out._view, d, index._view), shape, out.dtype);
  }
  return out === x ? x.clone() : out;
}

/**
 * `value` where `mask` is true, x elsewhere; the mask broadcasts against x (and may widen it, as in
 * PyTorch's out-of-place masked_fill). `value` is a number or a 0-d tensor (which gets a gradient:
 * MaskedFillBackward1); it is converted to x's dtype.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | Tensor): Tensor {
  if (!(mask instanceof Tensor))
    throw new Error(`maskedFill: expected a bool Tensor mask, got ${typeName(mask)}`);
  if (mask.dtype !== 'bool') {
    throw new Error(`maskedFill: only boolean masks are supported, but got a mask of dtype ${mask.dtype}`);
  }
  let fill: number | Tensor;
  if (value instanceof Tensor) {
    if (value.ndim !== 0) {
      throw new Error(
        `maskedFill: only a 0-dimensional value tensor is supported, but got one with ${value.ndim} dimension(s)`,
      );
    }
    fill = cast(value, x.dtype);
  } else if (typeof value === 'number') {
    fill = x.dtype === 'bool' ? Number(value !== 0) : isFloating(x.dtype) ? value : Math.trunc(value);
  } else {
    throw new Error(`maskedFill: expected a number or a 0-d Tensor value, got ${typeName(value)}`);
  }
  const out = noGrad(() => where(mask, fill, x));
  const v = value instanceof Tensor ? value : null;
  return record(
    v ? 'MaskedFillBackward1' : 'MaskedFillBackward0',
    out,
    [x, v],
    (g) => [
      x.requiresGrad ? sumToShape(where(mask, 0, g), x.shape) : null,
      v?.requiresGrad ? cast(where(mask, g, 0).sum(), v.dtype) : null,
    ],
    [mask],
  );
}

/** Concatenates along `dim`; all other dims must match. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new Error('cat: expected a non-empty list of Tensors');
  // Legacy rule kept by PyTorch: 1-D empty tensors are skipped.
  const parts = tensors.filter((t) => !(t.ndim === 1 && t.numel() === 0));
  if (parts.length === 0) return tensors[0];
  const ref = parts[0];
  const d = normDim(dim, ref.ndim, 'cat');
  let dtype = ref.dtype;
  for (const t of parts as Tensor[]) {
    if (t.ndim !== ref.ndim) {
      throw new Error(`cat: Tensors must have same number of dimensions: got ${ref.ndim} and ${t.ndim}`);
    }
    t.shape.forEach((s, i) => {
      if (i !== d && s !== ref.shape[i]) {
        throw new Error(
          `cat: Sizes of tensors must match except in dimension ${d}. Expected size ${ref.shape[i]} but got size ${s} for tensor number ${parts.indexOf(t)} in the list.`,
        );
      }
    });
    if (t.device !== ref.device)
      throw new Error(`cat: expected all tensors on one device, got ${ref.device} and ${t.device}`);
    dtype = promoteTypes(dtype, t.dtype);
  }
  const shape = [...ref.shape];
  shape[d] = parts.reduce((s, t) => s + t.shape[d], 0);
  const backend = backendOf(ref);
  const out = wrap(
    backend.alloc(
      dtype,
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
    dtype,
  );
  let start = 0;
  for (const t of parts) {
    const region = out.narrow(d, start, t.shape[d]);
    if (t.numel() > 0) backend.assign(region._view, t._view);
    start += t.shape[d];
  }
  const sizes = parts.map((t) => t.shape[d]);
  return record('CatBackward0', out, parts, (g) => {
    let s = 0;
    return parts.map((t, i) => {
      const piece = g.narrow(d, s, sizes[i]);
      s += sizes[i];
      return t.requiresGrad ? cast(piece, t.dtype) : null;
    });
  });
}

/** Stacks equal-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new Error('stack: expected a non-empty list of Tensors');
  const ref = tensors[0];
  tensors.forEach((t, i) => {
    if (t.shape.join() !== ref.shape.join()) {
      throw new Error(
        `stack: expects each tensor to be equal size, but got ${fmtShape(ref.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`,
      );
    }
  });
  const d = normDim(dim, ref.ndim + 1, 'stack');
  return relabel(
    cat(
      tensors.map((t) => t.unsqueeze(d)),
      d,
    ),
    'StackBackward0',
  );
}

/** one_hot(labels, numClasses) -> int64 tensor with a trailing class dim. */
export function oneHot(labels: Tensor, numClasses = -1): Tensor {
  if (labels.dtype !== 'int64' && labels.dtype !== 'int32') {
    throw new Error(`oneHot: expected an int64 tensor of class indices, got ${labels.dtype}`);
  }
  if (labels.device !== 'cpu') {
    // Rows of an identity matrix picked by the labels: no readback, and out-of-range labels are
    // reported by the index kernel at the next readback, as on the device's other index ops.
    if (numClasses < 0) {
      throw new Error(
        `oneHot: pass numClasses for ${labels.device} tensors (inferring it reads the labels back synchronously, which only the CPU can)`,
      );
    }
    const rows = eye(numClasses, { dtype: 'int64', device: labels.device });
    return indexSelect(rows, 0, labels.flatten()).reshape([...labels.shape, numClasses]);
  }
  const vals = Array.from(labels.readSync());
  let n = numClasses;
  if (n < 0) n = vals.reduce((m, v) => Math.max(m, v), -1) + 1;
  const out = new Float64Array(vals.length * n);
  vals.forEach((v, i) => {
    if (v < 0 || v >= n) throw new Error(`oneHot: class values must be in [0, ${n}), got ${v}`);
    out[i * n + v] = 1;
  });
  return wrap(backendOf(labels).fromArray(out, 'int64'), [...labels.shape, n], 'int64');
}
