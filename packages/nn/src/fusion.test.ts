// Module fusion: the fused paths (convBnEval, bnAct) against the same modules run one by one, and the
// conditions that must switch fusion off (hooks, training BatchNorm, gradients).
import { fusedConv2d, manualSeed, noGrad, randn, type Tensor } from '@graft/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BatchNorm2d,
  bnAct,
  Conv2d,
  canFuse,
  canFuseEval,
  convBnEval,
  ReLU,
  setModuleFusion,
} from './index.js';

function maxAbs(a: Tensor, b: Tensor): number {
  const x = a.readSync();
  const y = b.readSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i])));
  return m;
}

/** A conv and a BatchNorm with non-trivial running statistics and affine parameters. */
function pair(bias: boolean): { conv: Conv2d; bn: BatchNorm2d } {
  manualSeed(4);
  const conv = new Conv2d(8, 16, 3, { padding: 1, bias });
  const bn = new BatchNorm2d(16);
  bn.train();
  for (let i = 0; i < 3; i++) bn.call(conv.call(randn(4, 8, 10, 10)));
  bn.weight!.requiresGrad = false;
  bn.bias!.requiresGrad = false;
  return { conv, bn };
}

describe('module fusion', () => {
  afterEach(() => setModuleFusion(true));

  for (const bias of [false, true]) {
    it(`convBnEval equals conv -> bn -> (+ residual) -> relu in eval (conv bias ${bias})`, () => {
      const { conv, bn } = pair(bias);
      bn.eval();
      for (const p of conv.parameters()) p.requiresGrad = false;
      const x = randn(3, 8, 10, 10);
      const r = randn(3, 16, 10, 10);
      expect(canFuseEval(x, conv, bn)).toBe(true);
      const fused = convBnEval(conv, bn, x, { residual: r, relu: true });
      const plain = bn.call(conv.call(x)).add(r).relu();
      expect(maxAbs(fused, plain)).toBeLessThan(1e-5);
      expect(maxAbs(convBnEval(conv, bn, x), bn.call(conv.call(x)))).toBeLessThan(1e-5);
    });
  }

  it('the CPU fold gives the bits of the composed fold (var + eps, rsqrt, weight * invstd, shift)', () => {
    for (const [bias, affine] of [
      [false, true],
      [true, true],
      [true, false],
    ] as const) {
      const { conv, bn } = pair(bias);
      if (affine) {
        // pair() leaves the affine parameters at their init (ones and zeros): give them values.
        bn.weight!.copy_(randn(16).add(1));
        bn.bias!.copy_(randn(16));
      } else {
        bn.weight = null;
        bn.bias = null;
      }
      bn.eval();
      for (const p of conv.parameters()) p.requiresGrad = false;
      const x = randn(3, 8, 10, 10);
      const r = randn(3, 16, 10, 10);
      // The composed fold, op by op (what runs off the CPU or for other dtypes).
      const want = noGrad(() => {
        const invstd = (bn.running_var as Tensor).add(bn.eps).rsqrt();
        const scale = bn.weight ? bn.weight.mul(invstd) : invstd;
        let shift = (bn.running_mean as Tensor).mul(scale).neg();
        if (conv.bias) shift = shift.add(conv.bias.mul(scale));
        if (bn.bias) shift = shift.add(bn.bias);
        return fusedConv2d(x, conv.weight, { padding: conv.padding, scale, shift, residual: r, relu: true });
      });
      const got = convBnEval(conv, bn, x, { residual: r, relu: true });
      expect(Array.from(got.readSync())).toEqual(Array.from(want.readSync()));
    }
  });

  it('canFuseEval is false with hooks, a training BatchNorm, gradients or fusion off', () => {
    const { conv, bn } = pair(false);
    const x = randn(2, 8, 10, 10);
    bn.eval();
    expect(canFuseEval(x, conv, bn)).toBe(false); // conv weights require grad
    for (const p of conv.parameters()) p.requiresGrad = false;
    expect(canFuseEval(x, conv, bn)).toBe(true);
    expect(canFuseEval(x.clone().requiresGrad_(), conv, bn)).toBe(false);
    const h = conv.registerForwardHook(() => undefined);
    expect(canFuseEval(x, conv, bn)).toBe(false);
    h.remove();
    bn.train();
    expect(canFuseEval(x, conv, bn)).toBe(false);
    bn.eval();
    setModuleFusion(false);
    expect(canFuseEval(x, conv, bn)).toBe(false);
    expect(canFuse(bn)).toBe(false);
  });

  it('bnAct in training equals bn -> + residual -> relu: output, running stats, counter and gradients', () => {
    const run = (fused: boolean) => {
      const { bn } = pair(false);
      bn.train();
      bn.weight!.requiresGrad = true;
      bn.bias!.requiresGrad = true;
      manualSeed(9);
      const x = randn(4, 16, 6, 6).requiresGrad_();
      const r = randn(4, 16, 6, 6).requiresGrad_();
      const relu = new ReLU();
      const y = fused ? bnAct(bn, x, { residual: r, relu: true }) : relu.call(bn.call(x).add(r));
      y.mul(randn(4, 16, 6, 6))
        .sum()
        .backward();
      return [
        y,
        bn.running_mean!,
        bn.running_var!,
        bn.num_batches_tracked!,
        x.grad!,
        r.grad!,
        bn.weight!.grad!,
        bn.bias!.grad!,
      ];
    };
    const f = run(true);
    const p = run(false);
    for (let i = 0; i < f.length; i++) expect(maxAbs(f[i], p[i])).toBeLessThan(1e-5);
  });

  it('canFuse is false when a module has a hook', () => {
    const bn = new BatchNorm2d(4);
    const relu = new ReLU();
    expect(canFuse(bn, relu)).toBe(true);
    const h = relu.registerForwardPreHook(() => undefined);
    expect(canFuse(bn, relu)).toBe(false);
    h.remove();
    expect(canFuse(bn, relu)).toBe(true);
  });
});
