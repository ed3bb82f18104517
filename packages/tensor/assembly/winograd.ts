// Winograd F(4x4, 3x3) transforms for 3x3 stride-1 convolutions (see src/cpu/wasm/winograd.ts).
//
// A 6x6 input tile d and a 3x3 filter g give a 4x4 output tile Y = A^T [(G g G^T) . (B^T d B)] A.
// The matrices come from Toom-Cook interpolation at the points 0, 3/2, -3/2, 2/3, -2/3 and infinity:
// for the finite points p_k, row k of B^T holds the coefficients (x^0 first) of prod_{l != k} (x - p_l),
// G row k is (1, p_k, p_k^2) / prod_{l != k} (p_k - p_l) and A^T column k is (1, p_k, p_k^2, p_k^3);
// infinity gives the last row of B^T (the product over all five points), G row (0, 0, 1) and A^T
// column (0, 0, 0, 1). The usual points 0, +-1, +-2 have simpler coefficients, but measured (float32
// against float64) they give 2.5-3.5x the error: the output transform combines the 36 channel sums
// with weights up to 8 x 8 there, at most 3.375^2 here, so less of their rounding is amplified.
//
//   B^T = | 1    0   -97/36  0     1  0 |        G = |   1        0       0    |
//         | 0  -2/3  -4/9   3/2    1  0 |            |  8/65    12/65   18/65  |
//         | 0   2/3  -4/9  -3/2    1  0 |            |  8/65   -12/65   18/65  |
//         | 0  -3/2  -9/4   2/3    1  0 |            | -81/130 -27/65  -18/65  |
//         | 0   3/2  -9/4  -2/3    1  0 |            | -81/130  27/65  -18/65  |
//         | 0    1     0   -97/36  0  1 |            |   0        0       1    |
//
//   A^T = | 1  1      1      1     1    0 |
//         | 0  3/2   -3/2    2/3  -2/3  0 |
//         | 0  9/4    9/4    4/9   4/9  0 |
//         | 0  27/8 -27/8   8/27 -8/27 1 |
//
// The host transforms filters into U[36][O][C] and input tiles into V[36][C][T] (T tiles side by side),
// runs the 36 products M[xi] = U[xi] V[xi] with the GEMM kernel, and transforms M[36][O][T] back.
// Every transform works on f32x4 vectors: four filter channels, four image columns, or four tiles.
// Where images have enough tiles, winoConvImages runs all three steps for a few images in one pool task
// (V and M then stay in the thread's cache instead of going to memory and back between passes).

import { sgemm } from './gemm';
import { filterTaps4, fmadd, k4, storeLanes, transposeStore } from './lanes';
import { statsReset, statsRows, statsStore } from './plane-stats';

/** The 1-D filter transform G g of three vectors, stored at dst + r * step (r = 0..5). */
@inline
function filterT(g0: v128, g1: v128, g2: v128, dst: usize, step: usize): void {
  const p = fmadd(g0, k4(8.0 / 65.0), f32x4.mul(g2, k4(18.0 / 65.0)));
  const q = f32x4.mul(g1, k4(12.0 / 65.0));
  const r = fmadd(g0, k4(-81.0 / 130.0), f32x4.mul(g2, k4(-18.0 / 65.0)));
  const s = f32x4.mul(g1, k4(-27.0 / 65.0));
  v128.store(dst, g0);
  v128.store(dst + step, f32x4.add(p, q));
  v128.store(dst + 2 * step, f32x4.sub(p, q));
  v128.store(dst + 3 * step, f32x4.add(r, s));
  v128.store(dst + 4 * step, f32x4.sub(r, s));
  v128.store(dst + 5 * step, g2);
}

/** The 1-D input transform B^T d of six vectors, stored at dst + r * step (r = 0..5). */
@inline
function inputT(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, dst: usize, step: usize): void {
  const p = fmadd(d2, k4(-4.0 / 9.0), d4);
  const q = fmadd(d3, k4(1.5), f32x4.mul(d1, k4(-2.0 / 3.0)));
  const r = fmadd(d2, k4(-2.25), d4);
  const s = fmadd(d3, k4(2.0 / 3.0), f32x4.mul(d1, k4(-1.5)));
  v128.store(dst, fmadd(d2, k4(-97.0 / 36.0), f32x4.add(d0, d4)));
  v128.store(dst + step, f32x4.add(p, q));
  v128.store(dst + 2 * step, f32x4.sub(p, q));
  v128.store(dst + 3 * step, f32x4.add(r, s));
  v128.store(dst + 4 * step, f32x4.sub(r, s));
  v128.store(dst + 5 * step, fmadd(d3, k4(-97.0 / 36.0), f32x4.add(d1, d5)));
}

/** The 1-D output transform A^T m of six vectors, stored at dst + i * step (i = 0..3). */
@inline
function outputT(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, step: usize): void {
  const a = f32x4.add(m1, m2);
  const b = f32x4.sub(m1, m2);
  const c = f32x4.add(m3, m4);
  const d = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, a), c));
  v128.store(dst + step, fmadd(b, k4(1.5), f32x4.mul(d, k4(2.0 / 3.0))));
  v128.store(dst + 2 * step, fmadd(a, k4(2.25), f32x4.mul(c, k4(4.0 / 9.0))));
  v128.store(dst + 3 * step, fmadd(b, k4(3.375), fmadd(d, k4(8.0 / 27.0), m5)));
}

/**
 * Filter transform: U[xi][o][c] (row stride C, plane stride ldp floats) from the 3x3 filter of (o, c) at
 * w + (o * oStride + c * cStride) * 36 bytes, rotated by 180 degrees when `flip`. The input gradient
 * reads W [C', O', 3, 3] with oStride 1 and cStride O', so its channel axes need no swapped copy.
 * scratch: 4 * 36 floats.
 */
export function winoWeights(
  w: usize, O: i32, C: i32, oStride: i32, cStride: i32, flip: bool, u: usize, ldp: i32, scratch: usize,
): void {
  const plane = <usize>ldp << 2;
  const g = scratch; // 9 vectors: the taps of four filters
  const t = scratch + 9 * 16; // 18 vectors: G g, [6][3]
  const part = scratch + 27 * 16; // 6 vectors for a partial group
  const cStep = <usize>cStride * 36;
  for (let o = 0; o < O; o++) {
    for (let c0 = 0; c0 < C; c0 += 4) {
      const n = min(4, C - c0);
      // Filters (o, c0..c0+3) (the last one repeated past C), transposed into nine tap vectors.
      const p0 = w + (<usize>o * <usize>oStride + <usize>c0 * <usize>cStride) * 36;
      const p1 = n > 1 ? p0 + cStep : p0;
      const p2 = n > 2 ? p0 + 2 * cStep : p0;
      const p3 = n > 3 ? p0 + 3 * cStep : p0;
      filterTaps4(p0, p1, p2, p3, g);
      // Columns: t[r][j] = sum_i G[r][i] g[i][j], where g[i][j] is tap 3i + j (8 - that when flipped).
      for (let j = 0; j < 3; j++) {
        const a = g + (<usize>(flip ? 8 - j : j) << 4);
        const b = g + (<usize>(flip ? 5 - j : 3 + j) << 4);
        const c = g + (<usize>(flip ? 2 - j : 6 + j) << 4);
        filterT(v128.load(a), v128.load(b), v128.load(c), t + (<usize>j << 4), 48);
      }
      // Rows: U[r][s] = sum_j t[r][j] G[s][j].
      const dst = u + ((<usize>o * <usize>C + <usize>c0) << 2);
      for (let r = 0; r < 6; r++) {
        const tr = t + <usize>r * 48;
        const ur = dst + <usize>(r * 6) * plane;
        if (n == 4) {
          filterT(v128.load(tr), v128.load(tr, 16), v128.load(tr, 32), ur, plane);
        } else {
          filterT(v128.load(tr), v128.load(tr, 16), v128.load(tr, 32), part, 16);
          for (let s = 0; s < 6; s++) storeLanes(ur + <usize>s * plane, part + (<usize>s << 4), n);
        }
      }
    }
  }
}

/** Floats of scratch winoInput needs. */
export function winoInputScratch(tilesH: i32, tilesW: i32): i32 {
  const Wp = ((tilesW + 3) & ~3) * 4 + 4;
  return (tilesH * 4 + 2 + 6) * Wp + 24;
}

/**
 * Input transform of one image x [C, H, W] with padding (ph, pw): tile (th, tw) covers padded rows
 * 4th..4th+5 and columns 4tw..4tw+5, and goes to V[xi][c][t0 + th * tilesW + tw] (row stride ldv,
 * plane stride ldp floats).
 */
export function winoInput(
  x: usize, C: i32, H: i32, W: i32, ph: i32, pw: i32, tilesH: i32, tilesW: i32,
  v: usize, ldv: i32, ldp: i32, t0: i32, scratch: usize,
): void {
  const Wp = ((tilesW + 3) & ~3) * 4 + 4; // room for the last group of four tiles
  const Hp = tilesH * 4 + 2;
  const rowB = <usize>Wp << 2;
  const padded = scratch; // [Hp, Wp]: one zero-padded channel
  const tmp = padded + <usize>Hp * rowB; // [6, Wp]: B^T d for one row of tiles
  const part = tmp + 6 * rowB; // 6 vectors for a partial group of tiles
  const xiStep = <usize>ldp << 2;
  const tail = <usize>max(0, Wp - pw - W) << 2;
  for (let c = 0; c < C; c++) {
    const src = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let r = 0; r < Hp; r++) {
      const dst = padded + <usize>r * rowB;
      const h = r - ph;
      if (h < 0 || h >= H) {
        memory.fill(dst, 0, rowB);
        continue;
      }
      memory.fill(dst, 0, <usize>pw << 2);
      memory.copy(dst + (<usize>pw << 2), src + ((<usize>h * <usize>W) << 2), <usize>W << 2);
      memory.fill(dst + (<usize>(pw + W) << 2), 0, tail);
    }
    const vc = v + ((<usize>c * <usize>ldv + <usize>t0) << 2);
    for (let th = 0; th < tilesH; th++) {
      // Columns, four image columns at a time: tmp[r][col] = sum_i B^T[r][i] d[4th + i][col].
      const rows = padded + <usize>(4 * th) * rowB;
      for (let col = 0; col < Wp; col += 4) {
        const p = rows + (<usize>col << 2);
        inputT(
          v128.load(p),
          v128.load(p + rowB),
          v128.load(p + 2 * rowB),
          v128.load(p + 3 * rowB),
          v128.load(p + 4 * rowB),
          v128.load(p + 5 * rowB),
          tmp + (<usize>col << 2),
          rowB,
        );
      }
      // Rows, four tiles at a time: V[r][s] = sum_j tmp[r][4tw + j] B^T[s][j].
      const vrow = vc + ((<usize>th * <usize>tilesW) << 2);
      for (let tw = 0; tw < tilesW; tw += 4) {
        const n = tilesW - tw;
        for (let r = 0; r < 6; r++) {
          const q = tmp + <usize>r * rowB + (<usize>tw << 4);
          const q0 = v128.load(q);
          const q1 = v128.load(q, 16);
          const q2 = v128.load(q, 32);
          const q3 = v128.load(q, 48);
          const q4 = v128.load(q, 64);
          // Transpose: c_j holds column j of the four tiles.
          const a0 = v128.shuffle<f32>(q0, q1, 0, 4, 1, 5);
          const a1 = v128.shuffle<f32>(q0, q1, 2, 6, 3, 7);
          const a2 = v128.shuffle<f32>(q2, q3, 0, 4, 1, 5);
          const a3 = v128.shuffle<f32>(q2, q3, 2, 6, 3, 7);
          const c0 = v128.shuffle<f32>(a0, a2, 0, 1, 4, 5);
          const c1 = v128.shuffle<f32>(a0, a2, 2, 3, 6, 7);
          const c2 = v128.shuffle<f32>(a1, a3, 0, 1, 4, 5);
          const c3 = v128.shuffle<f32>(a1, a3, 2, 3, 6, 7);
          const c4 = v128.shuffle<f32>(c0, q4, 1, 2, 3, 4);
          const c5 = v128.shuffle<f32>(c1, q4, 1, 2, 3, 5);
          const dst = vrow + (<usize>tw << 2) + <usize>(r * 6) * xiStep;
          if (n >= 4) {
            inputT(c0, c1, c2, c3, c4, c5, dst, xiStep);
          } else {
            inputT(c0, c1, c2, c3, c4, c5, part, 16);
            for (let s = 0; s < 6; s++) storeLanes(dst + <usize>s * xiStep, part + (<usize>s << 4), n);
          }
        }
      }
    }
  }
}

/** Floats of scratch winoOutput needs. */
export function winoOutputScratch(tilesW: i32): i32 {
  return ((tilesW + 3) & ~3) * 16 + 104;
}

/**
 * Output transform of one image: y [O, OH, OW] from M[xi][o][t0 + th * tilesW + tw] (row stride ldm,
 * plane stride ldp floats), clipping the edge tiles. Reads up to 3 floats past the last tile.
 * With `stats` (else 0), also each plane's batch-norm statistics, while its rows are in the stage:
 * stats + 24 o gets the shift k (the plane's first value), sum(y - k) and sum((y - k)^2) in float64,
 * each row of tiles summed in float32 lanes first (assembly/plane-stats.ts). scratch:
 * winoOutputScratch floats.
 */
export function winoOutput(
  m: usize, O: i32, ldm: i32, ldp: i32, t0: i32, tilesH: i32, tilesW: i32, OH: i32, OW: i32, y: usize,
  scratch: usize, stats: usize,
): void {
  const Ws = ((tilesW + 3) & ~3) * 4;
  const rowB = <usize>Ws << 2;
  const stage = scratch; // [4, Ws]: one row of output tiles
  const z = stage + 4 * rowB; // [4][6] vectors: A^T m
  const xiStep = <usize>ldp << 2;
  const acc = z + 384; // the statistics' accumulator
  const ohB = <usize>OW << 2;
  for (let o = 0; o < O; o++) {
    // The plane's shift.
    let k: f32 = 0;
    if (stats) statsReset(acc);
    const mo = m + ((<usize>o * <usize>ldm + <usize>t0) << 2);
    const yo = y + ((<usize>o * <usize>OH * <usize>OW) << 2);
    for (let th = 0; th < tilesH; th++) {
      const mrow = mo + ((<usize>th * <usize>tilesW) << 2);
      for (let tw = 0; tw < tilesW; tw += 4) {
        const p = mrow + (<usize>tw << 2);
        // Columns: z[i][s] = sum_r A^T[i][r] m[r][s], four tiles per vector.
        for (let s = 0; s < 6; s++) {
          const q = p + <usize>s * xiStep;
          outputT(
            v128.load(q),
            v128.load(q + 6 * xiStep),
            v128.load(q + 12 * xiStep),
            v128.load(q + 18 * xiStep),
            v128.load(q + 24 * xiStep),
            v128.load(q + 30 * xiStep),
            z + (<usize>s << 4),
            96,
          );
        }
        // Rows: Y[i][j] = sum_s z[i][s] A^T[j][s], then transposed so each tile's row is contiguous.
        const dst = stage + (<usize>tw << 4);
        for (let i = 0; i < 4; i++) {
          const zi = z + <usize>i * 96;
          const z1 = v128.load(zi, 16);
          const z2 = v128.load(zi, 32);
          const z3 = v128.load(zi, 48);
          const z4 = v128.load(zi, 64);
          const a = f32x4.add(z1, z2);
          const b = f32x4.sub(z1, z2);
          const c = f32x4.add(z3, z4);
          const d = f32x4.sub(z3, z4);
          const y0 = f32x4.add(f32x4.add(v128.load(zi), a), c);
          const y1 = fmadd(b, k4(1.5), f32x4.mul(d, k4(2.0 / 3.0)));
          const y2 = fmadd(a, k4(2.25), f32x4.mul(c, k4(4.0 / 9.0)));
          const y3 = fmadd(b, k4(3.375), fmadd(d, k4(8.0 / 27.0), v128.load(zi, 80)));
          transposeStore(y0, y1, y2, y3, dst + <usize>i * rowB);
        }
      }
      const rows = min(4, OH - 4 * th);
      for (let i = 0; i < rows; i++) {
        memory.copy(yo + <usize>(4 * th + i) * ohB, stage + <usize>i * rowB, ohB);
      }
      if (stats) {
        // This row of tiles' sums about the shift, read from the stage while it is in cache.
        if (th == 0) k = load<f32>(stage);
        statsRows(stage, rowB, rows, OW, f32x4.splat(k), acc);
      }
    }
    if (stats) statsStore(stats + <usize>o * 24, k, acc);
  }
}

/**
 * winoOutput for `images` images whose tiles follow each other from t0 in M and whose outputs lie
 * imageStride floats apart: one pool task covers an output-channel block of a whole chunk.
 */
export function winoOutputImages(
  m: usize, O: i32, ldm: i32, ldp: i32, t0: i32, tilesH: i32, tilesW: i32, OH: i32, OW: i32, y: usize,
  scratch: usize, images: i32, imageStride: i32, stats: usize, statsStride: i32,
): void {
  for (let n = 0; n < images; n++) {
    const yn = y + ((<usize>n * <usize>imageStride) << 2);
    const sn = stats ? stats + <usize>n * <usize>statsStride : 0;
    winoOutput(m, O, ldm, ldp, t0 + n * tilesH * tilesW, tilesH, tilesW, OH, OW, yn, scratch, sn);
  }
}

/**
 * The whole convolution of `images` images x [C, H, W] (C H W floats apart) into y [O, OH, OW] (O OH OW
 * floats apart) for transformed filters U at u (plane stride ldu floats): the input transform into V
 * [36][C][T] at work (T = images * tilesH * tilesW, plane stride ldv floats), the 36 products into M
 * [36][O][T] at work + mOff bytes (plane stride ldm), and the output transform. Scratch at work + tOff
 * (the transforms) and work + gOff (the GEMM). Each output element sums its C products in the order
 * of the chunked path (same GEMM over C), so both paths give the same bits.
 */
export function winoConvImages(
  x: usize, C: i32, H: i32, W: i32, ph: i32, pw: i32, tilesH: i32, tilesW: i32, images: i32,
  u: usize, ldu: i32, O: i32, OH: i32, OW: i32, y: usize, ldv: i32, ldm: i32,
  mOff: i32, tOff: i32, gOff: i32, stats: usize, work: usize,
): void {
  const tiles = tilesH * tilesW;
  const T = images * tiles;
  const v = work;
  const m = work + <usize>mOff;
  const ts = work + <usize>tOff;
  const gs = work + <usize>gOff;
  const xStep = <usize>C * <usize>H * <usize>W * 4;
  const yStep = <usize>O * <usize>OH * <usize>OW * 4;
  for (let n = 0; n < images; n++) {
    winoInput(x + <usize>n * xStep, C, H, W, ph, pw, tilesH, tilesW, v, T, ldv, n * tiles, ts);
  }
  for (let xi = 0; xi < 36; xi++) {
    sgemm(
      O, T, C,
      u + ((<usize>xi * <usize>ldu) << 2), C, 1,
      v + ((<usize>xi * <usize>ldv) << 2), T, 1,
      m + ((<usize>xi * <usize>ldm) << 2), T,
      false, gs,
    );
  }
  for (let n = 0; n < images; n++) {
    const sn = stats ? stats + <usize>n * <usize>O * 24 : 0;
    winoOutput(m, O, T, ldm, n * tiles, tilesH, tilesW, OH, OW, y + <usize>n * yStep, ts, sn);
  }
}
