// The reference backend's products: batched matmul and 2-D convolution (im2col / col2im around the
// GEMM loops of cpu/gemm.ts), in the operands' float type; other dtypes take a generic float64 loop.

import type { Conv2dParams, Storage, View } from '../../backend.js';
import { castScalar, type DType } from '../../dtype.js';
import { type FloatArray, gemmNN, gemmNT } from '../gemm.js';
import {
  type ArrayAllocator,
  arr,
  CpuStorage,
  floats,
  floatsLike,
  needsCast,
  numeric,
  output,
} from '../storage.js';
import { col2im, im2col } from './helpers.js';

/** Batched [B, M, K] @ [B, K, N] on the float GEMM loops for float operands, else a float64 dot loop. */
export function referenceMatmul(cpu: ArrayAllocator, a: View, b: View, outDtype: DType): Storage {
  const [B, M, K] = a.shape;
  const N = b.shape[2];
  const fast =
    (outDtype === 'float32' || outDtype === 'float64') && a.dtype === outDtype && b.dtype === outDtype;
  if (!fast) return matmulGeneric(cpu, a, b, outDtype);
  const A = arr(a) as FloatArray;
  const Bm = arr(b) as FloatArray;
  const out = floatsLike(cpu, A, B * M * N);
  // B with contiguous rows: multiply directly; B^T contiguous (x @ W.T): dot products; else pack.
  for (let bi = 0; bi < B; bi++) {
    const aOff = a.offset + bi * a.strides[0];
    const bOff = b.offset + bi * b.strides[0];
    const cOff = bi * M * N;
    if (b.strides[2] === 1 || N === 1) {
      gemmNN(M, N, K, A, aOff, a.strides[1], a.strides[2], Bm, bOff, b.strides[1], out, cOff, N, false);
    } else if (b.strides[1] === 1 && a.strides[2] === 1) {
      gemmNT(M, N, K, A, aOff, a.strides[1], Bm, bOff, b.strides[2], out, cOff, N, false);
    } else {
      const packed = floatsLike(cpu, Bm, K * N);
      for (let k = 0; k < K; k++)
        for (let j = 0; j < N; j++) packed[k * N + j] = Bm[bOff + k * b.strides[1] + j * b.strides[2]];
      gemmNN(M, N, K, A, aOff, a.strides[1], a.strides[2], packed, 0, N, out, cOff, N, false);
    }
  }
  return new CpuStorage(out, cpu);
}

function matmulGeneric(cpu: ArrayAllocator, a: View, b: View, outDtype: DType): Storage {
  const [B, M, K] = a.shape;
  const N = b.shape[2];
  const av = numeric(a);
  const bv = numeric(b);
  const { out, finish } = output(cpu, outDtype, B * M * N);
  for (let bi = 0; bi < B; bi++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          s +=
            av[a.offset + bi * a.strides[0] + i * a.strides[1] + k * a.strides[2]] *
            bv[b.offset + bi * b.strides[0] + k * b.strides[1] + j * b.strides[2]];
        }
        out[(bi * M + i) * N + j] = needsCast(outDtype) ? castScalar(s, outDtype) : s;
      }
  return finish();
}

/** 2-D convolution as im2col and one GEMM per image and group. */
export function referenceConv2d(
  cpu: ArrayAllocator,
  x: View,
  weight: View,
  p: Conv2dParams,
  outShape: readonly number[],
): Storage {
  const X = floats(x, 'conv2d');
  const W = floats(weight, 'conv2d');
  const [N, C, H, Wd] = x.shape;
  const [O, Cg, KH, KW] = weight.shape;
  const [, , OH, OW] = outShape;
  const G = p.groups;
  const Og = O / G;
  const P = OH * OW;
  const Kc = Cg * KH * KW;
  const out = floatsLike(cpu, X, N * O * P);
  const col = floatsLike(cpu, X, Kc * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      im2col(X, x.offset + (n * C + g * Cg) * H * Wd, Cg, H, Wd, KH, KW, OH, OW, p, col);
      gemmNN(
        Og,
        P,
        Kc,
        W,
        weight.offset + g * Og * Kc,
        Kc,
        1,
        col,
        0,
        P,
        out,
        (n * O + g * Og) * P,
        P,
        false,
      );
    }
  }
  return new CpuStorage(out, cpu);
}

/** The gradient of conv2d for its input: W^T times gradOut per image and group, scattered by col2im. */
export function referenceConv2dBackwardInput(
  cpu: ArrayAllocator,
  gradOut: View,
  weight: View,
  p: Conv2dParams,
  inputShape: readonly number[],
): Storage {
  const Gd = floats(gradOut, 'conv2dBackwardInput');
  const W = floats(weight, 'conv2dBackwardInput');
  const [N, C, H, Wd] = inputShape;
  const [O, Cg, KH, KW] = weight.shape;
  const [, , OH, OW] = gradOut.shape;
  const G = p.groups;
  const Og = O / G;
  const P = OH * OW;
  const Kc = Cg * KH * KW;
  const out = floatsLike(cpu, Gd, N * C * H * Wd);
  const col = floatsLike(cpu, Gd, Kc * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      // col[Kc, P] = W_g^T [Kc, Og] * gradOut_g [Og, P]
      gemmNN(
        Kc,
        P,
        Og,
        W,
        weight.offset + g * Og * Kc,
        1,
        Kc,
        Gd,
        gradOut.offset + (n * O + g * Og) * P,
        P,
        col,
        0,
        P,
        false,
      );
      col2im(col, Cg, H, Wd, KH, KW, OH, OW, p, out, (n * C + g * Cg) * H * Wd);
    }
  }
  return new CpuStorage(out, cpu);
}

/** The gradient of conv2d for its weight: gradOut times im2col(x)^T, summed over images. */
export function referenceConv2dBackwardWeight(
  cpu: ArrayAllocator,
  x: View,
  gradOut: View,
  p: Conv2dParams,
  weightShape: readonly number[],
): Storage {
  const X = floats(x, 'conv2dBackwardWeight');
  const Gd = floats(gradOut, 'conv2dBackwardWeight');
  const [N, C, H, Wd] = x.shape;
  const [O, Cg, KH, KW] = weightShape;
  const [, , OH, OW] = gradOut.shape;
  const G = p.groups;
  const Og = O / G;
  const P = OH * OW;
  const Kc = Cg * KH * KW;
  const out = floatsLike(cpu, X, O * Kc);
  const col = floatsLike(cpu, X, Kc * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      im2col(X, x.offset + (n * C + g * Cg) * H * Wd, Cg, H, Wd, KH, KW, OH, OW, p, col);
      // gradW_g [Og, Kc] += gradOut_g [Og, P] * col^T [P, Kc]
      gemmNT(Og, Kc, P, Gd, gradOut.offset + (n * O + g * Og) * P, P, col, 0, P, out, g * Og * Kc, Kc, true);
    }
  }
  return new CpuStorage(out, cpu);
}
