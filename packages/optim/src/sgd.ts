// SGD with momentum, dampening, Nesterov, weight decay and maximize: torch 1.13's single-tensor update.

import { sgdUpdate_, type Tensor } from '@graft/tensor';
import {
  checkNonNegative,
  Optimizer,
  type OptionValue,
  type ParamGroup,
  type ParamsInput,
  REQUIRED,
} from './optimizer.js';

/** SGD's options (PyTorch's keyword arguments, camelCase). */
export interface SGDOptions {
  /** Learning rate; required here or in every group. */
  lr?: number;
  momentum?: number;
  dampening?: number;
  /** L2 penalty added to the gradient. */
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
  /** Kept for state-dict compatibility; graft runs the same update either way. */
  foreach?: boolean | null;
  /** Must be false: graft does not differentiate through the update. */
  differentiable?: boolean;
}

/** An SGD parameter group. */
export interface SGDParamGroup extends ParamGroup {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  foreach: boolean | null;
  differentiable: boolean;
}

/**
 * Stochastic gradient descent, optionally with momentum (PyTorch's form: `buf = momentum * buf + (1 -
 * dampening) * g`, `p -= lr * buf`; the first step's buffer is a copy of the gradient).
 */
export class SGD extends Optimizer<SGDParamGroup> {
  constructor(params: ParamsInput<SGDOptions>, options: SGDOptions = {}) {
    super(
      'SGD',
      params,
      {
        lr: REQUIRED,
        momentum: 0,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        maximize: false,
        foreach: null,
        differentiable: false,
      },
      options,
    );
  }

  protected validate(o: Readonly<Record<string, OptionValue>>): void {
    if (o.lr !== undefined) checkNonNegative(o.lr, 'learning rate');
    checkNonNegative(o.momentum, 'momentum value');
    checkNonNegative(o.weightDecay, 'weight_decay value');
    if (o.nesterov && ((o.momentum as number) <= 0 || o.dampening !== 0)) {
      throw new Error('Nesterov momentum requires a momentum and zero dampening');
    }
    if (o.differentiable) throw new Error('SGD: differentiable=true is not supported by graft');
  }

  protected updateGroup(group: SGDParamGroup): void {
    const { lr, momentum, dampening, nesterov, maximize, weightDecay } = group;
    for (const param of group.params) {
      const pgrad = param._peekGrad();
      if (pgrad === null) continue;
      const state = this.stateOf(param);
      const buf = (state.momentum_buffer as Tensor | null | undefined) ?? null;
      // One fused pass per parameter where the backend has the kernel (tensor's sgdUpdate_).
      // PyTorch records a None buffer for every stepped parameter when momentum is 0.
      state.momentum_buffer = sgdUpdate_(param, pgrad, momentum !== 0 ? buf : null, {
        lr,
        momentum,
        dampening,
        nesterov,
        maximize,
        weightDecay,
      });
    }
  }
}
