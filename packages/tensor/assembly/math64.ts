// Float64 lane math shared by the float32 kernels that compute in float64 and round once (unary.ts,
// the binary pow in elementwise.ts): e^x and ln x with their reductions, good to a few float64 ulps.

/** k = nearest(y / ln 2) of float64 lanes: Cody-Waite's reduction multiple. */
@inline
export function ln2Multiple(y: v128): v128 {
  return f64x2.nearest(f64x2.mul(y, f64x2.splat(1.4426950408889634)));
}

/** e^r - 1 for r = y - k ln2 (|r| <= ln2 / 2; ln2 in two parts): r (1 + r/2 + ... + r^12/13!). */
@inline
export function expm1Reduced(y: v128, k: v128): v128 {
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
export function pow2(k: v128): v128 {
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  return i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52);
}

/** x clamped to [-200, 200] (float32 results are 0, -1 or inf past these; NaN stays). */
@inline
export function clamp200(x: v128): v128 {
  return f64x2.min(f64x2.max(x, f64x2.splat(-200)), f64x2.splat(200));
}

/** e^x of float64 lanes: x = k ln2 + r, (e^r - 1) + 1 by Taylor to r^13, times 2^k. */
@inline
export function expF64(x: v128): v128 {
  const c = clamp200(x);
  const k = ln2Multiple(c);
  return f64x2.mul(f64x2.add(expm1Reduced(c, k), f64x2.splat(1)), pow2(k));
}

/** m of float64 lanes x = m 2^e, m in [sqrt(1/2), sqrt(2)) (x positive, normal). */
@inline
export function logMantissa(x: v128): v128 {
  const m = v128.or(v128.and(x, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  return v128.bitselect(f64x2.mul(m, f64x2.splat(0.5)), m, f64x2.gt(m, f64x2.splat(1.4142135623730951)));
}

/** e of float64 lanes x = m 2^e, from x's exponent bits and m = logMantissa(x) (below 1: halved). */
@inline
export function logExponent(x: v128, m: v128): v128 {
  const ebits = i64x2.shr_u(x, 52);
  let e = f64x2.convert_low_i32x4_s(i32x4.shuffle(ebits, ebits, 0, 2, 0, 2));
  e = f64x2.sub(e, f64x2.splat(1023));
  return v128.bitselect(f64x2.add(e, f64x2.splat(1)), e, f64x2.lt(m, f64x2.splat(1)));
}

/** ln m of lanes m in [sqrt(1/2), sqrt(2)): 2 atanh(s) = 2s (1 + s^2/3 + ...), s = (m - 1) / (m + 1). */
@inline
export function lnMantissa(m: v128): v128 {
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
  // 2 s (1 + z p) = 2s + 2s z p
  const s2 = f64x2.add(s, s);
  return f64x2.add(s2, f64x2.mul(f64x2.mul(s2, z), p));
}

/** A logarithm `r` of lanes x with the special cases: x < 0 or NaN: NaN; 0: -inf; +inf: +inf. */
@inline
export function logSpecials(x: v128, r: v128): v128 {
  // (The float32 inputs are never subnormal as float64.)
  const zero = f64x2.splat(0);
  let out = v128.bitselect(f64x2.splat(-Infinity), r, f64x2.eq(x, zero));
  out = v128.bitselect(x, out, f64x2.eq(x, f64x2.splat(Infinity)));
  return v128.bitselect(f64x2.splat(NaN), out, v128.not(f64x2.ge(x, zero)));
}

/** ln x of float64 lanes: x = m 2^e, e ln2 (in two parts) + ln m. */
@inline
export function logF64(x: v128): v128 {
  const m = logMantissa(x);
  const e = logExponent(x, m);
  const r = f64x2.add(
    f64x2.mul(e, f64x2.splat(6.93147180369123816490e-1)),
    f64x2.add(f64x2.mul(e, f64x2.splat(1.90821492927058770002e-10)), lnMantissa(m)),
  );
  return logSpecials(x, r);
}
