// Training-mode batch norm (with an optional fused residual add and ReLU) in WebAssembly SIMD
// (assembly/norm.ts) on the thread pool. Forward: the per-channel statistics, then the output;
// backward: both per-channel sums, then the input gradient (and the masked gradient a fused ReLU's
// residual needs). Where planes hold at least BY_CHANNEL_MIN_PLANE floats, one task runs both steps
// for one channel after the other, so the channel's second sweep reads what its first left in
// cache: x comes from memory once forward, and g, x and y once backward. Smaller planes (a
// BatchNorm1d's [N, C]) keep two pool jobs, the second split by plane. Nothing is copied: operands
// are read where they live in the heap and outputs are written into the blocks that become the
// result tensors. Sums split by channel and elementwise passes by plane, so any thread count gives
// the same bits, and so do both schedules (the same float operations in the same order). Where x
// comes straight from a Winograd convolution in training, its statistics were computed in that
// convolution's output pass (`planes`, combinePlaneStats) and only the output pass reads x here.

import { withFrame } from './heap.js';
import type { wasmKernels } from './kernels.js';
import { blockRanges, parallelCalls } from './threads.js';

type K = NonNullable<ReturnType<typeof wasmKernels>>;

function f64s(k: K, ptr: number, n: number): Float64Array {
  return new Float64Array(k.memory.buffer, ptr, n);
}

/** Floats per [N, C, S] plane from which a channel's two sweeps run in one task (see above). */
export const BY_CHANNEL_MIN_PLANE = 16;

/** Whether a batch norm over planes of S floats runs a channel at a time (`twoPass` forces the two jobs). */
function byChannel(S: number, twoPass: boolean): boolean {
  return !twoPass && S >= BY_CHANNEL_MIN_PLANE;
}

export interface WasmBnForward {
  out: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  invstd: Float32Array;
}

/**
 * Per-channel mean and biased variance (float64) from per-plane statistics [N][C][3] (shift k,
 * sum(x - k), sum((x - k)^2), `PlaneStats` in registry.ts), merged plane after plane in image order
 * by the pairwise update of Chan, Golub and LeVeque (exact in exact arithmetic, no cancellation
 * between large sums).
 */
export function combinePlaneStats(
  planes: Float64Array,
  N: number,
  C: number,
  S: number,
): { m: Float64Array; v: Float64Array } {
  const m = new Float64Array(C);
  const v = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    let m2 = 0;
    for (let n = 0; n < N; n++) {
      const o = 3 * (n * C + c);
      const s = planes[o + 1];
      const pm = planes[o] + s / S;
      const pm2 = Math.max(0, planes[o + 2] - (s * s) / S);
      if (n === 0) {
        mean = pm;
        m2 = pm2;
      } else {
        const d = pm - mean;
        mean += d / (n + 1);
        m2 += pm2 + (d * d * S * n) / (n + 1);
      }
    }
    m[c] = mean;
    v[c] = m2 / (N * S);
  }
  return { m, v };
}

/**
 * Statistics and output of training-mode batch norm over contiguous float32 [N, C, S]; null without
 * WebAssembly. With `planes` (x's per-plane statistics from the convolution that made it), the
 * statistics come from them and only the output pass reads x.
 */
export function wasmBatchNormForward(
  x: Float32Array,
  xo: number,
  N: number,
  C: number,
  S: number,
  w: Float32Array | null,
  b: Float32Array | null,
  eps: number,
  r: Float32Array | null,
  ro: number,
  relu: boolean,
  twoPass = false,
  planes: Float64Array | null = null,
): WasmBnForward | null {
  return withFrame((f, k) => {
    const n = N * C * S;
    const xp = f.input(x, xo, n);
    const rp = r ? f.input(r, ro, n) : 0;
    const channels = !planes && byChannel(S, twoPass);
    // Scale, shift, the statistics' float64 sums and, a channel at a time, the float32 results.
    const [sp, tp, fp, qp] = f.region([C, C, 6 * C, channels ? 3 * C : 0]);
    if (channels) {
      const wp = w ? f.input(w, 0, C) : 0;
      const bp = b ? f.input(b, 0, C) : 0;
      const o = f.output(n);
      parallelCalls(
        k,
        'bnForwardChannels',
        blockRanges(C, 2 * n).map(([c0, c1]) => [
          xp,
          o.ptr,
          rp,
          N,
          C,
          S,
          c0,
          c1,
          wp,
          bp,
          eps,
          relu ? 1 : 0,
          fp,
          sp,
          tp,
          qp,
        ]),
      );
      const mean = f.heap.float32(C);
      const variance = f.heap.float32(C);
      const invstd = f.heap.float32(C);
      // Viewed after the allocations above, which may grow (and so detach) the memory.
      const q = f.heap.f32().subarray(qp / 4, qp / 4 + 3 * C);
      mean.set(q.subarray(0, C));
      variance.set(q.subarray(C, 2 * C));
      invstd.set(q.subarray(2 * C));
      return { out: f.result(o, n), mean, variance, invstd };
    }
    let ms: Float64Array;
    let vs: Float64Array;
    if (planes) ({ m: ms, v: vs } = combinePlaneStats(planes, N, C, S));
    else {
      parallelCalls(
        k,
        'bnStats',
        blockRanges(C, n).map(([c0, c1]) => [xp, N, C, S, c0, c1, fp]),
      );
      // Per channel: shift, sum and sum of squares about the shift (float64).
      const st = f64s(k, fp, 3 * C);
      const count = N * S;
      ms = new Float64Array(C);
      vs = new Float64Array(C);
      for (let c = 0; c < C; c++) {
        const d = st[3 * c + 1] / count;
        ms[c] = st[3 * c] + d;
        vs[c] = Math.max(0, st[3 * c + 2] / count - d * d);
      }
    }
    const mean = f.heap.float32(C);
    const variance = f.heap.float32(C);
    const invstd = f.heap.float32(C);
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const m = ms[c];
      const v = vs[c];
      const is = 1 / Math.sqrt(v + eps);
      mean[c] = m;
      variance[c] = v;
      invstd[c] = is;
      const a = w ? w[c] * is : is;
      scale[c] = a;
      shift[c] = (b ? b[c] : 0) - m * a;
    }
    const h = f.heap.f32();
    h.set(scale, sp / 4);
    h.set(shift, tp / 4);
    const o = f.output(n);
    parallelCalls(
      k,
      'bnApply',
      blockRanges(N * C, n).map(([p0, p1]) => [xp, o.ptr, C, S, p0, p1, sp, tp, rp, relu ? 1 : 0]),
    );
    return { out: f.result(o, n), mean, variance, invstd };
  });
}

/**
 * Gradients of training-mode batch norm over contiguous float32 [N, C, S]: gx (when `needInput`),
 * gw, gb and, with `y` (a fused ReLU's output) and `wantMasked`, the masked upstream gradient gm.
 * Null without WebAssembly.
 */
export function wasmBatchNormBackward(
  g: Float32Array,
  go: number,
  x: Float32Array,
  xo: number,
  N: number,
  C: number,
  S: number,
  mean: Float32Array,
  invstd: Float32Array,
  w: Float32Array | null,
  y: Float32Array | null,
  yo: number,
  needInput: boolean,
  wantMasked = true,
  twoPass = false,
): { gx: Float32Array | null; gw: Float32Array; gb: Float32Array; gm: Float32Array | null } | null {
  return withFrame((f, k) => {
    const n = N * C * S;
    // g, x, y and mean read in place; three gx coefficients (f32) and the two sums (f64) in scratch.
    const gp = f.input(g, go, n);
    const xp = f.input(x, xo, n);
    const yp = y ? f.input(y, yo, n) : 0;
    const mp = f.input(mean, 0, C);
    if (byChannel(S, twoPass)) {
      const ip = f.input(invstd, 0, C);
      const wp = w ? f.input(w, 0, C) : 0;
      // coef: gw, gb and the three gx coefficients, C floats each.
      const [cp, sp] = f.region([5 * C, 4 * C]);
      const gx = needInput ? f.output(n) : null;
      const gm = y && wantMasked ? f.output(n) : null;
      parallelCalls(
        k,
        'bnBackwardChannels',
        blockRanges(C, 3 * n).map(([c0, c1]) => [
          gp,
          xp,
          yp,
          N,
          C,
          S,
          c0,
          c1,
          mp,
          ip,
          wp,
          sp,
          cp,
          gx ? gx.ptr : 0,
          gm ? gm.ptr : 0,
        ]),
      );
      const gw = f.heap.float32(C);
      const gb = f.heap.float32(C);
      const coef = f.heap.f32().subarray(cp / 4, cp / 4 + 2 * C);
      gw.set(coef.subarray(0, C));
      gb.set(coef.subarray(C));
      return { gx: gx && f.result(gx, n), gw, gb, gm: gm && f.result(gm, n) };
    }
    const [kap, kbp, k0p, sp] = f.region([C, C, C, 4 * C]);
    parallelCalls(
      k,
      'bnGradSums',
      blockRanges(C, n).map(([c0, c1]) => [gp, xp, yp, N, C, S, c0, c1, mp, sp]),
    );
    const sums = f64s(k, sp, 2 * C);
    const gw = f.heap.float32(C);
    const gb = f.heap.float32(C);
    const ka = new Float32Array(C);
    const kb = new Float32Array(C);
    const k0 = new Float32Array(C);
    const count = N * S;
    for (let c = 0; c < C; c++) {
      const is = invstd[c];
      const sg = sums[2 * c];
      const sgxhat = sums[2 * c + 1] * is;
      gb[c] = sg;
      gw[c] = sgxhat;
      // gx = kk * (g - mean(g) - (x - m) * is * mean(g * xhat)) = g * kk - x * cx - (kk * mean(g) - m * cx)
      const kk = (w ? w[c] : 1) * is;
      const cx = (kk * is * sgxhat) / count;
      ka[c] = kk;
      kb[c] = -cx;
      k0[c] = -(kk * (sg / count) - mean[c] * cx);
    }
    const gx = needInput ? f.output(n) : null;
    const gm = y && wantMasked ? f.output(n) : null;
    if (gx || gm) {
      const h = f.heap.f32();
      h.set(ka, kap / 4);
      h.set(kb, kbp / 4);
      h.set(k0, k0p / 4);
      parallelCalls(
        k,
        'bnGradInput',
        blockRanges(N * C, n).map(([p0, p1]) => [
          gp,
          xp,
          yp,
          C,
          S,
          p0,
          p1,
          kap,
          kbp,
          k0p,
          gx ? gx.ptr : 0,
          gm ? gm.ptr : 0,
        ]),
      );
    }
    return {
      gx: gx && f.result(gx, n),
      gw,
      gb,
      gm: gm && f.result(gm, n),
    };
  });
}
