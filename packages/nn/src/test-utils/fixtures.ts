// Reading the golden fixtures written by scripts/golden/nn.py, and comparing against them.
// Test support only (excluded from the build).

import { readFileSync } from 'node:fs';
import { fromTypedArray, noGrad, type Tensor } from '@graft/tensor';
import type { Module } from '../index.js';

export interface Encoded {
  shape: number[];
  f32?: string;
  i64?: number[];
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export function decodeValues(e: Encoded): Float32Array | Float64Array {
  if (e.i64) return Float64Array.from(e.i64);
  const bytes = Buffer.from(e.f32 ?? '', 'base64');
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function decode(e: Encoded): Tensor {
  const values = decodeValues(e);
  return e.i64
    ? fromTypedArray(values as Float64Array, e.shape, 'int64')
    : fromTypedArray(values as Float32Array, e.shape, 'float32');
}

/**
 * Largest violation of |actual - expected| <= atol + rtol·|expected| (0 when all pass), with the
 * absolute floor scaled to the largest expected magnitude so that values that cancel to near zero
 * are judged against the size of their terms.
 */
export function mismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atolScale = 1e-6,
): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  const atol = atolScale * Math.max(maxAbs, 1e-30);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)))
      return `at ${i}: got ${a}, expected ${e} (max |expected| ${maxAbs})`;
  }
  return null;
}

/** `((i · 2654435761 + seed · 97) mod 1000003) / 1000003 - 0.5) · scale` as float32, like pattern() in nn.py. */
export function pattern(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = ((i * 2654435761 + seed * 97) % 1000003) / 1000003 - 0.5;
    out[i] = v * scale;
  }
  return out;
}

export function patternTensor(shape: number[], seed: number, scale: number): Tensor {
  return fromTypedArray(
    pattern(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
    'float32',
  );
}

/** fill_pattern() of nn.py: every floating entry of the state dict gets pattern values seeded by its position. */
export function fillPattern(model: Module): void {
  const entries = Object.entries(model.stateDict({ keepVars: true }));
  noGrad(() => {
    entries.forEach(([name, t], k) => {
      if (!t.isFloatingPoint()) return;
      if (name.endsWith('running_var')) {
        t.copy_(patternTensor(t.shape, k, 1).add(1));
      } else {
        const fan = t.ndim > 1 ? t.numel() / t.shape[0] : t.numel();
        t.copy_(patternTensor(t.shape, k, 2 / Math.sqrt(fan)));
      }
    });
  });
}
