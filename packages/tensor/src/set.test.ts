// set_: a tensor takes over another's storage and layout but keeps its identity (PyTorch's `param.data = t`).
import { describe, expect, it } from 'vitest';
import { noGrad, tensor, zeros } from './index.js';

describe('set_', () => {
  it('shares the source storage, shape and strides, keeping the object', () => {
    const t = zeros(2, 2);
    const src = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float32' },
    ).t();
    const same = t.set_(src);
    expect(same).toBe(t);
    expect(t.shape).toEqual([3, 2]);
    expect(t.strides).toEqual([1, 3]);
    expect(t.tolistSync()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    noGrad(() => src.mul_(10));
    expect(t.tolistSync()).toEqual([
      [10, 40],
      [20, 50],
      [30, 60],
    ]);
  });

  it('refuses another dtype, and a leaf that requires grad outside noGrad', () => {
    expect(() => zeros(2).set_(tensor([1, 2]))).toThrow(
      'set_: expected a source of dtype float32, got int64',
    );
    const p = zeros(2, { requiresGrad: true });
    expect(() => p.set_(zeros(3))).toThrow('leaf Variable that requires grad');
    noGrad(() => p.set_(zeros(3)));
    expect(p.shape).toEqual([3]);
    expect(p.requiresGrad).toBe(true);
  });
});
