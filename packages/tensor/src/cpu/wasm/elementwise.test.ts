// float32 add/sub/mul/div/maximum/minimum in WebAssembly SIMD on the pool against the reference backend's
// loops: bit for bit (IEEE float32 either way; maximum/minimum's NaN only as a NaN), same-shape and
// scalar-broadcast operands, offsets, in place, special values, and 2 threads against 1; pow (float64
// rounded once on both sides) within one float32 ulp, its C special cases exactly.

import { describe, expect, it } from 'vitest';
import { manualSeed, randn, setNumThreads, type Tensor, tensor } from '../../index.js';
import { on, reference, wasm } from '../../test-utils/backends.js';
import { BINARY_CODES } from './elementwise.js';

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

  it('has kernel codes for exactly the ops tested here', () => {
    expect(Object.keys(BINARY_CODES).sort()).toEqual([
      'add',
      'div',
      'maximum',
      'minimum',
      'mul',
      'pow',
      'sub',
    ]);
  });
});

/** The float32 spacing at |v|. */
function ulp(v: number): number {
  const f = new Float32Array([Math.abs(v)]);
  const u = new Uint32Array(f.buffer);
  u[0] += 1;
  return f[0] - Math.abs(v) || 1.4e-45;
}

/** Equal values, or both NaN (a NaN's sign and payload are not the op's result). */
const same = (x: number, y: number) => Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));

/**
 * pow's operands: every pair of special bases and exponents (zeros, ones, halves, integers of both signs
 * and parities, subnormals, huge, infinities, NaN), then positive bases from 1e-6 to 1e6 and negative
 * ones with integer exponents (a third of them short floats), exponents in [-12, 12] (a fifth of them
 * integers).
 */
function powOperands(): { a: Tensor; b: Tensor } {
  const n = 70_001;
  const av = new Float32Array(n);
  const bv = new Float32Array(n);
  const special = [0, -0, 1, -1, 0.5, -0.5, 2, -2, 3, -3, 1.5, 10, 1e-40, -1e-40, 3.4e38, -3.4e38];
  special.push(Infinity, -Infinity, Number.NaN);
  let s = 4242;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < n; i++) {
    if (i < special.length ** 2) {
      av[i] = special[Math.floor(i / special.length)];
      bv[i] = special[i % special.length];
      continue;
    }
    const integer = rand() < 0.2;
    const e = (rand() - 0.5) * 24;
    bv[i] = integer ? Math.round(e) : e;
    // A third of the bases are short floats (multiples of 1/64), whose powers can sit exactly on a
    // float32 rounding midpoint.
    const wide = 10 ** (rand() * 12 - 6);
    const base = rand() < 1 / 3 ? Math.max(1, Math.round(wide * 64)) / 64 : wide;
    av[i] = integer && rand() < 0.5 ? -base : base;
  }
  return { a: tensor(av), b: tensor(bv) };
}

describe('WebAssembly float32 maximum, minimum and pow', () => {
  const { a, b } = operands();
  for (const op of ['maximum', 'minimum'] as const) {
    it(`${op}: same shape, scalar and offset views equal the reference (NaN as NaN)`, () => {
      const run = (backend: typeof reference) => {
        const x = on(backend, a);
        const y = on(backend, b);
        const scalar = on(backend, tensor(0.25, { dtype: 'float32' }));
        const outs = [x[op](y), x[op](scalar), x.narrow(0, 3, N - 10)[op](y.narrow(0, 5, N - 10))];
        return outs.map((t) => t.readSync() as Float32Array);
      };
      const ref = run(reference);
      const fast = run(wasm);
      ref.forEach((r, k) => {
        for (let i = 0; i < r.length; i++)
          if (!same(fast[k][i], r[i])) expect([k, i, fast[k][i]]).toEqual([k, i, r[i]]);
      });
    });
  }

  it('pow: same shape, scalar exponents and offset views within one ulp of the reference; 2 threads equal 1', () => {
    const { a: pa, b: pb } = powOperands();
    const n = pa.shape[0];
    const run = (backend: typeof reference, threads = 1) => {
      const before = setNumThreads(threads);
      try {
        const x = on(backend, pa);
        const y = on(backend, pb);
        const outs = [x.pow(y), x.narrow(0, 3, n - 10).pow(y.narrow(0, 5, n - 10))];
        for (const e of [2, 0.5, -1.5, 3, 0, 1, 4, -1, -2])
          outs.push(x.pow(on(backend, tensor(e, { dtype: 'float32' }))));
        return outs.map((t) => t.readSync() as Float32Array);
      } finally {
        setNumThreads(before);
      }
    };
    const ref = run(reference);
    const fast = run(wasm);
    let differ = 0;
    ref.forEach((r, k) => {
      for (let i = 0; i < r.length; i++) {
        if (same(fast[k][i], r[i])) continue;
        differ++;
        // Both sides are float64 rounded once: they differ only where the float64 value sits within a
        // few float64 ulps of a float32 rounding midpoint, and then by one ulp.
        expect(Number.isFinite(r[i]) && Number.isFinite(fast[k][i])).toBe(true);
        expect(Math.abs(fast[k][i] - r[i])).toBeLessThanOrEqual(ulp(r[i]));
      }
    });
    expect(differ).toBeLessThanOrEqual(4);
    const two = run(wasm, 2);
    two.forEach((t, k) => {
      for (let i = 0; i < t.length; i++)
        if (!Object.is(t[i], fast[k][i])) expect([k, i, t[i]]).toEqual([k, i, fast[k][i]]);
    });
  });
});
