import { type Tensor, tensor } from '@graft/tensor';
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
  MSELoss,
  NLLLoss,
  ReLU,
  Sigmoid,
  Softmax,
  Tanh,
  Unflatten,
} from './index.js';
import { decode, decodeValues, type Encoded, mismatch, readFixture } from './test-utils/fixtures.js';

interface LayerCase {
  name: string;
  mode: 'train' | 'eval';
  state_dict: Record<string, Encoded>;
  input: Encoded;
  target: Encoded | null;
  output: Encoded;
  grad_output: Encoded;
  grad_input: Encoded;
  grads: Record<string, Encoded>;
  buffers_after: Record<string, Encoded>;
}
const cases = readFixture<LayerCase[]>('layers.json');

const w = (values: number[]) => tensor(values, { dtype: 'float32' });

/** The constructors of scripts/golden/nn.py layer_cases(), under the same names. */
const LAYERS: Record<string, () => Module> = {
  linear: () => new Linear(5, 3),
  linear_nobias: () => new Linear(5, 3, { bias: false }),
  linear_3d: () => new Linear(5, 3),
  conv2d: () => new Conv2d(3, 4, 3),
  conv2d_stride_pad: () => new Conv2d(3, 4, 3, 2, 1),
  conv2d_dilation_groups: () =>
    new Conv2d(4, 6, [3, 2], { stride: [1, 2], padding: [2, 1], dilation: [2, 1], groups: 2, bias: false }),
  conv2d_same_even: () => new Conv2d(2, 3, 4, { padding: 'same' }),
  conv2d_same_dilated: () => new Conv2d(2, 3, 3, { padding: 'same', dilation: 2 }),
  conv2d_valid: () => new Conv2d(2, 3, 3, { padding: 'valid' }),
  conv2d_unbatched: () => new Conv2d(2, 3, 3, { padding: 1 }),
  batchnorm1d_train: () => new BatchNorm1d(4),
  batchnorm1d_3d_train: () => new BatchNorm1d(4, { momentum: 0.3 }),
  batchnorm2d_train: () => new BatchNorm2d(3),
  batchnorm2d_eval: () => new BatchNorm2d(3, { eps: 1e-3 }),
  batchnorm2d_notrack_eval: () => new BatchNorm2d(3, { affine: false, trackRunningStats: false }),
  batchnorm2d_momentum_none: () => new BatchNorm2d(3, { momentum: null }),
  layernorm: () => new LayerNorm(5),
  layernorm_2d: () => new LayerNorm([3, 5], { eps: 1e-6 }),
  layernorm_noaffine: () => new LayerNorm(5, { elementwiseAffine: false }),
  relu: () => new ReLU(),
  relu_inplace: () => new ReLU({ inplace: true }),
  leaky_relu: () => new LeakyReLU(0.2),
  leaky_relu_inplace: () => new LeakyReLU(0.01, { inplace: true }),
  gelu: () => new GELU(),
  gelu_tanh: () => new GELU({ approximate: 'tanh' }),
  sigmoid: () => new Sigmoid(),
  tanh: () => new Tanh(),
  softmax: () => new Softmax(1),
  softmax_dim0: () => new Softmax(0),
  softmax_implicit: () => new Softmax(),
  log_softmax: () => new LogSoftmax(-1),
  maxpool: () => new MaxPool2d(2, 2),
  maxpool_pad_ceil: () => new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
  maxpool_dilation: () => new MaxPool2d(2, { stride: 1, dilation: 2 }),
  avgpool: () => new AvgPool2d(2),
  avgpool_pad: () => new AvgPool2d(3, 2, { padding: 1 }),
  avgpool_pad_exclude: () => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
  avgpool_ceil: () => new AvgPool2d(2, { ceilMode: true }),
  adaptive_1: () => new AdaptiveAvgPool2d([1, 1]),
  adaptive_uneven: () => new AdaptiveAvgPool2d([2, 3]),
  flatten: () => new Flatten(),
  flatten_01: () => new Flatten(0, 1),
  unflatten: () => new Unflatten(1, [2, 6]),
  identity: () => new Identity(),
  dropout_eval: () => new Dropout(0.5),
  dropout_p0: () => new Dropout(0),
  cross_entropy: () => new CrossEntropyLoss(),
  cross_entropy_options: () =>
    new CrossEntropyLoss({ weight: w([1, 2, 0.5, 1.5, 1]), ignoreIndex: 2, labelSmoothing: 0.1 }),
  cross_entropy_sum: () => new CrossEntropyLoss({ reduction: 'sum' }),
  cross_entropy_probs: () => new CrossEntropyLoss(),
  cross_entropy_spatial: () => new CrossEntropyLoss(),
  nll: () => new NLLLoss(),
  nll_weight_none: () => new NLLLoss({ weight: w([0.2, 1, 3, 1, 0.5]), reduction: 'none' }),
  mse: () => new MSELoss(),
  mse_sum: () => new MSELoss({ reduction: 'sum' }),
  bce_logits: () => new BCEWithLogitsLoss(),
  bce_logits_weights: () =>
    new BCEWithLogitsLoss({ weight: w([1, 0.5, 2, 1]), posWeight: w([3, 1, 0.5, 2]) }),
};

const INPLACE = new Set(['relu_inplace', 'leaky_relu_inplace']);

function expectClose(actual: Tensor, expected: Encoded, what: string): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  expect(mismatch(actual.readSync(), decodeValues(expected)), what).toBeNull();
}

describe('layers match PyTorch forward and backward (weights loaded with loadStateDict)', () => {
  it('covers every golden case', () => {
    expect(Object.keys(LAYERS).sort()).toEqual(cases.map((c) => c.name).sort());
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const layer = LAYERS[name]();
    layer.loadStateDict(Object.fromEntries(Object.entries(c.state_dict).map(([k, e]) => [k, decode(e)])));
    layer.train(c.mode === 'train');
    const x = decode(c.input).requiresGrad_(true);
    const h = INPLACE.has(name) ? x.mul(1) : x;
    const out = (c.target ? layer.call(h, decode(c.target)) : layer.call(h)) as Tensor;
    expectClose(out, c.output, 'output');
    if (out.numel() === 1) out.backward();
    else out.backward(decode(c.grad_output));
    expectClose(x.grad!, c.grad_input, 'grad of input');
    const params = Object.fromEntries(layer.namedParameters());
    expect(Object.keys(params).sort()).toEqual(Object.keys(c.grads).sort());
    for (const [k, g] of Object.entries(c.grads)) expectClose(params[k].grad!, g, `grad of ${k}`);
    const buffers = layer.stateDict();
    for (const [k, b] of Object.entries(c.buffers_after)) expectClose(buffers[k], b, `buffer ${k}`);
  });
});
