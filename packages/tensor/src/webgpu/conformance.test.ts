// Ops through the public API, forward and backward (autograd), on CPU and on WebGPU with the same
// inputs and the same upstream gradients: outputs and every leaf's gradient agree to 1e-4 relative.

import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../creation.js';
import type { DType } from '../dtype.js';
import { where } from '../ops/elementwise.js';
import { cat, gather, indexSelect, stack, topk } from '../ops/indexing.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  batchNorm,
  binaryCrossEntropyWithLogits,
  conv2d,
  crossEntropy,
  dropout,
  layerNorm,
  linear,
  logSoftmax,
  maxPool2d,
  mseLoss,
  nllLoss,
  pad2d,
  softmax,
} from '../ops/nn.js';
import { publicUnaryNames, unaryDef } from '../ops/unary.js';
import { Generator } from '../random.js';
import { numelOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test/webgpu-adapter.js';
import { compareTensors } from '../test/webgpu-compare.js';

interface InputSpec {
  shape: number[];
  /** normal (default), positive (|N| + 0.2), int in [0, high), or fixed values. */
  kind?: 'normal' | 'positive' | 'int' | 'bool';
  high?: number;
  values?: number[];
  dtype?: DType;
  grad?: boolean;
}

interface OpCase {
  name: string;
  inputs: Record<string, InputSpec>;
  run: (x: Record<string, Tensor>) => Tensor | Tensor[];
}

const f = (shape: number[], extra: Partial<InputSpec> = {}): InputSpec => ({ shape, grad: true, ...extra });
const pos = (shape: number[]) => f(shape, { kind: 'positive' });
const idx = (shape: number[], high: number): InputSpec => ({ shape, kind: 'int', high, dtype: 'int64' });

const CASES: OpCase[] = [
  // elementwise, with broadcasting and views
  { name: 'add broadcast', inputs: { a: f([3, 1, 4]), b: f([2, 4]) }, run: ({ a, b }) => a.add(b) },
  { name: 'sub alpha', inputs: { a: f([2, 3]), b: f([3]) }, run: ({ a, b }) => a.sub(b, { alpha: 2.5 }) },
  { name: 'mul transposed', inputs: { a: f([3, 4]), b: f([4, 3]) }, run: ({ a, b }) => a.mul(b.t()) },
  { name: 'div', inputs: { a: f([2, 5]), b: pos([5]) }, run: ({ a, b }) => a.div(b) },
  { name: 'pow tensor', inputs: { a: pos([6]), b: f([6]) }, run: ({ a, b }) => a.pow(b) },
  {
    name: 'pow scalars',
    inputs: { a: f([7]) },
    run: ({ a }) => [a.pow(3), a.abs().add(0.1).pow(0.5), a.pow(2)],
  },
  { name: 'neg exp log', inputs: { a: pos([2, 4]) }, run: ({ a }) => [a.neg(), a.exp(), a.log()] },
  {
    name: 'sqrt rsqrt reciprocal',
    inputs: { a: pos([9]) },
    run: ({ a }) => [a.sqrt(), a.rsqrt(), a.reciprocal()],
  },
  { name: 'abs square sign', inputs: { a: f([8]) }, run: ({ a }) => [a.abs(), a.square(), a.sign()] },
  { name: 'relu sigmoid tanh', inputs: { a: f([3, 5]) }, run: ({ a }) => [a.relu(), a.sigmoid(), a.tanh()] },
  { name: 'gelu', inputs: { a: f([10]) }, run: ({ a }) => [a.gelu(), a.gelu({ approximate: 'tanh' })] },
  { name: 'clamp', inputs: { a: f([12]) }, run: ({ a }) => [a.clamp(-0.5, 0.7), a.clamp(0, null)] },
  {
    name: 'maximum minimum',
    inputs: { a: f([4, 3]), b: f([3]) },
    run: ({ a, b }) => [a.maximum(b.expand([4, 3])), a.minimum(b.expand([4, 3]))],
  },
  { name: 'where', inputs: { a: f([3, 4]), b: f([4]) }, run: ({ a, b }) => where(a.gt(0), a, b) },
  {
    name: 'comparisons',
    inputs: { a: f([6], { grad: false }), b: f([6], { grad: false }) },
    run: ({ a, b }) => [a.lt(b), a.ge(0), a.eq(a), a.ne(b)],
  },
  {
    name: 'floor ceil round',
    inputs: { a: f([9], { grad: false }) },
    run: ({ a }) => {
      const s = a.mul(3);
      return [s.floor(), s.ceil(), s.round()];
    },
  },
  {
    name: 'casts',
    inputs: { a: f([6]) },
    run: ({ a }) => [a.mul(3).to('int64'), a.half().float(), a.gt(0).to('float32').add(a)],
  },
  // reductions
  {
    name: 'sum mean',
    inputs: { a: f([3, 4, 2]) },
    run: ({ a }) => [a.sum(), a.sum([0, 2], true), a.mean(1), a.mean()],
  },
  {
    name: 'var std',
    inputs: { a: f([4, 5]) },
    run: ({ a }) => [a.var(1), a.std(0), a.var(null, { correction: 0 })],
  },
  { name: 'max min all', inputs: { a: f([3, 5]) }, run: ({ a }) => [a.max(), a.min()] },
  {
    name: 'max min dim',
    inputs: { a: f([3, 5]) },
    run: ({ a }) => {
      const [v, i] = a.max(1);
      const [w, j] = a.min(0, true);
      return [v, i, w, j];
    },
  },
  {
    name: 'amax argmax',
    inputs: { a: f([4, 3, 2]) },
    run: ({ a }) => [a.amax([0, 2]), a.argmax(1), a.argmin(), a.amin(1, true)],
  },
  {
    name: 'logsumexp',
    inputs: { a: f([3, 6]) },
    run: ({ a }) => [a.logsumexp(1), a.mul(40).logsumexp([0, 1], true)],
  },
  {
    name: 'prod any all',
    inputs: { a: f([3, 4], { grad: false }) },
    run: ({ a }) => [a.prod(1), a.gt(0).any(1), a.gt(-1).all(0)],
  },
  { name: 'softmax logSoftmax', inputs: { a: f([4, 7]) }, run: ({ a }) => [softmax(a, 1), logSoftmax(a, 0)] },
  // linear algebra
  { name: 'matmul 2d', inputs: { a: f([5, 7]), b: f([7, 3]) }, run: ({ a, b }) => a.matmul(b) },
  {
    name: 'matmul broadcast batch',
    inputs: { a: f([2, 1, 3, 4]), b: f([3, 4, 2]) },
    run: ({ a, b }) => a.matmul(b),
  },
  {
    name: 'matmul vector',
    inputs: { a: f([4]), b: f([4, 3]), c: f([3]) },
    run: ({ a, b, c }) => [a.matmul(b), b.matmul(c)],
  },
  {
    name: 'bmm transposed',
    inputs: { a: f([2, 4, 3]), b: f([2, 5, 4]) },
    run: ({ a, b }) => a.transpose(1, 2).bmm(b.transpose(1, 2)),
  },
  {
    name: 'linear',
    inputs: { x: f([3, 6]), w: f([4, 6]), b: f([4]) },
    run: ({ x, w, b }) => linear(x, w, b),
  },
  // convolution and pooling
  {
    name: 'conv2d bias',
    inputs: { x: f([2, 3, 6, 6]), w: f([4, 3, 3, 3]), b: f([4]) },
    run: ({ x, w, b }) => conv2d(x, w, b, { padding: 1 }),
  },
  {
    name: 'conv2d stride dilation',
    inputs: { x: f([1, 2, 9, 8]), w: f([3, 2, 3, 2]) },
    run: ({ x, w }) => conv2d(x, w, null, { stride: [2, 1], dilation: [1, 2], padding: [1, 0] }),
  },
  {
    name: 'conv2d groups',
    inputs: { x: f([2, 4, 5, 5]), w: f([6, 2, 3, 3]) },
    run: ({ x, w }) => conv2d(x, w, null, { groups: 2, stride: 2, padding: 1 }),
  },
  {
    name: 'conv2d depthwise same',
    inputs: { x: f([1, 3, 6, 5]), w: f([3, 1, 4, 4]) },
    run: ({ x, w }) => conv2d(x, w, null, { groups: 3, padding: 'same' }),
  },
  {
    name: 'conv2d sliced input',
    inputs: { x: f([2, 3, 7, 7]), w: f([2, 3, 1, 1]) },
    run: ({ x, w }) => conv2d(x.slice(2, 1, 6), w),
  },
  {
    name: 'maxPool2d',
    inputs: { x: f([2, 3, 7, 7]) },
    run: ({ x }) => [maxPool2d(x, 3, { stride: 2, padding: 1 }), maxPool2d(x, 2, { ceilMode: true })],
  },
  {
    name: 'avgPool2d',
    inputs: { x: f([2, 2, 6, 7]) },
    run: ({ x }) => [avgPool2d(x, 2), avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false })],
  },
  {
    name: 'adaptiveAvgPool2d',
    inputs: { x: f([2, 3, 7, 5]) },
    run: ({ x }) => [adaptiveAvgPool2d(x, 1), adaptiveAvgPool2d(x, [3, 2])],
  },
  // normalisation and losses
  {
    name: 'batchNorm train',
    inputs: { x: f([4, 3, 3, 2]), w: f([3]), b: f([3]), rm: f([3], { grad: false }), rv: pos([3]) },
    run: ({ x, w, b, rm, rv }) => {
      const runVar = rv.detach().clone();
      const runMean = rm.clone();
      const y = batchNorm(x, runMean, runVar, w, b, { training: true, momentum: 0.2 });
      return [y, runMean, runVar];
    },
  },
  {
    name: 'batchNorm eval',
    inputs: { x: f([2, 3, 4]), rm: f([3], { grad: false }), rv: pos([3]) },
    run: ({ x, rm, rv }) => batchNorm(x, rm, rv.detach(), null, null),
  },
  {
    name: 'layerNorm',
    inputs: { x: f([3, 2, 5]), w: f([2, 5]), b: f([2, 5]) },
    run: ({ x, w, b }) => layerNorm(x, [2, 5], w, b),
  },
  {
    name: 'crossEntropy',
    inputs: { x: f([6, 5]), t: idx([6], 5) },
    run: ({ x, t }) => [crossEntropy(x, t), crossEntropy(x, t, { reduction: 'none' })],
  },
  {
    name: 'crossEntropy smoothing weight ignore',
    inputs: { x: f([5, 4]), t: { shape: [5], values: [0, 3, -100, 1, 3], dtype: 'int64' }, w: pos([4]) },
    run: ({ x, t, w }) => crossEntropy(x, t, { weight: w.detach(), ignoreIndex: -100, labelSmoothing: 0.1 }),
  },
  {
    name: 'crossEntropy spatial',
    inputs: { x: f([2, 3, 2, 2]), t: idx([2, 2, 2], 3) },
    run: ({ x, t }) => crossEntropy(x, t),
  },
  {
    name: 'crossEntropy probabilities',
    inputs: { x: f([3, 4]), p: pos([3, 4]) },
    run: ({ x, p }) => crossEntropy(x, softmax(p.detach(), 1)),
  },
  {
    name: 'nllLoss sum',
    inputs: { x: f([4, 3]), t: idx([4], 3) },
    run: ({ x, t }) => nllLoss(logSoftmax(x, 1), t, { reduction: 'sum' }),
  },
  { name: 'mseLoss', inputs: { a: f([3, 4]), b: f([3, 4]) }, run: ({ a, b }) => mseLoss(a, b) },
  {
    name: 'bce with logits',
    inputs: { x: f([2, 5]), t: { shape: [2, 5], kind: 'bool', dtype: 'float32' }, pw: pos([5]) },
    run: ({ x, t, pw }) => [
      binaryCrossEntropyWithLogits(x, t),
      binaryCrossEntropyWithLogits(x, t, { posWeight: pw.detach(), reduction: 'sum' }),
    ],
  },
  {
    name: 'dropout',
    inputs: { x: f([4, 6]) },
    run: ({ x }) => dropout(x, 0.3, true, { generator: new Generator(3) }),
  },
  // indexing and joining
  { name: 'gather', inputs: { x: f([4, 5]), i: idx([4, 3], 5) }, run: ({ x, i }) => gather(x, 1, i) },
  {
    name: 'indexSelect',
    inputs: { x: f([5, 3]), i: { shape: [4], values: [4, 0, 2, 1], dtype: 'int64' } },
    run: ({ x, i }) => [indexSelect(x, 0, i), indexSelect(x, 1, i.slice(0, 1, 3))],
  },
  {
    name: 'topk',
    inputs: { x: f([3, 6]) },
    run: ({ x }) => {
      const [v, i] = topk(x, 3, 1, true, true);
      const [w] = topk(x, 2, 0, false, true);
      return [v, i, w];
    },
  },
  {
    name: 'cat stack',
    inputs: { a: f([2, 3]), b: f([1, 3]) },
    run: ({ a, b }) => [cat([a, b, a], 0), stack([a, a.mul(2)], 1)],
  },
  { name: 'pad2d', inputs: { x: f([1, 2, 3, 3]) }, run: ({ x }) => pad2d(x, 1, 2, 0, 1) },
  // views and in-place updates
  {
    name: 'views',
    inputs: { x: f([2, 3, 4]) },
    run: ({ x }) => [
      x.permute(2, 0, 1).contiguous(),
      x.slice(2, 1, 4, 2),
      x.select(1, 2),
      x.narrow(0, 1, 1),
      x.unsqueeze(1).expand(2, 5, 3, 4),
      x.flatten(1),
      ...x.chunk(2, 2),
    ],
  },
  {
    name: 'in-place on non-leaves',
    inputs: { x: f([3, 4]), y: f([4]) },
    run: ({ x, y }) => {
      const a = x.mul(2);
      a.add_(y);
      a.mul_(y);
      const b = x.clone();
      b.relu_();
      b.slice(1, 0, 2).copy_(y.slice(0, 0, 2));
      return [a, b];
    },
  },
];

// Every public unary op of the table (ops/unary.ts), on inputs inside its domain.
const UNIT = [-0.9, -0.55, -0.2, 0, 0.15, 0.4, 0.7, 0.85];
for (const name of publicUnaryNames()) {
  const domain = unaryDef(name).domain ?? 'all';
  const input =
    domain === 'open-unit' ? f([8], { values: UNIT }) : domain === 'all' ? f([2, 4]) : pos([2, 4]);
  // Halved for 'all', so tan stays away from its poles.
  CASES.push({
    name: `unary ${name}`,
    inputs: { a: input },
    run: ({ a }) => (domain === 'all' ? a.mul(0.5) : a)[name](),
  });
}
CASES.push(
  {
    name: 'prod with zeros',
    inputs: { a: f([3, 4], { values: [1.5, -2, 0.5, 3, 0, 2, -1, 0.5, 0, 3, 0, 2] }), b: f([2, 3]) },
    run: ({ a, b }) => [a.prod(1), a.prod(0, true), a.narrow(0, 0, 1).prod(), b.prod(), b.t().prod(1)],
  },
  {
    name: 'cumsum',
    inputs: { a: f([3, 7]) },
    run: ({ a }) => [a.cumsum(1), a.cumsum(0), a.t().cumsum(-1), a.gt(0).cumsum(1)],
  },
  {
    name: 'flip',
    inputs: { a: f([2, 3, 4]) },
    run: ({ a }) => [a.flip(0), a.flip(-1, 1), a.transpose(0, 2).flip(0)],
  },
  {
    name: 'maskedFill',
    inputs: { a: f([3, 4]), m: { shape: [3, 1], kind: 'bool', dtype: 'bool' }, v: f([]) },
    run: ({ a, m, v }) => {
      const b = a.mul(1);
      b.maskedFill_(m.t().expand(4, 3).t(), 2);
      return [a.maskedFill(m, -1), a.t().maskedFill(m.t(), v), b];
    },
  },
);

function makeInput(spec: InputSpec, gen: Generator): Tensor {
  const n = numelOf(spec.shape);
  let values: number[];
  if (spec.values) values = spec.values;
  else if (spec.kind === 'int') values = Array.from({ length: n }, () => gen.randint(0, spec.high ?? 2));
  else if (spec.kind === 'bool') values = Array.from({ length: n }, () => (gen.random() < 0.5 ? 1 : 0));
  else if (spec.kind === 'positive') values = Array.from({ length: n }, () => Math.abs(gen.normal()) + 0.2);
  else values = Array.from({ length: n }, () => gen.normal());
  return tensor(values, { dtype: spec.dtype ?? 'float32' }).reshape(spec.shape);
}

async function runCase(c: OpCase): Promise<string[]> {
  const gen = new Generator(numelOf([c.name.length, 7919]));
  const problems: string[] = [];
  const cpuIn: Record<string, Tensor> = {};
  const gpuIn: Record<string, Tensor> = {};
  for (const [name, spec] of Object.entries(c.inputs)) {
    const t = makeInput(spec, gen);
    cpuIn[name] = t;
    gpuIn[name] = t.detach().to('webgpu');
    if (spec.grad) {
      t.requiresGrad_(true);
      gpuIn[name].requiresGrad_(true);
    }
  }
  const outC = [c.run(cpuIn)].flat();
  const outG = [c.run(gpuIn)].flat();
  if (outC.length !== outG.length)
    return [`${c.name}: ${outG.length} outputs on webgpu, ${outC.length} on cpu`];
  for (let k = 0; k < outC.length; k++) {
    const p = await compareTensors(outC[k], outG[k], `${c.name} output ${k}`);
    if (p) problems.push(p);
  }
  // One scalar from every differentiable output, weighted by the same random upstream gradients.
  const losses = (outs: Tensor[], device: 'cpu' | 'webgpu') => {
    const g2 = new Generator(99);
    const terms: Tensor[] = [];
    for (const o of outs) {
      const u = tensor(
        Array.from({ length: o.numel() }, () => g2.normal()),
        { dtype: 'float32' },
      ).reshape(o.shape);
      if (o.requiresGrad) terms.push(o.mul(device === 'cpu' ? u : u.to('webgpu')).sum());
    }
    return terms;
  };
  const lc = losses(outC, 'cpu');
  const lg = losses(outG, 'webgpu');
  if (lc.length) {
    lc.reduce((a, b) => a.add(b)).backward();
    lg.reduce((a, b) => a.add(b)).backward();
    for (const [name, spec] of Object.entries(c.inputs)) {
      if (!spec.grad) continue;
      const gc = cpuIn[name].grad;
      const gg = gpuIn[name].grad;
      if (!gc && !gg) continue;
      if (!gc || !gg) {
        problems.push(
          `${c.name}: grad of ${name} is ${gg ? 'present' : 'missing'} on webgpu, ${gc ? 'present' : 'missing'} on cpu`,
        );
        continue;
      }
      const p = await compareTensors(gc, gg, `${c.name} grad of ${name}`, { rtol: 1e-4, atol: 1e-5 });
      if (p) problems.push(p);
    }
  }
  return problems;
}

describe.skipIf(!webGpuTestsEnabled)('ops on webgpu match the CPU backend, forward and backward', () => {
  beforeAll(async () => {
    await requireWebGpu();
  }, 60_000);

  for (const c of CASES) {
    it(c.name, async () => {
      expect(await runCase(c)).toEqual([]);
    }, 120_000);
  }
});
