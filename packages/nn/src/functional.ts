// The functional interface (torch.nn.functional): stateless ops the layers are built from.

import {
  type AvgPool2dOptions,
  type Conv2dOptions,
  type CrossEntropyOptions,
  checkOptions,
  type Generator,
  type IntPair,
  type NllLossOptions,
  type Pool2dOptions,
  pad2d,
  type Reduction,
  Tensor,
  adaptiveAvgPool2d as tAdaptiveAvgPool2d,
  avgPool2d as tAvgPool2d,
  batchNorm as tBatchNorm,
  binaryCrossEntropyWithLogits as tBce,
  conv2d as tConv2d,
  crossEntropy as tCrossEntropy,
  dropout as tDropout,
  layerNorm as tLayerNorm,
  linear as tLinear,
  logSoftmax as tLogSoftmax,
  maxPool2d as tMaxPool2d,
  maxPool2dWithIndices as tMaxPool2dWithIndices,
  mseLoss as tMseLoss,
  nllLoss as tNllLoss,
  oneHot as tOneHot,
  softmax as tSoftmax,
  where,
} from '@graft/tensor';

export type {
  AvgPool2dOptions,
  Conv2dOptions,
  CrossEntropyOptions,
  IntPair,
  NllLossOptions,
  Pool2dOptions,
  Reduction,
};

const POOL_OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode'];

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** y = x Wᵀ + b; the error for a wrong in_features names both shapes. */
export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.ndim !== 2)
    throw new Error(`linear: expected a 2D weight [out_features, in_features], got ${fmt(weight.shape)}`);
  if (input.ndim === 0 || input.shape[input.ndim - 1] !== weight.shape[1]) {
    const rows = input.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    throw new Error(
      `linear: mat1 and mat2 shapes cannot be multiplied (${rows}x${input.shape[input.ndim - 1] ?? 1} and ` +
        `${weight.shape[1]}x${weight.shape[0]}): input of shape ${fmt(input.shape)} has ` +
        `${input.shape[input.ndim - 1] ?? 0} features in its last dimension, weight of shape ${fmt(weight.shape)} ` +
        `expects in_features=${weight.shape[1]}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`linear: expected bias of shape [${weight.shape[0]}], got ${fmt(bias.shape)}`);
  }
  return tLinear(input, weight, bias);
}

/** 2-D convolution; `padding` may be 'same' or 'valid'. */
export function conv2d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: Conv2dOptions = {},
): Tensor {
  checkOptions('F.conv2d', opts, ['stride', 'padding', 'dilation', 'groups']);
  return tConv2d(input, weight, bias, opts);
}

/** Max pooling over the last two dims; `stride` defaults to `kernelSize`. */
export function maxPool2d(input: Tensor, kernelSize: IntPair, opts: Pool2dOptions = {}): Tensor {
  checkOptions('F.maxPool2d', opts, POOL_OPTIONS);
  return tMaxPool2d(input, kernelSize, opts);
}

/** Max pooling returning `[values, indices]` (PyTorch's return_indices=True). */
export function maxPool2dWithIndices(
  input: Tensor,
  kernelSize: IntPair,
  opts: Pool2dOptions = {},
): [Tensor, Tensor] {
  checkOptions('F.maxPool2dWithIndices', opts, POOL_OPTIONS);
  return tMaxPool2dWithIndices(input, kernelSize, opts);
}

export function avgPool2d(input: Tensor, kernelSize: IntPair, opts: AvgPool2dOptions = {}): Tensor {
  checkOptions('F.avgPool2d', opts, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  return tAvgPool2d(input, kernelSize, opts);
}

export function adaptiveAvgPool2d(
  input: Tensor,
  outputSize: number | [number | null, number | null],
): Tensor {
  return tAdaptiveAvgPool2d(input, outputSize);
}

export interface BatchNormFnOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dim 1 (F.batch_norm); in training the given running statistics are
 * updated in place with weight `momentum`.
 */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormFnOptions = {},
): Tensor {
  checkOptions('F.batchNorm', opts, ['training', 'momentum', 'eps']);
  return tBatchNorm(input, runningMean, runningVar, weight, bias, opts);
}

/** Layer normalisation over the trailing `normalizedShape` dims; `eps` as a number or `{ eps }`. */
export function layerNorm(
  input: Tensor,
  normalizedShape: number | number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps: number | { eps?: number } = 1e-5,
): Tensor {
  let epsilon = eps;
  if (typeof epsilon !== 'number') {
    checkOptions('F.layerNorm', epsilon, ['eps']);
    epsilon = epsilon?.eps ?? 1e-5;
  }
  return tLayerNorm(
    input,
    typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape,
    weight,
    bias,
    epsilon,
  );
}

export function relu(input: Tensor, opts: { inplace?: boolean } = {}): Tensor {
  checkOptions('F.relu', opts, ['inplace']);
  return opts.inplace ? input.relu_() : input.relu();
}

/**
 * max(0, x) + negativeSlope * min(0, x); the gradient at 0 is negativeSlope, as in PyTorch.
 * `leakyRelu(x, 0.2)`, `leakyRelu(x, 0.2, { inplace })` or `leakyRelu(x, { negativeSlope, inplace })`.
 */
export function leakyRelu(
  input: Tensor,
  negativeSlope: number | { negativeSlope?: number; inplace?: boolean } = 0.01,
  opts: { inplace?: boolean } = {},
): Tensor {
  let slope = negativeSlope;
  let inplace: boolean | undefined;
  if (typeof slope === 'number') {
    checkOptions('F.leakyRelu', opts, ['inplace']);
    inplace = opts?.inplace;
  } else {
    checkOptions('F.leakyRelu', slope, ['negativeSlope', 'inplace']);
    inplace = slope?.inplace;
    slope = slope?.negativeSlope ?? 0.01;
  }
  const out = where(input.gt(0), input, input.mul(slope));
  return inplace ? input.copy_(out) : out;
}

export function gelu(input: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  checkOptions('F.gelu', opts, ['approximate']);
  return input.gelu({ approximate: opts.approximate ?? 'none' });
}

export function sigmoid(input: Tensor): Tensor {
  return input.sigmoid();
}

export function tanh(input: Tensor): Tensor {
  return input.tanh();
}

/** x * sigmoid(x). */
export function silu(input: Tensor): Tensor {
  return input.mul(input.sigmoid());
}

/** PyTorch's legacy choice of softmax dim when none is given. */
export function implicitSoftmaxDim(ndim: number): number {
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/** `softmax(x, 1)` or PyTorch's keyword spelled as an option, `softmax(x, { dim: 1 })`. */
function dimArg(where: string, dim: number | null | { dim?: number | null }): number | null {
  if (dim === null || typeof dim !== 'object') return dim;
  checkOptions(where, dim, ['dim']);
  return dim.dim ?? null;
}

export function softmax(input: Tensor, dim: number | null | { dim?: number | null } = null): Tensor {
  return tSoftmax(input, dimArg('F.softmax', dim) ?? implicitSoftmaxDim(input.ndim));
}

export function logSoftmax(input: Tensor, dim: number | null | { dim?: number | null } = null): Tensor {
  return tLogSoftmax(input, dimArg('F.logSoftmax', dim) ?? implicitSoftmaxDim(input.ndim));
}

export interface DropoutOptions {
  p?: number;
  training?: boolean;
  inplace?: boolean;
  generator?: Generator;
}

/**
 * Zeroes elements with probability `p` and scales the rest by 1/(1-p) when training.
 * `dropout(x, 0.2)`, `dropout(x, 0.2, false)` or `dropout(x, { p, training, inplace, generator })`.
 */
export function dropout(input: Tensor, pOrOpts: number | DropoutOptions = {}, training = true): Tensor {
  if (typeof pOrOpts !== 'number')
    checkOptions('F.dropout', pOrOpts, ['p', 'training', 'inplace', 'generator']);
  const opts: DropoutOptions = typeof pOrOpts === 'number' ? { p: pOrOpts, training } : (pOrOpts ?? {});
  const p = opts.p ?? 0.5;
  const out = tDropout(input, p, opts.training ?? true, { generator: opts.generator });
  return opts.inplace && out !== input ? input.copy_(out) : out;
}

/** Zero padding of the last two dims by `[left, right, top, bottom]` (F.pad with mode 'constant', value 0). */
export function pad(input: Tensor, padding: [number, number] | [number, number, number, number]): Tensor {
  const [l, r, t = 0, b = 0] = padding;
  if ([l, r, t, b].some((v) => !Number.isInteger(v) || v < 0)) {
    throw new Error(`pad: only non-negative integer zero padding is supported, got ${fmt(padding)}`);
  }
  if (input.ndim < 2) throw new Error(`pad: expected at least a 2D input, got ${fmt(input.shape)}`);
  return pad2d(input, l, r, t, b);
}

/** One-hot encoding of class indices: `oneHot(y, 10)` or `oneHot(y, { numClasses: 10 })`. */
export function oneHot(input: Tensor, numClasses: number | { numClasses?: number } = -1): Tensor {
  let n = numClasses;
  if (typeof n !== 'number') {
    checkOptions('F.oneHot', n, ['numClasses']);
    n = n?.numClasses ?? -1;
  }
  return tOneHot(input, n);
}

export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkOptions('F.crossEntropy', opts, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  return tCrossEntropy(input, target, opts);
}

export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  checkOptions('F.nllLoss', opts, ['weight', 'ignoreIndex', 'reduction']);
  return tNllLoss(input, target, opts);
}

export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  checkOptions('F.mseLoss', opts, ['reduction']);
  return tMseLoss(input, target, opts);
}

export interface BceWithLogitsOptions {
  weight?: Tensor | null;
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: BceWithLogitsOptions = {},
): Tensor {
  checkOptions('F.binaryCrossEntropyWithLogits', opts, ['weight', 'posWeight', 'reduction']);
  return tBce(input, target, opts);
}

export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  if (!(input instanceof Tensor)) throw new TypeError('flatten: expected a Tensor');
  return input.flatten(startDim, endDim);
}
