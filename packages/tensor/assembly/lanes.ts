// Moving float32 lanes to float64 pairs and back, for kernels that compute in float64.

/** f64x2 of lanes 2 and 3 of the f32x4 `v`. */
@inline
export function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

/** The four float64 lanes of `lo` and `hi` rounded to one f32x4. */
@inline
export function narrow(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
