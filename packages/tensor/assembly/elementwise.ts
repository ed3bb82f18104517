// Elementwise float32 kernels over a range [i0, i1) of contiguous operands (the pool splits ranges).

/** out = relu(x) over [i0, i1): max(x, 0) with NaN kept (PyTorch's relu). `out` may be x. */
export function reluF32(x: usize, out: usize, i0: i32, i1: i32): void {
  const zero = f32x4.splat(0);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, v128.bitselect(v, zero, v128.or(f32x4.gt(v, zero), f32x4.ne(v, v))));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v > 0 || v != v ? v : 0);
  }
}

/** gx = y <= 0 ? 0 : g over [i0, i1) (ReLU's backward from its output y; a NaN y passes g). */
export function reluBackwardF32(g: usize, y: usize, out: usize, i0: i32, i1: i32): void {
  const zero = f32x4.splat(0);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, v128.andnot(v128.load(g + o), f32x4.le(v128.load(y + o), zero)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(y + o) <= 0 ? 0 : load<f32>(g + o));
  }
}

/**
 * One Adam/AdamW step over floats [i0, i1), in float32 op by op as PyTorch 1.13's single-tensor Adam
 * (each op rounded, no fused multiply-add; cpu/optim.ts adamStepLoop is the same arithmetic):
 * g = ±g; decoupled: p *= decay, else with `addWd`: g += wd * p; m = m * b1 + c1 * g;
 * v = v * b2 + (c2 * g) * g; `vmax` (AMSGrad, 0 for none) = max(vmax, v), NaN kept, and is the second
 * moment used; p += (neg * m) / (sqrt(v) / bc2 + eps).
 */
export function adamStep(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, i0: i32, i1: i32,
  decay: f32, wd: f32, b1: f32, c1: f32, b2: f32, c2: f32, bc2: f32, eps: f32, neg: f32, flags: i32,
): void {
  const maximize = (flags & 1) != 0;
  const decoupled = (flags & 2) != 0;
  const addWd = (flags & 4) != 0;
  const vdecay = f32x4.splat(decay);
  const vwd = f32x4.splat(wd);
  const vb1 = f32x4.splat(b1);
  const vc1 = f32x4.splat(c1);
  const vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(c2);
  const vbc2 = f32x4.splat(bc2);
  const veps = f32x4.splat(eps);
  const vneg = f32x4.splat(neg);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    let x = v128.load(p + o);
    let d = v128.load(g + o);
    if (maximize) d = f32x4.neg(d);
    if (decoupled) x = f32x4.mul(x, vdecay);
    else if (addWd) d = f32x4.add(d, f32x4.mul(vwd, x));
    const a = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(vc1, d));
    let s = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(vc2, d), d));
    v128.store(m + o, a);
    v128.store(v + o, s);
    if (vmax) {
      s = f32x4.max(v128.load(vmax + o), s);
      v128.store(vmax + o, s);
    }
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(s), vbc2), veps);
    v128.store(p + o, f32x4.add(x, f32x4.div(f32x4.mul(vneg, a), denom)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    let x = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (maximize) d = -d;
    if (decoupled) x = x * decay;
    else if (addWd) d = d + wd * x;
    const a: f32 = load<f32>(m + o) * b1 + c1 * d;
    let s: f32 = load<f32>(v + o) * b2 + c2 * d * d;
    store<f32>(m + o, a);
    store<f32>(v + o, s);
    if (vmax) {
      s = max<f32>(load<f32>(vmax + o), s);
      store<f32>(vmax + o, s);
    }
    store<f32>(p + o, x + (neg * a) / (sqrt<f32>(s) / bc2 + eps));
  }
}

/** f64x2 of lanes 2 and 3 of the f32x4 `v`. */
@inline
function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

/** The four float64 lanes of `lo` and `hi` rounded to one f32x4. */
@inline
function narrow(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * Reduction of float32 x viewed as [A, R1, K, R2] over r1 and r2, for outputs (a, k) with a in
 * [a0, a1) and k in [k0, k1), written to out[a * K + k]: float32, or float64 when `wide` (sums only).
 * op 0: sum, accumulated in float64 (columns, R2 == 1: in r1 order, as a sequential loop; rows: four
 * lanes, then added in lane order); 1: max, 2: min (NaN wins, as torch.max).
 */
export function reduceF32(
  op: i32, x: usize, R1: i32, K: i32, R2: i32, a0: i32, a1: i32, k0: i32, k1: i32, out: usize, wide: bool,
): void {
  const block = <usize>R1 * <usize>K * <usize>R2;
  for (let a = a0; a < a1; a++) {
    const xa = x + ((<usize>a * block) << 2);
    const oa = <usize>a * <usize>K;
    if (R2 == 1) {
      // Columns: sixteen, then four outputs side by side (independent chains), rows r1 in order.
      let k = k0;
      for (; k + 16 <= k1; k += 16) {
        const col = xa + (<usize>k << 2);
        const row = <usize>K << 2;
        if (op == 0) {
          let s0 = f64x2.splat(0);
          let s1 = f64x2.splat(0);
          let s2 = f64x2.splat(0);
          let s3 = f64x2.splat(0);
          let s4 = f64x2.splat(0);
          let s5 = f64x2.splat(0);
          let s6 = f64x2.splat(0);
          let s7 = f64x2.splat(0);
          for (let r = 0; r < R1; r++) {
            const p = col + <usize>r * row;
            const v0 = v128.load(p);
            const v1 = v128.load(p, 16);
            const v2 = v128.load(p, 32);
            const v3 = v128.load(p, 48);
            s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v0));
            s1 = f64x2.add(s1, promoteHigh(v0));
            s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v1));
            s3 = f64x2.add(s3, promoteHigh(v1));
            s4 = f64x2.add(s4, f64x2.promote_low_f32x4(v2));
            s5 = f64x2.add(s5, promoteHigh(v2));
            s6 = f64x2.add(s6, f64x2.promote_low_f32x4(v3));
            s7 = f64x2.add(s7, promoteHigh(v3));
          }
          if (wide) {
            const o = out + ((oa + <usize>k) << 3);
            v128.store(o, s0);
            v128.store(o, s1, 16);
            v128.store(o, s2, 32);
            v128.store(o, s3, 48);
            v128.store(o, s4, 64);
            v128.store(o, s5, 80);
            v128.store(o, s6, 96);
            v128.store(o, s7, 112);
          } else {
            const o = out + ((oa + <usize>k) << 2);
            v128.store(o, narrow(s0, s1));
            v128.store(o, narrow(s2, s3), 16);
            v128.store(o, narrow(s4, s5), 32);
            v128.store(o, narrow(s6, s7), 48);
          }
        } else {
          let m0 = v128.load(col);
          let m1 = v128.load(col, 16);
          let m2 = v128.load(col, 32);
          let m3 = v128.load(col, 48);
          for (let r = 1; r < R1; r++) {
            const p = col + <usize>r * row;
            if (op == 1) {
              m0 = f32x4.max(m0, v128.load(p));
              m1 = f32x4.max(m1, v128.load(p, 16));
              m2 = f32x4.max(m2, v128.load(p, 32));
              m3 = f32x4.max(m3, v128.load(p, 48));
            } else {
              m0 = f32x4.min(m0, v128.load(p));
              m1 = f32x4.min(m1, v128.load(p, 16));
              m2 = f32x4.min(m2, v128.load(p, 32));
              m3 = f32x4.min(m3, v128.load(p, 48));
            }
          }
          const o = out + ((oa + <usize>k) << 2);
          v128.store(o, m0);
          v128.store(o, m1, 16);
          v128.store(o, m2, 32);
          v128.store(o, m3, 48);
        }
      }
      for (; k + 4 <= k1; k += 4) {
        const col = xa + (<usize>k << 2);
        const row = <usize>K << 2;
        if (op == 0) {
          let lo = f64x2.splat(0);
          let hi = f64x2.splat(0);
          for (let r = 0; r < R1; r++) {
            const v = v128.load(col + <usize>r * row);
            lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
            hi = f64x2.add(hi, promoteHigh(v));
          }
          if (wide) {
            v128.store(out + ((oa + <usize>k) << 3), lo);
            v128.store(out + ((oa + <usize>k) << 3), hi, 16);
          } else {
            v128.store(out + ((oa + <usize>k) << 2), narrow(lo, hi));
          }
        } else {
          let m = v128.load(col);
          for (let r = 1; r < R1; r++) {
            const v = v128.load(col + <usize>r * row);
            m = op == 1 ? f32x4.max(m, v) : f32x4.min(m, v);
          }
          v128.store(out + ((oa + <usize>k) << 2), m);
        }
      }
      for (; k < k1; k++) {
        const col = xa + (<usize>k << 2);
        const row = <usize>K << 2;
        if (op == 0) {
          let s: f64 = 0;
          for (let r = 0; r < R1; r++) s += <f64>load<f32>(col + <usize>r * row);
          if (wide) store<f64>(out + ((oa + <usize>k) << 3), s);
          else store<f32>(out + ((oa + <usize>k) << 2), <f32>s);
        } else {
          let m = load<f32>(col);
          for (let r = 1; r < R1; r++) {
            const v = load<f32>(col + <usize>r * row);
            m = op == 1 ? max<f32>(m, v) : min<f32>(m, v);
          }
          store<f32>(out + ((oa + <usize>k) << 2), m);
        }
      }
      continue;
    }
    // Rows: each output reduces R1 runs of R2 contiguous floats.
    for (let k = k0; k < k1; k++) {
      if (op == 0) {
        let l0 = f64x2.splat(0);
        let l1 = f64x2.splat(0);
        let t: f64 = 0;
        for (let r = 0; r < R1; r++) {
          const p = xa + ((<usize>(r * K + k) * <usize>R2) << 2);
          let j = 0;
          for (; j + 4 <= R2; j += 4) {
            const v = v128.load(p + (<usize>j << 2));
            l0 = f64x2.add(l0, f64x2.promote_low_f32x4(v));
            l1 = f64x2.add(l1, promoteHigh(v));
          }
          for (; j < R2; j++) t += <f64>load<f32>(p + (<usize>j << 2));
        }
        const s =
          f64x2.extract_lane(l0, 0) + f64x2.extract_lane(l0, 1) + f64x2.extract_lane(l1, 0) + f64x2.extract_lane(l1, 1) + t;
        if (wide) store<f64>(out + ((oa + <usize>k) << 3), s);
        else store<f32>(out + ((oa + <usize>k) << 2), <f32>s);
      } else {
        const first = load<f32>(xa + ((<usize>k * <usize>R2) << 2));
        let m = f32x4.splat(first);
        let t = first;
        for (let r = 0; r < R1; r++) {
          const p = xa + ((<usize>(r * K + k) * <usize>R2) << 2);
          let j = 0;
          for (; j + 4 <= R2; j += 4) {
            const v = v128.load(p + (<usize>j << 2));
            m = op == 1 ? f32x4.max(m, v) : f32x4.min(m, v);
          }
          for (; j < R2; j++) {
            const v = load<f32>(p + (<usize>j << 2));
            t = op == 1 ? max<f32>(t, v) : min<f32>(t, v);
          }
        }
        for (let l = 0; l < 4; l++) {
          const v = f32x4.extract_lane(m, 0);
          t = op == 1 ? max<f32>(t, v) : min<f32>(t, v);
          m = i32x4.shuffle(m, m, 1, 2, 3, 0);
        }
        store<f32>(out + ((oa + <usize>k) << 2), t);
      }
    }
  }
}

// ---- unary float32 ops ----
// Codes (cpu/wasm/elementwise.ts UNARY_CODES): 0 neg, 1 abs, 2 square, 3 sqrt, 4 reciprocal, 5 floor,
// 6 ceil, 7 round (half to even), 8 sign, 9 rsqrt, 10 exp, 11 log, 12 sigmoid, 13 tanh, 14 geluTanh,
// 15 erf, 16 gelu. 0-8 are one float32 op: the same bits as the reference loops (float64 arithmetic
// rounded once gives the correctly rounded float32 result for each). 9-16 are computed in float64 and rounded once, as
// those loops do, with exp, log and tanh good to about 1e-16: their float32 results equal the loops'
// except where a value sits within that of a rounding midpoint.

/** k = nearest(y / ln 2) of float64 lanes: Cody-Waite's reduction multiple. */
@inline
function ln2Multiple(y: v128): v128 {
  return f64x2.nearest(f64x2.mul(y, f64x2.splat(1.4426950408889634)));
}

/** e^r - 1 for r = y - k ln2 (|r| <= ln2 / 2; ln2 in two parts): r (1 + r/2 + ... + r^12/13!). */
@inline
function expm1Reduced(y: v128, k: v128): v128 {
  const r = f64x2.sub(
    f64x2.sub(y, f64x2.mul(k, f64x2.splat(6.93147180369123816490e-1))),
    f64x2.mul(k, f64x2.splat(1.90821492927058770002e-10)),
  );
  let p = f64x2.splat(1.0 / 6227020800.0);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 479001600.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 39916800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 3628800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 362880.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 40320.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 5040.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 720.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 120.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 24.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  return f64x2.mul(p, r);
}

/** 2^k of float64 lanes holding integers |k| <= 1022, from the exponent bits (a NaN k gives 1). */
@inline
function pow2(k: v128): v128 {
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  return i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52);
}

/** e^x of float64 lanes: x = k ln2 + r, (e^r - 1) + 1 by Taylor to r^13, times 2^k. */
@inline
function expF64(x: v128): v128 {
  const c = f64x2.min(f64x2.max(x, f64x2.splat(-200)), f64x2.splat(200)); // f32 results are 0 / inf past these; NaN stays
  const k = ln2Multiple(c);
  return f64x2.mul(f64x2.add(expm1Reduced(c, k), f64x2.splat(1)), pow2(k));
}

/** ln x of float64 lanes: x = m 2^e (m in [sqrt(1/2), sqrt(2))), ln m = 2 atanh((m - 1) / (m + 1)). */
@inline
function logF64(x: v128): v128 {
  const bits = x;
  const ebits = i64x2.shr_u(bits, 52);
  let m = v128.or(v128.and(bits, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  let e = f64x2.convert_low_i32x4_s(i32x4.shuffle(ebits, ebits, 0, 2, 0, 2));
  e = f64x2.sub(e, f64x2.splat(1023));
  const big = f64x2.gt(m, f64x2.splat(1.4142135623730951));
  m = v128.bitselect(f64x2.mul(m, f64x2.splat(0.5)), m, big);
  e = v128.bitselect(f64x2.add(e, f64x2.splat(1)), e, big);
  const s = f64x2.div(f64x2.sub(m, f64x2.splat(1)), f64x2.add(m, f64x2.splat(1)));
  const z = f64x2.mul(s, s);
  let p = f64x2.splat(1.0 / 21.0);
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 19.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 17.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 15.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 13.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 11.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 9.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 7.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 5.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 3.0));
  // 2 s (1 + z p) = 2s + 2s z p, then e ln2 in two parts.
  const s2 = f64x2.add(s, s);
  const lm = f64x2.add(s2, f64x2.mul(f64x2.mul(s2, z), p));
  const r = f64x2.add(
    f64x2.mul(e, f64x2.splat(6.93147180369123816490e-1)),
    f64x2.add(f64x2.mul(e, f64x2.splat(1.90821492927058770002e-10)), lm),
  );
  // x < 0 or NaN: NaN; 0: -inf; +inf: +inf (the float32 inputs are never subnormal as float64).
  const zero = f64x2.splat(0);
  let out = v128.bitselect(f64x2.splat(-Infinity), r, f64x2.eq(x, zero));
  out = v128.bitselect(x, out, f64x2.eq(x, f64x2.splat(Infinity)));
  return v128.bitselect(f64x2.splat(NaN), out, v128.not(f64x2.ge(x, zero)));
}

/**
 * tanh of float64 lanes: u = e^(2|x|) - 1 (Taylor in r with no constant term when k = 0, so small |x|
 * keeps its relative accuracy; 2^k (u(r) + 1) - 1 otherwise), tanh = u / (u + 2) with x's sign.
 */
@inline
function tanhF64(x: v128): v128 {
  const y = f64x2.min(f64x2.abs(f64x2.add(x, x)), f64x2.splat(40)); // tanh(20) is 1 in float64; NaN stays
  const k = ln2Multiple(y);
  const q = expm1Reduced(y, k);
  const scale = pow2(k);
  const one = f64x2.splat(1);
  const big = f64x2.add(f64x2.mul(scale, q), f64x2.sub(scale, one)); // 2^k q + (2^k - 1), exact 2^k - 1
  const u = v128.bitselect(q, big, f64x2.eq(k, f64x2.splat(0)));
  const t = f64x2.div(u, f64x2.add(u, f64x2.splat(2)));
  const sign = i64x2.splat(0x8000000000000000);
  return v128.or(v128.andnot(t, sign), v128.and(x, sign));
}

/** a * b + c in float64 lanes (two roundings, as the reference's `a * b + c`). */
@inline
function mad(a: v128, b: v128, c: f64): v128 {
  return f64x2.add(f64x2.mul(a, b), f64x2.splat(c));
}

/**
 * erf of float64 lanes by W. J. Cody's rational approximations, the reference's (cpu/ops.ts erf) op for
 * op: |x| < 0.5 x p(x^2) / q(x^2); below 4 e^(-x^2) p(|x|) / q(|x|); beyond, e^(-x^2) / |x| times
 * (1/sqrt(pi) - z p(z) / q(z)), z = 1 / x^2; the two last give erfc, so erf = ±(1 - r). Every lane runs
 * the three and keeps its own.
 */
@inline
function erfF64(x: v128): v128 {
  const ax = f64x2.abs(x);
  const t = f64x2.mul(x, x);
  let p = mad(f64x2.splat(0.185777706184603153), t, 3.1611237438705656);
  p = mad(mad(mad(p, t, 113.864154151050156), t, 377.485237685302021), t, 3209.37758913846947);
  let q = f64x2.add(t, f64x2.splat(23.6012909523441209));
  q = mad(mad(mad(q, t, 244.024637934444173), t, 1282.61652607737228), t, 2844.23683343917062);
  const small = f64x2.div(f64x2.mul(x, p), q);
  const e = expF64(f64x2.neg(f64x2.mul(ax, ax)));
  let pm = mad(ax, f64x2.splat(2.15311535474403846e-8), 0.564188496988670089);
  pm = mad(mad(mad(pm, ax, 8.88314979438837594), ax, 66.1191906371416295), ax, 298.635138197400131);
  pm = mad(mad(mad(pm, ax, 881.95222124176909), ax, 1712.04761263407058), ax, 2051.07837782607147);
  pm = mad(pm, ax, 1230.33935479799725);
  let qm = f64x2.add(ax, f64x2.splat(15.7449261107098347));
  qm = mad(mad(mad(qm, ax, 117.693950891312499), ax, 537.181101862009858), ax, 1621.38957456669019);
  qm = mad(mad(mad(qm, ax, 3290.79923573345963), ax, 4362.61909014324716), ax, 3439.36767414372164);
  qm = mad(qm, ax, 1230.33935480374942);
  const mid = f64x2.div(f64x2.mul(e, pm), qm);
  const z = f64x2.div(f64x2.splat(1), f64x2.mul(ax, ax));
  let pl = mad(f64x2.splat(0.0163153871373020978), z, 0.305326634961232344);
  pl = mad(mad(mad(pl, z, 0.360344899949804439), z, 0.125781726111229246), z, 0.0160837851487422766);
  pl = mad(pl, z, 6.58749161529837803e-4);
  let ql = f64x2.add(z, f64x2.splat(2.56852019228982242));
  ql = mad(mad(mad(ql, z, 1.87295284992346725), z, 0.527905102951428412), z, 0.0605183413124413191);
  ql = mad(ql, z, 0.00233520497626869185);
  const large = f64x2.mul(
    f64x2.div(e, ax),
    f64x2.sub(f64x2.splat(0.564189583547755073), f64x2.div(f64x2.mul(z, pl), ql)),
  );
  const r = v128.bitselect(mid, large, f64x2.lt(ax, f64x2.splat(4)));
  const one = f64x2.splat(1);
  const tail = v128.bitselect(f64x2.sub(r, one), f64x2.sub(one, r), f64x2.lt(x, f64x2.splat(0)));
  return v128.bitselect(small, tail, f64x2.lt(ax, f64x2.splat(0.5)));
}

/** Unary op `op` (float64 codes 9-16) of float64 lanes. */
@inline
function unaryF64(op: i32, x: v128): v128 {
  const one = f64x2.splat(1);
  if (op == 9) return f64x2.div(one, f64x2.sqrt(x));
  if (op == 10) return expF64(x);
  if (op == 11) return logF64(x);
  if (op == 12) return f64x2.div(one, f64x2.add(one, expF64(f64x2.neg(x))));
  if (op == 13) return tanhF64(x);
  if (op == 15) return erfF64(x);
  if (op == 16) {
    // GELU: 0.5 x (1 + erf(x / sqrt(2))), in the reference's op order.
    const h = f64x2.mul(f64x2.splat(0.5), x);
    return f64x2.mul(h, f64x2.add(one, erfF64(f64x2.div(x, f64x2.splat(1.4142135623730951)))));
  }
  // GELU, tanh form: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), in the reference's op order.
  const x3 = f64x2.mul(f64x2.mul(f64x2.mul(f64x2.splat(0.044715), x), x), x);
  const inner = f64x2.mul(f64x2.splat(0.7978845608028654), f64x2.add(x, x3));
  return f64x2.mul(f64x2.mul(f64x2.splat(0.5), x), f64x2.add(one, tanhF64(inner)));
}

/** Unary op `op` (codes 0-8) of float32 lanes. */
@inline
function unaryF32x4(op: i32, v: v128): v128 {
  switch (op) {
    case 0:
      return f32x4.neg(v);
    case 1:
      return f32x4.abs(v);
    case 2:
      return f32x4.mul(v, v);
    case 3:
      return f32x4.sqrt(v);
    case 4:
      return f32x4.div(f32x4.splat(1), v);
    case 5:
      return f32x4.floor(v);
    case 6:
      return f32x4.ceil(v);
    case 7:
      return f32x4.nearest(v);
    default: {
      // sign: 1, -1, or 0 for zeros and NaN, as the reference's (x > 0 ? 1 : x < 0 ? -1 : 0)
      const zero = f32x4.splat(0);
      const neg = v128.bitselect(f32x4.splat(-1), zero, f32x4.lt(v, zero));
      return v128.bitselect(f32x4.splat(1), neg, f32x4.gt(v, zero));
    }
  }
}

/** out = op(x) over [i0, i1) (codes above); `out` may be x. */
export function unaryF32(op: i32, x: usize, out: usize, i0: i32, i1: i32): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    if (op < 9) v128.store(out + o, unaryF32x4(op, v));
    else {
      const lo = unaryF64(op, f64x2.promote_low_f32x4(v));
      const hi = unaryF64(op, promoteHigh(v));
      v128.store(out + o, narrow(lo, hi));
    }
  }
  // The tail through the same vector code, one lane used.
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = f32x4.splat(load<f32>(x + o));
    const r = op < 9 ? unaryF32x4(op, v) : f32x4.demote_f64x2_zero(unaryF64(op, f64x2.promote_low_f32x4(v)));
    store<f32>(out + o, f32x4.extract_lane(r, 0));
  }
}
