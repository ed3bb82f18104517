// Convolution forward and backward inside WebAssembly memory. Operands are read where they live (copied
// in only when they are JavaScript arrays); for each
// group, chunks of images are unfolded side by side into one wide patch matrix so that each chunk is
// a single large GEMM (small feature maps would otherwise give one thin GEMM per image).

import type { Conv2dParams } from '../../backend.js';
import { type Frame, withFrame } from './heap.js';
import { gemmScratch } from './kernels.js';
import {
  blockRanges,
  getNumThreads,
  parallelCalls,
  parallelSgemm,
  parallelSgemmBatch,
  SMALL_PASS_FLOATS,
} from './threads.js';

/** Upper bound on the patch matrix, in floats (16 MB), which sets how many images go in one chunk. */
const MAX_COL_FLOATS = 4 << 20;

/**
 * Output positions per image from which the forward convolution and the weight gradient (groups 1)
 * skip the patch matrix: they unfold blocks of positions into per-task scratch and multiply them
 * there (convColumns, convWeightTaps), reading and writing the batch-major tensors in place (no
 * regroup pass). Wide maps, as the stem's 112x112.
 */
const DIRECT_MIN_P = 4096;

/**
 * Both also take that path on smaller maps (from 256 positions) when the weight matrix is at most this
 * many floats (512 KB, so it stays in L2 while every block of positions meets it) and at least 128
 * deep. Measured on 2 threads: the stem's forward at 32x32 and 64x64 input 15-25% faster, ResNet's
 * layer2.0.conv1 (3x3/2, 64 -> 128) at 224 11% faster forward and 13% faster weight gradient;
 * layer3.0.conv1 (a 1.2 MB weight) 7-25% slower forward, and 64 positions (8x8 maps) no faster, so
 * they keep the patch matrix. Strided 1x1 convolutions have their own rule (stridedPointwise): that
 * earlier measurement of them did not hold when re-measured on the current kernels.
 */
const DIRECT_MAX_WEIGHT = 1 << 17;

/**
 * Whether the forward convolution and the weight gradient unfold blocks of positions into per-task
 * scratch (convColumns, convWeightTaps) instead of a patch matrix. Shapes alone decide, never the
 * thread count, so 1 and 2 threads run the same arithmetic.
 */
function blockedUnfold(g: Geometry, p: Conv2dParams): boolean {
  if (g.G !== 1) return false;
  if (stridedPointwise(g, p)) return true;
  return g.P >= DIRECT_MIN_P || (g.P >= 256 && g.Kc >= 128 && g.O * g.Kc <= DIRECT_MAX_WEIGHT);
}

interface Geometry {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  Cg: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  G: number;
  Og: number;
  P: number;
  Kc: number;
  /** Images per chunk. */
  nb: number;
}

function geo(x: readonly number[], w: readonly number[], out: readonly number[], groups: number): Geometry {
  const [N, C, H, W] = x;
  const [O, Cg, KH, KW] = w;
  const [, , OH, OW] = out;
  const P = OH * OW;
  const Kc = Cg * KH * KW;
  const nb = Math.max(1, Math.min(N, Math.floor(MAX_COL_FLOATS / Math.max(Kc * P, 1))));
  return { N, C, H, W, O, Cg, KH, KW, OH, OW, G: groups, Og: O / groups, P, Kc, nb };
}

/**
 * The weight as the GEMM's [O, Kc] matrix: element (o, k) at o * row + k * col. Dense weights have
 * row = Kc, col = 1; a 1x1 kernel viewed out of a larger one (conv-taps.ts) has col = KH * KW.
 */
export interface WeightMatrix {
  row: number;
  col: number;
}

function denseWeight(wShape: readonly number[]): WeightMatrix {
  return { row: wShape[1] * wShape[2] * wShape[3], col: 1 };
}

/** Floats from the first weight element to the last. */
function span(g: Geometry, wm: WeightMatrix): number {
  return (g.O - 1) * wm.row + (g.Kc - 1) * wm.col + 1;
}

/** Arguments im2col/col2im take between the image pointer and the column pointer. */
function shapeArgs(g: Geometry, p: Conv2dParams): number[] {
  return [
    g.Cg,
    g.H,
    g.W,
    g.KH,
    g.KW,
    g.OH,
    g.OW,
    p.stride[0],
    p.stride[1],
    p.padding[0],
    p.padding[1],
    p.dilation[0],
    p.dilation[1],
  ];
}

/** One GEMM scratch area per thread (thread i's at sp + i * stride bytes), for one call. */
function gemmArea(f: Frame): { sp: number; stride: number } {
  const scratch = gemmScratch();
  const [sp] = f.region([scratch * getNumThreads()]);
  return { sp, stride: Math.ceil(scratch / 16) * 64 };
}

/** The chunk buffers, one GEMM scratch area per thread and a statistics accumulator per thread. */
function layout(f: Frame, g: Geometry) {
  const chunkCols = g.nb * g.P;
  // Two chunk buffers: the patch matrix [Kc, nb*P] and a rows-major block [max(Og), nb*P].
  const [cp, rp, acc] = f.region([g.Kc * chunkCols, g.Og * chunkCols, STATS_ACC_FLOATS * getNumThreads()]);
  return { k: f.heap.kernels, cp, rp, acc, ...gemmArea(f) };
}

/**
 * Floats of one thread's batch-norm statistics accumulator (32 bytes, assembly/plane-stats.ts), padded
 * to two cache lines so that the threads' accumulators share none (measured: unpadded, 32 bytes apart,
 * the regroup of a [20, 128, 4, 4] output took 0.1 ms longer on 2 threads than without statistics).
 */
const STATS_ACC_FLOATS = 32;

/**
 * Each plane's statistics from convColumns' per-block ones ([N][blocks per image][O][3], each block
 * about its own shift): a plane's blocks in order, moved onto its first block's shift (its first
 * value). f64 throughout; the order depends on the shape alone.
 */
function mergeBlockStats(
  blocks: Float64Array,
  N: number,
  O: number,
  P: number,
  nb: number,
  out: Float64Array,
): void {
  const per = Math.ceil(P / nb);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const k0 = blocks[(n * per * O + o) * 3];
      let s = 0;
      let q = 0;
      for (let b = 0; b < per; b++) {
        const e = ((n * per + b) * O + o) * 3;
        const cnt = Math.min(nb, P - b * nb);
        const d = blocks[e] - k0;
        const sb = blocks[e + 1];
        s += sb + cnt * d;
        q += blocks[e + 2] + d * (2 * sb + cnt * d);
      }
      const r = (n * O + o) * 3;
      out[r] = k0;
      out[r + 1] = s;
      out[r + 2] = q;
    }
  }
}

/**
 * Output positions per image from which a pointwise convolution (1x1, stride 1, no padding, groups 1)
 * multiplies each image in place: the image [C, P] is already the GEMM's operand, so there is no patch
 * matrix and no regroup pass. Below it, a chunk of images side by side makes one wider GEMM.
 */
const POINTWISE_MIN_P = 64;

/**
 * A pointwise convolution's products, every image one product of a single pool job: out[n] [O, P] =
 * W [O, C] x src[n] [C, P], or with `transposed` the input gradient out[n] [C, P] = W^T x src[n] [O, P].
 */
function pointwiseImages(
  f: Frame,
  g: Geometry,
  src: number,
  wp: number,
  wm: WeightMatrix,
  transposed: boolean,
  out: number,
): void {
  const { sp, stride } = gemmArea(f);
  const [rows, inner, rs, cs] = transposed ? [g.C, g.O, wm.col, wm.row] : [g.O, g.C, wm.row, wm.col];
  const strides = [0, inner * g.P, rows * g.P] as const;
  const k = f.heap.kernels;
  parallelSgemmBatch(k, g.N, strides, rows, g.P, inner, wp, rs, cs, src, g.P, 1, out, g.P, 0, sp, stride);
}

/** A 1x1 kernel without padding or groups: each output position reads one input position. */
function unpadded1x1(g: Geometry, p: Conv2dParams): boolean {
  return g.G === 1 && g.KH === 1 && g.KW === 1 && p.padding[0] === 0 && p.padding[1] === 0;
}

function pointwise(g: Geometry, p: Conv2dParams): boolean {
  return unpadded1x1(g, p) && g.P >= POINTWISE_MIN_P && p.stride[0] === 1 && p.stride[1] === 1;
}

/**
 * A 1x1 convolution at a stride above 1 without padding (groups 1), as ResNet's downsamples, over at
 * least STRIDED_MIN_P output positions per image: its input gradient is written by per-image tasks
 * (stridedInput) and its forward and weight gradient unfold blocks of positions (blockedUnfold), with
 * no patch matrix, regroup or zeroing pass. Measured at 224, batch 16, against the patch matrix (7
 * alternating runs, medians; the input gradient's from separate runs): on 2 threads, layer2's 1x1/2
 * (56 -> 28 maps) forward 3.44 -> 2.81 ms, input gradient 4.6 -> 2.6, weight gradient 3.29 -> 2.81;
 * layer3's (28 -> 14) 2.67 -> 2.40, 3.4 -> 2.5, 2.83 -> 2.33; on 1 thread within 3% either way.
 * Layer4's (14 -> 7, 49 positions) forward was up to 19% slower on 1 thread that way, and its other
 * passes no faster, so it keeps the patch matrix.
 */
function stridedPointwise(g: Geometry, p: Conv2dParams): boolean {
  return unpadded1x1(g, p) && g.P >= STRIDED_MIN_P && (p.stride[0] > 1 || p.stride[1] > 1);
}

const STRIDED_MIN_P = 64;

/** Most floats of one task's product block in pointwiseStridedInput (1 MB). */
const STRIDED_BLOCK_FLOATS = 1 << 18;

/**
 * The input gradient of a strided 1x1 convolution (stridedPointwise): one pool task per image and
 * block of input channels, each multiplying W^T by the image's output gradient into its own scratch
 * and writing its channels' planes whole (the products at the strided positions, zeros between), so
 * the gradient needs no zeroing, regroup or col2im pass. Blocks of channels (multiples of 4) are only
 * there to give the pool enough tasks and to bound the scratch; no element's sum depends on them.
 */
function stridedInput(
  f: Frame,
  g: Geometry,
  p: Conv2dParams,
  gp: number,
  wp: number,
  wm: WeightMatrix,
  out: number,
): void {
  const k = f.heap.kernels;
  const blocks = Math.max(1, Math.ceil((4 * getNumThreads()) / g.N));
  const cap = Math.max(4, Math.floor(STRIDED_BLOCK_FLOATS / g.P / 4) * 4);
  const cb = Math.min(cap, Math.max(4, Math.ceil(g.C / blocks / 4) * 4));
  const floats = Math.ceil(k.exports.convColumnsScratchFloats(cb, g.P) / 16) * 16;
  const [ptr] = f.region([floats * getNumThreads()]);
  const tasks: number[][] = [];
  for (let n = 0; n < g.N; n++) {
    for (let c0 = 0; c0 < g.C; c0 += cb) {
      tasks.push([
        gp + n * g.O * g.P * 4,
        g.O,
        g.OH,
        g.OW,
        wp,
        wm.row,
        wm.col,
        g.H,
        g.W,
        p.stride[0],
        p.stride[1],
        c0,
        Math.min(g.C, c0 + cb),
        out + n * g.C * g.H * g.W * 4,
      ]);
    }
  }
  parallelCalls(k, 'pointwiseStridedInput', tasks, { ptr, bytes: floats * 4 });
}

type Layout = ReturnType<typeof layout>;

/**
 * regroup (see assembly/gemm.ts) over row blocks on the pool: rows are channels, disjoint per task.
 * With `stats` (a heap offset laid out as the batch-major planes, 24 bytes a plane), also each plane's
 * batch-norm statistics.
 */
function parallelRegroup(
  m: Layout,
  rowsMajor: number,
  batchMajor: number,
  rows: number,
  N: number,
  P: number,
  batchRows: number,
  toBatchMajor: number,
  stats = 0,
): void {
  const tasks = blockRanges(rows, rows * N * P).map(([r0, r1]) => [
    rowsMajor + r0 * N * P * 4,
    batchMajor + r0 * P * 4,
    r1 - r0,
    N,
    P,
    batchRows,
    toBatchMajor,
    stats && stats + r0 * 24,
  ]);
  parallelCalls(m.k, 'regroup', tasks, { ptr: m.acc, bytes: STATS_ACC_FLOATS * 4 });
}

/** Channel blocks per image so that a chunk gives the pool several tasks. */
function channelBlock(Cg: number, nb: number): number {
  return Math.max(1, Math.ceil(Cg / Math.max(1, Math.ceil((4 * getNumThreads()) / nb))));
}

/**
 * One task per (image, channel block) of images [n0, n0 + nb) of group gi: `fn` is im2col (image ->
 * patch matrix at `col`) or col2im (patch matrix -> image, accumulating). Blocks touch disjoint memory.
 */
function foldTasks(
  g: Geometry,
  args: number[],
  x: number,
  col: number,
  n0: number,
  nb: number,
  gi: number,
): number[][] {
  const cb = channelBlock(g.Cg, nb);
  const ldcol = nb * g.P;
  const tasks: number[][] = [];
  for (let n = n0; n < n0 + nb; n++) {
    for (let c0 = 0; c0 < g.Cg; c0 += cb) {
      const a = [...args];
      a[0] = Math.min(cb, g.Cg - c0);
      tasks.push([
        x + (n * g.C + gi * g.Cg + c0) * g.H * g.W * 4,
        ...a,
        col + ((n - n0) * g.P + c0 * g.KH * g.KW * ldcol) * 4,
        ldcol,
      ]);
    }
  }
  return tasks;
}

/**
 * Output positions per image below which the patch matrix is unfolded by channel blocks across all the
 * chunk's images rather than by image: an image's share of a row is then under a 64-byte cache line,
 * and per-image tasks on different threads would write the same lines (measured: ResNet-18's 2x2 maps
 * at batch 20 unfolded ~4x slower on 2 threads that way than the GEMM that follows).
 */
const SHARED_LINE_P = 16;

/** Unfolds images [n0, n0 + nb) of group gi side by side into the patch matrix at `col`. */
function unfoldChunk(
  m: Layout,
  g: Geometry,
  args: number[],
  x: number,
  col: number,
  n0: number,
  nb: number,
  gi: number,
): void {
  if (g.P >= SHARED_LINE_P || nb === 1) {
    parallelCalls(m.k, 'im2col', foldTasks(g, args, x, col, n0, nb, gi));
    return;
  }
  // One task per block of channels: rows (c, i, j) of every image, so no two tasks share a row.
  const cb = Math.max(1, Math.ceil(g.Cg / (4 * getNumThreads())));
  const ldcol = nb * g.P;
  const tasks: number[][] = [];
  for (let c0 = 0; c0 < g.Cg; c0 += cb) {
    const a = [...args];
    a[0] = Math.min(cb, g.Cg - c0);
    tasks.push([
      x + (n0 * g.C + gi * g.Cg + c0) * g.H * g.W * 4,
      ...a,
      col + c0 * g.KH * g.KW * ldcol * 4,
      ldcol,
      nb,
      g.C * g.H * g.W,
      g.P,
    ]);
  }
  parallelCalls(m.k, 'im2colImages', tasks);
}

/** Per-output-channel affine, residual and ReLU applied to a convolution's output in the same call. */
export interface ConvEpilogue {
  scale: Float32Array | null;
  shift: Float32Array | null;
  /** [N, O, OH, OW] contiguous from `residualOffset`. */
  residual: Float32Array | null;
  residualOffset: number;
  relu: boolean;
}

/** Runs `ep` in place over the batch-major output [N, O, P] at byte offset `out` of the heap. */
export function applyEpilogue(
  f: Frame,
  out: number,
  N: number,
  O: number,
  P: number,
  ep: ConvEpilogue,
): void {
  const sp = ep.scale ? f.input(ep.scale, 0, O) : 0;
  const tp = ep.shift ? f.input(ep.shift, 0, O) : 0;
  const rp = ep.residual ? f.input(ep.residual, ep.residualOffset, N * O * P) : 0;
  const img = O * P * 4;
  if (N * O * P < SMALL_PASS_FLOATS) {
    f.heap.kernels.exports.epilogue(out, N, O, P, sp, tp, rp, ep.relu ? 1 : 0);
    return;
  }
  parallelCalls(
    f.heap.kernels,
    'epilogue',
    Array.from({ length: N }, (_, n) => [
      out + n * img,
      1,
      O,
      P,
      sp,
      tp,
      rp ? rp + n * img : 0,
      ep.relu ? 1 : 0,
    ]),
  );
}

/** Most output positions per block of the fused unfold + GEMM (stem: a [147, 256] block, 147 KB). */
const COLUMN_BLOCK = 256;

/**
 * The forward convolution (groups 1) of wide maps without a patch matrix: each pool task unfolds blocks
 * of COLUMN_BLOCK output positions into its own scratch and multiplies them by the weight straight
 * into the output (convColumns in assembly/gemm.ts). Blocks are dealt round-robin to a fixed number of
 * tasks; each output element's arithmetic is the same whichever task runs it. With `stats`, also each
 * output plane's batch-norm statistics: per block while it is in cache, merged per plane here.
 */
function convColumns(
  f: Frame,
  g: Geometry,
  args: number[],
  xp: number,
  wp: number,
  wm: WeightMatrix,
  op: number,
  stats: Float64Array | null,
): void {
  const k = f.heap.kernels;
  const threads = getNumThreads();
  // A block of at most 2^16 floats (256 KB) stays in L2 next to the GEMM's packed copy of it.
  const nb = Math.min(COLUMN_BLOCK, Math.max(64, Math.floor((1 << 16) / g.Kc / 8) * 8));
  const blocks = g.N * Math.ceil(g.P / nb);
  const count = Math.min(blocks, threads === 1 ? 1 : 4 * threads);
  const per = k.exports.convColumnsScratchFloats(g.Kc, nb);
  const scratch = f.region(Array.from({ length: count }, () => per));
  const [bs] = f.region([stats ? 6 * blocks * g.O : 0]);
  const tasks = scratch.map((sp, t) => [
    xp,
    ...args,
    wp,
    wm.row,
    wm.col,
    g.O,
    op,
    nb,
    t,
    count,
    blocks,
    stats ? bs : 0,
    sp,
  ]);
  parallelCalls(k, 'convColumns', tasks);
  if (stats)
    mergeBlockStats(new Float64Array(k.memory.buffer, bs, 3 * blocks * g.O), g.N, g.O, g.P, nb, stats);
}

/**
 * The weight gradient (groups 1) of wide maps without a patch matrix, by convWeightTaps (assembly/
 * gemm.ts), which unfolds a range of taps of each block of positions and adds their product with the
 * output gradient, read in place, into the gradient (writing the first). The images go in WEIGHT_PARTS
 * groups (fewer when the batch is smaller or the partial gradients would pass WEIGHT_PARTS_FLOATS),
 * each summed into its own partial gradient, which sumParts then adds in order; the groups depend on
 * the shape alone, so the results do not depend on the thread count. Pool tasks are (group, range of
 * taps), with ranges (8-aligned, so each is packed once) only where groups alone would leave threads
 * idle: every range reads its group's whole output gradient again. Measured on 2 threads, the stem's weight gradient at
 * 224, batch 16 (4 alternating pairs): 2 tap ranges of 80 and 67 taps 54.8-77 ms, 8 groups of 2
 * images 52.8-54.6 ms; 93 ms either way on 1 thread.
 */
function convWeightTaps(f: Frame, g: Geometry, args: number[], xp: number, gp: number, wp: number): void {
  if (g.N * g.P === 0) return; // the gradient was zeroed
  const k = f.heap.kernels;
  const threads = getNumThreads();
  const wLen = g.O * g.Kc;
  const parts = Math.max(1, Math.min(g.N, WEIGHT_PARTS, Math.floor(WEIGHT_PARTS_FLOATS / wLen)));
  const images = Math.ceil(g.N / parts);
  const groups = Math.ceil(g.N / images);
  const rangeCount = Math.max(1, Math.ceil(threads / groups));
  const step = Math.ceil(g.Kc / rangeCount / 8) * 8;
  const ranges: [number, number][] = [];
  for (let r0 = 0; r0 < g.Kc; r0 += step) ranges.push([r0, Math.min(g.Kc, r0 + step)]);
  const floats = Math.ceil(k.exports.convColumnsScratchFloats(step, WEIGHT_BLOCK) / 16) * 16;
  const [work] = f.region([floats * threads]);
  // One group sums straight into the gradient, several into partials (convWeightTaps writes its first
  // block, so neither is zeroed).
  const [partials] = groups > 1 ? f.region([groups * wLen]) : [wp];
  const imageBytes = g.C * g.H * g.W * 4;
  const gradBytes = g.O * g.P * 4;
  const tasks: number[][] = [];
  for (let gi = 0; gi < groups; gi++) {
    const n0 = gi * images;
    for (const [r0, r1] of ranges) {
      tasks.push([
        xp + n0 * imageBytes,
        ...args,
        gp + n0 * gradBytes,
        Math.min(images, g.N - n0),
        g.O,
        partials + gi * wLen * 4,
        r0,
        r1,
        WEIGHT_BLOCK,
      ]);
    }
  }
  parallelCalls(k, 'convWeightTaps', tasks, { ptr: work, bytes: floats * 4 });
  if (groups === 1) return;
  const chunk = Math.ceil(wLen / (4 * threads) / 4) * 4;
  const sums: number[][] = [];
  for (let i0 = 0; i0 < wLen; i0 += chunk)
    sums.push([partials, groups, wLen, wp, i0, Math.min(wLen, i0 + chunk)]);
  parallelCalls(k, 'sumParts', sums);
}

/** Image groups of convWeightTaps, each with its own partial gradient. */
const WEIGHT_PARTS = 8;

/** Most floats of convWeightTaps' partial gradients together (4 MB). */
const WEIGHT_PARTS_FLOATS = 1 << 20;

/** Output positions per block of convWeightTaps: one k-block of the GEMM kernel. */
const WEIGHT_BLOCK = 256;

/** The forward path wasmConv2d takes for a shape (pointwise products, blocks of columns or a patch matrix). */
export function forwardPath(
  xShape: readonly number[],
  wShape: readonly number[],
  p: Conv2dParams,
  outShape: readonly number[],
): 'pointwise' | 'columns' | 'patch' {
  const g = geo(xShape, wShape, outShape, p.groups);
  return pointwise(g, p) ? 'pointwise' : blockedUnfold(g, p) ? 'columns' : 'patch';
}

/**
 * Forward convolution; null where WebAssembly is unavailable. With `stats` (3 N O float64, and no
 * epilogue), also each output plane's batch-norm statistics (PlaneStats in registry.ts), from the
 * unfolded blocks (convColumns) or the regroup while the planes are in cache. The pointwise path
 * (forwardPath) has no pass that revisits its output, so it takes no `stats`: a pass of its own would
 * read the output once more, as batch norm's own channel-at-a-time statistics do (measured: 0.96-1.06x
 * on ResNet-50's 1x1 layers at batch 16).
 */
export function wasmConv2d(
  x: Float32Array,
  xOff: number,
  xShape: readonly number[],
  w: Float32Array,
  wOff: number,
  wShape: readonly number[],
  p: Conv2dParams,
  outShape: readonly number[],
  ep: ConvEpilogue | null = null,
  wm: WeightMatrix = denseWeight(wShape),
  stats: Float64Array | null = null,
): Float32Array | null {
  const g = geo(xShape, wShape, outShape, p.groups);
  const xLen = g.N * g.C * g.H * g.W;
  const oLen = g.N * g.O * g.P;
  if (stats && pointwise(g, p))
    throw new Error(
      'wasmConv2d: a pointwise convolution computes no batch-norm statistics; decline it first',
    );
  return withFrame((f) => {
    if (pointwise(g, p)) {
      const xp = f.input(x, xOff, xLen);
      const wp = f.input(w, wOff, span(g, wm));
      const o = f.output(oLen);
      pointwiseImages(f, g, xp, wp, wm, false, o.ptr);
      if (ep) applyEpilogue(f, o.ptr, g.N, g.O, g.P, ep);
      return f.result(o, oLen);
    }
    if (blockedUnfold(g, p)) {
      const xp = f.input(x, xOff, xLen);
      const wp = f.input(w, wOff, span(g, wm));
      const o = f.output(oLen);
      convColumns(f, g, shapeArgs(g, p), xp, wp, wm, o.ptr, stats);
      if (ep) applyEpilogue(f, o.ptr, g.N, g.O, g.P, ep);
      return f.result(o, oLen);
    }
    const m = layout(f, g);
    const { cp, rp, sp } = m;
    const xp = f.input(x, xOff, xLen);
    const wp = f.input(w, wOff, span(g, wm));
    const o = f.output(oLen);
    const op = o.ptr;
    const args = shapeArgs(g, p);
    // Each plane's statistics as its rows land in the output (regroup), [N][O][3] float64 at stp.
    const [stp] = f.region([stats ? 2 * stats.length : 0]);
    for (let gi = 0; gi < g.G; gi++) {
      for (let n0 = 0; n0 < g.N; n0 += g.nb) {
        const nb = Math.min(g.nb, g.N - n0);
        unfoldChunk(m, g, args, xp, cp, n0, nb, gi);
        // rows [Og, nb*P] = W_g [Og, Kc] x col [Kc, nb*P], then scattered to [N, O, P]
        parallelSgemm(
          m.k,
          g.Og,
          nb * g.P,
          g.Kc,
          wp + gi * g.Og * wm.row * 4,
          wm.row,
          wm.col,
          cp,
          nb * g.P,
          1,
          rp,
          nb * g.P,
          0,
          sp,
          m.stride,
        );
        const st = stats ? stp + (n0 * g.O + gi * g.Og) * 24 : 0;
        parallelRegroup(m, rp, op + (n0 * g.O + gi * g.Og) * g.P * 4, g.Og, nb, g.P, g.O, 1, st);
      }
    }
    if (ep) applyEpilogue(f, op, g.N, g.O, g.P, ep);
    if (stats) stats.set(new Float64Array(m.k.memory.buffer, stp, stats.length));
    return f.result(o, oLen);
  });
}

/** Gradient of the input; null where WebAssembly is unavailable. */
export function wasmConv2dBackwardInput(
  gOut: Float32Array,
  gOff: number,
  w: Float32Array,
  wOff: number,
  wShape: readonly number[],
  p: Conv2dParams,
  inputShape: readonly number[],
  gShape: readonly number[],
  wm: WeightMatrix = denseWeight(wShape),
): Float32Array | null {
  const g = geo(inputShape, wShape, gShape, p.groups);
  const gLen = g.N * g.O * g.P;
  const xLen = g.N * g.C * g.H * g.W;
  return withFrame((f) => {
    // 1x1 kernels without padding: no patch matrix, each image's product written where it belongs.
    const plain = pointwise(g, p);
    if (plain || stridedPointwise(g, p)) {
      const gp = f.input(gOut, gOff, gLen);
      const wp = f.input(w, wOff, span(g, wm));
      const o = f.output(xLen);
      if (plain) pointwiseImages(f, g, gp, wp, wm, true, o.ptr);
      else stridedInput(f, g, p, gp, wp, wm, o.ptr);
      return f.result(o, xLen);
    }
    const m = layout(f, g);
    const { cp, rp, sp } = m;
    const gp = f.input(gOut, gOff, gLen);
    const wp = f.input(w, wOff, span(g, wm));
    const o = f.output(xLen, true);
    const xp = o.ptr;
    const args = shapeArgs(g, p);
    for (let gi = 0; gi < g.G; gi++) {
      for (let n0 = 0; n0 < g.N; n0 += g.nb) {
        const nb = Math.min(g.nb, g.N - n0);
        const cols = nb * g.P;
        parallelRegroup(m, rp, gp + (n0 * g.O + gi * g.Og) * g.P * 4, g.Og, nb, g.P, g.O, 0);
        // col [Kc, nb*P] = W_g^T [Kc, Og] x gradOut rows [Og, nb*P]
        parallelSgemm(
          m.k,
          g.Kc,
          cols,
          g.Og,
          wp + gi * g.Og * wm.row * 4,
          wm.col,
          wm.row,
          rp,
          cols,
          1,
          cp,
          cols,
          0,
          sp,
          m.stride,
        );
        // col2im tasks: (col pointer, args..., image pointer, ldcol), the reverse of im2col's operands.
        const tasks = foldTasks(g, args, xp, cp, n0, nb, gi).map((t) => [
          t[args.length + 1],
          ...t.slice(1, args.length + 1),
          t[0],
          cols,
        ]);
        parallelCalls(m.k, 'col2im', tasks);
      }
    }
    return f.result(o, xLen);
  });
}

/** Gradient of the weight; null where WebAssembly is unavailable. */
export function wasmConv2dBackwardWeight(
  x: Float32Array,
  xOff: number,
  xShape: readonly number[],
  gOut: Float32Array,
  gOff: number,
  gShape: readonly number[],
  p: Conv2dParams,
  wShape: readonly number[],
): Float32Array | null {
  const g = geo(xShape, wShape, gShape, p.groups);
  const xLen = g.N * g.C * g.H * g.W;
  const gLen = g.N * g.O * g.P;
  const wLen = g.O * g.Kc;
  return withFrame((f) => {
    if (pointwise(g, p) && g.N > 0) {
      const xp = f.input(x, xOff, xLen);
      const gp = f.input(gOut, gOff, gLen);
      const o = f.output(wLen);
      const { sp, stride } = gemmArea(f);
      // gradW [O, C] = sum over n of gradOut[n] [O, P] x x[n]^T [P, C]: image 0 written, the rest
      // added in order, so the sums run in the same order for any thread count.
      const k = f.heap.kernels;
      for (let n = 0; n < g.N; n++) {
        const gn = gp + n * g.O * g.P * 4;
        const xn = xp + n * g.C * g.P * 4;
        parallelSgemm(k, g.O, g.C, g.P, gn, g.P, 1, xn, 1, g.P, o.ptr, g.C, n > 0 ? 1 : 0, sp, stride);
      }
      return f.result(o, wLen);
    }
    if (blockedUnfold(g, p)) {
      const xp = f.input(x, xOff, xLen);
      const gp = f.input(gOut, gOff, gLen);
      const o = f.output(wLen, g.N * g.P === 0);
      convWeightTaps(f, g, shapeArgs(g, p), xp, gp, o.ptr);
      return f.result(o, wLen);
    }
    const m = layout(f, g);
    const { cp, rp, sp } = m;
    const xp = f.input(x, xOff, xLen);
    const gp = f.input(gOut, gOff, gLen);
    // The first chunk's products are written, later chunks add (nothing to zero unless no chunk runs).
    const o = f.output(wLen, g.N * g.P === 0);
    const wp = o.ptr;
    const args = shapeArgs(g, p);
    for (let gi = 0; gi < g.G; gi++) {
      for (let n0 = 0; n0 < g.N; n0 += g.nb) {
        const nb = Math.min(g.nb, g.N - n0);
        const cols = nb * g.P;
        unfoldChunk(m, g, args, xp, cp, n0, nb, gi);
        parallelRegroup(m, rp, gp + (n0 * g.O + gi * g.Og) * g.P * 4, g.Og, nb, g.P, g.O, 0);
        // gradW_g [Og, Kc] += gradOut rows [Og, nb*P] x col^T [nb*P, Kc]
        parallelSgemm(
          m.k,
          g.Og,
          g.Kc,
          cols,
          rp,
          cols,
          1,
          cp,
          1,
          cols,
          wp + gi * g.Og * g.Kc * 4,
          g.Kc,
          n0 > 0 ? 1 : 0,
          sp,
          m.stride,
        );
      }
    }
    return f.result(o, wLen);
  });
}
