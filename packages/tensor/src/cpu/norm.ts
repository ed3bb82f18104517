// Fused training-mode batch norm and ReLU-gradient loops for the CPU backend. Operands are contiguous
// [N, C, S] (S: the flattened spatial dims); statistics accumulate in float64, as PyTorch's CPU
// kernel does for float32. Each function makes the fewest passes the math allows.

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
