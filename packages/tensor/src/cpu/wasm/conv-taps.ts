// Kernel taps that read only padding. When a feature map is smaller than the kernel's reach (a 3x3
// convolution over a 1x1 map, as ResNet's last stage meets at small inputs), some kernel rows and
// columns multiply zeros at every output position. The convolution over the other taps, with the
// padding reduced by the dropped leading taps, gives the same output; the dropped taps' weight
// gradient is zero. im2col and col2im take the output size explicitly and bound-check every input
// position, so the trailing side needs no padding change.

import type { Conv2dParams, View } from '../../backend.js';
import { contiguousStrides } from '../../shape.js';
import { withFrame } from './heap.js';
import { getNumThreads, parallelCalls } from './threads.js';

/** Output positions (batch x height x width) from which copying the kept taps of a kernel pays. */
const MIN_COLUMNS_TO_COPY = 64;

export interface TapCrop {
  /** Kept kernel rows [kh0, kh1) and columns [kw0, kw1). */
  kh0: number;
  kh1: number;
  kw0: number;
  kw1: number;
  /** The parameters for the kept taps (padding lowered by the dropped leading taps). */
  p: Conv2dParams;
  /** [O, Cg, kh1 - kh0, kw1 - kw0]. */
  shape: number[];
}

/** The taps of one spatial dim that reach an input position for some output position: [k0, k1). */
function reach(
  K: number,
  size: number,
  out: number,
  stride: number,
  pad: number,
  dil: number,
): [number, number] {
  let k0 = K;
  let k1 = 0;
  for (let k = 0; k < K; k++) {
    for (let o = 0; o < out; o++) {
      const i = o * stride - pad + k * dil;
      if (i >= 0 && i < size) {
        k0 = Math.min(k0, k);
        k1 = k + 1;
        break;
      }
    }
  }
  return k0 < k1 ? [k0, k1] : [0, K];
}

/** The kept taps, or null when every tap reaches the input somewhere (or cropping would need negative padding). */
export function cropTaps(
  wShape: readonly number[],
  p: Conv2dParams,
  inShape: readonly number[],
  outShape: readonly number[],
): TapCrop | null {
  const [O, Cg, KH, KW] = wShape;
  const [kh0, kh1] = reach(KH, inShape[2], outShape[2], p.stride[0], p.padding[0], p.dilation[0]);
  const [kw0, kw1] = reach(KW, inShape[3], outShape[3], p.stride[1], p.padding[1], p.dilation[1]);
  const kept = (kh1 - kh0) * (kw1 - kw0);
  if (kept === KH * KW) return null;
  // One kept tap is a strided view of the weight; more are copied, a pass over the whole weight that
  // pays only when each weight element meets enough output positions.
  if (kept > 1 && outShape[0] * outShape[2] * outShape[3] < MIN_COLUMNS_TO_COPY) return null;
  const padding: [number, number] = [p.padding[0] - kh0 * p.dilation[0], p.padding[1] - kw0 * p.dilation[1]];
  if (padding[0] < 0 || padding[1] < 0) return null;
  return { kh0, kh1, kw0, kw1, p: { ...p, padding }, shape: [O, Cg, kh1 - kh0, kw1 - kw0] };
}

/** The kept taps of a weight (or weight gradient) view, as a strided view of the same storage. */
export function keptTaps(w: View, c: TapCrop): View {
  return {
    storage: w.storage,
    dtype: w.dtype,
    shape: c.shape,
    strides: w.strides,
    offset: w.offset + c.kh0 * w.strides[2] + c.kw0 * w.strides[3],
  };
}

/** Copies the kept taps of the float32 weight `w` into `dst` (contiguous [O, Cg, KH', KW']). */
export function copyKeptTaps(w: View, data: Float32Array, c: TapCrop, dst: Float32Array): void {
  const [O, Cg, kh, kw] = c.shape;
  const [so, sc, sh, sw] = w.strides;
  const base = w.offset + c.kh0 * sh + c.kw0 * sw;
  let j = 0;
  for (let o = 0; o < O; o++) {
    for (let ci = 0; ci < Cg; ci++) {
      const at = base + o * so + ci * sc;
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) dst[j++] = data[at + y * sh + x * sw];
    }
  }
}

/**
 * Writes the full gradient `dst` ([O, Cg, KH, KW], any prior contents): the kept taps' gradient `kept`
 * ([O, Cg, KH', KW']) and zeros elsewhere. Zeroing goes a block of kernels at a time just before their
 * kept taps are written, so a large gradient (ResNet's 3x3 kernels at a 1x1 map keep 1 tap of 9) is
 * written in one pass through the cache instead of a fill and then a strided pass over memory again.
 */
export function scatterKeptTaps(
  kept: Float32Array,
  c: TapCrop,
  wShape: readonly number[],
  dst: Float32Array,
): void {
  const [O, Cg, kh, kw] = c.shape;
  const [KH, KW] = [wShape[2], wShape[3]];
  const taps = KH * KW;
  const block = Math.max(1, Math.floor(SCATTER_BLOCK_FLOATS / taps));
  let j = 0;
  for (let b0 = 0; b0 < O * Cg; b0 += block) {
    const b1 = Math.min(O * Cg, b0 + block);
    dst.fill(0, b0 * taps, b1 * taps);
    for (let oc = b0; oc < b1; oc++) {
      const at = (oc * KH + c.kh0) * KW + c.kw0;
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) dst[at + y * KW + x] = kept[j++];
    }
  }
}

/** Floats zeroed at a time by scatterKeptTaps: 16 KB, well inside L1. */
const SCATTER_BLOCK_FLOATS = 4096;

/** A contiguous view over a whole storage. */
export function denseView(v: Pick<View, 'storage' | 'dtype'>, shape: readonly number[]): View {
  return { storage: v.storage, dtype: v.dtype, shape, strides: contiguousStrides(shape), offset: 0 };
}

/**
 * The weight gradient [O, Cg, KH, KW] from the gradient of its kept taps `kept` ([O, Cg, kh, kw] from
 * `keptOff`, rows kh0.., columns kw0..; see conv-taps.ts), written in one pass on the pool (zeros
 * around the kept window); null where WebAssembly is unavailable.
 */
export function wasmScatterKeptTaps(
  kept: Float32Array,
  keptOff: number,
  wShape: readonly number[],
  kh0: number,
  kh: number,
  kw0: number,
  kw: number,
): Float32Array | null {
  const [O, Cg, KH, KW] = wShape;
  const rows = O * Cg;
  const len = rows * KH * KW;
  return withFrame((f) => {
    const kp = f.input(kept, keptOff, rows * kh * kw);
    const o = f.output(len);
    const step = Math.ceil(rows / (2 * getNumThreads()));
    const tasks: number[][] = [];
    for (let r0 = 0; r0 < rows; r0 += step) {
      tasks.push([kp, o.ptr, r0, Math.min(rows, r0 + step), KH, KW, kh0, kh, kw0, kw]);
    }
    parallelCalls(f.heap.kernels, 'scatterTaps', tasks);
    return f.result(o, len);
  });
}

/**
 * The kept taps of a weight as a contiguous [O, Cg, kh, kw] array, copied on the pool: element
 * (o, c, y, x) of the kept window at w[off + o * so + c * sc + y * sh + x * sx] (non-negative strides);
 * null where WebAssembly is unavailable.
 */
export function wasmCopyKeptTaps(
  w: Float32Array,
  off: number,
  strides: readonly number[],
  shape: readonly number[],
): Float32Array | null {
  const [O, Cg, kh, kw] = shape;
  const [so, sc, sh, sx] = strides;
  const len = O * Cg * kh * kw;
  const extent = (O - 1) * so + (Cg - 1) * sc + (kh - 1) * sh + (kw - 1) * sx + 1;
  return withFrame((f) => {
    const wp = f.input(w, off, extent);
    const o = f.output(len);
    const step = Math.ceil(O / (2 * getNumThreads()));
    const tasks: number[][] = [];
    for (let o0 = 0; o0 < O; o0 += step) {
      tasks.push([wp, so, sc, sh, sx, o.ptr, o0, Math.min(O, o0 + step), Cg, kh, kw]);
    }
    parallelCalls(f.heap.kernels, 'gatherTaps', tasks);
    return f.result(o, len);
  });
}
