// Fused optimizer-update loops for the CPU reference backend: one pass per parameter, PyTorch 1.13's
// single-tensor formulas. The Adam loop rounds op by op as the WebAssembly kernel (assembly/elementwise.ts)
// does, so they agree bit for bit; the SGD loop computes each step in float64 and rounds on store.

import type { AdamStepOptions } from '../backend.js';

type F = Float32Array | Float64Array;

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
