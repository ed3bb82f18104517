// SequentialLR: schedulers run one after another, switching at milestone epochs.

import { checkOptions } from '@graft/tensor';
import type { Optimizer } from '../optimizer.js';
import {
  bisectRight,
  checkOptimizer,
  type LRScheduler,
  num,
  numList,
  type Scheduler,
  type SchedulerStateDict,
} from './base.js';

/** Options of `SequentialLR`. */
export interface SequentialLROptions {
  /** The schedulers to run one after another, all on this optimizer. */
  schedulers: readonly LRScheduler[];
  /** The epochs at which to switch to the next scheduler (one fewer than schedulers). */
  milestones: readonly number[];
  lastEpoch?: number;
}

/** Runs schedulers one after another, switching at the milestones (warm-up, then decay). */
export class SequentialLR implements Scheduler {
  readonly optimizer: Optimizer;
  readonly schedulers: LRScheduler[];
  milestones: number[];
  lastEpoch: number;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    checkOptions('SequentialLR', options, ['schedulers', 'milestones', 'lastEpoch']);
    this.optimizer = checkOptimizer(optimizer);
    const { schedulers, milestones } = options;
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new Error(
          'Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at ' +
            `index ${i} to be different than the optimizer passed in.`,
        );
      }
    });
    if (milestones.length !== schedulers.length - 1) {
      throw new Error(
        'Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone ' +
          `points, but got number of schedulers ${schedulers.length} and the number of milestones to be equal to ` +
          `${milestones.length}`,
      );
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    // Reset the rates and undo the step each scheduler's constructor made, then start the first one.
    for (const group of this.optimizer.paramGroups) group.lr = group.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  /** Advances one epoch in the scheduler whose turn it is; at a milestone the next one starts from epoch 0. */
  step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** PyTorch's keys, with the inner schedulers' state dicts under `_schedulers`. */
  stateDict(): SchedulerStateDict {
    return {
      _milestones: [...this.milestones],
      last_epoch: this.lastEpoch,
      _last_lr: [...this.lastLr],
      _schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(stateDict: SchedulerStateDict): void {
    if ('_milestones' in stateDict) this.milestones = numList(stateDict, '_milestones');
    if ('last_epoch' in stateDict) this.lastEpoch = num(stateDict, 'last_epoch');
    if ('_last_lr' in stateDict) this.lastLr = numList(stateDict, '_last_lr');
    const inner = stateDict._schedulers;
    if (inner !== undefined) {
      if (!Array.isArray(inner) || inner.length !== this.schedulers.length) {
        throw new Error(
          `loadStateDict: '_schedulers' must hold ${this.schedulers.length} scheduler state dicts`,
        );
      }
      inner.forEach((sd, i) => {
        this.schedulers[i].loadStateDict(sd as SchedulerStateDict);
      });
    }
  }
}
