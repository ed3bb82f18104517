// Scheduler behaviour beyond the golden trajectories: errors with PyTorch's messages, verbose output,
// per-group ratios, and the README's freeze + 10x head + StepLR recipe.

import { linear, manualSeed, mseLoss, randn, tensor, zeros } from '@graft/tensor';
import { describe, expect, it, vi } from 'vitest';
import { Adagrad, Adam, lrScheduler, SGD } from './index.js';

function sgd(lrs = [0.1, 1.0]): SGD {
  return new SGD(
    lrs.map((lr) => ({ params: [zeros(2, { requiresGrad: true })], lr })),
    { lr: lrs[0], momentum: 0.9 },
  );
}

describe('scheduler errors carry PyTorch messages', () => {
  it('needs an Optimizer', () => {
    expect(() => new lrScheduler.StepLR({} as SGD, { stepSize: 1 })).toThrow('Object is not an Optimizer');
    expect(() => new lrScheduler.ReduceLROnPlateau(null as unknown as SGD)).toThrow(
      'null is not an Optimizer',
    );
  });

  it('names an unknown option', () => {
    expect(() => new lrScheduler.StepLR(sgd(), { step_size: 2 } as never)).toThrow(
      "StepLR: unknown option 'step_size'; did you mean 'stepSize'?",
    );
    expect(() => new lrScheduler.ReduceLROnPlateau(sgd(), { min_lr: 0.1 } as never)).toThrow(
      "ReduceLROnPlateau: unknown option 'min_lr'; did you mean 'minLr'?",
    );
  });

  it('resuming with lastEpoch needs initial_lr in every group', () => {
    expect(() => new lrScheduler.StepLR(sgd(), { stepSize: 2, lastEpoch: 3 })).toThrow(
      "param 'initial_lr' is not specified in param_groups[0] when resuming an optimizer",
    );
  });

  it('validates its own options', () => {
    expect(() => new lrScheduler.LinearLR(sgd(), { startFactor: 2 })).toThrow(
      'Starting multiplicative factor expected to be between 0 and 1.',
    );
    expect(() => new lrScheduler.LambdaLR(sgd(), { lrLambda: [() => 1] })).toThrow(
      'Expected 2 lr_lambdas, but got 1',
    );
    expect(() => new lrScheduler.OneCycleLR(sgd(), { maxLr: 1 })).toThrow(
      'You must define either total_steps OR (epochs AND steps_per_epoch)',
    );
    expect(() => new lrScheduler.OneCycleLR(sgd(), { maxLr: 1, totalSteps: 2.5 })).toThrow(
      'Expected positive integer total_steps, but got 2.5',
    );
    expect(() => new lrScheduler.OneCycleLR(sgd(), { maxLr: [1], totalSteps: 10 })).toThrow(
      'expected 2 values for max_lr, got 1',
    );
    expect(
      () =>
        new lrScheduler.OneCycleLR(new Adagrad([zeros(1, { requiresGrad: true })]), {
          maxLr: 1,
          totalSteps: 3,
        }),
    ).toThrow('optimizer must support momentum with `cycle_momentum` option enabled');
    expect(() => new lrScheduler.ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow('Factor should be < 1.0.');
    expect(() => new lrScheduler.ReduceLROnPlateau(sgd(), { mode: 'up' as 'min' })).toThrow(
      'mode up is unknown!',
    );
    expect(() => new lrScheduler.ReduceLROnPlateau(sgd(), { minLr: [0.1] })).toThrow(
      'expected 2 min_lrs, got 1',
    );
  });

  it('OneCycleLR refuses to step past totalSteps', () => {
    const opt = sgd([0.1]);
    const s = new lrScheduler.OneCycleLR(opt, { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    expect(() => s.step()).toThrow('Tried to step 5 times. The specified number of total steps is 3');
  });

  it('SequentialLR checks its schedulers and milestones', () => {
    const opt = sgd();
    const other = sgd();
    const a = new lrScheduler.LinearLR(opt);
    const b = new lrScheduler.ExponentialLR(other, { gamma: 0.9 });
    expect(() => new lrScheduler.SequentialLR(opt, { schedulers: [a, b], milestones: [3] })).toThrow(
      'Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at index 1',
    );
    const c = new lrScheduler.ExponentialLR(opt, { gamma: 0.9 });
    expect(() => new lrScheduler.SequentialLR(opt, { schedulers: [a, c], milestones: [3, 5] })).toThrow(
      'Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points',
    );
  });
});

describe('scheduler behaviour', () => {
  it('keeps a 1x backbone and a 10x head in ratio', () => {
    const opt = sgd([0.01, 0.1]);
    const s = new lrScheduler.CosineAnnealingLR(opt, { tMax: 10, etaMin: 0 });
    for (let i = 0; i < 7; i++) {
      opt.step();
      s.step();
      const [body, head] = s.getLastLr();
      expect(head / body).toBeCloseTo(10, 12);
    }
  });

  it('writes initial_lr into the groups and resumes from lastEpoch', () => {
    const opt = sgd([0.1]);
    new lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 });
    expect(opt.paramGroups[0].initialLr).toBe(0.1);
    const resumed = new lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5, lastEpoch: 3 });
    expect(resumed.lastEpoch).toBe(4);
    expect(resumed.getLastLr()).toEqual([0.05]); // PyTorch's chainable form: epoch 4 decays the current lr
  });

  it('prints what PyTorch prints with verbose', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const opt = sgd([0.1]);
    const s = new lrScheduler.StepLR(opt, { stepSize: 1, verbose: true });
    s.step();
    const plateau = new lrScheduler.ReduceLROnPlateau(opt, { patience: 0, verbose: true });
    plateau.step(1.0);
    plateau.step(2.0);
    expect(log.mock.calls.map((c) => c[0])).toEqual([
      'Adjusting learning rate of group 0 to 1.0000e-01.',
      'Adjusting learning rate of group 0 to 1.0000e-02.',
      'Epoch 00002: reducing learning rate of group 0 to 1.0000e-03.',
    ]);
    log.mockRestore();
  });

  it('ReduceLROnPlateau reads a CPU tensor metric and reports rates before its first step', () => {
    const opt = sgd([0.1]);
    const s = new lrScheduler.ReduceLROnPlateau(opt, { patience: 0 });
    expect(s.getLastLr()).toEqual([0.1]);
    expect('_last_lr' in s.stateDict()).toBe(false); // as in torch 1.13, only after a step
    s.step(tensor(1.0));
    s.step(tensor([2.0]));
    expect(s.getLastLr()[0]).toBeCloseTo(0.01, 15);
  });

  it('OneCycleLR cycles Adam beta1 and keeps beta2', () => {
    const opt = new Adam([zeros(1, { requiresGrad: true })], { betas: [0.9, 0.99] });
    const s = new lrScheduler.OneCycleLR(opt, { maxLr: 0.01, totalSteps: 10 });
    expect(opt.paramGroups[0].betas).toEqual([0.95, 0.99]);
    s.step();
    expect((opt.paramGroups[0].betas as number[])[1]).toBe(0.99);
    expect((opt.paramGroups[0].betas as number[])[0]).toBeLessThan(0.95);
  });
});

describe('the README recipe: freeze, two groups with a 10x head, StepLR', () => {
  it('trains the head and leaves frozen weights alone', () => {
    manualSeed(0);
    const x = randn(16, 4);
    const y = randn(16, 2);
    const body = { weight: randn(3, 4, { requiresGrad: true }), bias: zeros(3, { requiresGrad: true }) };
    const head = { weight: randn(2, 3, { requiresGrad: true }), bias: zeros(2, { requiresGrad: true }) };
    body.bias.requiresGrad = false; // freeze
    const before = body.bias.readSync().slice();
    const opt = new SGD(
      [{ params: [body.weight, body.bias] }, { params: [head.weight, head.bias], lr: 1e-2 }],
      { lr: 1e-3, momentum: 0.9 },
    );
    const scheduler = new lrScheduler.StepLR(opt, { stepSize: 5, gamma: 0.1 });
    const losses: number[] = [];
    for (let epoch = 0; epoch < 10; epoch++) {
      opt.zeroGrad();
      const loss = mseLoss(linear(linear(x, body.weight, body.bias).relu(), head.weight, head.bias), y);
      loss.backward();
      opt.step();
      scheduler.step();
      losses.push(loss.itemSync());
    }
    expect(losses[9]).toBeLessThan(losses[0]);
    expect(body.bias.readSync()).toEqual(before);
    expect(scheduler.getLastLr().map((v) => Number(v.toPrecision(12)))).toEqual([1e-5, 1e-4]);
  });
});
