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
 * (each op rounded, no fused multiply-add; cpu/norm.ts adamStepLoop is the same arithmetic):
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
