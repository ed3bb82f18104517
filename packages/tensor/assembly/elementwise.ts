// Elementwise float32 kernels over a range [i0, i1) of contiguous operands (the pool splits ranges):
// add/sub/mul/div/maximum/minimum/pow, relu and its gradient, the Adam step and reductions; the unary
// math ops are in unary.ts.

import { narrow, promoteHigh } from './lanes';
import { expF64, logF64 } from './math64';

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

/** C's pow of one float64 pair (the reference's): 1^y = 1 and (-1)^(+-inf) = 1, else Math.pow. */
function powScalar(a: f64, b: f64): f64 {
  if (a == 1 || (a == -1 && (b == Infinity || b == -Infinity))) return 1;
  return Math.pow(a, b);
}

/**
 * a^b of float64 lanes: e^(b ln a) where a is positive and finite and b finite (exp clamps, so float32
 * overflow and underflow come out inf and 0), except b = 1, 2, 3, 4, -1, -2 and 0.5, which multiply,
 * divide or take the square root (one rounding: the correctly rounded float64, as the reference's pow
 * gives, so an exact float32 midpoint such as a short float's square rounds as there); any other lane
 * (zero, negative or infinite a, NaN, infinite b) takes powScalar, one at a time.
 */
@inline
function powF64(a: v128, b: v128): v128 {
  let r = expF64(f64x2.mul(b, logF64(a)));
  const one = f64x2.splat(1);
  const sq = f64x2.mul(a, a);
  r = v128.bitselect(a, r, f64x2.eq(b, one));
  r = v128.bitselect(sq, r, f64x2.eq(b, f64x2.splat(2)));
  r = v128.bitselect(f64x2.mul(sq, a), r, f64x2.eq(b, f64x2.splat(3)));
  r = v128.bitselect(f64x2.mul(sq, sq), r, f64x2.eq(b, f64x2.splat(4)));
  r = v128.bitselect(f64x2.div(one, a), r, f64x2.eq(b, f64x2.splat(-1)));
  r = v128.bitselect(f64x2.div(one, sq), r, f64x2.eq(b, f64x2.splat(-2)));
  r = v128.bitselect(f64x2.sqrt(a), r, f64x2.eq(b, f64x2.splat(0.5)));
  const inf = f64x2.splat(Infinity);
  const plain = v128.and(
    v128.and(f64x2.gt(a, f64x2.splat(0)), f64x2.lt(a, inf)),
    f64x2.lt(f64x2.abs(b), inf),
  );
  if (!i64x2.all_true(plain)) {
    if (i64x2.extract_lane(plain, 0) == 0)
      r = f64x2.replace_lane(r, 0, powScalar(f64x2.extract_lane(a, 0), f64x2.extract_lane(b, 0)));
    if (i64x2.extract_lane(plain, 1) == 0)
      r = f64x2.replace_lane(r, 1, powScalar(f64x2.extract_lane(a, 1), f64x2.extract_lane(b, 1)));
  }
  return r;
}

/** a^b of float32 lanes, in float64 and rounded once (powF64). */
@inline
function powF32x4(a: v128, b: v128): v128 {
  const lo = powF64(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b));
  return narrow(lo, powF64(promoteHigh(a), promoteHigh(b)));
}

/**
 * out[i] = a[i] op b[i] (bStep 1) or a[i] op b[0] (bStep 0) for i in [i0, i1), in float32: op 0 add,
 * 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum (a NaN operand gives NaN), IEEE float32 results as the
 * JavaScript loops give; 6 pow in float64 rounded once, as those loops (C's special cases), equal to them
 * but where a value sits within a few float64 ulps of a float32 rounding midpoint. `out` may be `a`.
 */
export function binaryF32(op: i32, a: usize, b: usize, out: usize, i0: i32, i1: i32, bStep: i32): void {
  const one = f32x4.splat(load<f32>(b));
  let i = i0;
  const v = i1 - 3;
  // x^2 for a scalar 2 (x.pow(2)): the float32 product, the correctly rounded square as C's pow gives it.
  if (op == 6 && !bStep && load<f32>(b) == 2) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      const x = v128.load(a + o);
      v128.store(out + o, f32x4.mul(x, x));
    }
  } else if (op == 0) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.add(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else if (op == 1) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.sub(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else if (op == 2) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else if (op == 3) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.div(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else if (op == 4) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.max(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else if (op == 5) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.min(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, powF32x4(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(a + o);
    const y = load<f32>(bStep ? b + o : b);
    let r: f32;
    if (op == 0) r = x + y;
    else if (op == 1) r = x - y;
    else if (op == 2) r = x * y;
    else if (op == 3) r = x / y;
    else if (op == 4) r = max<f32>(x, y);
    else if (op == 5) r = min<f32>(x, y);
    else r = f32x4.extract_lane(powF32x4(f32x4.splat(x), f32x4.splat(y)), 0);
    store<f32>(out + o, r);
  }
}
