// Dataset, Subset, ConcatDataset, TensorDataset and randomSplit against torch.utils.data's semantics.
import { arange, Generator, manualSeed, tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { ConcatDataset, Dataset, Subset } from './dataset.js';
import { randomSplit, splitLengths } from './random-split.js';
import { TensorDataset } from './tensor-dataset.js';

class Range extends Dataset<number> {
  constructor(readonly length: number) {
    super();
  }
  get(index: number): number {
    return index;
  }
}

describe('Subset and ConcatDataset', () => {
  it('Subset maps indices and checks range', () => {
    const s = new Subset(new Range(10), [7, 2, 5]);
    expect(s.length).toBe(3);
    expect([0, 1, 2].map((i) => s.get(i))).toEqual([7, 2, 5]);
    expect(() => s.get(3)).toThrow('Subset: index 3 is out of range for a dataset of length 3');
    expect(() => s.get(-1)).toThrow(/index -1 is out of range/);
  });

  it('ConcatDataset chains datasets', () => {
    const c = new ConcatDataset([new Range(2), new Range(3)]);
    expect(c.length).toBe(5);
    expect(c.cumulativeSizes).toEqual([2, 5]);
    expect([0, 1, 2, 3, 4].map((i) => c.get(i))).toEqual([0, 1, 0, 1, 2]);
    expect(() => c.get(5)).toThrow(/index 5 is out of range for a dataset of length 5/);
  });
});

describe('TensorDataset', () => {
  it('returns rows of every tensor as views', async () => {
    const x = arange(12).reshape(4, 3);
    const y = tensor([10, 11, 12, 13]);
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(4);
    const [row, label] = ds.get(2);
    expect(row.shape).toEqual([3]);
    expect(Array.from(await row.read())).toEqual([6, 7, 8]);
    expect(label.shape).toEqual([]);
    expect(await label.item()).toBe(12);
  });

  it('rejects tensors with different first dimensions', () => {
    expect(() => new TensorDataset(arange(4), arange(5))).toThrow(
      'TensorDataset: size mismatch between tensors: tensor 0 has 4 rows, tensor 1 has 5',
    );
  });
});

describe('randomSplit', () => {
  // Expected lengths are what torch.utils.data.random_split gives (checked with torch 1.13).
  it.each([
    [11, [0.5, 0.5], [6, 5]],
    [7, [0.1, 0.2, 0.7], [1, 2, 4]],
    [10, [0.3, 0.3, 0.4], [3, 3, 4]],
    [5, [0.25, 0.25, 0.25, 0.25], [2, 1, 1, 1]],
    [3, [0.1, 0.1, 0.8], [1, 0, 2]],
    [10, [4, 6], [4, 6]],
  ])('n=%i, lengths %j -> %j', (n, lengths, expected) => {
    expect(splitLengths(n, lengths)).toEqual(expected);
    const parts = randomSplit(new Range(n), lengths, { generator: new Generator(1) });
    expect(parts.map((p) => p.length)).toEqual(expected);
    const all = parts.flatMap((p) => [...p.indices]).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('is deterministic for a seeded generator and follows manualSeed by default', () => {
    const a = randomSplit(new Range(20), [5, 15], { generator: new Generator(42) });
    const b = randomSplit(new Range(20), [5, 15], { generator: new Generator(42) });
    expect(a[0].indices).toEqual(b[0].indices);
    manualSeed(3);
    const c = randomSplit(new Range(20), [0.25, 0.75]);
    manualSeed(3);
    const d = randomSplit(new Range(20), [0.25, 0.75]);
    expect(c[1].indices).toEqual(d[1].indices);
    expect(c[0].indices).not.toEqual(Array.from({ length: 5 }, (_, i) => i));
  });

  it('rejects lengths that do not add up, bad fractions and negative lengths', () => {
    expect(() => randomSplit(new Range(10), [3, 3])).toThrow(
      'randomSplit: sum of input lengths does not equal the length of the input dataset: lengths [3, 3] sum to 6, dataset has 10 items',
    );
    expect(() => randomSplit(new Range(10), [0.5, 0.6])).toThrow(
      'randomSplit: length at index 0 must be a non-negative integer, got 0.5 (fractions must sum to 1; these sum to 1.1)',
    );
    expect(() => splitLengths(10, [1.5, -0.5])).toThrow(
      'randomSplit: fraction at index 0 is not between 0 and 1: 1.5',
    );
    expect(() => splitLengths(10, [12, -2])).toThrow(
      'randomSplit: length at index 1 must be a non-negative integer, got -2',
    );
  });
});
