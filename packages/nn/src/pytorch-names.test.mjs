// Plain JavaScript, as a user without a compiler writes it: option slips throw with a did-you-mean, and
// PyTorch's snake_case names on a Module alias the camelCase ones or throw naming them. Expected names,
// keys and text were printed by torch 1.13 (/usr/bin/python3) for the same model, written in Python.
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  CrossEntropyLoss,
  Dropout,
  F,
  Flatten,
  GELU,
  init,
  LayerNorm,
  Linear,
  MaxPool2d,
  Module,
  Parameter,
  ReLU,
  Sequential,
  Softmax,
} from '@graft/nn';
import { Generator, randn, tensor, zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';

// nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
//               nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(4, 2))
const net = () =>
  new Sequential(
    new Conv2d(3, 4, 3, { padding: 1, bias: false }),
    new BatchNorm2d(4),
    new ReLU({ inplace: true }),
    new AdaptiveAvgPool2d([1, 1]),
    new Flatten(),
    new Linear(4, 2),
  );
const PARAMETER_NAMES = ['0.weight', '1.weight', '1.bias', '5.weight', '5.bias'];
const STATE_DICT_KEYS = [
  '0.weight',
  '1.weight',
  '1.bias',
  '1.running_mean',
  '1.running_var',
  '1.num_batches_tracked',
  '5.weight',
  '5.bias',
];
const REPR =
  'Sequential(\n  (0): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)\n' +
  '  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n' +
  '  (2): ReLU(inplace=True)\n  (3): AdaptiveAvgPool2d(output_size=(1, 1))\n' +
  '  (4): Flatten(start_dim=1, end_dim=-1)\n  (5): Linear(in_features=4, out_features=2, bias=True)\n)';

describe('PyTorch names on a Module', () => {
  it('snake_case methods call the camelCase ones', () => {
    const m = net();
    expect([...m.named_parameters()].map(([n]) => n)).toEqual(PARAMETER_NAMES);
    expect(Object.keys(m.state_dict())).toEqual(STATE_DICT_KEYS);
    expect('state_dict' in m).toBe(true);
    // m.load_state_dict({'5.weight': torch.zeros(2, 4)}, strict=False)
    const result = m.load_state_dict({ '5.weight': zeros(2, 4) }, { strict: false });
    expect(result.missingKeys).toEqual([
      '0.weight',
      '1.weight',
      '1.bias',
      '1.running_mean',
      '1.running_var',
      '5.bias',
    ]);
    expect(result.unexpectedKeys).toEqual([]);
    expect(Array.from(m[5].weight.readSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    m[5].weight.grad = zeros(2, 4);
    m.zero_grad();
    expect(m[5].weight.grad).toBe(null);
  });

  it('model.requires_grad = false throws (it freezes nothing, in PyTorch too); requires_grad_(false) freezes', () => {
    const m = net();
    expect(() => {
      m.requires_grad = false;
    }).toThrow(
      new TypeError(
        'Sequential.requires_grad: a Module has no requires_grad flag; call requiresGrad_(false) to freeze its parameters',
      ),
    );
    expect(() => {
      m.requiresGrad = false;
    }).toThrow('Sequential.requiresGrad: a Module has no requiresGrad flag');
    // PyTorch after `m.requires_grad = False`: [True] * 5; after `m.requires_grad_(False)`: [False] * 5
    expect([...m.parameters()].map((p) => p.requiresGrad)).toEqual([true, true, true, true, true]);
    expect(m.requires_grad_(false)).toBe(m);
    expect([...m.parameters()].map((p) => p.requires_grad)).toEqual([false, false, false, false, false]);
  });

  it('snake_case attributes read the camelCase ones; writing them throws naming it', () => {
    const m = net();
    // m[0].in_channels, m[0].kernel_size, m[5].in_features -> 3 (3, 3) 4
    expect(m[0].in_channels).toBe(3);
    expect(m[0].kernel_size).toEqual([3, 3]);
    expect(m[5].in_features).toBe(4);
    expect(() => {
      m[0].kernel_size = 5;
    }).toThrow(
      "Conv2d.kernel_size: PyTorch's name for 'kernelSize'; assign kernelSize instead (this would add a property nothing reads)",
    );
    expect(() => {
      m[1].track_running_stats = false;
    }).toThrow("BatchNorm2d.track_running_stats: PyTorch's name for 'trackRunningStats'");
    expect(() => {
      m.zero_grad = () => {};
    }).toThrow("Sequential.zero_grad: PyTorch's name for 'zeroGrad'");
    expect(Object.keys(m[0])).not.toContain('kernel_size');
  });

  it('members still register by assignment, snake_case names included, and print as PyTorch does', () => {
    const m = net();
    expect(String(m)).toBe(REPR);
    expect(m).toBeInstanceOf(Module);
    expect(m[1].running_mean).toBe(m[1]._buffers.get('running_mean'));
    m[1].running_mean = zeros(4);
    expect(Object.keys(m.stateDict())).toEqual(STATE_DICT_KEYS);

    class Net extends Module {
      constructor() {
        super();
        this.fc = new Linear(2, 2);
        this.fc_out = new Linear(2, 1);
        this.hidden_size = 2; // a new snake_case attribute with no camelCase twin is the user's own
        this.scale_buffer = tensor([1]); // a plain tensor attribute, as in PyTorch
      }
    }
    const n = new Net();
    expect([...n.named_parameters()].map(([k]) => k)).toEqual([
      'fc.weight',
      'fc.bias',
      'fc_out.weight',
      'fc_out.bias',
    ]);
    expect(n.hidden_size).toBe(2);
    n.fc = new Linear(2, 3);
    expect(n.fc.outFeatures).toBe(3);
  });

  it('Module methods check their options', () => {
    const m = net();
    expect(() => m.loadStateDict(m.stateDict(), { strict: false, assign: true })).toThrow(
      "Module.loadStateDict: unknown option 'assign'; valid options are strict",
    );
    expect(() => m.stateDict({ keep_vars: true })).toThrow(
      "Module.stateDict: unknown option 'keep_vars'; did you mean 'keepVars'?",
    );
    expect(() => [...m.namedParameters({ remove_duplicate: false })]).toThrow(
      "Module.namedParameters: unknown option 'remove_duplicate'; did you mean 'removeDuplicate'?",
    );
    expect(() => m.zeroGrad({ set_to_none: false })).toThrow(
      "Module.zeroGrad: unknown option 'set_to_none'; did you mean 'setToNone'?",
    );
    expect([...m.parameters({ recurse: false })]).toEqual([...m.parameters(false)]);
    expect([...m[0].parameters({ recurse: false })].length).toBe(1);
    expect(m.to({ device: 'cpu' })).toBe(m);
    expect(() => m.to({ devise: 'cpu' })).toThrow(
      "Module.to: unknown option 'devise'; did you mean 'device'?",
    );
    expect(() => m.to('float64')).toThrow("Module.to: expected a device, 'cpu' or 'webgpu', got 'float64'");
  });

  it('Parameter takes requiresGrad as a flag or an option', () => {
    expect(new Parameter(zeros(2), { requiresGrad: false }).requiresGrad).toBe(false);
    expect(new Parameter(zeros(2), false).requiresGrad).toBe(false);
    expect(new Parameter(zeros(2)).requiresGrad).toBe(true);
    expect(() => new Parameter(zeros(2), { requires_grad: false })).toThrow(
      "Parameter: unknown option 'requires_grad'; did you mean 'requiresGrad'?",
    );
  });
});

describe('layer options refuse unknown keys', () => {
  const cases = [
    [
      () => new Conv2d(3, 4, 3, { padding_mode: 'zeros' }),
      "Conv2d: unknown option 'padding_mode'; did you mean 'paddingMode'?",
    ],
    [() => new Conv2d(3, 4, 3, 1, 1, { bais: false }), "Conv2d: unknown option 'bais'; did you mean 'bias'?"],
    [
      () => new Linear(2, 3, { bias: false, device: 'cpu' }),
      "Linear: unknown option 'device'; valid options are bias",
    ],
    [
      () => new BatchNorm2d(4, { track_running_stats: false }),
      "BatchNorm2d: unknown option 'track_running_stats'; did you mean 'trackRunningStats'?",
    ],
    [
      () => new LayerNorm(4, { elementwise_affine: false }),
      "LayerNorm: unknown option 'elementwise_affine'; did you mean 'elementwiseAffine'?",
    ],
    [
      () => new Dropout({ prob: 0.5 }),
      "Dropout: unknown option 'prob'; valid options are p, inplace, generator",
    ],
    [() => new Dropout(0.5, { inplase: true }), "Dropout: unknown option 'inplase'; did you mean 'inplace'?"],
    [() => new ReLU({ in_place: true }), "ReLU: unknown option 'in_place'; did you mean 'inplace'?"],
    [() => new GELU({ approx: 'tanh' }), "GELU: unknown option 'approx'; did you mean 'approximate'?"],
    [() => new Softmax({ axis: 1 }), "Softmax: unknown option 'axis'; valid options are dim"],
    [
      () => new MaxPool2d(2, { ceil_mode: true }),
      "MaxPool2d: unknown option 'ceil_mode'; did you mean 'ceilMode'?",
    ],
    [
      () => new AvgPool2d(2, 2, { count_include_pad: false }),
      "AvgPool2d: unknown option 'count_include_pad'; did you mean 'countIncludePad'?",
    ],
    [
      () => new CrossEntropyLoss({ label_smoothing: 0.1 }),
      "CrossEntropyLoss: unknown option 'label_smoothing'; did you mean 'labelSmoothing'?",
    ],
  ];
  for (const [make, message] of cases) {
    it(`${message.split(':')[0]}: ${message.split("'")[1]}`, () => {
      expect(make).toThrow(new TypeError(message));
    });
  }

  it('the correct spellings build what PyTorch builds', () => {
    expect(String(new Conv2d(3, 4, 3, { paddingMode: 'zeros', bias: false }))).toBe(
      'Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), bias=False)',
    );
    expect(String(new BatchNorm2d(4, { trackRunningStats: false }))).toBe(
      'BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=False)',
    );
    expect(String(new MaxPool2d(2, { ceilMode: true }))).toBe(
      'MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=True)',
    );
  });
});

describe('functional and init options refuse unknown keys', () => {
  it('F.* names the camelCase option', () => {
    const x = randn(1, 3, 4, 4);
    const w = randn(2, 3, 3, 3);
    expect(() => F.conv2d(x, w, null, { padding: 1, stide: 1 })).toThrow(
      "F.conv2d: unknown option 'stide'; did you mean 'stride'?",
    );
    expect(() => F.maxPool2d(x, 2, { ceil_mode: true })).toThrow(
      "F.maxPool2d: unknown option 'ceil_mode'; did you mean 'ceilMode'?",
    );
    const logits = randn(2, 3);
    const target = tensor([0, 2]);
    expect(() => F.crossEntropy(logits, target, { ignore_index: 0 })).toThrow(
      "F.crossEntropy: unknown option 'ignore_index'; did you mean 'ignoreIndex'?",
    );
    expect(() => F.dropout(x, { p: 0.5, train: false })).toThrow(
      "F.dropout: unknown option 'train'; did you mean 'training'?",
    );
    expect(() => F.relu(x, { in_place: true })).toThrow(
      "F.relu: unknown option 'in_place'; did you mean 'inplace'?",
    );
  });

  it("F.softmax(x, { dim }) is PyTorch's softmax(x, dim=1)", () => {
    // torch.softmax(torch.tensor([[1., 2., 3.]]), dim=1)
    const expected = [0.09003057330846786, 0.2447284758090973, 0.6652409434318542];
    const x = tensor([[1, 2, 3]], { dtype: 'float32' });
    const got = Array.from(F.softmax(x, { dim: 1 }).readSync());
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 7);
    });
    expect(Array.from(F.softmax(x, 1).readSync())).toEqual(got);
    expect(() => F.softmax(x, { axis: 1 })).toThrow(
      "F.softmax: unknown option 'axis'; valid options are dim",
    );
  });

  it('init.* names the camelCase option', () => {
    const w = zeros(4, 3);
    expect(() => init.kaimingNormal_(w, { mode: 'fan_out', non_linearity: 'relu' })).toThrow(
      "init.kaimingNormal_: unknown option 'non_linearity'; did you mean 'nonlinearity'?",
    );
    expect(() => init.xavierUniform_(w, { gian: 2 })).toThrow(
      "init.xavierUniform_: unknown option 'gian'; did you mean 'gain'?",
    );
    expect(() => init.truncNormal_(w, { sd: 0.02 })).toThrow(
      "init.truncNormal_: unknown option 'sd'; did you mean 'std'?",
    );
  });

  it("init.uniform_(w, { a, b }) draws what uniform_(w, a, b) draws (PyTorch's keywords)", () => {
    const a = init.uniform_(zeros(50), { a: -0.1, b: 0.1, generator: new Generator().manualSeed(3) });
    const b = init.uniform_(zeros(50), -0.1, 0.1, { generator: new Generator().manualSeed(3) });
    expect(Array.from(a.readSync())).toEqual(Array.from(b.readSync()));
    for (const v of a.readSync()) expect(Math.abs(v)).toBeLessThanOrEqual(0.1);
    expect(() => init.uniform_(zeros(2), { low: 0 })).toThrow("init.uniform_: unknown option 'low'");
    const n = init.normal_(zeros(50), { std: 0.01, generator: new Generator().manualSeed(4) });
    const m = init.normal_(zeros(50), 0, 0.01, { generator: new Generator().manualSeed(4) });
    expect(Array.from(n.readSync())).toEqual(Array.from(m.readSync()));
  });
});
