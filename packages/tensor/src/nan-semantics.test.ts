// NaN in logical ops and pow follows C/PyTorch: NaN is "true" (x != 0), and 1^y = 1 for every y.
// Reference values: PyTorch 1.13 (torch.logical_not(nan) is False, torch.pow(1, nan) is 1) and C99's pow.
import { describe, expect, it } from 'vitest';
import { tensor } from './index.js';

describe('NaN semantics on the CPU backend', () => {
  const nan = tensor([Number.NaN, 0, 2], { dtype: 'float32' });
  it('logical ops and any/all treat NaN as true', () => {
    expect(nan.logicalNot().tolistSync()).toEqual([false, true, false]);
    expect(nan.logicalAnd(tensor([1, 1, 1], { dtype: 'float32' })).tolistSync()).toEqual([true, false, true]);
    expect(nan.logicalOr(tensor([0, 0, 0], { dtype: 'float32' })).tolistSync()).toEqual([true, false, true]);
    expect(tensor([Number.NaN, 0], { dtype: 'float32' }).any().itemSync()).toBe(1);
    expect(tensor([Number.NaN, 1], { dtype: 'float32' }).all().itemSync()).toBe(1);
  });
  it('pow: 1^NaN = 1, (-1)^(+-inf) = 1, NaN^0 = 1', () => {
    const base = tensor([1, -1, -1, Number.NaN, 2], { dtype: 'float32' });
    const exp = tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, Number.NaN], {
      dtype: 'float32',
    });
    const out = Array.from(base.pow(exp).readSync());
    expect(out.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(Number.isNaN(out[4])).toBe(true);
  });
});
