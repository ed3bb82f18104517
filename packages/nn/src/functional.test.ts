import { Generator, ones, randn, tensor, zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { F } from './index.js';

describe('functional', () => {
  it('leakyRelu: values and a gradient of negativeSlope at and below 0, as PyTorch', () => {
    const x = tensor([-2, 0, 3], { dtype: 'float32' }).requiresGrad_(true);
    const y = F.leakyRelu(x, 0.1);
    expect(y.readSync()[0]).toBeCloseTo(-0.2, 7);
    expect([...y.readSync()].slice(1)).toEqual([0, 3]);
    y.sum().backward();
    expect([...x.grad!.readSync()].map((v) => Math.fround(v))).toEqual([
      Math.fround(0.1),
      Math.fround(0.1),
      1,
    ]);
  });

  it('dropout: keep rate, 1/(1-p) scaling, generator reproducibility, eval identity, inplace', () => {
    const x = ones(20000);
    const y = F.dropout(x, { p: 0.3, generator: new Generator(7) }).readSync();
    const kept = y.filter((v) => v !== 0);
    expect(Math.abs(kept.length / y.length - 0.7)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / y.length));
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    const again = F.dropout(x, { p: 0.3, generator: new Generator(7) }).readSync();
    expect([...again]).toEqual([...y]);
    expect(F.dropout(x, 0.3, false)).toBe(x);
    const z = ones(100);
    const out = F.dropout(z, { p: 0.5, inplace: true });
    expect(out).toBe(z);
    expect(z.readSync().some((v) => v === 0)).toBe(true);
  });

  it('softmax without a dim uses PyTorch’s implicit dim', () => {
    const x = randn(2, 3);
    expect(
      F.softmax(x)
        .sum(1)
        .readSync()
        .every((v) => Math.abs(v - 1) < 1e-6),
    ).toBe(true);
    const x3 = randn(2, 3, 4);
    expect(
      F.logSoftmax(x3)
        .exp()
        .sum(0)
        .readSync()
        .every((v) => Math.abs(v - 1) < 1e-6),
    ).toBe(true);
  });

  it('pad, relu inplace, silu, flatten, oneHot', () => {
    expect(F.pad(ones(1, 1, 1, 1), [1, 0, 0, 2]).tolistSync()).toEqual([
      [
        [
          [0, 1],
          [0, 0],
          [0, 0],
        ],
      ],
    ]);
    const r = tensor([-1, 2], { dtype: 'float32' });
    expect(F.relu(r, { inplace: true })).toBe(r);
    expect([...r.readSync()]).toEqual([0, 2]);
    expect(F.silu(zeros(1)).itemSync()).toBe(0);
    expect(F.flatten(zeros(2, 3, 4), 1).shape).toEqual([2, 12]);
    expect(F.oneHot(tensor([0, 2]), 3).tolistSync()).toEqual([
      [1, 0, 0],
      [0, 0, 1],
    ]);
  });
});
