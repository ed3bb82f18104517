// Every op against PyTorch: forward values, dtypes and shapes, and the gradients of a random
// upstream gradient with respect to every differentiable input (fixtures/ops.json).

import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { erf } from './cpu/ops.js';
import { tensor } from './creation.js';
import { dropout } from './ops/nn.js';
import { Generator } from './random.js';
import type { Tensor } from './tensor.js';
import { on, reference, wasm } from './test-utils/backends.js';
import { buildInputs, inputDtype, type OpsFixture, runOp } from './test-utils/cases.js';
import { checkCase, cpuReference, cpuWasm, golden } from './test-utils/conformance.js';
import { decodeAll, fromDesc, loadFixture, mismatch } from './test-utils/fixtures.js';

const fixture = loadFixture<OpsFixture>('ops.json');

// The conformance suite on both CPU backends (src/test-utils/conformance.ts; webgpu/golden.test.ts runs it on
// WebGPU). Tolerance: 1e-5 relative plus 1e-6 * sqrt(reduction length) of the tensor's rms.
for (const dev of [cpuReference, cpuWasm]) {
  describe(`ops match PyTorch on ${dev.name} (forward and backward)`, () => {
    for (const c of golden.cases) {
      it(c.name, async () => {
        expect(await checkCase(dev, c)).toEqual([]);
      });
    }
  });
}

/**
 * Runs a golden case's op and backward with its inputs on `backend`; returns every output and every
 * input gradient as float64.
 */
function runCase(c: OpsFixture['cases'][number], backend: Backend): Float64Array[] {
  const values = Object.fromEntries(
    c.inputs.map((spec) => [spec.name, on(backend, fromDesc(spec, inputDtype(spec, 'float32')))]),
  );
  const { leaves, operands } = buildInputs(c, 'float32', values);
  const outs = runOp(c, operands);
  const diff = (c.upstream ?? [])
    .map((u, k) =>
      u && outs[k].requiresGrad
        ? outs[k].mul(fromDesc({ shape: outs[k].shape, data: u }, 'float32')).sum()
        : null,
    )
    .filter((t): t is Tensor => t !== null);
  if (diff.length) diff.reduce((a, b) => a.add(b)).backward();
  const grads = c.inputs.map((spec) => leaves[spec.name]?.grad).filter((g): g is Tensor => !!g);
  return [...outs, ...grads].map((t) => Float64Array.from(t.readSync() as ArrayLike<number>, Number));
}

// The conformance suite for the WebAssembly kernels (the default CPU path): every golden case, forward
// and backward, run again on the TypeScript reference kernels and compared value by value.
describe('WebAssembly kernels against the TypeScript reference kernels (every golden case)', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const fast = runCase(c, wasm);
      const ref = runCase(c, reference);
      expect(fast.length).toBe(ref.length);
      fast.forEach((a, k) => {
        const b = ref[k];
        let err = 0;
        let scale = 0;
        for (let i = 0; i < b.length; i++) {
          if (Number.isNaN(b[i])) expect(Number.isNaN(a[i])).toBe(true);
          else if (a[i] !== b[i]) err = Math.max(err, Math.abs(a[i] - b[i]));
          if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
        }
        // float32 accumulation (SIMD, blocked) against float64: a few ulps of the largest value.
        expect(err, `tensor ${k}`).toBeLessThanOrEqual(2e-6 * Math.max(scale, 1e-30));
      });
    });
  }
});

describe('erf (behind gelu) against torch.erf in float64', () => {
  it('agrees to double precision on every branch of the rational approximation', () => {
    // 4 ulps: the approximation is accurate to about 1 ulp, and so is the libm erf PyTorch calls.
    expect(mismatch(fixture.erf.x.map(erf), fixture.erf.erf, 4 * 2 ** -52, 1e-300)).toBeNull();
  });
});

describe('dropout (PyTorch semantics; its masks come from another RNG)', () => {
  for (const d of fixture.dropout) {
    it(`p=${d.p}`, () => {
      const xv = decodeAll(d.x, 'float32');
      const x = tensor(xv, { dtype: 'float32' }).requiresGrad_();
      const y = dropout(x, d.p, true, { generator: new Generator(7) });
      expect(y.shape).toEqual(x.shape);
      const yv = y.readSync();
      // Every element is dropped or scaled by exactly PyTorch's factor 1/(1-p).
      const kept: number[] = [];
      yv.forEach((v, i) => {
        if (v !== 0) kept.push(v / xv[i]);
      });
      if (d.p === 1) expect(kept).toEqual([]);
      else if (d.p === 0) expect(Array.from(yv)).toEqual(Array.from(xv));
      else {
        expect(kept.length).toBeGreaterThan(0);
        expect(kept.length).toBeLessThan(xv.length);
        expect(
          mismatch(
            kept,
            kept.map(() => d.keptScale[0]),
            1e-6,
            0,
          ),
        ).toBeNull();
      }
      // The gradient is the same mask and scale.
      if (y.requiresGrad) {
        y.sum().backward();
        const expected = Array.from(yv, (v, i) => (v === 0 ? 0 : v / xv[i]));
        expect(mismatch(x.grad!.readSync(), expected, 1e-6, 0)).toBeNull();
      }
      expect(Array.from(dropout(x, d.p, false).readSync())).toEqual(d.evalEqualsInput ? Array.from(xv) : []);
    });
  }
});
