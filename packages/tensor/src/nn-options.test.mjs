// Plain JavaScript, as a user without a compiler writes it: the functional nn ops' option slips throw
// (PyTorch's positional arguments, snake_case names, typos) instead of being ignored.
import {
  avgPool2d,
  batchNorm,
  binaryCrossEntropyWithLogits,
  conv2d,
  crossEntropy,
  dropout,
  fusedBatchNorm,
  fusedConv2d,
  layerNorm,
  linear,
  maxPool2d,
  maxPool2dWithIndices,
  mseLoss,
  nllLoss,
  randn,
  tensor,
} from '@graft/tensor';
import { describe, expect, it } from 'vitest';

const x = randn(2, 3, 8, 8);
const w = randn(4, 3, 3, 3);
const logits = randn(2, 5);
const target = tensor([1, 3], { dtype: 'int64' });

describe('functional nn ops check their options', () => {
  it("PyTorch's positional form throws and says to pass an options object", () => {
    expect(() => maxPool2d(x, 3, 2)).toThrow(/maxPool2d: expected an options object, got number/);
    expect(() => maxPool2dWithIndices(x, 3, 2)).toThrow(/maxPool2d: expected an options object/);
    expect(() => avgPool2d(x, 2, 2)).toThrow(/avgPool2d: expected an options object/);
    expect(() => conv2d(x, w, null, 1)).toThrow(/conv2d: expected an options object, got number/);
    expect(() => crossEntropy(logits, target, 'sum')).toThrow(
      /crossEntropy: expected an options object, got string/,
    );
    expect(() => batchNorm(x, null, null, null, null, true)).toThrow(/batchNorm: expected an options object/);
  });

  it('options given where an optional tensor goes throw, saying where the options go', () => {
    expect(() => conv2d(x, w, { stride: 2 })).toThrow(
      'conv2d: expected bias (argument 3) to be a Tensor or null, got an object with keys {stride}; options go fourth: conv2d(x, weight, null, { stride, padding, dilation, groups })',
    );
    expect(() => batchNorm(x, null, null, { training: true })).toThrow(
      'batchNorm: expected weight (argument 4) to be a Tensor or null, got an object with keys {training}; options go sixth: batchNorm(x, runningMean, runningVar, weight, bias, { training, momentum, eps })',
    );
    expect(() => fusedBatchNorm(x, { training: true })).toThrow(
      /fusedBatchNorm: expected runningMean \(argument 2\) to be a Tensor or null, got an object with keys \{training\}; options go sixth/,
    );
    expect(() => layerNorm(x, [8], { eps: 1e-3 })).toThrow(
      'layerNorm: expected weight (argument 3) to be a Tensor or null, got an object with keys {eps}; eps goes fifth, as a number: layerNorm(x, normalizedShape, weight, bias, eps)',
    );
    expect(() => linear(logits, randn(4, 5), { bias: false })).toThrow(
      'linear: expected bias (argument 3) to be a Tensor or null, got an object with keys {bias}; linear takes no options: linear(x, weight, bias)',
    );
    // Neither a tensor nor options: named as what it is.
    expect(() => conv2d(x, w, [0, 0, 0, 0])).toThrow(
      'conv2d: expected bias (argument 3) to be a Tensor or null, got Array; pass a Tensor, or null for none',
    );
    // The tensors themselves still work in those places (against the composed ops).
    const b = randn(4);
    expect(
      conv2d(x, w, b)
        .sub(conv2d(x, w).add(b.reshape([1, 4, 1, 1])))
        .abs()
        .max()
        .itemSync(),
    ).toBeLessThan(1e-5);
  });

  it('snake_case names point at the camelCase option', () => {
    expect(() => avgPool2d(x, 2, { count_include_pad: false })).toThrow(/countIncludePad/);
    expect(() => maxPool2d(x, 2, { ceil_mode: true })).toThrow(/ceilMode/);
    expect(() => crossEntropy(logits, target, { label_smoothing: 0.1 })).toThrow(/labelSmoothing/);
    expect(() => nllLoss(logits.logSoftmax(1), target, { ignore_index: 0 })).toThrow(/ignoreIndex/);
    expect(() => binaryCrossEntropyWithLogits(logits, logits, { pos_weight: logits })).toThrow(/posWeight/);
  });

  it('typos throw naming the op and the option', () => {
    expect(() => conv2d(x, w, null, { paddin: 1 })).toThrow(/conv2d.*paddin.*padding/s);
    expect(() => fusedConv2d(x, w, { rellu: true })).toThrow(/fusedConv2d.*rellu/s);
    expect(() => mseLoss(logits, logits, { reduce: 'sum' })).toThrow(/mseLoss.*reduce/s);
    expect(() => dropout(x, 0.5, true, { seed: 1 })).toThrow(/dropout.*seed/s);
    expect(() => fusedBatchNorm(x, null, null, null, null, { training: true, reluu: true })).toThrow(
      /fusedBatchNorm.*reluu/s,
    );
  });

  it('the documented options still work', () => {
    expect(conv2d(x, w, null, { stride: 2, padding: 1 }).shape).toEqual([2, 4, 4, 4]);
    expect(maxPool2d(x, 3, { stride: 2, padding: 1 }).shape).toEqual([2, 3, 4, 4]);
    expect(avgPool2d(x, 2, { countIncludePad: false }).shape).toEqual([2, 3, 4, 4]);
    expect(crossEntropy(logits, target, { labelSmoothing: 0.1, reduction: 'sum' }).shape).toEqual([]);
    expect(batchNorm(x, null, null, null, null, { training: true, eps: 1e-3 }).shape).toEqual(x.shape);
  });
});
