// LambdaLR: the initial rate times a user function of the epoch.

import type { Optimizer } from '../optimizer.js';
import {
  checkOptimizer,
  checkOptions,
  LRScheduler,
  type SchedulerBaseOptions,
  type SchedulerStateDict,
} from './base.js';

/** A multiplicative factor as a function of the epoch. */
export type LrLambda = (epoch: number) => number;

/** Options of `LambdaLR`. */
export interface LambdaLROptions extends SchedulerBaseOptions {
  /** One function for all groups, or one per group. */
  lrLambda: LrLambda | readonly LrLambda[];
}

/** Sets each group's rate to its initial rate times `lrLambda(epoch)`. */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Optimizer, options: LambdaLROptions) {
    checkOptions('LambdaLR', options, ['lrLambda']);
    const groupCount = checkOptimizer(optimizer).paramGroups.length;
    const fns = options.lrLambda;
    let lambdas: LrLambda[];
    if (typeof fns === 'function') {
      lambdas = Array.from({ length: groupCount }, () => fns);
    } else {
      if (fns.length !== groupCount)
        throw new Error(`Expected ${groupCount} lr_lambdas, but got ${fns.length}`);
      lambdas = [...fns];
    }
    super(optimizer, options.lastEpoch, options.verbose);
    this.lrLambdas = lambdas;
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i](this.lastEpoch));
  }

  /** As PyTorch: functions are not data, so `lr_lambdas` holds one null per group. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), lr_lambdas: this.lrLambdas.map(() => null) };
  }
}
