// sgdUpdate_: the backend's one-pass kernel against the same formula composed from tensor ops (taken
// for non-contiguous parameters), over three steps and every option combination, float32 and float64.
import { describe, expect, it } from 'vitest';
import { manualSeed, randn, setNumThreads, sgdUpdate_, type Tensor } from './index.js';
import { on, reference, wasm } from './test-utils/backends.js';
import { maxAbsDiff } from './test-utils/compare.js';

describe('sgdUpdate_', () => {
  const combos = [
    { momentum: 0, dampening: 0, nesterov: false, maximize: false, weightDecay: 0 },
    { momentum: 0, dampening: 0, nesterov: false, maximize: true, weightDecay: 0.01 },
    { momentum: 0.9, dampening: 0, nesterov: false, maximize: false, weightDecay: 0 },
    { momentum: 0.9, dampening: 0.1, nesterov: false, maximize: false, weightDecay: 1e-4 },
    { momentum: 0.9, dampening: 0, nesterov: true, maximize: false, weightDecay: 1e-2 },
    { momentum: 0.5, dampening: 0, nesterov: true, maximize: true, weightDecay: 0 },
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const c of combos) {
      it(`${dtype} ${JSON.stringify(c)}`, () => {
        manualSeed(3);
        const p0 = randn(6, 5, { dtype });
        const grads = [randn(6, 5, { dtype }), randn(6, 5, { dtype }), randn(6, 5, { dtype })];
        // Fused: contiguous parameter. Composed: the same values held as a transposed view.
        const pf = p0.clone();
        const pc = p0.t().contiguous().t();
        expect(pc.isContiguous()).toBe(false);
        let bf: Tensor | null = null;
        let bc: Tensor | null = null;
        for (const g of grads) {
          bf = sgdUpdate_(pf, g, bf, { lr: 0.1, ...c });
          bc = sgdUpdate_(pc, g, bc, { lr: 0.1, ...c });
        }
        const tol = dtype === 'float32' ? 1e-6 : 1e-14;
        expect(maxAbsDiff(pf, pc)).toBeLessThan(tol);
        if (c.momentum === 0) {
          expect(bf).toBeNull();
          expect(bc).toBeNull();
        } else expect(maxAbsDiff(bf!, bc!)).toBeLessThan(tol);
      });
    }
  }

  it('bumps the version counter of the parameter and the buffer', () => {
    const p = randn(4);
    const v = p._version;
    const buf = sgdUpdate_(p, randn(4), null, {
      lr: 0.1,
      momentum: 0.9,
      dampening: 0,
      nesterov: false,
      maximize: false,
      weightDecay: 0,
    });
    expect(p._version).toBe(v + 1);
    expect(buf!._version).toBeGreaterThan(0);
  });

  it('the WebAssembly kernel (SIMD, on the pool) equals the reference loop; 2 threads bit-identical to 1', () => {
    manualSeed(4);
    // 100,003 floats: several pool chunks and a scalar tail.
    const p0 = randn(100003);
    const grads = [randn(100003), randn(100003), randn(100003)];
    const run = (backend: typeof reference, threads: number) => {
      const before = setNumThreads(threads);
      try {
        const p = on(backend, p0);
        let buf: Tensor | null = null;
        for (const g of grads) {
          const opts = {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.1,
            nesterov: true,
            maximize: false,
            weightDecay: 1e-2,
          };
          buf = sgdUpdate_(p, on(backend, g), buf, opts);
        }
        return [p.readSync(), buf!.readSync()] as Float32Array[];
      } finally {
        setNumThreads(before);
      }
    };
    const [rp, rb] = run(reference, 1);
    const [w1p, w1b] = run(wasm, 1);
    const [w2p, w2b] = run(wasm, 2);
    // The reference computes each step in float64 and rounds once; the kernel rounds each float32 op.
    let err = 0;
    for (let i = 0; i < rp.length; i++)
      err = Math.max(err, Math.abs(w1p[i] - rp[i]), Math.abs(w1b[i] - rb[i]));
    expect(err).toBeLessThan(1e-5);
    expect(Array.from(w2p)).toEqual(Array.from(w1p));
    expect(Array.from(w2b)).toEqual(Array.from(w1b));
  });
});
