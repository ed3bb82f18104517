// The optimizer (one group, or body + head with --head-lr) and the per-step learning-rate schedule.

import type { Module, Parameter } from '@graft/nn';
import { Adam, AdamW, lrScheduler, type Optimizer, SGD } from '@graft/optim';
import { CliError } from './errors.js';
import type { FinetuneOptions } from './options.js';

export type Scheduler = lrScheduler.Scheduler & { step(): void };

export function buildOptimizer(model: Module, headPrefix: string, o: FinetuneOptions): Optimizer {
  const trainable = [...model.namedParameters()].filter(([, p]) => p.requiresGrad);
  if (trainable.length === 0) throw new CliError('--freeze left no trainable parameters');
  const head: Parameter[] = trainable.filter(([n]) => n.startsWith(headPrefix)).map(([, p]) => p);
  const body: Parameter[] = trainable.filter(([n]) => !n.startsWith(headPrefix)).map(([, p]) => p);
  // With --head-lr the head is a second parameter group; an empty body group is left out.
  const groups =
    o.headLr === null
      ? [{ params: [...body, ...head] }]
      : [...(body.length ? [{ params: body }] : []), { params: head, lr: o.headLr }];
  switch (o.optimizer) {
    case 'sgd':
      return new SGD(groups, {
        lr: o.lr,
        momentum: o.momentum,
        nesterov: o.nesterov,
        weightDecay: o.weightDecay,
      });
    case 'adam':
      return new Adam(groups, { lr: o.lr, weightDecay: o.weightDecay });
    case 'adamw':
      return new AdamW(groups, { lr: o.lr, weightDecay: o.weightDecay });
  }
}

/** A schedule stepped once per batch; warm-up is linear from 1% over `warmup` epochs. */
export function buildScheduler(opt: Optimizer, o: FinetuneOptions, stepsPerEpoch: number): Scheduler | null {
  const total = o.epochs * stepsPerEpoch;
  const warm = Math.min(Math.round(o.warmup * stepsPerEpoch), total - 1);
  let main: lrScheduler.LRScheduler;
  switch (o.scheduler) {
    case 'none':
      if (warm > 0) throw new CliError('--warmup needs a --scheduler (step, cosine)');
      return null;
    case 'onecycle':
      if (warm > 0)
        throw new CliError('--warmup does not apply to --scheduler onecycle (it warms up by itself)');
      return new lrScheduler.OneCycleLR(opt, { maxLr: opt.paramGroups.map((g) => g.lr), totalSteps: total });
    case 'step':
      main = new lrScheduler.StepLR(opt, { stepSize: o.stepSize * stepsPerEpoch, gamma: o.gamma });
      break;
    case 'cosine':
      main = new lrScheduler.CosineAnnealingLR(opt, { tMax: Math.max(total - warm, 1) });
      break;
  }
  if (warm === 0) return main;
  const warmup = new lrScheduler.LinearLR(opt, { startFactor: 0.01, endFactor: 1, totalIters: warm });
  return new lrScheduler.SequentialLR(opt, { schedulers: [warmup, main], milestones: [warm] });
}
