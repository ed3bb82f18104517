// Test support: reading the PyTorch golden fixtures (scripts/golden/tensor.py) and comparing against them.

import { readFileSync } from 'node:fs';
import type { CpuStorage } from '../cpu/storage.js';
import { tensor } from '../creation.js';
import { type DType, storageMatches } from '../dtype.js';
import type { Tensor } from '../tensor.js';

/** A number as the fixtures store it: non-finite floats are strings, bool tensors hold booleans. */
export type JsonNum = number | boolean | 'nan' | 'inf' | '-inf';

export interface TensorDesc {
  shape: number[];
  dtype: DType;
  data: JsonNum[];
}

/** View ops applied to a leaf to get an op's operand (so operands can be non-contiguous). */
export type ViewOp =
  | ['transpose', number, number]
  | ['permute', number[]]
  | ['slice', number, number, number, number]
  | ['expand', number[]]
  | ['select', number, number];

export interface InputSpec extends TensorDesc {
  name: string;
  grad?: boolean;
  view?: ViewOp[];
}

export interface OpCase {
  name: string;
  op: string;
  kw: Record<string, unknown>;
  inputs: InputSpec[];
  outputs: TensorDesc[];
  upstream?: (JsonNum[] | null)[];
  grads?: Record<string, JsonNum[] | null>;
  gradcheck?: boolean;
}

/** Parses a fixture file from packages/tensor/fixtures. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export function decode(v: JsonNum): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === 'nan') return Number.NaN;
  if (v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  return v;
}

/** Decodes fixture values; float32 data is rounded to the float32 values the fixture text stands for. */
export function decodeAll(vs: readonly JsonNum[], dtype?: DType): Float64Array {
  return dtype === 'float32'
    ? Float64Array.from(vs, (v) => Math.fround(decode(v)))
    : Float64Array.from(vs, decode);
}

/** A tensor of `shape` and `dtype` holding fixture values. */
export function fromDesc(desc: { shape: number[]; data: readonly JsonNum[] }, dtype: DType): Tensor {
  return tensor(decodeAll(desc.data), { dtype }).reshape(desc.shape);
}

export function applyView(t: Tensor, view: readonly ViewOp[] = []): Tensor {
  let x = t;
  for (const op of view) {
    switch (op[0]) {
      case 'transpose':
        x = x.transpose(op[1], op[2]);
        break;
      case 'permute':
        x = x.permute(op[1]);
        break;
      case 'slice':
        x = x.slice(op[1], op[2], op[3], op[4]);
        break;
      case 'expand':
        x = x.expand(op[1]);
        break;
      case 'select':
        x = x.select(op[1], op[2]);
        break;
    }
  }
  return x;
}

/**
 * Tolerance for float32 results against the float64-evaluated goldens: an element passes when
 * |actual - expected| <= RTOL * |expected| + ATOL * max(1, rms(expected)). RTOL is the 1e-5.
 * The absolute term only matters for elements near zero: a float32 result computed by summing
 * terms (a dot product, a convolution, a softmax's normaliser) carries rounding errors of the size
 * of those terms, not of the result, and the tensor's root-mean-square is the measure of that size
 * (float32 accumulation over K terms of size s errs by about sqrt(K) * 6e-8 * s). 1e-6 of it is
 * 17 float32 ulps. For comparison, torch.testing.assert_close uses atol 1e-5 for float32.
 */
export const RTOL = 1e-5;
export const ATOL = 1e-6;

/** Compares values elementwise; returns a description of the first mismatches, or null when all pass. */
export function mismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = RTOL,
  atol = ATOL,
): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isFinite(e)
        ? a === e
        : Math.abs(a - e) <= rtol * Math.abs(e) + atol;
    if (!ok) {
      count++;
      if (bad.length < 5) bad.push(`[${i}] ${a} vs ${e} (diff ${Math.abs(a - e).toExponential(2)})`);
    }
  }
  return count ? `${count}/${expected.length} elements differ: ${bad.join('; ')}` : null;
}

/** Checks shape, dtype and values of a tensor against a fixture description. */
export function describeMismatch(actual: Tensor, expected: TensorDesc, what: string): string | null {
  if (actual.shape.join() !== expected.shape.join()) {
    return `${what}: shape [${actual.shape}], expected [${expected.shape}]`;
  }
  if (actual.dtype !== expected.dtype) return `${what}: dtype ${actual.dtype}, expected ${expected.dtype}`;
  const storageProblem = checkStorage(actual, what);
  if (storageProblem) return storageProblem;
  const exact = expected.dtype === 'int64' || expected.dtype === 'bool' || expected.dtype === 'int32';
  const e = decodeAll(expected.data);
  const m = mismatch(actual.readSync(), e, exact ? 0 : RTOL, exact ? 0 : ATOL * Math.max(1, rms(e)));
  return m && `${what}: ${m}`;
}

/** A CPU tensor's storage array must have the class its dtype's storage policy names. */
export function checkStorage(t: Tensor, what: string): string | null {
  const data = (t._ref.storage as CpuStorage).data;
  return storageMatches(t.dtype, data)
    ? null
    : `${what}: ${t.dtype} tensor stored in a ${data.constructor.name}`;
}

/** Root-mean-square of the finite values. */
export function rms(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      s += values[i] * values[i];
      n++;
    }
  }
  return n ? Math.sqrt(s / n) : 0;
}
