// Batch-norm statistics computed in the convolution's output pass (the `conv2dStats` kernel): the
// Winograd output transforms (winoOutput, winoOutputS2), the blocks of columns (convColumns) and the
// patch matrix's regroup, against float64 closed forms over the output; and batch norm using them
// against batch norm of a copy that carries none.
import { afterEach, describe, expect, it } from 'vitest';
import type { Conv2dParams } from '../../backend.js';
import {
  batchNorm,
  conv2d,
  fusedBatchNorm,
  manualSeed,
  noGrad,
  ones,
  randn,
  setNumThreads,
  type Tensor,
  zeros,
} from '../../index.js';
import { planeStatsOf } from '../../ops/plane-stats.js';
import { on, wasmNoWinograd } from '../../test-utils/backends.js';
import { relErr } from '../../test-utils/compare.js';
import { STATS_MIN_P } from './backend.js';
import { forwardPath, wasmConv2d } from './conv.js';
import { cropTaps } from './conv-taps.js';
import { combinePlaneStats } from './norm.js';
import { fusedImages, useWinograd, winogradConv2d } from './winograd.js';
import { useWinogradS2 } from './winograd-s2.js';

const P: Conv2dParams = { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };

/** Mean and sum of squared deviations of each [n, o] plane of y, in float64 (two passes). */
function planeMoments(y: Float32Array, planes: number, S: number): { mean: number[]; m2: number[] } {
  const mean: number[] = [];
  const m2: number[] = [];
  for (let p = 0; p < planes; p++) {
    let s = 0;
    for (let i = 0; i < S; i++) s += y[p * S + i];
    const m = s / S;
    let q = 0;
    for (let i = 0; i < S; i++) q += (y[p * S + i] - m) ** 2;
    mean.push(m);
    m2.push(q);
  }
  return { mean, m2 };
}

/** Each plane's (shift, sum, sum of squares) in `planes` against float64 two passes over y. */
function expectMoments(y: Float32Array, planes: Float64Array, count: number, S: number): void {
  const { mean, m2 } = planeMoments(y, count, S);
  for (let p = 0; p < count; p++) {
    const [k, s, q] = planes.subarray(3 * p, 3 * p + 3);
    expect(k).toBe(y[p * S]);
    const sd = Math.sqrt(m2[p] / S);
    expect(Math.abs(k + s / S - mean[p])).toBeLessThanOrEqual(1e-6 * (Math.abs(mean[p]) + sd));
    expect(Math.abs(q - (s * s) / S - m2[p])).toBeLessThanOrEqual(1e-5 * m2[p] + 1e-30);
  }
}

afterEach(() => {
  setNumThreads(1);
});

describe('batch-norm statistics from the Winograd output pass', () => {
  // [N, C, O, H]: fused tasks (8 images of 100 tiles), the chunked path (2 images), rows that are not
  // whole vectors (OW 30, 13, 7) and rows that are (OW 32).
  for (const [N, C, O, H] of [
    [8, 16, 16, 40],
    [2, 16, 24, 30],
    [4, 16, 20, 13],
    [4, 32, 16, 32],
    [6, 64, 32, 7],
  ]) {
    it(`[${N}, ${C}, ${H}, ${H}] -> ${O} channels: each plane's shift, sum and sum of squares match float64 over the output`, () => {
      manualSeed(N * 100 + H);
      const x = randn(N, C, H, H).readSync() as Float32Array;
      const w = randn(O, C, 3, 3).readSync() as Float32Array;
      const outShape = [N, O, H, H];
      const planes = new Float64Array(3 * N * O);
      const y = winogradConv2d(x, 0, [N, C, H, H], w, 0, [O, C, 3, 3], P, outShape, null, planes)!;
      const plain = winogradConv2d(x, 0, [N, C, H, H], w, 0, [O, C, 3, 3], P, outShape)!;
      expect(Array.from(y)).toEqual(Array.from(plain));
      expectMoments(y, planes, N * O, H * H);
    });
  }

  it('both paths give the same statistics (fused tasks and chunks)', () => {
    manualSeed(3);
    const [N, C, O, H] = [8, 16, 16, 40];
    expect(fusedImages(N, C, O, 100)).toBeGreaterThan(0);
    expect(fusedImages(2, C, O, 100)).toBe(0);
    const x = randn(N, C, H, H).readSync() as Float32Array;
    const w = randn(O, C, 3, 3).readSync() as Float32Array;
    const all = new Float64Array(3 * N * O);
    winogradConv2d(x, 0, [N, C, H, H], w, 0, [O, C, 3, 3], P, [N, O, H, H], null, all);
    // Images 2 and 3 alone take the chunked path; their planes come out the same.
    const two = new Float64Array(3 * 2 * O);
    const off = 2 * C * H * H;
    winogradConv2d(x, off, [2, C, H, H], w, 0, [O, C, 3, 3], P, [2, O, H, H], null, two);
    expect(Array.from(two)).toEqual(Array.from(all.subarray(3 * 2 * O, 3 * 4 * O)));
  });

  it('combinePlaneStats merges planes into the mean and biased variance of float64 two passes, also far from zero', () => {
    manualSeed(8);
    const [N, C, S] = [5, 3, 37];
    // Values around 1e4 with unit spread: sums of squares about zero would cancel.
    const y = Float64Array.from(
      randn(N * C * S).readSync() as Float32Array,
      (v, i) => 1e4 * ((i % 3) + 1) + v,
    );
    const planes = new Float64Array(3 * N * C);
    for (let p = 0; p < N * C; p++) {
      const k = y[p * S + 5];
      let s = 0;
      let q = 0;
      for (let i = 0; i < S; i++) {
        s += y[p * S + i] - k;
        q += (y[p * S + i] - k) ** 2;
      }
      planes.set([k, s, q], 3 * p);
    }
    const { m, v } = combinePlaneStats(planes, N, C, S);
    for (let c = 0; c < C; c++) {
      const vals: number[] = [];
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) vals.push(y[(n * C + c) * S + i]);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
      expect(Math.abs(m[c] - mean)).toBeLessThan(1e-12 * Math.abs(mean));
      expect(Math.abs(v[c] - variance)).toBeLessThan(1e-9 * variance);
    }
  });
});

describe('batch-norm statistics from the other convolution paths', () => {
  // [name, x shape, weight shape, options, the path it takes]
  const cases: [
    string,
    number[],
    number[],
    { stride?: number; padding?: number; groups?: number },
    string,
  ][] = [
    ['3x3 stride 2 (Winograd by phases)', [4, 16, 28, 28], [32, 16, 3, 3], { stride: 2, padding: 1 }, 's2'],
    [
      '7x7 stride 2 stem (blocks of columns, a last block of 73)',
      [2, 3, 58, 58],
      [16, 3, 7, 7],
      { stride: 2, padding: 3 },
      'columns',
    ],
    [
      '1x1 stride 2 downsample (blocks of columns)',
      [2, 16, 56, 56],
      [32, 16, 1, 1],
      { stride: 2 },
      'columns',
    ],
    [
      '3x3 in 2 groups (patch matrix, regroup)',
      [2, 16, 16, 16],
      [32, 8, 3, 3],
      { padding: 1, groups: 2 },
      'patch',
    ],
    [
      '3x3 on 1-row maps (the middle row of taps alone)',
      [4, 16, 1, 200],
      [32, 16, 3, 3],
      { padding: 1 },
      'crop',
    ],
  ];
  for (const [name, xs, ws, opts, path] of cases) {
    it(`${name}: each plane's statistics match float64 over the output, 2 threads the same bits as 1`, () => {
      const stride = opts.stride ?? 1;
      const pad = opts.padding ?? 0;
      const p: Conv2dParams = {
        stride: [stride, stride],
        padding: [pad, pad],
        dilation: [1, 1],
        groups: opts.groups ?? 1,
      };
      const size = (n: number) => Math.floor((n + 2 * pad - ws[2]) / stride) + 1;
      const outShape = [xs[0], ws[0], size(xs[2]), size(xs[3])];
      const S = outShape[2] * outShape[3];
      expect(S).toBeGreaterThanOrEqual(STATS_MIN_P);
      // The case takes the path it names.
      const s2 = useWinogradS2(ws, p, outShape);
      const crop = cropTaps(ws, p, xs, outShape);
      const taken = s2 ? 's2' : crop ? 'crop' : forwardPath(xs, ws, p, outShape);
      expect(useWinograd(ws, p, outShape)).toBe(false);
      expect(taken).toBe(path);
      manualSeed(xs[2] * 10 + ws[0]);
      const x = randn(xs);
      const w = randn(ws).mul(0.3).requiresGrad_();
      const run = (threads: number) => {
        setNumThreads(threads);
        const y = conv2d(x, w, null, opts);
        const st = planeStatsOf(y);
        expect(st).not.toBeNull();
        const z = batchNorm(y, null, null, null, null, { training: true });
        return { y: y.readSync() as Float32Array, planes: st!.planes, z: z.readSync() };
      };
      const one = run(1);
      expectMoments(one.y, one.planes, outShape[0] * outShape[1], S);
      expect(setNumThreads(2)).toBe(2);
      const two = run(2);
      expect(Array.from(two.planes)).toEqual(Array.from(one.planes));
      expect(Array.from(two.z)).toEqual(Array.from(one.z));
      // Batch norm from them against batch norm's own pass over a copy.
      const own = batchNorm(
        noGrad(() => conv2d(x, w, null, opts).clone()),
        null,
        null,
        null,
        null,
        {
          training: true,
        },
      ).readSync();
      expect(relErr(one.z, own)).toBeLessThanOrEqual(2e-6);
    });
  }
});

describe('batchNorm on a convolution output in training', () => {
  /** conv2d -> batchNorm (or fusedBatchNorm with a residual and ReLU) -> weighted sum -> backward. */
  function step(x: Tensor, w0: Tensor, copy: boolean, fused: boolean) {
    const w = w0.clone().requiresGrad_();
    const g = ones(w0.shape[0]).requiresGrad_();
    const b = zeros(w0.shape[0]).requiresGrad_();
    const rm = zeros(w0.shape[0]);
    const rv = ones(w0.shape[0]);
    let y = conv2d(x, w, null, { padding: 1 });
    const kept = planeStatsOf(y) !== null;
    // A copy is a new tensor with no statistics: its batch norm runs its own statistics pass.
    if (copy) y = y.clone();
    const opts = { training: true, momentum: 0.1, eps: 1e-5 };
    const z = fused
      ? fusedBatchNorm(y, rm, rv, g, b, { ...opts, residual: noGrad(() => x.mul(0.5)), relu: true })
      : batchNorm(y, rm, rv, g, b, opts);
    const u = noGrad(() => randn(z.shape));
    z.mul(u).sum().backward();
    return {
      kept,
      out: z.readSync(),
      rm: rm.readSync(),
      rv: rv.readSync(),
      gw: w.grad!.readSync(),
      gg: g.grad!.readSync(),
    };
  }

  const close = (a: ArrayLike<number>, b: ArrayLike<number>, rel: number) =>
    expect(relErr(a, b)).toBeLessThanOrEqual(rel);

  for (const fused of [false, true]) {
    it(`${fused ? 'fusedBatchNorm (residual, ReLU)' : 'batchNorm'} uses the convolution's statistics and matches batch norm of a copy`, () => {
      manualSeed(21);
      const x = randn(4, 16, 20, 20);
      const w = randn(16, 16, 3, 3).mul(0.2);
      manualSeed(5);
      const a = step(x, w, false, fused);
      manualSeed(5);
      const b = step(x, w, true, fused);
      expect(a.kept).toBe(true);
      close(a.out, b.out, 2e-6);
      close(a.rm, b.rm, 1e-6);
      close(a.rv, b.rv, 1e-6);
      close(a.gw, b.gw, 1e-5);
      close(a.gg, b.gg, 1e-5);
    });
  }

  it('two threads give the same bits as one', () => {
    manualSeed(2);
    const x = randn(8, 32, 24, 24);
    const w = randn(32, 32, 3, 3).mul(0.1);
    const run = () => {
      manualSeed(9);
      return step(x, w, false, true);
    };
    setNumThreads(1);
    const one = run();
    expect(setNumThreads(2)).toBe(2);
    const two = run();
    expect(one.kept).toBe(true);
    for (const key of ['out', 'rm', 'rv', 'gw', 'gg'] as const)
      expect(Array.from(two[key])).toEqual(Array.from(one[key]));
  });

  /**
   * Batch norm of `y` gives the bits of batch norm of a copy of `values` (which carries no statistics):
   * both ran the statistics pass over the same values.
   */
  const expectOwnPass = (y: Tensor, values: Tensor) => {
    const bn = (t: Tensor) => batchNorm(t, null, null, null, null, { training: true }).readSync();
    expect(Array.from(bn(y))).toEqual(Array.from(bn(noGrad(() => values.clone()))));
  };

  it('an in-place write to the output drops its statistics', () => {
    manualSeed(4);
    const x = randn(4, 16, 20, 20);
    const w = randn(16, 16, 3, 3).requiresGrad_();
    const y = conv2d(x, w, null, { padding: 1 });
    expect(planeStatsOf(y)).not.toBeNull();
    noGrad(() => y.add_(3));
    expect(planeStatsOf(y)).toBeNull();
    expectOwnPass(y, y);
  });

  it('set_ and .data = drop them, even from a source of the same shape and version', () => {
    manualSeed(7);
    const x = randn(4, 16, 20, 20);
    const w = randn(16, 16, 3, 3).requiresGrad_();
    for (const swap of [
      (y: Tensor, s: Tensor) => noGrad(() => y.set_(s)),
      (y: Tensor, s: Tensor) => (y.data = s),
    ]) {
      const y = conv2d(x, w, null, { padding: 1 });
      const other = noGrad(() => x.mul(2));
      expect(planeStatsOf(y)).not.toBeNull();
      expect(other._version).toBe(y._version);
      swap(y, other);
      expect(planeStatsOf(y)).toBeNull();
      expectOwnPass(y, other);
    }
  });

  it('conv2d computes none without a backward pass, with a bias, where no WebAssembly kernel runs, for small planes, a pointwise convolution or a view', () => {
    manualSeed(6);
    const x = randn(4, 16, 20, 20);
    const w = randn(16, 16, 3, 3);
    const wg = w.clone().requiresGrad_();
    expect(planeStatsOf(conv2d(x, w, null, { padding: 1 }))).toBeNull();
    expect(planeStatsOf(noGrad(() => conv2d(x, wg, null, { padding: 1 })))).toBeNull();
    expect(planeStatsOf(conv2d(x, wg, randn(16), { padding: 1 }))).toBeNull();
    // Off the Winograd path, the patch matrix's regroup computes them.
    const off = on(wasmNoWinograd, wg);
    expect(planeStatsOf(conv2d(on(wasmNoWinograd, x), off, null, { padding: 1 }))).not.toBeNull();
    // Too small a product for the WebAssembly kernels: the JavaScript convolution, no statistics.
    const tiny = randn(2, 2, 3, 3).requiresGrad_();
    expect(planeStatsOf(conv2d(randn(1, 2, 5, 5), tiny, null, { padding: 1 }))).toBeNull();
    // Planes under STATS_MIN_P positions decline (7x7 here): batch norm's own pass costs no more.
    const small = randn(64, 64, 3, 3).requiresGrad_();
    expect(planeStatsOf(conv2d(randn(8, 64, 7, 7), small, null, { padding: 1 }))).toBeNull();
    // A pointwise (1x1 stride-1) convolution declines: batch norm's own pass reads its output once, as
    // a pass of the convolution's would; wasmConv2d refuses statistics there.
    const x1 = randn(4, 16, 16, 16);
    const w1 = randn(24, 16, 1, 1).requiresGrad_();
    const pw: Conv2dParams = { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
    expect(forwardPath(x1.shape, w1.shape, pw, [4, 24, 16, 16])).toBe('pointwise');
    const y1 = conv2d(x1, w1);
    expect(planeStatsOf(y1)).toBeNull();
    const xs = x1.readSync() as Float32Array;
    const ws = w1.readSync() as Float32Array;
    expect(() =>
      wasmConv2d(
        xs,
        0,
        x1.shape,
        ws,
        0,
        w1.shape,
        pw,
        [4, 24, 16, 16],
        null,
        undefined,
        new Float64Array(3 * 96),
      ),
    ).toThrow(/pointwise convolution computes no batch-norm statistics/);
    const y = conv2d(x, wg, null, { padding: 1 });
    expect(planeStatsOf(y)).not.toBeNull();
    expect(planeStatsOf(y.reshape([4, 16, 400]))).toBeNull();
    expect(planeStatsOf(y.narrow(0, 0, 2))).toBeNull();
  });
});
