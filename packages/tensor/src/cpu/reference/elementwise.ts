// The reference backend's elementwise, where and reduction kernels: a fast loop over contiguous rows
// (cpu/loops.ts) where one applies, else the general loop over strided offsets in float64.

import type { BinaryOp, ReduceOp, Storage, UnaryOp, View } from '../../backend.js';
import { assertNever, castScalar, type DType, isFloating } from '../../dtype.js';
import { numelOf } from '../../shape.js';
import { fastBinary, fastReduce, fastUnary } from '../loops.js';
import { binaryFn, unaryFn } from '../ops.js';
import { type ArrayAllocator, arr, CpuStorage, needsCast, numeric, offsets, output } from '../storage.js';
import { offsetsOf, stridedOffsets } from '../strided.js';

/** `op` over `x` into a new `outDtype` storage: a row loop where one fits, else float64 per element. */
export function referenceUnary(cpu: ArrayAllocator, op: UnaryOp, x: View, outDtype: DType): Storage {
  const n = numelOf(x.shape);
  {
    const out = cpu.allocArray(outDtype, n, false);
    if (fastUnary(op, x, arr(x), out, outDtype)) return new CpuStorage(out, cpu);
  }
  const f = unaryFn(op);
  const src = numeric(x);
  const offs = stridedOffsets(x);
  const { out, finish } = output(cpu, outDtype, n);
  const cast = needsCast(outDtype);
  if (offs) for (let i = 0; i < n; i++) out[i] = f(src[offs[i]]);
  else for (let i = 0, o = x.offset; i < n; i++, o++) out[i] = f(src[o]);
  if (cast) for (let i = 0; i < n; i++) out[i] = castScalar(out[i], outDtype);
  return finish();
}

/** `op` over broadcast views `a` and `b` into a new `outDtype` storage (integer rules for two integers). */
export function referenceBinary(
  cpu: ArrayAllocator,
  op: BinaryOp,
  a: View,
  b: View,
  outDtype: DType,
): Storage {
  const n = numelOf(a.shape);
  {
    const out = cpu.allocArray(outDtype, n, false);
    if (fastBinary(op, a, b, arr(a), arr(b), out, outDtype)) return new CpuStorage(out, cpu);
  }
  const integer = !isFloating(a.dtype) && !isFloating(b.dtype);
  const f = binaryFn(op, integer);
  const av = numeric(a);
  const bv = numeric(b);
  const oa = stridedOffsets(a);
  const ob = stridedOffsets(b);
  const { out, finish } = output(cpu, outDtype, n);
  if (!oa && !ob) {
    for (let i = 0, ia = a.offset, ib = b.offset; i < n; i++) out[i] = f(av[ia + i], bv[ib + i]);
  } else if (!oa && ob) {
    for (let i = 0, ia = a.offset; i < n; i++) out[i] = f(av[ia + i], bv[ob[i]]);
  } else if (oa && !ob) {
    for (let i = 0, ib = b.offset; i < n; i++) out[i] = f(av[oa[i]], bv[ib + i]);
  } else if (oa && ob) {
    for (let i = 0; i < n; i++) out[i] = f(av[oa[i]], bv[ob[i]]);
  }
  if (needsCast(outDtype)) for (let i = 0; i < n; i++) out[i] = castScalar(out[i], outDtype);
  return finish();
}

/** `cond ? a : b` elementwise over broadcast views into a new `outDtype` storage. */
export function referenceWhere(cpu: ArrayAllocator, cond: View, a: View, b: View, outDtype: DType): Storage {
  const n = numelOf(cond.shape);
  const c = arr(cond);
  const av = numeric(a);
  const bv = numeric(b);
  const oc = offsets(cond);
  const oa = offsets(a);
  const ob = offsets(b);
  const { out, finish } = output(cpu, outDtype, n);
  for (let i = 0; i < n; i++) out[i] = c[oc[i]] !== 0 ? av[oa[i]] : bv[ob[i]];
  return finish();
}

/** `op` over `dims` of `x` (kept dims in order) in float64; max/min and arg variants stop at a NaN. */
export function referenceReduce(
  cpu: ArrayAllocator,
  op: ReduceOp,
  x: View,
  dims: readonly number[],
  outDtype: DType,
): Storage {
  {
    const keptCount = numelOf(x.shape.filter((_, d) => !dims.includes(d)));
    const out = cpu.allocArray(outDtype, keptCount);
    if (fastReduce(op, x, arr(x), dims, out, outDtype)) return new CpuStorage(out, cpu);
  }
  const nd = x.shape.length;
  const kept = [...Array(nd).keys()].filter((d) => !dims.includes(d));
  const order = [...kept, ...dims];
  const shape = order.map((d) => x.shape[d]);
  const strides = order.map((d) => x.strides[d]);
  const inner = numelOf(dims.map((d) => x.shape[d]));
  const outer = numelOf(kept.map((d) => x.shape[d]));
  const offs = offsetsOf(shape, strides, x.offset);
  const src = numeric(x);
  const { out, finish } = output(cpu, outDtype, outer);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    let acc: number;
    switch (op) {
      case 'sum': {
        acc = 0;
        for (let i = 0; i < inner; i++) acc += src[offs[base + i]];
        break;
      }
      case 'prod': {
        acc = 1;
        for (let i = 0; i < inner; i++) acc *= src[offs[base + i]];
        break;
      }
      case 'max':
      case 'min': {
        if (inner === 0) throw new Error(`${op}: cannot reduce over an empty dimension`);
        const isMax = op === 'max';
        acc = src[offs[base]];
        for (let i = 1; i < inner && acc === acc; i++) {
          const v = src[offs[base + i]];
          if (v !== v || (isMax ? v > acc : v < acc)) acc = v;
        }
        break;
      }
      case 'argmax':
      case 'argmin': {
        if (inner === 0) throw new Error(`${op}: cannot reduce over an empty dimension`);
        const isMax = op === 'argmax';
        let best = src[offs[base]];
        acc = 0;
        for (let i = 1; i < inner && best === best; i++) {
          const v = src[offs[base + i]];
          if (v !== v || (isMax ? v > best : v < best)) {
            best = v;
            acc = i;
          }
        }
        break;
      }
      case 'any': {
        acc = 0;
        for (let i = 0; i < inner; i++)
          if (src[offs[base + i]] !== 0) {
            acc = 1;
            break;
          }
        break;
      }
      case 'all': {
        acc = 1;
        for (let i = 0; i < inner; i++)
          if (src[offs[base + i]] === 0) {
            acc = 0;
            break;
          }
        break;
      }
      default:
        acc = assertNever(op);
    }
    out[o] = needsCast(outDtype) ? castScalar(acc, outDtype) : acc;
  }
  return finish();
}
