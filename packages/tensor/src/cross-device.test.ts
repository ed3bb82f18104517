// What the golden fixtures (PyTorch's values for float32 inputs, one op per case) cannot express, run on
// every device under test against the reference backend with the device's tolerance: casts between every
// dtype, float16 and integer kernels, edge values (NaN, Inf, signed zeros) through every elementwise op,
// ops PyTorch's goldens do not list (any/all, floorDivide, remainder, logical ops), long reductions,
// in-place ops on non-leaves and views, and dropout with a generator.

import { beforeAll, describe, expect, it } from 'vitest';
import { tensor, zeros } from './creation.js';
import type { DType } from './dtype.js';
import { where } from './ops/elementwise.js';
import { gather, indexSelect, topk } from './ops/indexing.js';
import { conv2d, dropout } from './ops/nn.js';
import { publicUnaryNames } from './ops/unary.js';
import { Generator } from './random.js';
import type { Tensor } from './tensor.js';
import { cpuReference, cpuWasm, type DeviceUnderTest, webgpuDevice } from './test-utils/conformance.js';
import { type CrossDeviceCase, crossDeviceProblems } from './test-utils/cross-device.js';
import { requireWebGpu, webGpuTestsEnabled } from './test-utils/webgpu-adapter.js';

const gen = new Generator(11);
const normal = (n: number) => Array.from({ length: n }, () => gen.normal());
const f32 = (v: number[]) => tensor(v, { dtype: 'float32' });
/** A float32 tensor of standard normal values. */
const randn = (shape: number[]) => f32(normal(shape.reduce((a, b) => a * b, 1))).reshape(shape);
const i64 = (v: number[]) => tensor(v, { dtype: 'int64' });

const NAN = Number.NaN;
const INF = Number.POSITIVE_INFINITY;
const EDGES = [
  ...[-100, -20, -3.7, -2.5, -1, -0.5, -1e-3, -1e-7, 0, -0, 1e-7, 1e-3, 0.5, 1, 1.5, 2.5, 3.7, 10, 20],
  ...[50, 88, 100, NAN, INF, -INF, 0.25, 7.5, -7.5, 0.1, 1 / 3],
];
// The reference treats NaN as false in logical ops (JavaScript truthiness); PyTorch and WebGPU as true.
const EDGES_NO_NAN = EDGES.map((v) => (Number.isNaN(v) ? 2 : v));
const GRID = [-3.5, -2, -1, -0.5, -0, 0, 0.5, 1, 2, 3, 7.25, NAN, INF, -INF];
const TARGETS: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8'];
TARGETS.push('uint8', 'bool');

const CASES: CrossDeviceCase[] = [];
const add = (name: string, c: Omit<CrossDeviceCase, 'name'>) => CASES.push({ name, ...c });

// ---- elementwise over edge values and dtypes the goldens do not use
for (const name of publicUnaryNames()) {
  add(`unary ${name}: float32 edges (transposed), int64 (sliced), float16`, {
    inputs: () => ({
      f: f32(name === 'logicalNot' ? EDGES_NO_NAN : EDGES).reshape([5, 6]),
      i: i64([-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]).reshape([3, 4]),
      h: tensor([-2.5, -1, -0.333, 0, 0.1, 1, 3.25, 1000], { dtype: 'float16' }).reshape([2, 4]),
    }),
    run: ({ f, i, h }) => [f.t()[name](), i.slice(1, 1, 4)[name](), h[name]()],
  });
}
add('gelu (erf and tanh) over edge values', {
  inputs: () => ({ f: f32(EDGES).reshape([5, 6]) }),
  run: ({ f }) => [f.t().gelu(), f.gelu({ approximate: 'tanh' })],
});

const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'floorDivide', 'remainder'] as const;
const COMPARE = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'] as const;
const INTS = [-7, -4, -3, -1, 0, 1, 2, 3, 5, 9];
for (const op of [...BINARY, ...COMPARE]) {
  // pow(1, NaN) and pow(+-1, +-Inf) are 1 in PyTorch and WGSL, NaN in JavaScript: left out of the grid.
  const left = op === 'pow' ? GRID.filter((v) => v !== 1 && v !== -1) : GRID;
  const logical = op === 'logicalAnd' || op === 'logicalOr';
  const [fa, fb] = logical ? [EDGES_NO_NAN, EDGES_NO_NAN] : [left, GRID];
  // Integer divisors are never 0 (the reference throws there) and integer powers never negative.
  const ia = op === 'pow' ? [0, 1, 2, 3, 4, -1, -2, -3] : INTS;
  const ib =
    op === 'pow'
      ? [0, 1, 2, 3, 4]
      : ['div', 'floorDivide', 'remainder'].includes(op)
        ? INTS.filter((v) => v)
        : INTS;
  add(`binary ${op}: float32 edge grid (broadcast), int64`, {
    inputs: () => ({
      a: f32(fa).reshape([fa.length, 1]),
      b: f32(fb).reshape([1, fb.length]),
      ia: i64(ia).reshape([ia.length, 1]),
      ib: i64(ib).reshape([1, ib.length]),
    }),
    run: ({ a, b, ia, ib }) => [
      a.expand([fa.length, fb.length])[op](b.expand([fa.length, fb.length])),
      ia[op](ib),
    ],
  });
}
add('binary ops across dtypes: float32 with int64 and bool, bool with bool, int32', {
  inputs: () => ({
    f: f32([1.5, -2.25, 3]).reshape([1, 3]),
    i: i64([4, -2]).reshape([2, 1]),
    b: tensor([[true], [false]]),
    x: tensor([3, -1, 0, 8], { dtype: 'int32' }),
    y: tensor([3, 2, 0, -8], { dtype: 'int32' }),
  }),
  run: ({ f, i, b, x, y }) => [f.mul(i), f.add(b), b.add(b), x.ge(y), x.mul(y)],
});
add('where with NaN and broadcast operands, float32 and int64', {
  inputs: () => ({
    c: tensor([
      [true, false, true],
      [false, false, true],
    ]),
    a: f32([1.5, NAN, -3]),
    b: f32([7, -8]).reshape([2, 1]),
    i: i64([1, 2, 3, 4, 5, 6]).reshape([2, 3]),
    z: i64([0]),
  }),
  run: ({ c, a, b, i, z }) => [where(c, a.expand([2, 3]), b.expand([2, 3])), where(c, i, z.expand([2, 3]))],
});

// ---- casts and copies
const SOURCES: [DType, number[]][] = [
  [
    'float32',
    [
      ...[-300.7, -129.5, -1.5, -0.5, -0, 0, 0.1, 1 / 3, 2.5, 127.9, 200.2, 300.7, 65519, 65520],
      ...[3e-5, 1e-8, NAN, INF, -INF, 1e9],
    ],
  ],
  ['int64', [-2147483648, -300, -129, -1, 0, 1, 127, 128, 255, 256, 65537, 2147483647]],
  ['int32', [-70000, -1, 0, 1, 40000]],
  ['bool', [1, 0, 1]],
  ['uint8', [0, 1, 128, 255]],
  ['float16', [-65504, -1.5, 0.099975586, 1, 2049, 65504, 6e-8]],
  ['bfloat16', [-3.140625, 0.1, 1e4]],
];
// Out of int32 range the CPU wraps where the GPU saturates: float32 -> int32/int64 keeps to values in range.
const IN_RANGE = [-300.7, -1.5, -0, 0.1, 2.5, 300.7, 65520, NAN, INF, 1e9];
for (const [from, values] of SOURCES) {
  add(`cast ${from} to every dtype (strided source)`, {
    inputs: () => ({ x: tensor(values, { dtype: from }), r: f32(IN_RANGE) }),
    run: ({ x, r }) =>
      TARGETS.map((to) =>
        from === 'float32' && (to === 'int32' || to === 'int64')
          ? r.to(to)
          : x.slice(0, 0, undefined, 1).to(to),
      ),
  });
}
add('casts inside a graph (float32 to int64, through float16, a bool mask as float32)', {
  inputs: () => ({ a: randn([6]) }),
  grad: ['a'],
  run: ({ a }) => [a.mul(3).to('int64'), a.half().float(), a.gt(0).to('float32').add(a)],
});
add('fill_ every dtype, NaN included', {
  inputs: () => Object.fromEntries(TARGETS.map((d) => [d, zeros([5], { dtype: d })])),
  run: (x) => [
    ...TARGETS.flatMap((d) => [2.7, -1.5, 0].map((v) => x[d].clone().fill_(v))),
    x.float32.fill_(NAN),
  ],
});
for (const dtype of ['float32', 'int64', 'bool'] as DType[]) {
  add(`copy_ a transposed source into every other column (${dtype})`, {
    inputs: () => ({
      dst: zeros([4, 6], { dtype }),
      src: f32([1, 0, 3, 4, 5, 6, 0, 8, 9, 10, 11, 0]).reshape([3, 4]),
    }),
    run: ({ dst, src }) => {
      dst.slice(1, 0, 6, 2).copy_(src.t());
      return dst;
    },
  });
}

// ---- reductions the goldens do not reach: any/all, integer and bool inputs, long extents
const perm = (t: Tensor) => t.permute([0, 2, 1]);
add('any and all over float, int64 and bool inputs (permuted views)', {
  inputs: () => ({
    f: f32(normal(60).map((v) => (Math.abs(v) < 0.3 ? 0 : v))).reshape([3, 4, 5]),
    i: i64(Array.from({ length: 60 }, (_, k) => ((k * 7) % 11) - 5)).reshape([3, 4, 5]),
    b: tensor(Array.from({ length: 60 }, (_, k) => k % 3 === 0 || k % 7 === 0)).reshape([3, 4, 5]),
  }),
  run: (x) =>
    [x.f, x.i, x.b].flatMap((t) => {
      const v = perm(t);
      return [v.any(), v.all(), v.any(0), v.all(1), v.any(2, true), v.all(0, true), v.gt(-5).all(2)];
    }),
});
add('sum, prod, max, min, argmax and argmin of float32 with NaN, int64 and bool (permuted views)', {
  inputs: () => ({
    f: f32(normal(60).map((v, k) => (k === 7 || k === 41 ? NAN : Math.round(v * 4) / 4))).reshape([3, 4, 5]),
    i: i64(Array.from({ length: 60 }, (_, k) => ((k * 7) % 11) - 5)).reshape([3, 4, 5]),
    b: tensor(Array.from({ length: 60 }, (_, k) => k % 3 === 0 || k % 7 === 0)).reshape([3, 4, 5]),
  }),
  run: ({ f, i, b }) =>
    [perm(f), perm(i), perm(b)].flatMap((v) => [
      v.sum(),
      v.sum([0, 2]),
      v.prod(1),
      v.max(),
      ...v.max(1),
      ...v.min(0, true),
      v.amax([1, 2]),
      v.argmax(2),
      v.argmin(),
    ]),
});
add('long reductions (3000 terms) along contiguous and strided dims', {
  inputs: () => ({ x: randn([3, 3000]) }),
  run: ({ x }) =>
    [x, x.t()].flatMap((v, d) => [
      v.sum(1 - d),
      ...v.max(1 - d),
      ...v.min(1 - d),
      v.argmax(1 - d),
      v.argmin(1 - d),
    ]),
});

// ---- integer payloads and negative indices
add('matmul: int64, an empty inner dimension, a tiled transposed product', {
  inputs: () => ({
    a: i64([1, 2, 3, 4, 5, -6]).reshape([1, 3, 2]),
    b: i64([7, -1, 0, 2, 2, 9]).reshape([1, 2, 3]),
    e: zeros([1, 5, 0]),
    f: zeros([1, 0, 4]),
    p: randn([1, 33, 70]),
    q: randn([1, 65, 33]),
  }),
  grad: ['p', 'q'],
  run: ({ a, b, e, f, p, q }) => [a.matmul(b), e.matmul(f), p.transpose(1, 2).matmul(q.transpose(1, 2))],
});
add('conv2d past one GEMM tile (70 output channels, 5x5 kernel, stride [3, 2]), forward and backward', {
  inputs: () => ({ x: randn([1, 2, 11, 10]), w: randn([70, 2, 5, 5]) }),
  grad: ['x', 'w'],
  run: ({ x, w }) => conv2d(x, w, null, { stride: [3, 2], padding: 2 }),
});
add('gather and indexSelect with negative indices (and their scatterAdd/indexAdd backward), int64 payloads', {
  inputs: () => ({
    x: randn([4, 5, 3]),
    gi: i64(Array.from({ length: 5 * 6 * 3 }, (_, k) => ((k * 5) % 8) - 4)).reshape([5, 6, 3]),
    si: i64([2, 0, -1, 1, 1]),
    pi: i64([2, 0]),
    p: i64([5, -6, 7, 8, 9, -10]).reshape([2, 3]),
  }),
  grad: ['x'],
  run: ({ x, gi, si, p, pi }) => {
    const v = x.permute([1, 0, 2]); // [5, 4, 3]
    return [
      gather(v, 1, gi),
      indexSelect(v, 0, si),
      indexSelect(v, 2, si.slice(0, 1, 4)),
      indexSelect(p, 1, pi),
    ];
  },
});
add('topk of int64 with ties', {
  inputs: () => ({ x: i64([3, 1, 3, -2, 9]).reshape([1, 5]) }),
  run: ({ x }) => [...topk(x, 3, 1, true, true)],
});

// ---- autograd beyond one op: in-place updates, dropout's generator
add('in-place on non-leaves: add_, mul_, relu_, copy_ into a slice', {
  inputs: () => ({ x: randn([3, 4]), y: randn([4]) }),
  grad: ['x', 'y'],
  run: ({ x, y }) => {
    const a = x.mul(2);
    a.add_(y);
    a.mul_(y);
    const b = x.clone();
    b.relu_();
    b.slice(1, 0, 2).copy_(y.slice(0, 0, 2));
    return [a, b];
  },
});
add('maskedFill_ on a non-leaf through a strided, expanded mask', {
  inputs: () => ({ a: randn([3, 4]), m: tensor([true, false, true]).reshape([3, 1]) }),
  grad: ['a'],
  run: ({ a, m }) => {
    const b = a.mul(1);
    b.maskedFill_(m.t().expand(4, 3).t(), 2);
    return b;
  },
});
add('dropout with a generator: the same mask and scale on every device', {
  inputs: () => ({ x: randn([4, 6]) }),
  grad: ['x'],
  run: ({ x }) => dropout(x, 0.3, true, { generator: new Generator(3) }),
});

function suite(dev: DeviceUnderTest) {
  for (const c of CASES) {
    it(c.name, async () => {
      expect(await crossDeviceProblems(dev, c)).toEqual([]);
    }, 120_000);
  }
}

for (const dev of [cpuReference, cpuWasm]) {
  describe(`${dev.name} matches the reference backend beyond the goldens`, () => suite(dev));
}

describe.skipIf(!webGpuTestsEnabled)('webgpu matches the reference backend beyond the goldens', () => {
  beforeAll(async () => {
    await requireWebGpu();
  }, 60_000);
  suite(webgpuDevice);
});
