// The WGSL math library every shader includes. NaN and Inf are tested on bit patterns, never with
// `x != x`, because WGSL lets implementations assume finite math; transcendental functions are written
// out (range reduction plus polynomials) so results match the CPU backend to a few ulps on every GPU,
// not just to Vulkan's loose precision floor. New unary ops put their helper functions here.

/** Pure helper functions every shader may call (see the file comment). */
export const PRELUDE = /* wgsl */ `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn nz(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }
fn mk_nan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn mk_inf(negative: bool) -> f32 { var b = select(0x7f800000u, 0xff800000u, negative); return bitcast<f32>(b); }
fn b2f(c: bool) -> f32 { return select(0.0, 1.0, c); }
fn b2i(c: bool) -> i32 { return select(0, 1, c); }

fn exp_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x > 88.72284) { return mk_inf(false); }
  if (x < -103.97209) { return 0.0; }
  let k = round(x * 1.4426950408889634);
  let r = (x - k * 0.693145751953125) - k * 1.4286067653e-06;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 +
          r * (0.008333333333333333 + r * (0.001388888888888889 + r * 0.0001984126984126984))))));
  let ki = i32(k);
  let h = ki / 2;
  return ldexp(ldexp(p, h), ki - h);
}

fn log_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return mk_nan(); }
  if (x == 0.0) { return mk_inf(true); }
  if (!is_finite(x)) { return x; }
  let fr = frexp(x);
  var m = fr.fract;
  var e = f32(fr.exp);
  if (m < 0.70710678) { m = m * 2.0; e = e - 1.0; }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let p = s2 * (0.3333333333333333 + s2 * (0.2 + s2 * (0.14285714285714285 + s2 * (0.1111111111111111 +
          s2 * (0.09090909090909091 + s2 * 0.07692307692307693)))));
  return e * 0.693145751953125 + (2.0 * s + 2.0 * s * p + e * 1.4286067653e-06);
}

fn expm1_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * (0.008333333333333333 +
           x * (0.001388888888888889 + x * (0.0001984126984126984 + x * (2.48015873015873e-05 + x * 2.7557319223985893e-06))))))));
  }
  return exp_(x) - 1.0;
}

fn log1p_(x: f32) -> f32 {
  if (is_nan(x) || x < -1.0) { return mk_nan(); }
  if (x == -1.0) { return mk_inf(true); }
  if (!is_finite(x)) { return x; }
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log_(u) * (x / (u - 1.0));
}

fn sqrt_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return mk_nan(); }
  if (!is_finite(x)) { return x; }
  return sqrt(x);
}

fn rsqrt_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return mk_nan(); }
  if (x == 0.0) { return mk_inf(bitcast<u32>(x) != 0u); }
  if (!is_finite(x)) { return 0.0; }
  return 1.0 / sqrt(x);
}

fn tanh_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  var r = 1.0;
  if (a < 9.1) { let t = expm1_(2.0 * a); r = t / (t + 2.0); }
  return select(r, -r, x < 0.0);
}

fn sigmoid_(x: f32) -> f32 { return 1.0 / (1.0 + exp_(-x)); }

fn sign_(x: f32) -> f32 {
  if (is_nan(x)) { return 0.0; } // as PyTorch: (0 < x) - (x < 0)
  return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0);
}

fn relu_(x: f32) -> f32 { return select(0.0, x, x > 0.0 || is_nan(x)); }

// W. J. Cody's rational approximations (the CPU backend uses the same ones in double precision).
fn erf_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let ax = abs(x);
  if (ax < 0.5) {
    let t = x * x;
    let p = (((0.18577770618460315 * t + 3.1611237438705655) * t + 113.86415415105016) * t + 377.485237685302) * t + 3209.3775891384694;
    let q = (((t + 23.601290952344122) * t + 244.02463793444417) * t + 1282.6165260773723) * t + 2844.2368334391704;
    return x * p / q;
  }
  var r = 0.0;
  if (ax < 4.0) {
    let p = (((((((ax * 2.1531153547440383e-08 + 0.5641884969886701) * ax + 8.883149794388377) * ax + 66.11919063714163) * ax +
            298.635138197400131) * ax + 881.952221241769) * ax + 1712.0476126340707) * ax + 2051.0783778260716) * ax + 1230.3393547979972;
    let q = (((((((ax + 15.744926110709835) * ax + 117.6939508913125) * ax + 537.1811018620099) * ax + 1621.3895745666903) * ax +
            3290.7992357334597) * ax + 4362.619090143247) * ax + 3439.3676741437216) * ax + 1230.3393548037495;
    r = exp_(-ax * ax) * p / q;
  } else if (ax < 10.0) {
    let z = 1.0 / (ax * ax);
    let p = ((((0.016315387137302097 * z + 0.30532663496123236) * z + 0.36034489994980445) * z + 0.12578172611122926) * z +
            0.016083785148742275) * z + 0.0006587491615298378;
    let q = ((((z + 2.568520192289822) * z + 1.8729528499234604) * z + 0.5279051029514285) * z + 0.06051834131244132) * z +
            0.0023352049762686918;
    r = exp_(-ax * ax) / ax * (0.5641895835477551 - z * p / q);
  }
  return select(1.0 - r, r - 1.0, x < 0.0);
}

// sin and cos: Cody-Waite reduction by pi/2 (exact for |x| < ~1e5) and Taylor polynomials on [-pi/4, pi/4].
fn sin_poly(r: f32) -> f32 {
  let s = r * r;
  return r + r * s * (-0.16666666666666666 + s * (0.008333333333333333 + s * (-0.0001984126984126984 + s * 2.755731922398589e-06)));
}
fn cos_poly(r: f32) -> f32 {
  let s = r * r;
  return 1.0 + s * (-0.5 + s * (0.041666666666666664 + s * (-0.001388888888888889 + s * (2.48015873015873e-05 - s * 2.755731922398589e-07))));
}
fn trig_(x: f32, cosine: bool) -> f32 {
  if (!is_finite(x)) { return mk_nan(); }
  let q = round(x * 0.6366197723675814);
  let r = ((x - q * 1.5703125) - q * 4.837512969970703e-04) - q * 7.549789954891882e-08;
  let qi = (i32(q) + select(0, 1, cosine)) & 3;
  var v = select(sin_poly(r), cos_poly(r), (qi & 1) == 1);
  return select(v, -v, qi >= 2);
}

fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 1.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return mk_nan(); }
  let isInt = is_finite(b) && trunc(b) == b;
  if (isInt && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  if (!is_finite(b)) {
    let m = abs(a);
    if (m == 1.0) { return 1.0; }
    return select(0.0, mk_inf(false), (m > 1.0) == (b > 0.0));
  }
  if (a == 0.0) { return select(0.0, mk_inf(false), b < 0.0); }
  var mag = 0.0;
  if (!is_finite(a)) { mag = select(0.0, mk_inf(false), b > 0.0); }
  else if (a < 0.0 && !isInt) { return mk_nan(); }
  else { mag = exp_(b * log_(abs(a))); }
  let odd = isInt && abs(b) < 16777216.0 && (i32(b) & 1) == 1;
  return select(mag, -mag, a < 0.0 && odd);
}

fn ipow_(a: i32, b: i32) -> i32 {
  if (b < 0) { return select(select(0, select(1, -1, (b & 1) == 1), a == -1), 1, a == 1); }
  var e = u32(b);
  var base = a;
  var r = 1;
  loop {
    if ((e & 1u) == 1u) { r = r * base; }
    e = e >> 1u;
    if (e == 0u) { break; }
    base = base * base;
  }
  return r;
}

fn f2i(x: f32) -> i32 {
  if (!is_finite(x)) { return 0; }
  return i32(clamp(trunc(x), -2147483648.0, 2147483520.0));
}

fn round_f16(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  let sign = b & 0x80000000u;
  let a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) { return x; }
  if (a >= 0x477ff000u) { return bitcast<f32>(sign | 0x7f800000u); }
  if (a >= 0x38800000u) {
    let lsb = (a >> 13u) & 1u;
    return bitcast<f32>(sign | ((a + 0x0fffu + lsb) & 0xffffe000u));
  }
  let q = round(abs(x) * 16777216.0);
  return bitcast<f32>(sign | bitcast<u32>(q * 5.9604644775390625e-08));
}

fn round_bf16(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return bitcast<f32>((b | 0x00400000u) & 0xffff0000u); }
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}
`;
