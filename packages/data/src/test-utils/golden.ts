// Loads the torchvision golden fixtures written by scripts/golden/data.py and compares arrays to them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@graft/tensor';
import { expect } from 'vitest';
import { isRawImage, type RawImage } from '../raw-image.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export interface Golden {
  shape: number[];
  dtype: 'uint8' | 'float32';
  data: Uint8Array | Float32Array;
}

interface Stored {
  shape: number[];
  dtype: 'uint8' | 'float32';
  base64: string;
}

let cache: Record<string, Stored> | undefined;

/** One fixture array by name, e.g. 'rgb/resize_aa_uint8_5x6'. */
export function golden(name: string): Golden {
  cache ??= (
    JSON.parse(readFileSync(`${FIXTURES}transforms.json`, 'utf8')) as { fixtures: Record<string, Stored> }
  ).fixtures;
  const stored = cache[name];
  if (stored === undefined) throw new Error(`golden: no fixture named ${name}`);
  const bytes = Buffer.from(stored.base64, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const data = stored.dtype === 'uint8' ? copy : new Float32Array(copy.buffer);
  return { shape: stored.shape, dtype: stored.dtype, data };
}

/** Shape and values of a tensor, or of a RawImage as HWC (the layout of PIL arrays). */
export function valuesOf(value: Tensor | RawImage): { shape: number[]; data: ArrayLike<number> } {
  if (isRawImage(value)) {
    const shape =
      value.channels === 1 ? [value.height, value.width] : [value.height, value.width, value.channels];
    return { shape, data: value.data };
  }
  if (value instanceof Tensor) return { shape: [...value.shape], data: value.readSync() };
  throw new TypeError('valuesOf: expected a Tensor or RawImage');
}

/** Asserts equal shape and |actual − expected| <= tolerance everywhere, reporting the worst element. */
export function expectClose(
  actual: Tensor | RawImage,
  expected: Golden,
  tolerance: number,
): { maxDiff: number; mismatches: number } {
  const { shape, data } = valuesOf(actual);
  expect(shape).toEqual(expected.shape);
  let maxDiff = 0;
  let worst = -1;
  let mismatches = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const d = Math.abs(data[i] - expected.data[i]);
    if (d > 0) mismatches++;
    if (d > maxDiff || Number.isNaN(d)) {
      maxDiff = d;
      worst = i;
    }
  }
  if (!(maxDiff <= tolerance)) {
    throw new Error(
      `max |diff| ${maxDiff} > ${tolerance} at flat index ${worst}: got ${data[worst]}, torchvision ${expected.data[worst]} (${mismatches} elements differ)`,
    );
  }
  return { maxDiff, mismatches };
}
