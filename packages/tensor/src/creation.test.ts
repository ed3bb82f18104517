// Creation functions: arange/linspace/eye against PyTorch (fixtures/creation.json), the filled and
// *Like variants by their definition, and manualSeed determinism of every random function.

import { describe, expect, it } from 'vitest';
import {
  arange,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randintLike,
  randLike,
  randn,
  randnLike,
  randperm,
  tensor,
  zeros,
  zerosLike,
} from './creation.js';
import type { DType } from './dtype.js';
import { Generator, manualSeed } from './random.js';
import type { Tensor } from './tensor.js';
import { decodeAll, loadFixture, mismatch, type TensorDesc } from './test-utils/fixtures.js';

interface CreationCase {
  args: number[];
  dtype: DType | null;
  out: TensorDesc;
}
const fixture = loadFixture<Record<'arange' | 'linspace' | 'eye', CreationCase[]>>('creation.json');

function expectExact(t: Tensor, e: TensorDesc): void {
  expect(t.dtype).toBe(e.dtype);
  expect(t.shape).toEqual(e.shape);
  expect(Array.from(t.readSync())).toEqual(Array.from(decodeAll(e.data, e.dtype)));
}

/**
 * Float arange/linspace: PyTorch's CPU kernels fill contiguous outputs in SIMD chunks whose width
 * depends on the CPU it runs on (8 floats with AVX2, 16 with AVX512), each chunk counting on from
 * its own first value, and evaluate with fused multiply-adds. The values therefore differ between
 * PyTorch builds in the last bits; graft evaluates PyTorch's scalar formula, and the test allows
 * 4 units of the dtype's epsilon times the range's magnitude (2.98e-9 where PyTorch's AVX2 build
 * gives 2.98e-9 for the 0 of arange(1, -1, -0.1)). Integer dtypes and exact values must match exactly.
 */
function expectRange(t: Tensor, e: TensorDesc, magnitude: number): void {
  if (e.dtype !== 'float32' && e.dtype !== 'float64') {
    expectExact(t, e);
    return;
  }
  expect(t.dtype).toBe(e.dtype);
  expect(t.shape).toEqual(e.shape);
  const eps = e.dtype === 'float32' ? 2 ** -23 : 2 ** -52;
  expect(mismatch(t.readSync(), decodeAll(e.data, e.dtype), 0, 4 * eps * magnitude)).toBeNull();
}

const opts = (c: CreationCase) => (c.dtype ? { dtype: c.dtype } : {});

describe('arange, linspace and eye match PyTorch exactly', () => {
  for (const c of fixture.arange) {
    it(`arange(${c.args.join(', ')}${c.dtype ? `, ${c.dtype}` : ''})`, () => {
      const [a, b = 0] = c.args;
      expectRange(arange(...c.args, opts(c)), c.out, Math.max(Math.abs(a), Math.abs(b)));
    });
  }
  for (const c of fixture.linspace) {
    it(`linspace(${c.args.join(', ')}${c.dtype ? `, ${c.dtype}` : ''})`, () => {
      const [start, end, steps] = c.args;
      expectRange(linspace(start, end, steps, opts(c)), c.out, Math.max(Math.abs(start), Math.abs(end)));
    });
  }
  for (const c of fixture.eye) {
    it(`eye(${c.args.join(', ')}${c.dtype ? `, ${c.dtype}` : ''})`, () => {
      const t = c.args.length === 2 ? eye(c.args[0], c.args[1], opts(c)) : eye(c.args[0], opts(c));
      expectExact(t, c.out);
    });
  }
});

describe('filled tensors', () => {
  it('zeros/ones take a shape as an array or as numbers, and options', () => {
    expect(zeros(2, 3).shape).toEqual([2, 3]);
    expect(zeros([2, 3]).shape).toEqual([2, 3]);
    expect(zeros(2, 3).dtype).toBe('float32');
    expect(Array.from(ones([2], { dtype: 'int64' }).readSync())).toEqual([1, 1]);
    expect(ones(2, { dtype: 'int32' }).dtype).toBe('int32');
    expect(zeros([]).shape).toEqual([]);
    expect(zeros(0, 4).numel()).toBe(0);
    const z = zeros(3, { requiresGrad: true });
    expect(z.requiresGrad).toBe(true);
    expect(z.isLeaf).toBe(true);
  });

  it('full infers int64, float32 and bool like torch.full', () => {
    expect(full([2], 7).dtype).toBe('int64');
    expect(full([2], 0.5).dtype).toBe('float32');
    expect(full([2], true).dtype).toBe('bool');
    expect(Array.from(full([2, 2], -1.5).readSync())).toEqual([-1.5, -1.5, -1.5, -1.5]);
    expect(Array.from(full([1], 3, { dtype: 'float64' }).readSync())).toEqual([3]);
  });

  it('*Like copy shape and dtype unless told otherwise', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'float64' });
    expect(zerosLike(x).shape).toEqual([1, 3]);
    expect(zerosLike(x).dtype).toBe('float64');
    expect(Array.from(onesLike(x, { dtype: 'int32' }).readSync())).toEqual([1, 1, 1]);
    expect(onesLike(x, { dtype: 'int32' }).dtype).toBe('int32');
    expect(Array.from(fullLike(x, 2.5).readSync())).toEqual([2.5, 2.5, 2.5]);
    expect(randLike(x).dtype).toBe('float64');
    expect(randnLike(x).shape).toEqual([1, 3]);
    const r = randintLike(tensor([1, 2, 3, 4]), 5, 8);
    expect(r.dtype).toBe('int64');
    for (const v of r.readSync()) expect(v >= 5 && v < 8).toBe(true);
  });

  it('tensor() infers dtypes as torch.tensor does and checks nesting', () => {
    expect(tensor([1, 2]).dtype).toBe('int64');
    expect(tensor([1.5, 2]).dtype).toBe('float32');
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor(3).shape).toEqual([]);
    expect(tensor([]).dtype).toBe('float32');
    expect(tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(
      tensor([
        [1, 2],
        [3, 4],
      ]).shape,
    ).toEqual([2, 2]);
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: expected sequence of length 2 at dim 1/);
  });
});

describe('manualSeed makes every random function deterministic', () => {
  const draws = (): number[][] => [
    Array.from(rand(5).readSync()),
    Array.from(randn(2, 3).readSync()),
    Array.from(randint(10, [6]).readSync()),
    Array.from(randint(-3, 3, [6]).readSync()),
    Array.from(randperm(8).readSync()),
    Array.from(zeros(4).uniform_(-2, 2).readSync()),
    Array.from(zeros(4).normal_(1, 0.5).readSync()),
  ];

  it('the same seed gives the same values, another seed other values', () => {
    manualSeed(1234);
    const a = draws();
    manualSeed(1234);
    const b = draws();
    manualSeed(4321);
    const c = draws();
    expect(b).toEqual(a);
    for (const [i, vals] of a.entries()) expect(c[i]).not.toEqual(vals);
  });

  it('a Generator is a private stream unaffected by the default one', () => {
    const g1 = new Generator(99);
    const first = Array.from(rand(4, { generator: g1 }).readSync());
    manualSeed(5);
    rand(10);
    const g2 = new Generator(99);
    expect(Array.from(rand(4, { generator: g2 }).readSync())).toEqual(first);
    const state = g2.getState();
    const next = Array.from(randn(3, { generator: g2 }).readSync());
    g2.setState(state);
    expect(Array.from(randn(3, { generator: g2 }).readSync())).toEqual(next);
  });

  it('values have the documented ranges and distributions', () => {
    manualSeed(0);
    const u = rand(20000).readSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const n = randn(20000, { dtype: 'float64' }).readSync();
    const vals = Array.from(n);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
    // Standard errors at n = 20000: 0.007 for the mean, 0.01 for the variance.
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const ints = randint(2, 5, [1000]).readSync();
    expect(new Set(ints)).toEqual(new Set([2, 3, 4]));
    const perm = Array.from(randperm(50).readSync());
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(randperm(50).dtype).toBe('int64');
  });
});
