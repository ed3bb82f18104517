// Replays PyTorch 1.13's schedules (fixtures/schedulers.json, from scripts/golden/optim.py): two groups at
// lr 0.1 and 1.0, 40 steps of every scheduler, lr and momentum per group per step, state dicts mid-run.

import { zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { Adam, lrScheduler, type Optimizer, type OptimizerStateDictInput, SGD } from './index.js';
import { toCamelCase } from './python.js';
import {
  type Data,
  decode,
  expectClose,
  expectReprClose,
  expectSameData,
  fixtureJson,
} from './test-utils/fixtures.js';

interface Run {
  name: string;
  optimizer: 'SGD' | 'Adam';
  scheduler: string;
  options: Record<string, Data>;
  lrs: number[][];
  momenta: number[][];
  lastLr: number[][];
  midState: Data;
  midGroups: Data;
  repr: string;
}

const golden = fixtureJson<{ steps: number; mid: number; metrics: number[]; runs: Run[] }>('schedulers.json');

// Schedules are scalar recurrences in float64: they match PyTorch to rounding.
const RTOL = 1e-12;
const ATOL = 1e-15;

/** The lambdas the golden script names. */
const LAMBDAS: Record<string, lrScheduler.LrLambda> = {
  pow095: (e) => 0.95 ** e,
  inverse: (e) => 1.0 / (e + 1),
  warmup10: (e) => Math.min(1.0, (e + 1) / 10),
};

const KEY_NAMES: Record<string, string> = { T_max: 'tMax', eta_min: 'etaMin' };

function camel(options: Record<string, Data>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [KEY_NAMES[k] ?? toCamelCase(k), v]));
}

type AnyScheduler = lrScheduler.LRScheduler | lrScheduler.SequentialLR | lrScheduler.ReduceLROnPlateau;

function makeScheduler(kind: string, optimizer: Optimizer, data: Record<string, Data>): AnyScheduler {
  const o = camel(data);
  switch (kind) {
    case 'StepLR':
      return new lrScheduler.StepLR(optimizer, o as unknown as lrScheduler.StepLROptions);
    case 'MultiStepLR':
      return new lrScheduler.MultiStepLR(optimizer, o as unknown as lrScheduler.MultiStepLROptions);
    case 'ExponentialLR':
      return new lrScheduler.ExponentialLR(optimizer, o as unknown as lrScheduler.ExponentialLROptions);
    case 'CosineAnnealingLR':
      return new lrScheduler.CosineAnnealingLR(
        optimizer,
        o as unknown as lrScheduler.CosineAnnealingLROptions,
      );
    case 'LinearLR':
      return new lrScheduler.LinearLR(optimizer, o as lrScheduler.LinearLROptions);
    case 'LambdaLR': {
      const fn = data.lr_lambda;
      const lrLambda = Array.isArray(fn) ? fn.map((f) => LAMBDAS[f as string]) : LAMBDAS[fn as string];
      return new lrScheduler.LambdaLR(optimizer, { lrLambda });
    }
    case 'OneCycleLR':
      return new lrScheduler.OneCycleLR(optimizer, o as unknown as lrScheduler.OneCycleLROptions);
    case 'ReduceLROnPlateau':
      return new lrScheduler.ReduceLROnPlateau(optimizer, o as lrScheduler.ReduceLROnPlateauOptions);
    case 'SequentialLR': {
      const subs = (data.schedulers as [string, Record<string, Data>][]).map(
        ([k, so]) => makeScheduler(k, optimizer, so) as lrScheduler.LRScheduler,
      );
      return new lrScheduler.SequentialLR(optimizer, {
        schedulers: subs,
        milestones: data.milestones as number[],
      });
    }
    default:
      throw new Error(`unknown scheduler ${kind}`);
  }
}

function makeOptimizer(kind: 'SGD' | 'Adam'): Optimizer {
  const groups = [
    { params: [zeros(2, { requiresGrad: true })] },
    { params: [zeros(3, { requiresGrad: true })], lr: 1.0 },
  ];
  return kind === 'SGD' ? new SGD(groups, { lr: 0.1, momentum: 0.9 }) : new Adam(groups, { lr: 0.1 });
}

function momenta(optimizer: Optimizer): number[] {
  return optimizer.paramGroups.map((g) => {
    const betas = g.betas as readonly number[] | undefined;
    return betas ? betas[0] : (g.momentum as number);
  });
}

function advance(optimizer: Optimizer, scheduler: AnyScheduler, i: number): void {
  optimizer.step();
  if (scheduler instanceof lrScheduler.ReduceLROnPlateau) scheduler.step(golden.metrics[i]);
  else scheduler.step();
}

function expectAt(run: Run, optimizer: Optimizer, scheduler: AnyScheduler, i: number): void {
  const what = `${run.name} after ${i} steps`;
  expectClose(
    optimizer.paramGroups.map((g) => g.lr),
    run.lrs[i],
    RTOL,
    ATOL,
    `${what}: lr`,
  );
  expectClose(momenta(optimizer), run.momenta[i], RTOL, ATOL, `${what}: momentum`);
  const plateau = scheduler instanceof lrScheduler.ReduceLROnPlateau;
  if (!plateau || i > 0)
    expectClose(scheduler.getLastLr(), run.lastLr[plateau ? i - 1 : i], RTOL, ATOL, `${what}: last lr`);
}

describe('lr schedulers match PyTorch 1.13', () => {
  it('covers every scheduler over 30+ steps', () => {
    expect(golden.steps).toBeGreaterThanOrEqual(30);
    expect(new Set(golden.runs.map((r) => r.scheduler))).toEqual(
      new Set([
        'StepLR',
        'MultiStepLR',
        'ExponentialLR',
        'CosineAnnealingLR',
        'LinearLR',
        'LambdaLR',
        'OneCycleLR',
        'SequentialLR',
        'ReduceLROnPlateau',
      ]),
    );
  });

  for (const run of golden.runs) {
    describe(run.name, () => {
      it(`follows PyTorch's rates${run.scheduler === 'OneCycleLR' ? ' and momenta' : ''} for ${golden.steps} steps`, () => {
        const optimizer = makeOptimizer(run.optimizer);
        const scheduler = makeScheduler(run.scheduler, optimizer, run.options);
        expectAt(run, optimizer, scheduler, 0);
        for (let i = 0; i < golden.steps; i++) {
          advance(optimizer, scheduler, i);
          expectAt(run, optimizer, scheduler, i + 1);
        }
        expectReprClose(String(optimizer), run.repr);
      });

      it("writes PyTorch's state dicts mid-run", () => {
        const optimizer = makeOptimizer(run.optimizer);
        const scheduler = makeScheduler(run.scheduler, optimizer, run.options);
        for (let i = 0; i < golden.mid; i++) advance(optimizer, scheduler, i);
        expectSameData(scheduler.stateDict(), run.midState, RTOL, ATOL, 'scheduler');
        expectSameData(optimizer.stateDict().param_groups, run.midGroups, RTOL, ATOL, 'param_groups');
      });

      it('resumes from its own state dicts and continues exactly', () => {
        const optimizer = makeOptimizer(run.optimizer);
        const scheduler = makeScheduler(run.scheduler, optimizer, run.options);
        for (let i = 0; i < golden.mid; i++) advance(optimizer, scheduler, i);
        const savedOptimizer = optimizer.stateDict();
        const savedScheduler = JSON.parse(JSON.stringify(scheduler.stateDict(), replacer), reviver);

        const optimizer2 = makeOptimizer(run.optimizer);
        const scheduler2 = makeScheduler(run.scheduler, optimizer2, run.options);
        optimizer2.loadStateDict(savedOptimizer);
        scheduler2.loadStateDict(savedScheduler);
        expectAt(run, optimizer2, scheduler2, golden.mid);
        for (let i = golden.mid; i < golden.steps; i++) {
          advance(optimizer2, scheduler2, i);
          expectAt(run, optimizer2, scheduler2, i + 1);
        }
      });

      it("resumes from PyTorch's state dicts and continues exactly", () => {
        const optimizer = makeOptimizer(run.optimizer);
        const scheduler = makeScheduler(run.scheduler, optimizer, run.options);
        optimizer.loadStateDict({
          state: {},
          param_groups: decode(run.midGroups) as unknown[],
        } as OptimizerStateDictInput);
        scheduler.loadStateDict(decode(run.midState) as lrScheduler.SchedulerStateDict);
        for (let i = golden.mid; i < golden.steps; i++) {
          advance(optimizer, scheduler, i);
          expectAt(run, optimizer, scheduler, i + 1);
        }
      });
    });
  }
});

// A scheduler state dict is plain data: it survives JSON (with the infinities of ReduceLROnPlateau spelled out).
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function reviver(_key: string, value: unknown): unknown {
  return value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : value;
}
