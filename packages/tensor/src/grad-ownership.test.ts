// A leaf's .grad takes a gradient the backward pass made and nothing else holds, without a copy (as
// PyTorch's AccumulateGrad steals it), and copies everything else: a gradient handed to two leaves,
// the caller's gradient, a view of another gradient.
import { describe, expect, it, vi } from 'vitest';
import { tensor as make } from './index.js';

const tensor = (v: number[], opts: { requiresGrad?: boolean } = {}) => make(v, { dtype: 'float32', ...opts });

describe('leaf gradients own their storage', () => {
  it('a gradient handed to two leaves (a + b) gives each its own copy', () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const b = tensor([4, 5, 6], { requiresGrad: true });
    a.add(b)
      .mul(tensor([1, 2, 3]))
      .sum()
      .backward();
    expect(a.grad!._ref.storage).not.toBe(b.grad!._ref.storage);
    a.grad!.add_(10);
    expect(Array.from(b.grad!.readSync())).toEqual([1, 2, 3]);
    expect(Array.from(a.grad!.readSync())).toEqual([11, 12, 13]);
  });

  it("the caller's gradient is copied, never taken", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const g = tensor([3, 4]);
    x.add(tensor([5, 6])).backward(g);
    expect(x.grad!._ref.storage).not.toBe(g._ref.storage);
    x.grad!.mul_(2);
    expect(Array.from(g.readSync())).toEqual([3, 4]);
  });

  it('a fresh gradient is taken, and later backward calls accumulate into the same tensor', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).sum().backward();
    const first = x.grad!;
    expect(Array.from(first.readSync())).toEqual([2, 4, 6]);
    x.mul(tensor([1, 1, 1]))
      .sum()
      .backward();
    expect(x.grad).toBe(first);
    expect(Array.from(first.readSync())).toEqual([3, 5, 7]);
  });

  it('a leaf used by two nodes gets the sum of both, its .grad private', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    const z = x.mul(3);
    y.add(z).sum().backward();
    expect(Array.from(x.grad!.readSync())).toEqual([5, 5]);
  });
});

// A gradient backward made and nobody has read (`.grad`) is private: letting it go (`p.grad = null`,
// as `zeroGrad` does) frees its storage at once, as PyTorch's reference count would. One read through
// `.grad` may be held by the reader, so it is left to the garbage collector and stays valid.
describe('letting go of a gradient', () => {
  const backwardOf = (x: ReturnType<typeof tensor>) => x.mul(x).sum().backward();

  it('frees a private gradient at once', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    backwardOf(x);
    const storage = x._peekGrad()!._ref.storage;
    const dispose = vi.spyOn(storage, 'dispose');
    x.grad = null;
    expect(dispose).toHaveBeenCalledTimes(1);
    expect(x._peekGrad()).toBeNull();
  });

  it('keeps a gradient private across accumulating backward calls, then frees it', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    backwardOf(x);
    backwardOf(x);
    expect(Array.from(x._peekGrad()!.readSync())).toEqual([4, 8, 12]);
    const dispose = vi.spyOn(x._peekGrad()!._ref.storage, 'dispose');
    x.grad = null;
    expect(dispose).toHaveBeenCalledTimes(1);
  });

  it('leaves a gradient read through .grad to the collector: the reader can still use it', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    backwardOf(x);
    const held = x.grad!;
    const dispose = vi.spyOn(held._ref.storage, 'dispose');
    x.grad = null;
    expect(dispose).not.toHaveBeenCalled();
    expect(Array.from(held.readSync())).toEqual([2, 4, 6]);
    // Read before a later backward accumulated into it: still handed out.
    const y = tensor([1, 2], { requiresGrad: true });
    backwardOf(y);
    const early = y.grad!;
    backwardOf(y);
    y.grad = null;
    expect(Array.from(early.readSync())).toEqual([4, 8]);
  });

  it('never frees a gradient the caller assigned, nor one replaced by a view of itself', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const mine = tensor([5, 6]);
    x.grad = mine;
    x.grad = null;
    expect(Array.from(mine.readSync())).toEqual([5, 6]);
    const y = tensor([1, 2], { requiresGrad: true });
    backwardOf(y);
    const g = y._peekGrad()!;
    const dispose = vi.spyOn(g._ref.storage, 'dispose');
    y.grad = g.detach(); // the same storage: nothing is let go
    y.grad = null; // assigned by the caller: not private
    expect(dispose).not.toHaveBeenCalled();
  });
});
