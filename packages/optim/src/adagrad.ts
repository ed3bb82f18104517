// Adagrad with lr decay, an initial accumulator, weight decay and maximize: torch 1.13's single-tensor update.

import { fullLike, type Tensor, tensor } from '@graft/tensor';
import {
  checkNonNegative,
  Optimizer,
  type OptionValue,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from './optimizer.js';

/** Adagrad's options (PyTorch's keyword arguments, camelCase). */
export interface AdagradOptions {
  lr?: number;
  /** The rate at step t is `lr / (1 + (t - 1) * lrDecay)`. */
  lrDecay?: number;
  weightDecay?: number;
  /** Starting value of the squared-gradient sum. */
  initialAccumulatorValue?: number;
  eps?: number;
  foreach?: boolean | null;
  maximize?: boolean;
}

/** An Adagrad parameter group. */
export interface AdagradParamGroup extends ParamGroup {
  lrDecay: number;
  eps: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  foreach: boolean | null;
  maximize: boolean;
}

/** Adagrad (Duchi et al.). Like PyTorch, it creates every parameter's state in the constructor. */
export class Adagrad extends Optimizer<AdagradParamGroup> {
  constructor(params: ParamsInput<AdagradOptions>, options: AdagradOptions = {}) {
    super(
      'Adagrad',
      params,
      {
        lr: 1e-2,
        lrDecay: 0,
        eps: 1e-10,
        weightDecay: 0,
        initialAccumulatorValue: 0,
        foreach: null,
        maximize: false,
      },
      options,
    );
  }

  protected validate(o: Readonly<Record<string, OptionValue>>): void {
    checkNonNegative(o.lr, 'learning rate');
    checkNonNegative(o.lrDecay, 'lr_decay value');
    checkNonNegative(o.weightDecay, 'weight_decay value');
    checkNonNegative(o.initialAccumulatorValue, 'initial_accumulator_value value');
    checkNonNegative(o.eps, 'epsilon value');
  }

  protected override initParamState(param: Tensor, group: AdagradParamGroup): void {
    const state = this.stateOf(param);
    state.step = tensor(0, { dtype: 'float32' });
    state.sum = fullLike(param, group.initialAccumulatorValue);
  }

  protected override upgradeState(state: ParamState): void {
    if (typeof state.step === 'number') state.step = tensor(state.step, { dtype: 'float32' });
  }

  protected updateGroup(group: AdagradParamGroup): void {
    const { lr, lrDecay, eps, weightDecay, maximize } = group;
    for (const param of group.params) {
      const pgrad = param._peekGrad();
      if (pgrad === null) continue;
      const state = this.stateOf(param);
      if (state.sum === undefined) this.initParamState(param, group);
      const step = (state.step as Tensor).add_(1).itemSync();
      let grad: Tensor = maximize ? pgrad.neg() : pgrad;
      if (weightDecay !== 0) grad = grad.add(param, { alpha: weightDecay });
      const clr = lr / (1 + (step - 1) * lrDecay);
      const sum = state.sum as Tensor;
      sum.add_(grad.mul(grad));
      const std = sum.sqrt().add(eps);
      param.add_(grad.div(std), { alpha: -clr });
    }
  }
}
