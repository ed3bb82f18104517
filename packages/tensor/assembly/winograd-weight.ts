// Winograd F(3x3, 4x4) transforms for the weight gradient of 3x3 stride-1 convolutions (see
// src/cpu/wasm/winograd-weight.ts).
//
// dW[o, c, i, j] = sum_n sum_{h, w} gO[n, o, h, w] xpad[n, c, h + i, w + j]. Cut the output grid into
// 4x4 tiles: tile t adds the 3x3 correlation of the 4x4 gradient tile g with the 6x6 padded-input patch
// d under it, A^T [(G g G^T) . (B^T d B)] A. Summed over tiles and images, that is one product per
// transformed point xi (36): M[xi][o][c] = sum_t Gt[xi][o][t] V[xi][c][t], then dW[o, c] = A^T M A.
//
// The 1-D correlation y[i] = sum_a g[a] d[a + i] (3 outputs, 4 taps, 6 data) is the transpose of the
// product of polynomials of degrees 3 and 2 evaluated at 0, 3/2, -3/2, 2/3, -2/3 and infinity, the
// points of the forward transform (assembly/winograd.ts): the data transform B^T is the forward one,
// so winoInput is reused unchanged; G evaluates g (rows (1, p, p^2, p^3), infinity (0, 0, 0, 1)) and
// A^T holds (1, p, p^2) / prod_{l != k} (p_k - p_l) (infinity (0, 0, 1)): it is the forward G
// transposed. Simulated in float32 against float64 (sums over 64 to 400 tiles), these points give
// 0.9e-6..2e-6 of max |dW| (direct im2col: ~3e-7); 0, +-1, +-2 give 2e-6..1.2e-5 and 0, +-1/2, +-2
// 1.6e-6..3.4e-6. The 1/prod factors measured the same in A^T (applied once, to M) as in G; in A^T,
// G has exact coefficients.
//
//   G = | 1    0     0     0    |     A^T = | 1  8/65   8/65  -81/130 -81/130  0 |
//       | 1   3/2   9/4   27/8  |           | 0  12/65 -12/65 -27/65   27/65   0 |
//       | 1  -3/2   9/4  -27/8  |           | 0  18/65  18/65 -18/65  -18/65   1 |
//       | 1   2/3   4/9   8/27  |
//       | 1  -2/3   4/9  -8/27  |
//       | 0    0     0     1    |

import { sgemm } from './gemm';
import { fmadd, k4 } from './lanes';
import { winoInput } from './winograd';

/** The 1-D gradient transform G g of four vectors, stored at dst + r * step (r = 0..5). */
@inline
function gradT(g0: v128, g1: v128, g2: v128, g3: v128, dst: usize, step: usize): void {
  const e1 = fmadd(g2, k4(2.25), g0);
  const o1 = fmadd(g3, k4(3.375), f32x4.mul(g1, k4(1.5)));
  const e2 = fmadd(g2, k4(4.0 / 9.0), g0);
  const o2 = fmadd(g3, k4(8.0 / 27.0), f32x4.mul(g1, k4(2.0 / 3.0)));
  v128.store(dst, g0);
  v128.store(dst + step, f32x4.add(e1, o1));
  v128.store(dst + 2 * step, f32x4.sub(e1, o1));
  v128.store(dst + 3 * step, f32x4.add(e2, o2));
  v128.store(dst + 4 * step, f32x4.sub(e2, o2));
  v128.store(dst + 5 * step, g3);
}

/** The 1-D output transform A^T m of six vectors, stored at dst + i * step (i = 0..2). */
@inline
function weightT(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, step: usize): void {
  const a = f32x4.add(m1, m2);
  const b = f32x4.sub(m1, m2);
  const c = f32x4.add(m3, m4);
  const d = f32x4.sub(m3, m4);
  v128.store(dst, fmadd(a, k4(8.0 / 65.0), fmadd(c, k4(-81.0 / 130.0), m0)));
  v128.store(dst + step, fmadd(b, k4(12.0 / 65.0), f32x4.mul(d, k4(-27.0 / 65.0))));
  v128.store(dst + 2 * step, fmadd(f32x4.sub(a, c), k4(18.0 / 65.0), m5));
}

/** Floats of scratch winoGradOut needs. */
export function winoGradOutScratch(tilesW: i32): i32 {
  const Wp = ((tilesW + 3) & ~3) * 4;
  return 10 * Wp + 24;
}

/**
 * winoInput (the forward input transform, assembly/winograd.ts) for `images` images imageStride floats
 * apart, whose tiles follow each other from t0: one pool task covers a channel block of a whole chunk,
 * so that tasks write disjoint rows of V (per-image tasks of small maps share cache lines).
 */
export function winoInputImages(
  x: usize, C: i32, H: i32, W: i32, ph: i32, pw: i32, tilesH: i32, tilesW: i32,
  v: usize, ldv: i32, ldp: i32, t0: i32, scratch: usize, images: i32, imageStride: i32,
): void {
  for (let n = 0; n < images; n++) {
    const xn = x + ((<usize>n * <usize>imageStride) << 2);
    winoInput(xn, C, H, W, ph, pw, tilesH, tilesW, v, ldv, ldp, t0 + n * tilesH * tilesW, scratch);
  }
}

/**
 * Gradient transform of `images` output gradients g [O, OH, OW] (imageStride floats apart): tile (th, tw)
 * of image n covers rows 4th..4th+3 and columns 4tw..4tw+3 (zero past OH, OW) and goes to
 * Gt[xi][o][t0 + n * tilesH * tilesW + th * tilesW + tw] at u (row stride ldu, plane stride ldp floats).
 */
export function winoGradOut(
  g: usize, O: i32, OH: i32, OW: i32, tilesH: i32, tilesW: i32,
  u: usize, ldu: i32, ldp: i32, t0: i32, scratch: usize, images: i32, imageStride: i32,
): void {
  for (let n = 0; n < images; n++) {
    const gn = g + ((<usize>n * <usize>imageStride) << 2);
    gradImage(gn, O, OH, OW, tilesH, tilesW, u, ldu, ldp, t0 + n * tilesH * tilesW, scratch);
  }
}

/** winoGradOut for one image. */
function gradImage(
  g: usize, O: i32, OH: i32, OW: i32, tilesH: i32, tilesW: i32,
  u: usize, ldu: i32, ldp: i32, t0: i32, scratch: usize,
): void {
  const Wp = ((tilesW + 3) & ~3) * 4; // room for the last group of four tiles
  const rowB = <usize>Wp << 2;
  const rows = scratch; // [4, Wp]: one row of tiles, zero-padded
  const tmp = rows + 4 * rowB; // [6, Wp]: G g for one row of tiles
  const part = tmp + 6 * rowB; // 6 vectors for a partial group of tiles
  const xiStep = <usize>ldp << 2;
  const owB = <usize>OW << 2;
  const tail = rowB - owB;
  for (let o = 0; o < O; o++) {
    const src = g + ((<usize>o * <usize>OH * <usize>OW) << 2);
    const uo = u + ((<usize>o * <usize>ldu + <usize>t0) << 2);
    for (let th = 0; th < tilesH; th++) {
      for (let i = 0; i < 4; i++) {
        const dst = rows + <usize>i * rowB;
        const h = 4 * th + i;
        if (h >= OH) {
          memory.fill(dst, 0, rowB);
          continue;
        }
        memory.copy(dst, src + <usize>h * owB, owB);
        memory.fill(dst + owB, 0, tail);
      }
      // Columns, four gradient columns at a time: tmp[r][col] = sum_a G[r][a] g[4th + a][col].
      for (let col = 0; col < Wp; col += 4) {
        const p = rows + (<usize>col << 2);
        gradT(
          v128.load(p),
          v128.load(p + rowB),
          v128.load(p + 2 * rowB),
          v128.load(p + 3 * rowB),
          tmp + (<usize>col << 2),
          rowB,
        );
      }
      // Rows, four tiles at a time: Gt[r][s] = sum_b tmp[r][4tw + b] G[s][b].
      const urow = uo + ((<usize>th * <usize>tilesW) << 2);
      for (let tw = 0; tw < tilesW; tw += 4) {
        const n = tilesW - tw;
        for (let r = 0; r < 6; r++) {
          const q = tmp + <usize>r * rowB + (<usize>tw << 4);
          const q0 = v128.load(q);
          const q1 = v128.load(q, 16);
          const q2 = v128.load(q, 32);
          const q3 = v128.load(q, 48);
          // Transpose: c_b holds column b of the four tiles.
          const a0 = v128.shuffle<f32>(q0, q1, 0, 4, 1, 5);
          const a1 = v128.shuffle<f32>(q0, q1, 2, 6, 3, 7);
          const a2 = v128.shuffle<f32>(q2, q3, 0, 4, 1, 5);
          const a3 = v128.shuffle<f32>(q2, q3, 2, 6, 3, 7);
          const c0 = v128.shuffle<f32>(a0, a2, 0, 1, 4, 5);
          const c1 = v128.shuffle<f32>(a0, a2, 2, 3, 6, 7);
          const c2 = v128.shuffle<f32>(a1, a3, 0, 1, 4, 5);
          const c3 = v128.shuffle<f32>(a1, a3, 2, 3, 6, 7);
          const dst = urow + (<usize>tw << 2) + <usize>(r * 6) * xiStep;
          if (n >= 4) {
            gradT(c0, c1, c2, c3, dst, xiStep);
          } else {
            gradT(c0, c1, c2, c3, part, 16);
            for (let s = 0; s < 6; s++) {
              const d = dst + <usize>s * xiStep;
              const ps = part + (<usize>s << 4);
              for (let l = 0; l < n; l++) store<f32>(d + (<usize>l << 2), load<f32>(ps + (<usize>l << 2)));
            }
          }
        }
      }
    }
  }
}

/**
 * The products M[xi] [O, C] (+)= Gt[xi] [O, K] V[xi]^T for xi in [xi0, xi1): Gt at u (row stride ldu,
 * plane stride ldpu), V at v as [C, K] rows (row stride ldv, plane stride ldpv), M at m (row stride C,
 * plane stride ldpm). One task of the pool runs a few whole products, with its own GEMM scratch.
 */
export function winoWeightGemm(
  u: usize, ldu: i32, ldpu: i32, v: usize, ldv: i32, ldpv: i32, m: usize, ldpm: i32,
  O: i32, C: i32, K: i32, xi0: i32, xi1: i32, accumulate: bool, scratch: usize,
): void {
  for (let xi = xi0; xi < xi1; xi++) {
    sgemm(
      O, C, K,
      u + ((<usize>xi * <usize>ldpu) << 2), ldu, 1,
      v + ((<usize>xi * <usize>ldpv) << 2), 1, ldv,
      m + ((<usize>xi * <usize>ldpm) << 2), C,
      accumulate, scratch,
    );
  }
}

/** The sum of `parts` vectors `step` bytes apart from q, in order. */
@inline
function sumParts(q: usize, parts: i32, step: usize): v128 {
  let s = v128.load(q);
  for (let p = 1; p < parts; p++) s = f32x4.add(s, v128.load(q + <usize>p * step));
  return s;
}

/**
 * Output transform: dW[o][c] (3x3 floats, at dw + (o * ldw + c) * 36 bytes) for o < O, c < C from
 * M[xi][o][c] at m (row stride ldm, plane stride ldp floats), four input channels per vector; M is the
 * sum, in order, of `parts` partial sums partStride floats apart (winoWeightImages). Reads up to 3
 * floats past the last row. scratch: 27 * 4 floats.
 */
export function winoWeightOut(
  m: usize, O: i32, C: i32, ldm: i32, ldp: i32, dw: usize, ldw: i32, scratch: usize, parts: i32, partStride: i32,
): void {
  const plane = <usize>ldp << 2;
  const ps = <usize>partStride << 2;
  const z = scratch; // [3][6] vectors: A^T m
  const y = scratch + 18 * 16; // 9 vectors: the 3x3 results of four channels
  for (let o = 0; o < O; o++) {
    for (let c0 = 0; c0 < C; c0 += 4) {
      const n = min(4, C - c0);
      const p = m + ((<usize>o * <usize>ldm + <usize>c0) << 2);
      // Columns: z[i][s] = sum_r A^T[i][r] M[r][s].
      for (let s = 0; s < 6; s++) {
        const q = p + <usize>s * plane;
        weightT(
          sumParts(q, parts, ps),
          sumParts(q + 6 * plane, parts, ps),
          sumParts(q + 12 * plane, parts, ps),
          sumParts(q + 18 * plane, parts, ps),
          sumParts(q + 24 * plane, parts, ps),
          sumParts(q + 30 * plane, parts, ps),
          z + (<usize>s << 4),
          96,
        );
      }
      // Rows: Y[i][j] = sum_s z[i][s] A^T[j][s].
      for (let i = 0; i < 3; i++) {
        const zi = z + <usize>i * 96;
        weightT(
          v128.load(zi),
          v128.load(zi, 16),
          v128.load(zi, 32),
          v128.load(zi, 48),
          v128.load(zi, 64),
          v128.load(zi, 80),
          y + <usize>(i * 3) * 16,
          16,
        );
      }
      // Lane l of vector q is tap q of channel c0 + l: dW[o, c0 + l, q].
      const dst = dw + ((<usize>o * <usize>ldw + <usize>c0) * 36);
      for (let l = 0; l < n; l++) {
        const d = dst + <usize>l * 36;
        const src = y + (<usize>l << 2);
        for (let q = 0; q < 9; q++) store<f32>(d + (<usize>q << 2), load<f32>(src + (<usize>q << 4)));
      }
    }
  }
}

/**
 * One partial sum of the weight gradient's products over `images` images, in steps of `per` images:
 * per step, the steps' input transform into V [36][C][K] at work and gradient transform into Gt
 * [36][O][K] at work + uOff bytes (K = the step's tiles; plane strides ldv and ldu floats), then
 * M[xi] [O, C] (+)= Gt[xi] V[xi]^T into m (row stride C, plane stride ldm floats), the first step
 * writing, the rest adding. V and Gt stay in the thread's cache. Scratch at work + tOff (transforms) and
 * work + gOff (GEMM).
 */
export function winoWeightImages(
  x: usize, C: i32, H: i32, W: i32, ph: i32, pw: i32, tilesH: i32, tilesW: i32,
  g: usize, O: i32, OH: i32, OW: i32, images: i32, per: i32, m: usize, ldm: i32,
  ldv: i32, ldu: i32, uOff: i32, tOff: i32, gOff: i32, work: usize,
): void {
  const tiles = tilesH * tilesW;
  const v = work;
  const u = work + <usize>uOff;
  const ts = work + <usize>tOff;
  const gs = work + <usize>gOff;
  const xStep = <usize>C * <usize>H * <usize>W * 4;
  const gStep = <usize>O * <usize>OH * <usize>OW * 4;
  for (let n0 = 0; n0 < images; n0 += per) {
    const cnt = min(per, images - n0);
    const K = cnt * tiles;
    for (let n = 0; n < cnt; n++) {
      const i = <usize>(n0 + n);
      winoInput(x + i * xStep, C, H, W, ph, pw, tilesH, tilesW, v, K, ldv, n * tiles, ts);
      gradImage(g + i * gStep, O, OH, OW, tilesH, tilesW, u, K, ldu, n * tiles, ts);
    }
    for (let xi = 0; xi < 36; xi++) {
      sgemm(
        O, C, K,
        u + ((<usize>xi * <usize>ldu) << 2), K, 1,
        v + ((<usize>xi * <usize>ldv) << 2), 1, K,
        m + ((<usize>xi * <usize>ldm) << 2), C,
        n0 > 0, gs,
      );
    }
  }
}
