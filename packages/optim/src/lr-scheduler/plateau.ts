// ReduceLROnPlateau: cuts the rate when a metric stops improving (not epoch-based, so no LRScheduler).

import { checkOptions, Tensor } from '@graft/tensor';
import type { Optimizer } from '../optimizer.js';
import {
  checkOptimizer,
  epochString,
  formatExp4,
  num,
  numList,
  printLine,
  type Scheduler,
  type SchedulerStateDict,
} from './base.js';

/** Options of `ReduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** 'min': reduce when the metric stops decreasing; 'max': when it stops increasing. Default 'min'. */
  mode?: 'min' | 'max';
  /** new lr = lr * factor. Default 0.1. */
  factor?: number;
  /** Epochs without improvement to tolerate before reducing. Default 10. */
  patience?: number;
  /** What counts as an improvement. Default 1e-4. */
  threshold?: number;
  /** 'rel': relative to the best value; 'abs': absolute. Default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** Lower bound of the rate, one for all groups or one per group. Default 0. */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped. Default 1e-8. */
  eps?: number;
  verbose?: boolean;
}

/** Reduces the rate by `factor` when a metric has stopped improving for `patience` epochs. */
export class ReduceLROnPlateau implements Scheduler {
  readonly optimizer: Optimizer;
  factor: number;
  minLrs: number[];
  patience: number;
  verbose: boolean;
  cooldown: number;
  cooldownCounter = 0;
  mode: 'min' | 'max';
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  best: number;
  numBadEpochs = 0;
  modeWorse: number;
  eps: number;
  lastEpoch = 0;
  private lastLr: number[] | null = null;

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    checkOptions('ReduceLROnPlateau', options, [
      'mode',
      'factor',
      'patience',
      'threshold',
      'thresholdMode',
      'cooldown',
      'minLr',
      'eps',
      'verbose',
    ]);
    const factor = options.factor ?? 0.1;
    if (factor >= 1.0) throw new Error('Factor should be < 1.0.');
    this.factor = factor;
    this.optimizer = checkOptimizer(optimizer);
    const n = this.optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (typeof minLr === 'number') {
      this.minLrs = Array.from({ length: n }, () => minLr);
    } else {
      if (minLr.length !== n) throw new Error(`expected ${n} min_lrs, got ${minLr.length}`);
      this.minLrs = [...minLr];
    }
    this.patience = options.patience ?? 10;
    this.verbose = options.verbose ?? false;
    this.cooldown = options.cooldown ?? 0;
    this.mode = options.mode ?? 'min';
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.eps = options.eps ?? 1e-8;
    this.modeWorse = this.initIsBetter();
    this.best = this.modeWorse;
  }

  private initIsBetter(): number {
    if (this.mode !== 'min' && this.mode !== 'max') throw new Error(`mode ${String(this.mode)} is unknown!`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new Error(`threshold mode ${String(this.thresholdMode)} is unknown!`);
    }
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** True while waiting out the cooldown after a reduction. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /**
   * Records one epoch's metric (a number, or a one-element CPU tensor; on other devices pass
   * `await loss.item()`) and reduces the rates if it has plateaued.
   */
  step(metrics: number | Tensor): void {
    const current = metrics instanceof Tensor ? metrics.itemSync() : Number(metrics);
    const epoch = this.lastEpoch + 1;
    this.lastEpoch = epoch;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr(epoch);
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(epoch: number): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const oldLr = group.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]);
      if (oldLr - newLr > this.eps) {
        group.lr = newLr;
        if (this.verbose) {
          printLine(
            `Epoch ${epochString(epoch)}: reducing learning rate of group ${i} to ${formatExp4(newLr)}.`,
          );
        }
      }
    });
  }

  /** The rates after the last `step()` (the current rates before the first). */
  getLastLr(): number[] {
    return this.lastLr ? [...this.lastLr] : this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** PyTorch's keys (`best`, `num_bad_epochs`, `cooldown_counter`, ...); `_last_lr` once stepped. */
  stateDict(): SchedulerStateDict {
    const sd: SchedulerStateDict = {
      factor: this.factor,
      min_lrs: [...this.minLrs],
      patience: this.patience,
      verbose: this.verbose,
      cooldown: this.cooldown,
      cooldown_counter: this.cooldownCounter,
      mode: this.mode,
      threshold: this.threshold,
      threshold_mode: this.thresholdMode,
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      mode_worse: this.modeWorse,
      eps: this.eps,
      last_epoch: this.lastEpoch,
    };
    if (this.lastLr) sd._last_lr = [...this.lastLr];
    return sd;
  }

  loadStateDict(sd: SchedulerStateDict): void {
    if ('factor' in sd) this.factor = num(sd, 'factor');
    if ('min_lrs' in sd) this.minLrs = numList(sd, 'min_lrs');
    if ('patience' in sd) this.patience = num(sd, 'patience');
    if ('verbose' in sd) this.verbose = sd.verbose === true;
    if ('cooldown' in sd) this.cooldown = num(sd, 'cooldown');
    if ('cooldown_counter' in sd) this.cooldownCounter = num(sd, 'cooldown_counter');
    if ('mode' in sd) this.mode = sd.mode as 'min' | 'max';
    if ('threshold' in sd) this.threshold = num(sd, 'threshold');
    if ('threshold_mode' in sd) this.thresholdMode = sd.threshold_mode as 'rel' | 'abs';
    if ('best' in sd) this.best = num(sd, 'best');
    if ('num_bad_epochs' in sd) this.numBadEpochs = num(sd, 'num_bad_epochs');
    if ('eps' in sd) this.eps = num(sd, 'eps');
    if ('last_epoch' in sd) this.lastEpoch = num(sd, 'last_epoch');
    if ('_last_lr' in sd) this.lastLr = numList(sd, '_last_lr');
    this.modeWorse = this.initIsBetter();
  }
}
