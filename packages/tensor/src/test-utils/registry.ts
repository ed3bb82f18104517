// Test support: the ops the golden fixtures name, written against graft's public API. The keys and
// keyword arguments match OPS in scripts/golden/tensor.py, which evaluates the same cases in PyTorch.

import { where } from '../ops/elementwise.js';
import { cat, gather, indexSelect, oneHot, stack } from '../ops/indexing.js';
import { bmm, matmul, mm } from '../ops/linalg.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  batchNorm,
  binaryCrossEntropyWithLogits,
  conv2d,
  crossEntropy,
  type IntPair,
  layerNorm,
  linear,
  logSoftmax,
  maxPool2dWithIndices,
  mseLoss,
  nllLoss,
  pad2d,
  type Reduction,
  softmax,
} from '../ops/nn.js';
import { publicUnaryNames } from '../ops/unary.js';
import type { Tensor } from '../tensor.js';

/** Keyword arguments a fixture case may carry (camelCase, as graft spells them). */
export interface Kw {
  s?: number;
  alpha?: number;
  min?: number;
  max?: number;
  approximate?: 'none' | 'tanh';
  dim?: number | number[];
  keepdim?: boolean;
  correction?: number;
  stride?: IntPair;
  padding?: IntPair | 'same' | 'valid';
  dilation?: IntPair;
  groups?: number;
  kernelSize?: IntPair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number;
  outputSize?: number | [number | null, number | null];
  training?: boolean;
  momentum?: number;
  eps?: number;
  normalizedShape?: number[];
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
  size?: number | number[];
  chunks?: number;
  k?: number;
  largest?: boolean;
  numClasses?: number;
  pad?: [number, number, number, number];
  shape?: number[];
  strides?: number[];
  offset?: number;
  dims?: number[];
  dim0?: number;
  dim1?: number;
  start?: number;
  end?: number;
  step?: number;
  length?: number;
  index?: number;
}

export type Inputs = Record<string, Tensor>;
export type OpFn = (i: Inputs, k: Kw) => Tensor | Tensor[];

const d1 = (k: Kw): number => k.dim as number;
const other = (i: Inputs, k: Kw): Tensor | number => i.b ?? (k.s as number);

export const OPS: Record<string, OpFn> = {
  add: (i, k) => i.a.add(i.b, { alpha: k.alpha }),
  addScalar: (i, k) => i.a.add(k.s as number),
  sub: (i, k) => i.a.sub(i.b, { alpha: k.alpha }),
  subScalar: (i, k) => i.a.sub(k.s as number),
  mul: (i) => i.a.mul(i.b),
  mulScalar: (i, k) => i.a.mul(k.s as number),
  div: (i) => i.a.div(i.b),
  divScalar: (i, k) => i.a.div(k.s as number),
  pow: (i) => i.a.pow(i.b),
  powScalar: (i, k) => i.a.pow(k.s as number),
  // Every public unary op of the table (ops/unary.ts), as `x.<name>()`; tensor.py's UNARY names them too.
  ...Object.fromEntries(publicUnaryNames().map((name): [string, OpFn] => [name, (i) => i.x[name]()])),
  clamp: (i, k) => i.x.clamp(k.min, k.max),
  maximum: (i) => i.a.maximum(i.b),
  minimum: (i) => i.a.minimum(i.b),
  where: (i) => where(i.cond, i.a, i.b),
  whereScalar: (i, k) => where(i.cond, i.a, k.s as number),
  gelu: (i, k) => i.x.gelu({ approximate: k.approximate }),
  eq: (i, k) => i.a.eq(other(i, k)),
  ne: (i, k) => i.a.ne(other(i, k)),
  lt: (i, k) => i.a.lt(other(i, k)),
  le: (i, k) => i.a.le(other(i, k)),
  gt: (i, k) => i.a.gt(other(i, k)),
  ge: (i, k) => i.a.ge(other(i, k)),
  sum: (i, k) => i.x.sum(k.dim, k.keepdim),
  mean: (i, k) => i.x.mean(k.dim, k.keepdim),
  var: (i, k) => i.x.var(k.dim, { correction: k.correction, keepdim: k.keepdim }),
  std: (i, k) => i.x.std(k.dim, { correction: k.correction, keepdim: k.keepdim }),
  max: (i, k) => (k.dim === undefined ? i.x.max() : [...i.x.max(d1(k), k.keepdim)]),
  min: (i, k) => (k.dim === undefined ? i.x.min() : [...i.x.min(d1(k), k.keepdim)]),
  amax: (i, k) => i.x.amax(k.dim, k.keepdim),
  amin: (i, k) => i.x.amin(k.dim, k.keepdim),
  prod: (i, k) => i.x.prod(k.dim as number | undefined, k.keepdim),
  cumsum: (i, k) => i.x.cumsum(d1(k)),
  flip: (i, k) => i.x.flip(k.dims as number[]),
  maskedFill: (i, k) => i.x.maskedFill(i.mask, i.value ?? (k.s as number)),
  argmax: (i, k) => i.x.argmax(k.dim as number | undefined, k.keepdim),
  argmin: (i, k) => i.x.argmin(k.dim as number | undefined, k.keepdim),
  logsumexp: (i, k) => i.x.logsumexp(k.dim as number | number[], k.keepdim),
  matmul: (i) => matmul(i.a, i.b),
  mm: (i) => mm(i.a, i.b),
  bmm: (i) => bmm(i.a, i.b),
  linear: (i) => linear(i.x, i.weight, i.bias ?? null),
  conv2d: (i, k) =>
    conv2d(i.x, i.weight, i.bias ?? null, {
      stride: k.stride,
      padding: k.padding,
      dilation: k.dilation,
      groups: k.groups,
    }),
  maxPool2d: (i, k) =>
    maxPool2dWithIndices(i.x, k.kernelSize as IntPair, {
      stride: k.stride,
      padding: k.padding as IntPair | undefined,
      dilation: k.dilation,
      ceilMode: k.ceilMode,
    }),
  avgPool2d: (i, k) =>
    avgPool2d(i.x, k.kernelSize as IntPair, {
      stride: k.stride,
      padding: k.padding as IntPair | undefined,
      ceilMode: k.ceilMode,
      countIncludePad: k.countIncludePad,
      divisorOverride: k.divisorOverride,
    }),
  adaptiveAvgPool2d: (i, k) => adaptiveAvgPool2d(i.x, k.outputSize as number),
  batchNorm: (i, k) => {
    const rm = i.running_mean ? i.running_mean.clone() : null;
    const rv = i.running_var ? i.running_var.clone() : null;
    const y = batchNorm(i.x, rm, rv, i.weight ?? null, i.bias ?? null, {
      training: k.training,
      momentum: k.momentum,
      eps: k.eps,
    });
    return rm && rv ? [y, rm, rv] : [y];
  },
  layerNorm: (i, k) => layerNorm(i.x, k.normalizedShape as number[], i.weight ?? null, i.bias ?? null, k.eps),
  softmax: (i, k) => softmax(i.x, d1(k)),
  logSoftmax: (i, k) => logSoftmax(i.x, d1(k)),
  crossEntropy: (i, k) =>
    crossEntropy(i.x, i.target, {
      weight: i.weight,
      ignoreIndex: k.ignoreIndex,
      reduction: k.reduction,
      labelSmoothing: k.labelSmoothing,
    }),
  nllLoss: (i, k) =>
    nllLoss(i.x, i.target, { weight: i.weight, ignoreIndex: k.ignoreIndex, reduction: k.reduction }),
  mseLoss: (i, k) => mseLoss(i.x, i.target, { reduction: k.reduction }),
  bceWithLogits: (i, k) =>
    binaryCrossEntropyWithLogits(i.x, i.target, {
      weight: i.weight,
      posWeight: i.posWeight,
      reduction: k.reduction,
    }),
  cat: (i, k) => cat(Object.values(i), d1(k)),
  stack: (i, k) => stack(Object.values(i), d1(k)),
  split: (i, k) => i.x.split(k.size as number | number[], d1(k)),
  chunk: (i, k) => i.x.chunk(k.chunks as number, d1(k)),
  gather: (i, k) => gather(i.x, d1(k), i.index),
  indexSelect: (i, k) => indexSelect(i.x, d1(k), i.index),
  topk: (i, k) => [...i.x.topk(k.k as number, d1(k), { largest: k.largest })],
  oneHot: (i, k) => oneHot(i.x, k.numClasses),
  pad2d: (i, k) => {
    const [l, r, t, b] = k.pad as number[];
    return pad2d(i.x, l, r, t, b);
  },
  reshape: (i, k) => i.x.reshape(k.shape as number[]),
  permute: (i, k) => i.x.permute(k.dims as number[]),
  transpose: (i, k) => i.x.transpose(k.dim0 as number, k.dim1 as number),
  expand: (i, k) => i.x.expand(k.shape as number[]),
  squeeze: (i, k) => i.x.squeeze(k.dim),
  unsqueeze: (i, k) => i.x.unsqueeze(d1(k)),
  flatten: (i, k) => i.x.flatten(k.start, k.end),
  narrow: (i, k) => i.x.narrow(d1(k), k.start as number, k.length as number),
  select: (i, k) => i.x.select(d1(k), k.index as number),
  slice: (i, k) => i.x.slice(d1(k), k.start, k.end, k.step),
  asStrided: (i, k) => i.x.asStrided(k.shape as number[], k.strides as number[], k.offset),
  unbind: (i, k) => i.x.unbind(d1(k)),
  clone: (i) => i.x.clone(),
  contiguous: (i) => i.x.contiguous(),
};
