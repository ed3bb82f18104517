// fusedBatchNorm (BatchNorm -> + residual -> ReLU as one node with the CPU kernels) against the
// composed ops, and its gradients against finite differences in float64.
import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { batchNorm, fusedBatchNorm, manualSeed, randn, type Tensor, zeros } from './index.js';
import { on, reference, wasm } from './test-utils/backends.js';
import { maxAbsDiff } from './test-utils/compare.js';
import { gradcheck } from './test-utils/gradcheck.js';

describe('fusedBatchNorm', () => {
  for (const [residual, relu] of [
    [true, true],
    [false, true],
    [true, false],
  ] as const) {
    it(`training, residual=${residual} relu=${relu}: output, running stats and gradients equal the composed ops`, () => {
      manualSeed(11);
      const x0 = randn(4, 6, 5, 3);
      const r0 = randn(4, 6, 5, 3);
      const w0 = randn(6);
      const b0 = randn(6);
      const u = randn(4, 6, 5, 3);
      const run = (fused: boolean) => {
        const x = x0.clone().requiresGrad_();
        const r = r0.clone().requiresGrad_();
        const w = w0.clone().requiresGrad_();
        const b = b0.clone().requiresGrad_();
        const rm = zeros(6);
        const rv = zeros(6).add(1);
        const opts = { training: true, momentum: 0.1, eps: 1e-5 };
        let y: Tensor;
        if (fused) y = fusedBatchNorm(x, rm, rv, w, b, { ...opts, residual: residual ? r : null, relu });
        else {
          y = batchNorm(x, rm, rv, w, b, opts);
          if (residual) y = y.add(r);
          if (relu) y = y.relu();
        }
        y.mul(u).sum().backward();
        return { y, rm, rv, gx: x.grad!, gw: w.grad!, gb: b.grad!, gr: r.grad };
      };
      const f = run(true);
      const c = run(false);
      expect(f.y.gradFn?.name).toBe('FusedBatchNormBackward0');
      expect(maxAbsDiff(f.y, c.y)).toBeLessThan(1e-5);
      expect(maxAbsDiff(f.rm, c.rm)).toBeLessThan(1e-6);
      expect(maxAbsDiff(f.rv, c.rv)).toBeLessThan(1e-6);
      expect(maxAbsDiff(f.gx, c.gx)).toBeLessThan(1e-5);
      expect(maxAbsDiff(f.gw, c.gw)).toBeLessThan(1e-5);
      expect(maxAbsDiff(f.gb, c.gb)).toBeLessThan(1e-5);
      if (residual) expect(maxAbsDiff(f.gr!, c.gr!)).toBeLessThan(1e-6);
      else expect(f.gr).toBeNull();
    });
  }

  it('the WebAssembly kernels equal the TypeScript loops (odd spatial size, ReLU ties and residual)', () => {
    manualSeed(21);
    const shape = [3, 7, 9, 5];
    const x0 = randn(...shape);
    const r0 = randn(...shape);
    const w0 = randn(7);
    const b0 = randn(7);
    const u = randn(...shape);
    const run = (backend: Backend) => {
      const [x, r, w, b] = [x0, r0, w0, b0].map((t) => on(backend, t).requiresGrad_());
      const rm = on(backend, zeros(7));
      const rv = on(backend, zeros(7).add(1));
      const y = fusedBatchNorm(x, rm, rv, w, b, { training: true, residual: r, relu: true });
      y.mul(on(backend, u)).sum().backward();
      return [y, rm, rv, x.grad!, w.grad!, b.grad!, r.grad!];
    };
    const a = run(wasm);
    const t = run(reference);
    for (let i = 0; i < a.length; i++) expect(maxAbsDiff(a[i], t[i])).toBeLessThan(2e-5);
  });

  it('gradients match finite differences (float64)', () => {
    manualSeed(5);
    const inputs = [
      randn(3, 4, 5, { dtype: 'float64' }).requiresGrad_(),
      randn(4, { dtype: 'float64' }).requiresGrad_(),
      randn(4, { dtype: 'float64' }).requiresGrad_(),
      randn(3, 4, 5, { dtype: 'float64' }).requiresGrad_(),
    ];
    const err = gradcheck(
      ([x, w, b, r]) => fusedBatchNorm(x, null, null, w, b, { training: true, residual: r, relu: true }),
      inputs,
    );
    expect(err).toBeNull();
  });

  it('eval mode composes the ops', () => {
    const x = randn(2, 3, 4, 4);
    const r = randn(2, 3, 4, 4);
    const rm = randn(3);
    const rv = randn(3).abs().add(0.5);
    const y = fusedBatchNorm(x, rm, rv, null, null, { residual: r, relu: true });
    expect(maxAbsDiff(y, batchNorm(x, rm, rv).add(r).relu())).toBe(0);
  });

  it('names the residual shape mismatch', () => {
    expect(() =>
      fusedBatchNorm(randn(2, 3, 4), null, null, null, null, { training: true, residual: randn(2, 3) }),
    ).toThrow('fusedBatchNorm: expected residual of shape [2, 3, 4], got [2, 3]');
  });
});
