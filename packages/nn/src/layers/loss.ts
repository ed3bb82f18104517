// Loss modules: CrossEntropyLoss, NLLLoss, MSELoss, BCEWithLogitsLoss. Class weights are buffers, as in PyTorch.

import { checkOptions, type Reduction, Tensor } from '@graft/tensor';
import * as F from '../functional.js';
import { Module } from '../module.js';

function checkReduction(layer: string, r: unknown): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none')
    throw new Error(`${layer}: ${String(r)} is not a valid value for reduction`);
  return r;
}

function checkWeight(layer: string, name: string, w: unknown): Tensor | null {
  if (w === undefined || w === null) return null;
  if (!(w instanceof Tensor)) throw new TypeError(`${layer}: ${name} must be a Tensor or null`);
  return w;
}

export interface CrossEntropyLossOptions {
  /** Per-class weights [C]. */
  weight?: Tensor | null;
  /** Targets equal to this index are skipped (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Mixes the targets with the uniform distribution (0 to 1). */
  labelSmoothing?: number;
}

/** Cross entropy of logits against class indices or class probabilities. */
export class CrossEntropyLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  declare weight: Tensor | null;

  constructor(opts: CrossEntropyLossOptions = {}) {
    super();
    checkOptions('CrossEntropyLoss', opts, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
    this.registerBuffer('weight', checkWeight('CrossEntropyLoss', 'weight', opts.weight));
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.reduction = checkReduction('CrossEntropyLoss', opts.reduction ?? 'mean');
    this.labelSmoothing = opts.labelSmoothing ?? 0;
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) {
      throw new Error(
        `CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0. Got: ${this.labelSmoothing}`,
      );
    }
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

export interface NLLLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Negative log-likelihood of log-probabilities (e.g. LogSoftmax output) against class indices. */
export class NLLLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  declare weight: Tensor | null;

  constructor(opts: NLLLossOptions = {}) {
    super();
    checkOptions('NLLLoss', opts, ['weight', 'ignoreIndex', 'reduction']);
    this.registerBuffer('weight', checkWeight('NLLLoss', 'weight', opts.weight));
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.reduction = checkReduction('NLLLoss', opts.reduction ?? 'mean');
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
}

/** Mean squared error. */
export class MSELoss extends Module {
  readonly reduction: Reduction;

  constructor(opts: { reduction?: Reduction } = {}) {
    super();
    checkOptions('MSELoss', opts, ['reduction']);
    this.reduction = checkReduction('MSELoss', opts.reduction ?? 'mean');
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

export interface BCEWithLogitsLossOptions {
  /** Per-element rescaling weight, broadcast against the input. */
  weight?: Tensor | null;
  /** Weight of positive examples, per class. */
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

/** Sigmoid plus binary cross entropy in one numerically stable step. */
export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;
  declare weight: Tensor | null;
  declare pos_weight: Tensor | null;

  constructor(opts: BCEWithLogitsLossOptions = {}) {
    super();
    checkOptions('BCEWithLogitsLoss', opts, ['weight', 'posWeight', 'reduction']);
    this.registerBuffer('weight', checkWeight('BCEWithLogitsLoss', 'weight', opts.weight));
    this.registerBuffer('pos_weight', checkWeight('BCEWithLogitsLoss', 'pos_weight', opts.posWeight));
    this.reduction = checkReduction('BCEWithLogitsLoss', opts.reduction ?? 'mean');
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight,
      posWeight: this.pos_weight,
      reduction: this.reduction,
    });
  }
}
