// Neural-network ops: convolution, pooling, dropout, softmax and the losses (normalisation: norm.ts).

import { autocastActive, autocastCall } from '../amp/autocast.js';
import { freeAfterBackward, isGradEnabled, noGrad, record, relabel } from '../autograd.js';
import type { Conv2dParams, Pool2dParams } from '../backend.js';
import { checkOptions } from '../options.js';
import type { Generator } from '../random.js';
import { findKernel } from '../registry.js';
import { fmtShape, normDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { backendOf, checkOptionalTensor, requireFloat, wrap } from './core.js';
import { cast, randomLike, where } from './elementwise.js';
import { gather } from './indexing.js';
import { keepPlaneStats } from './plane-stats.js';
import { sum } from './reduce.js';

export {
  type BatchNormOptions,
  batchNorm,
  type FusedBatchNormOptions,
  fusedBatchNorm,
  layerNorm,
} from './norm.js';

export type IntPair = number | [number, number];

function pair(v: IntPair, name: string, op: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new Error(
      `${op}: ${name} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return p;
}

const CONV_KEYS = ['stride', 'padding', 'dilation', 'groups'];
const POOL_KEYS = ['stride', 'padding', 'dilation', 'ceilMode'];
const NLL_KEYS = ['weight', 'ignoreIndex', 'reduction'];

export interface Conv2dOptions {
  stride?: IntPair;
  padding?: IntPair | 'same' | 'valid';
  dilation?: IntPair;
  groups?: number;
}

/** 2-D convolution (cross-correlation, like torch.nn.functional.conv2d). */
/** Checks conv2d's operands and works out the padded input, parameters and output shape. */
function prepareConv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  opts: Conv2dOptions,
): { input: Tensor; p: Conv2dParams; outShape: number[] } {
  if (x.ndim !== 4)
    throw new Error(
      `conv2d: expected a 3D (unbatched) or 4D (batched) input, got shape ${fmtShape(x.shape)}`,
    );
  if (weight.ndim !== 4)
    throw new Error(
      `conv2d: expected a 4D weight [out, in/groups, kH, kW], got shape ${fmtShape(weight.shape)}`,
    );
  requireFloat(x, 'conv2d');
  const groups = opts.groups ?? 1;
  const stride = pair(opts.stride ?? 1, 'stride', 'conv2d');
  const dilation = pair(opts.dilation ?? 1, 'dilation', 'conv2d');
  const [O, Cg, KH, KW] = weight.shape;
  const C = x.shape[1];
  if (!Number.isInteger(groups) || groups < 1 || O % groups !== 0) {
    throw new Error(`conv2d: groups must be a positive integer dividing out_channels (${O}), got ${groups}`);
  }
  if (C !== Cg * groups) {
    throw new Error(
      `conv2d: Given groups=${groups}, weight of size ${fmtShape(weight.shape)}, expected input${fmtShape(x.shape)} ` +
        `to have ${Cg * groups} channels, but got ${C} channels instead`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) {
    throw new Error(`conv2d: expected bias of shape [${O}], got ${fmtShape(bias.shape)}`);
  }
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && t.dtype !== x.dtype) {
      throw new Error(
        `conv2d: expected input and ${name} to have the same dtype, but input is ${x.dtype} and ${name} is ${t.dtype}`,
      );
    }
  }
  let padding: [number, number];
  let input = x;
  if (opts.padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw new Error("conv2d: padding='same' is not supported for strided convolutions");
    const th = dilation[0] * (KH - 1);
    const tw = dilation[1] * (KW - 1);
    padding = [Math.floor(th / 2), Math.floor(tw / 2)];
    // Even kernels need one more row/column on the bottom/right, as PyTorch pads them.
    if (th % 2 || tw % 2) input = pad2d(x, 0, tw % 2, 0, th % 2);
  } else if (opts.padding === 'valid') {
    padding = [0, 0];
  } else {
    padding = pair(opts.padding ?? 0, 'padding', 'conv2d');
  }
  const p: Conv2dParams = { stride, padding, dilation, groups };
  const H = input.shape[2];
  const W = input.shape[3];
  const OH = Math.floor((H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0]) + 1;
  const OW = Math.floor((W + 2 * padding[1] - dilation[1] * (KW - 1) - 1) / stride[1]) + 1;
  if (OH <= 0 || OW <= 0) {
    throw new Error(
      `conv2d: calculated output size (${OH}x${OW}) is too small for input ${fmtShape(x.shape)} with kernel ${KH}x${KW}, padding ${padding}, dilation ${dilation}`,
    );
  }
  return { input, p, outShape: [input.shape[0], O, OH, OW] };
}

export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: Conv2dOptions = {},
): Tensor {
  checkOptionalTensor(
    'conv2d',
    'bias',
    3,
    bias,
    'options go fourth: conv2d(x, weight, null, { stride, padding, dilation, groups })',
  );
  checkOptions('conv2d', opts, CONV_KEYS);
  if (autocastActive()) return autocastCall('lower', conv2d, [x, weight, bias, opts]);
  if (x.ndim === 3) return conv2d(x.unsqueeze(0), weight, bias, opts).squeeze(0);
  const { input, p, outShape } = prepareConv2d(x, weight, bias, opts);
  const O = outShape[1];
  const xc = input.contiguous();
  const wc = weight.contiguous();
  const backend = backendOf(x);
  // In training, the backend may also compute each output plane's batch-norm statistics in its output
  // pass (conv2dStats), which a batch norm taking this output unchanged then uses (plane-stats.ts).
  const withStats =
    !bias && isGradEnabled() && (input.requiresGrad || weight.requiresGrad)
      ? findKernel(backend, 'conv2dStats', x.dtype)?.(xc._view, wc._view, p, outShape)
      : null;
  let out = wrap(withStats?.out ?? backend.conv2d(xc._view, wc._view, p, outShape), outShape, x.dtype);
  if (withStats) keepPlaneStats(out, withStats.stats);
  // The bias joins the convolution's node, as in PyTorch (one ConvolutionBackward0 for all three).
  if (bias) out = noGrad(() => out.add(bias.reshape([1, O, 1, 1])));
  return record(
    'ConvolutionBackward0',
    out,
    [input, weight, bias],
    (g) => {
      const gc = g.contiguous();
      return [
        input.requiresGrad
          ? wrap(backendOf(g).conv2dBackwardInput(gc._view, wc._view, p, input.shape), input.shape, g.dtype)
          : null,
        weight.requiresGrad
          ? wrap(
              backendOf(g).conv2dBackwardWeight(xc._view, gc._view, p, weight.shape),
              weight.shape,
              g.dtype,
            )
          : null,
        bias?.requiresGrad ? g.sum([0, 2, 3]) : null,
      ];
    },
    [xc, wc],
  );
}

export interface FusedConv2dOptions extends Conv2dOptions {
  /** Per-output-channel factor [O] (a folded BatchNorm's weight / sqrt(running_var + eps)). */
  scale?: Tensor | null;
  /** Per-output-channel offset [O] (a folded BatchNorm's bias - running_mean * scale, plus any conv bias). */
  shift?: Tensor | null;
  /** Added after the affine, shape of the output (a residual connection). */
  residual?: Tensor | null;
  /** Apply ReLU last. */
  relu?: boolean;
}

/**
 * relu?(conv2d(x, weight) * scale + shift + residual), with scale and shift per output channel: an
 * eval-mode Conv-BatchNorm(-add)-ReLU chain in one call. Where the backend has a fused kernel and no
 * gradient is needed, the epilogue runs in the convolution's own output pass; otherwise the ops are
 * composed (with autograd), so the result is the same either way up to float rounding.
 */
export function fusedConv2d(x: Tensor, weight: Tensor, opts: FusedConv2dOptions = {}): Tensor {
  checkOptions('fusedConv2d', opts, [...CONV_KEYS, 'scale', 'shift', 'residual', 'relu']);
  if (autocastActive()) return autocastCall('lower', fusedConv2d, [x, weight, opts]);
  const { scale = null, shift = null, residual = null, relu = false } = opts;
  const O = weight.shape[0];
  for (const [name, t] of [
    ['scale', scale],
    ['shift', shift],
  ] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== O))
      throw new Error(`fusedConv2d: expected ${name} of shape [${O}], got ${fmtShape(t.shape)}`);
  }
  const backend = backendOf(x);
  const needsGrad =
    isGradEnabled() && [x, weight, scale, shift, residual].some((t) => t?.requiresGrad === true);
  const epilogue = findKernel(backend, 'conv2dEpilogue');
  if (!needsGrad && epilogue && x.ndim === 4) {
    const { input, p, outShape } = prepareConv2d(x, weight, null, opts);
    if (residual && residual.shape.join() !== outShape.join())
      throw new Error(
        `fusedConv2d: expected residual of shape ${fmtShape(outShape)}, got ${fmtShape(residual.shape)}`,
      );
    const view = (t: Tensor | null) => (t ? t.to(x.dtype).contiguous()._view : null);
    const out = epilogue(input.contiguous()._view, weight.contiguous()._view, p, outShape, {
      scale: view(scale),
      shift: view(shift),
      residual: view(residual),
      relu,
    });
    if (out) return wrap(out, outShape, x.dtype);
  }
  const { stride, padding, dilation, groups } = opts;
  let y = conv2d(x, weight, null, { stride, padding, dilation, groups });
  const bshape = [1, O, 1, 1];
  if (scale) y = y.mul(scale.reshape(bshape));
  if (shift) y = y.add(shift.reshape(bshape));
  if (residual) y = y.add(residual);
  return relu ? y.relu() : y;
}

/** Zero padding of the last two dims (left, right, top, bottom), like F.pad(x, (l, r, t, b)). */
export function pad2d(x: Tensor, left: number, right: number, top: number, bottom: number): Tensor {
  const shape = [...x.shape];
  const nd = shape.length;
  shape[nd - 1] += left + right;
  shape[nd - 2] += top + bottom;
  const b = backendOf(x);
  const out = wrap(
    b.alloc(
      x.dtype,
      shape.reduce((a, c) => a * c, 1),
    ),
    shape,
    x.dtype,
  );
  const region = noGrad(() => out.narrow(nd - 2, top, x.shape[nd - 2]).narrow(nd - 1, left, x.shape[nd - 1]));
  b.assign(region._view, x._view);
  return record('ConstantPadNdBackward0', out, [x], (g) => [
    g.narrow(nd - 2, top, x.shape[nd - 2]).narrow(nd - 1, left, x.shape[nd - 1]),
  ]);
}

export interface Pool2dOptions {
  stride?: IntPair | null;
  padding?: IntPair;
  dilation?: IntPair;
  ceilMode?: boolean;
}

function poolParams(
  x: Tensor,
  kernelSize: IntPair,
  opts: Pool2dOptions & { countIncludePad?: boolean; divisorOverride?: number | null },
  op: string,
): { p: Pool2dParams; outShape: number[] } {
  if (x.ndim !== 4)
    throw new Error(`${op}: expected a 4D input [N, C, H, W], got shape ${fmtShape(x.shape)}`);
  const kernel = pair(kernelSize, 'kernel_size', op);
  const stride = opts.stride == null ? kernel : pair(opts.stride, 'stride', op);
  const padding = pair(opts.padding ?? 0, 'padding', op);
  const dilation = pair(opts.dilation ?? 1, 'dilation', op);
  const ceilMode = opts.ceilMode ?? false;
  const size = (n: number, i: 0 | 1) => {
    const eff = dilation[i] * (kernel[i] - 1) + 1;
    if (padding[i] > kernel[i] / 2) {
      throw new Error(
        `${op}: pad should be at most half of effective kernel size, but got pad=${padding[i]}, kernel_size=${kernel[i]}`,
      );
    }
    const num = n + 2 * padding[i] - eff;
    let o = (ceilMode ? Math.ceil(num / stride[i]) : Math.floor(num / stride[i])) + 1;
    if (ceilMode && (o - 1) * stride[i] >= n + padding[i]) o--;
    if (o <= 0)
      throw new Error(`${op}: output size is too small for input ${fmtShape(x.shape)} (computed ${o})`);
    return o;
  };
  const outShape = [x.shape[0], x.shape[1], size(x.shape[2], 0), size(x.shape[3], 1)];
  return {
    p: {
      kernelSize: kernel,
      stride,
      padding,
      dilation,
      ceilMode,
      countIncludePad: opts.countIncludePad ?? true,
      divisorOverride: opts.divisorOverride ?? null,
    },
    outShape,
  };
}

/** Max pooling returning values and flat per-plane indices (int64), like return_indices=True. */
export function maxPool2dWithIndices(
  x: Tensor,
  kernelSize: IntPair,
  opts: Pool2dOptions = {},
): [Tensor, Tensor] {
  checkOptions('maxPool2d', opts, POOL_KEYS);
  if (x.ndim === 3) {
    const [v, i] = maxPool2dWithIndices(x.unsqueeze(0), kernelSize, opts);
    return [v.squeeze(0), i.squeeze(0)];
  }
  const { p, outShape } = poolParams(x, kernelSize, opts, 'maxPool2d');
  const xc = x.contiguous();
  const r = backendOf(x).maxPool2d(xc._view, p, outShape, true);
  if (!r.indices) throw new Error('maxPool2d: the backend returned no indices');
  const values = wrap(r.values, outShape, x.dtype);
  const indices = wrap(r.indices, outShape, 'int64');
  record(
    'MaxPool2DWithIndicesBackward0',
    values,
    [x],
    (g) => [
      wrap(backendOf(g).maxPool2dBackward(g.contiguous()._view, indices._view, x.shape), x.shape, g.dtype),
    ],
    [],
  );
  return [values, indices];
}

export function maxPool2d(x: Tensor, kernelSize: IntPair, opts: Pool2dOptions = {}): Tensor {
  checkOptions('maxPool2d', opts, POOL_KEYS);
  if (x.ndim === 4 && !(isGradEnabled() && x.requiresGrad)) {
    // No gradient: the backend may skip the indices.
    const { p, outShape } = poolParams(x, kernelSize, opts, 'maxPool2d');
    return wrap(backendOf(x).maxPool2d(x.contiguous()._view, p, outShape, false).values, outShape, x.dtype);
  }
  const [values, indices] = maxPool2dWithIndices(x, kernelSize, opts);
  // The indices live only for the pooling node's backward: freed once it has run (see
  // freeAfterBackward). A 3-d input's values are a squeezed view, whose own node runs first.
  if (x.ndim === 4) freeAfterBackward(values, indices);
  return values;
}

export interface AvgPool2dOptions extends Omit<Pool2dOptions, 'dilation'> {
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

export function avgPool2d(x: Tensor, kernelSize: IntPair, opts: AvgPool2dOptions = {}): Tensor {
  checkOptions('avgPool2d', opts, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  if (x.ndim === 3) return avgPool2d(x.unsqueeze(0), kernelSize, opts).squeeze(0);
  const { p, outShape } = poolParams(x, kernelSize, opts, 'avgPool2d');
  const out = wrap(backendOf(x).avgPool2d(x.contiguous()._view, p, outShape), outShape, x.dtype);
  return record('AvgPool2DBackward0', out, [x], (g) => [
    wrap(backendOf(g).avgPool2dBackward(g.contiguous()._view, p, x.shape), x.shape, g.dtype),
  ]);
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number | null, number | null]): Tensor {
  if (x.ndim === 3) return adaptiveAvgPool2d(x.unsqueeze(0), outputSize).squeeze(0);
  if (x.ndim !== 4)
    throw new Error(`adaptiveAvgPool2d: expected a 3D or 4D input, got shape ${fmtShape(x.shape)}`);
  const [oh, ow] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const outShape = [x.shape[0], x.shape[1], oh ?? x.shape[2], ow ?? x.shape[3]];
  const out = wrap(backendOf(x).adaptiveAvgPool2d(x.contiguous()._view, outShape), outShape, x.dtype);
  // PyTorch computes a 1x1 output as a mean over H and W, and names the node after it.
  const name = outShape[2] === 1 && outShape[3] === 1 ? 'MeanBackward1' : 'AdaptiveAvgPool2DBackward0';
  return record(name, out, [x], (g) => [
    wrap(backendOf(g).adaptiveAvgPool2dBackward(g.contiguous()._view, x.shape), x.shape, g.dtype),
  ]);
}

/** Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p) in training. */
export function dropout(x: Tensor, p = 0.5, training = true, opts: { generator?: Generator } = {}): Tensor {
  checkOptions('dropout', opts, ['generator']);
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const keep = noGrad(() =>
    randomLike(x, 'uniform', 0, 1, opts.generator)
      .ge(p)
      .to(x.dtype)
      .div(1 - p),
  );
  return x.mul(keep);
}

/** x - max(x) along `dim`, with the (detached) max of an all -inf slice taken as 0, as PyTorch does. */
function shiftByMax(x: Tensor, d: number): Tensor {
  const m = x.amax(d, true);
  return x.sub(m.where(m.isfinite(), 0));
}

/** log(softmax(x)) computed as (x - max) - log(sum(exp(x - max))), so large inputs keep their precision. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  if (autocastActive()) return autocastCall('float32', logSoftmax, [x, dim]);
  requireFloat(x, 'logSoftmax');
  const d = normDim(dim, x.ndim, 'logSoftmax');
  const out = noGrad(() => {
    const shifted = shiftByMax(x, d);
    return shifted.sub(shifted.exp().sum(d, true).log());
  });
  return record('LogSoftmaxBackward0', out, [x], (g) => [g.sub(out.exp().mul(g.sum(d, true)))], [out]);
}

export function softmax(x: Tensor, dim: number): Tensor {
  if (autocastActive()) return autocastCall('float32', softmax, [x, dim]);
  requireFloat(x, 'softmax');
  const d = normDim(dim, x.ndim, 'softmax');
  const out = noGrad(() => {
    const e = shiftByMax(x, d).exp();
    return e.div(e.sum(d, true));
  });
  return record('SoftmaxBackward0', out, [x], (g) => [out.mul(g.sub(g.mul(out).sum(d, true)))], [out]);
}

export type Reduction = 'mean' | 'sum' | 'none';

function checkReduction(r: string, op: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${r}'`);
  }
  return r;
}

export interface NllLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Negative log-likelihood of class-index targets over log-probabilities [N, C, ...]. */
export function nllLoss(logp: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  checkOptions('nllLoss', opts, NLL_KEYS);
  if (autocastActive()) return autocastCall('float32', nllLoss, [logp, target, opts]);
  const reduction = checkReduction(opts.reduction ?? 'mean', 'nllLoss');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (target.dtype !== 'int64' && target.dtype !== 'int32') {
    throw new Error(`nllLoss: expected target of class indices with dtype int64, got ${target.dtype}`);
  }
  const input = logp.ndim === 1 ? logp.unsqueeze(0) : logp;
  const tgt = logp.ndim === 1 ? target.reshape([1]) : target;
  const C = input.shape[1];
  const expected = [input.shape[0], ...input.shape.slice(2)];
  if (tgt.shape.join() !== expected.join()) {
    throw new Error(
      `nllLoss: expected target of shape ${fmtShape(expected)} for input ${fmtShape(logp.shape)}, got ${fmtShape(target.shape)}`,
    );
  }
  // On a GPU, gather flags an out-of-range target on the device and the next readback throws.
  if (tgt.device === 'cpu') {
    for (const v of tgt.readSync()) {
      if (v !== ignoreIndex && (v < 0 || v >= C))
        throw new Error(`nllLoss: Target ${v} is out of bounds (number of classes ${C}).`);
    }
  }
  if (opts.weight && (opts.weight.ndim !== 1 || opts.weight.shape[0] !== C)) {
    throw new Error(
      `nllLoss: weight tensor should be defined either for all ${C} classes or no classes but got weight tensor of shape: ${fmtShape(opts.weight.shape)}`,
    );
  }
  const weight = opts.weight ?? null;
  // Per-sample weights (0 where ignored) and the picked log-probabilities; no graph needed for either.
  const [w, idx, picked] = noGrad(() => {
    const ignore = tgt.eq(ignoreIndex);
    const safe = where(ignore, 0, tgt).to('int64');
    let wt = ignore.logicalNot().to(input.dtype);
    if (weight)
      wt = wt.mul(
        weight
          .to(input.dtype)
          .indexSelect(0, safe.reshape([-1]))
          .reshape(safe.shape),
      );
    const index = safe.unsqueeze(1);
    return [wt, index, gather(input, 1, index).squeeze(1)];
  });
  const total = noGrad(() => w.sum());
  const out = noGrad(() => {
    const losses = picked.mul(w).neg();
    if (reduction === 'none') return logp.ndim === 1 ? losses.squeeze(0) : losses;
    if (reduction === 'sum') return losses.sum();
    return losses.sum().div(total);
  });
  return record(
    'NllLossBackward0',
    out,
    [logp],
    (g) => {
      // d loss / d input[n, t_n] = -w_n * g (/ total weight for 'mean'); ignored samples get exactly 0,
      // even when every sample is ignored and the total weight is 0.
      let coef = reduction === 'none' ? g.reshape(w.shape).mul(w) : w.mul(g);
      if (reduction === 'mean') coef = where(w.eq(0), 0, coef.div(total));
      const src = coef.neg().unsqueeze(1);
      const grad = wrap(
        backendOf(g).scatterAdd(input.shape, 1, idx.contiguous()._view, src.contiguous()._view),
        input.shape,
        g.dtype,
      );
      return [logp.ndim === 1 ? grad.squeeze(0) : grad];
    },
    [],
  );
}

export interface CrossEntropyOptions extends NllLossOptions {
  labelSmoothing?: number;
}

/**
 * Cross entropy on logits [N, C, ...] (or [C]) against class indices (int64) or class
 * probabilities (float, same shape as the input), with weight, ignoreIndex and label smoothing.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkOptions('crossEntropy', opts, [...NLL_KEYS, 'labelSmoothing']);
  if (autocastActive()) return autocastCall('float32', crossEntropy, [logits, target, opts]);
  const reduction = checkReduction(opts.reduction ?? 'mean', 'crossEntropy');
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1))
    throw new Error(`crossEntropy: label_smoothing must be between 0.0 and 1.0. Got: ${eps}`);
  const classDim = logits.ndim === 1 ? 0 : 1;
  const C = logits.shape[classDim];
  const logp = logSoftmax(logits, classDim);
  const wshape = logits.shape.map((s, i) => (i === classDim ? s : 1));
  if (target.isFloatingPoint()) {
    if (target.shape.join() !== logits.shape.join()) {
      throw new Error(
        `crossEntropy: expected probability target of shape ${fmtShape(logits.shape)}, got ${fmtShape(target.shape)}`,
      );
    }
    const t = eps > 0 ? target.mul(1 - eps).add(eps / C) : target;
    let prod = logp.mul(t);
    if (opts.weight) prod = prod.mul(opts.weight.reshape(wshape));
    const losses = sum(prod, classDim, false).neg();
    if (reduction === 'none') return losses;
    if (reduction === 'sum') return losses.sum();
    return losses.sum().div(logits.numel() / C);
  }
  const nll = nllLoss(logp, target, {
    weight: opts.weight,
    ignoreIndex: opts.ignoreIndex,
    reduction: opts.reduction,
  });
  if (eps === 0) return nll;
  const ignore = target.eq(opts.ignoreIndex ?? -100);
  let smooth = opts.weight
    ? sum(logp.mul(opts.weight.reshape(wshape)), classDim, false).neg()
    : sum(logp, classDim, false).neg();
  smooth = where(ignore, 0, smooth);
  let ret: Tensor;
  if (reduction === 'mean') {
    if (opts.weight) {
      const safe = where(ignore, 0, target).to('int64').reshape([-1]);
      const wsum = opts.weight
        .indexSelect(0, safe)
        .mul(ignore.logicalNot().reshape([-1]).to(logits.dtype))
        .sum();
      ret = smooth.sum().div(wsum);
    } else {
      ret = smooth.sum().div(ignore.logicalNot().sum().to(logits.dtype));
    }
  } else if (reduction === 'sum') ret = smooth.sum();
  else ret = smooth;
  return nll.mul(1 - eps).add(ret.mul(eps / C));
}

export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  checkOptions('mseLoss', opts, ['reduction']);
  const reduction = checkReduction(opts.reduction ?? 'mean', 'mseLoss');
  const d = input.sub(target);
  const l = d.mul(d);
  return relabel(reduction === 'none' ? l : reduction === 'sum' ? l.sum() : l.mean(), 'MseLossBackward0');
}

/** Numerically stable sigmoid + binary cross entropy, with weight and posWeight. */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  checkOptions('binaryCrossEntropyWithLogits', opts, ['weight', 'posWeight', 'reduction']);
  const reduction = checkReduction(opts.reduction ?? 'mean', 'binaryCrossEntropyWithLogits');
  if (target.shape.join() !== input.shape.join()) {
    throw new Error(
      `binaryCrossEntropyWithLogits: Target size (${fmtShape(target.shape)}) must be the same as input size (${fmtShape(input.shape)})`,
    );
  }
  const t = cast(target, input.dtype);
  const maxVal = input.neg().clamp(0, null);
  const softplus = maxVal.neg().exp().add(input.neg().sub(maxVal).exp()).log().add(maxVal);
  let l: Tensor;
  if (opts.posWeight) {
    const logWeight = opts.posWeight.sub(1).mul(t).add(1);
    l = t.neg().add(1).mul(input).add(logWeight.mul(softplus));
  } else {
    l = t.neg().add(1).mul(input).add(softplus);
  }
  if (opts.weight) l = l.mul(opts.weight);
  return reduction === 'none' ? l : reduction === 'sum' ? l.sum() : l.mean();
}

/** y = x W^T + b. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkOptionalTensor('linear', 'bias', 3, bias, 'linear takes no options: linear(x, weight, bias)');
  if (autocastActive()) return autocastCall('lower', linear, [x, weight, bias]);
  if (x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new Error(
      `linear: mat1 and mat2 shapes cannot be multiplied (${x.shape.slice(0, -1).reduce((a, b) => a * b, 1)}x${x.shape[x.ndim - 1]} and ${weight.shape[1]}x${weight.shape[0]})`,
    );
  }
  const y = x.matmul(weight.t());
  if (!bias) return y;
  // Nothing to record: add the bias into the product (no second [N, out] tensor to collect).
  const recording = isGradEnabled() && (x.requiresGrad || weight.requiresGrad || bias.requiresGrad);
  return !recording && bias.dtype === y.dtype ? y.add_(bias) : y.add(bias);
}
