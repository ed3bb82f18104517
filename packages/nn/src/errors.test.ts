import { randn, tensor, zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  CrossEntropyLoss,
  Dropout,
  F,
  Flatten,
  GELU,
  init,
  LayerNorm,
  LeakyReLU,
  Linear,
  MaxPool2d,
  Sequential,
  Unflatten,
} from './index.js';
import { Net } from './test-utils/models.js';

describe('bad input gets a clear error', () => {
  it('wrong in_features names the layer and both shapes', () => {
    const fc = new Linear(512, 5);
    expect(() => fc.call(zeros(2, 3))).toThrow(
      'Linear(in_features=512, out_features=5): expected an input whose last dimension is 512, got shape [2, 3]',
    );
    expect(() => F.linear(zeros(2, 3), zeros(5, 512))).toThrow(
      'linear: mat1 and mat2 shapes cannot be multiplied (2x3 and 512x5): input of shape [2, 3] has 3 features in its last dimension, weight of shape [5, 512] expects in_features=512',
    );
    expect(() => F.linear(zeros(2, 512), zeros(5, 512), zeros(4))).toThrow(
      'linear: expected bias of shape [5], got [4]',
    );
  });

  it('a model fed the wrong image size fails at the layer that cannot take it', () => {
    expect(() => new Net().call(zeros(1, 3, 28, 28))).toThrow(/reshape: shape '\[-1, 400\]' is invalid/);
    const mlp = new Sequential(new Flatten(), new Linear(784, 10));
    expect(() => mlp.call(zeros(1, 1, 32, 32))).toThrow(
      'Linear(in_features=784, out_features=10): expected an input whose last dimension is 784, got shape [1, 1024]',
    );
    expect(() => new Conv2d(3, 6, 5).call(zeros(1, 1, 8, 8))).toThrow(
      'Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1)): expected input with 3 channels, got shape [1, 1, 8, 8] (1 channels)',
    );
  });

  it('a state dict with wrong shapes, or an unknown key in strict mode', () => {
    const sd = new Linear(512, 1000).stateDict();
    expect(() => new Linear(512, 5).loadStateDict(sd)).toThrow(
      'Error(s) in loading state_dict for Linear:\n\tsize mismatch for weight: copying a param with shape torch.Size([1000, 512]) from checkpoint, the shape in current model is torch.Size([5, 512]).\n\tsize mismatch for bias: copying a param with shape torch.Size([1000]) from checkpoint, the shape in current model is torch.Size([5]).',
    );
    const seq = new Sequential(new Linear(2, 2));
    expect(() => seq.loadStateDict({ ...seq.stateDict(), '0.scale': zeros(1) })).toThrow(
      'Error(s) in loading state_dict for Sequential:\n\tUnexpected key(s) in state_dict: "0.scale". ',
    );
  });

  it('bad constructor options', () => {
    expect(() => new Linear(512, -1)).toThrow('Linear: out_features must be a non-negative integer, got -1');
    expect(() => new Linear(1.5, 2)).toThrow('Linear: in_features must be a non-negative integer, got 1.5');
    expect(() => new Conv2d(3, 8, 3, { groups: 2 })).toThrow(
      'Conv2d: in_channels (3) must be divisible by groups (2)',
    );
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(
      'Conv2d: out_channels (6) must be divisible by groups (4)',
    );
    expect(() => new Conv2d(4, 4, 3, { groups: 0 })).toThrow('Conv2d: groups must be a positive integer');
    expect(() => new Conv2d(4, 4, 3, { stride: 2, padding: 'same' })).toThrow(
      "Conv2d: padding='same' is not supported for strided convolutions",
    );
    expect(() => new Conv2d(4, 4, 3, { padding: 'full' as 'same' })).toThrow(
      "Conv2d: Invalid padding string 'full'",
    );
    expect(() => new Conv2d(4, 4, 3, { paddingMode: 'reflect' })).toThrow(
      "Conv2d: padding_mode='reflect' is not supported yet",
    );
    expect(() => new Conv2d(4, 4, 3, { paddingMode: 'mirror' as 'zeros' })).toThrow(
      'padding_mode must be one of',
    );
    expect(() => new Conv2d(4, 4, 0)).toThrow(
      'Conv2d: kernel_size must be a positive integer or a pair of them, got 0',
    );
    expect(() => new BatchNorm2d(0)).toThrow('BatchNorm2d: num_features must be a positive integer, got 0');
    expect(() => new BatchNorm2d(3, { momentum: 2 })).toThrow(
      'BatchNorm2d: momentum must be in [0, 1] or null, got 2',
    );
    expect(() => new LayerNorm([3, -1])).toThrow(
      'LayerNorm: normalized_shape must be a positive integer, got -1',
    );
    expect(() => new Dropout(1.5)).toThrow(
      'Dropout: dropout probability has to be between 0 and 1, but got 1.5',
    );
    expect(() => new MaxPool2d(0)).toThrow(
      'MaxPool2d: kernel_size must be a positive integer or a pair of them, got 0',
    );
    expect(() => new AdaptiveAvgPool2d([1, 2, 3] as unknown as [number, number])).toThrow(
      'AdaptiveAvgPool2d: output_size',
    );
    expect(() => new Unflatten(1, [2.5])).toThrow(
      'Unflatten: unflattened_size must be an array of positive integers',
    );
    expect(() => new GELU({ approximate: 'fast' as 'tanh' })).toThrow(
      "GELU: approximate must be 'none' or 'tanh', got 'fast'",
    );
    expect(() => new LeakyReLU(Number.NaN)).toThrow('LeakyReLU: negative_slope must be a finite number');
    expect(() => new CrossEntropyLoss({ reduction: 'avg' as 'mean' })).toThrow(
      'CrossEntropyLoss: avg is not a valid value for reduction',
    );
    expect(() => new CrossEntropyLoss({ labelSmoothing: 2 })).toThrow(
      'label_smoothing must be between 0.0 and 1.0. Got: 2',
    );
    expect(() => init.kaimingNormal_(zeros(3, 3), { nonlinearity: 'swish' as 'relu' })).toThrow(
      'Unsupported nonlinearity swish',
    );
  });

  it('class targets out of range and wrong target dtypes', () => {
    expect(() => new CrossEntropyLoss().call(randn(2, 3), tensor([0, 5]))).toThrow(
      'Target 5 is out of bounds',
    );
    expect(() => F.nllLoss(randn(2, 3), tensor([0.5, 1]))).toThrow(/dtype int64/);
  });
});
