// Autograd semantics, each checked against a closed form: leaves, accumulation, backward(gradient),
// retainGraph, grad modes, detach, retainGrad, and in-place ops with their version checks.

import { describe, expect, it } from 'vitest';
import { enableGrad, isGradEnabled, noGrad } from './autograd.js';
import { ones, randn, tensor, zeros } from './creation.js';
import { manualSeed } from './random.js';
import type { Tensor } from './tensor.js';

const f32 = (v: number[]) => tensor(v, { dtype: 'float32' });
const vals = (t: Tensor | null) => Array.from(t!.readSync());
const leaf = (v: number[]) => f32(v).requiresGrad_();

describe('leaves and graph', () => {
  it('tensors made by the user are leaves; op results that need grad are not', () => {
    const x = leaf([1, 2, 3]);
    const c = f32([1, 1, 1]);
    const y = x.mul(2);
    expect(x.isLeaf).toBe(true);
    expect(c.isLeaf).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn?.name).toBe('MulBackward0');
    expect(c.mul(2).requiresGrad).toBe(false);
    expect(c.mul(2).isLeaf).toBe(true);
  });

  it('only leaves receive .grad; a tensor used twice gets the sum of both uses', () => {
    const x = leaf([1, 2, 3]);
    const y = x.mul(x).add(x); // dy/dx = 2x + 1
    y.sum().backward();
    expect(vals(x.grad)).toEqual([3, 5, 7]);
    expect(y.grad).toBeNull();
  });

  it('a diamond graph sums both paths', () => {
    const x = leaf([2]);
    const y = x.mul(3);
    const z = y.mul(y).add(y.exp()); // dz/dx = (2y + e^y) * 3 at y = 6
    z.backward();
    expect(x.grad!.itemSync()).toBeCloseTo(Math.fround((12 + Math.exp(6)) * 3), 1);
  });

  it('.grad accumulates across backward calls, into the same tensor object', () => {
    const x = leaf([1, 2]);
    x.mul(3).sum().backward();
    const g = x.grad!;
    x.mul(3).sum().backward();
    expect(x.grad).toBe(g);
    expect(vals(g)).toEqual([6, 6]);
    x.grad = null;
    x.mul(3).sum().backward();
    expect(vals(x.grad)).toEqual([3, 3]);
  });

  it('backward(gradient) computes the vector-Jacobian product of a non-scalar', () => {
    const x = leaf([1, 2, 3]);
    x.mul(x).backward(f32([1, 0.5, 2]));
    expect(vals(x.grad)).toEqual([2, 2, 12]);
  });

  it('backward on a non-scalar without a gradient, or with a wrong-shaped one, is an error', () => {
    const x = leaf([1, 2, 3]);
    expect(() => x.mul(2).backward()).toThrow(
      'grad can be implicitly created only for scalar outputs (got shape [3])',
    );
    expect(() => x.mul(2).backward(f32([1, 2]))).toThrow(
      'backward: gradient has shape [2], but the tensor has shape [3]',
    );
    expect(() => f32([1]).backward()).toThrow(
      'element 0 of tensors does not require grad and does not have a gradFn',
    );
  });

  it('backward on a leaf accumulates the gradient into it', () => {
    const x = leaf([4]);
    x.backward();
    expect(vals(x.grad)).toEqual([1]);
  });

  it('retainGraph keeps saved tensors for a second backward; without it the second one fails', () => {
    const x = leaf([0, 1]);
    const s = x.exp().sum();
    s.backward(undefined, { retainGraph: true });
    s.backward();
    expect(vals(x.grad)).toEqual([2, Math.fround(2 * Math.E)]);
    expect(() => s.backward()).toThrow(/Trying to backward through the graph a second time/);
  });

  it('nodes that saved nothing may run twice, as in PyTorch', () => {
    const x = leaf([1, 2]);
    const s = x.add(1).sum();
    s.backward();
    s.backward();
    expect(vals(x.grad)).toEqual([2, 2]);
  });

  it('gradients keep the dtype of the leaf', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    x.mul(f32([1, 1]))
      .sum()
      .backward();
    expect(x.grad!.dtype).toBe('float64');
  });

  it('casts pass gradients back in the input dtype', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const y = x.float();
    expect(y.gradFn?.name).toBe('ToCopyBackward0');
    y.mul(f32([3, 4]))
      .sum()
      .backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(vals(x.grad)).toEqual([3, 4]);
    expect(x.long().requiresGrad).toBe(false);
  });

  it('deep graphs do not overflow the stack', () => {
    const x = leaf([1]);
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.add(1);
    y.backward();
    expect(vals(x.grad)).toEqual([1]);
  });
});

describe('grad modes', () => {
  it('noGrad records nothing and returns what the function returns', () => {
    const x = leaf([1, 2]);
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(noGrad(() => 42)).toBe(42);
    expect(isGradEnabled()).toBe(true);
  });

  it('enableGrad records inside noGrad; modes are restored after exceptions', () => {
    const x = leaf([1, 2]);
    const y = noGrad(() => enableGrad(() => x.mul(2)));
    expect(y.requiresGrad).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });
});

describe('detach, requiresGrad_, retainGrad', () => {
  it('detach shares storage and cuts the graph', () => {
    const x = leaf([1, 2]);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    d.fill_(5);
    expect(vals(x)).toEqual([5, 5]);
    const y = x.mul(x.detach()); // d/dx = detached x only
    y.sum().backward();
    expect(vals(x.grad)).toEqual([5, 5]);
  });

  it('requiresGrad_ sets the flag on leaves and returns the tensor', () => {
    const x = f32([1]);
    expect(x.requiresGrad_()).toBe(x);
    expect(x.requiresGrad).toBe(true);
    x.requiresGrad_(false);
    expect(x.requiresGrad).toBe(false);
    expect(() => tensor([1, 2]).requiresGrad_()).toThrow(
      'only Tensors of floating point dtype can require gradients (got int64)',
    );
    const y = leaf([1]).mul(2);
    expect(() => y.requiresGrad_(false)).toThrow(/you can only change requiresGrad flags of leaf variables/);
  });

  it('retainGrad keeps the gradient of a non-leaf', () => {
    const x = leaf([1, 2]);
    const y = x.mul(3).retainGrad();
    const z = x.mul(3);
    y.mul(y).sum().add(z.sum()).backward();
    expect(vals(y.grad)).toEqual([6, 12]); // 2y
    expect(z.grad).toBeNull();
    expect(vals(x.grad)).toEqual([21, 39]); // 2y*3 + 3
    expect(() => f32([1]).retainGrad()).toThrow("can't retainGrad on Tensor that has requiresGrad=false");
  });
});

describe('in-place ops', () => {
  it('compute their values in place and bump the version counter', () => {
    const t = f32([1, 2, 3]);
    const v0 = t._version;
    expect(t.add_(1)).toBe(t);
    expect(vals(t)).toEqual([2, 3, 4]);
    t.mul_(f32([2, 0.5, 1]));
    expect(vals(t)).toEqual([4, 1.5, 4]);
    t.sub_(1, { alpha: 2 });
    expect(vals(t)).toEqual([2, -0.5, 2]);
    t.add_(f32([1]), { alpha: -1 });
    expect(vals(t)).toEqual([1, -1.5, 1]);
    t.zero_();
    expect(vals(t)).toEqual([0, 0, 0]);
    t.fill_(2.5);
    expect(vals(t)).toEqual([2.5, 2.5, 2.5]);
    t.copy_(f32([7]));
    expect(vals(t)).toEqual([7, 7, 7]);
    expect(t._version).toBe(v0 + 7);
  });

  it('copy_ broadcasts and casts to the destination dtype', () => {
    const t = zeros([2, 2], { dtype: 'int32' });
    t.copy_(f32([1.7, -2.7]));
    expect(t.dtype).toBe('int32');
    expect(vals(t)).toEqual([1, -2, 1, -2]);
  });

  it('uniform_ and normal_ draw from the seeded default generator', () => {
    manualSeed(3);
    const a = zeros(1000).uniform_(-2, 3);
    manualSeed(3);
    const b = zeros(1000).uniform_(-2, 3);
    expect(vals(a)).toEqual(vals(b));
    expect(Math.min(...vals(a))).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...vals(a))).toBeLessThan(3);
    const n = zeros(20000, { dtype: 'float64' }).normal_(5, 2);
    const m = vals(n).reduce((s, v) => s + v, 0) / 20000;
    const sd = Math.sqrt(vals(n).reduce((s, v) => s + (v - m) ** 2, 0) / 20000);
    // standard errors: 0.014 for the mean, 0.01 for the standard deviation
    expect(Math.abs(m - 5)).toBeLessThan(0.07);
    expect(Math.abs(sd - 2)).toBeLessThan(0.05);
    expect(n.dtype).toBe('float64');
  });

  it('on a leaf that requires grad they are an error, unless grad mode is off', () => {
    const w = leaf([1, 2]);
    expect(() => w.add_(1)).toThrow(
      'add_: a leaf Variable that requires grad is being used in an in-place operation.',
    );
    expect(() => w.narrow(0, 0, 1).mul_(2)).toThrow(
      'mul_: a view of a leaf Variable that requires grad is being used in an in-place operation.',
    );
    noGrad(() => w.sub_(f32([0.5, 0.5])));
    expect(vals(w)).toEqual([0.5, 1.5]);
    expect(w.isLeaf).toBe(true);
  });

  it('on a non-leaf they extend the graph', () => {
    const x = leaf([1, 2]);
    const y = x.mul(2);
    y.add_(1);
    y.mul_(3);
    expect(y.gradFn?.name).toBe('MulBackward0');
    y.sum().backward();
    expect(vals(x.grad)).toEqual([6, 6]);
  });

  it('into a tensor that needs no grad, from one that does, they make it part of the graph', () => {
    const x = leaf([1, 2]);
    const acc = zeros(2);
    acc.add_(x.mul(x));
    expect(acc.requiresGrad).toBe(true);
    acc.sum().backward();
    expect(vals(x.grad)).toEqual([2, 4]);
    const z = zeros(2);
    z.copy_(x);
    z.mul(f32([3, 4]))
      .sum()
      .backward();
    expect(vals(x.grad)).toEqual([5, 8]);
  });

  it('through a view they update the base, in values and in the graph', () => {
    const a = leaf([1, 2, 3]);
    const b = a.mul(1);
    const v = b.narrow(0, 0, 2);
    v.mul_(f32([10, 100]));
    expect(vals(b)).toEqual([10, 200, 3]);
    expect(b.gradFn?.name).toBe('CopySlices');
    b.mul(f32([1, 2, 3]))
      .sum()
      .backward();
    expect(vals(a.grad)).toEqual([10, 200, 3]);
    // The view itself continues from the updated base.
    const a2 = leaf([1, 2, 3]);
    const b2 = a2.mul(1);
    const v2 = b2.select(0, 1);
    v2.add_(5);
    v2.mul(4).backward();
    expect(vals(a2.grad)).toEqual([0, 4, 0]);
  });

  it('raise at backward when a tensor saved for it was modified in place', () => {
    const x = leaf([1, 2]);
    const y = x.exp(); // saves its output
    y.add_(1);
    expect(() => y.sum().backward()).toThrow(
      'one of the variables needed for gradient computation has been modified by an inplace operation: ' +
        '[float32 tensor of shape [2]], which is output 0 of AddBackward0, is at version 1; expected version 0 instead (in ExpBackward0).',
    );
    const a = x.mul(1);
    const b = a.mul(a); // saves a
    a.mul_(2);
    expect(() => b.sum().backward()).toThrow(
      /modified by an inplace operation.*is at version 1; expected version 0 instead \(in MulBackward0\)/,
    );
    // A write through a view bumps the shared version counter too.
    const c = x.mul(1);
    const d = c.sigmoid();
    d.narrow(0, 0, 1).zero_();
    expect(() => d.sum().backward()).toThrow(/expected version 0 instead \(in SigmoidBackward0\)/);
  });

  it('that overwrite a value (fill_, zero_, copy_ of a constant) cut the gradient to the old one', () => {
    const x = leaf([1, 2]);
    const y = x.mul(2);
    y.fill_(3);
    expect(y.gradFn?.name).toBe('FillBackward0');
    y.mul(x).sum().backward(); // y is constant now: d/dx = y
    expect(vals(x.grad)).toEqual([3, 3]);
    const z = x.mul(2);
    z.narrow(0, 1, 1).zero_();
    z.sum().backward();
    expect(vals(x.grad)).toEqual([5, 3]); // +2 where z still depends on x, +0 where it was zeroed
  });

  it('that do not touch saved tensors leave backward working', () => {
    const x = leaf([1, 2]);
    const y = x.add(1); // saves nothing
    const z = y.mul(2);
    y.fill_(0);
    z.sum().backward();
    expect(vals(x.grad)).toEqual([2, 2]);
    expect(vals(z)).toEqual([4, 6]);
  });

  it('write into storage shared with views', () => {
    const t = ones(2, 3);
    t.select(1, 2).fill_(9);
    expect(vals(t)).toEqual([1, 1, 9, 1, 1, 9]);
    const r = randn(3, 4);
    const before = r.clone();
    r.t().narrow(0, 1, 1).zero_();
    expect(vals(r.select(1, 1))).toEqual([0, 0, 0]);
    expect(vals(r.select(1, 0))).toEqual(vals(before.select(1, 0)));
  });
});
