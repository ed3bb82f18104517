// Finite-difference gradient checks in float64 for every differentiable op, on the same cases
// as the PyTorch goldens (so broadcast and non-contiguous inputs are covered), plus a few more.

import { describe, expect, it } from 'vitest';
import { randn, zeros } from './creation.js';
import { dropout } from './ops/nn.js';
import { publicUnaryNames, unaryDef } from './ops/unary.js';
import { Generator } from './random.js';
import type { Tensor } from './tensor.js';
import { buildInputs, type OpsFixture, runOp } from './test-utils/cases.js';
import { loadFixture } from './test-utils/fixtures.js';
import { gradcheck } from './test-utils/gradcheck.js';

const fixture = loadFixture<OpsFixture>('ops.json');
const checked = fixture.cases.filter((c) => c.grads && c.gradcheck !== false);

describe('gradcheck on the golden cases (float64)', () => {
  for (const c of checked) {
    it(c.name, () => {
      const { leaves } = buildInputs(c, 'float64');
      const names = c.inputs.map((s) => s.name);
      const inputs = names.map((n) => leaves[n]);
      const f = (ts: typeof inputs) => {
        const values = Object.fromEntries(names.map((n, i) => [n, ts[i]]));
        const { operands } = buildInputs(c, 'float64', values);
        return runOp(c, operands);
      };
      expect(gradcheck(f, inputs)).toBeNull();
    });
  }
});

/** Differentiable ops outside the fixture registry, checked here with the same gradcheck. */
const EXTRA: Record<string, { inputs: () => Tensor[]; f: (ts: Tensor[]) => Tensor | Tensor[] }> = {
  'unflatten / viewAs / expandAs': {
    inputs: () => [r(6, 2), r(3, 1)],
    f: ([x, y]) =>
      x
        .unflatten(0, [2, 3])
        .sum(-1)
        .viewAs(y.t().expand(2, 3))
        .add(y.t().expandAs(zeros(2, 3))),
  },
  'T and t()': { inputs: () => [r(2, 3, 4), r(3, 4)], f: ([x, y]) => x.T.mul(2).sum(2).add(y.t()) },
  'sub with alpha, rsub-like scalar chains': {
    inputs: () => [r(3), r(3)],
    f: ([a, b]) => a.sub(b, { alpha: 3 }).mul(-1).add(2),
  },
  'dropout (fixed generator)': {
    inputs: () => [r(4, 5)],
    f: ([x]) => dropout(x, 0.4, true, { generator: new Generator(11) }),
  },
  'in-place chain on a non-leaf': {
    inputs: () => [r(3, 4), r(4)],
    f: ([x, b]) => {
      const y = x.mul(1);
      y.add_(b, { alpha: 2 });
      y.mul_(x);
      y.div_(b.exp());
      y.sub_(1);
      return y.clamp_(-1, 1).relu_();
    },
  },
  'in-place through views (CopySlices)': {
    inputs: () => [r(3, 4), r(4)],
    f: ([x, b]) => {
      const y = x.mul(2);
      y.select(0, 1).mul_(b);
      y.t()
        .narrow(0, 1, 2)
        .add_(x.t().narrow(0, 0, 2).exp());
      return y.sigmoid();
    },
  },
  'copy_ into a view': {
    inputs: () => [r(2, 3), r(3)],
    f: ([x, v]) => {
      const y = x.mul(1);
      y.select(0, 0).copy_(v.mul(v));
      return y;
    },
  },
  'fill_ / zero_ on a non-leaf': {
    inputs: () => [r(2, 3)],
    f: ([x]) => {
      const y = x.mul(x);
      y.narrow(1, 0, 1).zero_();
      y.narrow(1, 2, 1).fill_(3);
      return y.mul(x);
    },
  },
};

function r(...shape: number[]): Tensor {
  return randn(shape, { dtype: 'float64', generator: gen }).requiresGrad_();
}
const gen = new Generator(2024);

describe('gradcheck on ops outside the fixtures (float64)', () => {
  for (const [name, spec] of Object.entries(EXTRA)) {
    it(name, () => {
      expect(gradcheck(spec.f, spec.inputs())).toBeNull();
    });
  }
});

describe('every differentiable op has a gradient check', () => {
  // Every op of the list that has a gradient, plus the other differentiable ops graft exports.
  const DIFFERENTIABLE = [
    'add',
    'addScalar',
    'sub',
    'subScalar',
    'mul',
    'mulScalar',
    'div',
    'divScalar',
    'pow',
    'powScalar',
    'clamp',
    'maximum',
    'minimum',
    'where',
    'whereScalar',
    'gelu',
    'sum',
    'mean',
    'var',
    'std',
    'max',
    'min',
    'amax',
    'amin',
    'logsumexp',
    'matmul',
    'mm',
    'bmm',
    'linear',
    'conv2d',
    'maxPool2d',
    'avgPool2d',
    'adaptiveAvgPool2d',
    'batchNorm',
    'layerNorm',
    'softmax',
    'logSoftmax',
    'crossEntropy',
    'nllLoss',
    'mseLoss',
    'bceWithLogits',
    'cat',
    'stack',
    'split',
    'chunk',
    'gather',
    'indexSelect',
    'topk',
    'pad2d',
    'reshape',
    'permute',
    'transpose',
    'expand',
    'squeeze',
    'unsqueeze',
    'flatten',
    'narrow',
    'select',
    'slice',
    'asStrided',
    'unbind',
    'clone',
    'contiguous',
    'prod',
    'cumsum',
    'flip',
    'maskedFill',
    // every differentiable unary op of the table (ops/unary.ts)
    ...publicUnaryNames().filter((name) => unaryDef(name).gradFn !== null),
  ];
  it('in the golden cases', () => {
    const covered = new Set(checked.map((c) => c.op));
    expect(DIFFERENTIABLE.filter((op) => !covered.has(op))).toEqual([]);
  });
  it('with broadcast and non-contiguous inputs among them', () => {
    const viewed = checked.filter((c) => c.inputs.some((i) => i.view?.length));
    expect(viewed.length).toBeGreaterThan(40);
    expect(checked.some((c) => c.name.includes('broadcast'))).toBe(true);
  });
});
