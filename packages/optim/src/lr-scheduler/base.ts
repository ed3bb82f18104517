// The shared part of the schedulers: state-dict types, option checks, Python's arithmetic helpers, and
// LRScheduler, the base of the epoch-based schedulers (PyTorch's _LRScheduler, 1.13).

import { checkOptions as checkKnownOptions } from '@graft/tensor';
import { Optimizer, type ParamGroup } from '../optimizer.js';

/** A value in a scheduler's state dict (Python data: numbers, flags, strings, lists, str-keyed dicts). */
export type SchedulerStateValue =
  | number
  | boolean
  | string
  | null
  | readonly SchedulerStateValue[]
  | { readonly [key: string]: SchedulerStateValue };

/**
 * A scheduler's state dict: PyTorch's keys (`last_epoch`, `base_lrs`, `_step_count`, `_last_lr`, ...).
 * Int-keyed Python dicts (MultiStepLR's milestone Counter) are plain objects keyed by integer strings.
 */
export type SchedulerStateDict = { [key: string]: SchedulerStateValue };

/** What every scheduler offers. */
export interface Scheduler {
  readonly optimizer: Optimizer;
  /** The learning rates the last `step()` set, one per group. */
  getLastLr(): number[];
  stateDict(): SchedulerStateDict;
  loadStateDict(stateDict: SchedulerStateDict): void;
}

/** Options every epoch-based scheduler takes. */
export interface SchedulerBaseOptions {
  /** The index of the last epoch when resuming (groups must then hold `initialLr`). Default -1. */
  lastEpoch?: number;
  /** Print each change of a group's rate, as PyTorch does. Default false. */
  verbose?: boolean;
}

const BASE_OPTIONS = ['lastEpoch', 'verbose'];

// The main entry runs in browsers and Node alike; `verbose` prints through the global console.
declare const console: { log(message: string): void };

/** Prints a `verbose` message, as PyTorch's print() does. */
export function printLine(message: string): void {
  console.log(message);
}

/** Refuses an option outside `known` and the base options (`lastEpoch`, `verbose`), with a did-you-mean. */
export function checkOptions(name: string, options: object | undefined, known: readonly string[]): void {
  checkKnownOptions(name, options, [...known, ...BASE_OPTIONS]);
}

export function checkOptimizer(optimizer: unknown): Optimizer {
  if (!(optimizer instanceof Optimizer)) {
    const name =
      optimizer === null || optimizer === undefined
        ? String(optimizer)
        : (optimizer as object).constructor?.name;
    throw new TypeError(`${name} is not an Optimizer`);
  }
  return optimizer;
}

/** Python's `x % m` (the result takes the divisor's sign). */
export function pyMod(x: number, m: number): number {
  return ((x % m) + m) % m;
}

/** Python's `bisect.bisect_right`. */
export function bisectRight(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < sorted[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Python's `'{:.4e}'.format(x)`. */
export function formatExp4(x: number): string {
  const [m, e] = x.toExponential(4).split('e');
  const exp = Number(e);
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

export function epochString(epoch: number): string {
  return Number.isInteger(epoch)
    ? (epoch < 0 ? '-' : '') + String(Math.abs(epoch)).padStart(5, '0')
    : epoch.toFixed(2);
}

export function num(sd: SchedulerStateDict, key: string): number {
  const v = sd[key];
  if (typeof v !== 'number')
    throw new Error(`loadStateDict: '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function numList(sd: SchedulerStateDict, key: string): number[] {
  const v = sd[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) {
    throw new Error(`loadStateDict: '${key}' must be a list of numbers, got ${JSON.stringify(v)}`);
  }
  return [...(v as number[])];
}

export function groupsOf(optimizer: Optimizer): ParamGroup[] {
  return optimizer.paramGroups;
}

/**
 * Base of the epoch-based schedulers (PyTorch's `_LRScheduler`). The constructor records each group's
 * `initialLr` and performs the first step; `step()` advances one epoch and writes every group's `lr`.
 */
export abstract class LRScheduler implements Scheduler {
  readonly optimizer: Optimizer;
  /** Each group's `initialLr`: the rates the schedule is relative to. */
  baseLrs: number[];
  /** The index of the current epoch (0 after construction). */
  lastEpoch: number;
  verbose: boolean;
  protected stepCount = 0;
  protected lastLr: number[] = [];
  private getLrCalledWithinStep = false;

  protected constructor(optimizer: Optimizer, lastEpoch = -1, verbose = false) {
    this.optimizer = checkOptimizer(optimizer);
    const groups = groupsOf(this.optimizer);
    if (lastEpoch === -1) {
      for (const group of groups) if (group.initialLr === undefined) group.initialLr = group.lr;
    } else {
      groups.forEach((group, i) => {
        if (group.initialLr === undefined) {
          throw new Error(
            `param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`,
          );
        }
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
    this.verbose = verbose;
  }

  /** The chainable form: the next rates, usually from the groups' current `lr`. */
  protected abstract computeLr(): number[];

  /** The closed form, used by `step(epoch)`; null where PyTorch has none. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** The scheduler's own state entries (PyTorch's attribute names), before the shared ones. */
  protected ownState(): SchedulerStateDict {
    return {};
  }

  protected loadOwnState(_stateDict: SchedulerStateDict): void {}

  /** Resets the step counter and performs the first step (what the constructor does; SequentialLR reuses it). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances one epoch and sets each group's `lr`. Passing `epoch` (deprecated in PyTorch) jumps there and
   * uses the closed form where there is one.
   */
  step(epoch?: number): void {
    this.stepCount += 1;
    let values: number[];
    this.getLrCalledWithinStep = true;
    try {
      if (epoch === undefined) {
        this.lastEpoch += 1;
        values = this.computeLr();
      } else {
        this.lastEpoch = epoch;
        values = this.closedFormLr() ?? this.computeLr();
      }
    } finally {
      this.getLrCalledWithinStep = false;
    }
    const groups = groupsOf(this.optimizer);
    groups.forEach((group, i) => {
      group.lr = values[i];
      if (this.verbose) {
        const prefix = epoch === undefined ? 'Adjusting' : `Epoch ${epochString(epoch)}: adjusting`;
        printLine(`${prefix} learning rate of group ${i} to ${formatExp4(values[i])}.`);
      }
    });
    this.lastLr = groups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** PyTorch's scheduler state_dict: every attribute but the optimizer (and functions). */
  stateDict(): SchedulerStateDict {
    return {
      ...this.ownState(),
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      verbose: this.verbose,
      _step_count: this.stepCount,
      _get_lr_called_within_step: this.getLrCalledWithinStep,
      _last_lr: [...this.lastLr],
    };
  }

  /** Restores a state dict from `stateDict()` or from PyTorch; the next `step()` continues the schedule. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    this.loadOwnState(stateDict);
    if ('base_lrs' in stateDict) this.baseLrs = numList(stateDict, 'base_lrs');
    if ('last_epoch' in stateDict) this.lastEpoch = num(stateDict, 'last_epoch');
    if ('verbose' in stateDict) this.verbose = stateDict.verbose === true;
    if ('_step_count' in stateDict) this.stepCount = num(stateDict, '_step_count');
    if ('_last_lr' in stateDict) this.lastLr = numList(stateDict, '_last_lr');
  }

  protected currentLrs(): number[] {
    return groupsOf(this.optimizer).map((g) => g.lr);
  }
}
