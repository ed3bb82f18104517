// Small vector helpers shared by the kernels: float32 lanes to float64 pairs and back (for kernels that
// compute in float64), fused multiply-add, splats, a 4x4 transpose, 3x3 filter taps and partial stores.

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

/** c + a * b: one fused multiply-add where the build enables relaxed SIMD, a multiply and an add otherwise. */
@inline
export function fmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** x in all four lanes. */
@inline
export function k4(x: f32): v128 {
  return f32x4.splat(x);
}

/** Stores the transpose of the 4x4 block with rows a, b, c, d at dst (four vectors). */
@inline
export function transposeStore(a: v128, b: v128, c: v128, d: v128, dst: usize): void {
  const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const cd0 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const cd1 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(ab0, cd0, 0, 1, 4, 5));
  v128.store(dst, v128.shuffle<f32>(ab0, cd0, 2, 3, 6, 7), 16);
  v128.store(dst, v128.shuffle<f32>(ab1, cd1, 0, 1, 4, 5), 32);
  v128.store(dst, v128.shuffle<f32>(ab1, cd1, 2, 3, 6, 7), 48);
}

/**
 * The nine taps of four 3x3 filters at p0..p3 (nine floats each), transposed into nine vectors at g:
 * vector i (at g + 16 i) holds tap i of the four filters.
 */
@inline
export function filterTaps4(p0: usize, p1: usize, p2: usize, p3: usize, g: usize): void {
  transposeStore(v128.load(p0), v128.load(p1), v128.load(p2), v128.load(p3), g);
  transposeStore(v128.load(p0, 16), v128.load(p1, 16), v128.load(p2, 16), v128.load(p3, 16), g + 64);
  let t8 = f32x4.splat(load<f32>(p0, 32));
  t8 = f32x4.replace_lane(t8, 1, load<f32>(p1, 32));
  t8 = f32x4.replace_lane(t8, 2, load<f32>(p2, 32));
  t8 = f32x4.replace_lane(t8, 3, load<f32>(p3, 32));
  v128.store(g, t8, 128);
}

/** Copies the first n (< 4) lanes of the vector at src to dst. */
@inline
export function storeLanes(dst: usize, src: usize, n: i32): void {
  for (let l = 0; l < n; l++) store<f32>(dst + (<usize>l << 2), load<f32>(src + (<usize>l << 2)));
}
