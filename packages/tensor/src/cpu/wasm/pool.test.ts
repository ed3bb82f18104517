// The WebAssembly max pooling against the TypeScript reference loop: values and indices must be
// identical, ties (ReLU zeros), NaN and edges included.
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, maxPool2d, maxPool2dWithIndices, noGrad, randn, setWasmKernels } from '../../index.js';

describe('wasm maxPool2d', () => {
  afterAll(() => setWasmKernels(true));
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
  ];
  for (const [shape, k, o] of cases) {
    it(`${shape} k${k} ${JSON.stringify(o)}`, () => {
      manualSeed(shape[2]);
      // ReLU'd data has many equal zeros: ties must resolve to the first tap, as in PyTorch.
      const x = randn(...shape).relu();
      const data = x.readSync() as Float32Array;
      data[5] = Number.NaN;
      data[shape[3] * 3 + 7] = Number.NaN;
      data[shape[3] * 3 + 8] = Number.NaN;
      setWasmKernels(false);
      const [rv, ri] = maxPool2dWithIndices(x, k, o);
      setWasmKernels(true);
      const [v, i] = maxPool2dWithIndices(x, k, o);
      const vOnly = noGrad(() => maxPool2d(x, k, o));
      expect(Array.from(v.readSync())).toEqual(Array.from(rv.readSync()));
      expect(Array.from(i.readSync())).toEqual(Array.from(ri.readSync()));
      expect(Array.from(vOnly.readSync())).toEqual(Array.from(rv.readSync()));
    });
  }
});
