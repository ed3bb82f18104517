// float32 unary ops in WebAssembly SIMD on the pool (unaryF32) against the reference backend's loops:
// the exact ops bit for bit, rsqrt/exp/log/sigmoid/tanh/geluTanh within one float32 ulp (float64 arithmetic rounded
// once on both sides); special values (zeros, subnormals, overflow, infinities, NaN); 2 threads = 1.
import { describe, expect, it } from 'vitest';
import { setNumThreads, type Tensor, tensor } from '../../index.js';
import { on, reference, wasm } from '../../test-utils/backends.js';
import { UNARY_CODES } from './elementwise.js';

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  -3.5,
  1e-40,
  -1e-40,
  1e-45,
  3.4e38,
  -3.4e38,
  88.72,
  88.73,
  -87.3,
  -103.9,
  -104,
  -150,
  1e-7,
  -1e-7,
  100,
  8388607.5,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
];

/** 40,003 floats (a scalar tail): the special values, then magnitudes from 1e-6 to 1e3 of both signs. */
function inputs(): Float32Array {
  const n = 40003;
  const data = new Float32Array(n);
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < n; i++)
    data[i] = i < SPECIAL.length ? SPECIAL[i] : (rand() - 0.5) * 10 ** (rand() * 9 - 6);
  return data;
}

/** The float32 spacing at |v|. */
function ulp(v: number): number {
  const f = new Float32Array([Math.abs(v)]);
  const u = new Uint32Array(f.buffer);
  u[0] += 1;
  return f[0] - Math.abs(v) || 1.4e-45;
}

const EXACT = ['neg', 'abs', 'square', 'sqrt', 'reciprocal', 'floor', 'ceil', 'round', 'sign'] as const;
const ROUNDED = ['rsqrt', 'exp', 'log', 'sigmoid', 'tanh', 'geluTanh', 'erf', 'gelu'] as const;

describe('WebAssembly unary ops', () => {
  it('covers every op the kernel has a code for', () => {
    expect(Object.keys(UNARY_CODES).sort()).toEqual([...EXACT, ...ROUNDED].sort());
  });

  for (const op of [...EXACT, ...ROUNDED]) {
    it(`${op}: the reference loop's values${(EXACT as readonly string[]).includes(op) ? ' bit for bit' : ' within one ulp'}; 2 threads equal 1`, () => {
      const x0 = inputs();
      const x = tensor(x0);
      const apply = (t: Tensor) =>
        (op === 'geluTanh'
          ? t.gelu({ approximate: 'tanh' })
          : (t[op] as () => Tensor)()
        ).readSync() as Float32Array;
      const ref = apply(on(reference, x));
      const run = (threads: number) => {
        const before = setNumThreads(threads);
        try {
          return apply(on(wasm, x));
        } finally {
          setNumThreads(before);
        }
      };
      const one = run(1);
      let differ = 0;
      for (let i = 0; i < ref.length; i++) {
        if (Object.is(one[i], ref[i]) || (Number.isNaN(one[i]) && Number.isNaN(ref[i]))) continue;
        differ++;
        // Only the float64-then-round ops may differ, and then by one ulp (a value within ~1e-16 of a
        // rounding midpoint).
        // geluTanh's 1 + tanh(u) cancels for large negative x on both sides (the reference is no more
        // accurate there): an error of a few float64 ulps of 1, times |x|, is allowed beside the ulp.
        expect(ROUNDED as readonly string[]).toContain(op);
        const slack = op === 'geluTanh' ? 1e-15 * Math.abs(x0[i]) : 0;
        expect(Math.abs(one[i] - ref[i])).toBeLessThanOrEqual(ulp(ref[i]) + slack);
      }
      expect(differ).toBeLessThanOrEqual(op === 'geluTanh' ? 20 : 2);
      const two = run(2);
      for (let i = 0; i < one.length; i++)
        if (!Object.is(two[i], one[i])) expect([i, two[i]]).toEqual([i, one[i]]);
    });
  }
});
