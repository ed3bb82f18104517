// View ops are stride arithmetic over shared storage: shapes, strides and values by their
// definitions, no copies (checked by writing through one view and reading another), and errors.

import { describe, expect, it } from 'vitest';
import { arange, tensor, zeros } from './creation.js';
import { broadcastShapes } from './shape.js';
import type { Tensor } from './tensor.js';

const vals = (t: Tensor) => Array.from(t.readSync());
/** 0..n-1 as float32 in `shape`. */
const seq = (...shape: number[]) =>
  arange(
    shape.reduce((a, b) => a * b, 1),
    { dtype: 'float32' },
  ).reshape(shape);
/** Writes `v` through `view` and reports whether `base` saw it at flat position `at`. */
function shares(base: Tensor, view: Tensor, at: number, v = -99): boolean {
  view.fill_(v);
  return base.readSync()[at] === v;
}

describe('reshape and view', () => {
  it('view of a contiguous tensor shares storage', () => {
    const x = seq(2, 6);
    const v = x.view(3, 4);
    expect(v.shape).toEqual([3, 4]);
    expect(v.strides).toEqual([4, 1]);
    expect(vals(v)).toEqual(vals(x));
    expect(shares(x, v.select(0, 2), 8)).toBe(true);
  });

  it('infers one -1 dim', () => {
    expect(seq(2, 6).reshape(-1, 3).shape).toEqual([4, 3]);
    expect(seq(2, 6).view([4, -1]).shape).toEqual([4, 3]);
    expect(seq(2, 6).reshape(-1).shape).toEqual([12]);
    expect(tensor(5).reshape(1, 1).shape).toEqual([1, 1]);
  });

  it('view splits and merges dims only where strides allow; reshape copies otherwise', () => {
    const t = seq(3, 4).t(); // [4, 3] with strides [1, 4]
    expect(t.unsqueeze(1).view(4, 3).strides).toEqual([1, 4]);
    expect(() => t.view(12)).toThrow(
      "view: size [12] is not compatible with input tensor's size [4, 3] and stride [1, 4] (at least one dimension spans across two contiguous subspaces). Use reshape() instead.",
    );
    const r = t.reshape(12);
    expect(vals(r)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(shares(t, r, 0)).toBe(false);
    // A non-contiguous but splittable layout still views: every other row, split the columns.
    const rows = seq(4, 6).slice(0, 0, 4, 2);
    const split = rows.view(2, 2, 3);
    expect(split.strides).toEqual([12, 3, 1]);
    expect(shares(rows, split.select(1, 1).select(0, 1), 9)).toBe(true);
  });

  it('rejects impossible shapes', () => {
    expect(() => seq(2, 3).reshape(4, 2)).toThrow("reshape: shape '[4, 2]' is invalid for input of size 6");
    expect(() => seq(2, 3).reshape(-1, 4)).toThrow("reshape: shape '[-1, 4]' is invalid for input of size 6");
    expect(() => seq(2, 3).reshape(-1, -1)).toThrow('reshape: only one dimension can be inferred');
  });
});

describe('permute, transpose, t, T', () => {
  it('reorders shape and strides without copying', () => {
    const x = seq(2, 3, 4);
    const p = x.permute(2, 0, 1);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.strides).toEqual([1, 12, 4]);
    // p[i][j][k] = x[j][k][i] = 12j + 4k + i
    expect(p.tolistSync()).toEqual(
      Array.from({ length: 4 }, (_, i) =>
        Array.from({ length: 2 }, (_, j) => Array.from({ length: 3 }, (_, k) => 12 * j + 4 * k + i)),
      ),
    );
    expect(p.isContiguous()).toBe(false);
    expect(shares(x, p.select(0, 3).select(0, 1).select(0, 2), 23)).toBe(true);
  });

  it('transpose swaps two dims, t() the two of a matrix, T reverses all', () => {
    const x = seq(2, 3, 4);
    expect(x.transpose(0, -1).shape).toEqual([4, 3, 2]);
    expect(x.transpose(0, -1).strides).toEqual([1, 4, 12]);
    expect(seq(2, 3).t().tolistSync()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(seq(3).t().shape).toEqual([3]);
    expect(x.T.shape).toEqual([4, 3, 2]);
    expect(() => x.t()).toThrow('t() expects a tensor with <= 2 dimensions, but self is 3D');
  });

  it('rejects bad permutations', () => {
    expect(() => seq(2, 3).permute(0)).toThrow(
      /permute: number of dims don't match in permute \(input has 2 dims, got 1/,
    );
    expect(() => seq(2, 3).permute(1, 1)).toThrow('permute: repeated dim in [1, 1]');
    expect(() => seq(2, 3).permute(0, 2)).toThrow(
      'permute: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
  });
});

describe('expand', () => {
  it('broadcasts size-1 dims with stride 0 and adds leading dims', () => {
    const x = seq(3, 1);
    const e = x.expand(2, 3, 4);
    expect(e.shape).toEqual([2, 3, 4]);
    expect(e.strides).toEqual([0, 1, 0]);
    expect(vals(e.select(0, 1).select(0, 2))).toEqual([2, 2, 2, 2]);
    expect(x.expand(-1, 5).shape).toEqual([3, 5]);
    expect(x.expandAs(zeros(3, 2)).shape).toEqual([3, 2]);
    // One storage element backs every copy.
    expect(shares(e, x.narrow(0, 1, 1), 5)).toBe(true);
  });

  it('refuses to change a non-singleton dim', () => {
    expect(() => seq(3, 2).expand(3, 4)).toThrow(
      'expand: the expanded size of the tensor (4) must match the existing size (2) at non-singleton dimension 1. Target sizes: [3, 4]. Tensor sizes: [3, 2]',
    );
    expect(() => seq(3).expand(2)).toThrow(
      /the expanded size of the tensor \(2\) must match the existing size \(3\)/,
    );
  });
});

describe('squeeze, unsqueeze, flatten, unflatten', () => {
  it('remove and insert size-1 dims', () => {
    const x = seq(1, 3, 1, 2);
    expect(x.squeeze().shape).toEqual([3, 2]);
    expect(x.squeeze(2).shape).toEqual([1, 3, 2]);
    expect(x.squeeze(1).shape).toEqual([1, 3, 1, 2]); // not size 1: unchanged
    expect(x.squeeze(-4).shape).toEqual([3, 1, 2]);
    expect(seq(3, 2).unsqueeze(0).shape).toEqual([1, 3, 2]);
    expect(seq(3, 2).unsqueeze(-1).shape).toEqual([3, 2, 1]);
    expect(seq(3, 2).unsqueeze(1).strides).toEqual([2, 2, 1]);
    expect(shares(x, x.squeeze().select(0, 1), 2)).toBe(true);
  });

  it('flatten merges a range of dims; unflatten splits one', () => {
    const x = seq(2, 3, 4);
    expect(x.flatten().shape).toEqual([24]);
    expect(x.flatten(1).shape).toEqual([2, 12]);
    expect(x.flatten(0, 1).shape).toEqual([6, 4]);
    expect(tensor(2).flatten().shape).toEqual([1]);
    expect(x.unflatten(2, [2, -1]).shape).toEqual([2, 3, 2, 2]);
    expect(shares(x, x.flatten(1).select(1, 5), 5)).toBe(true);
  });
});

describe('narrow, select, slice', () => {
  it('narrow takes a range along a dim as a view', () => {
    const x = seq(4, 5);
    const n = x.narrow(1, 1, 3);
    expect(n.shape).toEqual([4, 3]);
    expect(n.offset).toBe(1);
    expect(vals(n.select(0, 1))).toEqual([6, 7, 8]);
    expect(x.narrow(0, -2, 2).offset).toBe(10);
    expect(shares(x, n.select(0, 3).select(0, 2), 18)).toBe(true);
    expect(() => x.narrow(1, 3, 3)).toThrow('narrow: start (3) + length (3) exceeds dimension size (5).');
  });

  it('select removes a dim; negative indices count from the end', () => {
    const x = seq(3, 4);
    expect(vals(x.select(1, -1))).toEqual([3, 7, 11]);
    expect(x.select(0, 2).strides).toEqual([1]);
    expect(() => x.select(0, 3)).toThrow(
      'select: index 3 out of range for tensor of size [3, 4] at dimension 0',
    );
    expect(shares(x, x.select(1, 0), 8)).toBe(true);
  });

  it('slice follows Python: steps, negative and clamped bounds', () => {
    const x = seq(10);
    expect(vals(x.slice(0, 1, 8, 3))).toEqual([1, 4, 7]);
    expect(vals(x.slice(0, -3))).toEqual([7, 8, 9]);
    expect(vals(x.slice(0, undefined, -7))).toEqual([0, 1, 2]);
    expect(vals(x.slice(0, 8, 100))).toEqual([8, 9]);
    expect(x.slice(0, 5, 2).shape).toEqual([0]);
    expect(x.slice(0, 1, 8, 3).strides).toEqual([3]);
    expect(shares(x, x.slice(0, 1, 8, 3).narrow(0, 2, 1), 7)).toBe(true);
    expect(() => x.slice(0, 0, 5, 0)).toThrow('slice: step must be positive, got 0');
  });

  it('split, chunk and unbind give views', () => {
    const x = seq(7, 2);
    expect(x.split(3).map((t) => t.shape[0])).toEqual([3, 3, 1]);
    expect(x.split([2, 5]).map((t) => t.shape[0])).toEqual([2, 5]);
    expect(x.chunk(3).map((t) => t.shape[0])).toEqual([3, 3, 1]);
    expect(
      seq(2, 6)
        .chunk(4, 1)
        .map((t) => t.shape[1]),
    ).toEqual([2, 2, 2]);
    expect(x.unbind(1).map(vals)).toEqual([
      [0, 2, 4, 6, 8, 10, 12],
      [1, 3, 5, 7, 9, 11, 13],
    ]);
    expect(shares(x, x.split(3)[2], 12)).toBe(true);
    expect(() => x.split([2, 2])).toThrow(
      "split: split_with_sizes expects split_sizes to sum exactly to 7 (input tensor's size at dimension 0), but got split_sizes=[2, 2]",
    );
  });
});

describe('asStrided and contiguous', () => {
  it('asStrided views storage with explicit strides and offset, overlapping allowed', () => {
    const x = seq(6);
    const w = x.asStrided([3, 3], [1, 1], 0);
    expect(w.tolistSync()).toEqual([
      [0, 1, 2],
      [1, 2, 3],
      [2, 3, 4],
    ]);
    const s = seq(3, 4).asStrided([2, 2], [1, 4], 1);
    expect(s.tolistSync()).toEqual([
      [1, 5],
      [2, 6],
    ]);
    expect(shares(x, w.select(0, 2).select(0, 2), 4)).toBe(true);
    expect(() => x.asStrided([4], [2], 0)).toThrow(
      'asStrided: setStorage out of bounds for storage of size 6 (shape [4], strides [2], offset 0)',
    );
  });

  it('contiguous returns the tensor itself when already contiguous, a dense copy otherwise', () => {
    const x = seq(3, 4);
    expect(x.contiguous()).toBe(x);
    const t = x.t();
    const c = t.contiguous();
    expect(c).not.toBe(t);
    expect(c.isContiguous()).toBe(true);
    expect(c.strides).toEqual([3, 1]);
    expect(vals(c)).toEqual(vals(t));
    expect(shares(x, c, 0)).toBe(false);
    // Size-1 dims do not break contiguity, as in PyTorch.
    expect(seq(3, 1).expand(3, 1).isContiguous()).toBe(true);
    expect(seq(3, 1).expand(3, 2).isContiguous()).toBe(false);
  });

  it('views share the version counter of their storage', () => {
    const x = seq(4);
    const v = x.narrow(0, 1, 2);
    const before = x._version;
    v.add_(1);
    expect(x._version).toBe(before + 1);
    expect(vals(x)).toEqual([0, 2, 3, 3]);
  });
});

describe('broadcasting', () => {
  it('aligns shapes from the right, like PyTorch', () => {
    expect(broadcastShapes([3, 1, 4], [2, 1])).toEqual([3, 2, 4]);
    expect(broadcastShapes([], [2, 3])).toEqual([2, 3]);
    expect(broadcastShapes([5, 0], [1])).toEqual([5, 0]);
    expect(() => broadcastShapes([2, 3], [4], 'add')).toThrow(
      'add: the size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1 (shapes [2, 3] and [4])',
    );
  });

  it('reads broadcast operands through stride-0 views, with no copy of the inputs', () => {
    const a = seq(3, 1);
    const b = seq(4);
    expect(a.add(b).tolistSync()).toEqual([
      [0, 1, 2, 3],
      [1, 2, 3, 4],
      [2, 3, 4, 5],
    ]);
  });
});
