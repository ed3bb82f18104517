// LinearLR: a factor moving linearly between two values (warm-up or linear decay).

import type { Optimizer } from '../optimizer.js';
import {
  checkOptions,
  LRScheduler,
  num,
  type SchedulerBaseOptions,
  type SchedulerStateDict,
} from './base.js';

/** Options of `LinearLR`. */
export interface LinearLROptions extends SchedulerBaseOptions {
  /** Factor at epoch 0. Default 1/3. */
  startFactor?: number;
  /** Factor from `totalIters` on. Default 1. */
  endFactor?: number;
  /** Epochs over which the factor moves linearly. Default 5. */
  totalIters?: number;
}

/** Scales each group's rate by a factor moving linearly from `startFactor` to `endFactor` (warm-up or decay). */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    checkOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters']);
    const startFactor = options.startFactor ?? 1 / 3;
    const endFactor = options.endFactor ?? 1;
    if (startFactor > 1 || startFactor < 0)
      throw new Error('Starting multiplicative factor expected to be between 0 and 1.');
    if (endFactor > 1 || endFactor < 0)
      throw new Error('Ending multiplicative factor expected to be between 0 and 1.');
    super(optimizer, options.lastEpoch, options.verbose);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = options.totalIters ?? 5;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    if (e === 0) return this.currentLrs().map((lr) => lr * s);
    if (e > n) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: n } = this;
    return this.baseLrs.map((base) => base * (s + ((f - s) * Math.min(n, this.lastEpoch)) / n));
  }

  protected override ownState(): SchedulerStateDict {
    return { start_factor: this.startFactor, end_factor: this.endFactor, total_iters: this.totalIters };
  }

  protected override loadOwnState(sd: SchedulerStateDict): void {
    if ('start_factor' in sd) this.startFactor = num(sd, 'start_factor');
    if ('end_factor' in sd) this.endFactor = num(sd, 'end_factor');
    if ('total_iters' in sd) this.totalIters = num(sd, 'total_iters');
  }
}
