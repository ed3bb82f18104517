// Printing: String(t) equals PyTorch's repr() byte for byte (fixtures/format.json), and grad_fn
// names of common ops are PyTorch's.

import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { arange, randn, tensor } from './creation.js';
import type { DType } from './dtype.js';
import { where } from './ops/elementwise.js';
import { cat, stack } from './ops/indexing.js';
import { mm } from './ops/linalg.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  crossEntropy,
  logSoftmax,
  maxPool2d,
  mseLoss,
  nllLoss,
  softmax,
} from './ops/nn.js';
import type { Tensor } from './tensor.js';
import { decodeAll, type JsonNum, loadFixture } from './test-utils/fixtures.js';

interface FormatCase {
  name: string;
  spec: {
    dtype: DType;
    shape: number[];
    ops: [string, ...(number | number[])[]][];
    values?: unknown;
    arange?: number;
    requiresGrad?: boolean;
  };
  repr: string;
}

const fixture = loadFixture<{ cases: FormatCase[]; gradFnNames: Record<string, string> }>('format.json');

type FmtOp = (t: Tensor, ...args: (number | number[])[]) => Tensor;
const FMT_OPS: Record<string, FmtOp> = {
  add: (t, v) => t.add(v as number),
  mul: (t, v) => t.mul(v as number),
  div: (t, v) => t.div(v as number),
  sum: (t) => t.sum(),
  mean: (t) => t.mean(),
  relu: (t) => t.relu(),
  reshape: (t, s) => t.reshape(s as number[]),
  view: (t, s) => t.view(s as number[]),
};

function build(spec: FormatCase['spec']): Tensor {
  // As the generator does: through float32 (float64 for float64 cases), then to the dtype.
  const via: DType = spec.dtype === 'float64' ? 'float64' : 'float32';
  let t: Tensor;
  if (spec.arange !== undefined) t = arange(spec.arange, { dtype: 'float64' });
  else t = tensor(decodeAll([spec.values].flat(Number.POSITIVE_INFINITY) as JsonNum[]), { dtype: via });
  t = t.to(spec.dtype).reshape(spec.shape);
  if (spec.requiresGrad) t.requiresGrad_(true);
  for (const [name, ...args] of spec.ops) t = FMT_OPS[name](t, ...args);
  return t;
}

describe('String(tensor) equals PyTorch repr()', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      expect(String(build(c.spec))).toBe(c.repr);
    });
  }

  it('console.log / util.inspect print the same text', () => {
    const c = fixture.cases.find((k) => k.name === 'fixed')!;
    expect(inspect(build(c.spec))).toBe(c.repr);
  });
});

describe('grad_fn names are PyTorch names', () => {
  const x = randn(2, 3, { dtype: 'float64', requiresGrad: true });
  const m = randn(3, 3, { dtype: 'float64', requiresGrad: true });
  const v = randn(3, { dtype: 'float64', requiresGrad: true });
  const img = randn(1, 2, 4, 4, { dtype: 'float64', requiresGrad: true });
  const wconv = randn(2, 2, 3, 3, { dtype: 'float64', requiresGrad: true });
  const bconv = randn(2, { dtype: 'float64', requiresGrad: true });
  const tgt = tensor([0, 2]);
  const exprs: Record<string, () => Tensor> = {
    add: () => x.add(x),
    addScalar: () => x.add(1),
    sub: () => x.sub(x),
    mul: () => x.mul(x),
    mulScalar: () => x.mul(2),
    div: () => x.div(x),
    divScalar: () => x.div(2),
    neg: () => x.neg(),
    pow: () => x.pow(2),
    exp: () => x.exp(),
    log: () => x.abs().log(),
    sqrt: () => x.abs().sqrt(),
    abs: () => x.abs(),
    relu: () => x.relu(),
    sigmoid: () => x.sigmoid(),
    tanh: () => x.tanh(),
    gelu: () => x.gelu(),
    clamp: () => x.clamp(-1, 1),
    sum: () => x.sum(),
    sumDim: () => x.sum(1),
    mean: () => x.mean(),
    meanDim: () => x.mean(0),
    maxAll: () => x.max(),
    maxDim: () => x.max(1)[0],
    matmul2d: () => x.matmul(m),
    matmul1d: () => v.matmul(v),
    matmulMv: () => m.matmul(v),
    mm: () => mm(x, m),
    view: () => x.view(6),
    transpose: () => x.transpose(0, 1),
    t: () => x.t(),
    permute: () => x.permute(1, 0),
    unsqueeze: () => x.unsqueeze(0),
    squeezeDim: () => x.unsqueeze(0).squeeze(0),
    expand: () => v.expand(2, 3),
    select: () => x.select(0, 1),
    slice: () => x.slice(1, 1),
    narrow: () => x.narrow(1, 0, 2),
    clone: () => x.clone(),
    cat: () => cat([x, x]),
    stack: () => stack([x, x]),
    softmax: () => softmax(x, 1),
    logSoftmax: () => logSoftmax(x, 1),
    crossEntropy: () => crossEntropy(x, tgt),
    nllLoss: () => nllLoss(x, tgt),
    mseLoss: () => mseLoss(x, x.detach()),
    conv2d: () => conv2d(img, wconv),
    conv2dBias: () => conv2d(img, wconv, bconv),
    maxPool2d: () => maxPool2d(img, 2),
    avgPool2d: () => avgPool2d(img, 2),
    adaptiveAvgPool2d: () => adaptiveAvgPool2d(img, 1),
    where: () => where(x.gt(0), x, x.mul(2)),
    maximum: () => x.maximum(x.mul(2)),
    gather: () => x.gather(1, tensor([[0], [1]])),
    indexSelect: () => x.indexSelect(1, tensor([0, 2])),
    toDouble: () => x.float(),
  };
  it('covers every expression of the fixture', () => {
    expect(Object.keys(exprs).sort()).toEqual(Object.keys(fixture.gradFnNames).sort());
  });
  for (const [key, name] of Object.entries(fixture.gradFnNames)) {
    it(`${key}: ${name}`, () => {
      expect(exprs[key]().gradFn?.name).toBe(name);
    });
  }
});
