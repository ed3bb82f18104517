// Fast paths for the elementwise and reduction kernels: strided operands are walked row by row
// (adjacent dims merged where every operand allows), with one hand-written loop per common op so V8
// compiles each loop monomorphically. The generic kernels in backend.ts handle everything else.

import type { BinaryOp, ReduceOp, UnaryOp, View } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { UNARY_OPS } from '../ops/unary.js';

/** An iteration plan: `rows` runs of `len` elements; operand k starts row r at bases[k][r] and steps by steps[k]. */
export interface RowPlan {
  rows: number;
  len: number;
  bases: Int32Array[];
  steps: number[];
}

/** Plans a walk over `shape` for operands with the given strides and offsets, merging dims where possible. */
export function rowPlan(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
): RowPlan {
  const k = strides.length;
  // Drop size-1 dims, then merge d into d+1 wherever every operand is contiguous across them.
  const dims: number[] = [];
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) dims.push(d);
  const ms: number[] = [];
  const mst: number[][] = strides.map(() => []);
  for (const d of dims) {
    const last = ms.length - 1;
    if (last >= 0 && strides.every((s, i) => mst[i][last] === s[d] * shape[d])) {
      ms[last] *= shape[d];
      for (let i = 0; i < k; i++) mst[i][last] = strides[i][d];
    } else {
      ms.push(shape[d]);
      for (let i = 0; i < k; i++) mst[i].push(strides[i][d]);
    }
  }
  if (ms.length === 0) {
    return { rows: 1, len: 1, bases: offsets.map((o) => Int32Array.of(o)), steps: strides.map(() => 0) };
  }
  const nd = ms.length;
  const len = ms[nd - 1];
  let rows = 1;
  for (let d = 0; d < nd - 1; d++) rows *= ms[d];
  const bases = offsets.map(() => new Int32Array(rows));
  const idx = new Array<number>(nd - 1).fill(0);
  const cur = [...offsets];
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) bases[i][r] = cur[i];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      for (let i = 0; i < k; i++) cur[i] += mst[i][d];
      if (idx[d] < ms[d]) break;
      for (let i = 0; i < k; i++) cur[i] -= mst[i][d] * ms[d];
      idx[d] = 0;
    }
  }
  return { rows, len, bases, steps: mst.map((s) => s[nd - 1]) };
}

type Num = Float32Array | Float64Array | Int32Array | Uint8Array | Int16Array | Int8Array;

/** Arrays a fast loop may read directly (half precision needs decoding, so it takes the generic path). */
function direct(dtype: DType): boolean {
  return dtype !== 'float16' && dtype !== 'bfloat16';
}

/** Arithmetic outputs a plain typed-array store handles exactly (ints need truncation: generic path). */
function floatOut(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** Writes `a op b` into `out` (contiguous); returns false when no fast loop applies. */
export function fastBinary(
  op: BinaryOp,
  a: View,
  b: View,
  A: TypedArray,
  B: TypedArray,
  out: TypedArray,
  outDtype: DType,
): boolean {
  if (!direct(a.dtype) || !direct(b.dtype)) return false;
  const compare = op === 'eq' || op === 'ne' || op === 'lt' || op === 'le' || op === 'gt' || op === 'ge';
  if (compare ? outDtype !== 'bool' : !floatOut(outDtype)) return false;
  const p = rowPlan(a.shape, [a.strides, b.strides], [a.offset, b.offset]);
  const x = A as Num;
  const y = B as Num;
  const o = out as Num;
  const { rows, len } = p;
  const [ba, bb] = p.bases;
  const [sa, sb] = p.steps;
  let k = 0;
  switch (op) {
    case 'add':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] + y[m];
      return true;
    case 'sub':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] - y[m];
      return true;
    case 'mul':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] * y[m];
      return true;
    case 'div':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] / y[m];
      return true;
    case 'eq':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] === y[m] ? 1 : 0;
      return true;
    case 'ne':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] !== y[m] ? 1 : 0;
      return true;
    case 'lt':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] < y[m] ? 1 : 0;
      return true;
    case 'le':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] <= y[m] ? 1 : 0;
      return true;
    case 'gt':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] > y[m] ? 1 : 0;
      return true;
    case 'ge':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = ba[r], m = bb[r]; j < len; j++, i += sa, m += sb) o[k++] = x[i] >= y[m] ? 1 : 0;
      return true;
    default:
      return false;
  }
}

/** Writes `op(x)` into `out` (contiguous); returns false when no fast loop applies. */
export function fastUnary(op: UnaryOp, v: View, X: TypedArray, out: TypedArray, outDtype: DType): boolean {
  if (!direct(v.dtype) || !floatOut(outDtype)) return false;
  const p = rowPlan(v.shape, [v.strides], [v.offset]);
  const x = X as Num;
  const o = out as Num;
  const { rows, len } = p;
  const [bx] = p.bases;
  const [s] = p.steps;
  let k = 0;
  switch (op) {
    case 'neg':
      for (let r = 0; r < rows; r++) for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = -x[i];
      return true;
    case 'relu':
      // NaN stays NaN, as in PyTorch.
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = x[i] > 0 || x[i] !== x[i] ? x[i] : 0;
      return true;
    case 'exp':
      for (let r = 0; r < rows; r++) for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = Math.exp(x[i]);
      return true;
    case 'log':
      for (let r = 0; r < rows; r++) for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = Math.log(x[i]);
      return true;
    case 'sqrt':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = Math.sqrt(x[i]);
      return true;
    case 'rsqrt':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = 1 / Math.sqrt(x[i]);
      return true;
    case 'square':
      for (let r = 0; r < rows; r++) for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = x[i] * x[i];
      return true;
    case 'abs':
      for (let r = 0; r < rows; r++) for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = Math.abs(x[i]);
      return true;
    default: {
      // Every other op of the table: its scalar function, called per element.
      const fn = UNARY_OPS[op].cpu as (v: number) => number;
      for (let r = 0; r < rows; r++) for (let j = 0, i = bx[r]; j < len; j++, i += s) o[k++] = fn(x[i]);
      return true;
    }
  }
}

/** dst[view] = src (same shape, same directly readable dtype); returns false otherwise. */
export function fastAssign(dst: View, src: View, D: TypedArray, S: TypedArray): boolean {
  if (dst.dtype !== src.dtype || !direct(dst.dtype)) return false;
  const p = rowPlan(dst.shape, [dst.strides, src.strides], [dst.offset, src.offset]);
  const d = D as Num;
  const s = S as Num;
  const { rows, len } = p;
  const [bd, bs] = p.bases;
  const [sd, ss] = p.steps;
  if (sd === 1 && ss === 1) {
    for (let r = 0; r < rows; r++) d.set(s.subarray(bs[r], bs[r] + len) as never, bd[r]);
    return true;
  }
  for (let r = 0; r < rows; r++)
    for (let j = 0, i = bd[r], m = bs[r]; j < len; j++, i += sd, m += ss) d[i] = s[m];
  return true;
}

/** Sum / max / min over `dims` into `out` (kept dims in order); returns false when no fast loop applies. */
export function fastReduce(
  op: ReduceOp,
  x: View,
  X: TypedArray,
  dims: readonly number[],
  out: TypedArray,
  outDtype: DType,
): boolean {
  if (!direct(x.dtype) || !floatOut(outDtype) || (op !== 'sum' && op !== 'max' && op !== 'min')) return false;
  const kept = x.shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const inner = rowPlan(
    dims.map((d) => x.shape[d]),
    [dims.map((d) => x.strides[d])],
    [0],
  );
  const outer = rowPlan(
    kept.map((d) => x.shape[d]),
    [kept.map((d) => x.strides[d])],
    [x.offset],
  );
  const v = X as Num;
  const o = out as Num;
  const [ib] = inner.bases;
  const [is] = inner.steps;
  const [ob] = outer.bases;
  const [os] = outer.steps;
  const innerCount = inner.rows * inner.len;
  if (innerCount === 0 && op !== 'sum') return false;
  let k = 0;
  for (let r = 0; r < outer.rows; r++) {
    for (let q = 0, base = ob[r]; q < outer.len; q++, base += os) {
      if (op === 'sum') {
        let acc = 0;
        for (let a = 0; a < inner.rows; a++)
          for (let j = 0, i = base + ib[a]; j < inner.len; j++, i += is) acc += v[i];
        o[k++] = acc;
      } else {
        const isMax = op === 'max';
        let acc = v[base + ib[0]];
        for (let a = 0; a < inner.rows && acc === acc; a++) {
          for (let j = 0, i = base + ib[a]; j < inner.len; j++, i += is) {
            const e = v[i];
            if (e !== e) {
              acc = e;
              break;
            }
            if (isMax ? e > acc : e < acc) acc = e;
          }
        }
        o[k++] = acc;
      }
    }
  }
  return true;
}

/** `dst = dst op b` in place for float destinations; returns false when no fast loop applies. */
export function fastBinaryInto(op: BinaryOp, dst: View, b: View, D: TypedArray, B: TypedArray): boolean {
  if (!floatOut(dst.dtype) || !direct(b.dtype)) return false;
  if (op !== 'add' && op !== 'sub' && op !== 'mul' && op !== 'div') return false;
  const p = rowPlan(dst.shape, [dst.strides, b.strides], [dst.offset, b.offset]);
  const d = D as Num;
  const y = B as Num;
  const { rows, len } = p;
  const [bd, bb] = p.bases;
  const [sd, sb] = p.steps;
  switch (op) {
    case 'add':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = bd[r], m = bb[r]; j < len; j++, i += sd, m += sb) d[i] += y[m];
      return true;
    case 'sub':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = bd[r], m = bb[r]; j < len; j++, i += sd, m += sb) d[i] -= y[m];
      return true;
    case 'mul':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = bd[r], m = bb[r]; j < len; j++, i += sd, m += sb) d[i] *= y[m];
      return true;
    case 'div':
      for (let r = 0; r < rows; r++)
        for (let j = 0, i = bd[r], m = bb[r]; j < len; j++, i += sd, m += sb) d[i] /= y[m];
      return true;
  }
}
