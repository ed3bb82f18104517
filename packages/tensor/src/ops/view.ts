// View ops: new shape/strides/offset over the same storage, no kernel. Backward maps the gradient back.

import { record, relabel } from '../autograd.js';
import { type Device, getBackend, type Layout } from '../backend.js';
import { fmtShape, inferShape, layoutOffsets, normDim, numelOf, viewStrides } from '../shape.js';
import { Tensor } from '../tensor.js';
import { backendOf, wrap } from './core.js';

function makeView(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  const v = new Tensor(x._ref, shape, strides, offset, x.dtype);
  v._base = x._base ?? x;
  return v;
}

/** The storage offsets of every element of a layout, as an int64 index tensor on `like`'s device. */
function offsetsIndex(like: Tensor, layout: Layout): Tensor {
  const offs = layoutOffsets(layout.shape, layout.strides, layout.offset);
  return wrap(backendOf(like).fromArray(offs, 'int64'), [offs.length], 'int64');
}

/**
 * Moves a gradient between two strided layouts of one storage of `storageLength` elements: `g`
 * (shaped like `from`) is scatter-added at `from`'s storage offsets (overlapping elements add up),
 * then read back at `to`'s offsets. With `zeroRegion`, the elements at those offsets are zeroed
 * before reading (the part of a base that an in-place write on a view replaced).
 */
export function restride(
  g: Tensor,
  from: Layout,
  to: Layout,
  storageLength: number,
  zeroRegion?: Layout,
): Tensor {
  const b = backendOf(g);
  const src = g.contiguous();
  const fromIdx = offsetsIndex(g, from);
  const flatView = { ...src._view, shape: [src.numel()], strides: [1] };
  let flat = wrap(b.scatterAdd([storageLength], 0, fromIdx._view, flatView), [storageLength], g.dtype);
  if (zeroRegion) {
    const idx = offsetsIndex(g, zeroRegion);
    const ones = wrap(b.fill(g.dtype, idx.numel(), 1), [idx.numel()], g.dtype);
    const covered = wrap(b.scatterAdd([storageLength], 0, idx._view, ones._view), [storageLength], g.dtype);
    flat = flat.mul(covered.eq(0).to(g.dtype));
  }
  const toIdx = offsetsIndex(g, to);
  return wrap(b.indexSelect(flat._view, 0, toIdx._view), to.shape, g.dtype);
}

function layoutOf(t: Tensor): Layout {
  return { shape: [...t.shape], strides: [...t.strides], offset: t.offset };
}

/** A contiguous copy (differentiable). */
export function clone(x: Tensor): Tensor {
  const out = wrap(backendOf(x).copy(x._view, x.dtype), x.shape, x.dtype);
  return record('CloneBackward0', out, [x], (g) => [g]);
}

export function view(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape([...shape], x.numel(), x.shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (!strides) {
    throw new Error(
      `view: size ${fmtShape(target)} is not compatible with input tensor's size ${fmtShape(x.shape)} and stride ` +
        `${fmtShape(x.strides)} (at least one dimension spans across two contiguous subspaces). Use reshape() instead.`,
    );
  }
  const out = makeView(x, target, strides, x.offset);
  return record('ViewBackward0', out, [x], (g) => [g.reshape(x.shape)]);
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape([...shape], x.numel(), x.shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (strides) {
    const out = makeView(x, target, strides, x.offset);
    return record('ViewBackward0', out, [x], (g) => [g.reshape(x.shape)]);
  }
  return view(clone(x), target);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(
      `permute: number of dims don't match in permute (input has ${x.ndim} dims, got ${dims.length}: ${fmtShape(dims)})`,
    );
  }
  const d = dims.map((k) => normDim(k, x.ndim, 'permute'));
  if (new Set(d).size !== d.length) throw new Error(`permute: repeated dim in ${fmtShape(dims)}`);
  const out = makeView(
    x,
    d.map((k) => x.shape[k]),
    d.map((k) => x.strides[k]),
    x.offset,
  );
  const inverse = new Array<number>(d.length);
  d.forEach((k, i) => {
    inverse[k] = i;
  });
  return record('PermuteBackward0', out, [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  if (x.ndim === 0) return x;
  const a = normDim(dim0, x.ndim, 'transpose');
  const b = normDim(dim1, x.ndim, 'transpose');
  const dims = [...x.shape.keys()];
  dims[a] = b;
  dims[b] = a;
  return relabel(permute(x, dims), 'TransposeBackward0');
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) {
    throw new Error(
      `expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`,
    );
  }
  const lead = shape.length - x.ndim;
  const outShape: number[] = [];
  const strides: number[] = [];
  shape.forEach((s, i) => {
    if (i < lead) {
      if (s < 0)
        throw new Error(
          `expand: the expanded size of the tensor (${s}) isn't allowed in a leading, non-existing dimension ${i}`,
        );
      outShape.push(s);
      strides.push(0);
      return;
    }
    const cur = x.shape[i - lead];
    const want = s === -1 ? cur : s;
    if (cur !== want && cur !== 1) {
      throw new Error(
        `expand: the expanded size of the tensor (${want}) must match the existing size (${cur}) at non-singleton dimension ${i}. ` +
          `Target sizes: ${fmtShape(shape)}. Tensor sizes: ${fmtShape(x.shape)}`,
      );
    }
    outShape.push(want);
    strides.push(cur === want ? x.strides[i - lead] : 0);
  });
  const out = makeView(x, outShape, strides, x.offset);
  return record('ExpandBackward0', out, [x], (g) => {
    const dims: number[] = [];
    for (let i = 0; i < outShape.length; i++)
      if (i < lead || (x.shape[i - lead] === 1 && outShape[i] !== 1)) dims.push(i);
    const s = dims.length ? g.sum(dims, true) : g;
    return [s.reshape(x.shape)];
  });
}

export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  const dims =
    dim === undefined
      ? x.shape.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0)
      : (typeof dim === 'number' ? [dim] : dim)
          .map((d) => normDim(d, x.ndim, 'squeeze'))
          .filter((d) => x.shape[d] === 1);
  const keep = x.shape.map((_, i) => !dims.includes(i));
  const out = makeView(
    x,
    x.shape.filter((_, i) => keep[i]),
    x.strides.filter((_, i) => keep[i]),
    x.offset,
  );
  return record(dim === undefined ? 'SqueezeBackward0' : 'SqueezeBackward1', out, [x], (g) => [
    g.reshape(x.shape),
  ]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = [...x.shape];
  const strides = [...x.strides];
  const stride = d < x.ndim ? x.shape[d] * x.strides[d] : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, stride);
  const out = makeView(x, shape, strides, x.offset);
  return record('UnsqueezeBackward0', out, [x], (g) => [g.reshape(x.shape)]);
}

export function flatten(x: Tensor, startDim: number, endDim: number): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, 'flatten');
  const e = normDim(endDim, x.ndim, 'flatten');
  if (s > e) throw new Error(`flatten: start_dim (${startDim}) cannot come after end_dim (${endDim})`);
  const shape = [...x.shape.slice(0, s), numelOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function unflatten(x: Tensor, dim: number, sizes: number[]): Tensor {
  const d = normDim(dim, x.ndim, 'unflatten');
  const inferred = inferShape(sizes, x.shape[d], [x.shape[d]]);
  return reshape(x, [...x.shape.slice(0, d), ...inferred, ...x.shape.slice(d + 1)]);
}

export function asStrided(
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  if (shape.length !== strides.length) {
    throw new Error(
      `asStrided: shape ${fmtShape(shape)} and strides ${fmtShape(strides)} must have the same length`,
    );
  }
  let maxOff = offset;
  shape.forEach((s, i) => {
    if (s > 0) maxOff += (s - 1) * strides[i];
  });
  if (numelOf(shape) > 0 && (offset < 0 || maxOff >= x._ref.storage.length)) {
    throw new Error(
      `asStrided: setStorage out of bounds for storage of size ${x._ref.storage.length} ` +
        `(shape ${fmtShape(shape)}, strides ${fmtShape(strides)}, offset ${offset})`,
    );
  }
  const out = makeView(x, shape, strides, offset);
  const storageLength = x._ref.storage.length;
  return record('AsStridedBackward0', out, [x], (g) => [
    restride(g, layoutOf(out), layoutOf(x), storageLength),
  ]);
}

/** Scatters a slice's gradient into zeros of the input's shape. */
function sliceBackward(x: Tensor, g: Tensor, take: (z: Tensor) => Tensor): Tensor {
  const z = wrap(backendOf(g).alloc(g.dtype, x.numel()), x.shape, g.dtype);
  const region = take(z);
  backendOf(g).assign(region._view, g._view);
  return z;
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim, 'narrow');
  const n = x.shape[d];
  const s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n) {
    throw new Error(`narrow: start (${start}) + length (${length}) exceeds dimension size (${n}).`);
  }
  return slice(x, d, s, s + length, 1);
}

/** Python slicing semantics: negative bounds count from the end, out-of-range bounds are clamped. */
export function slice(
  x: Tensor,
  dim: number,
  start: number | undefined,
  end: number | undefined,
  step: number,
): Tensor {
  const d = normDim(dim, x.ndim, 'slice');
  const n = x.shape[d];
  if (!(step > 0)) throw new Error(`slice: step must be positive, got ${step}`);
  let s = start ?? 0;
  let e = end ?? n;
  if (s < 0) s += n;
  if (e < 0) e += n;
  s = Math.min(Math.max(s, 0), n);
  e = Math.min(Math.max(e, s), n);
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape[d] = len;
  strides[d] = x.strides[d] * step;
  const out = makeView(x, shape, strides, x.offset + (len > 0 ? s * x.strides[d] : 0));
  return record('SliceBackward0', out, [x], (g) => [sliceBackward(x, g, (z) => slice(z, d, s, e, step))]);
}

export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim(dim, x.ndim, 'select');
  const n = x.shape[d];
  if (index < -n || index >= n) {
    throw new Error(
      `select: index ${index} out of range for tensor of size ${fmtShape(x.shape)} at dimension ${d}`,
    );
  }
  const i = index < 0 ? index + n : index;
  const shape = x.shape.filter((_, k) => k !== d);
  const strides = x.strides.filter((_, k) => k !== d);
  const out = makeView(x, shape, strides, x.offset + i * x.strides[d]);
  return record('SelectBackward0', out, [x], (g) => [sliceBackward(x, g, (z) => select(z, d, i))]);
}

export function split(x: Tensor, size: number | number[], dim: number): Tensor[] {
  const d = normDim(dim, x.ndim, 'split');
  const n = x.shape[d];
  let sizes: number[];
  if (typeof size === 'number') {
    if (size <= 0) throw new Error(`split: split_size must be positive, got ${size}`);
    sizes = [];
    for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
    if (n === 0) sizes = [0];
  } else {
    sizes = size;
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) {
      throw new Error(
        `split: split_with_sizes expects split_sizes to sum exactly to ${n} (input tensor's size at dimension ${d}), but got split_sizes=${fmtShape(sizes)}`,
      );
    }
  }
  let start = 0;
  return sizes.map((len) => {
    const t = narrow(x, d, start, len);
    start += len;
    return t;
  });
}

export function chunk(x: Tensor, chunks: number, dim: number): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new Error(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normDim(dim, x.ndim, 'chunk');
  const size = Math.ceil(x.shape[d] / chunks) || 1;
  return split(x, size, d);
}

export function unbind(x: Tensor, dim: number): Tensor[] {
  const d = normDim(dim, x.ndim, 'unbind');
  return Array.from({ length: x.shape[d] }, (_, i) => select(x, d, i));
}

/** Copies a tensor to another device (differentiable). Off a GPU it needs `toDeviceAsync`. */
export function toDevice(x: Tensor, device: Device): Tensor {
  if (x.device === device) return x;
  if (x.device !== 'cpu') {
    throw new Error(
      `to('${device}'): copying a ${x.device} tensor off its device needs an async readback; use \`await t.toAsync('${device}')\`` +
        ' (a CPU tensor that requires grad cannot get its gradient back from the GPU synchronously: create it on the GPU instead)',
    );
  }
  const src = x.contiguous();
  const target = getBackend(device);
  const data = backendOf(src).readSync(src._view);
  const out = wrap(target.fromArray(data, x.dtype), x.shape, x.dtype);
  return record('ToCopyBackward0', out, [x], (g) => [toDevice(g, x.device)]);
}

/** Copies a tensor to another device through an async readback (differentiable; works from any device). */
export async function toDeviceAsync(x: Tensor, device: Device): Promise<Tensor> {
  if (x.device === device) return x;
  const src = x.contiguous();
  const data = await backendOf(src).read(src._view);
  const out = wrap(getBackend(device).fromArray(data, x.dtype), x.shape, x.dtype);
  return record('ToCopyBackward0', out, [x], (g) => [toDevice(g, x.device)]);
}
