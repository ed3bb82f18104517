// BatchNorm1d / BatchNorm2d (running statistics as buffers) and LayerNorm.

import { checkOptions, fusedBatchNorm, noGrad, ones, type Tensor, tensor, zeros } from '@graft/tensor';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module, type ModuleMetadata } from '../module.js';
import { Parameter } from '../parameter.js';
import { pyFloat, pyFloatOrNone, pyTuple, pyValue } from '../pyrepr.js';
import { checkPositive } from './linear.js';

export interface BatchNormModuleOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1); null for a cumulative average. */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked buffers (default true). */
  trackRunningStats?: boolean;
}

/** Shared body of BatchNorm1d and BatchNorm2d (PyTorch's _BatchNorm). */
export abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;

  /** PyTorch's `_version` 2: state dicts hold `num_batches_tracked` (added in PyTorch 0.4.1). */
  static override version = 2;

  constructor(numFeatures: number, opts: BatchNormModuleOptions = {}) {
    super();
    checkOptions(this.constructor.name, opts, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    this.numFeatures = checkPositive(this.constructor.name, 'num_features', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    if (!(this.eps >= 0))
      throw new Error(`${this.constructor.name}: eps must be non-negative, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new Error(`${this.constructor.name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    }
    this.registerParameter('weight', this.affine ? new Parameter(ones(numFeatures)) : null);
    this.registerParameter('bias', this.affine ? new Parameter(zeros(numFeatures)) : null);
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros(numFeatures) : null);
    this.registerBuffer('running_var', track ? ones(numFeatures) : null);
    this.registerBuffer('num_batches_tracked', track ? tensor(0, { dtype: 'int64' }) : null);
    this.resetParameters();
  }

  /** Running mean 0, running variance 1, no batches seen. */
  resetRunningStats(): void {
    noGrad(() => {
      this.running_mean?.zero_();
      this.running_var?.fill_(1);
      this.num_batches_tracked?.zero_();
    });
  }

  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  protected abstract checkInputDim(input: Tensor): void;

  override forward(input: Tensor): Tensor {
    return this._forwardFused(input, null, false);
  }

  /**
   * @internal `forward` followed by `+ residual` and ReLU, as one fused op where the backend has the
   * kernels (see `bnAct` in fusion.ts).
   */
  _forwardFused(input: Tensor, residual: Tensor | null, relu: boolean): Tensor {
    this.checkInputDim(input);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      const count = this.num_batches_tracked;
      noGrad(() => count.add_(1));
      // momentum=null averages all batches seen so far: weight 1/n for the n-th batch.
      if (this.momentum === null) factor = 1 / count.itemSync();
    }
    const bnTraining = this.training || (this.running_mean === null && this.running_var === null);
    const useRunning = !this.training || this.trackRunningStats;
    return fusedBatchNorm(
      input,
      useRunning ? this.running_mean : null,
      useRunning ? this.running_var : null,
      this.weight,
      this.bias,
      { training: bnTraining, momentum: factor, eps: this.eps, residual, relu },
    );
  }

  /**
   * @internal A state dict without `num_batches_tracked` (saved before PyTorch 0.4.1, e.g. old
   * torchvision weights) loads with the counter at 0, as PyTorch does when the module's metadata has no
   * version or one below 2; a version-2 state dict missing it reports the key as missing.
   */
  override _loadFromStateDict(
    stateDict: Map<string, unknown>,
    prefix: string,
    missingKeys: string[],
    unexpectedKeys: string[],
    errorMsgs: string[],
    localMetadata: ModuleMetadata = {},
  ): void {
    const version = localMetadata.version;
    const key = `${prefix}num_batches_tracked`;
    if ((typeof version !== 'number' || version < 2) && this.trackRunningStats && !stateDict.has(key))
      stateDict.set(key, tensor(0, { dtype: 'int64' }));
    super._loadFromStateDict(stateDict, prefix, missingKeys, unexpectedKeys, errorMsgs, localMetadata);
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyFloatOrNone(this.momentum)}, ` +
      `affine=${pyValue(this.affine)}, track_running_stats=${pyValue(this.trackRunningStats)}`
    );
  }
}

/** Batch normalisation over [N, C] or [N, C, L] inputs. */
export class BatchNorm1d extends BatchNorm {
  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 2 && input.ndim !== 3)
      throw new Error(`BatchNorm1d: expected 2D or 3D input (got ${input.ndim}D input)`);
  }
}

/** Batch normalisation over [N, C, H, W] inputs, per channel. `new BatchNorm2d(64)`. */
export class BatchNorm2d extends BatchNorm {
  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 4) throw new Error(`BatchNorm2d: expected 4D input (got ${input.ndim}D input)`);
  }
}

export interface LayerNormOptions {
  eps?: number;
  /** Learn a per-element scale and shift (default true). */
  elementwiseAffine?: boolean;
}

/** Normalises over the trailing `normalizedShape` dims of each sample. `new LayerNorm(768)`. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  eps: number;
  readonly elementwiseAffine: boolean;
  declare weight: Parameter | null;
  declare bias: Parameter | null;

  constructor(normalizedShape: number | number[], opts: LayerNormOptions = {}) {
    super();
    checkOptions('LayerNorm', opts, ['eps', 'elementwiseAffine']);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of shape) checkPositive('LayerNorm', 'normalized_shape', d);
    this.normalizedShape = shape;
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    this.registerParameter('weight', this.elementwiseAffine ? new Parameter(ones(shape)) : null);
    this.registerParameter('bias', this.elementwiseAffine ? new Parameter(zeros(shape)) : null);
  }

  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  override forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyValue(this.elementwiseAffine)}`;
  }
}
