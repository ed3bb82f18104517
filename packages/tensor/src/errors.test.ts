// Bad input gets an error that names the op, what it expected and what it got.

import { describe, expect, it } from 'vitest';
import { getBackend } from './backend.js';
import { arange, ones, randint, tensor, zeros } from './creation.js';
import { where } from './ops/elementwise.js';
import { cat, gather, indexSelect, oneHot, stack } from './ops/indexing.js';
import { bmm, matmul, mm } from './ops/linalg.js';
import {
  batchNorm,
  binaryCrossEntropyWithLogits,
  conv2d,
  crossEntropy,
  dropout,
  layerNorm,
  linear,
  logSoftmax,
  maxPool2d,
  nllLoss,
} from './ops/nn.js';

describe('shape errors', () => {
  it('matmul with mismatched inner dims names both shapes', () => {
    expect(() => matmul(zeros(2, 3), zeros(4, 5))).toThrow(
      'matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)',
    );
    expect(() => matmul(zeros(3), zeros(4))).toThrow(
      'matmul: shapes [3] and [4] cannot be multiplied (3 != 4)',
    );
    expect(() => matmul(zeros(2, 2, 3), zeros(3, 3, 4))).toThrow(
      'matmul: the size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0',
    );
    expect(() => matmul(zeros([]), zeros(3))).toThrow(
      'matmul: both arguments need at least 1 dimension, got 0D and 1D tensors',
    );
    expect(() => mm(zeros(2, 3), zeros(4, 5))).toThrow(
      'mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)',
    );
    expect(() => bmm(zeros(2, 2, 3), zeros(2, 4, 5))).toThrow(
      'bmm: expected [B, M, K] and [B, K, N], got [2, 2, 3] and [2, 4, 5]',
    );
    expect(() => linear(zeros(2, 3), zeros(4, 5))).toThrow(
      'linear: mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)',
    );
  });

  it('conv2d with the wrong channel count names the weight, the input and both counts', () => {
    expect(() => conv2d(zeros(1, 4, 5, 5), zeros(2, 3, 3, 3))).toThrow(
      'conv2d: Given groups=1, weight of size [2, 3, 3, 3], expected input[1, 4, 5, 5] to have 3 channels, but got 4 channels instead',
    );
    expect(() => conv2d(zeros(1, 4, 5, 5), zeros(2, 3, 3, 3), null, { groups: 2 })).toThrow(
      'conv2d: Given groups=2, weight of size [2, 3, 3, 3], expected input[1, 4, 5, 5] to have 6 channels, but got 4 channels instead',
    );
    expect(() => conv2d(zeros(5, 5), zeros(2, 3, 3, 3))).toThrow(
      'conv2d: expected a 3D (unbatched) or 4D (batched) input, got shape [5, 5]',
    );
    expect(() => conv2d(zeros(1, 3, 5, 5), zeros(2, 3, 3, 3), zeros(3))).toThrow(
      'conv2d: expected bias of shape [2], got [3]',
    );
    expect(() => conv2d(zeros(1, 3, 2, 2), zeros(2, 3, 3, 3))).toThrow(
      /conv2d: calculated output size \(0x0\) is too small for input \[1, 3, 2, 2\] with kernel 3x3/,
    );
    expect(() => conv2d(zeros(1, 3, 5, 5), zeros(2, 3, 3, 3), null, { stride: 2, padding: 'same' })).toThrow(
      "conv2d: padding='same' is not supported for strided convolutions",
    );
  });

  it('an impossible reshape names the target and the size', () => {
    expect(() => zeros(2, 3).reshape(4, 4)).toThrow(
      "reshape: shape '[4, 4]' is invalid for input of size 6 (input shape [2, 3])",
    );
    expect(() => zeros(2, 3).t().view(6)).toThrow(
      /view: size \[6\] is not compatible with input tensor's size \[3, 2\] and stride \[1, 3\]/,
    );
  });

  it('broadcasting, cat and stack name the mismatching sizes', () => {
    expect(() => zeros(2, 3).add(zeros(4))).toThrow(
      'add: the size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1 (shapes [2, 3] and [4])',
    );
    expect(() => zeros(2, 3).mul(zeros(2))).toThrow(
      /^mul: the size of tensor a \(3\) must match the size of tensor b \(2\)/,
    );
    expect(() => cat([zeros(2, 3), zeros(2, 4)])).toThrow(
      'cat: Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list.',
    );
    expect(() => cat([zeros(2, 3), zeros(2)])).toThrow(
      'cat: Tensors must have same number of dimensions: got 2 and 1',
    );
    expect(() => stack([zeros(2, 3), zeros(3, 2)])).toThrow(
      'stack: expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1',
    );
    expect(() => zeros(2).add_(zeros(3, 2))).toThrow(
      "add_: output with shape [2] doesn't match the broadcast shape [3, 2]",
    );
  });

  it('dims out of range name the op and the valid range', () => {
    expect(() => zeros(2, 3).sum(2)).toThrow(
      'sum: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
    expect(() => logSoftmax(zeros(2, 3), -3)).toThrow(
      'logSoftmax: dimension out of range (expected to be in range of [-2, 1], but got -3)',
    );
    expect(() => zeros(2, 3).topk(4)).toThrow('topk: k (4) out of range for dimension 1 of size 3');
  });

  it('losses and normalisation name the expected shapes', () => {
    expect(() => crossEntropy(zeros(2, 3), tensor([0, 1, 2]))).toThrow(
      'nllLoss: expected target of shape [2] for input [2, 3], got [3]',
    );
    expect(() => crossEntropy(zeros(2, 3), tensor([0, 3]))).toThrow(
      'nllLoss: Target 3 is out of bounds (number of classes 3).',
    );
    expect(() => crossEntropy(zeros(2, 3), zeros(2))).toThrow(
      'crossEntropy: expected probability target of shape [2, 3], got [2]',
    );
    expect(() => binaryCrossEntropyWithLogits(zeros(2, 3), zeros(3, 2))).toThrow(
      'binaryCrossEntropyWithLogits: Target size ([3, 2]) must be the same as input size ([2, 3])',
    );
    expect(() => batchNorm(zeros(2, 3), zeros(4), ones(4))).toThrow(
      'batchNorm: expected running_mean of shape [3] for input [2, 3], got [4]',
    );
    expect(() => batchNorm(zeros(1, 3), null, null, null, null, { training: true })).toThrow(
      'batchNorm: expected more than 1 value per channel when training, got input size [1, 3]',
    );
    expect(() => layerNorm(zeros(2, 3), [4])).toThrow(
      'layerNorm: given normalized_shape=[4], expected input with shape [*, 4], but got input of size [2, 3]',
    );
    expect(() => maxPool2d(zeros(1, 1, 4, 4), 2, { padding: 2 })).toThrow(
      'maxPool2d: pad should be at most half of effective kernel size, but got pad=2, kernel_size=2',
    );
  });

  it('indices out of range name the op, the index and the size', () => {
    expect(() =>
      gather(
        zeros(2, 2),
        1,
        tensor([
          [0, 5],
          [0, 0],
        ]),
      ),
    ).toThrow('gather: index 5 is out of bounds for dimension with size 2');
    expect(() => indexSelect(zeros(2, 2), 0, tensor([3]))).toThrow(
      'indexSelect: index 3 is out of bounds for dimension with size 2',
    );
    expect(() => oneHot(tensor([0, 3]), 2)).toThrow('oneHot: class values must be in [0, 2), got 3');
    expect(() => zeros(3, 4).select(1, 4)).toThrow(
      'select: index 4 out of range for tensor of size [3, 4] at dimension 1',
    );
  });
});

describe('autograd errors', () => {
  it('backward twice through freed saved tensors says how to keep them', () => {
    const x = ones(2, { requiresGrad: true });
    const s = x.exp().sum();
    s.backward();
    expect(() => s.backward()).toThrow(
      'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ' +
        'Saved intermediate values of the graph are freed when you call backward(). ' +
        'Pass { retainGraph: true } to backward() if you need to backward through the graph a second time.',
    );
  });

  it('backward of a non-scalar without a gradient names the shape', () => {
    expect(() => ones(2, 2, { requiresGrad: true }).mul(2).backward()).toThrow(
      'grad can be implicitly created only for scalar outputs (got shape [2, 2])',
    );
  });
});

describe('dtypes an op does not take', () => {
  it('names the op and the dtype it got', () => {
    expect(() => conv2d(zeros([1, 3, 5, 5], { dtype: 'int64' }), zeros(2, 3, 3, 3))).toThrow(
      'conv2d: expected a floating point tensor, got dtype int64',
    );
    expect(() =>
      conv2d(zeros([1, 3, 5, 5], { dtype: 'float16' }), zeros([2, 3, 3, 3], { dtype: 'float16' })),
    ).toThrow('conv2d: expected a float32 or float64 tensor on the CPU backend, got float16');
    expect(() => conv2d(zeros([1, 3, 5, 5], { dtype: 'float64' }), zeros(2, 3, 3, 3))).toThrow(
      'conv2d: expected input and weight to have the same dtype, but input is float64 and weight is float32',
    );
    expect(() => tensor([1, 2]).mean()).toThrow(
      'mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: int64',
    );
    expect(() => logSoftmax(tensor([1, 2]), 0)).toThrow(
      'logSoftmax: expected a floating point tensor, got dtype int64',
    );
    expect(() => arange(4).var()).toThrow('var: expected a floating point tensor, got dtype int64');
    expect(() => tensor([true]).neg()).toThrow(
      'neg: negation, the `-` operator, on a bool tensor is not supported',
    );
    expect(() => where(zeros(2), zeros(2), zeros(2))).toThrow(
      'where: expected condition to be a bool tensor, got float32',
    );
    expect(() => gather(zeros(2, 2), 1, zeros(2, 2))).toThrow(
      'gather: expected index to be an int64 (or int32) tensor, got float32',
    );
    expect(() => nllLoss(zeros(2, 3), zeros(2))).toThrow(
      'nllLoss: expected target of class indices with dtype int64, got float32',
    );
    expect(() => oneHot(zeros(3))).toThrow('oneHot: expected an int64 tensor of class indices, got float32');
    expect(() => randint(5, [2]).requiresGrad_()).toThrow(
      'only Tensors of floating point dtype can require gradients (got int64)',
    );
    expect(() => tensor([1]).floorDivide(tensor([0]))).toThrow(
      'floorDivide: ZeroDivisionError (integer division by zero)',
    );
  });
});

describe('other argument errors', () => {
  it('name the op and the bad value', () => {
    expect(() => zeros(2).itemSync()).toThrow(
      'a Tensor with 2 elements cannot be converted to a scalar (item)',
    );
    expect(() => zeros(0).max()).toThrow(
      /^max\(\): Expected reduction dim to be specified for input.numel\(\) == 0/,
    );
    expect(() => dropout(zeros(2), 1.5)).toThrow(
      'dropout: probability has to be between 0 and 1, but got 1.5',
    );
    expect(() => zeros(2).chunk(0)).toThrow('chunk: chunks must be a positive integer, got 0');
    expect(() => arange(0, 5, -1)).toThrow(
      'arange: upper bound and larger bound inconsistent with step sign (start=0, end=5, step=-1)',
    );
    expect(() => randint(5, 2, [3])).toThrow('randint: expected low < high, got low=5, high=2');
    expect(() => getBackend('webgpu')).toThrow(
      "no backend registered for device 'webgpu' (registered: cpu); import and initialise the WebGPU backend first",
    );
    // @ts-expect-error: a string is not an operand
    expect(() => zeros(2).add('x')).toThrow('add: expected a Tensor or a number, got string');
  });
});
