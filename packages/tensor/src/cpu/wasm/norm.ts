// Training-mode batch norm (with an optional fused residual add and ReLU) in WebAssembly SIMD: the
// per-channel sums accumulate in float64 lanes and every pass runs on the thread pool, split by
// channel or by image. Plain JavaScript loops spend ~4 ns per element per pass here; these ~0.5.

import type { SgdStepOptions } from '../../backend.js';
import { withFrame } from './heap.js';
import type { wasmKernels } from './kernels.js';
import { getNumThreads, parallelCalls } from './threads.js';

type K = NonNullable<ReturnType<typeof wasmKernels>>;

/** Channel-range tasks [c0, c1) for the per-channel kernels: a few per thread. */
function channelRanges(C: number): [number, number][] {
  const step = Math.max(1, Math.ceil(C / (4 * getNumThreads())));
  const out: [number, number][] = [];
  for (let c = 0; c < C; c += step) out.push([c, Math.min(C, c + step)]);
  return out;
}

/** Per-image tasks for the kernels that walk [N, C, S] blocks: (pointer offsets by image). */
function imageTasks(N: number, perImage: number, build: (byteOff: number) => number[]): number[][] {
  return Array.from({ length: N }, (_, n) => build(n * perImage * 4));
}

function f64s(k: K, ptr: number, C: number): Float64Array {
  return new Float64Array(k.memory.buffer, ptr, C);
}

export interface WasmBnForward {
  out: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  invstd: Float32Array;
}

/** Statistics and output of training-mode batch norm over contiguous float32 [N, C, S]; null without WebAssembly. */
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
): WasmBnForward | null {
  return withFrame((f, k) => {
    const n = N * C * S;
    // out (x, normalised in place), mean, scale, shift (f32), sums (f64); x and the residual read in place.
    const o = f.outputCopy(x, xo, n);
    const xp = o.ptr;
    const rp = r ? f.input(r, ro, n) : 0;
    const [mp, sp, tp, fp] = f.region([C, C, C, 2 * C]);
    const ranges = channelRanges(C);
    parallelCalls(
      k,
      'chanSum',
      ranges.map(([c0, c1]) => [xp, N, C, S, c0, c1, 0, fp]),
    );
    const count = N * S;
    const mean = f.heap.float32(C);
    const sums = f64s(k, fp, C);
    for (let c = 0; c < C; c++) mean[c] = sums[c] / count;
    f.heap.f32().set(mean, mp / 4);
    parallelCalls(
      k,
      'chanSum',
      ranges.map(([c0, c1]) => [xp, N, C, S, c0, c1, mp, fp]),
    );
    const sq = f64s(k, fp, C);
    const variance = f.heap.float32(C);
    const invstd = f.heap.float32(C);
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const v = sq[c] / count;
      const is = 1 / Math.sqrt(v + eps);
      variance[c] = v;
      invstd[c] = is;
      const a = w ? w[c] * is : is;
      scale[c] = a;
      shift[c] = (b ? b[c] : 0) - mean[c] * a;
    }
    const h = f.heap.f32();
    h.set(scale, sp / 4);
    h.set(shift, tp / 4);
    parallelCalls(
      k,
      'epilogue',
      imageTasks(N, C * S, (o) => [xp + o, 1, C, S, sp, tp, r ? rp + o : 0, relu ? 1 : 0]),
    );
    return { out: f.result(o, n), mean, variance, invstd };
  });
}

/**
 * Gradients of training-mode batch norm over contiguous float32 [N, C, S]: gx (when `needInput`),
 * gw, gb and, with `y` (a fused ReLU's output), the masked upstream gradient gm. Null without WebAssembly.
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
): { gx: Float32Array | null; gw: Float32Array; gb: Float32Array; gm: Float32Array | null } | null {
  return withFrame((f, k) => {
    const n = N * C * S;
    // g (masked in place when y is given: then it is the gm output), x, y and mean read in place, three
    // gx coefficients (f32), two sums (f64).
    const gm = y ? f.outputCopy(g, go, n) : null;
    const gp = gm ? gm.ptr : f.input(g, go, n);
    const xp = f.input(x, xo, n);
    const yp = y ? f.input(y, yo, n) : 0;
    const mp = f.input(mean, 0, C);
    const [kap, kbp, k0p, sgp, sxp] = f.region([C, C, C, 2 * C, 2 * C]);
    parallelCalls(
      k,
      'chanGradSum',
      channelRanges(C).map(([c0, c1]) => [gp, xp, y ? yp : 0, N, C, S, c0, c1, mp, sgp, sxp]),
    );
    const sg = f64s(k, sgp, C);
    const sgx = f64s(k, sxp, C);
    const gw = f.heap.float32(C);
    const gb = f.heap.float32(C);
    const ka = new Float32Array(C);
    const kb = new Float32Array(C);
    const k0 = new Float32Array(C);
    const count = N * S;
    for (let c = 0; c < C; c++) {
      const is = invstd[c];
      const sgxhat = sgx[c] * is;
      gb[c] = sg[c];
      gw[c] = sgxhat;
      // gx = kk * (g - mean(g) - (x - m) * is * mean(g * xhat)) = g * kk - x * cx - (kk * mean(g) - m * cx)
      const kk = (w ? w[c] : 1) * is;
      const cx = (kk * is * sgxhat) / count;
      ka[c] = kk;
      kb[c] = -cx;
      k0[c] = -(kk * (sg[c] / count) - mean[c] * cx);
    }
    const h = f.heap.f32();
    let gx: Float32Array | null = null;
    if (needInput) {
      h.set(ka, kap / 4);
      h.set(kb, kbp / 4);
      h.set(k0, k0p / 4);
      const out = f.output(n);
      parallelCalls(
        k,
        'chanAffine2',
        imageTasks(N, C * S, (o) => [gp + o, xp + o, 1, C, S, kap, kbp, k0p, out.ptr + o]),
      );
      gx = f.result(out, n);
    }
    return { gx, gw, gb, gm: gm && wantMasked ? f.result(gm, n) : null };
  });
}

/**
 * One SGD step in place over `n` float32s at heap byte addresses p (parameter), g (gradient) and buf
 * (momentum buffer, 0 for none), in SIMD on the pool: chunks of at least 64 KiB, a few per thread.
 */
export function wasmSgdStep(k: K, p: number, g: number, buf: number, n: number, o: SgdStepOptions): void {
  const chunk = Math.max(1 << 14, Math.ceil(n / (4 * getNumThreads()) / 16) * 16);
  const tasks: number[][] = [];
  for (let i0 = 0; i0 < n; i0 += chunk) {
    tasks.push([
      p,
      g,
      buf,
      i0,
      Math.min(n, i0 + chunk),
      o.lr,
      o.momentum,
      o.dampening,
      o.nesterov ? 1 : 0,
      o.maximize ? 1 : 0,
      o.weightDecay,
      o.first ? 1 : 0,
    ]);
  }
  parallelCalls(k, 'sgdStep', tasks);
}
