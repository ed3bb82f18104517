// The memory-bound training kernels (assembly/norm.ts, pool.ts, elementwise.ts) against the
// TypeScript reference backend, and two threads against one: batch norm forward and backward (plain,
// fused ReLU, fused residual + ReLU), max pooling with int64 indices and its backward (PyTorch's
// scatter-add where windows overlap), relu and its backward.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend.js';
import {
  batchNorm,
  fromTypedArray,
  fusedBatchNorm,
  manualSeed,
  maxPool2d,
  maxPool2dWithIndices,
  randn,
  setNumThreads,
  type Tensor,
} from '../../index.js';
import { on, reference, wasm } from '../../test-utils/backends.js';
import { BY_CHANNEL_MIN_PLANE, wasmBatchNormBackward, wasmBatchNormForward } from './norm.js';

afterEach(() => {
  setNumThreads(1);
});

/** Every |a - b| within atol + rtol * |b| (NaN only where both are NaN). */
function expectClose(a: Tensor, b: Tensor, rtol = 1e-5, atol = 1e-5): void {
  const x = Array.from(a.readSync() as ArrayLike<number>);
  const y = Array.from(b.readSync() as ArrayLike<number>);
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(y[i])) {
      expect(Number.isNaN(x[i])).toBe(true);
      continue;
    }
    worst = Math.max(worst, Math.abs(x[i] - y[i]) - (atol + rtol * Math.abs(y[i])));
  }
  expect(worst).toBeLessThanOrEqual(0);
}

function bits(t: Tensor | null | undefined): number[] {
  if (!t) return [];
  const a = t.readSync() as Float32Array | Float64Array;
  return Array.from(a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a);
}

type Mode = 'plain' | 'relu' | 'residual+relu' | 'residual';

/** Output, gradients of x, weight, bias and residual of (fused) batch norm on `backend`. */
function bnRun(backend: Backend, x0: Tensor, r0: Tensor, g0: Tensor, mode: Mode, affine = true): Tensor[] {
  const C = x0.shape[1];
  manualSeed(7);
  const w = on(backend, randn([C], { requiresGrad: true }));
  const b = on(backend, randn([C], { requiresGrad: true }));
  const x = on(backend, x0).requiresGrad_();
  const r = on(backend, r0).requiresGrad_();
  const g = on(backend, g0);
  const residual = mode.startsWith('residual') ? r : null;
  const relu = mode.endsWith('relu');
  const opts = { training: true };
  const y =
    mode === 'plain'
      ? batchNorm(x, null, null, affine ? w : null, affine ? b : null, opts)
      : fusedBatchNorm(x, null, null, affine ? w : null, affine ? b : null, { ...opts, residual, relu });
  y.backward(g);
  const out = [y, x.grad!];
  if (affine) out.push(w.grad!, b.grad!);
  if (residual) out.push(r.grad!);
  return out;
}

describe('WebAssembly batch norm against the reference', () => {
  const shapes: number[][] = [
    [4, 6, 9, 7], // S = 63: vector body and scalar tail
    [3, 5, 4, 4], // S = 16
    [16, 3], // [N, C]: S = 1
    [5, 11, 1, 1], // S = 1 by rows: groups of four channels, a scalar tail, then the next row
    [3, 8, 1, 1],
    [2, 20, 33, 17],
  ];
  for (const shape of shapes) {
    for (const mode of ['plain', 'relu', 'residual+relu', 'residual'] as const) {
      it(`${mode} ${JSON.stringify(shape)}: output and gradients match`, () => {
        manualSeed(shape.reduce((a, b) => a + b, 0));
        const x0 = randn(shape).mul(3).add(0.5);
        const r0 = randn(shape);
        const g0 = randn(shape);
        const got = bnRun(wasm, x0, r0, g0, mode);
        const want = bnRun(reference, x0, r0, g0, mode);
        for (const [i, t] of got.entries()) expectClose(t, want[i], 1e-4, 1e-4);
      });
    }
  }

  it('a large mean (x ~ 1000 + N(0, 1)) keeps its statistics (the one-pass sums are shifted)', () => {
    manualSeed(5);
    const x0 = randn([8, 4, 10, 10]).add(1000);
    const g0 = randn([8, 4, 10, 10]);
    const got = bnRun(wasm, x0, x0, g0, 'plain', false);
    const want = bnRun(reference, x0, x0, g0, 'plain', false);
    // Normalised outputs are O(1); float32 x carries ~6e-5 absolute error at 1000.
    for (const [i, t] of got.entries()) expectClose(t, want[i], 1e-3, 2e-3);
  });

  it('two threads give bit-identical outputs and gradients to one', () => {
    manualSeed(9);
    const shape = [8, 24, 21, 19];
    const x0 = randn(shape);
    const r0 = randn(shape);
    const g0 = randn(shape);
    const ones = [randn([81, 509, 1, 1]), randn([81, 509, 1, 1]), randn([81, 509, 1, 1])];
    for (const [mode, [x, r, g]] of [
      ...(['plain', 'relu', 'residual+relu'] as const).map((m) => [m, [x0, r0, g0]] as const),
      // 1x1 planes split over the pool at ranges that start inside a row of channels.
      ...(['relu', 'residual+relu'] as const).map((m) => [m, ones] as const),
    ]) {
      setNumThreads(1);
      const one = bnRun(wasm, x, r, g, mode).map(bits);
      expect(setNumThreads(2)).toBe(2);
      const two = bnRun(wasm, x, r, g, mode).map(bits);
      setNumThreads(1);
      expect(two).toEqual(one);
    }
  });
});

describe('WebAssembly batch norm a channel at a time', () => {
  /** Every output of the forward and backward kernels, as bits, with both sweeps in one task or as two jobs. */
  function run(
    shape: [number, number, number],
    affine: boolean,
    residual: boolean,
    relu: boolean,
    twoPass: boolean,
  ) {
    const [N, C, S] = shape;
    const n = N * C * S;
    manualSeed(N + C + S);
    const data = (k: number) => randn(k).mul(2).add(0.3).readSync() as Float32Array;
    const x = data(n);
    const r = residual ? data(n) : null;
    const g = data(n);
    const w = affine ? data(C) : null;
    const b = affine ? data(C) : null;
    const f = wasmBatchNormForward(x, 0, N, C, S, w, b, 1e-5, r, 0, relu, twoPass)!;
    const y = relu ? f.out : null;
    const bw = wasmBatchNormBackward(g, 0, x, 0, N, C, S, f.mean, f.invstd, w, y, 0, true, true, twoPass)!;
    const u32 = (a: Float32Array | null) =>
      a ? Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)) : [];
    return [f.out, f.mean, f.variance, f.invstd, bw.gx, bw.gw, bw.gb, bw.gm].map(u32);
  }

  it(`gives the two-job schedule's bits (planes of ${BY_CHANNEL_MIN_PLANE}+ floats), on 1 and 2 threads`, () => {
    const shapes: [number, number, number][] = [
      [4, 6, 63], // vector body and a scalar tail per plane
      [3, 5, BY_CHANNEL_MIN_PLANE],
      [2, 40, 49], // ResNet's 7x7 planes
      [5, 3, 1000],
      [4, 24, 400], // enough floats for several pool tasks (blockRanges)
    ];
    for (const shape of shapes) {
      for (const [affine, residual, relu] of [
        [true, false, false],
        [true, false, true],
        [true, true, true],
        [false, true, false],
      ] as const) {
        setNumThreads(1);
        const want = run(shape, affine, residual, relu, true);
        expect(want[0].length).toBe(shape[0] * shape[1] * shape[2]);
        expect(run(shape, affine, residual, relu, false)).toEqual(want);
        expect(setNumThreads(2)).toBe(2);
        expect(run(shape, affine, residual, relu, false)).toEqual(want);
      }
    }
  });
});

describe('WebAssembly batch-norm statistics', () => {
  it('long channels (200,704 values, summed in float64 lanes) match float64 sums to 1e-6', () => {
    const [N, C, S] = [16, 3, 12544];
    manualSeed(21);
    const x = randn([N, C, S]).mul(2).add(3).readSync() as Float32Array;
    const f = wasmBatchNormForward(x, 0, N, C, S, null, null, 1e-5, null, 0, false)!;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) s += x[(n * C + c) * S + i];
      const m = s / (N * S);
      let q = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) q += (x[(n * C + c) * S + i] - m) ** 2;
      const v = q / (N * S);
      expect(Math.abs(f.mean[c] - m) / Math.sqrt(v)).toBeLessThan(1e-6);
      expect(Math.abs(f.variance[c] - v) / v).toBeLessThan(1e-6);
    }
  });
});

describe('WebAssembly max pooling backward', () => {
  it("adds the gradients of overlapping windows at a shared maximum (PyTorch's scatter-add)", () => {
    // Every 2x2 window at stride 1 has its maximum (9) at the centre.
    const f32 = (v: number[], shape: number[]) => on(wasm, fromTypedArray(new Float32Array(v), shape));
    const x = f32([1, 2, 3, 4, 9, 5, 6, 7, 8], [1, 1, 3, 3]).requiresGrad_();
    const [v, i] = maxPool2dWithIndices(x, 2, { stride: 1 });
    expect(Array.from(v.readSync())).toEqual([9, 9, 9, 9]);
    expect(i.dtype).toBe('int64');
    expect(Array.from(i.readSync() as ArrayLike<number>).map(Number)).toEqual([4, 4, 4, 4]);
    v.backward(f32([1, 2, 3, 4], [1, 1, 2, 2]));
    expect(Array.from(x.grad!.readSync())).toEqual([0, 0, 0, 0, 10, 0, 0, 0, 0]);
  });

  const cases: [
    number[],
    number,
    { stride?: number; padding?: number; dilation?: number; ceilMode?: boolean },
  ][] = [
    [[2, 3, 28, 28], 3, { stride: 2, padding: 1 }], // ResNet's stem pool: windows overlap
    [[1, 4, 17, 23], 3, { stride: 1, padding: 1 }],
    [[2, 2, 19, 21], 2, { stride: 2 }],
    [[1, 3, 20, 26], 3, { stride: 3, padding: 1, dilation: 2 }],
    [[1, 2, 15, 15], 3, { stride: 2, ceilMode: true }],
  ];
  for (const [shape, k, o] of cases) {
    it(`${shape} k${k} ${JSON.stringify(o)}: values, indices and gradient equal the reference bit for bit`, () => {
      manualSeed(shape[3]);
      // ReLU'd data: many tied zeros, so overlapping windows share maxima.
      const data = randn(...shape)
        .relu()
        .readSync() as Float32Array;
      const run = (b: Backend) => {
        const x = on(b, fromTypedArray(data, shape)).requiresGrad_();
        const [v, i] = maxPool2dWithIndices(x, k, o);
        manualSeed(1);
        v.backward(on(b, randn(v.shape)));
        return [bits(v), Array.from(i.readSync() as ArrayLike<number>).map(Number), bits(x.grad)];
      };
      expect(run(wasm)).toEqual(run(reference));
    });
  }

  it('two threads give bit-identical values, indices and gradients to one', () => {
    manualSeed(12);
    const x0 = randn([4, 16, 40, 40]).relu();
    const g0 = randn([4, 16, 20, 20]);
    const run = () => {
      const x = on(wasm, x0).requiresGrad_();
      const [v, i] = maxPool2dWithIndices(x, 3, { stride: 2, padding: 1 });
      v.backward(on(wasm, g0));
      return [bits(v), Array.from(i.readSync() as ArrayLike<number>).map(Number), bits(x.grad)];
    };
    setNumThreads(1);
    const one = run();
    expect(setNumThreads(2)).toBe(2);
    const two = run();
    expect(two).toEqual(one);
  });

  it('without a gradient the values equal those with indices', () => {
    manualSeed(13);
    const x = on(wasm, randn([2, 8, 30, 30]));
    expect(bits(maxPool2d(x, 3, { stride: 2, padding: 1 }))).toEqual(
      bits(maxPool2dWithIndices(x, 3, { stride: 2, padding: 1 })[0]),
    );
  });
});

describe('WebAssembly relu', () => {
  it('forward and backward equal the reference bit for bit (NaN, -0 and ties at 0), on 1 and 2 threads', () => {
    manualSeed(14);
    const n = 3 * 65536 + 5;
    const data = randn(n).readSync() as Float32Array;
    data[3] = Number.NaN;
    data[10] = -0;
    data[11] = 0;
    data[n - 1] = Number.NaN;
    const run = (b: Backend) => {
      const x = on(b, fromTypedArray(data, [n])).requiresGrad_();
      const y = x.relu();
      manualSeed(15);
      y.backward(on(b, randn(n)));
      return [bits(y), bits(x.grad)];
    };
    const want = run(reference);
    setNumThreads(1);
    expect(run(wasm)).toEqual(want);
    expect(setNumThreads(2)).toBe(2);
    expect(run(wasm)).toEqual(want);
  });
});

describe('max pooling indices without a caller', () => {
  it('are freed once the backward has run; a second backward fails as in PyTorch; retainGraph keeps them', () => {
    manualSeed(16);
    const x0 = randn([2, 4, 64, 64]);
    const g0 = randn([2, 4, 32, 32]);
    const x = on(wasm, x0).requiresGrad_();
    const y = maxPool2d(x, 3, { stride: 2, padding: 1 });
    const g = on(wasm, g0);
    y.backward(g, { retainGraph: true });
    const first = bits(x.grad);
    x.grad = null;
    y.backward(g);
    expect(bits(x.grad)).toEqual(first);
    expect(() => y.backward(g)).toThrow(/second time/);
    // 3-d input: the values are a squeezed view; the indices stay until the pooling node has run.
    const x3 = on(wasm, x0.reshape([8, 64, 64])).requiresGrad_();
    maxPool2d(x3, 3, { stride: 2, padding: 1 }).backward(on(wasm, g0.reshape([8, 32, 32])));
    expect(bits(x3.grad)).toEqual(first);
  });
});
