// Weight gradient of 3x3 stride-1 convolutions by Winograd F(3x3, 4x4) in WebAssembly (transforms in
// assembly/winograd-weight.ts). dW[o, c] is the correlation of each padded input plane with the output
// gradient plane; cut into 4x4 gradient tiles, each tile is a 3x3 correlation of a 6x6 input patch
// with a 4x4 "filter", 36 multiply-adds per (o, c) pair in the transformed domain instead of 144.
// Chunks of images go to V[36][C][T] (the forward input transform) and Gt[36][O][T] (T tiles side by
// side), the 36 products M[xi] [O, C] += Gt[xi] V[xi]^T accumulate over chunks (each pool task runs
// whole products, so the long K = T reductions are never split and B is packed once), and
// dW = A^T M A at the end. Where steps of whole images have enough tiles (fusedWeightSteps), 4 or 8
// pool tasks each transform and multiply their fixed range of images step by step into a partial M
// of their own (V and Gt stay in cache), and the output transform adds the partials in order.
// Accuracy: float32 rounding in the transformed domain is amplified by the output transform, so
// results differ from the float64 reference by about 1e-6..3e-6 of max |dW| (direct im2col: ~3e-7).

import type { Conv2dParams } from '../../backend.js';
import { cpuHeap, Frame, type Heap } from './heap.js';
import { gemmScratch, wasmKernels } from './kernels.js';
import { getNumThreads, parallelCalls } from './threads.js';
import { inputImageTasks, planeStride, winogradShape, winogradTilesPay } from './winograd.js';

interface WeightExports {
  winoInputScratch(tilesH: number, tilesW: number): number;
  winoGradOutScratch(tilesW: number): number;
}

/** Upper bound on each of the two transformed chunk buffers, in floats (16 MB). */
const MAX_CHUNK_FLOATS = 4 << 20;

/** Direct multiply-adds below which the weight gradient stays on the im2col kernel. */
const MIN_WORK = 1 << 20;

/**
 * Whether the weight gradient of a float32 convolution x [N, C, H, W] * w [O, C, 3, 3] with output
 * gradient [N, O, OH, OW] takes the Winograd path: stride 1, no dilation or groups, padding at most 2,
 * at least 16 channels in and out, at least 2^20 direct multiply-adds, and enough 4x4 gradient tiles
 * (over the batch) for the products to pay for the 36 O C transformed sums they write and read back:
 * at least 8, and one per 8192 channel pairs. Measured on 2 threads: batch-2 7x7 maps (8 tiles) win
 * with 64..256 channels and lose with 512 (0.7x); 16-32 channels at 7x7 lose below ~1M multiply-adds.
 */
export function useWinogradWeight(
  wShape: readonly number[],
  p: Conv2dParams,
  gShape: readonly number[],
): boolean {
  const [O, C] = wShape;
  const [N, , OH, OW] = gShape;
  const tiles = N * Math.ceil(OH / 4) * Math.ceil(OW / 4);
  return (
    winogradShape(wShape, p) &&
    winogradTilesPay(OH, OW) &&
    tiles >= 8 &&
    tiles * 8192 >= O * C &&
    O * C * 9 * N * OH * OW >= MIN_WORK
  );
}

/** Tiles a fused step (winoWeightImages) should reach, and its V and Gt's bound in floats (2 MB). */
const FUSED_TILES = 96;
const FUSED_FLOATS = 1 << 19;
/**
 * Partial sums of a fused weight gradient: MORE_PARTS where the batch has that many steps and their
 * partial sums fit, else PARTS. Shapes alone decide, so results do not depend on the thread count.
 * Measured on 2 threads, ResNet-18's layer1 at 224, batch 16: 8 parts of 2 images 17.6-19.0 ms against
 * 20.9-22.9 ms for 4 of 4 (4 alternating pairs), the same on 1 thread (26.5 against 27.2-27.7 ms):
 * with 4 tasks, a thread that finishes its second task early has nothing left to take.
 */
const PARTS = 4;
const MORE_PARTS = 8;

/**
 * The fused split (winoWeightImages: transforms and products of a few images at a time in one task,
 * with V and Gt in cache), or null for the chunked path: steps of `per` images reaching FUSED_TILES
 * tiles within FUSED_FLOATS, `images` per partial sum, `parts` partial sums of 36 O C floats (at most
 * MORE_PARTS where there are that many steps and they fit in 8 MB, else at most PARTS, each of at
 * least one step; fused only where PARTS of them fit, so at least 2 tasks per thread on 2).
 */
export function fusedWeightSteps(
  N: number,
  C: number,
  O: number,
  tiles: number,
): { per: number; images: number; parts: number } | null {
  const per = Math.ceil(FUSED_TILES / tiles);
  if (36 * Math.max(C, O) * per * tiles > FUSED_FLOATS || 36 * O * C * PARTS > 4 * FUSED_FLOATS) return null;
  const steps = Math.ceil(N / per);
  if (steps < PARTS) return null;
  const most = steps >= MORE_PARTS && 36 * O * C * MORE_PARTS <= 4 * FUSED_FLOATS ? MORE_PARTS : PARTS;
  const images = Math.ceil(steps / most) * per;
  return { per, images, parts: Math.ceil(N / images) };
}

/** Pool tasks for the 36 products: a divisor of 36, a multiple of `threads`, about 4 per thread. */
function productTasks(threads: number): number {
  if (threads === 1) return 1;
  for (const d of [2, 3, 4, 6, 9, 12, 18]) if (d % threads === 0 && d >= 4 * threads) return d;
  return 36;
}

/**
 * Weight gradient [O, C, 3, 3] of a 3x3 stride-1 convolution (see useWinogradWeight) from the input x
 * [N, C, H, W] and the output gradient [N, O, OH, OW]; null where WebAssembly is unavailable.
 */
export function winogradConv2dBackwardWeight(
  x: Float32Array,
  xOff: number,
  xShape: readonly number[],
  gOut: Float32Array,
  gOff: number,
  gShape: readonly number[],
  p: Conv2dParams,
  wShape: readonly number[],
): Float32Array | null {
  const k = wasmKernels();
  if (!k) return null;
  const e = k.exports as unknown as WeightExports;
  const [N, C, H, W] = xShape;
  const [, O, OH, OW] = gShape;
  const [ph, pw] = p.padding;
  const tilesH = Math.ceil(OH / 4);
  const tilesW = Math.ceil(OW / 4);
  const tiles = tilesH * tilesW;
  const nb = Math.max(1, Math.min(N, Math.floor(MAX_CHUNK_FLOATS / (36 * Math.max(C, O) * tiles))));
  const T = nb * tiles;
  const xLen = N * C * H * W;
  const gLen = N * O * OH * OW;
  const wLen = wShape[0] * wShape[1] * 9;
  // Plane strides shifted one cache line off a multiple of 4 KB so that the 36 streams a transform
  // reads or writes at once do not all map to the same cache sets.
  const ldU = planeStride(O * T);
  const ldV = planeStride(C * T);
  const ldM = planeStride(O * C);
  const threads = getNumThreads();
  // Transform tasks: channel blocks over all the chunk's images (tasks write disjoint rows of V and Gt;
  // per-image tasks would share cache lines where an image has few tiles), about 4 per thread.
  const blocks = threads > 1 ? 4 * threads : 1;
  const cBlock = Math.ceil(C / Math.min(C, blocks));
  const oBlock = Math.ceil(O / Math.min(O, blocks));
  const tScratch =
    Math.ceil(Math.max(e.winoInputScratch(tilesH, tilesW), e.winoGradOutScratch(tilesW), 112) / 16) * 16;
  const tTasks = Math.max(Math.ceil(C / cBlock), Math.ceil(O / oBlock));
  // Product tasks: whole products, an equal number per thread, each with a GEMM scratch.
  const gTasks = productTasks(threads);
  const gStride = Math.ceil(gemmScratch() / 16) * 16;
  const fused = fusedWeightSteps(N, C, O, tiles);
  const f = new Frame(cpuHeap() as Heap);
  try {
    // The fused path keeps no chunk buffers, but its partial sums of M.
    const [up, vp, mp, tp, sp] = f.region([
      fused ? 0 : 36 * ldU,
      fused ? 0 : 36 * ldV,
      36 * ldM * (fused ? fused.parts : 1) + 4,
      tScratch * tTasks,
      fused ? 0 : gStride * gTasks,
    ]);
    const xp = f.input(x, xOff, xLen);
    const gp = f.input(gOut, gOff, gLen);
    const w = f.output(wLen);
    const wp = w.ptr;
    // dW = A^T M A by output-channel blocks, M the sum of `count` partial sums `stride` floats apart.
    const weightOut = (m: number, count: number, stride: number) => {
      const outTasks: number[][] = [];
      for (let o0 = 0; o0 < O; o0 += oBlock) {
        const sc = tp + outTasks.length * tScratch * 4;
        const ob = Math.min(oBlock, O - o0);
        outTasks.push([m + o0 * C * 4, ob, C, C, ldM, wp + o0 * C * 36, C, sc, count, stride]);
      }
      parallelCalls(k, 'winoWeightOut', outTasks);
    };
    if (fused) {
      // Partial sums over fixed image ranges, one pool task each (the split does not depend on
      // the thread count, so neither do the results), summed in order by the output transform.
      const { per, parts, images } = fused;
      const K = per * tiles;
      const ldv = planeStride(C * K);
      const ldu = planeStride(O * K);
      const uOff = 36 * ldv * 4;
      const tOff = uOff + 36 * ldu * 4;
      const gOff = tOff + tScratch * 4;
      const bytes = gOff + gStride * 4;
      const partStride = 36 * ldM;
      const mParts = mp;
      const work = f.scratch((bytes / 4) * threads);
      const tasks: number[][] = [];
      for (let p = 0; p < parts; p++) {
        const n0 = p * images;
        const cnt = Math.min(images, N - n0);
        tasks.push([
          xp + n0 * C * H * W * 4,
          C,
          H,
          W,
          ph,
          pw,
          tilesH,
          tilesW,
          gp + n0 * O * OH * OW * 4,
          O,
          OH,
          OW,
          cnt,
          per,
          mParts + p * partStride * 4,
          ldM,
          ldv,
          ldu,
          uOff,
          tOff,
          gOff,
        ]);
      }
      parallelCalls(k, 'winoWeightImages', tasks, { ptr: work, bytes });
      weightOut(mParts, parts, partStride);
      return f.result(w, wLen);
    }
    const input = { xp, C, H, W, ph, pw, tilesH, tilesW, vp, T, ldV, cBlock, tp, tScratch };
    for (let n0 = 0; n0 < N; n0 += nb) {
      const cnt = Math.min(nb, N - n0);
      parallelCalls(k, 'winoInputImages', inputImageTasks(input, n0, cnt));
      const gradTasks: number[][] = [];
      for (let o0 = 0; o0 < O; o0 += oBlock) {
        const g0 = gp + (n0 * O + o0) * OH * OW * 4;
        const sc = tp + gradTasks.length * tScratch * 4;
        const ob = Math.min(oBlock, O - o0);
        gradTasks.push([g0, ob, OH, OW, tilesH, tilesW, up + o0 * T * 4, T, ldU, 0, sc, cnt, O * OH * OW]);
      }
      parallelCalls(k, 'winoGradOut', gradTasks);
      // M[xi] [O, C] (+)= Gt[xi] [O, K] x V[xi]^T [K, C], K the chunk's tiles.
      const per = 36 / gTasks;
      const mulTasks: number[][] = [];
      for (let i = 0; i < gTasks; i++) {
        const sc = sp + i * gStride * 4;
        mulTasks.push([
          up,
          T,
          ldU,
          vp,
          T,
          ldV,
          mp,
          ldM,
          O,
          C,
          cnt * tiles,
          i * per,
          (i + 1) * per,
          n0 > 0 ? 1 : 0,
          sc,
        ]);
      }
      parallelCalls(k, 'winoWeightGemm', mulTasks);
    }
    weightOut(mp, 1, 0);
    return f.result(w, wLen);
  } finally {
    f.done();
  }
}
