// Test helpers: read the golden files scripts/golden/optim.py writes, turn their data into graft values,
// and compare numbers with a relative tolerance.

import { readFileSync } from 'node:fs';
import { type DType, fromTypedArray, Tensor } from '@graft/tensor';
import { expect } from 'vitest';

export function fixtureJson<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** A tensor as the golden script writes it. */
export interface TensorData {
  tensor: true;
  dtype: string;
  shape: number[];
  values: (number | string)[];
}

/** Fixture data: JSON plus tensors and non-finite floats spelled as strings. */
export type Data = null | boolean | number | string | TensorData | Data[] | { [key: string]: Data };

/** What `decode` produces. */
export type Value = null | boolean | number | string | Tensor | Value[] | { [key: string]: Value };

export function num(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === 'nan') return NaN;
  throw new Error(`not a number: ${v}`);
}

export function isTensorData(d: unknown): d is TensorData {
  return d !== null && typeof d === 'object' && (d as { tensor?: unknown }).tensor === true;
}

export function makeTensor(values: readonly number[], shape: readonly number[], dtype: DType): Tensor {
  const data = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return fromTypedArray(data, shape, dtype === 'float32' ? 'float32' : 'float64');
}

/** Fixture data as graft values: tensors become Tensors, 'inf' strings become Infinity. */
export function decode(d: Data): Value {
  if (isTensorData(d)) return makeTensor(d.values.map(num), d.shape, d.dtype as DType);
  if (d === 'inf' || d === '-inf' || d === 'nan') return num(d);
  if (Array.isArray(d)) return d.map(decode);
  if (d !== null && typeof d === 'object') {
    const out: { [key: string]: Value } = {};
    for (const [k, v] of Object.entries(d)) out[k] = decode(v);
    return out;
  }
  return d;
}

/** True when `a` is within `rtol` (relative) or `atol` (absolute) of `b`. */
export function close(a: number, b: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/** Asserts elementwise closeness, naming the first mismatch. Returns the largest relative error seen. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): number {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (!close(a, b, rtol, atol)) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${b} (rtol ${rtol}, atol ${atol})`);
    }
    if (b !== 0) worst = Math.max(worst, Math.abs(a - b) / Math.abs(b));
  }
  return worst;
}

/**
 * Compares a graft state value (state dict, group list) against fixture data: same keys, tensors with the same
 * dtype, shape and values (within tolerance), numbers within tolerance, everything else equal.
 */
export function expectSameData(
  actual: unknown,
  expected: Data,
  rtol: number,
  atol: number,
  path: string,
): void {
  if (isTensorData(expected)) {
    expect(actual, `${path}: expected a tensor`).toBeInstanceOf(Tensor);
    const t = actual as Tensor;
    expect(t.dtype, `${path}: dtype`).toBe(expected.dtype);
    expect(t.shape, `${path}: shape`).toEqual(expected.shape);
    expectClose(t.readSync(), expected.values.map(num), rtol, atol, path);
    return;
  }
  if (typeof expected === 'number' || expected === 'inf' || expected === '-inf') {
    expect(typeof actual, `${path}: type`).toBe('number');
    if (!close(actual as number, num(expected), rtol, atol)) {
      throw new Error(`${path}: got ${String(actual)}, expected ${String(expected)}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path}: expected a list`).toBe(true);
    const list = actual as unknown[];
    expect(list.length, `${path}: length`).toBe(expected.length);
    expected.forEach((e, i) => {
      expectSameData(list[i], e, rtol, atol, `${path}[${i}]`);
    });
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', `${path}: expected a dict`).toBe(true);
    const obj = actual as Record<string, unknown>;
    expect(Object.keys(obj).sort(), `${path}: keys`).toEqual(Object.keys(expected).sort());
    for (const [k, e] of Object.entries(expected)) expectSameData(obj[k], e, rtol, atol, `${path}.${k}`);
    return;
  }
  expect(actual, path).toBe(expected);
}

/**
 * Compares printed reprs line by line; a number that ends a line may differ from PyTorch's in its last digits
 * (rtol 1e-12), since a rate that went through cos() can differ by one ulp between V8 and glibc.
 */
export function expectReprClose(actual: string, expected: string): void {
  const a = actual.split('\n');
  const e = expected.split('\n');
  expect(a.length, 'repr line count').toBe(e.length);
  const numberAtEnd = /^(.*: )(-?[0-9.]+(?:e[-+][0-9]+)?)$/;
  a.forEach((line, i) => {
    if (line === e[i]) return;
    const ma = numberAtEnd.exec(line);
    const me = numberAtEnd.exec(e[i]);
    if (ma && me && ma[1] === me[1] && close(Number(ma[2]), Number(me[2]), 1e-12, 0)) return;
    expect(line, `repr line ${i}`).toBe(e[i]);
  });
}
