// float32 unary ops in WebAssembly SIMD on the pool (unaryF32) against the reference backend's loops:
// the exact ops bit for bit, the float64-then-round ops within one float32 ulp (float64 arithmetic rounded
// once on both sides, differences counted); special values (zeros, subnormals, overflow, infinities,
// NaN); for the ops added with the trigonometric family also large arguments up to 3.4e38 and the
// floats nearest multiples of pi/2; 2 threads = 1.
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
  127.99,
  128,
  -126,
  -149,
  1e6,
  -1e6,
  1000001,
  Math.PI / 2,
  Math.PI,
  0.99999994,
  -0.99999994,
  2 ** -28,
  -(2 ** -29),
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

/**
 * For the ops added with the trigonometric family, beside inputs(): 20,000 floats of magnitude 1e3 to
 * 3.4e38 of both signs (past the kernel's lane reduction at 1e6 too) and the floats next to k pi/2 for
 * k up to 640,000, where the reduction cancels most.
 */
function wideInputs(): Float32Array {
  const out: number[] = [...inputs()];
  let s = 54321;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < 20000; i++) out.push((rand() < 0.5 ? -1 : 1) * 10 ** (3 + rand() * 35.5));
  const f = new Float32Array(1);
  const bits = new Uint32Array(f.buffer);
  for (let k = 1; k <= 640000; k += 97) {
    f[0] = (k * Math.PI) / 2;
    const b = bits[0];
    for (const d of [-1, 0, 1]) {
      bits[0] = b + d;
      out.push(f[0], -f[0]);
    }
  }
  return new Float32Array(out);
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
/** Float64-then-round ops tested over wideInputs(). */
const WIDE = [
  'expm1',
  'log1p',
  'exp2',
  'log2',
  'sinh',
  'cosh',
  'atan',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
] as const;
const ALL = [...EXACT, ...ROUNDED, ...WIDE];
const isRounded = (op: string) => !(EXACT as readonly string[]).includes(op);

describe('WebAssembly unary ops', () => {
  it('covers every op the kernel has a code for', () => {
    expect(Object.keys(UNARY_CODES).sort()).toEqual([...ALL].sort());
  });

  for (const op of ALL) {
    it(`${op}: the reference loop's values${isRounded(op) ? ' within one ulp' : ' bit for bit'}; 2 threads equal 1`, () => {
      const x0 = (WIDE as readonly string[]).includes(op) ? wideInputs() : inputs();
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
        expect(isRounded(op)).toBe(true);
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
