// The Optimizer base: groups, errors (PyTorch's messages), zeroGrad, step(closure), state dicts.

import { noGrad, type Tensor, tensor, zeros } from '@graft/tensor';
import { describe, expect, it, vi } from 'vitest';
import {
  Adadelta,
  Adagrad,
  Adam,
  AdamW,
  type Optimizer,
  type OptimizerStateDictInput,
  RMSprop,
  SGD,
} from './index.js';

function param(values: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return tensor(values, { dtype, requiresGrad: true });
}

/** Sets `p.grad` directly, as backward() would. */
function withGrad(p: Tensor, values: number[]): Tensor {
  p.grad = tensor(values, { dtype: p.dtype });
  return p;
}

const ALL: [string, (p: Tensor[], o?: Record<string, never>) => Optimizer][] = [
  ['SGD', (p, o) => new SGD(p, { lr: 0.1, ...o })],
  ['Adam', (p, o) => new Adam(p, o)],
  ['AdamW', (p, o) => new AdamW(p, o)],
  ['RMSprop', (p, o) => new RMSprop(p, o)],
  ['Adagrad', (p, o) => new Adagrad(p, o)],
  ['Adadelta', (p, o) => new Adadelta(p, o)],
];

describe('construction errors carry PyTorch messages', () => {
  it('a parameter in two groups', () => {
    const p = param([1]);
    expect(() => new SGD([{ params: [p] }, { params: [param([2]), p] }], { lr: 0.1 })).toThrow(
      'some parameters appear in more than one parameter group',
    );
    const opt = new SGD([p], { lr: 0.1 });
    expect(() => opt.addParamGroup({ params: [p] })).toThrow(
      'some parameters appear in more than one parameter group',
    );
  });

  it('an empty parameter list (array or generator)', () => {
    expect(() => new SGD([], { lr: 0.1 })).toThrow('optimizer got an empty parameter list');
    function* none(): Generator<Tensor> {}
    expect(() => new Adam(none())).toThrow('optimizer got an empty parameter list');
  });

  it('a non-leaf tensor (unless it retains its grad)', () => {
    const leaf = param([1, 2]);
    expect(() => new SGD([leaf.mul(2)], { lr: 0.1 })).toThrow("can't optimize a non-leaf Tensor");
    const kept = leaf.mul(2).retainGrad();
    expect(() => new SGD([kept], { lr: 0.1 })).not.toThrow();
  });

  it('a Set instead of an ordered array', () => {
    const p = param([1]);
    expect(() => new SGD(new Set([p]), { lr: 0.1 })).toThrow(
      'params argument given to the optimizer should be an iterable of Tensors or dicts, but got Set',
    );
    expect(() => new SGD([{ params: new Set([p]) }], { lr: 0.1 })).toThrow(
      'optimizer parameters need to be organized in ordered collections',
    );
  });

  it('a single tensor or a non-iterable', () => {
    expect(() => new SGD(param([1]) as never, { lr: 0.1 })).toThrow(
      'params argument given to the optimizer should be an iterable of Tensors or dicts, but got Tensor',
    );
    expect(() => new SGD(3 as unknown as Tensor[], { lr: 0.1 })).toThrow('but got number');
    expect(() => new SGD([param([1]), 3 as unknown as Tensor], { lr: 0.1 })).toThrow(
      'optimizer can only optimize Tensors, but one of the params is number',
    );
  });

  for (const [name, make] of ALL) {
    it(`${name}: a negative learning rate, as an option or in a group`, () => {
      expect(() => make([param([1])], { lr: -0.1 } as never)).toThrow('Invalid learning rate: -0.1');
      const grouped = name === 'SGD' ? new SGD([param([1])], { lr: 0.1 }) : make([param([1])]);
      expect(() => grouped.addParamGroup({ params: [param([2])], lr: -0.1 })).toThrow(
        'Invalid learning rate: -0.1',
      );
    });

    it(`${name}: an unknown option is named`, () => {
      expect(() => make([param([1])], { nesterow: true } as never)).toThrow(
        `${name}: unknown option 'nesterow'`,
      );
      expect(() => make([param([1])], { weight_decay: 0.1 } as never)).toThrow(
        `${name}: unknown option 'weight_decay'; did you mean 'weightDecay'?`,
      );
      expect(() => make([{ params: [param([1])], weight_decay: 0.1 } as never])).toThrow(
        `${name} parameter group: unknown option 'weight_decay'; did you mean 'weightDecay'?`,
      );
    });
  }

  it('invalid hyperparameters', () => {
    const p = () => [param([1])];
    expect(() => new SGD(p())).toThrow(
      "parameter group didn't specify a value of required optimization parameter lr",
    );
    expect(() => new SGD(p(), { lr: 0.1, momentum: -1 })).toThrow('Invalid momentum value: -1');
    expect(() => new SGD(p(), { lr: 0.1, weightDecay: -1 })).toThrow('Invalid weight_decay value: -1');
    expect(() => new SGD(p(), { lr: 0.1, nesterov: true })).toThrow(
      'Nesterov momentum requires a momentum and zero dampening',
    );
    expect(() => new SGD(p(), { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(
      'Nesterov momentum requires a momentum and zero dampening',
    );
    expect(() => new Adam(p(), { betas: [1, 0.999] })).toThrow('Invalid beta parameter at index 0: 1');
    expect(() => new AdamW(p(), { betas: [0.9, -0.1] })).toThrow('Invalid beta parameter at index 1: -0.1');
    expect(() => new Adam(p(), { eps: -1e-8 })).toThrow('Invalid epsilon value: -1e-08');
    expect(() => new RMSprop(p(), { alpha: -0.5 })).toThrow('Invalid alpha value: -0.5');
    expect(() => new Adagrad(p(), { lrDecay: -1 })).toThrow('Invalid lr_decay value: -1');
    expect(() => new Adagrad(p(), { initialAccumulatorValue: -1 })).toThrow(
      'Invalid initial_accumulator_value value: -1',
    );
    expect(() => new Adadelta(p(), { rho: 1.5 })).toThrow('Invalid rho value: 1.5');
    expect(() => new Adam(p(), { fused: true })).toThrow('fused=true is not supported by graft');
  });

  it('SGD takes its lr from every group when there is no default', () => {
    const opt = new SGD([
      { params: [param([1])], lr: 0.1 },
      { params: [param([2])], lr: 0.2 },
    ]);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.2]);
  });
});

describe('parameter groups', () => {
  it('fill options from the defaults, in PyTorch order, and stay live', () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new SGD([{ params: [a] }, { params: b, lr: 1 }], { lr: 0.1, momentum: 0 });
    expect(Object.keys(opt.paramGroups[0])).toEqual([
      'params',
      'lr',
      'momentum',
      'dampening',
      'weightDecay',
      'nesterov',
      'maximize',
      'foreach',
      'differentiable',
    ]);
    expect(opt.paramGroups[1].params).toEqual([b]);
    withGrad(a, [2]);
    withGrad(b, [2]);
    opt.paramGroups[0].lr = 0.25; // a live group: the next step uses it
    opt.step();
    expect(a.readSync()[0]).toBeCloseTo(0.5, 15);
    expect(b.readSync()[0]).toBeCloseTo(-1, 15);
  });

  it('addParamGroup adds a group with its own options (unfreezing a layer mid-training)', () => {
    const head = param([1, 1]);
    const body = tensor([1, 1], { dtype: 'float64' });
    const opt = new Adagrad([head], { lr: 0.5 });
    body.requiresGrad = true;
    opt.addParamGroup({ params: body, lr: 0.1 });
    expect(opt.paramGroups[1].lr).toBe(0.1);
    expect(opt.paramGroups[1].lrDecay).toBe(0);
    expect(opt.state.get(body)?.sum).toBeDefined(); // Adagrad keeps state for every parameter up front
    withGrad(head, [1, 1]);
    withGrad(body, [1, 1]);
    opt.step();
    // Adagrad's first step: p -= lr * g / (sqrt(g^2) + eps), eps = 1e-10
    for (const v of body.readSync()) expect(v).toBeCloseTo(1 - 0.1 / (1 + 1e-10), 15);
    for (const v of head.readSync()) expect(v).toBeCloseTo(1 - 0.5 / (1 + 1e-10), 15);
  });

  it('warns about a parameter repeated inside one group, as PyTorch does', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const p = param([1]);
    new SGD([p, p], { lr: 0.1 });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('duplicate parameters'));
    warn.mockRestore();
  });
});

describe('step, zeroGrad and frozen parameters', () => {
  it('skips parameters without a gradient, frozen ones included', () => {
    const trained = param([1, 2]);
    const frozen = param([3, 4]);
    frozen.requiresGrad = false;
    const opt = new SGD([trained, frozen], { lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
    const loss = trained.mul(frozen).sum();
    loss.backward();
    expect(frozen.grad).toBeNull();
    opt.step();
    expect([...frozen.readSync()]).toEqual([3, 4]);
    expect(opt.state.has(frozen)).toBe(false);
    // trained: p -= lr * (g + wd * p) with g = frozen's values
    expect(trained.readSync()[0]).toBeCloseTo(1 - 0.1 * (3 + 0.1 * 1), 14);
  });

  it('zeroGrad drops gradients by default and zero-fills them with setToNone: false', () => {
    const p = withGrad(param([1, 2]), [5, 6]);
    const opt = new SGD([p], { lr: 0.1 });
    const grad = p.grad!;
    opt.zeroGrad({ setToNone: false });
    expect(p.grad).toBe(grad);
    expect([...grad.readSync()]).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  // Every optimizer reads gradients without handing them out, so zeroGrad frees them at once (as
  // PyTorch's reference counts would), instead of leaving a step's gradients to the garbage collector;
  // a gradient the user read through .grad stays valid.
  for (const [name, make] of ALL) {
    it(`${name}: step() keeps gradients private, and zeroGrad() frees them unless the user read them`, () => {
      const a = param([1, 2], 'float32');
      const b = param([3, 4], 'float32');
      const opt = make([a, b]);
      for (let i = 0; i < 2; i++) {
        opt.zeroGrad();
        a.mul(b).mul(a).sum().backward();
        opt.step();
      }
      const kept = b.grad!;
      const freed = vi.spyOn(a._peekGrad()!._ref.storage, 'dispose');
      const left = vi.spyOn(kept._ref.storage, 'dispose');
      opt.zeroGrad();
      expect(freed).toHaveBeenCalledTimes(1);
      expect(left).not.toHaveBeenCalled();
      expect(a._peekGrad()).toBeNull();
      expect(b._peekGrad()).toBeNull();
      expect(kept.readSync().length).toBe(2);
    });
  }

  it('step(closure) evaluates the loss with grad enabled and returns it', () => {
    const p = param([3]);
    const opt = new SGD([p], { lr: 0.25 });
    const loss = noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = p.mul(p).sum();
        l.backward();
        return l;
      }),
    );
    expect(loss?.itemSync()).toBe(9);
    expect(p.itemSync()).toBe(3 - 0.25 * 6);
    expect(opt.step()).toBeUndefined();
  });

  it('refuses an async closure instead of stepping before it resolves', () => {
    const p = withGrad(param([1]), [1]);
    const opt = new SGD([p], { lr: 0.1 });
    expect(() => opt.step(async () => 1)).toThrow('the closure returned a Promise');
  });

  it('update ops leave no graph on the parameters', () => {
    const p = param([1, 2]);
    const opt = new Adam([p], { lr: 0.1 });
    p.mul(p).sum().backward();
    opt.step();
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
  });
});

describe('state dicts', () => {
  function trained(): { opt: Adam; a: Tensor; b: Tensor } {
    const a = param([1, 2], 'float32');
    const b = param([3], 'float32');
    const opt = new Adam([{ params: [a] }, { params: [b], lr: 0.01 }], { amsgrad: true });
    for (let i = 0; i < 2; i++) {
      opt.zeroGrad();
      a.mul(b).sum().backward();
      opt.step();
    }
    return { opt, a, b };
  }

  it("has PyTorch's layout: integer-string keys, snake_case options, params as positions", () => {
    const { opt, a } = trained();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '1']);
    expect(Object.keys(sd.state['0'])).toEqual(['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    const step = sd.state['0'].step as Tensor;
    expect([step.dtype, step.shape, step.itemSync()]).toEqual(['float32', [], 2]);
    // the live state tensors, as torch's state_dict() returns them
    expect(sd.state['0'].exp_avg).toBe(opt.state.get(a)?.exp_avg);
    expect(sd.param_groups).toEqual([
      {
        lr: 0.001,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weight_decay: 0,
        amsgrad: true,
        maximize: false,
        foreach: null,
        capturable: false,
        differentiable: false,
        fused: false,
        params: [0],
      },
      expect.objectContaining({ lr: 0.01, params: [1] }),
    ]);
    expect(Object.isFrozen(sd.param_groups[0].betas)).toBe(true); // a tuple for the checkpoint writer
  });

  it('loads what a checkpoint reader returns: state as a Map with number keys, tuples frozen', () => {
    const { opt } = trained();
    const sd = opt.stateDict();
    const fresh = new Adam([
      { params: [param([1, 2], 'float32')] },
      { params: [param([3], 'float32')], lr: 5 },
    ]);
    fresh.loadStateDict({
      state: new Map(Object.entries(sd.state).map(([k, v]) => [Number(k), v])),
      param_groups: sd.param_groups.map((g) => ({ ...g, betas: Object.freeze([0.8, 0.9]) })),
    });
    expect(fresh.paramGroups[1].lr).toBe(0.01);
    expect(fresh.paramGroups[0].betas).toEqual([0.8, 0.9]);
    expect(fresh.paramGroups[0].amsgrad).toBe(true);
    expect(fresh.state.size).toBe(2);
  });

  it('copies loaded tensors and casts them to the parameter dtype, except step', () => {
    const { opt } = trained();
    const sd = opt.stateDict();
    const a64 = param([1, 2]);
    const b64 = param([3]);
    const fresh = new Adam([{ params: [a64] }, { params: [b64] }]);
    fresh.loadStateDict(sd);
    const loaded = fresh.state.get(a64)!;
    expect((loaded.exp_avg as Tensor).dtype).toBe('float64');
    expect((loaded.step as Tensor).dtype).toBe('float32');
    expect(loaded.step).not.toBe(sd.state['0'].step);
    const before = (loaded.exp_avg as Tensor).readSync()[0];
    noGrad(() => (sd.state['0'].exp_avg as Tensor).add_(100));
    expect((loaded.exp_avg as Tensor).readSync()[0]).toBe(before);
  });

  it('upgrades a numeric step from an old checkpoint to a tensor', () => {
    const p = param([1]);
    const opt = new AdamW([p]);
    opt.loadStateDict({
      state: {
        0: {
          step: 3,
          exp_avg: tensor([0.1], { dtype: 'float64' }),
          exp_avg_sq: tensor([0.01], { dtype: 'float64' }),
        },
      },
      param_groups: [
        { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, params: [0] },
      ],
    });
    const s = opt.state.get(p)!;
    expect((s.step as Tensor).itemSync()).toBe(3);
    // keys missing from an older checkpoint are filled from the defaults
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.5, maximize: false, foreach: null, capturable: false });
    withGrad(p, [1]);
    opt.step();
    expect((s.step as Tensor).itemSync()).toBe(4);
  });

  it('refuses a different group count or group size with PyTorch messages', () => {
    const { opt } = trained();
    const sd = opt.stateDict();
    const one = new Adam([param([1, 2], 'float32'), param([3], 'float32')]);
    expect(() => one.loadStateDict(sd)).toThrow(
      'loaded state dict has a different number of parameter groups',
    );
    const sizes = new Adam([{ params: [param([1])] }, { params: [param([1]), param([2])] }]);
    expect(() => sizes.loadStateDict(sd)).toThrow(
      "loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
    );
    expect(() => sizes.loadStateDict({} as OptimizerStateDictInput)).toThrow(
      "expected an object with 'state' and 'param_groups'",
    );
  });

  it('keeps the paramGroups array identity across loadStateDict', () => {
    const { opt } = trained();
    const groups = opt.paramGroups;
    opt.loadStateDict(opt.stateDict());
    expect(opt.paramGroups).toBe(groups);
  });
});

describe('printing', () => {
  it('console.log shows the repr', async () => {
    const { inspect } = await import('node:util');
    const opt = new SGD([zeros(1, { requiresGrad: true })], { lr: 0.01, momentum: 0.9 });
    expect(inspect(opt)).toBe(String(opt));
    expect(String(opt)).toBe(
      'SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n    lr: 0.01\n' +
        '    maximize: False\n    momentum: 0.9\n    nesterov: False\n    weight_decay: 0\n)',
    );
  });
});
