// The WebAssembly kernels against the TypeScript reference kernels (float64 accumulation).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import {
  batchNorm,
  conv2d,
  getNumThreads,
  manualSeed,
  randn,
  setNumThreads,
  type Tensor,
} from '../../index.js';
import { on, reference, wasm } from '../../test-utils/backends.js';
import { relErr } from '../../test-utils/compare.js';
import { wasmKernelInfo, wasmKernels } from './kernels.js';
import { parallelCalls } from './threads.js';

/** Runs `fn` on copies of `inputs` that live on `backend`. */
function run(backend: Backend, inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor[]): Float32Array[] {
  return fn(...inputs.map((t) => on(backend, t))).map((t) => t.readSync() as Float32Array);
}

describe('wasm kernels', () => {
  it('load in this runtime, with the relaxed-SIMD (FMA) build where the engine validates it', () => {
    expect(wasmKernels()).not.toBeNull();
    expect(wasmKernelInfo().build).toBe('relaxed-simd');
  });

  // Runs the built package (dist/) in a child process: turbo builds before testing.
  it('the plain SIMD build (GRAFT_WASM_RELAXED=0) gives the reference product too', () => {
    const script = `
      const T = await import(${JSON.stringify(new URL('../../../dist/index.js', import.meta.url).href)});
      T.manualSeed(5);
      const a = T.randn(80, 90), b = T.randn(90, 70);
      const fast = a.matmul(b).readSync();
      T.setCpuBackend('reference');
      const ref = T.tensor(a.tolistSync()).float().matmul(T.tensor(b.tolistSync()).float()).readSync();
      let err = 0, scale = 0;
      for (let i = 0; i < ref.length; i++) { err = Math.max(err, Math.abs(fast[i] - ref[i])); scale = Math.max(scale, Math.abs(ref[i])); }
      console.log(JSON.stringify({ build: T.wasmKernelInfo().build, rel: err / scale }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, GRAFT_WASM_RELAXED: '0' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { build: string; rel: number };
    expect(out.build).toBe('simd');
    expect(out.rel).toBeLessThan(1e-5);
  });

  const cases: [
    string,
    number[],
    number[],
    { stride?: number; padding?: number; dilation?: number; groups?: number },
  ][] = [
    ['3x3 pad 1', [2, 16, 12, 12], [40, 16, 3, 3], { padding: 1 }],
    ['7x7 stride 2', [1, 3, 20, 20], [64, 3, 7, 7], { stride: 2, padding: 3 }],
    ['1x1 stride 2', [2, 32, 10, 10], [64, 32, 1, 1], { stride: 2 }],
    // 1x1 stride 1 over >= 64 positions (pointwise): per-image products, no patch matrix or col2im.
    ['1x1 stride 1 (pointwise)', [4, 24, 9, 10], [40, 24, 1, 1], {}],
    ['1x1 stride 1 (pointwise), channels not multiples of 4', [4, 37, 9, 9], [43, 37, 1, 1], {}],
    ['dilated grouped', [1, 16, 14, 14], [64, 8, 3, 3], { padding: 2, dilation: 2, groups: 2 }],
    ['odd sizes', [3, 13, 11, 9], [33, 13, 3, 3], { padding: 1 }],
    // Maps smaller than the kernel's reach: taps that read only padding are skipped (conv-taps.ts).
    ['3x3 over a 1x1 map', [20, 128, 1, 1], [256, 128, 3, 3], { padding: 1 }],
    ['3x3 stride 2 over a 2x2 map', [64, 32, 2, 2], [64, 32, 3, 3], { stride: 2, padding: 1 }],
    ['5x5 over a 2x3 map', [16, 32, 2, 3], [64, 32, 5, 5], { padding: 2 }],
    // Stride 2: im2col / col2im move four columns per vector inside a row, scalar at its edges.
    ['3x3 stride 2, odd sizes', [2, 6, 23, 37], [10, 6, 3, 3], { stride: 2, padding: 1 }],
    ['3x3 stride 2, no padding, batch 1', [1, 5, 16, 19], [9, 5, 3, 3], { stride: 2 }],
    ['1x1 stride 2, odd sizes', [2, 16, 17, 21], [24, 16, 1, 1], { stride: 2 }],
    // Output rows of at most 16 (small maps): im2col moves elements in plain loops, regroup too (each case
    // has at least WASM_MIN_WORK multiply-adds, after cropping, so it runs in WebAssembly).
    ['3x3 pad 1 over 2x2 maps, batch 20 (not Winograd)', [20, 32, 2, 2], [40, 32, 3, 3], { padding: 1 }],
    ['3x3 pad 1 over 2x2 maps, odd batch and channels', [7, 37, 2, 2], [43, 37, 3, 3], { padding: 1 }],
    [
      '7x7 stride 2 over 32x32 maps (output rows of 16)',
      [2, 3, 32, 32],
      [64, 3, 7, 7],
      { stride: 2, padding: 3 },
    ],
    ['3x3 pad 1 over 4x3 maps, channels not multiples of 4', [8, 19, 4, 3], [23, 19, 3, 3], { padding: 1 }],
    ['3x3 pad 2 dilation 2 over 5x7 maps', [4, 7, 5, 7], [40, 7, 3, 3], { padding: 2, dilation: 2 }],
    ['3x3 stride 2 pad 2 over 8x6 maps, batch 1', [1, 24, 8, 6], [72, 24, 3, 3], { stride: 2, padding: 2 }],
    ['1x1 stride 2 over 7x7 maps', [10, 40, 7, 7], [44, 40, 1, 1], { stride: 2 }],
    // Kept taps (conv-taps.ts): the middle kernel row, copied out and its gradient written back; at batch
    // 20 a 2x2 corner has too few output positions to pay for the copy, so the whole kernel runs.
    ['3x3 over 1-row maps (the middle kernel row kept)', [8, 48, 1, 9], [64, 48, 3, 3], { padding: 1 }],
    [
      '3x3 stride 2 over 2x2 maps, batch 20 (not cropped)',
      [20, 63, 2, 2],
      [70, 63, 3, 3],
      { stride: 2, padding: 1 },
    ],
    // Strided 1x1 over >= 64 output positions: the forward and weight gradient unfold blocks of positions,
    // the input gradient is written by per-image tasks (zeros between the strided positions).
    ['1x1 stride 2 over 64 positions, odd channels', [3, 37, 16, 16], [45, 37, 1, 1], { stride: 2 }],
    [
      '1x1 stride 2, odd map (even rows and columns of 23x19 kept)',
      [4, 32, 23, 19],
      [40, 32, 1, 1],
      { stride: 2 },
    ],
    ['1x1 stride 3 over a 31x29 map, batch 1', [1, 48, 31, 29], [64, 48, 1, 1], { stride: 3 }],
    // >= 4096 output positions per image: forward and weight gradient unfold blocks of positions (no patch matrix).
    ['7x7 stride 2, wide maps (per-image GEMMs)', [2, 3, 131, 129], [20, 3, 7, 7], { stride: 2, padding: 3 }],
    // The weight gradient by image groups: 10 images in 5 groups of 2, their partial sums added in order.
    [
      '7x7 stride 2, batch 10 (weight gradient in 5 image groups)',
      [10, 3, 40, 40],
      [32, 3, 7, 7],
      { stride: 2, padding: 3 },
    ],
  ];
  for (const [name, xs, ws, opts] of cases) {
    it(`conv2d forward and both gradients match the reference: ${name}`, () => {
      manualSeed(1);
      const x0 = randn(xs, { requiresGrad: true });
      const w0 = randn(ws, { requiresGrad: true });
      const up0 = randn(conv2d(x0, w0, null, opts).shape);
      const compute = (x: Tensor, w: Tensor, up: Tensor) => {
        const y = conv2d(x, w, null, opts);
        y.backward(up);
        return [y, x.grad!, w.grad!];
      };
      const ref = run(reference, [x0, w0, up0], compute);
      const fast = run(wasm, [x0, w0, up0], compute);
      for (const [i, r] of ref.entries()) expect(relErr(fast[i], r)).toBeLessThan(1e-5);
    });
  }

  it('matmul (plain, transposed and batched-broadcast operands) matches the reference', () => {
    manualSeed(2);
    const a = randn(3, 70, 90);
    const b = randn(90, 65);
    const bt = randn(65, 90);
    const compute = (a: Tensor, b: Tensor, bt: Tensor) => [
      a.matmul(b),
      a.matmul(bt.t()),
      a.transpose(1, 2).transpose(1, 2).matmul(b),
    ];
    const ref = run(reference, [a, b, bt], compute);
    const fast = run(wasm, [a, b, bt], compute);
    for (const [i, r] of ref.entries()) expect(relErr(fast[i], r)).toBeLessThan(1e-5);
  });

  it('two threads give bit-identical results to one (rows are split, arithmetic unchanged)', () => {
    manualSeed(3);
    const x = randn([4, 32, 16, 16], { requiresGrad: true });
    const w = randn([64, 32, 3, 3], { requiresGrad: true });
    const a = randn(300, 200);
    const b = randn(200, 150);
    const compute = () => {
      x.grad = null;
      w.grad = null;
      const y = conv2d(x, w, null, { padding: 1 });
      y.square().sum().backward();
      return [y, x.grad!, w.grad!, a.matmul(b)];
    };
    setNumThreads(1);
    const one = compute().map((t) => t.readSync());
    expect(setNumThreads(2)).toBe(2);
    expect(getNumThreads()).toBe(2);
    const two = compute().map((t) => t.readSync());
    setNumThreads(1);
    for (const [i, r] of one.entries()) expect(Array.from(two[i])).toEqual(Array.from(r));
  });

  it('two threads give bit-identical strided, small-map and pointwise convolutions', () => {
    manualSeed(4);
    const shapes: [number[], number[], { stride: number; padding: number }][] = [
      [[2, 3, 131, 129], [24, 3, 7, 7], { stride: 2, padding: 3 }],
      // 400 positions, a small weight matrix: the forward unfolds blocks too (columnsForward).
      [[4, 3, 40, 40], [32, 3, 7, 7], { stride: 2, padding: 3 }],
      [[11, 3, 40, 40], [32, 3, 7, 7], { stride: 2, padding: 3 }],
      [[3, 16, 23, 37], [32, 16, 3, 3], { stride: 2, padding: 1 }],
      // Small maps: short-row im2col, a 3x3 kernel cropped to its centre tap (gradient scattered on the pool).
      [[20, 32, 2, 2], [48, 32, 3, 3], { stride: 1, padding: 1 }],
      [[20, 128, 1, 1], [144, 128, 3, 3], { stride: 1, padding: 1 }],
      // Pointwise: per-image products in one pool job, the weight gradient added image by image.
      [[6, 64, 12, 12], [96, 64, 1, 1], { stride: 1, padding: 0 }],
      // Strided 1x1: blocks of positions forward and weight gradient, input gradient by image and channels.
      [[3, 40, 28, 28], [72, 40, 1, 1], { stride: 2, padding: 0 }],
    ];
    const inputs = shapes.map(([xs, ws]) => [
      randn(xs, { requiresGrad: true }),
      randn(ws, { requiresGrad: true }),
    ]);
    const compute = () =>
      shapes.flatMap(([, , opts], i) => {
        const [x, w] = inputs[i];
        x.grad = null;
        w.grad = null;
        const y = conv2d(x, w, null, opts);
        y.square().sum().backward();
        return [y, x.grad!, w.grad!];
      });
    setNumThreads(1);
    const one = compute().map((t) => t.readSync());
    expect(setNumThreads(2)).toBe(2);
    const two = compute().map((t) => t.readSync());
    setNumThreads(1);
    for (const [i, r] of one.entries()) expect(Array.from(two[i])).toEqual(Array.from(r));
  });

  it('hundreds of back-to-back pool jobs of different kinds stay exact (no task taken by a late worker)', () => {
    // Small jobs in quick succession are where a worker finishing one job could meet the next one:
    // alternate GEMMs (row and column splits), convolutions (im2col tasks) and batch norm (channel
    // tasks), and compare with one thread.
    manualSeed(4);
    const a = randn(64, 48);
    const b = randn(48, 600);
    const c = randn(96, 64);
    const d = randn(64, 40);
    const img = randn(2, 8, 33, 31);
    const w = randn(16, 8, 3, 3);
    // 65,536 floats: above SMALL_PASS_FLOATS, so batch norm splits by channel over the pool.
    const act = randn(4, 16, 32, 32);
    const compute = () => {
      const out: number[] = [];
      for (let i = 0; i < 200; i++) {
        out.push(a.matmul(b).sum().itemSync());
        out.push(c.matmul(d).sum().itemSync());
        out.push(conv2d(img, w, null, { padding: 1 }).sum().itemSync());
        out.push(batchNorm(act, null, null, null, null, { training: true }).square().sum().itemSync());
      }
      return out;
    };
    setNumThreads(1);
    const one = compute();
    expect(setNumThreads(2)).toBe(2);
    const two = compute();
    setNumThreads(1);
    expect(two).toEqual(one);
  });

  it('a kernel that traps on the pool throws in the caller, and the pool keeps working', () => {
    const k = wasmKernels()!;
    expect(setNumThreads(2)).toBe(2);
    // Pointers far past the end of memory: every task traps, on whichever thread runs it.
    const bad = Array.from({ length: 8 }, () => [2 ** 31 - 64, 1, 4, 4, 0, 0, 0, 0]);
    expect(() => parallelCalls(k, 'epilogue', bad)).toThrow();
    const a = randn(64, 48);
    const b = randn(48, 600);
    const ref = a.matmul(b).sum().itemSync();
    setNumThreads(1);
    expect(a.matmul(b).sum().itemSync()).toBe(ref);
  });
});
