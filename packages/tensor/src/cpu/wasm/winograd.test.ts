// Winograd F(4x4, 3x3) convolutions against the TypeScript reference kernels (float64 accumulation).
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import { conv2d, manualSeed, randn, setNumThreads, type Tensor } from '../../index.js';
import { on, reference, wasm, wasmNoWinograd } from '../../test-utils/backends.js';
import { conv2dParams, type Pad, relErr } from '../../test-utils/compare.js';
import { fusedImages, useWinograd } from './winograd.js';

/** Forward output and input gradient (through autograd) of conv2d(x, w, padding) on `backend`. */
function forwardAndGrad(backend: Backend, x0: Tensor, w0: Tensor, padding: Pad, up: Tensor): Float32Array[] {
  const x = on(backend, x0);
  const w = on(backend, w0);
  const y = conv2d(x, w, null, { padding });
  y.backward(up);
  return [y.readSync() as Float32Array, x.grad!.readSync() as Float32Array];
}

describe('Winograd 3x3 convolution', () => {
  afterAll(() => {
    setNumThreads(1);
  });

  const cases: [string, number[], number[], Pad][] = [
    ['7x7 pad 1', [3, 32, 7, 7], [48, 32, 3, 3], 1],
    ['13x11 pad 1, channels not multiples of 4', [3, 17, 13, 11], [19, 17, 3, 3], 1],
    ['13x11 pad 0', [3, 24, 13, 11], [21, 24, 3, 3], 0],
    ['9x10 pad 2', [3, 20, 9, 10], [17, 20, 3, 3], 2],
    ['12x9 pad (2, 0)', [3, 20, 12, 9], [24, 20, 3, 3], [2, 0]],
    ['56x56 pad 1', [1, 16, 56, 56], [32, 16, 3, 3], 1],
    ['5x6 pad 1, wide channels', [3, 70, 5, 6], [66, 70, 3, 3], 1],
    ['28x28 pad 1, 64 channels', [2, 64, 28, 28], [64, 64, 3, 3], 1],
    // Fused tasks (winoConvImages): one image each, then four each with a last task of one.
    ['40x40 pad 1, fused', [4, 16, 40, 40], [24, 16, 3, 3], 1],
    ['20x18 pad 2, fused 4 images per task', [13, 18, 20, 18], [19, 18, 3, 3], 2],
  ];
  for (const [name, xs, ws, padding] of cases) {
    it(`forward and input gradient match the reference: ${name}`, () => {
      manualSeed(7);
      const x = randn(xs, { requiresGrad: true });
      const w = randn(ws, { requiresGrad: true });
      const y0 = conv2d(x, w, null, { padding });
      expect(useWinograd(ws, conv2dParams(padding), y0.shape)).toBe(true);
      const up = randn(y0.shape);
      const ref = forwardAndGrad(reference, x, w, padding, up);
      const fast = forwardAndGrad(wasm, x, w, padding, up);
      const direct = forwardAndGrad(wasmNoWinograd, x, w, padding, up);
      for (const [i, r] of ref.entries()) {
        expect(fast[i].length).toBe(r.length);
        expect(relErr(fast[i], r)).toBeLessThan(1e-5);
        // The direct WASM path stays available for comparison.
        expect(relErr(direct[i], r)).toBeLessThan(1e-5);
      }
    });
  }

  it('reads operands that start inside their storage (offset views)', () => {
    manualSeed(9);
    const xs = randn([5, 24, 12, 12]);
    const ws = randn([3, 32, 24, 3, 3]);
    // Views into storages that live on each backend, so the kernels see the offsets.
    const compute = (b: Backend) => [
      conv2d(on(b, xs).narrow(0, 2, 3), on(b, ws).select(0, 1), null, {
        padding: 1,
      }).readSync() as Float32Array,
    ];
    expect(useWinograd([32, 24, 3, 3], conv2dParams(1), [3, 32, 12, 12])).toBe(true);
    const [ref] = compute(reference);
    const [fast] = compute(wasm);
    expect(relErr(fast, ref)).toBeLessThan(1e-5);
  });

  it('is not used for strided, dilated, grouped, non-3x3 or narrow convolutions', () => {
    const out = [4, 32, 8, 8];
    expect(useWinograd([32, 32, 3, 3], conv2dParams(1), out)).toBe(true);
    expect(useWinograd([32, 32, 3, 3], { ...conv2dParams(1), stride: [2, 2] }, out)).toBe(false);
    expect(useWinograd([32, 32, 3, 3], { ...conv2dParams(1), dilation: [2, 2] }, out)).toBe(false);
    expect(useWinograd([32, 16, 3, 3], { ...conv2dParams(1), groups: 2 }, out)).toBe(false);
    expect(useWinograd([32, 32, 3, 3], conv2dParams(3), out)).toBe(false);
    expect(useWinograd([32, 32, 5, 5], conv2dParams(2), out)).toBe(false);
    expect(useWinograd([32, 3, 3, 3], conv2dParams(1), out)).toBe(false);
    // Too few output pixels for the filter transform to pay, or too little work overall.
    expect(useWinograd([512, 512, 3, 3], conv2dParams(1), [1, 512, 7, 7])).toBe(false);
    expect(useWinograd([512, 512, 3, 3], conv2dParams(1), [4, 512, 7, 7])).toBe(true);
    expect(useWinograd([16, 16, 3, 3], conv2dParams(1), [1, 16, 8, 8])).toBe(false);
    // 2x2 maps: a 4x4 tile is 3/4 padding, so im2col + GEMM multiplies as much (winogradTilesPay).
    expect(useWinograd([256, 256, 3, 3], conv2dParams(1), [20, 256, 2, 2])).toBe(false);
    expect(useWinograd([128, 128, 3, 3], conv2dParams(1), [20, 128, 4, 4])).toBe(true);
    expect(useWinograd([128, 128, 3, 3], conv2dParams(1), [20, 128, 3, 3])).toBe(true);
    expect(wasm.winograd).toBe(true);
    expect(wasmNoWinograd.winograd).toBe(false);
  });

  it('runs whole images per task where they have enough tiles and the batch enough tasks', () => {
    // The test cases above: [N, C, O, tiles per image].
    expect(fusedImages(4, 16, 24, 100)).toBe(1);
    expect(fusedImages(13, 18, 19, 30)).toBe(4);
    expect(fusedImages(2, 64, 64, 49)).toBe(0);
    // ResNet-18 at batch 16: layer1 and layer2 fused, layer3 and layer4 chunked.
    expect(fusedImages(16, 64, 64, 196)).toBe(1);
    expect(fusedImages(16, 128, 128, 49)).toBe(2);
    expect(fusedImages(16, 256, 256, 16)).toBe(0);
    expect(fusedImages(16, 512, 512, 4)).toBe(0);
  });

  it('two threads give bit-identical results to one, fused', () => {
    manualSeed(10);
    const x = randn([8, 32, 30, 31], { requiresGrad: true });
    const w = randn([40, 32, 3, 3], { requiresGrad: true });
    const up = randn([8, 40, 30, 31]);
    expect(fusedImages(8, 32, 40, 64)).toBe(2);
    setNumThreads(1);
    const one = forwardAndGrad(wasm, x, w, 1, up);
    expect(setNumThreads(2)).toBe(2);
    const two = forwardAndGrad(wasm, x, w, 1, up);
    setNumThreads(1);
    for (const [i, r] of one.entries()) expect(Array.from(two[i])).toEqual(Array.from(r));
  });

  it('two threads give bit-identical results to one', () => {
    manualSeed(8);
    // Big enough (M * N * K >= 2^20 per product) for the GEMMs to run on the pool.
    const x = randn([4, 64, 30, 31], { requiresGrad: true });
    const w = randn([80, 64, 3, 3], { requiresGrad: true });
    const up = randn([4, 80, 30, 31]);
    setNumThreads(1);
    const one = forwardAndGrad(wasm, x, w, 1, up);
    expect(setNumThreads(2)).toBe(2);
    const two = forwardAndGrad(wasm, x, w, 1, up);
    setNumThreads(1);
    for (const [i, r] of one.entries()) expect(Array.from(two[i])).toEqual(Array.from(r));
  });
});
