// Convolution forward and backward entirely inside WebAssembly memory: operands are copied in once,
// im2col/col2im and the GEMMs run there, and the result is copied out once.

import type { Conv2dParams } from '../../backend.js';
import { type Kernels, gemmScratch, reserve, wasmKernels } from './kernels.js';
import { getNumThreads, parallelSgemm } from './threads.js';

/** Reserves the operands plus one GEMM scratch area per thread; null without WebAssembly. */
function layout(sizes: number[], gemmN: number): { k: Kernels; ptrs: number[]; heap: Float32Array; stride: number } | null {
  const k = wasmKernels();
  if (!k) return null;
  const scratch = gemmScratch(gemmN);
  const m = reserve(k, [...sizes, scratch * getNumThreads()]);
  return { k, ...m, stride: Math.ceil(scratch / 16) * 64 };
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
}

function geo(x: readonly number[], w: readonly number[], out: readonly number[]): Geometry {
  return { N: x[0], C: x[1], H: x[2], W: x[3], O: w[0], Cg: w[1], KH: w[2], KW: w[3], OH: out[2], OW: out[3] };
}

function convArgs(g: Geometry, p: Conv2dParams): number[] {
  return [g.Cg, g.H, g.W, g.KH, g.KW, g.OH, g.OW, p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1]];
}

/** Forward convolution; returns null where WebAssembly is unavailable. */
export function wasmConv2d(
  x: Float32Array,
  xOff: number,
  xShape: readonly number[],
  w: Float32Array,
  wOff: number,
  wShape: readonly number[],
  p: Conv2dParams,
  outShape: readonly number[],
): Float32Array | null {
  const g = geo(xShape, wShape, outShape);
  const G = p.groups;
  const Og = g.O / G;
  const P = g.OH * g.OW;
  const Kc = g.Cg * g.KH * g.KW;
  const xLen = g.N * g.C * g.H * g.W;
  const wLen = g.O * Kc;
  const oLen = g.N * g.O * P;
  const m = layout([xLen, wLen, oLen, Kc * P], P);
  if (!m) return null;
  const k = m.k.exports;
  const [xp, wp, op, cp, sp] = m.ptrs;
  m.heap.set(x.subarray(xOff, xOff + xLen), xp / 4);
  m.heap.set(w.subarray(wOff, wOff + wLen), wp / 4);
  const args = convArgs(g, p);
  for (let n = 0; n < g.N; n++) {
    for (let gi = 0; gi < G; gi++) {
      k.im2col(xp + ((n * g.C + gi * g.Cg) * g.H * g.W) * 4, ...args, cp);
      parallelSgemm(m.k, Og, P, Kc, wp + gi * Og * Kc * 4, Kc, 1, cp, P, 1, op + ((n * g.O + gi * Og) * P) * 4, P, 0, sp, m.stride);
    }
  }
  return m.heap.slice(op / 4, op / 4 + oLen);
}

/** Gradient of the input. */
export function wasmConv2dBackwardInput(
  gOut: Float32Array,
  gOff: number,
  w: Float32Array,
  wOff: number,
  wShape: readonly number[],
  p: Conv2dParams,
  inputShape: readonly number[],
  gShape: readonly number[],
): Float32Array | null {
  const g = geo(inputShape, wShape, gShape);
  const G = p.groups;
  const Og = g.O / G;
  const P = g.OH * g.OW;
  const Kc = g.Cg * g.KH * g.KW;
  const gLen = g.N * g.O * P;
  const wLen = g.O * Kc;
  const xLen = g.N * g.C * g.H * g.W;
  const m = layout([gLen, wLen, xLen, Kc * P], P);
  if (!m) return null;
  const k = m.k.exports;
  const [gp, wp, xp, cp, sp] = m.ptrs;
  m.heap.set(gOut.subarray(gOff, gOff + gLen), gp / 4);
  m.heap.set(w.subarray(wOff, wOff + wLen), wp / 4);
  m.heap.fill(0, xp / 4, xp / 4 + xLen);
  const args = convArgs(g, p);
  for (let n = 0; n < g.N; n++) {
    for (let gi = 0; gi < G; gi++) {
      // col[Kc, P] = W_g^T [Kc, Og] x gradOut_g [Og, P]
      parallelSgemm(m.k, Kc, P, Og, wp + gi * Og * Kc * 4, 1, Kc, gp + ((n * g.O + gi * Og) * P) * 4, P, 1, cp, P, 0, sp, m.stride);
      k.col2im(cp, ...args, xp + ((n * g.C + gi * g.Cg) * g.H * g.W) * 4);
    }
  }
  return m.heap.slice(xp / 4, xp / 4 + xLen);
}

/** Gradient of the weight. */
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
  const g = geo(xShape, wShape, gShape);
  const G = p.groups;
  const Og = g.O / G;
  const P = g.OH * g.OW;
  const Kc = g.Cg * g.KH * g.KW;
  const xLen = g.N * g.C * g.H * g.W;
  const gLen = g.N * g.O * P;
  const wLen = g.O * Kc;
  const m = layout([xLen, gLen, wLen, Kc * P], Kc);
  if (!m) return null;
  const k = m.k.exports;
  const [xp, gp, wp, cp, sp] = m.ptrs;
  m.heap.set(x.subarray(xOff, xOff + xLen), xp / 4);
  m.heap.set(gOut.subarray(gOff, gOff + gLen), gp / 4);
  m.heap.fill(0, wp / 4, wp / 4 + wLen);
  const args = convArgs(g, p);
  for (let n = 0; n < g.N; n++) {
    for (let gi = 0; gi < G; gi++) {
      k.im2col(xp + ((n * g.C + gi * g.Cg) * g.H * g.W) * 4, ...args, cp);
      // gradW_g [Og, Kc] += gradOut_g [Og, P] x col^T [P, Kc]
      parallelSgemm(m.k, Og, Kc, P, gp + ((n * g.O + gi * Og) * P) * 4, P, 1, cp, 1, P, wp + gi * Og * Kc * 4, Kc, 1, sp, m.stride);
    }
  }
  return m.heap.slice(wp / 4, wp / 4 + wLen);
}
