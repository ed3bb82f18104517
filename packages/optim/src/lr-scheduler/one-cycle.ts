// OneCycleLR: the 1cycle policy, with cosine or linear annealing, two or three phases, and cycled momentum.

import type { Optimizer } from '../optimizer.js';
import { toCamelCase } from '../python.js';
import {
  checkOptimizer,
  checkOptions,
  groupsOf,
  LRScheduler,
  num,
  type SchedulerBaseOptions,
  type SchedulerStateDict,
} from './base.js';

/** Options of `OneCycleLR`. */
export interface OneCycleLROptions extends SchedulerBaseOptions {
  /** Peak rate, one for all groups or one per group. */
  maxLr: number | readonly number[];
  /** Length of the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the rate. Default 0.3. */
  pctStart?: number;
  /** Default 'cos'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle SGD's momentum (or Adam's beta1) inversely to the rate. Default true. */
  cycleMomentum?: boolean;
  baseMomentum?: number | readonly number[];
  maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor. Default 25. */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  /** Use a third phase that anneals from initialLr to minLr (fast.ai style off). Default false. */
  threePhase?: boolean;
}

interface SchedulePhase {
  end_step: number;
  start_lr: string;
  end_lr: string;
  start_momentum: string;
  end_momentum: string;
}

function perGroup(name: string, optimizer: Optimizer, value: number | readonly number[]): number[] {
  const n = optimizer.paramGroups.length;
  if (typeof value === 'number') return Array.from({ length: n }, () => value);
  if (value.length !== n) throw new Error(`expected ${n} values for ${name}, got ${value.length}`);
  return [...value];
}

/**
 * The 1cycle policy (Smith & Topsøe): the rate rises from maxLr / divFactor to maxLr, then anneals to a minimum,
 * stepping once per batch; momentum (or Adam's beta1) moves the other way.
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  cycleMomentum: boolean;
  /** True when the optimizer has `betas` (Adam): beta1 is cycled instead of `momentum`. */
  useBeta1: boolean;
  annealStrategy: 'cos' | 'linear';
  private schedulePhases: SchedulePhase[];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    checkOptions('OneCycleLR', options, [
      'maxLr',
      'totalSteps',
      'epochs',
      'stepsPerEpoch',
      'pctStart',
      'annealStrategy',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
      'divFactor',
      'finalDivFactor',
      'threePhase',
    ]);
    const opt = checkOptimizer(optimizer);
    const { totalSteps: total, epochs, stepsPerEpoch } = options;
    let totalSteps: number;
    if (total === undefined && epochs === undefined && stepsPerEpoch === undefined) {
      throw new Error('You must define either total_steps OR (epochs AND steps_per_epoch)');
    } else if (total !== undefined) {
      if (!Number.isInteger(total) || total <= 0)
        throw new Error(`Expected positive integer total_steps, but got ${total}`);
      totalSteps = total;
    } else {
      if (epochs === undefined || !Number.isInteger(epochs) || epochs <= 0) {
        throw new Error(`Expected positive integer epochs, but got ${epochs}`);
      }
      if (stepsPerEpoch === undefined || !Number.isInteger(stepsPerEpoch) || stepsPerEpoch <= 0) {
        throw new Error(`Expected positive integer steps_per_epoch, but got ${stepsPerEpoch}`);
      }
      totalSteps = epochs * stepsPerEpoch;
    }
    const pctStart = options.pctStart ?? 0.3;
    const phases: SchedulePhase[] = options.threePhase
      ? [
          {
            end_step: pctStart * totalSteps - 1,
            start_lr: 'initial_lr',
            end_lr: 'max_lr',
            start_momentum: 'max_momentum',
            end_momentum: 'base_momentum',
          },
          {
            end_step: 2 * pctStart * totalSteps - 2,
            start_lr: 'max_lr',
            end_lr: 'initial_lr',
            start_momentum: 'base_momentum',
            end_momentum: 'max_momentum',
          },
          {
            end_step: totalSteps - 1,
            start_lr: 'initial_lr',
            end_lr: 'min_lr',
            start_momentum: 'max_momentum',
            end_momentum: 'max_momentum',
          },
        ]
      : [
          {
            end_step: pctStart * totalSteps - 1,
            start_lr: 'initial_lr',
            end_lr: 'max_lr',
            start_momentum: 'max_momentum',
            end_momentum: 'base_momentum',
          },
          {
            end_step: totalSteps - 1,
            start_lr: 'max_lr',
            end_lr: 'min_lr',
            start_momentum: 'base_momentum',
            end_momentum: 'max_momentum',
          },
        ];
    if (!(pctStart >= 0 && pctStart <= 1))
      throw new Error(`Expected float between 0 and 1 pct_start, but got ${pctStart}`);
    const annealStrategy = options.annealStrategy ?? 'cos';
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
      throw new Error(
        `anneal_strategy must by one of 'cos' or 'linear', instead got ${String(annealStrategy)}`,
      );
    }
    const lastEpoch = options.lastEpoch ?? -1;
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e4;
    const maxLrs = perGroup('max_lr', opt, options.maxLr);
    if (lastEpoch === -1) {
      opt.paramGroups.forEach((group, i) => {
        group.initialLr = maxLrs[i] / divFactor;
        group.maxLr = maxLrs[i];
        group.minLr = group.initialLr / finalDivFactor;
      });
    }
    const cycleMomentum = options.cycleMomentum ?? true;
    let useBeta1 = false;
    if (cycleMomentum) {
      if (!('momentum' in opt.defaults) && !('betas' in opt.defaults)) {
        throw new Error('optimizer must support momentum with `cycle_momentum` option enabled');
      }
      useBeta1 = 'betas' in opt.defaults;
      const maxMomentums = perGroup('max_momentum', opt, options.maxMomentum ?? 0.95);
      const baseMomentums = perGroup('base_momentum', opt, options.baseMomentum ?? 0.85);
      if (lastEpoch === -1) {
        opt.paramGroups.forEach((group, i) => {
          if (useBeta1) group.betas = [maxMomentums[i], ...(group.betas as readonly number[]).slice(1)];
          else group.momentum = maxMomentums[i];
          group.maxMomentum = maxMomentums[i];
          group.baseMomentum = baseMomentums[i];
        });
      }
    }
    super(opt, lastEpoch, options.verbose);
    this.totalSteps = totalSteps;
    this.schedulePhases = phases;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  protected computeLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new Error(
        `Tried to step ${stepNum + 1} times. The specified number of total steps is ${this.totalSteps}`,
      );
    }
    const lrs: number[] = [];
    for (const group of groupsOf(this.optimizer)) {
      const value = (key: string) => group[toCamelCase(key)] as number;
      let startStep = 0;
      let lr = 0;
      let momentum = 0;
      for (let i = 0; i < this.schedulePhases.length; i++) {
        const phase = this.schedulePhases[i];
        const endStep = phase.end_step;
        if (stepNum <= endStep || i === this.schedulePhases.length - 1) {
          const pct = (stepNum - startStep) / (endStep - startStep);
          lr = this.anneal(value(phase.start_lr), value(phase.end_lr), pct);
          if (this.cycleMomentum)
            momentum = this.anneal(value(phase.start_momentum), value(phase.end_momentum), pct);
          break;
        }
        startStep = phase.end_step;
      }
      lrs.push(lr);
      if (this.cycleMomentum) {
        if (this.useBeta1) group.betas = [momentum, ...(group.betas as readonly number[]).slice(1)];
        else group.momentum = momentum;
      }
    }
    return lrs;
  }

  /** PyTorch's keys minus `anneal_func` (a method, not data): construct with the same `annealStrategy`. */
  protected override ownState(): SchedulerStateDict {
    const sd: SchedulerStateDict = {
      total_steps: this.totalSteps,
      _schedule_phases: this.schedulePhases.map((p) => ({ ...p })),
      cycle_momentum: this.cycleMomentum,
    };
    // PyTorch sets use_beta1 only when it cycles momentum.
    return this.cycleMomentum ? { ...sd, use_beta1: this.useBeta1 } : sd;
  }

  protected override loadOwnState(sd: SchedulerStateDict): void {
    if ('total_steps' in sd) this.totalSteps = num(sd, 'total_steps');
    if ('_schedule_phases' in sd) {
      const phases = sd._schedule_phases;
      if (!Array.isArray(phases)) throw new Error("loadStateDict: '_schedule_phases' must be a list");
      this.schedulePhases = phases.map((p) => {
        const d = p as SchedulerStateDict;
        return {
          end_step: num(d, 'end_step'),
          start_lr: String(d.start_lr),
          end_lr: String(d.end_lr),
          start_momentum: String(d.start_momentum),
          end_momentum: String(d.end_momentum),
        };
      });
    }
    if ('cycle_momentum' in sd) this.cycleMomentum = sd.cycle_momentum === true;
    if ('use_beta1' in sd) this.useBeta1 = sd.use_beta1 === true;
  }
}
