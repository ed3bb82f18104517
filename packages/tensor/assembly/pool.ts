// Max pooling with PyTorch's int64 indices (held as float64, the CPU backend's int64 format) and its
// backward, for a range of planes each, so the pool splits them by plane: every plane's outputs and
// gradient are written by one task, in the same order whatever the number of threads.

import { maxPool } from './gemm';

/**
 * `maxPool` (assembly/gemm.ts) over `planes` planes, with the in-plane index of each maximum stored
 * as float64 at idx when idx is not 0. The int32 indices the kernel writes go to the start of the
 * float64 block and are widened in place from the end (a widened element never overwrites one that
 * is still to be read).
 */
export function maxPoolF64(
  x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  out: usize, idx: usize,
): void {
  maxPool(x, planes, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, out, idx);
  if (!idx) return;
  let i = planes * OH * OW;
  // Element j's int32 is at 4j bytes and its float64 at 8j: writing group [i, i + 4) after reading it
  // touches bytes from 8i >= 4i on, above every int32 still to be read.
  while (i >= 4) {
    i -= 4;
    const v = v128.load(idx + (<usize>i << 2));
    v128.store(idx + (<usize>i << 3), f64x2.convert_low_i32x4_s(v), 0);
    v128.store(idx + (<usize>i << 3), f64x2.convert_low_i32x4_s(v128.shuffle<i32>(v, v, 2, 3, 0, 1)), 16);
  }
  while (i > 0) {
    i--;
    store<f64>(idx + (<usize>i << 3), <f64>load<i32>(idx + (<usize>i << 2)));
  }
}

/**
 * Max-pool backward over planes [p0, p1): each input-gradient plane of HW floats is zeroed, then
 * grad[idx[k]] += g[k] for the plane's P outputs in order (overlapping windows add up, as PyTorch).
 * Indices are float64 in-plane positions; one outside [0, HW) is skipped.
 */
export function maxPoolBackward(g: usize, idx: usize, HW: i32, P: i32, p0: i32, p1: i32, out: usize): void {
  const lim = <f64>HW;
  for (let pl = p0; pl < p1; pl++) {
    const o = out + ((<usize>pl * <usize>HW) << 2);
    memory.fill(o, 0, <usize>HW << 2);
    const gp = g + ((<usize>pl * <usize>P) << 2);
    const ip = idx + ((<usize>pl * <usize>P) << 3);
    for (let k = 0; k < P; k++) {
      const v = load<f64>(ip + (<usize>k << 3));
      if (v >= 0 && v < lim) {
        const a = o + (<usize><i32>v << 2);
        store<f32>(a, load<f32>(a) + load<f32>(gp + (<usize>k << 2)));
      }
    }
  }
}

/**
 * Global average pooling (adaptive average pooling to 1x1) of planes [p0, p1), HW floats each: a
 * plane's float64 sum in order, divided by HW and rounded once, as the reference loop. Two planes go
 * in the two lanes of one f64x2 sum (each lane adds its plane in order), to halve the add chain.
 */
export function meanPlanes(x: usize, HW: i32, p0: i32, p1: i32, out: usize): void {
  const d = <f64>HW;
  const plane = <usize>HW << 2;
  let pl = p0;
  for (; pl + 2 <= p1; pl += 2) {
    const a = x + <usize>pl * plane;
    const b = a + plane;
    let s = f64x2.splat(0);
    for (let i = 0; i < HW; i++) {
      const at = <usize>i << 2;
      s = f64x2.add(s, f64x2.replace_lane(f64x2.splat(<f64>load<f32>(a + at)), 1, <f64>load<f32>(b + at)));
    }
    store<f32>(out + (<usize>pl << 2), <f32>(f64x2.extract_lane(s, 0) / d));
    store<f32>(out + (<usize>pl << 2), <f32>(f64x2.extract_lane(s, 1) / d), 4);
  }
  if (pl < p1) {
    const a = x + <usize>pl * plane;
    let s: f64 = 0;
    for (let i = 0; i < HW; i++) s += <f64>load<f32>(a + (<usize>i << 2));
    store<f32>(out + (<usize>pl << 2), <f32>(s / d));
  }
}

/** meanPlanes' gradient: every float of plane p in [p0, p1) set to g[p] / HW (float64, rounded once). */
export function meanPlanesBackward(g: usize, HW: i32, p0: i32, p1: i32, out: usize): void {
  const d = <f64>HW;
  for (let pl = p0; pl < p1; pl++) {
    const v = <f32>(<f64>load<f32>(g + (<usize>pl << 2)) / d);
    const vv = f32x4.splat(v);
    const o = out + ((<usize>pl * <usize>HW) << 2);
    let i = 0;
    for (; i + 4 <= HW; i += 4) v128.store(o + (<usize>i << 2), vv);
    for (; i < HW; i++) store<f32>(o + (<usize>i << 2), v);
  }
}
