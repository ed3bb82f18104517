// 3x3 stride-1 convolutions by Winograd F(4x4, 3x3) in WebAssembly (transforms in assembly/winograd.ts).
// Each 4x4 output tile costs 36 multiply-adds per (input, output) channel pair instead of 144: filters
// go to U[36][O][C], chunks of images to V[36][C][T] (T tiles side by side), the 36 products
// M[xi] = U[xi] V[xi] run on the GEMM kernel (one pool job for all 36), and M[36][O][T] is transformed
// back. Where images are big enough (fusedImages), each pool task instead takes a few whole images
// through all three steps, so that V and M stay in its cache rather than crossing memory twice.
// The input gradient of such a convolution is itself one: conv2d(gradOut, W', padding 2 - p) with
// W'[c, o] the filter W[o, c] rotated by 180 degrees, so it reuses the same path.
// Accuracy: float32 rounding in the transformed domain is amplified by the output transform, so results
// differ from direct convolution by about 1e-6..3e-6 of the output's largest magnitude (direct: ~4e-7),
// i.e. a few times the 1e-6 * rms absolute tolerance of the PyTorch goldens for elements near zero.

import type { Conv2dParams } from '../../backend.js';
import { applyEpilogue, type ConvEpilogue } from './conv.js';
import { cpuHeap, Frame, type Heap } from './heap.js';
import { gemmScratch, type Kernels, wasmKernels } from './kernels.js';
import { getNumThreads, parallelCalls, parallelSgemmBatch } from './threads.js';

interface WinogradExports {
  winoInputScratch(tilesH: number, tilesW: number): number;
  winoOutputScratch(tilesW: number): number;
}

/** Upper bound on each of the transformed input and product buffers, in floats (16 MB). */
export const MAX_CHUNK_FLOATS = 4 << 20;

/** Direct multiply-adds below which a convolution stays on the direct kernels (they take < ~50 us). */
export const MIN_WORK = 1 << 20;

/**
 * Whether a float32 convolution x [N, C, H, W] * w [O, C, 3, 3] -> [N, O, OH, OW] takes the Winograd
 * path: stride 1, no dilation or groups, padding at most 2, at least 16 channels in and out, at least
 * 2^20 direct multiply-adds, and enough output pixels to pay for the filter transform (U is 4x the
 * filters' size and is streamed by the products: measured, batch-1 7x7 maps with 512 channels lose
 * to the direct kernel, batch-4 ones win).
 */
export function useWinograd(
  wShape: readonly number[],
  p: Conv2dParams,
  outShape: readonly number[],
): boolean {
  const [O, C] = wShape;
  const [N, , OH, OW] = outShape;
  const pixels = N * OH * OW;
  return (
    winogradShape(wShape, p) &&
    winogradTilesPay(OH, OW) &&
    O * C * 9 * pixels >= MIN_WORK &&
    pixels * 2048 >= 64 * 2048 + C * O
  );
}

/**
 * Whether F(4x4, 3x3) tiles over an OH x OW map do at most 3/4 of the direct multiply-adds (36 per
 * tile against 9 per output): a 2x2 map is 3/4 padding in its tile, where Winograd multiplies as much
 * as im2col + GEMM and adds the transforms (measured ~10% slower, ResNet's last stage at 32x32 input).
 */
export function winogradTilesPay(OH: number, OW: number): boolean {
  return 16 * Math.ceil(OH / 4) * Math.ceil(OW / 4) <= 3 * OH * OW;
}

/**
 * The convolutions every Winograd path here handles: 3x3 filters, stride 1 (or `stride`: 2 for the
 * path by phases, winograd-s2.ts), no dilation or groups, padding at most 2, and at least 16 channels
 * in and out (fewer do not pay).
 */
export function winogradShape(wShape: readonly number[], p: Conv2dParams, stride = 1): boolean {
  const [O, C, KH, KW] = wShape;
  return (
    KH === 3 &&
    KW === 3 &&
    p.groups === 1 &&
    p.stride[0] === stride &&
    p.stride[1] === stride &&
    p.dilation[0] === 1 &&
    p.dilation[1] === 1 &&
    p.padding[0] <= 2 &&
    p.padding[1] <= 2 &&
    C >= 16 &&
    O >= 16
  );
}

/** Tiles a fused task (winoConvImages) should reach: enough columns for the GEMM kernel's panels. */
const FUSED_TILES = 96;

/** Upper bound on a fused task's V (or M), in floats (2 MB: about a core's share of cache). */
const FUSED_FLOATS = 1 << 19;

/**
 * Images per fused task (winoConvImages: transforms and products of a few images in one task, whose V
 * and M stay in cache), or 0 for the chunked path: fused where a task of whole images reaches
 * FUSED_TILES tiles within FUSED_FLOATS and the batch gives at least 4 such tasks (2 per thread on 2
 * threads). The choice does not depend on the thread count (nor would the results: see
 * winoConvImages).
 */
export function fusedImages(N: number, C: number, O: number, tiles: number): number {
  const images = Math.ceil(FUSED_TILES / tiles);
  if (36 * Math.max(C, O) * images * tiles > FUSED_FLOATS) return 0;
  return Math.ceil(N / images) >= 4 ? images : 0;
}

/** Where the input transform of a chunk reads x [N, C, H, W] and writes V (byte addresses, floats). */
export interface InputTransform {
  xp: number;
  C: number;
  H: number;
  W: number;
  ph: number;
  pw: number;
  tilesH: number;
  tilesW: number;
  /** V [36][C][T] at vp, planes ldV floats apart. */
  vp: number;
  T: number;
  ldV: number;
  /** Channels per task, each task with its own tScratch floats of transform scratch from tp. */
  cBlock: number;
  tp: number;
  tScratch: number;
}

/** winoInputImages tasks for images [n0, n0 + cnt): one per block of channels over all those images. */
export function inputImageTasks(t: InputTransform, n0: number, cnt: number): number[][] {
  const { xp, C, H, W, cBlock } = t;
  const tasks: number[][] = [];
  for (let c0 = 0; c0 < C; c0 += cBlock) {
    const x0 = xp + (n0 * C + c0) * H * W * 4;
    const sc = t.tp + tasks.length * t.tScratch * 4;
    const cb = Math.min(cBlock, C - c0);
    const v0 = t.vp + c0 * t.T * 4;
    tasks.push([x0, cb, H, W, t.ph, t.pw, t.tilesH, t.tilesW, v0, t.T, t.ldV, 0, sc, cnt, C * H * W]);
  }
  return tasks;
}

/** Floats between the 36 planes of a transformed operand: 16 floats past a multiple of 1024. */
export function planeStride(floats: number): number {
  return Math.ceil(floats / 1024) * 1024 + 16;
}

/** Where a chunk's output transform writes: its output geometry and the transform tasks' scratch. */
export interface OutputBlocks {
  O: number;
  oBlock: number;
  tilesH: number;
  tilesW: number;
  OH: number;
  OW: number;
  /** Each task's tScratch floats of scratch follow from byte address tp. */
  tp: number;
  tScratch: number;
}

/**
 * Output-transform tasks of `cnt` images whose outputs start at byte address y, one per block of
 * oBlock output channels: head(o0, ob), then tilesH, tilesW, OH, OW, the block's first output, its
 * scratch, cnt and the floats per image, then tail(o0).
 */
export function outputTasks(
  g: OutputBlocks,
  y: number,
  cnt: number,
  head: (o0: number, ob: number) => number[],
  tail: (o0: number) => number[] = () => [],
): number[][] {
  const { O, oBlock, tilesH, tilesW, OH, OW, tp, tScratch } = g;
  const tasks: number[][] = [];
  for (let o0 = 0; o0 < O; o0 += oBlock) {
    const ob = Math.min(oBlock, O - o0);
    const sc = tp + tasks.length * tScratch * 4;
    tasks.push([
      ...head(o0, ob),
      tilesH,
      tilesW,
      OH,
      OW,
      y + o0 * OH * OW * 4,
      sc,
      cnt,
      O * OH * OW,
      ...tail(o0),
    ]);
  }
  return tasks;
}

interface Job {
  k: Kernels;
  e: WinogradExports;
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  OH: number;
  OW: number;
  ph: number;
  pw: number;
}

/**
 * Runs the convolution of src [N, C, H, W] with padding (ph, pw) into [N, O, OH, OW]; the filters are
 * wsrc [O, C, 3, 3], or for the input gradient (`transposed`) wsrc [C, O, 3, 3] with its channel axes
 * swapped and each filter rotated by 180 degrees.
 */
function run(
  j: Job,
  src: Float32Array,
  srcOff: number,
  wsrc: Float32Array,
  wOff: number,
  transposed: boolean,
  ep: ConvEpilogue | null = null,
  stats: Float64Array | null = null,
): Float32Array {
  const { k, e, N, C, H, W, O, OH, OW, ph, pw } = j;
  const tilesH = Math.ceil(OH / 4);
  const tilesW = Math.ceil(OW / 4);
  const tiles = tilesH * tilesW;
  const nb = Math.max(1, Math.min(N, Math.floor(MAX_CHUNK_FLOATS / (36 * Math.max(C, O) * tiles))));
  const T = nb * tiles;
  const xLen = N * C * H * W;
  const wLen = O * C * 9;
  const yLen = N * O * OH * OW;
  // Plane strides of U, V and M, shifted one cache line off a multiple of 4 KB so that the 36 streams
  // the transforms read or write at once do not all map to the same cache sets.
  const ldU = planeStride(O * C);
  const ldV = planeStride(C * T);
  const ldM = planeStride(O * T);
  const scratch = gemmScratch();
  const threads = getNumThreads();
  // Transform tasks: channel blocks over all the chunk's images, about 4 per thread (tasks write
  // disjoint rows of V; per-image tasks of small maps would share V's cache lines, and a chunk's
  // images are too few to balance two threads).
  const parts = threads > 1 ? 4 * threads : 1;
  const cBlock = Math.ceil(C / Math.min(C, parts));
  const oBlock = Math.ceil(O / Math.min(O, parts));
  const tScratch =
    Math.ceil(Math.max(e.winoInputScratch(tilesH, tilesW), e.winoOutputScratch(tilesW), 144) / 16) * 16;
  const tTasks = Math.max(Math.ceil(C / cBlock), Math.ceil(O / oBlock));
  const fused = fusedImages(N, C, O, tiles);
  const f = new Frame(cpuHeap() as Heap);
  try {
    // The fused path needs no chunk buffers (its tasks have their own).
    const [up, vp, mp, tp, sp, stp] = f.region([
      36 * ldU,
      fused ? 0 : 36 * ldV,
      fused ? 0 : 36 * ldM + 4,
      tScratch * tTasks,
      fused ? 0 : scratch * threads,
      stats ? 6 * N * O : 0,
    ]);
    // Each [O, OH, OW] plane's statistics (winoOutput), [N][O][3] float64 at stp.
    const statsAt = (n: number, o: number) => (stats ? stp + (n * O + o) * 24 : 0);
    const xp = f.input(src, srcOff, xLen);
    const wp = f.input(wsrc, wOff, wLen);
    const y = f.output(yLen);
    const yp = y.ptr;
    // Either path ends here: the epilogue, the statistics copied out, the result.
    const finish = () => {
      if (ep) applyEpilogue(f, yp, N, O, OH * OW, ep);
      if (stats) stats.set(new Float64Array(k.memory.buffer, stp, stats.length));
      return f.result(y, yLen);
    };
    // Filter transform by output-channel blocks (U is 4x the filters: memory-bound). The input
    // gradient's filter (o, c) is wsrc[c, o], read in place through the strides.
    const [oStride, cStride] = transposed ? [1, O] : [C, 1];
    const wTasks: number[][] = [];
    for (let o0 = 0; o0 < O; o0 += oBlock) {
      const sc = tp + wTasks.length * tScratch * 4;
      const ob = Math.min(oBlock, O - o0);
      wTasks.push([
        wp + o0 * oStride * 36,
        ob,
        C,
        oStride,
        cStride,
        transposed ? 1 : 0,
        up + o0 * C * 4,
        ldU,
        sc,
      ]);
    }
    parallelCalls(k, 'winoWeights', wTasks);
    if (fused > 0) {
      // Tasks of `fused` images, each through all three steps in a work block of its thread.
      const Tf = fused * tiles;
      const ldv = planeStride(C * Tf);
      const ldm = planeStride(O * Tf);
      const mOff = 36 * ldv * 4;
      const tOff = mOff + Math.ceil((36 * ldm + 4) / 16) * 64;
      const gOff = tOff + tScratch * 4;
      const bytes = gOff + Math.ceil(scratch / 16) * 64;
      const work = f.scratch((bytes / 4) * threads);
      const tasks: number[][] = [];
      for (let n0 = 0; n0 < N; n0 += fused) {
        const x0 = xp + n0 * C * H * W * 4;
        const y0 = yp + n0 * O * OH * OW * 4;
        const cnt = Math.min(fused, N - n0);
        tasks.push([
          x0,
          C,
          H,
          W,
          ph,
          pw,
          tilesH,
          tilesW,
          cnt,
          up,
          ldU,
          O,
          OH,
          OW,
          y0,
          ldv,
          ldm,
          mOff,
          tOff,
          gOff,
          statsAt(n0, 0),
        ]);
      }
      parallelCalls(k, 'winoConvImages', tasks, { ptr: work, bytes });
      return finish();
    }
    const stride = Math.ceil(scratch / 16) * 64;
    const input = { xp, C, H, W, ph, pw, tilesH, tilesW, vp, T, ldV, cBlock, tp, tScratch };
    for (let n0 = 0; n0 < N; n0 += nb) {
      const cnt = Math.min(nb, N - n0);
      const Tc = cnt * tiles;
      parallelCalls(k, 'winoInputImages', inputImageTasks(input, n0, cnt));
      // M[xi] [O, Tc] = U[xi] [O, C] x V[xi] [C, Tc] for the 36 xi, as one pool job.
      parallelSgemmBatch(k, 36, [ldU, ldV, ldM], O, Tc, C, up, C, 1, vp, T, 1, mp, T, 0, sp, stride);
      const outTasks = outputTasks(
        { O, oBlock, tilesH, tilesW, OH, OW, tp, tScratch },
        yp + n0 * O * OH * OW * 4,
        cnt,
        (o0, ob) => [mp + o0 * T * 4, ob, T, ldM, 0],
        (o0) => [statsAt(n0, o0), O * 24],
      );
      parallelCalls(k, 'winoOutputImages', outTasks);
    }
    return finish();
  } finally {
    f.done();
  }
}

function job(
  xShape: readonly number[],
  O: number,
  outShape: readonly number[],
  ph: number,
  pw: number,
): Job | null {
  const k = wasmKernels();
  if (!k) return null;
  const [N, C, H, W] = xShape;
  return {
    k,
    e: k.exports as unknown as WinogradExports,
    N,
    C,
    H,
    W,
    O,
    OH: outShape[2],
    OW: outShape[3],
    ph,
    pw,
  };
}

/**
 * Forward 3x3 stride-1 convolution (see useWinograd); null where WebAssembly is unavailable. With
 * `stats` (3 N O floats, and no epilogue), also each output plane's batch-norm statistics, computed in
 * the output transform (winoOutput in assembly/winograd.ts): [n][o] = shift, sum, sum of squares.
 */
export function winogradConv2d(
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
  const j = job(xShape, wShape[0], outShape, p.padding[0], p.padding[1]);
  if (!j) return null;
  return run(j, x, xOff, w, wOff, false, ep, stats);
}

/**
 * Input gradient of a 3x3 stride-1 convolution with padding p <= 2: the convolution of gradOut with the
 * channel-swapped, rotated filters and padding 2 - p. Null where WebAssembly is unavailable.
 */
export function winogradConv2dBackwardInput(
  gOut: Float32Array,
  gOff: number,
  gShape: readonly number[],
  w: Float32Array,
  wOff: number,
  wShape: readonly number[],
  p: Conv2dParams,
  inputShape: readonly number[],
): Float32Array | null {
  const C = wShape[1];
  const j = job(gShape, C, inputShape, 2 - p.padding[0], 2 - p.padding[1]);
  if (!j) return null;
  return run(j, gOut, gOff, w, wOff, true);
}
