// fusedConv2d: the WebAssembly epilogue (one pass in the convolution's output) against the composed
// ops run by the TypeScript reference kernels, and its autograd fallback against the composed ops.
import { describe, expect, it } from 'vitest';
import { conv2d, fusedConv2d, manualSeed, noGrad, randn, type Tensor } from '../../index.js';
import { findKernel, registerKernel } from '../../registry.js';
import { on, reference } from '../../test-utils/backends.js';
import { conv2dParams } from '../../test-utils/compare.js';
import { WasmCpuBackend } from './backend.js';
import { useWinograd } from './winograd.js';

function maxRel(a: Tensor, b: Tensor): number {
  const x = a.readSync() as Float32Array;
  const y = b.readSync() as Float32Array;
  expect(x.length).toBe(y.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(y[i])) {
      expect(Number.isNaN(x[i])).toBe(true);
      continue;
    }
    err = Math.max(err, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return err / scale;
}

const composed = (
  x: Tensor,
  w: Tensor,
  s: Tensor | null,
  t: Tensor | null,
  r: Tensor | null,
  relu: boolean,
  o = {},
) => {
  let y = conv2d(x, w, null, o);
  const O = w.shape[0];
  if (s) y = y.mul(s.reshape([1, O, 1, 1]));
  if (t) y = y.add(t.reshape([1, O, 1, 1]));
  if (r) y = y.add(r);
  return relu ? y.relu() : y;
};

describe('fusedConv2d', () => {
  // A WebAssembly backend whose epilogue kernel records what it returned (null: it did not apply).
  const wasm = new WasmCpuBackend();
  const epilogue = findKernel(wasm, 'conv2dEpilogue') as NonNullable<
    ReturnType<typeof findKernel<'conv2dEpilogue'>>
  >;
  const returned: unknown[] = [];
  registerKernel(wasm, 'conv2dEpilogue', (...args) => {
    const r = epilogue(...args);
    returned.push(r);
    return r;
  });

  const cases: {
    x: number[];
    w: number[];
    o: { stride?: number; padding?: number; groups?: number };
    tol?: number;
    winograd?: boolean;
  }[] = [
    { x: [2, 16, 13, 11], w: [24, 16, 3, 3], o: { padding: 1 } },
    { x: [3, 8, 20, 20], w: [18, 8, 3, 3], o: { stride: 2, padding: 1 } },
    { x: [4, 32, 7, 7], w: [64, 32, 1, 1], o: {} },
    // 1x1 over >= 64 positions: each image multiplied in place (pointwise), the epilogue after.
    { x: [3, 40, 9, 11], w: [24, 40, 1, 1], o: {} },
    { x: [1, 3, 33, 33], w: [16, 3, 7, 7], o: { stride: 2, padding: 3 } },
    { x: [4, 32, 12, 12], w: [32, 8, 3, 3], o: { padding: 1, groups: 4 } },
    // 3x3 pad 1 over 2x2 maps (short-row im2col), the epilogue after.
    { x: [20, 36, 2, 2], w: [44, 36, 3, 3], o: { padding: 1 } },
    // Large enough for the Winograd path (useWinograd), whose error is a few 1e-6 of the largest output.
    { x: [2, 32, 20, 20], w: [32, 32, 3, 3], o: { padding: 1 }, tol: 1e-5, winograd: true },
  ];
  for (const c of cases) {
    for (const [useScale, useShift, useRes, relu] of [
      [true, true, true, true],
      [true, true, false, true],
      [false, true, false, false],
      [true, false, true, false],
    ] as const) {
      it(`x ${c.x} w ${c.w} ${JSON.stringify(c.o)} scale=${useScale} shift=${useShift} residual=${useRes} relu=${relu}`, () => {
        manualSeed(c.x[1] * 7 + c.w[0]);
        const x = randn(...c.x);
        const w = randn(...c.w);
        const O = c.w[0];
        const s = useScale ? randn(O) : null;
        const t = useShift ? randn(O) : null;
        const ref0 = composed(x, w, null, null, null, false, c.o);
        const r = useRes ? randn(...ref0.shape) : null;
        const R = (v: Tensor | null) => v && on(reference, v);
        const ref = noGrad(() => composed(R(x) as Tensor, R(w) as Tensor, R(s), R(t), R(r), relu, c.o));
        const W = (v: Tensor | null) => v && on(wasm, v);
        returned.length = 0;
        const got = noGrad(() =>
          fusedConv2d(W(x) as Tensor, W(w) as Tensor, {
            ...c.o,
            scale: W(s),
            shift: W(t),
            residual: W(r),
            relu,
          }),
        );
        // The fused kernel ran (it returns null where it does not apply).
        expect(returned.map((q) => q === null)).toEqual([false]);
        expect(got.shape).toEqual(ref.shape);
        expect(maxRel(got, ref)).toBeLessThan(c.tol ?? 2e-6);
        expect(useWinograd(c.w, conv2dParams(c.o.padding, c.o.stride, c.o.groups), ref.shape)).toBe(
          c.winograd === true,
        );
        if (relu) expect(Math.min(...(got.readSync() as Float32Array))).toBe(0);
      });
    }
  }

  it('keeps NaN through the ReLU, as relu does', () => {
    const x = randn(2, 16, 12, 12);
    const w = randn(16, 16, 3, 3);
    const t = randn(16);
    const data = t.readSync() as Float32Array;
    data[3] = Number.NaN;
    const got = noGrad(() => fusedConv2d(x, w, { padding: 1, shift: t, relu: true }));
    const ref = noGrad(() => composed(x, w, null, t, null, true, { padding: 1 }));
    expect(maxRel(got, ref)).toBeLessThan(2e-6);
  });

  it('records gradients through the composed ops when they are needed', () => {
    manualSeed(3);
    const x = randn(2, 8, 10, 10).requiresGrad_();
    const w = randn(12, 8, 3, 3).requiresGrad_();
    const s = randn(12).requiresGrad_();
    const y = fusedConv2d(x, w, { padding: 1, scale: s, relu: true });
    expect(y.gradFn).not.toBeNull();
    y.sum().backward();
    const gx = x.grad!;
    const gw = w.grad!;
    const gs = s.grad!;
    const x2 = x.detach().requiresGrad_();
    const w2 = w.detach().requiresGrad_();
    const s2 = s.detach().requiresGrad_();
    composed(x2, w2, s2, null, null, true, { padding: 1 }).sum().backward();
    expect(maxRel(gx, x2.grad!)).toBe(0);
    expect(maxRel(gw, w2.grad!)).toBe(0);
    expect(maxRel(gs, s2.grad!)).toBe(0);
  });

  it('names the operand and both shapes on bad input', () => {
    const x = randn(1, 4, 6, 6);
    const w = randn(8, 4, 3, 3);
    expect(() => fusedConv2d(x, w, { scale: randn(4) })).toThrow(
      'fusedConv2d: expected scale of shape [8], got [4]',
    );
    expect(() => noGrad(() => fusedConv2d(x, w, { residual: randn(1, 8, 6, 6) }))).toThrow(
      'fusedConv2d: expected residual of shape [1, 8, 4, 4], got [1, 8, 6, 6]',
    );
  });
});
