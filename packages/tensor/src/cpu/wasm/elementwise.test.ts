// float32 add/sub/mul/div in WebAssembly SIMD on the pool against the reference backend's loops: bit
// for bit (IEEE float32 either way), same-shape and scalar-broadcast operands, offsets, in place, special
// values, and 2 threads against 1.

import { describe, expect, it } from 'vitest';
import { manualSeed, randn, setNumThreads, type Tensor, tensor } from '../../index.js';
import { on, reference, wasm } from '../../test-utils/backends.js';

const N = 70_001; // several pool chunks and a scalar tail
const bits = (t: Tensor) =>
  Array.from(new Uint32Array(Float32Array.from(t.readSync() as Float32Array).buffer));

function operands(): { a: Tensor; b: Tensor } {
  manualSeed(11);
  const a = randn(N);
  const b = randn(N);
  // Special values where they meet each other and ordinary numbers.
  const special = [0, -0, Infinity, -Infinity, Number.NaN, 1e-40, -1e-40, 3.4e38];
  const av = a.readSync() as Float32Array;
  const bv = b.readSync() as Float32Array;
  special.forEach((x, i) => {
    special.forEach((y, j) => {
      av[i * special.length + j] = x;
      bv[i * special.length + j] = y;
    });
  });
  return { a: tensor(Array.from(av), { dtype: 'float32' }), b: tensor(Array.from(bv), { dtype: 'float32' }) };
}

describe('WebAssembly float32 elementwise kernels', () => {
  const { a, b } = operands();
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    it(`${op}: same shape, scalar, offset views and in place equal the reference bit for bit`, () => {
      const run = (backend: typeof reference) => {
        const x = on(backend, a);
        const y = on(backend, b);
        const same = x[op](y);
        const scalar = x[op](on(backend, tensor(1.7, { dtype: 'float32' })));
        const shifted = x.narrow(0, 3, N - 10)[op](y.narrow(0, 5, N - 10));
        const inPlace = x.clone();
        inPlace[`${op}_`](y);
        return [same, scalar, shifted, inPlace].map(bits);
      };
      const ref = run(reference);
      const fast = run(wasm);
      ref.forEach((r, i) => {
        expect(fast[i]).toEqual(r);
      });
    });
  }

  it('2 threads give the same bits as 1', () => {
    const run = (threads: number) => {
      const before = setNumThreads(threads);
      try {
        return bits(on(wasm, a).mul(on(wasm, b)).add(on(wasm, a)));
      } finally {
        setNumThreads(before);
      }
    };
    expect(run(2)).toEqual(run(1));
  });
});
