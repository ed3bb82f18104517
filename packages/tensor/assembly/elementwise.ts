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
