// Fused optimizer updates: one pass over a parameter where the backend has the kernel, the same
// formula composed from tensor ops elsewhere.

import { noGrad } from '../autograd.js';
import type { AdamStepOptions, SgdStepOptions } from '../backend.js';
import { zerosLike } from '../creation.js';
import { findKernel } from '../registry.js';
import type { Tensor } from '../tensor.js';
import { backendOf } from './core.js';
import { maximum } from './elementwise.js';

/**
 * Whether a fused update kernel may take `param` with `others`: a float32/float64 contiguous parameter,
 * and operands (null: absent) of its dtype, device and shape, each contiguous.
 */
function fusable(param: Tensor, others: readonly (Tensor | null)[]): boolean {
  if (param.dtype !== 'float32' && param.dtype !== 'float64') return false;
  if (!param.isContiguous()) return false;
  return others.every(
    (t) =>
      !t ||
      (t.dtype === param.dtype &&
        t.device === param.device &&
        t.isContiguous() &&
        t.shape.join() === param.shape.join()),
  );
}

export type SgdUpdateOptions = Omit<SgdStepOptions, 'first'>;

/**
 * One SGD step on `param` in place, PyTorch 1.13's single-tensor formula: d = ±grad + weightDecay *
 * param; with momentum, buf = momentum * buf + (1 - dampening) * d (a copy of d on the first step, when
 * `buf` is null) and d = nesterov ? d + momentum * buf : buf; then param -= lr * d. Returns the momentum
 * buffer (null without momentum). Runs without recording gradients.
 */
export function sgdUpdate_(
  param: Tensor,
  grad: Tensor,
  buf: Tensor | null,
  o: SgdUpdateOptions,
): Tensor | null {
  return noGrad(() => {
    const b = backendOf(param);
    const sgdStep = findKernel(b, 'sgdStep');
    if (sgdStep && fusable(param, [grad, buf])) {
      const next = o.momentum !== 0 ? (buf ?? zerosLike(param)) : null;
      sgdStep(param._view, grad._view, next?._view ?? null, { ...o, first: o.momentum !== 0 && !buf });
      param._ref.version++;
      if (next) next._ref.version++;
      return next;
    }
    let d: Tensor = o.maximize ? grad.neg() : grad;
    if (o.weightDecay !== 0) d = d.add(param, { alpha: o.weightDecay });
    let next: Tensor | null = null;
    if (o.momentum !== 0) {
      next = buf ? buf.mul_(o.momentum).add_(d, { alpha: 1 - o.dampening }) : d.clone();
      d = o.nesterov ? d.add(next, { alpha: o.momentum }) : next;
    }
    param.add_(d, { alpha: -o.lr });
    return next;
  });
}

export type AdamUpdateOptions = AdamStepOptions;

/**
 * One Adam or AdamW step on `param` in place, PyTorch 1.13's single-tensor formula, given the step's
 * bias corrections (`stepSize` = lr / (1 - beta1^t), `biasCorrection2Sqrt` = sqrt(1 - beta2^t)):
 * g = ±grad; AdamW: param *= 1 - lr * weightDecay, Adam: g += weightDecay * param; expAvg = beta1 *
 * expAvg + (1 - beta1) * g; expAvgSq = beta2 * expAvgSq + (1 - beta2) * g * g; with AMSGrad
 * `maxExpAvgSq` = max(maxExpAvgSq, expAvgSq) takes expAvgSq's place below; param += -stepSize * expAvg
 * / (sqrt(expAvgSq) / biasCorrection2Sqrt + eps). One pass where the backend has the kernel (every
 * operand contiguous, of param's shape and dtype); composed from tensor ops otherwise. Runs without
 * recording gradients.
 */
export function adamUpdate_(
  param: Tensor,
  grad: Tensor,
  expAvg: Tensor,
  expAvgSq: Tensor,
  maxExpAvgSq: Tensor | null,
  o: AdamUpdateOptions,
): void {
  noGrad(() => {
    const b = backendOf(param);
    const adamStep = findKernel(b, 'adamStep');
    const state = [expAvg, expAvgSq, maxExpAvgSq];
    if (adamStep && fusable(param, [grad, ...state])) {
      adamStep(
        {
          param: param._view,
          grad: grad._view,
          expAvg: expAvg._view,
          expAvgSq: expAvgSq._view,
          maxExpAvgSq: maxExpAvgSq?._view ?? null,
        },
        o,
      );
      for (const t of [param, ...state]) if (t) t._ref.version++;
      return;
    }
    let g: Tensor = o.maximize ? grad.neg() : grad;
    if (o.decoupled) param.mul_(1 - o.lr * o.weightDecay);
    else if (o.weightDecay !== 0) g = g.add(param, { alpha: o.weightDecay });
    expAvg.mul_(o.beta1).add_(g, { alpha: 1 - o.beta1 });
    expAvgSq.mul_(o.beta2).add_(g.mul(g), { alpha: 1 - o.beta2 });
    let second = expAvgSq;
    if (maxExpAvgSq) {
      maxExpAvgSq.copy_(maximum(maxExpAvgSq, expAvgSq));
      second = maxExpAvgSq;
    }
    const denom = second.sqrt().div(o.biasCorrection2Sqrt).add(o.eps);
    param.add_(expAvg.div(denom), { alpha: -o.stepSize });
  });
}
