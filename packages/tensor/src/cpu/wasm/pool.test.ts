// The WebAssembly max pooling against the TypeScript reference loop: values and indices must be
// identical, ties (ReLU zeros), NaN and edges included.
import { describe, expect, it } from 'vitest';
import { fromTypedArray, manualSeed, maxPool2d, maxPool2dWithIndices, noGrad, randn } from '../../index.js';
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
