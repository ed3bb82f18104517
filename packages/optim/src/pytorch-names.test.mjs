// Plain JavaScript, as a user without a compiler writes it: option slips throw, and PyTorch's snake_case
// names on a live parameter group change what step() uses. Expected text and values were printed by
// torch 1.13 (/usr/bin/python3) for the same program, written in Python.
import { Adam, lrScheduler, SGD } from '@graft/optim';
import { tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';

const param = (values) => tensor(values, { dtype: 'float32', requiresGrad: true });

// p = Parameter([1., 2.]); opt = SGD([p], lr=0.1, momentum=0.9); opt.param_groups[0]['weight_decay'] = 0.5
// print(opt)
const SGD_REPR =
  'SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n    lr: 0.1\n' +
  '    maximize: False\n    momentum: 0.9\n    nesterov: False\n    weight_decay: 0.5\n)';
// opt.state_dict()['param_groups']
const SGD_GROUPS = [
  {
    lr: 0.1,
    momentum: 0.9,
    dampening: 0,
    weight_decay: 0.5,
    nesterov: false,
    maximize: false,
    foreach: null,
    differentiable: false,
    params: [0],
  },
];
// p.grad = [1., 1.]; opt.step(); p.tolist(), state[0]['momentum_buffer'].tolist()
const SGD_STEPPED = [0.8500000238418579, 1.7999999523162842];
const SGD_BUFFER = [1.5, 2.0];

function sgdWith(write) {
  const p = param([1, 2]);
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  write(opt);
  return { p, opt };
}

describe('a live parameter group takes PyTorch names', () => {
  const writes = {
    "opt.param_groups[0]['weight_decay'] = 0.5": (opt) => {
      opt.param_groups[0].weight_decay = 0.5;
    },
    'opt.paramGroups[0].weight_decay = 0.5': (opt) => {
      opt.paramGroups[0].weight_decay = 0.5;
    },
    'opt.paramGroups[0].weightDecay = 0.5': (opt) => {
      opt.paramGroups[0].weightDecay = 0.5;
    },
  };
  for (const [name, write] of Object.entries(writes)) {
    it(`${name}: String(opt), stateDict() and step() agree with PyTorch`, () => {
      const { p, opt } = sgdWith(write);
      expect(String(opt)).toBe(SGD_REPR);
      expect(opt.stateDict().param_groups).toEqual(SGD_GROUPS);
      expect(opt.state_dict().param_groups).toEqual(SGD_GROUPS);
      p.grad = tensor([1, 1], { dtype: 'float32' });
      opt.step();
      expect(Array.from(p.readSync())).toEqual(SGD_STEPPED);
      expect(Array.from(opt.stateDict().state['0'].momentum_buffer.readSync())).toEqual(SGD_BUFFER);
    });
  }

  it('keeps one key per option: the snake_case name reads and tests the camelCase one', () => {
    const { opt } = sgdWith((o) => {
      o.paramGroups[0].weight_decay = 0.5;
    });
    const group = opt.paramGroups[0];
    expect(Object.keys(group)).toEqual([
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
    expect(group.weightDecay).toBe(0.5);
    expect(group.weight_decay).toBe(0.5);
    expect('weight_decay' in group).toBe(true);
    expect('initial_lr' in group).toBe(false);
    expect({ ...group }.weight_decay).toBeUndefined();
  });

  it('refuses a key the group does not have, naming the closest', () => {
    const group = new SGD([param([1])], { lr: 0.1 }).paramGroups[0];
    expect(() => {
      group.weight_decy = 0.5;
    }).toThrow(
      new TypeError("SGD.paramGroups[0]: unknown option 'weight_decy'; did you mean 'weightDecay'?"),
    );
    expect(() => {
      group.momentun = 0.9;
    }).toThrow("SGD.paramGroups[0]: unknown option 'momentun'; did you mean 'momentum'?");
    expect(() => {
      group.learning_rate = 0.1;
    }).toThrow(
      "SGD.paramGroups[0]: unknown option 'learning_rate'; valid options are params, lr, momentum, dampening, " +
        'weightDecay, nesterov, maximize, foreach, differentiable, initialLr, maxLr, minLr, maxMomentum, baseMomentum',
    );
    expect(Object.keys(group)).not.toContain('weight_decy');
    expect(() => {
      delete group.lr;
    }).toThrow("SGD.paramGroups[0]: cannot delete 'lr': step() reads it");
  });

  it("schedulers' initial_lr is one key, printed and saved as PyTorch does", () => {
    // q = Parameter([1., 2.]); opt = Adam([q], lr=0.01); StepLR(opt, step_size=2, gamma=0.5)
    // opt.param_groups[0]['lr'] = 0.02; print(opt); opt.state_dict()['param_groups']
    const opt = new Adam([param([1, 2])], { lr: 0.01 });
    new lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 });
    opt.param_groups[0].lr = 0.02;
    expect(opt.paramGroups[0].initial_lr).toBe(0.01);
    expect(String(opt)).toBe(
      'Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n    capturable: False\n' +
        '    differentiable: False\n    eps: 1e-08\n    foreach: None\n    fused: False\n    initial_lr: 0.01\n' +
        '    lr: 0.02\n    maximize: False\n    weight_decay: 0\n)',
    );
    expect(opt.stateDict().param_groups).toEqual([
      {
        lr: 0.02,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weight_decay: 0,
        amsgrad: false,
        maximize: false,
        foreach: null,
        capturable: false,
        differentiable: false,
        fused: false,
        initial_lr: 0.01,
        params: [0],
      },
    ]);
  });

  it('a group loaded from a PyTorch checkpoint keeps its extra keys, and they stay writable', () => {
    const opt = new SGD([param([1])], { lr: 0.1 });
    const sd = opt.stateDict();
    sd.param_groups[0].name = 'head';
    sd.param_groups[0].initial_lr = 0.1;
    opt.loadStateDict(sd);
    expect(opt.paramGroups[0].name).toBe('head');
    opt.paramGroups[0].name = 'body';
    opt.paramGroups[0].initial_lr = 0.2;
    expect(opt.stateDict().param_groups[0]).toMatchObject({ name: 'body', initial_lr: 0.2 });
    expect(() => {
      opt.paramGroups[0].nam = 'x';
    }).toThrow("SGD.paramGroups[0]: unknown option 'nam'; did you mean 'name'?");
  });
});

describe('options objects refuse unknown keys', () => {
  it('optimizers name the camelCase option', () => {
    expect(() => new SGD([param([1])], { lr: 0.1, weight_decay: 1e-4 })).toThrow(
      "SGD: unknown option 'weight_decay'; did you mean 'weightDecay'?",
    );
    expect(() => new Adam([param([1])], { beta: [0.9, 0.99] })).toThrow(
      "Adam: unknown option 'beta'; did you mean 'betas'?",
    );
    // PyTorch keeps a group's label; graft allows `name` and refuses other unknown keys.
    const named = new SGD([{ params: [param([1])], name: 'head' }], { lr: 0.1 });
    expect(named.stateDict().param_groups[0].name).toBe('head');
    expect(() => new SGD([{ params: [param([1])], learning_rate: 0.1 }], { lr: 0.1 })).toThrow(
      "SGD parameter group: unknown option 'learning_rate'; valid options are params, lr, momentum",
    );
  });

  it('addParamGroup and zeroGrad check their options', () => {
    const opt = new SGD([param([1])], { lr: 0.1 });
    expect(() => opt.add_param_group({ params: [param([2])], lr_: 0.1 })).toThrow(
      "SGD parameter group: unknown option 'lr_'; did you mean 'lr'?",
    );
    expect(() => opt.zeroGrad({ set_to_none: false })).toThrow(
      "SGD.zeroGrad: unknown option 'set_to_none'; did you mean 'setToNone'?",
    );
    const p = opt.paramGroups[0].params[0];
    p.grad = tensor([3], { dtype: 'float32' });
    opt.zero_grad({ setToNone: false });
    expect(Array.from(p.grad.readSync())).toEqual([0]);
  });

  it('schedulers name the camelCase option (PyTorch writes T_max and eta_min)', () => {
    const opt = () => new SGD([param([1])], { lr: 0.1 });
    expect(() => new lrScheduler.CosineAnnealingLR(opt(), { T_max: 10 })).toThrow(
      "CosineAnnealingLR: unknown option 'T_max'; did you mean 'tMax'?",
    );
    expect(() => new lrScheduler.CosineAnnealingLR(opt(), { tMax: 10, eta_min: 0 })).toThrow(
      "CosineAnnealingLR: unknown option 'eta_min'; did you mean 'etaMin'?",
    );
    expect(() => new lrScheduler.StepLR(opt(), { stepSize: 2, last_epoch: -1 })).toThrow(
      "StepLR: unknown option 'last_epoch'; did you mean 'lastEpoch'?",
    );
    expect(() => new lrScheduler.OneCycleLR(opt(), { max_lr: 0.1, totalSteps: 10 })).toThrow(
      "OneCycleLR: unknown option 'max_lr'; did you mean 'maxLr'?",
    );
    expect(() => new lrScheduler.ReduceLROnPlateau(opt(), { patiense: 3 })).toThrow(
      "ReduceLROnPlateau: unknown option 'patiense'; did you mean 'patience'?",
    );
    expect(() => new lrScheduler.StepLR(opt(), 30)).toThrow('StepLR: expected an options object, got number');
  });
});
