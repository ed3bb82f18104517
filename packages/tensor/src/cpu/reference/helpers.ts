// Loops the reference CPU backend's convolution, pooling and indexing kernels share.

import type { Conv2dParams, Pool2dParams } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import type { FloatArray } from '../gemm.js';

/**
 * The reference max pooling over planes [H, W], with PyTorch's rules: start at the first tap inside the
 * image, move on a strictly greater value or a NaN. Indices are flat positions within each plane.
 */
export function maxPoolPlanes(
  X: ArrayLike<number>,
  offset: number,
  planes: number,
  H: number,
  W: number,
  OH: number,
  OW: number,
  p: Pool2dParams,
  values: TypedArray,
  indices: Float64Array,
): void {
  const [kh, kw] = p.kernelSize;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  let o = 0;
  for (let nc = 0; nc < planes; nc++) {
    const base = offset + nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - ph;
      // Kernel rows inside the image: i in [iLo, iHi).
      const iLo = h0 >= 0 ? 0 : Math.ceil(-h0 / dh);
      const iHi = Math.min(kh, Math.floor((H - 1 - h0) / dh) + 1);
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = ow * sw - pw;
        const jLo = w0 >= 0 ? 0 : Math.ceil(-w0 / dw);
        const jHi = Math.min(kw, Math.floor((W - 1 - w0) / dw) + 1);
        // PyTorch's rule: start at the first tap inside the image, move on a greater value or a NaN.
        let best = Number.NEGATIVE_INFINITY;
        let bestIdx = (h0 + iLo * dh) * W + w0 + jLo * dw;
        for (let i = iLo; i < iHi; i++) {
          const row = (h0 + i * dh) * W + w0;
          for (let j = jLo; j < jHi; j++) {
            const idx = row + j * dw;
            const v = X[base + idx];
            if (v > best || v !== v) {
              best = v;
              bestIdx = idx;
            }
          }
        }
        values[o] = best;
        indices[o] = bestIdx;
      }
    }
  }
}

/**
 * The offset, under `targetStrides` from `base`, of element `i` of a row-major walk (strides `walk`),
 * with its coordinate along `dim` replaced by `at(c)` (c: that coordinate): the common step of gather,
 * scatterAdd, indexSelect and indexAdd.
 */
export function remapOffset(
  i: number,
  walk: readonly number[],
  dim: number,
  targetStrides: readonly number[],
  base: number,
  at: (c: number) => number,
): number {
  let off = base;
  let rem = i;
  for (let d = 0; d < walk.length; d++) {
    const c = Math.floor(rem / walk[d]);
    rem -= c * walk[d];
    off += (d === dim ? at(c) : c) * targetStrides[d];
  }
  return off;
}

export function checkIndex(i: number, size: number, op: string): number {
  if (!(i >= 0 && i < size) && !(i < 0 && i >= -size)) {
    throw new Error(`${op}: index ${i} is out of bounds for dimension with size ${size}`);
  }
  return i < 0 ? i + size : i;
}

export function avgWindow(oh: number, ow: number, H: number, W: number, p: Pool2dParams) {
  const [kh, kw] = p.kernelSize;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  let h0 = oh * sh - ph;
  let w0 = ow * sw - pw;
  let h1 = Math.min(h0 + kh, H + ph);
  let w1 = Math.min(w0 + kw, W + pw);
  const poolSize = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0);
  w0 = Math.max(w0, 0);
  h1 = Math.min(h1, H);
  w1 = Math.min(w1, W);
  const divisor = p.divisorOverride ?? (p.countIncludePad ? poolSize : (h1 - h0) * (w1 - w0));
  return { h0, h1, w0, w1, divisor };
}

/** Unfolds one image's group of channels into columns [C*KH*KW, OH*OW]. */
export function im2col(
  X: FloatArray,
  xOff: number,
  C: number,
  H: number,
  W: number,
  KH: number,
  KW: number,
  OH: number,
  OW: number,
  p: Conv2dParams,
  col: FloatArray,
): void {
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      for (let j = 0; j < KW; j++, r++) {
        const row = r * OH * OW;
        for (let oh = 0; oh < OH; oh++) {
          const h = oh * sh - ph + i * dh;
          const dst = row + oh * OW;
          if (h < 0 || h >= H) {
            col.fill(0, dst, dst + OW);
            continue;
          }
          const src = xOff + (c * H + h) * W;
          for (let ow = 0; ow < OW; ow++) {
            const w = ow * sw - pw + j * dw;
            col[dst + ow] = w >= 0 && w < W ? X[src + w] : 0;
          }
        }
      }
    }
  }
}

/** Folds columns back into an image, adding overlapping contributions. */
export function col2im(
  col: FloatArray,
  C: number,
  H: number,
  W: number,
  KH: number,
  KW: number,
  OH: number,
  OW: number,
  p: Conv2dParams,
  out: FloatArray,
  outOff: number,
): void {
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      for (let j = 0; j < KW; j++, r++) {
        const row = r * OH * OW;
        for (let oh = 0; oh < OH; oh++) {
          const h = oh * sh - ph + i * dh;
          if (h < 0 || h >= H) continue;
          const dst = outOff + (c * H + h) * W;
          const src = row + oh * OW;
          for (let ow = 0; ow < OW; ow++) {
            const w = ow * sw - pw + j * dw;
            if (w >= 0 && w < W) out[dst + w] += col[src + ow];
          }
        }
      }
    }
  }
}
