// Winograd F(3x3, 4x4) weight gradients against the TypeScript reference kernels (float64 accumulation).
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import { conv2d, manualSeed, randn, setNumThreads, type Tensor } from '../../index.js';
import { on, reference, wasm, wasmNoWinograd } from '../../test-utils/backends.js';
import { conv2dParams, type Pad, relErr } from '../../test-utils/compare.js';
import { fusedWeightSteps, useWinogradWeight, winogradConv2dBackwardWeight } from './winograd-weight.js';

/**
 * The weight gradient (through autograd) of conv2d(x, w, padding) for the output gradient `up`, on
 * `backend`; `view` cuts operands out of their storages there (to test offsets).
 */
function weightGrad(
  backend: Backend,
  x0: Tensor,
  w0: Tensor,
  padding: Pad,
  up0: Tensor,
  view: (t: Tensor) => Tensor = (t) => t,
): Float32Array {
  const w = on(backend, w0);
  conv2d(view(on(backend, x0)), w, null, { padding }).backward(view(on(backend, up0)));
  return w.grad!.readSync() as Float32Array;
}

describe('Winograd 3x3 weight gradient', () => {
  afterAll(() => {
    setNumThreads(1);
  });

  const cases: [string, number[], number[], Pad][] = [
    ['7x7 pad 1, batch 3', [3, 36, 7, 7], [40, 36, 3, 3], 1],
    ['7x7 pad 0, batch 3', [3, 44, 7, 7], [36, 44, 3, 3], 0],
    ['13x11 pad 1, channels not multiples of 4', [3, 17, 13, 11], [19, 17, 3, 3], 1],
    ['13x11 pad 0', [3, 21, 13, 11], [26, 21, 3, 3], 0],
    ['9x10 pad 2', [3, 20, 9, 10], [17, 20, 3, 3], 2],
    ['12x9 pad (2, 0)', [3, 20, 12, 9], [24, 20, 3, 3], [2, 0]],
    ['56x56 pad 1, batch 1', [1, 16, 56, 56], [20, 16, 3, 3], 1],
    ['56x56 pad 2, batch 1, odd channels', [1, 18, 56, 56], [22, 18, 3, 3], 2],
    ['14x14 pad 1, batch 1, wide channels', [1, 130, 14, 14], [132, 130, 3, 3], 1],
    // 36 * 64 * 961 transformed floats per image: one image per chunk, three chunks accumulated.
    ['122x122, several chunks', [3, 64, 122, 122], [16, 64, 3, 3], 1],
    // Fused (winoWeightImages): 4 partial sums of one image each; then steps of 4 images, the last
    // part holding one; then 3 images a step, 6 a part, the last part 2 images (a short step).
    ['40x40 pad 1, fused', [4, 16, 40, 40], [24, 16, 3, 3], 1],
    ['20x18 pad 2, fused, short last part', [13, 18, 20, 18], [19, 18, 3, 3], 2],
    ['24x24 pad 1, fused, two steps a part', [20, 16, 24, 24], [20, 16, 3, 3], 1],
    // 9 steps of one image: 8 parts' worth, so 5 partial sums of 2 images, the last of 1.
    ['40x40 pad 1, fused, more parts', [9, 16, 40, 40], [24, 16, 3, 3], 1],
  ];
  for (const [name, xs, ws, padding] of cases) {
    it(`matches the reference on 1 and 2 threads: ${name}`, () => {
      manualSeed(11);
      const x = randn(xs);
      const w = randn(ws, { requiresGrad: true });
      const y0 = conv2d(x, w, null, { padding });
      expect(useWinogradWeight(ws, conv2dParams(padding), y0.shape)).toBe(true);
      const up = randn(y0.shape);
      const ref = weightGrad(reference, x, w, padding, up);
      setNumThreads(1);
      const one = weightGrad(wasm, x, w, padding, up);
      expect(setNumThreads(2)).toBe(2);
      const two = weightGrad(wasm, x, w, padding, up);
      setNumThreads(1);
      expect(one.length).toBe(ref.length);
      expect(relErr(one, ref)).toBeLessThan(1e-5);
      // Each product (or partial sum) runs whole on one thread over a split that does not depend on the
      // thread count, and the transforms are per element: bit-identical.
      expect(Array.from(two)).toEqual(Array.from(one));
    }, 60_000);
  }

  it('fuses the transforms into the products where steps of whole images reach enough tiles', () => {
    // The fused cases above: [N, C, O, tiles per image].
    expect(fusedWeightSteps(4, 16, 24, 100)).toEqual({ per: 1, images: 1, parts: 4 });
    expect(fusedWeightSteps(13, 18, 19, 30)).toEqual({ per: 4, images: 4, parts: 4 });
    expect(fusedWeightSteps(20, 16, 20, 36)).toEqual({ per: 3, images: 6, parts: 4 });
    expect(fusedWeightSteps(3, 64, 16, 961)).toBeNull();
    expect(fusedWeightSteps(9, 16, 24, 100)).toEqual({ per: 1, images: 2, parts: 5 });
    // ResNet-18 at batch 16: layer1 fused in 8 parts (4.7 MB of partial sums); layer2 chunked (4 partial
    // sums would take 9.4 MB), as are layer3 and layer4.
    expect(fusedWeightSteps(16, 64, 64, 196)).toEqual({ per: 1, images: 2, parts: 8 });
    expect(fusedWeightSteps(16, 128, 128, 49)).toBeNull();
    expect(fusedWeightSteps(16, 256, 256, 16)).toBeNull();
    expect(fusedWeightSteps(16, 512, 512, 4)).toBeNull();
  });

  it('handles fewer than 4 channels and maps smaller than a tile (called directly)', () => {
    const small: [number[], number[], Pad][] = [
      [[2, 5, 6, 5], [3, 5, 3, 3], 1],
      [[1, 3, 3, 3], [2, 3, 3, 3], 0],
      [[2, 7, 9, 4], [6, 7, 3, 3], 2],
    ];
    for (const [xs, ws, padding] of small) {
      manualSeed(12);
      const x = randn(xs);
      const w = randn(ws, { requiresGrad: true });
      const up = randn(conv2d(x, w, null, { padding }).shape);
      const ref = weightGrad(reference, x, w, padding, up);
      const fast = winogradConv2dBackwardWeight(
        x.readSync() as Float32Array,
        0,
        xs,
        up.readSync() as Float32Array,
        0,
        up.shape,
        conv2dParams(padding),
        ws,
      );
      expect(fast).not.toBeNull();
      expect(relErr(fast!, ref)).toBeLessThan(1e-5);
    }
  });

  it('reads operands that start inside their storage (offset views)', () => {
    manualSeed(13);
    const xs = randn([5, 24, 12, 12]);
    const w = randn([32, 24, 3, 3], { requiresGrad: true });
    const ups = randn([5, 32, 12, 12]);
    const view = (t: Tensor) => t.narrow(0, 2, 3);
    expect(useWinogradWeight([32, 24, 3, 3], conv2dParams(1), [3, 32, 12, 12])).toBe(true);
    const ref = weightGrad(reference, xs, w, 1, ups, view);
    expect(relErr(weightGrad(wasm, xs, w, 1, ups, view), ref)).toBeLessThan(1e-5);
  });

  it('is picked for ResNet-style layers, and the direct kernel stays available', () => {
    manualSeed(14);
    const x = randn([2, 64, 28, 28]);
    const w = randn([64, 64, 3, 3], { requiresGrad: true });
    const up = randn([2, 64, 28, 28]);
    expect(useWinogradWeight([64, 64, 3, 3], conv2dParams(1), [2, 64, 28, 28])).toBe(true);
    const ref = weightGrad(reference, x, w, 1, up);
    const fast = weightGrad(wasm, x, w, 1, up);
    const direct = weightGrad(wasmNoWinograd, x, w, 1, up);
    expect(relErr(fast, ref)).toBeLessThan(1e-5);
    expect(relErr(direct, ref)).toBeLessThan(1e-5);
    // Different rounding: the Winograd path ran, not the im2col one.
    expect(Array.from(fast)).not.toEqual(Array.from(direct));
  });

  it('is not used for strided, dilated, grouped, non-3x3, narrow or too small gradients', () => {
    const g = [16, 64, 56, 56];
    expect(useWinogradWeight([64, 64, 3, 3], conv2dParams(1), g)).toBe(true);
    expect(useWinogradWeight([128, 128, 3, 3], conv2dParams(1), [16, 128, 28, 28])).toBe(true);
    expect(useWinogradWeight([256, 256, 3, 3], conv2dParams(1), [16, 256, 14, 14])).toBe(true);
    expect(useWinogradWeight([512, 512, 3, 3], conv2dParams(1), [16, 512, 7, 7])).toBe(true);
    expect(useWinogradWeight([64, 64, 3, 3], { ...conv2dParams(1), stride: [2, 2] }, g)).toBe(false);
    expect(useWinogradWeight([64, 64, 3, 3], { ...conv2dParams(1), dilation: [2, 2] }, g)).toBe(false);
    expect(useWinogradWeight([64, 32, 3, 3], { ...conv2dParams(1), groups: 2 }, g)).toBe(false);
    expect(useWinogradWeight([64, 64, 3, 3], conv2dParams(3), g)).toBe(false);
    expect(useWinogradWeight([64, 64, 5, 5], conv2dParams(2), g)).toBe(false);
    expect(useWinogradWeight([64, 8, 3, 3], conv2dParams(1), g)).toBe(false);
    expect(useWinogradWeight([8, 64, 3, 3], conv2dParams(1), [16, 8, 56, 56])).toBe(false);
    // Too few tiles for the 36 O C transformed sums, or too little work overall.
    expect(useWinogradWeight([512, 512, 3, 3], conv2dParams(1), [2, 512, 7, 7])).toBe(false);
    expect(useWinogradWeight([256, 256, 3, 3], conv2dParams(1), [2, 256, 7, 7])).toBe(true);
    expect(useWinogradWeight([256, 256, 3, 3], conv2dParams(1), [1, 256, 7, 7])).toBe(false);
    expect(useWinogradWeight([32, 32, 3, 3], conv2dParams(1), [2, 32, 7, 7])).toBe(false);
    // 2x2 maps: each tile is 3/4 padding (winogradTilesPay); 4x4 ones fill their tiles.
    expect(useWinogradWeight([256, 256, 3, 3], conv2dParams(1), [20, 256, 2, 2])).toBe(false);
    expect(useWinogradWeight([128, 128, 3, 3], conv2dParams(1), [20, 128, 4, 4])).toBe(true);
  });
});
