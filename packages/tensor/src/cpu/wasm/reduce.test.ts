// Reductions in WebAssembly SIMD on the pool (wasmReduce): sum, mean, max and min over every dims
// pattern the kernel takes, against the reference backend's loops; 2 threads bit-identical to 1.
import { describe, expect, it } from 'vitest';
import { manualSeed, randn, setNumThreads, type Tensor, tensor } from '../../index.js';
import { on, reference, wasm } from '../../test-utils/backends.js';
import { reduceGeometry } from './elementwise.js';

type Op = 'sum' | 'mean' | 'amax' | 'amin';

function reduceOn(t: Tensor, op: Op, dims: number[] | undefined): Float32Array {
  const r =
    op === 'sum'
      ? t.sum(dims)
      : op === 'mean'
        ? t.mean(dims)
        : dims === undefined
          ? op === 'amax'
            ? t.max()
            : t.min()
          : op === 'amax'
            ? t.amax(dims)
            : t.amin(dims);
  return r.readSync() as Float32Array;
}

/** Largest |a - b| relative to max(1, |b|) (NaN must meet NaN). */
function worst(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) {
      expect(Number.isNaN(a[i])).toBe(true);
      continue;
    }
    w = Math.max(w, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  }
  return w;
}

describe('wasmReduce', () => {
  it('maps dims to the kernel geometry [A, R1, K, R2], size-1 dims left out', () => {
    expect(reduceGeometry([4, 5, 6], [0, 1, 2])).toEqual({ A: 1, R1: 1, K: 1, R2: 120 });
    expect(reduceGeometry([4, 5, 6], [2])).toEqual({ A: 1, R1: 1, K: 20, R2: 6 });
    expect(reduceGeometry([4, 5, 6], [0])).toEqual({ A: 1, R1: 4, K: 30, R2: 1 });
    expect(reduceGeometry([4, 5, 6], [1])).toEqual({ A: 4, R1: 5, K: 6, R2: 1 });
    expect(reduceGeometry([4, 5, 6, 7], [0, 2, 3])).toEqual({ A: 1, R1: 4, K: 5, R2: 42 });
    expect(reduceGeometry([4, 1, 5, 6], [0, 1])).toEqual({ A: 1, R1: 4, K: 30, R2: 1 });
    expect(reduceGeometry([4, 5, 6, 7], [1, 3])).toBeNull();
  });

  // [9, 7, 17, 33]: 35,343 floats, odd sizes so every SIMD loop has a tail; [300000]: several chunks.
  const shapes: [number[], (number[] | undefined)[]][] = [
    [
      [9, 7, 17, 33],
      [undefined, [3], [2, 3], [0], [0, 1], [1], [1, 2], [0, 2, 3], [0, 3]],
    ],
    [[300000], [undefined]],
    [
      [40, 1000],
      [[0], [1]],
    ],
  ];
  for (const op of ['sum', 'mean', 'amax', 'amin'] as const) {
    for (const [shape, dimsList] of shapes) {
      for (const dims of dimsList) {
        it(`${op} of [${shape}] over ${dims ? `[${dims}]` : 'everything'}: reference values; 2 threads = 1`, () => {
          manualSeed(7);
          const x = randn(...shape)
            .mul(3)
            .add(0.5);
          const ref = reduceOn(on(reference, x), op, dims);
          const run = (threads: number) => {
            const before = setNumThreads(threads);
            try {
              return reduceOn(on(wasm, x), op, dims);
            } finally {
              setNumThreads(before);
            }
          };
          const one = run(1);
          // Sums add in float64 (in another order than the reference's loop across a row), then round.
          expect(worst(one, ref)).toBeLessThan(op === 'sum' || op === 'mean' ? 2e-7 : 1e-30);
          expect(Array.from(run(2))).toEqual(Array.from(one));
        });
      }
    }
  }

  it('NaN wins max and min, and makes the sum NaN, as in PyTorch', () => {
    const data = new Float32Array(40000).map((_, i) => Math.sin(i));
    data[12345] = Number.NaN;
    const x = tensor(data).reshape(40, 1000);
    for (const op of ['sum', 'amax', 'amin'] as const) {
      for (const dims of [undefined, [0], [1]]) {
        const got = reduceOn(on(wasm, x), op, dims);
        const ref = reduceOn(on(reference, x), op, dims);
        expect(got.some(Number.isNaN)).toBe(true);
        worst(got, ref);
      }
    }
  });
});
