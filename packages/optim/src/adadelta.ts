// Adadelta with weight decay and maximize: torch 1.13's single-tensor update.

import { type Tensor, zerosLike } from '@graft/tensor';
import {
  checkNonNegative,
  Optimizer,
  type OptionValue,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.js';

/** Adadelta's options (PyTorch's keyword arguments, camelCase). */
export interface AdadeltaOptions {
  /** Scales the computed delta (default 1.0). */
  lr?: number;
  /** Decay rate of the running averages. */
  rho?: number;
  eps?: number;
  weightDecay?: number;
  foreach?: boolean | null;
  maximize?: boolean;
}

/** An Adadelta parameter group. */
export interface AdadeltaParamGroup extends ParamGroup {
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
  foreach: boolean | null;
}

/** Adadelta (Zeiler). */
export class Adadelta extends Optimizer<AdadeltaParamGroup> {
  constructor(params: ParamsInput<AdadeltaOptions>, options: AdadeltaOptions = {}) {
    super(
      'Adadelta',
      params,
      { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, foreach: null },
      options,
    );
  }

  protected validate(o: Readonly<Record<string, OptionValue>>): void {
    checkNonNegative(o.lr, 'learning rate');
    const rho = o.rho;
    if (!(typeof rho === 'number' && rho >= 0 && rho <= 1))
      throw new Error(`Invalid rho value: ${String(rho)}`);
    checkNonNegative(o.eps, 'epsilon value');
    checkNonNegative(o.weightDecay, 'weight_decay value');
  }

  protected updateGroup(group: AdadeltaParamGroup): void {
    const { lr, rho, eps, weightDecay, maximize } = group;
    for (const param of group.params) {
      const pgrad = param._peekGrad();
      if (pgrad === null) continue;
      const state = this.stateOf(param);
      if (Object.keys(state).length === 0) {
        state.step = 0;
        state.square_avg = zerosLike(param);
        state.acc_delta = zerosLike(param);
      }
      state.step = (state.step as number) + 1;
      let grad: Tensor = maximize ? pgrad.neg() : pgrad;
      if (weightDecay !== 0) grad = grad.add(param, { alpha: weightDecay });

      const squareAvg = state.square_avg as Tensor;
      const accDelta = state.acc_delta as Tensor;
      squareAvg.mul_(rho).add_(grad.mul(grad), { alpha: 1 - rho });
      const std = squareAvg.add(eps).sqrt();
      const delta = accDelta.add(eps).sqrt().div(std).mul(grad);
      accDelta.mul_(rho).add_(delta.mul(delta), { alpha: 1 - rho });
      param.add_(delta, { alpha: -lr });
    }
  }
}
