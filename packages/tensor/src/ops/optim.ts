// Fused optimizer updates: one pass over a parameter where the backend has the kernel, the same
// formula composed from tensor ops elsewhere.

import { noGrad } from '../autograd.js';
import type { SgdStepOptions } from '../backend.js';
import { zerosLike } from '../creation.js';
import { findKernel } from '../registry.js';
import type { Tensor } from '../tensor.js';
import { backendOf } from './core.js';

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
    const float = param.dtype === 'float32' || param.dtype === 'float64';
    const fits = (t: Tensor | null) =>
      !t ||
      (t.dtype === param.dtype &&
        t.device === param.device &&
        t.isContiguous() &&
        t.shape.join() === param.shape.join());
    const sgdStep = findKernel(b, 'sgdStep');
    if (sgdStep && float && param.isContiguous() && fits(grad) && fits(buf)) {
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
