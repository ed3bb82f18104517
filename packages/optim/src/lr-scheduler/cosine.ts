// CosineAnnealingLR in PyTorch's recursive form, so that trajectories match torch step for step.

import type { Optimizer } from '../optimizer.js';
import {
  checkOptions,
  groupsOf,
  LRScheduler,
  num,
  pyMod,
  type SchedulerBaseOptions,
  type SchedulerStateDict,
} from './base.js';

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions extends SchedulerBaseOptions {
  /** Half-period of the cosine, in epochs (PyTorch's T_max). */
  tMax: number;
  /** The lowest rate. Default 0. */
  etaMin?: number;
}

/**
 * Cosine annealing from each group's initial rate to `etaMin` over `tMax` epochs (and back up, periodically),
 * in PyTorch's recursive form.
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    super(optimizer, options.lastEpoch, options.verbose);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { lastEpoch: e, tMax, etaMin } = this;
    const groups = groupsOf(this.optimizer);
    if (e === 0) return this.currentLrs();
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map(
        (base) => etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2,
      );
    }
    if (pyMod(e - 1 - tMax, 2 * tMax) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) *
          (g.lr - etaMin) +
        etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map(
      (base) =>
        this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2,
    );
  }

  protected override ownState(): SchedulerStateDict {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }

  protected override loadOwnState(sd: SchedulerStateDict): void {
    if ('T_max' in sd) this.tMax = num(sd, 'T_max');
    if ('eta_min' in sd) this.etaMin = num(sd, 'eta_min');
  }
}
