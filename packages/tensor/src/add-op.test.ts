// The README's "Adding an op" path, followed by a test: a toy op computed from core kernels through
// `backendOf`, recorded with `record` and a backward in Tensor ops, then checked on every CPU backend
// against a closed form and against finite differences.

import { describe, expect, it } from 'vitest';
import { record } from './autograd.js';
import { fromTypedArray } from './creation.js';
import { backendOf, wrap } from './ops/core.js';
import type { Tensor } from './tensor.js';
import { backendName, on, reference, wasm } from './test-utils/backends.js';
import { gradcheck } from './test-utils/gradcheck.js';

/** The toy op: x^3, forward from the core's binary kernel, backward 3 x^2 g in Tensor ops. */
function cube(x: Tensor): Tensor {
  const b = backendOf(x);
  const square = wrap(b.binary('mul', x._view, x._view, x.dtype), x.shape, x.dtype);
  const out = wrap(b.binary('mul', square._view, x._view, x.dtype), x.shape, x.dtype);
  return record('CubeBackward0', out, [x], (g) => [g.mul(x.square()).mul(3)], [x]);
}

describe('adding an op through the documented path', () => {
  const values = Float32Array.from([-2, -0.5, 0, 1.5, 3]);
  for (const backend of [reference, wasm]) {
    it(`runs forward and backward on ${backend.name}`, () => {
      const x = on(backend, fromTypedArray(values, [5])).requiresGrad_();
      const y = cube(x);
      expect(backendName(y)).toBe(backend.name);
      expect(y.gradFn?.name).toBe('CubeBackward0');
      expect(Array.from(y.readSync())).toEqual(Array.from(values, (v) => v ** 3));
      y.sum().backward();
      expect(Array.from(x.grad?.readSync() ?? [])).toEqual(Array.from(values, (v) => 3 * v * v));
    });
  }

  it('its gradient matches finite differences (float64)', () => {
    const x = fromTypedArray(Float64Array.from([-1.3, 0.2, 0.7, 2.1]), [2, 2]).requiresGrad_();
    expect(gradcheck(([t]) => cube(t), [x])).toBeNull();
  });
});
