// Copying the kept taps out of a weight and writing their gradient back into the full kernel: the
// JavaScript fallbacks and the WebAssembly kernels (on the pool) against element-by-element closed forms.
import { afterEach, describe, expect, it } from 'vitest';
import { conv2dParams } from '../../test-utils/compare.js';
import {
  copyKeptTaps,
  cropTaps,
  denseView,
  scatterKeptTaps,
  wasmCopyKeptTaps,
  wasmScatterKeptTaps,
} from './conv-taps.js';
import { setNumThreads } from './threads.js';

afterEach(() => {
  setNumThreads(1);
});

describe('kept taps of a weight and of its gradient', () => {
  // [input shape, output shape, weight shape, padding, stride]: one centre tap, a middle kernel row, a
  // 2x2 corner.
  const cases: [number[], number[], number[], number, number][] = [
    [[20, 37, 1, 1], [20, 41, 1, 1], [41, 37, 3, 3], 1, 1],
    [[8, 5, 1, 9], [8, 7, 1, 9], [7, 5, 3, 3], 1, 1],
    [[64, 6, 2, 2], [64, 9, 1, 1], [9, 6, 3, 3], 1, 2],
  ];
  for (const [inShape, outShape, wShape, padding, stride] of cases) {
    for (const threads of [1, 2]) {
      it(`weight ${wShape} over input ${inShape}, ${threads} thread(s)`, () => {
        setNumThreads(threads);
        const crop = cropTaps(wShape, conv2dParams(padding, stride), inShape, outShape);
        expect(crop).not.toBeNull();
        const c = crop!;
        const [O, Cg, kh, kw] = c.shape;
        const [KH, KW] = [wShape[2], wShape[3]];
        const kept = Float32Array.from({ length: O * Cg * kh * kw }, (_, i) => i + 1);
        const want = new Float32Array(O * Cg * KH * KW);
        for (let oc = 0; oc < O * Cg; oc++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++)
              want[(oc * KH + c.kh0 + y) * KW + c.kw0 + x] = kept[(oc * kh + y) * kw + x];
        const js = new Float32Array(want.length).fill(Number.NaN);
        scatterKeptTaps(kept, c, wShape, js);
        expect(Array.from(js)).toEqual(Array.from(want));
        const fast = wasmScatterKeptTaps(kept, 0, wShape, c.kh0, kh, c.kw0, kw);
        expect(Array.from(fast!)).toEqual(Array.from(want));
        // And the other way: the kept taps of a weight stored after 3 leading floats.
        const w = Float32Array.from({ length: 3 + want.length }, (_, i) => i * 0.5 - 7);
        const view = { ...denseView({ storage: null as never, dtype: 'float32' }, wShape), offset: 3 };
        const taps = new Float32Array(kept.length);
        for (let oc = 0; oc < O * Cg; oc++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++)
              taps[(oc * kh + y) * kw + x] = w[3 + (oc * KH + c.kh0 + y) * KW + c.kw0 + x];
        const jsTaps = new Float32Array(kept.length).fill(Number.NaN);
        copyKeptTaps(view, w, c, jsTaps);
        expect(Array.from(jsTaps)).toEqual(Array.from(taps));
        const base = 3 + c.kh0 * KW + c.kw0;
        const fastTaps = wasmCopyKeptTaps(w, base, view.strides, c.shape);
        expect(Array.from(fastTaps!)).toEqual(Array.from(taps));
      });
    }
  }
});
