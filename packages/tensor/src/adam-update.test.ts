// adamUpdate_: the backend's one-pass kernel against the same formula composed from tensor ops (taken
// for non-contiguous parameters), over three steps and every option combination, float32 and float64;
// the WebAssembly kernel against the reference loop bit for bit, at 1 and 2 threads.
import { describe, expect, it } from 'vitest';
import {
  type AdamUpdateOptions,
  adamUpdate_,
  manualSeed,
  randn,
  setNumThreads,
  type Tensor,
  tensor,
  zerosLike,
} from './index.js';
import { on, reference, wasm } from './test-utils/backends.js';
import { maxAbsDiff } from './test-utils/compare.js';

/** The first index where `a` and `b` differ (NaN equals NaN, +0 differs from -0); -1 when none does. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

interface Combo {
  decoupled: boolean;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** Step `t`'s options as torch 1.13's Adam works them out (lr 0.01, betas 0.9 / 0.999, eps 1e-8). */
function options(c: Combo, t: number): AdamUpdateOptions {
  const [lr, beta1, beta2] = [0.01, 0.9, 0.999];
  return {
    lr,
    beta1,
    beta2,
    eps: 1e-8,
    weightDecay: c.weightDecay,
    decoupled: c.decoupled,
    maximize: c.maximize,
    stepSize: lr / (1 - beta1 ** t),
    biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** t),
  };
}

/** Three steps from `p0` with `grads`; returns the parameter and the state tensors. */
function run(p: Tensor, grads: Tensor[], c: Combo): Tensor[] {
  const m = zerosLike(p);
  const v = zerosLike(p);
  const vmax = c.amsgrad ? zerosLike(p) : null;
  grads.forEach((g, i) => {
    adamUpdate_(p, g, m, v, vmax, options(c, i + 1));
  });
  return vmax ? [p, m, v, vmax] : [p, m, v];
}

describe('adamUpdate_', () => {
  const combos: Combo[] = [
    { decoupled: false, weightDecay: 0, amsgrad: false, maximize: false },
    { decoupled: false, weightDecay: 1e-2, amsgrad: false, maximize: true },
    { decoupled: false, weightDecay: 1e-4, amsgrad: true, maximize: false },
    { decoupled: true, weightDecay: 1e-2, amsgrad: false, maximize: false },
    { decoupled: true, weightDecay: 0, amsgrad: true, maximize: true },
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const c of combos) {
      it(`${dtype} ${JSON.stringify(c)}`, () => {
        manualSeed(5);
        const p0 = randn(6, 5, { dtype });
        const grads = [randn(6, 5, { dtype }), randn(6, 5, { dtype }), randn(6, 5, { dtype })];
        // Fused: contiguous parameter. Composed: the same values held as a transposed view.
        const pc = p0.t().contiguous().t();
        expect(pc.isContiguous()).toBe(false);
        const fused = run(p0.clone(), grads, c);
        const composed = run(pc, grads, c);
        // The composed ops round `a + alpha * b` once where the kernel rounds the product and the sum.
        const tol = dtype === 'float32' ? 1e-6 : 1e-14;
        fused.forEach((t, i) => {
          expect(maxAbsDiff(t, composed[i])).toBeLessThan(tol);
        });
        // Adam moves each element by about lr per step.
        expect(maxAbsDiff(fused[0], p0)).toBeGreaterThan(0.02);
      });
    }
  }

  it('bumps the version counter of the parameter and the state', () => {
    const p = randn(4);
    const [m, v] = [zerosLike(p), zerosLike(p)];
    const before = [p, m, v].map((t) => t._version);
    adamUpdate_(p, randn(4), m, v, null, options(combos[0], 1));
    [p, m, v].forEach((t, i) => {
      expect(t._version).toBe(before[i] + 1);
    });
  });

  it('the WebAssembly kernel (SIMD, on the pool) equals the reference loop bit for bit; 2 threads equal 1', () => {
    manualSeed(6);
    // 100,003 floats: several pool chunks and a scalar tail; a NaN gradient, which AMSGrad's max keeps.
    const n = 100003;
    const p0 = randn(n);
    const grads = [randn(n), randn(n), randn(n)];
    const g0 = Float32Array.from(grads[0].readSync() as Float32Array);
    g0[17] = Number.NaN;
    g0[n - 2] = Number.NaN;
    grads[0] = tensor(g0);
    const runOn = (backend: typeof reference, threads: number, c: Combo) => {
      const before = setNumThreads(threads);
      try {
        return run(
          on(backend, p0),
          grads.map((g) => on(backend, g)),
          c,
        ).map((t) => t.readSync() as Float32Array);
      } finally {
        setNumThreads(before);
      }
    };
    for (const c of [combos[1], combos[2], combos[4]]) {
      const ref = runOn(reference, 1, c);
      const w1 = runOn(wasm, 1, c);
      const w2 = runOn(wasm, 2, c);
      ref.forEach((r, i) => {
        expect(firstDifference(w1[i], r)).toBe(-1);
        expect(firstDifference(w2[i], w1[i])).toBe(-1);
      });
      expect(Number.isNaN(ref[0][17])).toBe(true);
    }
  });
});
