// Stride-2 3x3 convolutions by phases and Winograd F(4, 2) against the TypeScript reference kernels
// (float64 accumulation) and the direct WebAssembly path.
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import { conv2d, fusedConv2d, manualSeed, noGrad, randn, setNumThreads, type Tensor } from '../../index.js';
import { on, reference, wasm, wasmNoWinograd } from '../../test-utils/backends.js';
import { conv2dParams, type Pad, relErr } from '../../test-utils/compare.js';
import { useWinogradS2 } from './winograd-s2.js';

const params = (padding: Pad) => conv2dParams(padding, 2);

function forward(backend: Backend, x0: Tensor, w0: Tensor, padding: Pad): Float32Array {
  return noGrad(() =>
    conv2d(on(backend, x0), on(backend, w0), null, { stride: 2, padding }),
  ).readSync() as Float32Array;
}

describe('stride-2 3x3 convolution by phases and Winograd F(4, 2)', () => {
  afterAll(() => {
    setNumThreads(1);
  });

  const cases: [string, number[], number[], Pad][] = [
    // ResNet's downsampling layers (layer2.0.conv1 .. layer4.0.conv1 at 224 input), at batch 2 or 4.
    ['56x56 -> 28x28 pad 1, 64 -> 128', [2, 64, 56, 56], [128, 64, 3, 3], 1],
    ['28x28 -> 14x14 pad 1, 128 -> 256 (edge tiles)', [2, 128, 28, 28], [256, 128, 3, 3], 1],
    ['14x14 -> 7x7 pad 1, 256 -> 64', [4, 256, 14, 14], [64, 256, 3, 3], 1],
    // Odd sizes: the last phase row or column is padding, partial groups of four tiles, O not a multiple of 4.
    ['odd 23x19 pad 1', [6, 16, 23, 19], [17, 16, 3, 3], 1],
    ['odd 21x22 pad 0', [4, 20, 21, 22], [19, 20, 3, 3], 0],
    ['17x30 pad 2', [2, 24, 17, 30], [21, 24, 3, 3], 2],
    ['pad (0, 2)', [4, 16, 26, 20], [16, 16, 3, 3], [0, 2]],
    ['wide rows: 8 groups of four tiles', [1, 16, 130, 132], [16, 16, 3, 3], 1],
    // 8 images per chunk here (81 * 128 * 49 floats each), so two chunks, the last of 3 images.
    ['several chunks, the last one partial', [11, 64, 56, 56], [128, 64, 3, 3], 1],
  ];
  for (const [name, xs, ws, padding] of cases) {
    it(`matches the reference and the direct path: ${name}`, () => {
      manualSeed(11);
      const x = randn(xs);
      const w = randn(ws);
      const ref = forward(reference, x, w, padding);
      const out = noGrad(() => conv2d(x, w, null, { stride: 2, padding }));
      expect(useWinogradS2(ws, params(padding), out.shape)).toBe(true);
      const fast = forward(wasm, x, w, padding);
      const direct = forward(wasmNoWinograd, x, w, padding);
      expect(fast.length).toBe(ref.length);
      // Winograd's float32 rounding (2.5e-6 to 5e-6 of the largest output here; direct ~4e-7).
      expect(relErr(fast, ref)).toBeLessThan(1e-5);
      expect(relErr(direct, ref)).toBeLessThan(1e-5);
    });
  }

  it('applies the fused epilogue (scale, shift, residual, ReLU) to its output', () => {
    manualSeed(12);
    const x = randn([2, 32, 30, 30]);
    const w = randn([24, 32, 3, 3]);
    const scale = randn([24]);
    const shift = randn([24]);
    const residual = randn([2, 24, 15, 15]);
    const run = (b: Backend) =>
      noGrad(() =>
        fusedConv2d(on(b, x), on(b, w), {
          stride: 2,
          padding: 1,
          scale: on(b, scale),
          shift: on(b, shift),
          residual: on(b, residual),
          relu: true,
        }),
      ).readSync() as Float32Array;
    expect(relErr(run(wasm), run(reference))).toBeLessThan(1e-5);
  });

  it('is used only for 3x3 stride-2 convolutions with channels in fours and maps its tiles fit', () => {
    const out = [16, 128, 28, 28];
    expect(useWinogradS2([128, 64, 3, 3], params(1), out)).toBe(true);
    expect(useWinogradS2([128, 64, 3, 3], { ...params(1), stride: [1, 1] }, out)).toBe(false);
    expect(useWinogradS2([128, 64, 3, 3], { ...params(1), dilation: [2, 2] }, out)).toBe(false);
    expect(useWinogradS2([128, 32, 3, 3], { ...params(1), groups: 2 }, out)).toBe(false);
    expect(useWinogradS2([128, 64, 3, 3], params(3), out)).toBe(false);
    expect(useWinogradS2([128, 64, 5, 5], params(2), out)).toBe(false);
    expect(useWinogradS2([128, 3, 3, 3], params(1), out)).toBe(false);
    expect(useWinogradS2([128, 18, 3, 3], params(1), out)).toBe(false);
    // 2x2 maps (ResNet's layer4.0.conv1 at 32x32 input): a 4x4 tile is 3/4 padding.
    expect(useWinogradS2([512, 256, 3, 3], params(1), [20, 512, 1, 1])).toBe(false);
    expect(useWinogradS2([256, 128, 3, 3], params(1), [20, 256, 2, 2])).toBe(false);
    // One tile per image (4x4 outputs), or too few pixels for the filter transform to pay.
    expect(useWinogradS2([128, 64, 3, 3], params(1), [20, 128, 4, 4])).toBe(false);
    expect(useWinogradS2([512, 256, 3, 3], params(1), [2, 512, 7, 7])).toBe(false);
    expect(useWinogradS2([512, 256, 3, 3], params(1), [16, 512, 7, 7])).toBe(true);
    expect(useWinogradS2([128, 64, 3, 3], params(1), [1, 128, 28, 28])).toBe(true);
  });

  it('two threads give bit-identical results to one', () => {
    manualSeed(13);
    const x = randn([4, 64, 30, 31]);
    const w = randn([80, 64, 3, 3]);
    setNumThreads(1);
    const one = forward(wasm, x, w, 1);
    expect(setNumThreads(2)).toBe(2);
    const two = forward(wasm, x, w, 1);
    setNumThreads(1);
    expect(Array.from(two)).toEqual(Array.from(one));
  });
});
