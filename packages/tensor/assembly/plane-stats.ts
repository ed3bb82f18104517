// Batch-norm statistics of a convolution's output planes, computed by the convolution's own output pass
// while the values are in cache (see src/ops/plane-stats.ts). A plane's statistics are a shift k (one
// of its values) and the sum and sum of squares of y - k. Values are summed in float32 lanes over a
// short run (a row of tiles, a block of positions) and the runs' sums added in float64, so each lane
// adds at most a few hundred values and the float64 sums carry the plane.
//
// An accumulator is 32 bytes of scratch: float64 pairs of the sum of y - k at +0 and of (y - k)^2 at
// +16.

import { fmadd, promoteHigh } from './lanes';

/** Bytes of one accumulator. */
export const STATS_ACC: usize = 32;

/** Zeroes the accumulator at acc. */
@inline
export function statsReset(acc: usize): void {
  v128.store(acc, f64x2.splat(0));
  v128.store(acc, f64x2.splat(0), 16);
}

/**
 * Adds the deviations from the shift vk (all lanes k) of `rows` runs of `len` floats, rowB bytes apart
 * from src, to acc: summed in float32 lanes first (the lanes of a run's last partial vector masked to
 * zero, no scalar tail), then added to acc's float64 pairs.
 */
@inline
export function statsRows(src: usize, rowB: usize, rows: i32, len: i32, vk: v128, acc: usize): void {
  const body = len & ~3;
  const tail = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(len & 3));
  let s = f32x4.splat(0);
  let q = s;
  for (let i = 0; i < rows; i++) {
    const row = src + <usize>i * rowB;
    let j = 0;
    for (; j < body; j += 4) {
      const d = f32x4.sub(v128.load(row + (<usize>j << 2)), vk);
      s = f32x4.add(s, d);
      q = fmadd(d, d, q);
    }
    if (j < len) {
      const d = v128.and(f32x4.sub(v128.load(row + (<usize>j << 2)), vk), tail);
      s = f32x4.add(s, d);
      q = fmadd(d, d, q);
    }
  }
  v128.store(acc, f64x2.add(f64x2.add(v128.load(acc), f64x2.promote_low_f32x4(s)), promoteHigh(s)));
  v128.store(acc, f64x2.add(f64x2.add(v128.load(acc, 16), f64x2.promote_low_f32x4(q)), promoteHigh(q)), 16);
}

/** Stores the shift k, sum(y - k) and sum((y - k)^2) of acc's float64 sums as three float64 at dst. */
@inline
export function statsStore(dst: usize, k: f32, acc: usize): void {
  store<f64>(dst, <f64>k);
  store<f64>(dst, load<f64>(acc) + load<f64>(acc, 8), 8);
  store<f64>(dst, load<f64>(acc, 16) + load<f64>(acc, 24), 16);
}

/** Floats summed in float32 lanes before each float64 step of statsPlane (64 a lane). */
const RUN = 256;

/**
 * The statistics of one plane of P floats at src, its first value the shift, as three float64 at dst
 * (shift, sum, sum of squares). acc: an accumulator (STATS_ACC bytes).
 */
export function statsPlane(src: usize, P: i32, dst: usize, acc: usize): void {
  const k = load<f32>(src);
  const vk = f32x4.splat(k);
  statsReset(acc);
  for (let j = 0; j < P; j += RUN) statsRows(src + (<usize>j << 2), 0, 1, min(RUN, P - j), vk, acc);
  statsStore(dst, k, acc);
}
