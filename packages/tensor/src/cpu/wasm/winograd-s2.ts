// 3x3 stride-2 convolutions by phases and Winograd F(4, 2) in WebAssembly (transforms, layout and the
// derivation in assembly/winograd-s2.ts). The padded input splits into four phases (even or odd rows
// and columns) and the filter into 2x2, 2x1, 1x2 and 1x1 sub-filters, so the strided convolution is a
// sum of four stride-1 ones, each by Winograd F(4, 2) where its filter has two taps: filters go to
// U[36][O][C], chunks of images to V (81 transformed values per tile and channel), the products
// M[xi] = U[xi] V[xi] run on the GEMM kernel (three pool jobs), and M is transformed back. 81
// multiply-adds per 4x4 output tile and input channel, where the direct convolution does 144.
// Accuracy: 2.5e-6 to 5e-6 of the output's largest magnitude on ResNet's shapes (stride-1 Winograd:
// 1e-6..3e-6; direct: ~4e-7).

import type { Conv2dParams } from '../../backend.js';
import { applyEpilogue, type ConvEpilogue } from './conv.js';
import { withFrame } from './heap.js';
import { gemmScratch } from './kernels.js';
import { getNumThreads, parallelCalls, parallelSgemmBatch } from './threads.js';
import {
  MAX_CHUNK_FLOATS,
  MIN_WORK,
  outputTasks,
  planeStride,
  winogradShape,
  winogradTilesPay,
} from './winograd.js';

interface S2Exports {
  winoInputS2Scratch(tilesH: number, tilesW: number): number;
  winoOutputS2Scratch(tilesW: number): number;
}

/**
 * Whether a float32 convolution x [N, C, H, W] * w [O, C, 3, 3] -> [N, O, OH, OW] takes this path:
 * stride 2 and otherwise what the stride-1 path takes (winogradShape), input channels a multiple of 4,
 * at least 2^20 direct multiply-adds, tiles that waste at most a quarter of their outputs, at least two
 * tiles a row and a column, and enough output pixels to pay for the filter transform. Measured on 2
 * threads against the direct path: ResNet's strided layers at batch 16 16-18% faster (28x28, 14x14 and
 * 7x7 outputs), batch 1 at 28x28 output 10% faster and at 14x14 even; slower where it is not taken (a
 * batch of 2 at 7x7 with 256 -> 512 channels, where the filter transform dominates: 3.4 -> 3.9 ms; one
 * tile per image at 4x4).
 */
export function useWinogradS2(
  wShape: readonly number[],
  p: Conv2dParams,
  outShape: readonly number[],
): boolean {
  const [O, C] = wShape;
  const [N, , OH, OW] = outShape;
  return (
    winogradShape(wShape, p, 2) &&
    C % 4 === 0 &&
    winogradTilesPay(OH, OW) &&
    OH > 4 &&
    OW > 4 &&
    N * OH * OW * 1024 >= 64 * 2048 + C * O &&
    O * C * 9 * N * OH * OW >= MIN_WORK
  );
}

/**
 * Forward 3x3 stride-2 convolution (see useWinogradS2); null where WebAssembly is unavailable. With
 * `stats` (3 N O float64, and no epilogue), also each output plane's batch-norm statistics from the
 * output transform (winoOutputS2): [n][o] = shift, sum, sum of squares.
 */
export function winogradS2Conv2d(
  x: Float32Array,
  xOff: number,
  xShape: readonly number[],
  w: Float32Array,
  wOff: number,
  wShape: readonly number[],
  p: Conv2dParams,
  outShape: readonly number[],
  ep: ConvEpilogue | null = null,
  stats: Float64Array | null = null,
): Float32Array | null {
  const [N, C, H, W] = xShape;
  const O = wShape[0];
  const [, , OH, OW] = outShape;
  const [ph, pw] = p.padding;
  const tilesH = Math.ceil(OH / 4);
  const tilesW = Math.ceil(OW / 4);
  const tiles = tilesH * tilesW;
  const nb = Math.max(1, Math.min(N, Math.floor(MAX_CHUNK_FLOATS / (81 * Math.max(C, O) * tiles))));
  // Columns per row block: a chunk's tiles, rounded up to a cache line so that rows start on one. Where
  // that leaves 3 columns of room past the last tile or costs at most 1/16 more, the input transform
  // stores whole vectors for a last group of tiles (no lane-by-lane stores).
  const whole = (n: number) => Math.ceil((n * tiles + 3) / 16) * 16;
  const lined = (n: number) => Math.ceil((n * tiles) / 16) * 16;
  const room = (n: number) => whole(n) * 16 <= n * tiles * 17;
  const cols = (n: number) => (room(n) ? whole(n) : lined(n));
  const T = cols(nb);
  const xLen = N * C * H * W;
  const yLen = N * O * OH * OW;
  const ldU = planeStride(O * C);
  // V and M: 25 planes of T columns (ee), 10 of 4T (eo, oe) and one of 16T (oo); see the layout in
  // assembly/winograd-s2.ts. Each chunk lays its planes out for its own tile count.
  const ldV = planeStride(C * T);
  const ldV4 = planeStride(4 * C * T);
  const ldM = planeStride(O * T);
  const ldM4 = planeStride(4 * O * T);
  return withFrame((f, k) => {
    const e = k.exports as unknown as S2Exports;
    const threads = getNumThreads();
    const parts = threads > 1 ? 4 * threads : 1;
    const cBlock = Math.ceil(C / Math.min(C, parts) / 4) * 4;
    const oBlock = Math.ceil(O / Math.min(O, parts));
    const tScratch =
      Math.ceil(Math.max(e.winoInputS2Scratch(tilesH, tilesW), e.winoOutputS2Scratch(tilesW), 76) / 16) * 16;
    const tTasks = Math.max(Math.ceil(C / cBlock), Math.ceil(O / oBlock));
    const scratch = gemmScratch();
    const [up, vp, v4, voo, mp, m4, moo, tp, sp, stp] = f.region([
      36 * ldU,
      25 * ldV,
      10 * ldV4,
      16 * C * T + 4,
      25 * ldM,
      10 * ldM4,
      16 * O * T + 4,
      tScratch * tTasks,
      scratch * threads,
      stats ? 6 * N * O : 0,
    ]);
    // Each [O, OH, OW] plane's statistics (winoOutputS2), [N][O][3] float64 at stp.
    const statsAt = (n: number, o: number) => (stats ? stp + (n * O + o) * 24 : 0);
    const xp = f.input(x, xOff, xLen);
    const wp = f.input(w, wOff, O * C * 9);
    const y = f.output(yLen);
    const yp = y.ptr;
    // Filter transform by output-channel blocks.
    const wTasks: number[][] = [];
    for (let o0 = 0; o0 < O; o0 += oBlock) {
      const sc = tp + wTasks.length * tScratch * 4;
      wTasks.push([wp + o0 * C * 36, Math.min(oBlock, O - o0), C, up + o0 * C * 4, ldU, sc]);
    }
    parallelCalls(k, 'winoWeightsS2', wTasks);
    const stride = Math.ceil(scratch / 16) * 64;
    for (let n0 = 0; n0 < N; n0 += nb) {
      const cnt = Math.min(nb, N - n0);
      // This chunk's layout: Tc columns per row block.
      const Tc = cols(cnt);
      // Input transform by channel blocks over the chunk's images (disjoint rows of V).
      const x0 = xp + n0 * C * H * W * 4;
      const inTasks: number[][] = [];
      for (let c0 = 0; c0 < C; c0 += cBlock) {
        const sc = tp + inTasks.length * tScratch * 4;
        const cn = Math.min(cBlock, C - c0);
        inTasks.push([
          x0,
          c0,
          cn,
          H,
          W,
          ph,
          pw,
          tilesH,
          tilesW,
          vp,
          ldV,
          v4,
          ldV4,
          voo,
          Tc,
          room(cnt) ? 1 : 0,
          sc,
          cnt,
          C * H * W,
        ]);
      }
      parallelCalls(k, 'winoInputS2Images', inTasks);
      // The products, as three pool jobs: M[xi] = U[xi] [O, C] x V[xi] [C, n] for the chunk's tiles (25
      // ee planes), 4 Tc (eo and oe, 10 planes) and 16 Tc (oo); the last two multiply the room too.
      parallelSgemmBatch(
        k,
        25,
        [ldU, ldV, ldM],
        O,
        cnt * tiles,
        C,
        up,
        C,
        1,
        vp,
        Tc,
        1,
        mp,
        Tc,
        0,
        sp,
        stride,
      );
      const u4 = up + 25 * ldU * 4;
      parallelSgemmBatch(
        k,
        10,
        [ldU, ldV4, ldM4],
        O,
        4 * Tc,
        C,
        u4,
        C,
        1,
        v4,
        4 * Tc,
        1,
        m4,
        4 * Tc,
        0,
        sp,
        stride,
      );
      const uoo = up + 35 * ldU * 4;
      parallelSgemmBatch(
        k,
        1,
        [0, 0, 0],
        O,
        16 * Tc,
        C,
        uoo,
        C,
        1,
        voo,
        16 * Tc,
        1,
        moo,
        16 * Tc,
        0,
        sp,
        stride,
      );
      const outTasks = outputTasks(
        { O, oBlock, tilesH, tilesW, OH, OW, tp, tScratch },
        yp + n0 * O * OH * OW * 4,
        cnt,
        (o0, ob) => [mp + o0 * Tc * 4, ldM, m4 + o0 * 4 * Tc * 4, ldM4, moo + o0 * 16 * Tc * 4, ob, Tc],
        (o0) => [statsAt(n0, o0), O * 24],
      );
      parallelCalls(k, 'winoOutputS2Images', outTasks);
    }
    if (ep) applyEpilogue(f, yp, N, O, OH * OW, ep);
    if (stats) stats.set(new Float64Array(k.memory.buffer, stp, stats.length));
    return f.result(y, yLen);
  });
}
