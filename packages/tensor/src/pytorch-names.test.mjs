// Plain JavaScript, as a user without a compiler writes it: PyTorch's `.data` and snake_case names.
import { randn, tensor, zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';

describe("Tensor.data is PyTorch's", () => {
  it('shares storage, is detached, and takes in-place writes as in the article', () => {
    const w = randn(3, 2).requiresGrad_();
    const d = w.data;
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBe(null);
    d.fill_(1);
    expect(Array.from(w.readSync())).toEqual([1, 1, 1, 1, 1, 1]);
    w.data.zero_();
    expect(Array.from(w.readSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(w.requiresGrad).toBe(true);
  });

  it('assigning .data replaces the storage and keeps the object', () => {
    const p = zeros(2).requiresGrad_();
    p.data = tensor([4, 5, 6], { dtype: 'float32' });
    expect(p.shape).toEqual([3]);
    expect(Array.from(p.readSync())).toEqual([4, 5, 6]);
    expect(p.requiresGrad).toBe(true);
    expect(() => {
      p.data = [1, 2];
    }).toThrow(/Tensor.data: expected a Tensor.*got object/);
    expect(() => {
      p.data = tensor([1], { dtype: 'int64' });
    }).toThrow(/dtype float32, got int64/);
  });

  it('reads back through read()/readSync()', async () => {
    const t = tensor([1.5, 2.5]);
    expect(Array.from(await t.read())).toEqual([1.5, 2.5]);
    expect(typeof t.data).toBe('object');
  });
});

describe('snake_case names on a Tensor', () => {
  it('requires_grad reads and writes requiresGrad', () => {
    const t = zeros(2);
    t.requires_grad = true;
    expect(t.requiresGrad).toBe(true);
    t.requires_grad = false;
    expect(t.requiresGrad).toBe(false);
    expect(Object.keys(t)).not.toContain('requires_grad');
    expect(t.requires_grad_()).toBe(t);
    expect(t.requires_grad).toBe(true);
  });

  it('is_leaf and grad_fn read; writing them throws naming the camelCase name', () => {
    const x = zeros(2).requiresGrad_();
    const y = x.mul(2);
    expect(x.is_leaf).toBe(true);
    expect(y.is_leaf).toBe(false);
    expect(y.grad_fn).toBe(y.gradFn);
    expect(() => {
      y.grad_fn = null;
    }).toThrow(/grad_fn.*not writable.*gradFn/);
    expect(() => {
      x.is_leaf = false;
    }).toThrow(/is_leaf \(isLeaf in graft\) cannot be assigned/);
  });

  it('snake_case methods call the camelCase ones', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(t.is_contiguous()).toBe(true);
    expect(t.is_floating_point()).toBe(false);
    expect(t.index_select(0, tensor([1], { dtype: 'int64' })).readSync()[0]).toBe(3);
  });
});
