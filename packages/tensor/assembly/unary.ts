// Unary float32 math ops over a range [i0, i1) of contiguous operands (the pool splits ranges).

import { narrow, promoteHigh } from './lanes';
import {
  clamp200,
  expF64,
  expm1Reduced,
  ln2Multiple,
  lnMantissa,
  logExponent,
  logF64,
  logMantissa,
  logSpecials,
  pow2,
} from './math64';

// Codes (cpu/wasm/elementwise.ts UNARY_CODES): 0 neg, 1 abs, 2 square, 3 sqrt, 4 reciprocal, 5 floor,
// 6 ceil, 7 round (half to even), 8 sign, 9 rsqrt, 10 exp, 11 log, 12 sigmoid, 13 tanh, 14 geluTanh,
// 15 erf, 16 gelu, 17 expm1, 18 log1p, 19 exp2, 20 log2, 21 sinh, 22 cosh, 23 atan, 24 sin, 25 cos,
// 26 tan, 27 asin, 28 acos. 0-8 are one float32 op: the same bits as the reference loops (float64
// arithmetic rounded once gives the correctly rounded float32 result for each). 9 and up are computed in
// float64 and rounded once, as those loops do (Math.* in doubles, stored to a Float32Array), good to a
// few float64 ulps: their float32 results equal the loops' except where a value sits within that of a
// rounding midpoint.

/** log2 x of float64 lanes: e + ln m / ln 2 (exact at powers of two). */
@inline
function log2F64(x: v128): v128 {
  const m = logMantissa(x);
  const r = f64x2.add(logExponent(x, m), f64x2.mul(lnMantissa(m), f64x2.splat(1.4426950408889634)));
  return logSpecials(x, r);
}

/**
 * ln(1 + x) of float64 lanes: ln u for u = 1 + x, less the rounding of u relative to u where it has one
 * (|x| < 2^-28; beyond, u is exact for a float32 x); zeros keep their sign.
 */
@inline
function log1pF64(x: v128): v128 {
  const one = f64x2.splat(1);
  const u = f64x2.add(one, x);
  const c = f64x2.sub(f64x2.sub(u, one), x);
  const corr = v128.and(f64x2.div(c, u), f64x2.lt(f64x2.abs(x), f64x2.splat(3.725290298461914e-9)));
  return v128.bitselect(x, f64x2.sub(logF64(u), corr), f64x2.eq(x, f64x2.splat(0)));
}

/**
 * e^y - 1 of float64 lanes (|y| <= 708): y = k ln2 + r, e^r - 1 by expm1Reduced, then
 * 2^k (e^r - 1) + (2^k - 1) (2^k - 1 exact), or e^r - 1 itself when k = 0 (small |y| keeps its
 * relative accuracy).
 */
@inline
function expm1F64(y: v128): v128 {
  const k = ln2Multiple(y);
  const q = expm1Reduced(y, k);
  const scale = pow2(k);
  const big = f64x2.add(f64x2.mul(scale, q), f64x2.sub(scale, f64x2.splat(1)));
  return v128.bitselect(q, big, f64x2.eq(k, f64x2.splat(0)));
}

/** x's value with the sign bit of `s`. */
@inline
function copySign(x: v128, s: v128): v128 {
  const sign = i64x2.splat(0x8000000000000000);
  return v128.or(v128.andnot(x, sign), v128.and(s, sign));
}

/** tanh of float64 lanes: u = e^(2|x|) - 1 (expm1F64), tanh = u / (u + 2) with x's sign. */
@inline
function tanhF64(x: v128): v128 {
  const y = f64x2.min(f64x2.abs(f64x2.add(x, x)), f64x2.splat(40)); // tanh(20) is 1 in float64; NaN stays
  const u = expm1F64(y);
  const t = f64x2.div(u, f64x2.add(u, f64x2.splat(2)));
  return copySign(t, x);
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

/** 2^x of float64 lanes: x = k + f (k = nearest(x), f exact), 2^k times e^(f ln2) (|f ln2| <= ln2 / 2). */
@inline
function exp2F64(x: v128): v128 {
  const c = clamp200(x);
  const k = f64x2.nearest(c);
  const y = f64x2.mul(f64x2.sub(c, k), f64x2.splat(0.6931471805599453));
  return f64x2.mul(f64x2.add(expm1Reduced(y, f64x2.splat(0)), f64x2.splat(1)), pow2(k));
}

/** sinh of float64 lanes: with u = e^|x| - 1, (u + u / (u + 1)) / 2 and x's sign (no cancellation). */
@inline
function sinhF64(x: v128): v128 {
  const u = expm1F64(f64x2.min(f64x2.abs(x), f64x2.splat(200)));
  const h = f64x2.mul(f64x2.splat(0.5), f64x2.add(u, f64x2.div(u, f64x2.add(u, f64x2.splat(1)))));
  return copySign(h, x);
}

/** cosh of float64 lanes: (e^|x| + e^-|x|) / 2. */
@inline
function coshF64(x: v128): v128 {
  const t = expF64(f64x2.abs(x));
  return f64x2.add(f64x2.mul(f64x2.splat(0.5), t), f64x2.div(f64x2.splat(0.5), t));
}

/**
 * atan of float64 lanes: a = |x| or 1/|x| (then pi/2 - atan a), halved twice as an angle by
 * t / (1 + sqrt(1 + t^2)) to |h| <= tan(pi/16), 4 (h - h^3/3 + ... - h^23/23), x's sign.
 */
@inline
function atanF64(x: v128): v128 {
  const one = f64x2.splat(1);
  const t = f64x2.abs(x);
  const inv = f64x2.gt(t, one);
  const a = v128.bitselect(f64x2.div(one, t), t, inv);
  const h1 = f64x2.div(a, f64x2.add(one, f64x2.sqrt(f64x2.add(one, f64x2.mul(a, a)))));
  const h = f64x2.div(h1, f64x2.add(one, f64x2.sqrt(f64x2.add(one, f64x2.mul(h1, h1)))));
  const z = f64x2.mul(h, h);
  let p = f64x2.splat(-1.0 / 23.0);
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 21.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 19.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 17.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 15.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 13.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 11.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 9.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 7.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 5.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 3.0));
  const at = f64x2.mul(f64x2.splat(4), f64x2.add(h, f64x2.mul(f64x2.mul(h, z), p)));
  return copySign(v128.bitselect(f64x2.sub(f64x2.splat(1.5707963267948966), at), at, inv), x);
}

/** sin r of float64 lanes |r| <= ~pi/4: r + r z (-1/3! + z/5! - ... - z^8/19!), z = r^2. */
@inline
function sinReduced(r: v128): v128 {
  const z = f64x2.mul(r, r);
  let p = f64x2.splat(-1.0 / 121645100408832000.0);
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 355687428096000.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 1307674368000.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 6227020800.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 39916800.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 362880.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 5040.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 120.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 6.0));
  return f64x2.add(r, f64x2.mul(f64x2.mul(r, z), p));
}

/** cos r of float64 lanes |r| <= ~pi/4: 1 + z (-1/2! + z/4! - ... - z^8/18!), z = r^2. */
@inline
function cosReduced(r: v128): v128 {
  const z = f64x2.mul(r, r);
  let p = f64x2.splat(-1.0 / 6402373705728000.0);
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 20922789888000.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 87178291200.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 479001600.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 3628800.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 40320.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-1.0 / 720.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0 / 24.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-0.5));
  return f64x2.add(f64x2.splat(1), f64x2.mul(z, p));
}

/** Below this |x| the trig ops reduce in lanes: k = nearest(x 2/pi) < 2^20, so k times each part is exact. */
const TRIG_VECTOR_MAX: f64 = 1e6;

/**
 * sin (op 24), cos (25) or tan (26) of float64 lanes: x = k pi/2 + r with pi/2 in three parts (the first
 * two of 33 bits, Cody-Waite: r keeps its relative accuracy for every float32 |x| <= 1e6), then sin r or
 * cos r by quadrant. Lanes beyond 1e6, infinite or NaN take the standard library's float64 function
 * (Payne-Hanek reduction), one at a time.
 */
@inline
function trigF64(op: i32, x: v128): v128 {
  const k = f64x2.nearest(f64x2.mul(x, f64x2.splat(0.6366197723675814)));
  let r = f64x2.sub(x, f64x2.mul(k, f64x2.splat(1.5707963267341256)));
  r = f64x2.sub(r, f64x2.mul(k, f64x2.splat(6.077100506303966e-11)));
  r = f64x2.sub(r, f64x2.mul(k, f64x2.splat(2.0222662487959506e-21)));
  const s = sinReduced(r);
  const c = cosReduced(r);
  const half = f64x2.mul(k, f64x2.splat(0.5));
  const odd = f64x2.ne(f64x2.floor(half), half);
  const quarter = f64x2.floor(f64x2.mul(k, f64x2.splat(0.25)));
  const q = f64x2.sub(k, f64x2.mul(quarter, f64x2.splat(4))); // k mod 4
  const sign = i64x2.splat(0x8000000000000000);
  let out: v128;
  if (op == 24) {
    // sin: sin r, cos r, -sin r, -cos r by quadrant; zeros keep their sign
    out = v128.xor(v128.bitselect(c, s, odd), v128.and(f64x2.ge(q, f64x2.splat(2)), sign));
    out = v128.bitselect(x, out, f64x2.eq(x, f64x2.splat(0)));
  } else if (op == 25) {
    // cos: cos r, -sin r, -cos r, sin r
    const flip = v128.or(f64x2.eq(q, f64x2.splat(1)), f64x2.eq(q, f64x2.splat(2)));
    out = v128.xor(v128.bitselect(s, c, odd), v128.and(flip, sign));
  } else {
    // tan: sin r / cos r, or -cos r / sin r in odd quadrants
    out = v128.bitselect(f64x2.neg(f64x2.div(c, s)), f64x2.div(s, c), odd);
    out = v128.bitselect(x, out, f64x2.eq(x, f64x2.splat(0)));
  }
  const far = v128.not(f64x2.le(f64x2.abs(x), f64x2.splat(TRIG_VECTOR_MAX)));
  if (v128.any_true(far)) {
    const x0 = f64x2.extract_lane(x, 0);
    const x1 = f64x2.extract_lane(x, 1);
    if (i64x2.extract_lane(far, 0) != 0) out = f64x2.replace_lane(out, 0, trigScalar(op, x0));
    if (i64x2.extract_lane(far, 1) != 0) out = f64x2.replace_lane(out, 1, trigScalar(op, x1));
  }
  return out;
}

/** sin, cos or tan (ops 24-26) of one float64, by the standard library (any argument). */
function trigScalar(op: i32, x: f64): f64 {
  return op == 24 ? Math.sin(x) : op == 25 ? Math.cos(x) : Math.tan(x);
}

/** asin of float64 lanes: atan(x / sqrt((1 - x)(1 + x))) (both factors exact for a float32 |x| <= 1). */
@inline
function asinF64(x: v128): v128 {
  const one = f64x2.splat(1);
  return atanF64(f64x2.div(x, f64x2.sqrt(f64x2.mul(f64x2.sub(one, x), f64x2.add(one, x)))));
}

/** acos of float64 lanes: 2 atan(sqrt((1 - x) / (1 + x))) (no cancellation near x = 1). */
@inline
function acosF64(x: v128): v128 {
  const one = f64x2.splat(1);
  const t = f64x2.sqrt(f64x2.div(f64x2.sub(one, x), f64x2.add(one, x)));
  return f64x2.mul(f64x2.splat(2), atanF64(t));
}

/** Unary op `op` (float64 codes 9 and up) of float64 lanes. */
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
  if (op == 17) return v128.bitselect(x, expm1F64(clamp200(x)), f64x2.eq(x, f64x2.splat(0))); // -0 stays
  if (op == 18) return log1pF64(x);
  if (op == 19) return exp2F64(x);
  if (op == 20) return log2F64(x);
  if (op == 21) return sinhF64(x);
  if (op == 22) return coshF64(x);
  if (op == 23) return atanF64(x);
  if (op >= 24 && op <= 26) return trigF64(op, x);
  if (op == 27) return asinF64(x);
  if (op == 28) return acosF64(x);
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
