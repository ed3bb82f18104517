// Training-mode batch norm kernels (with the fused residual add and ReLU): one statistics pass and
// one output pass forward, one sums pass and one input-gradient pass backward, run as two pool jobs
// or, by bnForwardChannels and bnBackwardChannels, both for one channel before the next (its second
// sweep then reads from cache). Per-channel sums run over a channel range (a task never splits a
// channel, so the summation order, and the result, is the same for any number of threads) with four
// float64 accumulator pairs, which keeps the adds' latency off the critical path; elementwise passes
// run over a range of [C, S] planes.

import { promoteHigh } from './lanes';

@inline
function hsum(a: v128, b: v128, c: v128, d: v128): f64 {
  const t = f64x2.add(f64x2.add(a, b), f64x2.add(c, d));
  return f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
}

/**
 * Batch-norm statistics of channels [c0, c1) of a contiguous [N, C, S] block in one pass, in float64
 * around a shift k (the channel's first value, so that large means do not cancel): out[3c] = k,
 * out[3c + 1] = sum(x - k), out[3c + 2] = sum((x - k)^2).
 */
export function bnStats(x: usize, N: i32, C: i32, S: i32, c0: i32, c1: i32, out: usize): void {
  for (let c = c0; c < c1; c++) {
    const k = load<f32>(x + ((<usize>c * <usize>S) << 2));
    const vk = f32x4.splat(k);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let s2 = f64x2.splat(0);
    let s3 = f64x2.splat(0);
    let q0 = f64x2.splat(0);
    let q1 = f64x2.splat(0);
    let q2 = f64x2.splat(0);
    let q3 = f64x2.splat(0);
    let ts: f64 = 0;
    let tq: f64 = 0;
    for (let n = 0; n < N; n++) {
      const p = x + ((<usize>(n * C + c) * <usize>S) << 2);
      let s = 0;
      for (; s + 8 <= S; s += 8) {
        const o = p + (<usize>s << 2);
        const u = f32x4.sub(v128.load(o), vk);
        const v = f32x4.sub(v128.load(o, 16), vk);
        const a = f64x2.promote_low_f32x4(u);
        const b = promoteHigh(u);
        const c2 = f64x2.promote_low_f32x4(v);
        const d = promoteHigh(v);
        s0 = f64x2.add(s0, a);
        s1 = f64x2.add(s1, b);
        s2 = f64x2.add(s2, c2);
        s3 = f64x2.add(s3, d);
        q0 = f64x2.add(q0, f64x2.mul(a, a));
        q1 = f64x2.add(q1, f64x2.mul(b, b));
        q2 = f64x2.add(q2, f64x2.mul(c2, c2));
        q3 = f64x2.add(q3, f64x2.mul(d, d));
      }
      for (; s < S; s++) {
        const d = <f64>(load<f32>(p + (<usize>s << 2)) - k);
        ts += d;
        tq += d * d;
      }
    }
    const r = out + <usize>c * 24;
    store<f64>(r, <f64>k);
    store<f64>(r, hsum(s0, s1, s2, s3) + ts, 8);
    store<f64>(r, hsum(q0, q1, q2, q3) + tq, 16);
  }
}

/**
 * out = x * scale[c] + shift[c] (+ residual), then max(., 0) when `relu` (NaN stays NaN, as PyTorch's
 * relu), over planes [p0, p1) of a contiguous [N, C, S] block (plane p is channel p % C). `out` may be x.
 */
export function bnApply(
  x: usize, out: usize, C: i32, S: i32, p0: i32, p1: i32,
  scale: usize, shift: usize, residual: usize, relu: bool,
): void {
  const zero = f32x4.splat(0);
  if (S == 1) {
    bnApplyRows(x, out, C, p0, p1, scale, shift, residual, relu);
    return;
  }
  for (let pl = p0; pl < p1; pl++) {
    const c = pl % C;
    const a = load<f32>(scale + (<usize>c << 2));
    const b = load<f32>(shift + (<usize>c << 2));
    const va = f32x4.splat(a);
    const vb = f32x4.splat(b);
    const off = (<usize>pl * <usize>S) << 2;
    const px = x + off;
    const po = out + off;
    const pr = residual + off;
    let s = 0;
    if (residual) {
      for (; s + 4 <= S; s += 4) {
        const o = <usize>s << 2;
        let v = f32x4.add(f32x4.add(f32x4.mul(v128.load(px + o), va), vb), v128.load(pr + o));
        if (relu) v = v128.bitselect(v, zero, v128.or(f32x4.gt(v, zero), f32x4.ne(v, v)));
        v128.store(po + o, v);
      }
    } else {
      for (; s + 4 <= S; s += 4) {
        const o = <usize>s << 2;
        let v = f32x4.add(f32x4.mul(v128.load(px + o), va), vb);
        if (relu) v = v128.bitselect(v, zero, v128.or(f32x4.gt(v, zero), f32x4.ne(v, v)));
        v128.store(po + o, v);
      }
    }
    for (; s < S; s++) {
      const o = <usize>s << 2;
      let v = load<f32>(px + o) * a + b;
      if (residual) v += load<f32>(pr + o);
      if (relu) v = v > 0 || v != v ? v : 0;
      store<f32>(po + o, v);
    }
  }
}

/**
 * bnApply over 1x1 planes (S = 1): element p is channel p % C, so four neighbours in a row of C take
 * four consecutive scales and shifts, one vector each, instead of a plane's set-up per float. The
 * same float32 operations per element as the plane loop.
 */
function bnApplyRows(
  x: usize, out: usize, C: i32, p0: i32, p1: i32,
  scale: usize, shift: usize, residual: usize, relu: bool,
): void {
  const zero = f32x4.splat(0);
  let c = p0 % C;
  let p = p0;
  while (p < p1) {
    const o = <usize>p << 2;
    const sc = <usize>c << 2;
    if (p + 4 <= p1 && c + 4 <= C) {
      let v = f32x4.add(f32x4.mul(v128.load(x + o), v128.load(scale + sc)), v128.load(shift + sc));
      if (residual) v = f32x4.add(v, v128.load(residual + o));
      if (relu) v = v128.bitselect(v, zero, v128.or(f32x4.gt(v, zero), f32x4.ne(v, v)));
      v128.store(out + o, v);
      p += 4;
      c += 4;
    } else {
      let v = load<f32>(x + o) * load<f32>(scale + sc) + load<f32>(shift + sc);
      if (residual) v += load<f32>(residual + o);
      if (relu) v = v > 0 || v != v ? v : 0;
      store<f32>(out + o, v);
      p++;
      c++;
    }
    if (c == C) c = 0;
  }
}

/** g, with lanes where y <= 0 zeroed when y is given (ReLU's backward from its output). */
@inline
function masked(g: v128, y: usize, o: usize, has: bool): v128 {
  return has ? v128.andnot(g, f32x4.le(v128.load(y + o), f32x4.splat(0))) : g;
}

/**
 * Batch-norm backward sums of channels [c0, c1) of contiguous [N, C, S] blocks, in float64:
 * out[2c] = sum(g), out[2c + 1] = sum(g * (x - mean[c])), where g is first masked by y > 0 when y
 * is given (a fused ReLU's output). Reads only.
 */
export function bnGradSums(
  g: usize, x: usize, y: usize, N: i32, C: i32, S: i32, c0: i32, c1: i32, mean: usize, out: usize,
): void {
  const has = y != 0;
  for (let c = c0; c < c1; c++) {
    const m = load<f32>(mean + (<usize>c << 2));
    const vm = f32x4.splat(m);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let s2 = f64x2.splat(0);
    let s3 = f64x2.splat(0);
    let q0 = f64x2.splat(0);
    let q1 = f64x2.splat(0);
    let q2 = f64x2.splat(0);
    let q3 = f64x2.splat(0);
    let ts: f64 = 0;
    let tq: f64 = 0;
    for (let n = 0; n < N; n++) {
      const off = (<usize>(n * C + c) * <usize>S) << 2;
      let s = 0;
      for (; s + 8 <= S; s += 8) {
        const o = off + (<usize>s << 2);
        const u = masked(v128.load(g + o), y, o, has);
        const v = masked(v128.load(g + o, 16), y, o + 16, has);
        const du = f32x4.sub(v128.load(x + o), vm);
        const dv = f32x4.sub(v128.load(x + o, 16), vm);
        const a = f64x2.promote_low_f32x4(u);
        const b = promoteHigh(u);
        const c2 = f64x2.promote_low_f32x4(v);
        const d = promoteHigh(v);
        s0 = f64x2.add(s0, a);
        s1 = f64x2.add(s1, b);
        s2 = f64x2.add(s2, c2);
        s3 = f64x2.add(s3, d);
        q0 = f64x2.add(q0, f64x2.mul(a, f64x2.promote_low_f32x4(du)));
        q1 = f64x2.add(q1, f64x2.mul(b, promoteHigh(du)));
        q2 = f64x2.add(q2, f64x2.mul(c2, f64x2.promote_low_f32x4(dv)));
        q3 = f64x2.add(q3, f64x2.mul(d, promoteHigh(dv)));
      }
      for (; s < S; s++) {
        const o = off + (<usize>s << 2);
        let gv = load<f32>(g + o);
        if (has && load<f32>(y + o) <= 0) gv = 0;
        ts += <f64>gv;
        tq += <f64>gv * <f64>(load<f32>(x + o) - m);
      }
    }
    const r = out + (<usize>c << 4);
    store<f64>(r, hsum(s0, s1, s2, s3) + ts);
    store<f64>(r, hsum(q0, q1, q2, q3) + tq, 8);
  }
}

/**
 * Batch-norm input gradient over planes [p0, p1) of contiguous [N, C, S] blocks (plane p is channel
 * p % C): with gm = g masked by y > 0 (g itself when y is 0), gx = gm * ka[c] + x * kb[c] + k0[c]
 * where gx is not 0, and gm stored where `gmOut` is not 0.
 */
export function bnGradInput(
  g: usize, x: usize, y: usize, C: i32, S: i32, p0: i32, p1: i32,
  ka: usize, kb: usize, k0: usize, gx: usize, gmOut: usize,
): void {
  const has = y != 0;
  if (S == 1) {
    bnGradInputRows(g, x, y, C, p0, p1, ka, kb, k0, gx, gmOut);
    return;
  }
  for (let pl = p0; pl < p1; pl++) {
    const c = pl % C;
    const fa = load<f32>(ka + (<usize>c << 2));
    const fb = load<f32>(kb + (<usize>c << 2));
    const f0 = load<f32>(k0 + (<usize>c << 2));
    const va = f32x4.splat(fa);
    const vb = f32x4.splat(fb);
    const v0 = f32x4.splat(f0);
    const off = (<usize>pl * <usize>S) << 2;
    let s = 0;
    for (; s + 4 <= S; s += 4) {
      const o = off + (<usize>s << 2);
      const gv = masked(v128.load(g + o), y, o, has);
      if (gmOut) v128.store(gmOut + o, gv);
      if (gx) v128.store(gx + o, f32x4.add(f32x4.add(f32x4.mul(gv, va), f32x4.mul(v128.load(x + o), vb)), v0));
    }
    for (; s < S; s++) {
      const o = off + (<usize>s << 2);
      let gv = load<f32>(g + o);
      if (has && load<f32>(y + o) <= 0) gv = 0;
      if (gmOut) store<f32>(gmOut + o, gv);
      if (gx) store<f32>(gx + o, gv * fa + load<f32>(x + o) * fb + f0);
    }
  }
}

/** bnGradInput over 1x1 planes (S = 1), four channels of a row at a time (as bnApplyRows). */
function bnGradInputRows(
  g: usize, x: usize, y: usize, C: i32, p0: i32, p1: i32,
  ka: usize, kb: usize, k0: usize, gx: usize, gmOut: usize,
): void {
  const has = y != 0;
  let c = p0 % C;
  let p = p0;
  while (p < p1) {
    const o = <usize>p << 2;
    const sc = <usize>c << 2;
    if (p + 4 <= p1 && c + 4 <= C) {
      const gv = masked(v128.load(g + o), y, o, has);
      if (gmOut) v128.store(gmOut + o, gv);
      if (gx) {
        const t = f32x4.add(f32x4.mul(gv, v128.load(ka + sc)), f32x4.mul(v128.load(x + o), v128.load(kb + sc)));
        v128.store(gx + o, f32x4.add(t, v128.load(k0 + sc)));
      }
      p += 4;
      c += 4;
    } else {
      let gv = load<f32>(g + o);
      if (has && load<f32>(y + o) <= 0) gv = 0;
      if (gmOut) store<f32>(gmOut + o, gv);
      if (gx) store<f32>(gx + o, gv * load<f32>(ka + sc) + load<f32>(x + o) * load<f32>(kb + sc) + load<f32>(k0 + sc));
      p++;
      c++;
    }
    if (c == C) c = 0;
  }
}

/**
 * Training-mode batch norm of channels [c0, c1), one channel at a time: its statistics (bnStats),
 * its scale and shift, then its N planes (bnApply) while they are still in cache, so x is read from
 * memory once instead of twice. Per channel c: st[3c..3c+2] gets bnStats' shift and sums,
 * scale[c] and shift[c] the affine map, and stats[c], stats[C + c], stats[2C + c] the mean, biased
 * variance and 1 / sqrt(variance + eps) (float32). The same operations, in the same order, as the
 * two passes with the map computed in between (norm.ts in src), so the results are the same bits.
 * w and b may be 0 (no affine).
 */
export function bnForwardChannels(
  x: usize, out: usize, residual: usize, N: i32, C: i32, S: i32, c0: i32, c1: i32,
  w: usize, b: usize, eps: f64, relu: bool, st: usize, scale: usize, shift: usize, stats: usize,
): void {
  const count = <f64>N * <f64>S;
  for (let c = c0; c < c1; c++) {
    bnStats(x, N, C, S, c, c + 1, st);
    const r = st + <usize>c * 24;
    const d = load<f64>(r, 8) / count;
    const m = load<f64>(r) + d;
    const v = max<f64>(0, load<f64>(r, 16) / count - d * d);
    const is = 1 / sqrt<f64>(v + eps);
    const o = <usize>c << 2;
    store<f32>(stats + o, <f32>m);
    store<f32>(stats + (<usize>C << 2) + o, <f32>v);
    store<f32>(stats + (<usize>C << 3) + o, <f32>is);
    const a = w ? <f64>load<f32>(w + o) * is : is;
    store<f32>(scale + o, <f32>a);
    store<f32>(shift + o, <f32>((b ? <f64>load<f32>(b + o) : 0) - m * a));
    for (let n = 0; n < N; n++) {
      const p = n * C + c;
      bnApply(x, out, C, S, p, p + 1, scale, shift, residual, relu);
    }
  }
}

/**
 * Batch-norm backward of channels [c0, c1), one channel at a time: its two sums (bnGradSums), its
 * weight and bias gradients and input-gradient coefficients, then its N planes (bnGradInput) while
 * g, x and y are still in cache. sums gets bnGradSums' output; gw[c], gb[c], ka[c], kb[c], k0[c]
 * the float32 results. The same operations, in the same order, as the two passes with the
 * coefficients computed in between (norm.ts in src). w may be 0; gx and gm are 0 when not wanted.
 */
export function bnBackwardChannels(
  g: usize, x: usize, y: usize, N: i32, C: i32, S: i32, c0: i32, c1: i32,
  mean: usize, invstd: usize, w: usize, sums: usize, coef: usize, gx: usize, gm: usize,
): void {
  const count = <f64>N * <f64>S;
  // coef: [gw, gb, ka, kb, k0], C floats each.
  const gwp = coef;
  const gbp = coef + (<usize>C << 2);
  const ka = coef + (<usize>C << 3);
  const kb = ka + (<usize>C << 2);
  const k0 = kb + (<usize>C << 2);
  for (let c = c0; c < c1; c++) {
    bnGradSums(g, x, y, N, C, S, c, c + 1, mean, sums);
    const o = <usize>c << 2;
    const is = <f64>load<f32>(invstd + o);
    const sg = load<f64>(sums + (<usize>c << 4));
    const sgxhat = load<f64>(sums + (<usize>c << 4), 8) * is;
    store<f32>(gbp + o, <f32>sg);
    store<f32>(gwp + o, <f32>sgxhat);
    const kk = (w ? <f64>load<f32>(w + o) : 1) * is;
    const cx = (kk * is * sgxhat) / count;
    store<f32>(ka + o, <f32>kk);
    store<f32>(kb + o, <f32>-cx);
    store<f32>(k0 + o, <f32>-(kk * (sg / count) - <f64>load<f32>(mean + o) * cx));
    if (gx || gm) {
      for (let n = 0; n < N; n++) {
        const p = n * C + c;
        bnGradInput(g, x, y, C, S, p, p + 1, ka, kb, k0, gx, gm);
      }
    }
  }
}
