// Multiplicative decays: StepLR (every stepSize epochs), MultiStepLR (at milestones), ExponentialLR (every epoch).

import type { Optimizer } from '../optimizer.js';
import {
  bisectRight,
  checkOptions,
  LRScheduler,
  num,
  type SchedulerBaseOptions,
  type SchedulerStateDict,
} from './base.js';

/** Options of `StepLR`. */
export interface StepLROptions extends SchedulerBaseOptions {
  /** Period of the decay, in epochs. */
  stepSize: number;
  /** Multiplicative factor of the decay. Default 0.1. */
  gamma?: number;
}

/** Multiplies each group's rate by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    checkOptions('StepLR', options, ['stepSize', 'gamma']);
    super(optimizer, options.lastEpoch, options.verbose);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected computeLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  protected override ownState(): SchedulerStateDict {
    return { step_size: this.stepSize, gamma: this.gamma };
  }

  protected override loadOwnState(sd: SchedulerStateDict): void {
    if ('step_size' in sd) this.stepSize = num(sd, 'step_size');
    if ('gamma' in sd) this.gamma = num(sd, 'gamma');
  }
}

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions extends SchedulerBaseOptions {
  /** Epochs at which to decay (a repeated milestone decays once per repeat). */
  milestones: readonly number[];
  /** Multiplicative factor of the decay. Default 0.1. */
  gamma?: number;
}

/** Multiplies each group's rate by `gamma` at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  /** Milestone epoch -> how many times it was given (PyTorch's Counter). */
  milestones: Map<number, number>;
  gamma: number;

  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    checkOptions('MultiStepLR', options, ['milestones', 'gamma']);
    super(optimizer, options.lastEpoch, options.verbose);
    this.milestones = new Map();
    for (const m of options.milestones) this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const count = this.milestones.get(this.lastEpoch);
    if (count === undefined) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    const sorted: number[] = [];
    for (const [m, count] of this.milestones) for (let i = 0; i < count; i++) sorted.push(m);
    sorted.sort((a, b) => a - b);
    return this.baseLrs.map((base) => base * this.gamma ** bisectRight(sorted, this.lastEpoch));
  }

  protected override ownState(): SchedulerStateDict {
    const milestones: Record<string, number> = {};
    for (const [m, count] of this.milestones) milestones[String(m)] = count;
    return { milestones, gamma: this.gamma };
  }

  protected override loadOwnState(sd: SchedulerStateDict): void {
    if ('milestones' in sd) {
      const v: unknown = sd.milestones;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw new Error("loadStateDict: 'milestones' must be a dict of epoch -> count");
      }
      const entries: [unknown, unknown][] = v instanceof Map ? [...v.entries()] : Object.entries(v);
      this.milestones = new Map(entries.map(([k, c]) => [Number(k), Number(c)]));
    }
    if ('gamma' in sd) this.gamma = num(sd, 'gamma');
  }
}

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions extends SchedulerBaseOptions {
  /** Multiplicative factor applied every epoch. */
  gamma: number;
}

/** Multiplies each group's rate by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  gamma: number;

  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    checkOptions('ExponentialLR', options, ['gamma']);
    super(optimizer, options.lastEpoch, options.verbose);
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected computeLr(): number[] {
    if (this.lastEpoch === 0) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }

  protected override ownState(): SchedulerStateDict {
    return { gamma: this.gamma };
  }

  protected override loadOwnState(sd: SchedulerStateDict): void {
    if ('gamma' in sd) this.gamma = num(sd, 'gamma');
  }
}
