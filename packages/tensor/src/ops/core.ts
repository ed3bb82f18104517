// Helpers every op file shares: kernel operands, broadcasting views, scalar wrapping, reduction of grads.

import { type Backend, getBackend, type Storage, type View } from '../backend.js';
import { type DType, promoteTypes, promoteWithScalar } from '../dtype.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** The backend that runs ops on `t`: its storage's, else its device's default. */
export function backendOf(t: Tensor): Backend {
  return t._ref.storage.backend ?? getBackend(t.device);
}

/** Wraps a kernel's output storage as a contiguous tensor. */
export function wrap(storage: Storage, shape: readonly number[], dtype: DType): Tensor {
  return Tensor._fromStorage(storage, shape, dtype);
}

/** A view of `t` broadcast to `shape` (stride 0 on broadcast dims), as kernels take it. */
export function broadcastView(t: Tensor, shape: readonly number[]): View {
  const nd = shape.length;
  const lead = nd - t.shape.length;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const sd = t.shape[i - lead];
    return sd === d ? t.strides[i - lead] : 0;
  });
  return { storage: t._ref.storage, shape, strides, offset: t.offset, dtype: t.dtype };
}

/** A 0-d tensor holding a JS number, on `like`'s device. */
export function scalarTensor(value: number, dtype: DType, like: Tensor): Tensor {
  const b = backendOf(like);
  return wrap(b.fill(dtype, 1, value), [], dtype);
}

/** Resolves `a op b` operands: numbers become 0-d tensors with PyTorch's scalar promotion. */
export function operands(a: Tensor, b: Tensor | number, op: string): [Tensor, Tensor, DType] {
  if (typeof b === 'number' || typeof b === 'boolean') {
    const dtype = promoteWithScalar(a.dtype, b);
    return [a, scalarTensor(Number(b), dtype, a), dtype];
  }
  if (!(b instanceof Tensor)) throw new Error(`${op}: expected a Tensor or a number, got ${typeName(b)}`);
  if (a.device !== b.device) {
    throw new Error(
      `${op}: expected all tensors to be on the same device, but found ${a.device} and ${b.device}`,
    );
  }
  // A 0-d tensor operand does not change a higher-dim operand's dtype category-wise (PyTorch rule).
  let dtype: DType;
  if (a.ndim === 0 && b.ndim > 0)
    dtype = sameCategory(b.dtype, a.dtype) ? b.dtype : promoteTypes(a.dtype, b.dtype);
  else if (b.ndim === 0 && a.ndim > 0)
    dtype = sameCategory(a.dtype, b.dtype) ? a.dtype : promoteTypes(a.dtype, b.dtype);
  else dtype = promoteTypes(a.dtype, b.dtype);
  return [a, b, dtype];
}

function category(d: DType): number {
  return d === 'bool' ? 0 : d.startsWith('float') || d === 'bfloat16' ? 2 : 1;
}

function sameCategory(big: DType, small: DType): boolean {
  return category(big) >= category(small);
}

export function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'Array';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/**
 * Checks an optional tensor argument (a Tensor, null or undefined). Anything else throws naming the
 * argument and what came; a plain object (the options, given one place too early) gets `hint`, which
 * shows where they go.
 */
export function checkOptionalTensor(
  where: string,
  name: string,
  position: number,
  v: unknown,
  hint: string,
): void {
  if (v === null || v === undefined || v instanceof Tensor) return;
  const plain = typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
  const got = plain ? `an object with keys {${Object.keys(v as object).join(', ')}}` : typeName(v);
  throw new Error(
    `${where}: expected ${name} (argument ${position}) to be a Tensor or null, got ${got}; ${plain ? hint : 'pass a Tensor, or null for none'}`,
  );
}

/** Output shape of an elementwise op on two tensors. */
export function broadcastOf(a: Tensor, b: Tensor, op: string): number[] {
  return broadcastShapes(a.shape, b.shape, op);
}

/** Sums a broadcast gradient back down to `shape` (the input's shape). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  let r = dims.length ? g.sum(dims, true) : g;
  if (lead > 0) r = r.reshape([...shape]);
  if (r.shape.join() !== shape.join()) {
    throw new Error(`internal: cannot reduce gradient ${fmtShape(g.shape)} to ${fmtShape(shape)}`);
  }
  return r;
}

/** Asserts a dtype is floating point for ops that need it. */
export function requireFloat(t: Tensor, op: string): void {
  if (!t.isFloatingPoint()) throw new Error(`${op}: expected a floating point tensor, got dtype ${t.dtype}`);
}
