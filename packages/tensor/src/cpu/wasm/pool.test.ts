// The WebAssembly max pooling against the TypeScript reference loop: values and indices must be
// identical, ties (ReLU zeros), NaN and edges included.
import { describe, expect, it } from 'vitest';
import {
  adaptiveAvgPool2d,
  fromTypedArray,
  manualSeed,
  maxPool2d,
  maxPool2dWithIndices,
  noGrad,
  randn,
  setNumThreads,
} from '../../index.js';
import { on, reference, wasm } from '../../test-utils/backends.js';

describe('wasm maxPool2d', () => {
  const cases: [
    number[],
    number,
    { stride?: number; padding?: number; dilation?: number; ceilMode?: boolean },
  ][] = [
    [[2, 3, 112, 112], 3, { stride: 2, padding: 1 }],
    [[1, 4, 17, 23], 3, { stride: 1, padding: 1 }],
    [[2, 2, 19, 21], 2, { stride: 2 }],
    [[1, 3, 20, 26], 3, { stride: 3, padding: 1, dilation: 2 }],
    [[1, 2, 15, 15], 3, { stride: 2, ceilMode: true }],
    // Rows whose last group of four overlaps the one before (8 and 9 interior columns), and one too
    // narrow for a group (2 interior columns).
    [[3, 5, 16, 16], 3, { stride: 2, padding: 1 }],
    [[1, 2, 7, 11], 3, { stride: 1, padding: 1 }],
    [[1, 2, 6, 6], 3, { stride: 2, padding: 1 }],
  ];
  for (const [shape, k, o] of cases) {
    it(`${shape} k${k} ${JSON.stringify(o)}`, () => {
      manualSeed(shape[2]);
      // ReLU'd data has many equal zeros: ties must resolve to the first tap, as in PyTorch.
      const data = randn(...shape)
        .relu()
        .readSync() as Float32Array;
      data[5] = Number.NaN;
      data[shape[3] * 3 + 7] = Number.NaN;
      data[shape[3] * 3 + 8] = Number.NaN;
      const x = fromTypedArray(data, shape);
      const [rv, ri] = maxPool2dWithIndices(on(reference, x), k, o);
      const xw = on(wasm, x);
      const [v, i] = maxPool2dWithIndices(xw, k, o);
      const vOnly = noGrad(() => maxPool2d(xw, k, o));
      expect(Array.from(rv.readSync()).some(Number.isNaN)).toBe(true);
      expect(Array.from(v.readSync())).toEqual(Array.from(rv.readSync()));
      expect(Array.from(i.readSync())).toEqual(Array.from(ri.readSync()));
      expect(Array.from(vOnly.readSync())).toEqual(Array.from(rv.readSync()));
    });
  }
});

describe('wasm global average pooling (adaptiveAvgPool2d to 1x1)', () => {
  // 20 x 512 planes of 1x1 (ResNet at 32x32) and 16 x 512 of 7x7 (at 224) take the pool; an odd plane
  // count leaves one plane outside the two-lane sums, and 2 x 3 planes of 5x5 run on the caller.
  for (const shape of [
    [20, 512, 1, 1],
    [16, 512, 7, 7],
    [3, 333, 9, 11],
    [2, 3, 5, 5],
  ]) {
    it(`${shape}: forward and backward have the reference loop's bits, on 1 and 2 threads`, () => {
      manualSeed(shape[1]);
      const x = randn(...shape).mul(100);
      const g = randn(shape[0], shape[1], 1, 1);
      const run = (xb: typeof x, gb: typeof g) => {
        const xg = xb.detach().requiresGrad_();
        const y = adaptiveAvgPool2d(xg, [1, 1]);
        y.backward(gb);
        return [Array.from(y.readSync()), Array.from(xg.grad!.readSync())];
      };
      const [ry, rg] = run(on(reference, x), on(reference, g));
      for (const threads of [1, 2]) {
        const before = setNumThreads(threads);
        try {
          const [y, gx] = run(on(wasm, x), on(wasm, g));
          expect(y).toEqual(ry);
          expect(gx).toEqual(rg);
        } finally {
          setNumThreads(before);
        }
      }
    });
  }
});
