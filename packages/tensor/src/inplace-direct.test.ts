// In-place ops without a graph write straight into their destination; these check that the direct
// path keeps the semantics of the general one (closed-form expected values).
import { describe, expect, it } from 'vitest';
import { arange, Generator, noGrad, tensor, zeros } from './index.js';

describe('in-place ops written directly into the destination', () => {
  it('add_ with alpha, sub_, mul_, div_ and broadcasting operands', () => {
    const x = arange(6, { dtype: 'float32' }).reshape(2, 3);
    x.add_(tensor([1, 2, 3], { dtype: 'float32' }), { alpha: 2 });
    expect(x.tolistSync()).toEqual([
      [2, 5, 8],
      [5, 8, 11],
    ]);
    x.sub_(1)
      .mul_(tensor([[2], [1]], { dtype: 'float32' }))
      .div_(2);
    expect(x.tolistSync()).toEqual([
      [1, 4, 7],
      [2, 3.5, 5],
    ]);
  });

  it('writes only the elements of a view, and handles an operand that aliases the destination', () => {
    const x = arange(6, { dtype: 'float32' }).reshape(2, 3);
    x.narrow(1, 1, 2).mul_(10);
    expect(x.tolistSync()).toEqual([
      [0, 10, 20],
      [3, 40, 50],
    ]);
    const y = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    y.add_(y.t());
    expect(y.tolistSync()).toEqual([
      [2, 5],
      [5, 8],
    ]);
  });

  it('bumps the version, so a graph that saved the old value still fails loudly', () => {
    const a = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const b = tensor([3, 4], { dtype: 'float32' });
    const out = a.mul(b).sum();
    noGrad(() => b.mul_(2));
    expect(() => out.backward()).toThrow(/modified by an inplace operation/);
  });

  it('keeps integer tensors integer: a float operand takes the general path', () => {
    const i = tensor([1, 2, 3]);
    i.add_(2);
    expect(i.dtype).toBe('int64');
    expect(i.tolistSync()).toEqual([3, 4, 5]);
  });

  it('uniform_ and normal_ drawn into contiguous storage equal the general path (a non-contiguous view)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const fill of [
        (t: ReturnType<typeof zeros>, g: Generator) => t.uniform_(-2, 3, { generator: g }),
        (t: ReturnType<typeof zeros>, g: Generator) => t.normal_(0.5, 2, { generator: g }),
      ]) {
        const direct = fill(zeros([3, 401], { dtype }), new Generator(7));
        // A transposed view is not contiguous, so it takes the general path (draws, then a strided copy).
        const general = fill(zeros([401, 3], { dtype }).t(), new Generator(7));
        expect(general.isContiguous()).toBe(false);
        expect(Array.from(direct.readSync())).toEqual(Array.from(general.readSync()));
        expect(new Set(direct.readSync()).size).toBeGreaterThan(1000);
      }
    }
  });

  it('copy_ without a graph: into a view, broadcasting, half precision, and a source sharing the storage', () => {
    // Closed forms: arange values land at the view's positions; a row broadcasts down the rows.
    const x = zeros([3, 4]);
    x.t().copy_(arange(12, { dtype: 'float32' }).reshape(4, 3));
    expect(x.tolistSync()).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7, 10],
      [2, 5, 8, 11],
    ]);
    const v = x._version;
    x.copy_(tensor([1, 2, 3, 4], { dtype: 'float32' }));
    expect(x._version).toBe(v + 1);
    expect(x.tolistSync()).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);
    const h = zeros([2, 2], { dtype: 'float16' });
    h.copy_(tensor([0.5, -1.5], { dtype: 'float16' }));
    expect(h.tolistSync()).toEqual([
      [0.5, -1.5],
      [0.5, -1.5],
    ]);
    // A source on the destination's own storage (the rows swapped) takes the general path, which reads it
    // whole before writing.
    const y = arange(6, { dtype: 'float32' }).reshape(2, 3);
    y.copy_(y.flip(0));
    expect(y.tolistSync()).toEqual([
      [3, 4, 5],
      [0, 1, 2],
    ]);
    // Another dtype (cast) and a source that does not broadcast keep the general path and its error.
    const z = zeros([2], { dtype: 'float64' });
    z.copy_(tensor([1.25, 2.5], { dtype: 'float32' }));
    expect(z.tolistSync()).toEqual([1.25, 2.5]);
    expect(() => zeros([2, 3]).copy_(zeros([2]))).toThrow(/copy_/);
  });
});
