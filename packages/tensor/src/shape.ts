// Shape arithmetic: argument normalisation, contiguous strides, broadcasting, dim wrapping.

export type ShapeArg = number[] | readonly number[];

/** Accepts `f([2, 3])` and `f(2, 3)` alike. */
export function shapeFromArgs(args: (number | ShapeArg)[], op: string): number[] {
  const shape = args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as number[])] : (args as number[]);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < -1) {
      throw new Error(`${op}: expected a shape of non-negative integers, got [${shape.join(', ')}]`);
    }
  }
  return [...shape];
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= Math.max(shape[i], 1);
  }
  return strides;
}

/** Is this layout row-major dense (size-1 dims may have any stride, like PyTorch)? */
export function isContiguousLayout(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    if (strides[i] !== expected) return numelOf(shape) === 0;
    expected *= shape[i];
  }
  return true;
}

/** Wraps a possibly negative dim into [0, ndim). */
export function normDim(dim: number, ndim: number, op: string): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new Error(
      `${op}: dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`,
    );
  }
  return dim < 0 ? dim + n : dim;
}

export function normDims(dims: number | readonly number[] | undefined, ndim: number, op: string): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : [...dims];
  const out = list.map((d) => normDim(d, ndim, op));
  if (new Set(out).size !== out.length)
    throw new Error(`${op}: dim ${list.join(', ')} appears multiple times`);
  return out.sort((a, b) => a - b);
}

/** Broadcast shapes the way PyTorch (and NumPy) do, right-aligned. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: the size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}` +
          ` (shapes [${a.join(', ')}] and [${b.join(', ')}])`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Resolves a single -1 in a reshape target. */
export function inferShape(shape: number[], numel: number, from: readonly number[]): number[] {
  const neg = shape.indexOf(-1);
  if (neg !== shape.lastIndexOf(-1)) throw new Error('reshape: only one dimension can be inferred');
  if (neg >= 0) {
    const rest = numelOf(shape.filter((_, i) => i !== neg));
    if (rest === 0 || numel % rest !== 0) {
      throw new Error(`reshape: shape '[${shape.join(', ')}]' is invalid for input of size ${numel}`);
    }
    shape = [...shape];
    shape[neg] = numel / rest;
  }
  if (numelOf(shape) !== numel) {
    throw new Error(
      `reshape: shape '[${shape.join(', ')}]' is invalid for input of size ${numel} (input shape [${from.join(', ')}])`,
    );
  }
  return shape;
}

/**
 * Strides for viewing (shape, strides) as `newShape` without a copy, or null when a copy is needed
 * (the rule of PyTorch's `view`: only dims that are contiguous with each other may be merged or split).
 */
export function viewStrides(
  shape: readonly number[],
  strides: readonly number[],
  newShape: readonly number[],
): number[] | null {
  if (numelOf(shape) === 0 || shape.length === 0) return contiguousStrides(newShape);
  const newStrides = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = strides[strides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d];
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Storage offsets of every element of a layout in row-major order (as float64, ready for an int64 index). */
export function layoutOffsets(
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Float64Array {
  const n = numelOf(shape);
  const out = new Float64Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  let off = offset;
  for (let k = 0; k < n; k++) {
    out[k] = off;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
