// Linear (a fully connected layer) and Identity.

import { checkOptions, type Tensor, zeros } from '@graft/tensor';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { pyValue } from '../pyrepr.js';

/** Throws unless `v` is a non-negative integer (a size). */
export function checkSize(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new Error(`${layer}: ${name} must be a non-negative integer, got ${String(v)}`);
  }
  return v;
}

/** Throws unless `v` is a positive integer. */
export function checkPositive(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new Error(`${layer}: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Initialises a bias as PyTorch does for Linear and Conv: U(-1/√fan_in, 1/√fan_in). */
export function resetWeightAndBias(weight: Parameter, bias: Parameter | null): void {
  // kaiming_uniform with a = √5 gives bound 1/√fan_in: PyTorch's long-standing default.
  init.kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform_(bias, -bound, bound);
  }
}

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/** y = x Wᵀ + b, with W of shape [outFeatures, inFeatures]. `new Linear(512, 10)`. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  declare weight: Parameter;
  declare bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions | boolean = {}) {
    super();
    if (typeof opts !== 'boolean') checkOptions('Linear', opts, ['bias']);
    const bias = typeof opts === 'boolean' ? opts : (opts?.bias ?? true);
    this.inFeatures = checkSize('Linear', 'in_features', inFeatures);
    this.outFeatures = checkSize('Linear', 'out_features', outFeatures);
    this.weight = new Parameter(zeros(outFeatures, inFeatures));
    this.registerParameter('bias', bias ? new Parameter(zeros(outFeatures)) : null);
    this.resetParameters();
  }

  /** Re-draws the weights with PyTorch's default initialisation. */
  resetParameters(): void {
    resetWeightAndBias(this.weight, this.bias);
  }

  override forward(input: Tensor): Tensor {
    if (input.ndim === 0 || input.shape[input.ndim - 1] !== this.inFeatures) {
      throw new Error(
        `Linear(in_features=${this.inFeatures}, out_features=${this.outFeatures}): expected an input whose last ` +
          `dimension is ${this.inFeatures}, got shape [${input.shape.join(', ')}]`,
      );
    }
    return F.linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyValue(this.bias !== null)}`;
  }
}

/** Returns its input unchanged (a placeholder, e.g. for a removed head). Arguments are ignored. */
export class Identity extends Module {
  constructor(...args: unknown[]) {
    super();
    void args;
  }

  override forward(input: Tensor): Tensor {
    return input;
  }
}
