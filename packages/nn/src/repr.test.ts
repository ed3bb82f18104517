import { inspect } from 'node:util';
import { tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  BCEWithLogitsLoss,
  Conv2d,
  CrossEntropyLoss,
  Dropout,
  Flatten,
  GELU,
  Identity,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool2d,
  type Module,
  ModuleDict,
  ModuleList,
  MSELoss,
  NLLLoss,
  Parameter,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
  Unflatten,
} from './index.js';
import { patternTensor, readFixture } from './test-utils/fixtures.js';
import { MODELS } from './test-utils/models.js';

interface Reprs {
  models: Record<string, string>;
  containers: Record<string, string>;
  layers: Record<string, string>;
  parameters: Record<string, string>;
}
const golden = readFixture<Reprs>('reprs.json');

const LAYERS: Record<string, () => Module> = {
  linear: () => new Linear(512, 10),
  linear_nobias: () => new Linear(3, 4, { bias: false }),
  conv: () => new Conv2d(3, 6, 5),
  conv_resnet_stem: () => new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }),
  conv_full: () => new Conv2d(4, 8, [3, 5], { stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 2 }),
  conv_same: () => new Conv2d(4, 4, 3, { padding: 'same' }),
  conv_valid: () => new Conv2d(4, 4, 3, { padding: 'valid' }),
  conv_same_dilated: () => new Conv2d(4, 4, 2, { padding: 'same', dilation: 2, bias: false }),
  bn1d: () => new BatchNorm1d(10),
  bn2d_options: () =>
    new BatchNorm2d(64, { eps: 1e-3, momentum: null, affine: false, trackRunningStats: false }),
  bn2d_momentum: () => new BatchNorm2d(8, { momentum: 0.01 }),
  layernorm: () => new LayerNorm(10),
  layernorm_options: () => new LayerNorm([4, 5], { eps: 1e-6, elementwiseAffine: false }),
  relu: () => new ReLU(),
  relu_inplace: () => new ReLU({ inplace: true }),
  leaky_relu: () => new LeakyReLU(),
  leaky_relu_options: () => new LeakyReLU(0.2, { inplace: true }),
  gelu: () => new GELU(),
  gelu_tanh: () => new GELU({ approximate: 'tanh' }),
  sigmoid: () => new Sigmoid(),
  tanh: () => new Tanh(),
  softmax: () => new Softmax(1),
  softmax_neg: () => new Softmax({ dim: -1 }),
  softmax_none: () => new Softmax(),
  log_softmax: () => new LogSoftmax(1),
  maxpool: () => new MaxPool2d(2, 2),
  maxpool_default_stride: () => new MaxPool2d(2),
  maxpool_options: () => new MaxPool2d(3, { stride: 2, padding: 1 }),
  maxpool_tuples: () => new MaxPool2d([2, 3], { stride: [1, 2], dilation: 2, ceilMode: true }),
  avgpool: () => new AvgPool2d(2),
  avgpool_options: () => new AvgPool2d(3, 2, { padding: 1 }),
  avgpool_tuples: () => new AvgPool2d([2, 2], [1, 1]),
  adaptive: () => new AdaptiveAvgPool2d([1, 1]),
  adaptive_int: () => new AdaptiveAvgPool2d(7),
  adaptive_none: () => new AdaptiveAvgPool2d([null, 3]),
  flatten: () => new Flatten(),
  flatten_options: () => new Flatten(0, 2),
  unflatten: () => new Unflatten(1, [2, 5]),
  dropout: () => new Dropout(),
  dropout_options: () => new Dropout({ p: 0.25, inplace: true }),
  identity: () => new Identity(),
  cross_entropy: () => new CrossEntropyLoss({ labelSmoothing: 0.1 }),
  nll: () => new NLLLoss(),
  mse: () => new MSELoss(),
  bce_logits: () => new BCEWithLogitsLoss(),
};

function containers(): Record<string, Module> {
  const seq = new Sequential(
    new Conv2d(1, 2, 3),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(8, 4),
  );
  const named = new Sequential(
    new Map<string, Module>([
      ['conv', new Conv2d(1, 2, 3)],
      ['act', new ReLU()],
      ['head', new Linear(2, 2)],
    ]),
  );
  const appended = new Sequential(new Linear(2, 3));
  appended.append(new ReLU());
  appended.append(new Sequential(new Linear(3, 3), new Tanh()));
  const inserted = new Sequential(new Linear(2, 2), new Tanh());
  inserted.insert(1, new ReLU());
  const deleted = new Sequential(new Linear(2, 2), new ReLU(), new Tanh(), new Sigmoid());
  delete deleted[1];
  const mlist = new ModuleList([new Linear(2, 2), new ReLU(), new Linear(2, 2)]);
  mlist.insert(1, new Tanh());
  return {
    seq,
    seq_slice_1_3: seq.slice(1, 3),
    seq_slice_neg: seq.slice(-2),
    seq_index_neg: seq[-1],
    seq_named: named,
    seq_named_slice: named.slice(1),
    seq_appended: appended,
    seq_inserted: inserted,
    seq_deleted: deleted,
    modulelist: mlist,
    modulelist_slice: mlist.slice(1),
    moduledict: new ModuleDict([
      ['b', new ReLU()],
      ['a', new Linear(1, 1)],
      ['10', new Tanh()],
    ]),
    empty_seq: new Sequential(),
    empty_list: new ModuleList(),
    seq_in_seq: new Sequential(
      new Sequential(new Linear(2, 2), new Sequential(new ReLU())),
      new Linear(2, 1),
    ),
  };
}

describe('String(module) equals PyTorch 1.13 repr', () => {
  it('covers every golden model, container and layer', () => {
    expect(Object.keys(MODELS).sort()).toEqual(Object.keys(golden.models).sort());
    expect(Object.keys(LAYERS).sort()).toEqual(Object.keys(golden.layers).sort());
    expect(Object.keys(containers()).sort()).toEqual(Object.keys(golden.containers).sort());
  });

  for (const [name, expected] of Object.entries(golden.models)) {
    it(`model ${name}`, () => {
      expect(String(MODELS[name]())).toBe(expected);
    });
  }

  it.each(Object.entries(golden.layers))('layer %s', (name, expected) => {
    expect(String(LAYERS[name]())).toBe(expected);
  });

  it.each(Object.entries(golden.containers))('container %s', (name, expected) => {
    expect(String(containers()[name])).toBe(expected);
  });

  it('console.log / util.inspect print the same text', () => {
    const net = MODELS.Net();
    expect(inspect(net)).toBe(golden.models.Net);
    expect(inspect({ model: new ReLU() })).toBe('{ model: ReLU() }');
    expect(`${new Linear(512, 10)}`).toBe(golden.layers.linear);
  });
});

describe('Parameter repr', () => {
  const params: Record<string, () => Parameter> = {
    small: () =>
      new Parameter(
        tensor(
          [
            [0, 1, 2],
            [3, 4, 5],
          ],
          { dtype: 'float32' },
        ),
      ),
    frozen: () => new Parameter(tensor([0.5, -1.25]), false),
    wide: () => new Parameter(patternTensor([3, 12], 5, 2)),
    big: () => new Parameter(patternTensor([40, 30], 6, 0.2)),
  };
  it.each(Object.entries(golden.parameters))('%s', (name, expected) => {
    expect(String(params[name]())).toBe(expected);
    expect(inspect(params[name]())).toBe(expected);
  });
});
