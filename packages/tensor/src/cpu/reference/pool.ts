// The reference backend's pooling kernels: max (with indices), average and adaptive average pooling
// over [N, C, H, W] and their gradients.

import type { Pool2dParams, Storage, View } from '../../backend.js';
import { type ArrayAllocator, arr, CpuStorage, numeric, output } from '../storage.js';
import { avgWindow, maxPoolPlanes } from './helpers.js';

/** Max pooling with PyTorch's rules, returning values and flat per-plane indices. */
export function referenceMaxPool2d(
  cpu: ArrayAllocator,
  x: View,
  p: Pool2dParams,
  outShape: readonly number[],
): { values: Storage; indices: Storage } {
  const X = numeric(x);
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = outShape;
  const indices = new Float64Array(N * C * OH * OW);
  const { out: values, finish } = output(cpu, x.dtype, N * C * OH * OW);
  maxPoolPlanes(X, x.offset, N * C, H, W, OH, OW, p, values, indices);
  return { values: finish(), indices: new CpuStorage(indices, cpu) };
}

/** The max-pooling gradient: each output gradient added at its recorded index. */
export function referenceMaxPool2dBackward(
  cpu: ArrayAllocator,
  gradOut: View,
  indices: View,
  inputShape: readonly number[],
): Storage {
  const G = numeric(gradOut);
  const I = arr(indices);
  const [N, C, H, W] = inputShape;
  const [, , OH, OW] = gradOut.shape;
  const { out, finish } = output(cpu, gradOut.dtype, N * C * H * W);
  const P = OH * OW;
  for (let nc = 0; nc < N * C; nc++) {
    for (let k = 0; k < P; k++) {
      const idx = I[indices.offset + nc * P + k];
      out[nc * H * W + idx] += G[gradOut.offset + nc * P + k];
    }
  }
  return finish();
}

/** The input window [h0, h1) x [w0, w1) of output (oh, ow) and the divisor of its sum. */
type PoolWindow = (
  oh: number,
  ow: number,
) => { h0: number; h1: number; w0: number; w1: number; divisor: number };

/** Each output the sum of its input window over the window's divisor, plane by plane over [N, C, H, W]. */
function windowMean(cpu: ArrayAllocator, x: View, outShape: readonly number[], window: PoolWindow): Storage {
  const X = numeric(x);
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = outShape;
  const { out, finish } = output(cpu, x.dtype, N * C * OH * OW);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = x.offset + nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o++) {
        const w = window(oh, ow);
        let s = 0;
        for (let h = w.h0; h < w.h1; h++) for (let c = w.w0; c < w.w1; c++) s += X[base + h * W + c];
        out[o] = s / w.divisor;
      }
    }
  }
  return finish();
}

/** windowMean's gradient: each output gradient over the divisor, added over its window. */
function windowMeanBackward(
  cpu: ArrayAllocator,
  gradOut: View,
  inputShape: readonly number[],
  window: PoolWindow,
): Storage {
  const G = numeric(gradOut);
  const [N, C, H, W] = inputShape;
  const [, , OH, OW] = gradOut.shape;
  const { out, finish } = output(cpu, gradOut.dtype, N * C * H * W);
  let o = gradOut.offset;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o++) {
        const w = window(oh, ow);
        const g = G[o] / w.divisor;
        for (let h = w.h0; h < w.h1; h++) for (let c = w.w0; c < w.w1; c++) out[base + h * W + c] += g;
      }
    }
  }
  return finish();
}

/** PyTorch's adaptive windows [floor(i*H/OH), ceil((i+1)*H/OH)), divided by their size. */
function adaptiveWindow(H: number, W: number, OH: number, OW: number): PoolWindow {
  return (oh, ow) => {
    const h0 = Math.floor((oh * H) / OH);
    const h1 = Math.ceil(((oh + 1) * H) / OH);
    const w0 = Math.floor((ow * W) / OW);
    const w1 = Math.ceil(((ow + 1) * W) / OW);
    return { h0, h1, w0, w1, divisor: (h1 - h0) * (w1 - w0) };
  };
}

/** Average pooling over [N, C, H, W]; the divisor follows countIncludePad and divisorOverride. */
export function referenceAvgPool2d(
  cpu: ArrayAllocator,
  x: View,
  p: Pool2dParams,
  outShape: readonly number[],
): Storage {
  const [, , H, W] = x.shape;
  return windowMean(cpu, x, outShape, (oh, ow) => avgWindow(oh, ow, H, W, p));
}

/** The average-pooling gradient: each output gradient spread evenly over its window. */
export function referenceAvgPool2dBackward(
  cpu: ArrayAllocator,
  gradOut: View,
  p: Pool2dParams,
  inputShape: readonly number[],
): Storage {
  const [, , H, W] = inputShape;
  return windowMeanBackward(cpu, gradOut, inputShape, (oh, ow) => avgWindow(oh, ow, H, W, p));
}

/** Adaptive average pooling with PyTorch's windows [floor(i*H/OH), ceil((i+1)*H/OH)). */
export function referenceAdaptiveAvgPool2d(
  cpu: ArrayAllocator,
  x: View,
  outShape: readonly number[],
): Storage {
  const [, , H, W] = x.shape;
  return windowMean(cpu, x, outShape, adaptiveWindow(H, W, outShape[2], outShape[3]));
}

/** The adaptive average-pooling gradient: each output gradient spread over its window. */
export function referenceAdaptiveAvgPool2dBackward(
  cpu: ArrayAllocator,
  gradOut: View,
  inputShape: readonly number[],
): Storage {
  const [, , H, W] = inputShape;
  const [, , OH, OW] = gradOut.shape;
  return windowMeanBackward(cpu, gradOut, inputShape, adaptiveWindow(H, W, OH, OW));
}
