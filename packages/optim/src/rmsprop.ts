// RMSprop with momentum, centering, weight decay and maximize: torch 1.13's single-tensor update.

import { type Tensor, zerosLike } from '@graft/tensor';
import {
  checkNonNegative,
  Optimizer,
  type OptionValue,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.js';

/** RMSprop's options (PyTorch's keyword arguments, camelCase). */
export interface RMSpropOptions {
  lr?: number;
  /** Smoothing constant of the squared-gradient average. */
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment. */
  centered?: boolean;
  foreach?: boolean | null;
  maximize?: boolean;
  differentiable?: boolean;
}

/** An RMSprop parameter group. */
export interface RMSpropParamGroup extends ParamGroup {
  momentum: number;
  alpha: number;
  eps: number;
  centered: boolean;
  weightDecay: number;
  foreach: boolean | null;
  maximize: boolean;
  differentiable: boolean;
}

/** RMSprop (Hinton), PyTorch's variant: eps is added after the square root. */
export class RMSprop extends Optimizer<RMSpropParamGroup> {
  constructor(params: ParamsInput<RMSpropOptions>, options: RMSpropOptions = {}) {
    super(
      'RMSprop',
      params,
      {
        lr: 1e-2,
        momentum: 0,
        alpha: 0.99,
        eps: 1e-8,
        centered: false,
        weightDecay: 0,
        foreach: null,
        maximize: false,
        differentiable: false,
      },
      options,
    );
  }

  protected validate(o: Readonly<Record<string, OptionValue>>): void {
    checkNonNegative(o.lr, 'learning rate');
    checkNonNegative(o.eps, 'epsilon value');
    checkNonNegative(o.momentum, 'momentum value');
    checkNonNegative(o.weightDecay, 'weight_decay value');
    checkNonNegative(o.alpha, 'alpha value');
    if (o.differentiable) throw new Error('RMSprop: differentiable=true is not supported by graft');
  }

  protected updateGroup(group: RMSpropParamGroup): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    for (const param of group.params) {
      const pgrad = param._peekGrad();
      if (pgrad === null) continue;
      const state = this.stateOf(param);
      if (Object.keys(state).length === 0) {
        state.step = 0;
        state.square_avg = zerosLike(param);
        if (momentum > 0) state.momentum_buffer = zerosLike(param);
        if (centered) state.grad_avg = zerosLike(param);
      }
      state.step = (state.step as number) + 1;
      let grad: Tensor = maximize ? pgrad.neg() : pgrad;
      if (weightDecay !== 0) grad = grad.add(param, { alpha: weightDecay });

      const squareAvg = state.square_avg as Tensor;
      squareAvg.mul_(alpha).add_(grad.mul(grad), { alpha: 1 - alpha });
      let avg: Tensor;
      if (centered) {
        const gradAvg = (state.grad_avg ??= zerosLike(param)) as Tensor;
        gradAvg.mul_(alpha).add_(grad, { alpha: 1 - alpha });
        avg = squareAvg.sub(gradAvg.mul(gradAvg)).sqrt();
      } else {
        avg = squareAvg.sqrt();
      }
      avg = avg.add(eps);

      if (momentum > 0) {
        const buf = (state.momentum_buffer ??= zerosLike(param)) as Tensor;
        buf.mul_(momentum).add_(grad.div(avg));
        param.add_(buf, { alpha: -lr });
      } else {
        param.add_(grad.div(avg), { alpha: -lr });
      }
    }
  }
}
