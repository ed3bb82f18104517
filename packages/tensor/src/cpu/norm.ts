// Fused training-mode batch norm and ReLU-gradient loops for the CPU backend. Operands are contiguous
// [N, C, S] (S: the flattened spatial dims); statistics accumulate in float64, as PyTorch's CPU
// kernel does for float32. Each function makes the fewest passes the math allows.

import type { AdamStepOptions } from '../backend.js';

type F = Float32Array | Float64Array;

/** [N, C, S] of a batch-norm operand [N, C, ...]: S is the product of the spatial dims (1 for [N, C]). */
export function batchDims(shape: readonly number[]): [number, number, number] {
  return [shape[0], shape[1], shape.slice(2).reduce((a, b) => a * b, 1)];
}

/**
 * Per channel: mean, biased variance and invstd = 1/sqrt(var + eps) over (N, S) (two passes, the
 * second centred), then out = (x - mean) * invstd * w + b (+ residual, then ReLU when asked) in a
 * third pass.
 */
export function batchNormForwardLoop(
  x: F,
  xo: number,
  N: number,
  C: number,
  S: number,
  w: F | null,
  wo: number,
  b: F | null,
  bo: number,
  eps: number,
  r: F | null,
  ro: number,
  relu: boolean,
  out: F,
  mean: F,
  variance: F,
  invstd: F,
): void {
  const n = N * S;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let i = 0; i < N; i++) {
      const p = xo + (i * C + c) * S;
      for (let s = 0; s < S; s++) sum += x[p + s];
    }
    const m = sum / n;
    let sq = 0;
    for (let i = 0; i < N; i++) {
      const p = xo + (i * C + c) * S;
      for (let s = 0; s < S; s++) {
        const d = x[p + s] - m;
        sq += d * d;
      }
    }
    const v = sq / n;
    const is = 1 / Math.sqrt(v + eps);
    mean[c] = m;
    variance[c] = v;
    invstd[c] = is;
    const a = w ? w[wo + c] * is : is;
    const shift = (b ? b[bo + c] : 0) - m * a;
    for (let i = 0; i < N; i++) {
      const p = xo + (i * C + c) * S;
      const q = (i * C + c) * S;
      if (r) {
        const u = ro + q;
        if (relu)
          for (let s = 0; s < S; s++) {
            const v = x[p + s] * a + shift + r[u + s];
            out[q + s] = v > 0 || v !== v ? v : 0;
          }
        else for (let s = 0; s < S; s++) out[q + s] = x[p + s] * a + shift + r[u + s];
      } else if (relu) {
        for (let s = 0; s < S; s++) {
          const v = x[p + s] * a + shift;
          out[q + s] = v > 0 || v !== v ? v : 0;
        }
      } else for (let s = 0; s < S; s++) out[q + s] = x[p + s] * a + shift;
    }
  }
}

/**
 * Gradients of batch norm in training mode: gb = sum(g), gw = sum(g * xhat) and, when `gx` is given,
 * gx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)), with xhat = (x - mean) * invstd recomputed.
 * With `y` (the output of a fused ReLU), g is first masked as ReLU's backward does (0 where y <= 0)
 * and the masked gradient is written to `gm` (the residual's gradient).
 */
export function batchNormBackwardLoop(
  g: F,
  go: number,
  x: F,
  xo: number,
  N: number,
  C: number,
  S: number,
  mean: F,
  invstd: F,
  w: F | null,
  wo: number,
  y: F | null,
  yo: number,
  gm: F | null,
  gx: F | null,
  gw: F,
  gb: F,
): void {
  const n = N * S;
  if (y && gm) {
    for (let i = 0; i < N * C * S; i++) gm[i] = y[yo + i] <= 0 ? 0 : g[go + i];
    g = gm;
    go = 0;
  }
  for (let c = 0; c < C; c++) {
    const m = mean[c];
    const is = invstd[c];
    let sg = 0;
    let sgx = 0;
    for (let i = 0; i < N; i++) {
      const p = xo + (i * C + c) * S;
      const q = go + (i * C + c) * S;
      for (let s = 0; s < S; s++) {
        const gv = g[q + s];
        sg += gv;
        sgx += gv * (x[p + s] - m);
      }
    }
    const sgxhat = sgx * is;
    gb[c] = sg;
    gw[c] = sgxhat;
    if (!gx) continue;
    const k = (w ? w[wo + c] : 1) * is;
    const mg = sg / n;
    // k * (g - mg - (x - m) * is * sgxhat / n) = k*g - k*mg - (x - m) * k * is * sgxhat / n
    const cx = (k * is * sgxhat) / n;
    const c0 = k * mg - m * cx;
    for (let i = 0; i < N; i++) {
      const p = xo + (i * C + c) * S;
      const q = go + (i * C + c) * S;
      const o = (i * C + c) * S;
      for (let s = 0; s < S; s++) gx[o + s] = k * g[q + s] - x[p + s] * cx - c0;
    }
  }
}

/** ReLU's gradient from its output, PyTorch's threshold_backward: 0 where out <= 0, else g (NaN out passes g). */
export function reluBackwardLoop(g: F, go: number, out: F, oo: number, n: number, gx: F): void {
  for (let i = 0; i < n; i++) gx[i] = out[oo + i] <= 0 ? 0 : g[go + i];
}

/**
 * One SGD step in place, PyTorch 1.13's single-tensor update per element: d = ±g + wd * p; with
 * momentum, buf = first ? d : momentum * buf + (1 - dampening) * d and d = nesterov ? d + momentum * buf
 * : buf; then p -= lr * d. Arithmetic in float64, rounded on store.
 */
export function sgdStepLoop(
  p: F,
  po: number,
  g: F,
  go: number,
  buf: F | null,
  bo: number,
  n: number,
  lr: number,
  momentum: number,
  dampening: number,
  nesterov: boolean,
  maximize: boolean,
  wd: number,
  first: boolean,
): void {
  const sign = maximize ? -1 : 1;
  if (!buf) {
    for (let i = 0; i < n; i++) p[po + i] -= lr * (sign * g[go + i] + wd * p[po + i]);
    return;
  }
  const keep = 1 - dampening;
  for (let i = 0; i < n; i++) {
    const x = p[po + i];
    const d = sign * g[go + i] + wd * x;
    const b = first ? d : momentum * buf[bo + i] + keep * d;
    buf[bo + i] = b;
    // Read back: the buffer's stored (rounded) value is what PyTorch's next op sees.
    const bs = buf[bo + i];
    p[po + i] = x - lr * (nesterov ? d + momentum * bs : bs);
  }
}

/** The float32 (`Math.fround`) or float64 (unchanged) rounding of one op's result. */
const roundTo = (single: boolean): ((x: number) => number) => (single ? Math.fround : (x) => x);

/**
 * One Adam/AdamW step in place, PyTorch 1.13's single-tensor update per element, each op rounded to
 * the operands' precision as the composed tensor ops round it (so float32 matches the SIMD kernel bit
 * for bit): g = ±g; AdamW p *= 1 - lr * wd, Adam g += wd * p; m = m * b1 + (1 - b1) * g; v = v * b2 +
 * (1 - b2) * g * g (addcmul); with AMSGrad vmax = max(vmax, v) is the second moment used; denom =
 * sqrt(v) / sqrt(1 - b2^t) + eps; p += (-stepSize * m) / denom (addcdiv). Scalars are rounded to the
 * operands' precision first, as PyTorch passes them to a float32 kernel.
 */
export function adamStepLoop(
  p: F,
  po: number,
  g: F,
  go: number,
  m: F,
  mo: number,
  v: F,
  vo: number,
  vmax: F | null,
  xo: number,
  n: number,
  o: AdamStepOptions,
): void {
  const r = roundTo(p instanceof Float32Array);
  const decay = r(1 - o.lr * o.weightDecay);
  const wd = r(o.weightDecay);
  const b1 = r(o.beta1);
  const c1 = r(1 - o.beta1);
  const b2 = r(o.beta2);
  const c2 = r(1 - o.beta2);
  const bc2 = r(o.biasCorrection2Sqrt);
  const eps = r(o.eps);
  const neg = r(-o.stepSize);
  const addWd = !o.decoupled && o.weightDecay !== 0;
  for (let i = 0; i < n; i++) {
    let x = p[po + i];
    let d = o.maximize ? -g[go + i] : g[go + i];
    if (o.decoupled) x = r(x * decay);
    else if (addWd) d = r(d + r(wd * x));
    const a = r(r(m[mo + i] * b1) + r(c1 * d));
    let s = r(r(v[vo + i] * b2) + r(r(c2 * d) * d));
    m[mo + i] = a;
    v[vo + i] = s;
    if (vmax) {
      s = Math.max(vmax[xo + i], s); // NaN from either side, as torch.maximum
      vmax[xo + i] = s;
    }
    const denom = r(r(r(Math.sqrt(s)) / bc2) + eps);
    p[po + i] = r(x + r(r(neg * a) / denom));
  }
}
