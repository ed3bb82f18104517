// Transforms for 3x3 stride-2 convolutions by phases and Winograd F(4, 2) (see
// src/cpu/wasm/winograd-s2.ts).
//
// Output (i, j) of a stride-2 3x3 convolution reads padded input (2i + a, 2j + b). Split the padded input
// into its four phases X_q[i][j] = x[2i + al][2j + be] (q = 2 al + be) and the filter into the
// sub-filters k_q[u][v] = g[2u + al][2v + be]: 2x2 for the even-even phase, 2x1 (even rows, odd
// columns), 1x2 and 1x1. The convolution is the sum over q of the stride-1 convolutions of X_q with k_q,
// each by Winograd F(4, 2) along the dimensions where its filter has two taps: per 4x4 output tile and
// channel, 25 products (ee: F(4x4, 2x2) over a 5x5 tile, Y = A^T [(G k G^T) . (B^T d B)] A), 20 (eo:
// rows transformed, 5x4), 20 (oe) and 16 (oo: the phase itself), 81 in all where the direct
// convolution does 144.
//
// Toom-Cook at 0, 1, -1, 2 and infinity, with B^T's rows scaled to integers (their factors moved into G):
//
//   B^T = | 2  -1  -2   1   0 |      G = | 1/2   0  |      A^T = | 1  1   1  1  0 |
//         | 0   2   1  -1   0 |          | 1/2  1/2 |            | 0  1  -1  2  0 |
//         | 0  -2   3  -1   0 |          | 1/6 -1/6 |            | 0  1   1  4  0 |
//         | 0  -1   0   1   0 |          | 1/6  1/3 |            | 0  1  -1  8  1 |
//         | 0   2  -1  -2   1 |          |  0    1  |
//
// Measured against the float64 reference on ResNet's strided shapes (64 to 512 input channels), the
// output's error is 2.5e-6 to 5e-6 of its largest magnitude (F(4x4, 3x3) of the stride-1 path:
// 1e-6..3e-6; direct: ~4e-7). scripts/winograd-error.py derives the matrices and compares points.
//
// U is [36][O][C]: planes 0-24 ee (5r + s), 25-29 eo (r), 30-34 oe (s), 35 oo. For a chunk of T tiles, V and M hold the ee planes [25][C][T] and
// [25][O][T] (column t), the eo and oe planes [10][C][4T] and [10][O][4T] (eo column j T + t for the
// tile's column j, oe column i T + t for its row i) and the oo plane [C][16T] and [O][16T] (column
// (4i + j) T + t). Every transform works on f32x4 vectors of four channels, image columns or tiles.

import { filterTaps4, fmadd, k4, storeLanes, transposeStore } from './lanes';
import { statsReset, statsRows, statsStore } from './plane-stats';

/** The 1-D filter transform G k of two vectors, stored at dst + r * step (r = 0..4). */
@inline
function filterT2(g0: v128, g1: v128, dst: usize, step: usize): void {
  v128.store(dst, f32x4.mul(g0, k4(0.5)));
  v128.store(dst + step, f32x4.mul(f32x4.add(g0, g1), k4(0.5)));
  v128.store(dst + 2 * step, f32x4.mul(f32x4.sub(g0, g1), k4(1.0 / 6.0)));
  v128.store(dst + 3 * step, fmadd(g1, k4(1.0 / 3.0), f32x4.mul(g0, k4(1.0 / 6.0))));
  v128.store(dst + 4 * step, g1);
}

/** The 1-D input transform B^T d of five vectors, stored at dst + r * step (r = 0..4). */
@inline
function inputT2(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, dst: usize, step: usize): void {
  const a = f32x4.sub(d3, d1);
  v128.store(dst, fmadd(f32x4.sub(d0, d2), k4(2.0), a));
  v128.store(dst + step, fmadd(d1, k4(2.0), f32x4.sub(d2, d3)));
  v128.store(dst + 2 * step, f32x4.sub(f32x4.mul(d2, k4(3.0)), fmadd(d1, k4(2.0), d3)));
  v128.store(dst + 3 * step, a);
  v128.store(dst + 4 * step, fmadd(f32x4.sub(d1, d3), k4(2.0), f32x4.sub(d4, d2)));
}

/** The 1-D output transform A^T m of five vectors, stored at dst + i * step (i = 0..3). */
@inline
function outputT2(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, dst: usize, step: usize): void {
  const s = f32x4.add(m1, m2);
  const d = f32x4.sub(m1, m2);
  v128.store(dst, f32x4.add(f32x4.add(m0, s), m3));
  v128.store(dst + step, fmadd(m3, k4(2.0), d));
  v128.store(dst + 2 * step, fmadd(m3, k4(4.0), s));
  v128.store(dst + 3 * step, f32x4.add(fmadd(m3, k4(8.0), d), m4));
}

/** outputT2 of the five vectors at q, q + from, ..., q + 4 from. */
@inline
function outputT2At(q: usize, from: usize, dst: usize, step: usize): void {
  outputT2(v128.load(q), v128.load(q + from), v128.load(q + 2 * from), v128.load(q + 3 * from), v128.load(q + 4 * from), dst, step);
}

/**
 * Filter transform for filters [O, C, 3, 3] at w (C a multiple of 4): U[xi][o][c] (row stride C, plane
 * stride ldp floats) for the 36 planes above. scratch: 19 vectors.
 */
export function winoWeightsS2(w: usize, O: i32, C: i32, u: usize, ldp: i32, scratch: usize): void {
  const plane = <usize>ldp << 2;
  const g = scratch; // 9 vectors: tap i of four filters at g + 16 i
  const t = scratch + 9 * 16; // [5][2] vectors: G k of the ee sub-filter
  const cStep: usize = 36;
  for (let o = 0; o < O; o++) {
    for (let c0 = 0; c0 < C; c0 += 4) {
      const p0 = w + (<usize>o * <usize>C + <usize>c0) * 36;
      const p1 = p0 + cStep;
      const p2 = p0 + 2 * cStep;
      const p3 = p0 + 3 * cStep;
      filterTaps4(p0, p1, p2, p3, g);
      const dst = u + ((<usize>o * <usize>C + <usize>c0) << 2);
      // ee: k = [[g0, g2], [g6, g8]]; columns first (t = G k), then rows (U = t G^T).
      filterT2(v128.load(g), v128.load(g, 96), t, 32);
      filterT2(v128.load(g, 32), v128.load(g, 128), t + 16, 32);
      for (let r = 0; r < 5; r++) {
        const tr = t + <usize>r * 32;
        filterT2(v128.load(tr), v128.load(tr, 16), dst + <usize>(r * 5) * plane, plane);
      }
      // eo: (g1, g7) down the rows; oe: (g3, g5) along the columns; oo: g4.
      filterT2(v128.load(g, 16), v128.load(g, 112), dst + 25 * plane, plane);
      filterT2(v128.load(g, 48), v128.load(g, 80), dst + 30 * plane, plane);
      v128.store(dst + 35 * plane, v128.load(g, 64));
    }
  }
}

/** Floats of scratch winoInputS2 needs. */
export function winoInputS2Scratch(tilesH: i32, tilesW: i32): i32 {
  const Wp = ((tilesW + 3) & ~3) * 4 + 4;
  return (tilesH * 4 + 1 + 5) * Wp + 20;
}

/** Stores the first n (<= 4) lanes of `x` at dst. */
@inline
function storeN(dst: usize, x: v128, n: i32, tmp: usize): void {
  if (n >= 4) {
    v128.store(dst, x);
    return;
  }
  v128.store(tmp, x);
  storeLanes(dst, tmp, n);
}

/** Fills `dst` ([Hp, Wp]) with phase (al, be) of the channel at src [H, W] padded by (ph, pw). */
function phasePlane(
  src: usize, H: i32, W: i32, ph: i32, pw: i32, al: i32, be: i32, Hp: i32, Wp: i32, dst: usize,
): void {
  const rowB = <usize>Wp << 2;
  // Columns j of the phase read input column 2j + be - pw: inside for j in [jlo, jhi).
  const jlo = min(Wp, max(0, (pw - be + 1) >> 1));
  const jhi = max(jlo, min(Wp, W + pw - be > 0 ? (W + pw - be + 1) >> 1 : 0));
  for (let r = 0; r < Hp; r++) {
    const d = dst + <usize>r * rowB;
    const h = 2 * r + al - ph;
    if (h < 0 || h >= H) {
      memory.fill(d, 0, rowB);
      continue;
    }
    const row = src + ((<usize>h * <usize>W) << 2);
    if (jlo > 0) memory.fill(d, 0, <usize>jlo << 2);
    let j = jlo;
    // Four phase columns read 8 input floats from 2j + be - pw: all inside the row.
    for (; j + 4 <= jhi && 2 * j + be - pw + 8 <= W; j += 4) {
      const p = row + (<usize>(2 * j + be - pw) << 2);
      v128.store(d + (<usize>j << 2), v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
    }
    for (; j < jhi; j++) store<f32>(d + (<usize>j << 2), load<f32>(row + (<usize>(2 * j + be - pw) << 2)));
    if (jhi < Wp) memory.fill(d + (<usize>jhi << 2), 0, <usize>(Wp - jhi) << 2);
  }
}

/**
 * Input transform of channels [c0, c0 + cn) of one image x [C, H, W] with padding (ph, pw), for tiles
 * t0 + th * tilesW + tw of a chunk laid out for T tiles: the ee planes at v (plane stride ldp floats),
 * the eo and oe planes at v4 (plane stride ldp4) and the oo plane at voo (see the layout above). With
 * `room` (T at least 3 more than the chunk's tiles), a last group of tiles stores whole vectors.
 */
export function winoInputS2(
  x: usize, c0: i32, cn: i32, H: i32, W: i32, ph: i32, pw: i32, tilesH: i32, tilesW: i32,
  v: usize, ldp: i32, v4: usize, ldp4: i32, voo: usize, T: i32, room: bool, t0: i32, scratch: usize,
): void {
  const Wp = ((tilesW + 3) & ~3) * 4 + 4; // room for the last group of four tiles
  const Hp = tilesH * 4 + 1;
  const rowB = <usize>Wp << 2;
  const padded = scratch; // [Hp, Wp]: one phase of one channel, zero-padded
  const tmp = padded + <usize>Hp * rowB; // [5, Wp]: B^T d for one row of tiles
  const part = tmp + 5 * rowB; // 5 vectors for a partial group of tiles
  const xiStep = <usize>ldp << 2;
  const xiStep4 = <usize>ldp4 << 2;
  const Tb = <usize>T << 2;
  for (let c = c0; c < c0 + cn; c++) {
    const src = x + ((<usize>c * <usize>H * <usize>W) << 2);
    const vee = v + ((<usize>c * <usize>T + <usize>t0) << 2);
    const veo = v4 + ((<usize>c * <usize>(4 * T) + <usize>t0) << 2);
    const voe = veo + 5 * xiStep4;
    const vo = voo + ((<usize>c * <usize>(16 * T) + <usize>t0) << 2);
    for (let q = 0; q < 4; q++) {
      phasePlane(src, H, W, ph, pw, q >> 1, q & 1, Hp, Wp, padded);
      for (let th = 0; th < tilesH; th++) {
        const rows = padded + <usize>(4 * th) * rowB;
        const tt = <usize>(th * tilesW) << 2;
        if (q < 2) {
          // Even phase rows: columns four at a time, tmp[r][col] = sum_i B^T[r][i] X[4th + i][col].
          for (let col = 0; col < Wp; col += 4) {
            const p = rows + (<usize>col << 2);
            inputT2(
              v128.load(p),
              v128.load(p + rowB),
              v128.load(p + 2 * rowB),
              v128.load(p + 3 * rowB),
              v128.load(p + 4 * rowB),
              tmp + (<usize>col << 2),
              rowB,
            );
          }
        }
        // ee and oe transform the rows of four tiles along their columns (the five rows of tmp, or the
        // tiles' four phase rows); eo and oo store the tiles' columns as they are.
        const nr = q == 0 || q == 1 ? 5 : 4;
        for (let tw = 0; tw < tilesW; tw += 4) {
          const tw4 = <usize>tw << 2;
          for (let r = 0; r < nr; r++) {
            const qp = (q < 2 ? tmp : rows) + <usize>r * rowB + (<usize>tw << 4);
            const q0 = v128.load(qp);
            const q1 = v128.load(qp, 16);
            const q2 = v128.load(qp, 32);
            const q3 = v128.load(qp, 48);
            // Transpose: e_j holds column j of the four tiles (column 4 is the next tile's column 0).
            const a0 = v128.shuffle<f32>(q0, q1, 0, 4, 1, 5);
            const a1 = v128.shuffle<f32>(q0, q1, 2, 6, 3, 7);
            const a2 = v128.shuffle<f32>(q2, q3, 0, 4, 1, 5);
            const a3 = v128.shuffle<f32>(q2, q3, 2, 6, 3, 7);
            const e0 = v128.shuffle<f32>(a0, a2, 0, 1, 4, 5);
            const e1 = v128.shuffle<f32>(a0, a2, 2, 3, 6, 7);
            const e2 = v128.shuffle<f32>(a1, a3, 0, 1, 4, 5);
            const e3 = v128.shuffle<f32>(a1, a3, 2, 3, 6, 7);
            // With `room`, a last group of fewer than four tiles stores all four lanes: the extra ones
            // land on tiles stored later in this task, or in the columns of room past the last tile.
            const n = room ? 4 : tilesW - tw;
            if (q == 0 || q == 2) {
              const e4 = v128.shuffle<f32>(e0, v128.load(qp, 64), 1, 2, 3, 4);
              // ee: V[5r + s] at column t; oe: V[s] at column r T + t.
              const dst = q == 0 ? vee + tt + tw4 + <usize>(r * 5) * xiStep : voe + <usize>r * Tb + tt + tw4;
              const step = q == 0 ? xiStep : xiStep4;
              if (n >= 4) {
                inputT2(e0, e1, e2, e3, e4, dst, step);
              } else {
                inputT2(e0, e1, e2, e3, e4, part, 16);
                for (let s = 0; s < 5; s++) storeLanes(dst + <usize>s * step, part + (<usize>s << 4), n);
              }
            } else {
              // eo: V[r] at column j T + t; oo: V at column (4r + j) T + t.
              const dst = q == 1 ? veo + <usize>r * xiStep4 + tt + tw4 : vo + <usize>(4 * r) * Tb + tt + tw4;
              storeN(dst, e0, n, part);
              storeN(dst + Tb, e1, n, part);
              storeN(dst + 2 * Tb, e2, n, part);
              storeN(dst + 3 * Tb, e3, n, part);
            }
          }
        }
      }
    }
  }
}

/** winoInputS2 for `images` images imageStride floats apart, their tiles one after another from t0. */
export function winoInputS2Images(
  x: usize, c0: i32, cn: i32, H: i32, W: i32, ph: i32, pw: i32, tilesH: i32, tilesW: i32,
  v: usize, ldp: i32, v4: usize, ldp4: i32, voo: usize, T: i32, room: bool, scratch: usize, images: i32,
  imageStride: i32,
): void {
  for (let n = 0; n < images; n++) {
    const xn = x + ((<usize>n * <usize>imageStride) << 2);
    const t0 = n * tilesH * tilesW;
    winoInputS2(xn, c0, cn, H, W, ph, pw, tilesH, tilesW, v, ldp, v4, ldp4, voo, T, room, t0, scratch);
  }
}

/** Floats of scratch winoOutputS2 needs. */
export function winoOutputS2Scratch(tilesW: i32): i32 {
  return ((tilesW + 3) & ~3) * 16 + 216;
}

/**
 * Output transform of one image: y [O, OH, OW] from M (the planes at m, m4 and moo, laid out as V for
 * a chunk of T tiles) for tiles t0 + th * tilesW + tw, clipping the edge tiles. Reads up to 3 floats
 * past the last tile. With `stats` (else 0), also each plane's batch-norm statistics at stats + 24 o,
 * as winoOutput computes them (assembly/plane-stats.ts).
 */
export function winoOutputS2(
  m: usize, ldp: i32, m4: usize, ldp4: i32, moo: usize, O: i32, T: i32, t0: i32, tilesH: i32, tilesW: i32,
  OH: i32, OW: i32, y: usize, scratch: usize, stats: usize,
): void {
  const Ws = ((tilesW + 3) & ~3) * 4;
  const rowB = <usize>Ws << 2;
  const stage = scratch; // [4, Ws]: one row of output tiles
  const z = stage + 4 * rowB; // [4][5] vectors: A^T m of ee
  const zeo = z + 320; // [4 i][4 j] vectors: eo's outputs
  const zoe = zeo + 256; // [4 i][4 j] vectors: oe's outputs
  const acc = zoe + 256; // the statistics' accumulator
  const xiStep = <usize>ldp << 2;
  const xiStep4 = <usize>ldp4 << 2;
  const Tb = <usize>T << 2;
  const ohB = <usize>OW << 2;
  for (let o = 0; o < O; o++) {
    // The plane's shift.
    let k: f32 = 0;
    if (stats) statsReset(acc);
    const mo = m + ((<usize>o * <usize>T + <usize>t0) << 2);
    const meo = m4 + ((<usize>o * <usize>(4 * T) + <usize>t0) << 2);
    const moe = meo + 5 * xiStep4;
    const mo16 = moo + ((<usize>o * <usize>(16 * T) + <usize>t0) << 2);
    const yo = y + ((<usize>o * <usize>OH * <usize>OW) << 2);
    for (let th = 0; th < tilesH; th++) {
      const tt = <usize>(th * tilesW) << 2;
      for (let tw = 0; tw < tilesW; tw += 4) {
        const col = tt + (<usize>tw << 2);
        const p = mo + col;
        // ee columns: z[i][s] = sum_r A^T[i][r] m[r][s], four tiles per vector.
        for (let s = 0; s < 5; s++) {
          const q = p + <usize>s * xiStep;
          outputT2At(q, 5 * xiStep, z + (<usize>s << 4), 80);
        }
        // eo: zeo[i][j] = sum_r A^T[i][r] m[r] at column j T + t.
        for (let j = 0; j < 4; j++) {
          const q = meo + <usize>j * Tb + col;
          outputT2At(q, xiStep4, zeo + (<usize>j << 4), 64);
        }
        // oe: zoe[i][j] = sum_s m[s] at column i T + t times A^T[j][s].
        for (let i = 0; i < 4; i++) {
          const q = moe + <usize>i * Tb + col;
          outputT2At(q, xiStep4, zoe + <usize>i * 64, 16);
        }
        // Rows: Y[i][j] = sum_s z[i][s] A^T[j][s] + eo + oe + oo, then transposed so each tile's row
        // is contiguous.
        const dst = stage + (<usize>tw << 4);
        for (let i = 0; i < 4; i++) {
          const zi = z + <usize>i * 80;
          const z1 = v128.load(zi, 16);
          const z2 = v128.load(zi, 32);
          const z3 = v128.load(zi, 48);
          const s = f32x4.add(z1, z2);
          const d = f32x4.sub(z1, z2);
          const ei = zeo + <usize>i * 64;
          const oi = zoe + <usize>i * 64;
          const pi = mo16 + <usize>(4 * i) * Tb + col;
          const y0 = f32x4.add(f32x4.add(v128.load(zi), s), z3);
          const y1 = fmadd(z3, k4(2.0), d);
          const y2 = fmadd(z3, k4(4.0), s);
          const y3 = f32x4.add(fmadd(z3, k4(8.0), d), v128.load(zi, 64));
          transposeStore(
            f32x4.add(f32x4.add(y0, v128.load(ei)), f32x4.add(v128.load(oi), v128.load(pi))),
            f32x4.add(f32x4.add(y1, v128.load(ei, 16)), f32x4.add(v128.load(oi, 16), v128.load(pi + Tb))),
            f32x4.add(f32x4.add(y2, v128.load(ei, 32)), f32x4.add(v128.load(oi, 32), v128.load(pi + 2 * Tb))),
            f32x4.add(f32x4.add(y3, v128.load(ei, 48)), f32x4.add(v128.load(oi, 48), v128.load(pi + 3 * Tb))),
            dst + <usize>i * rowB,
          );
        }
      }
      const rows = min(4, OH - 4 * th);
      for (let i = 0; i < rows; i++) {
        memory.copy(yo + <usize>(4 * th + i) * ohB, stage + <usize>i * rowB, ohB);
      }
      if (stats) {
        if (th == 0) k = load<f32>(stage);
        statsRows(stage, rowB, rows, OW, f32x4.splat(k), acc);
      }
    }
    if (stats) statsStore(stats + <usize>o * 24, k, acc);
  }
}

/**
 * winoOutputS2 for `images` images imageStride floats apart, their tiles one after another from 0; with
 * `stats`, image n's planes' statistics at stats + n statsStride bytes.
 */
export function winoOutputS2Images(
  m: usize, ldp: i32, m4: usize, ldp4: i32, moo: usize, O: i32, T: i32, tilesH: i32, tilesW: i32,
  OH: i32, OW: i32, y: usize, scratch: usize, images: i32, imageStride: i32, stats: usize, statsStride: i32,
): void {
  for (let n = 0; n < images; n++) {
    const yn = y + ((<usize>n * <usize>imageStride) << 2);
    const sn = stats ? stats + <usize>n * <usize>statsStride : 0;
    const t0 = n * tilesH * tilesW;
    winoOutputS2(m, ldp, m4, ldp4, moo, O, T, t0, tilesH, tilesW, OH, OW, yn, scratch, sn);
  }
}
