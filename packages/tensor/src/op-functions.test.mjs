// Plain JavaScript, as a user without a compiler writes it: the free functions (PyTorch's torch.*) are
// the methods, forward and backward.
import { cumsum, flip, maskedFill, prod, sin, tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';

const values = [
  [0.5, -1.25, 2],
  [0, 3, -0.75],
];

/** Runs `f` on a fresh leaf; returns the output's values and the leaf's gradient of sum(out * weights). */
function run(f) {
  const x = tensor(values, { dtype: 'float64' }).requiresGrad_();
  const out = f(x);
  const w = tensor(
    Array.from({ length: out.numel() }, (_, i) => i + 1),
    { dtype: 'float64' },
  ).reshape(out.shape);
  out.mul(w).sum().backward();
  return { out: out.tolistSync(), grad: x.grad.tolistSync(), gradFn: out.gradFn.name };
}

describe('free functions from @graft/tensor match the methods', () => {
  it('sin', () => {
    const viaFunction = run((x) => sin(x));
    expect(viaFunction).toEqual(run((x) => x.sin()));
    expect(viaFunction.gradFn).toBe('SinBackward0');
    expect(viaFunction.out[0][0]).toBe(Math.sin(0.5));
    // d/dx sin = cos, times the weight 1 of the first element
    expect(viaFunction.grad[0][0]).toBe(Math.cos(0.5));
  });

  it('prod (with a zero in the input, the gradient is the product of the others)', () => {
    const all = run((x) => prod(x));
    expect(all).toEqual(run((x) => x.prod()));
    expect(all.out).toBe(0);
    expect(all.grad).toEqual([
      [0, 0, 0],
      [0.5 * -1.25 * 2 * 3 * -0.75, 0, 0],
    ]);
    expect(run((x) => prod(x, 1, true))).toEqual(run((x) => x.prod(1, true)));
  });

  it('cumsum', () => {
    const viaFunction = run((x) => cumsum(x, 1));
    expect(viaFunction).toEqual(run((x) => x.cumsum(1)));
    expect(viaFunction.out).toEqual([
      [0.5, -0.75, 1.25],
      [0, 3, 2.25],
    ]);
    // gradient: suffix sums of the weights [1, 2, 3] and [4, 5, 6]
    expect(viaFunction.grad).toEqual([
      [6, 5, 3],
      [15, 11, 6],
    ]);
  });

  it('flip', () => {
    const viaFunction = run((x) => flip(x, [0, 1]));
    expect(viaFunction).toEqual(run((x) => x.flip(0, 1)));
    expect(viaFunction.out).toEqual([
      [-0.75, 3, 0],
      [2, -1.25, 0.5],
    ]);
    expect(viaFunction.grad).toEqual([
      [6, 5, 4],
      [3, 2, 1],
    ]);
  });

  it('maskedFill', () => {
    const mask = tensor([true, false, true]);
    const viaFunction = run((x) => maskedFill(x, mask, 9));
    expect(viaFunction).toEqual(run((x) => x.maskedFill(mask, 9)));
    expect(viaFunction.out).toEqual([
      [9, -1.25, 9],
      [9, 3, 9],
    ]);
    expect(viaFunction.grad).toEqual([
      [0, 2, 0],
      [0, 5, 0],
    ]);
  });
});
