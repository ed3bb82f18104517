// Normalisation ops: batch norm (with the fused BatchNorm-add-ReLU chain, run by a backend's batch-norm
// kernels in training where it registers them for the input's dtype) and layer norm.

import { type AutocastPolicy, autocastActive, autocastCall } from '../amp/autocast.js';
import { noGrad, record } from '../autograd.js';
import type { Storage } from '../backend.js';
import { checkOptions } from '../options.js';
import { batchNormStatsDtype, type FastKernels, findKernel } from '../registry.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { backendOf, checkOptionalTensor, wrap } from './core.js';
import { planeStatsOf } from './plane-stats.js';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dim 1. In training, batch statistics normalise and the running buffers
 * (when given) are updated in place with the unbiased variance, as PyTorch does.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions = {},
): Tensor {
  checkNormTensors('batchNorm', [runningMean, runningVar, weight, bias]);
  checkOptions('batchNorm', opts, ['training', 'momentum', 'eps']);
  return batchNormImpl(x, runningMean, runningVar, weight, bias, opts, null, false);
}

export interface FusedBatchNormOptions extends BatchNormOptions {
  /** Added to the normalised output before the ReLU (a residual connection), same shape as x. */
  residual?: Tensor | null;
  /** Apply ReLU last. */
  relu?: boolean;
}

/**
 * relu?(batchNorm(x, ...) + residual): a BatchNorm(-add)-ReLU chain as one op. In training on a
 * backend with fused kernels it is one autograd node whose backward masks the gradient and runs the
 * batch-norm backward without materialising the intermediate tensors; elsewhere the ops are composed.
 * Results equal the composed ops up to float rounding.
 */
export function fusedBatchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: FusedBatchNormOptions = {},
): Tensor {
  checkNormTensors('fusedBatchNorm', [runningMean, runningVar, weight, bias]);
  checkOptions('fusedBatchNorm', opts, ['training', 'momentum', 'eps', 'residual', 'relu']);
  const residual = opts.residual ?? null;
  if (residual && residual.shape.join() !== x.shape.join()) {
    throw new Error(
      `fusedBatchNorm: expected residual of shape ${fmtShape(x.shape)}, got ${fmtShape(residual.shape)}`,
    );
  }
  return batchNormImpl(x, runningMean, runningVar, weight, bias, opts, residual, opts.relu ?? false);
}

/**
 * Whether training-mode batch norm of `x` runs the backend's fused kernels: both registered for x's
 * dtype, a residual of x's dtype, and weight and bias of x's dtype or, for a float16 x, float32 (what
 * cuDNN takes under torch.autocast; the statistics are then float32 too).
 */
function fusedBatchNormApplies(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  residual: Tensor | null,
): boolean {
  const b = backendOf(x);
  if (!findKernel(b, 'batchNormForward', x.dtype) || !findKernel(b, 'batchNormBackward', x.dtype))
    return false;
  const param = (t: Tensor | null) =>
    !t || t.dtype === x.dtype || (x.dtype === 'float16' && t.dtype === 'float32');
  return param(weight) && param(bias) && (!residual || residual.dtype === x.dtype);
}

/**
 * Batch norm under autocast (on none of PyTorch's lists; its CUDA kernel takes a float16 input with
 * float32 weight, bias and running statistics and returns float16): a float16 input keeps its dtype.
 * In training the running statistics stay float32 (buffers updated in place), and so do weight and
 * bias where the backend's fused kernels take them so (float32 gradients, as PyTorch); elsewhere
 * weight and bias are cast to the input's dtype, which the composed ops would otherwise promote back
 * to float32. In eval the running statistics are cast too.
 */
const BATCH_NORM_AUTOCAST: AutocastPolicy = (a, like) => {
  const training = (a[5] as BatchNormOptions | undefined)?.training ?? false;
  const [x, , , weight, bias, , residual] = a as [
    Tensor,
    unknown,
    unknown,
    Tensor | null,
    Tensor | null,
    unknown,
    Tensor | null,
  ];
  const keepParams = training && fusedBatchNormApplies(x, weight, bias, residual);
  return a.map((t, i) =>
    ((i === 3 || i === 4) && !keepParams) || (!training && (i === 1 || i === 2)) ? like(t) : t,
  );
};

function batchNormImpl(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  opts: BatchNormOptions,
  residual: Tensor | null,
  relu: boolean,
): Tensor {
  if (autocastActive())
    return autocastCall(BATCH_NORM_AUTOCAST, batchNormImpl, [
      x,
      runningMean,
      runningVar,
      weight,
      bias,
      opts,
      residual,
      relu,
    ]);
  const training = opts.training ?? false;
  const fusedKernels = training && fusedBatchNormApplies(x, weight, bias, residual);
  if ((residual || relu) && !fusedKernels) {
    let y = batchNormImpl(x, runningMean, runningVar, weight, bias, opts, null, false);
    if (residual) y = y.add(residual);
    return relu ? y.relu() : y;
  }
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (x.ndim < 2)
    throw new Error(
      `batchNorm: expected an input with at least 2 dims [N, C, ...], got ${fmtShape(x.shape)}`,
    );
  const C = x.shape[1];
  for (const [name, t] of [
    ['running_mean', runningMean],
    ['running_var', runningVar],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
      throw new Error(
        `batchNorm: expected ${name} of shape [${C}] for input ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`,
      );
    }
  }
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  if (training) {
    const n = x.numel() / C;
    if (n <= 1)
      throw new Error(
        `batchNorm: expected more than 1 value per channel when training, got input size ${fmtShape(x.shape)}`,
      );
    if (fusedKernels) {
      // Backend kernels: two passes forward, two backward, nothing saved but x, the per-channel
      // statistics and (with ReLU) the output. A float16 x keeps float32 statistics and weight/bias
      // gradients (registry.ts: batchNormStatsDtype).
      const b = backendOf(x);
      const forward = findKernel(b, 'batchNormForward', x.dtype) as FastKernels['batchNormForward'];
      const backward = findKernel(b, 'batchNormBackward', x.dtype) as FastKernels['batchNormBackward'];
      const statsDtype = batchNormStatsDtype(x.dtype);
      const xc = x.contiguous();
      const wv = weight?.contiguous() ?? null;
      const bv = bias?.contiguous() ?? null;
      const rv = residual?.contiguous() ?? null;
      const r = forward(
        xc._view,
        wv?._view ?? null,
        bv?._view ?? null,
        eps,
        rv?._view ?? null,
        relu,
        planeStatsOf(xc),
      );
      const out = wrap(r.out, x.shape, x.dtype);
      const mean = wrap(r.mean, [C], statsDtype);
      const invstd = wrap(r.invstd, [C], statsDtype);
      noGrad(() => {
        if (runningMean) runningMean.mul_(1 - momentum).add_(mean.mul(momentum));
        if (runningVar)
          runningVar.mul_(1 - momentum).add_(wrap(r.variance, [C], statsDtype).mul((momentum * n) / (n - 1)));
      });
      /** A per-channel gradient of the kernel (statsDtype) in the dtype of the parameter it belongs to. */
      const paramGrad = (s: Storage, p: Tensor) => {
        const t = wrap(s, [C], statsDtype);
        return t.dtype === p.dtype ? t : t.to(p.dtype);
      };
      return record(
        relu || residual ? 'FusedBatchNormBackward0' : 'NativeBatchNormBackward0',
        out,
        [x, weight, bias, residual],
        (g) => {
          const gc = (g.dtype === x.dtype ? g : g.to(x.dtype)).contiguous();
          const gr = (findKernel(backendOf(gc), 'batchNormBackward', x.dtype) ?? backward)(
            gc._view,
            xc._view,
            mean._view,
            invstd._view,
            wv?._view ?? null,
            x.requiresGrad,
            relu ? out._view : null,
            residual?.requiresGrad ?? false,
          );
          const gm = gr.gm ? wrap(gr.gm, x.shape, gc.dtype) : gc;
          return [
            gr.gx && wrap(gr.gx, x.shape, gc.dtype),
            weight?.requiresGrad ? paramGrad(gr.gw, weight) : null,
            bias?.requiresGrad ? paramGrad(gr.gb, bias) : null,
            residual?.requiresGrad ? gm : null,
          ];
        },
        relu ? [xc, out] : [xc],
      );
    }
    // One recorded node with the analytic gradient (PyTorch's NativeBatchNormBackward0): fewer passes
    // over the activations than differentiating the composite op by op.
    const stats = noGrad(() => {
      const m = x.mean(dims, true);
      const centered = x.sub(m);
      const v = centered.mul(centered).mean(dims, true);
      const invstd = v.add(eps).rsqrt();
      const xhat = centered.mul(invstd);
      let out = weight ? xhat.mul(weight.reshape(bshape)) : xhat;
      if (bias) out = out.add(bias.reshape(bshape));
      if (runningMean) runningMean.mul_(1 - momentum).add_(m.reshape([C]).mul(momentum));
      if (runningVar) runningVar.mul_(1 - momentum).add_(v.reshape([C]).mul((momentum * n) / (n - 1)));
      return { out, xhat, invstd };
    });
    const { xhat, invstd } = stats;
    return record(
      'NativeBatchNormBackward0',
      stats.out,
      [x, weight, bias],
      (g) => {
        const gxhat = weight ? g.mul(weight.reshape(bshape)) : g;
        let gx: Tensor | null = null;
        if (x.requiresGrad) {
          // dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over (N, H, W)
          const m1 = gxhat.sum(dims, true).div(n);
          const m2 = gxhat.mul(xhat).sum(dims, true).div(n);
          gx = gxhat.sub(m1).sub(xhat.mul(m2)).mul(invstd);
        }
        return [
          gx,
          weight?.requiresGrad ? g.mul(xhat).sum(dims).reshape([C]) : null,
          bias?.requiresGrad ? g.sum(dims).reshape([C]) : null,
        ];
      },
      [xhat, invstd],
    );
  }
  if (!runningMean || !runningVar)
    throw new Error('batchNorm: running_mean and running_var are required in eval mode');
  const mean = runningMean.reshape(bshape);
  const varB = runningVar.reshape(bshape);
  let y = x.sub(mean).mul(varB.add(eps).rsqrt());
  if (weight) y = y.mul(weight.reshape(bshape));
  if (bias) y = y.add(bias.reshape(bshape));
  return y;
}

/** Checks batch norm's four optional tensors (arguments 2-5) before its options (argument 6). */
function checkNormTensors(where: string, tensors: unknown[]): void {
  const names = ['runningMean', 'runningVar', 'weight', 'bias'];
  const usage = `options go sixth: ${where}(x, runningMean, runningVar, weight, bias, { training, momentum, eps })`;
  for (const [i, t] of tensors.entries()) checkOptionalTensor(where, names[i], i + 2, t, usage);
}

/** Layer normalisation over the trailing `normalizedShape` dims (biased variance). */
export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const hint = 'eps goes fifth, as a number: layerNorm(x, normalizedShape, weight, bias, eps)';
  checkOptionalTensor('layerNorm', 'weight', 3, weight, hint);
  checkOptionalTensor('layerNorm', 'bias', 4, bias, hint);
  if (autocastActive()) return autocastCall('float32', layerNorm, [x, normalizedShape, weight, bias, eps]);
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (tail.join() !== normalizedShape.join()) {
    throw new Error(
      `layerNorm: given normalized_shape=${fmtShape(normalizedShape)}, expected input with shape [*, ${normalizedShape.join(', ')}], but got input of size ${fmtShape(x.shape)}`,
    );
  }
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const mean = x.mean(dims, true);
  const centered = x.sub(mean);
  const v = centered.mul(centered).mean(dims, true);
  let y = centered.mul(v.add(eps).rsqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}
