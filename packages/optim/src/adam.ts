// Adam and AdamW (decoupled weight decay), with AMSGrad and maximize: torch 1.13's single-tensor updates.

import { adamUpdate_, type Tensor, tensor, zerosLike } from '@graft/tensor';
import {
  checkNonNegative,
  Optimizer,
  type OptionValue,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from './optimizer.js';

/** Adam's and AdamW's options (PyTorch's keyword arguments, camelCase). */
export interface AdamOptions {
  lr?: number;
  /** Decay rates of the first and second moment averages. */
  betas?: readonly [number, number];
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, `p *= 1 - lr * weightDecay`. */
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
  /** Kept for state-dict compatibility; graft runs the same update either way. */
  foreach?: boolean | null;
  /** Must be false (CUDA graphs). */
  capturable?: boolean;
}

/** Adam's extra options: PyTorch 1.13's Adam also has `differentiable` and `fused` (both must be false). */
export interface AdamOnlyOptions extends AdamOptions {
  differentiable?: boolean;
  fused?: boolean;
}

/** An Adam or AdamW parameter group. */
export interface AdamParamGroup extends ParamGroup {
  betas: readonly number[];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  foreach: boolean | null;
  capturable: boolean;
}

abstract class AdamBase extends Optimizer<AdamParamGroup> {
  protected abstract readonly decoupled: boolean;

  protected validate(o: Readonly<Record<string, OptionValue>>): void {
    checkNonNegative(o.lr, 'learning rate');
    checkNonNegative(o.eps, 'epsilon value');
    const betas = o.betas;
    if (!Array.isArray(betas) || betas.length !== 2)
      throw new Error(`Invalid betas: expected a pair, got ${String(betas)}`);
    for (let i = 0; i < 2; i++) {
      const b = betas[i];
      if (!(typeof b === 'number' && b >= 0 && b < 1))
        throw new Error(`Invalid beta parameter at index ${i}: ${b}`);
    }
    checkNonNegative(o.weightDecay, 'weight_decay value');
    for (const flag of ['capturable', 'differentiable', 'fused']) {
      if (o[flag]) throw new Error(`${flag}=true is not supported by graft`);
    }
  }

  protected override upgradeState(state: ParamState): void {
    // Checkpoints from torch < 1.12 keep `step` as a number; 1.12+ keeps a float32 tensor on the CPU.
    if (typeof state.step === 'number') state.step = tensor(state.step, { dtype: 'float32' });
  }

  protected updateGroup(group: AdamParamGroup): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    for (const param of group.params) {
      const pgrad = param._peekGrad();
      if (pgrad === null) continue;
      const state = this.stateOf(param);
      if (Object.keys(state).length === 0) {
        // `step` is a CPU float32 scalar in torch 1.13, so reading it back costs no device sync.
        state.step = tensor(0, { dtype: 'float32' });
        state.exp_avg = zerosLike(param);
        state.exp_avg_sq = zerosLike(param);
        if (amsgrad) state.max_exp_avg_sq = zerosLike(param);
      }
      const stepTensor = (state.step as Tensor).add_(1);
      const step = stepTensor.itemSync();
      let maxExpAvgSq: Tensor | null = null;
      if (amsgrad) {
        maxExpAvgSq = (state.max_exp_avg_sq as Tensor | undefined) ?? zerosLike(param);
        state.max_exp_avg_sq = maxExpAvgSq;
      }
      // One fused pass per parameter where the backend has the kernel (tensor's adamUpdate_).
      adamUpdate_(param, pgrad, state.exp_avg as Tensor, state.exp_avg_sq as Tensor, maxExpAvgSq, {
        lr,
        beta1,
        beta2,
        eps,
        weightDecay,
        decoupled: this.decoupled,
        maximize,
        stepSize: lr / (1 - beta1 ** step),
        biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** step),
      });
    }
  }
}

/** Adam (Kingma & Ba), with L2 weight decay added to the gradient, AMSGrad and maximize. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: ParamsInput<AdamOnlyOptions>, options: AdamOnlyOptions = {}) {
    super(
      'Adam',
      params,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        maximize: false,
        foreach: null,
        capturable: false,
        differentiable: false,
        fused: false,
      },
      options,
    );
  }
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay (default 0.01). */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: ParamsInput<AdamOptions>, options: AdamOptions = {}) {
    super(
      'AdamW',
      params,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 1e-2,
        amsgrad: false,
        foreach: null,
        maximize: false,
        capturable: false,
      },
      options,
    );
  }
}
