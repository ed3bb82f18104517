// Every kernel of the Backend interface on WebGPU against the CPU backend: same inputs (NaN, Inf,
// signed zeros, strided and broadcast views), same outputs to 1e-4 relative.

import { beforeAll, describe, expect, it } from 'vitest';
import type { BinaryOp, Conv2dParams, Pool2dParams, ReduceOp, Storage, UnaryOp, View } from '../backend.js';
import { ReferenceCpuBackend } from '../cpu/reference/backend.js';
import { tensor } from '../creation.js';
import type { DType } from '../dtype.js';
import { UNARY_OPS } from '../ops/unary.js';
import { Generator } from '../random.js';
import { numelOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test/webgpu-adapter.js';
import { compareStorages, DEFAULT_TOL, type Tolerance } from '../test/webgpu-compare.js';
import type { WebGpuBackend } from './backend.js';
import { initWebGpu } from './init.js';

// Every kernel of the op table (ops/unary.ts).
const UNARY = Object.fromEntries(Object.keys(UNARY_OPS).map((op) => [op, true])) as Record<UnaryOp, true>;
const BINARY: Record<BinaryOp, true> = {
  add: true,
  sub: true,
  mul: true,
  div: true,
  pow: true,
  maximum: true,
  minimum: true,
  eq: true,
  ne: true,
  lt: true,
  le: true,
  gt: true,
  ge: true,
  logicalAnd: true,
  logicalOr: true,
  floorDivide: true,
  remainder: true,
};
const REDUCE: Record<ReduceOp, true> = {
  sum: true,
  prod: true,
  max: true,
  min: true,
  argmax: true,
  argmin: true,
  any: true,
  all: true,
};

const cpu = new ReferenceCpuBackend();
let gpu: WebGpuBackend;
const gen = new Generator(11);

/** A CPU tensor and its twin on WebGPU, viewed the same way. */
interface Twin {
  c: View;
  g: View;
}

function twin(base: Tensor, view: (t: Tensor) => Tensor = (t) => t): Twin {
  return { c: view(base)._view, g: view(base.to('webgpu'))._view };
}

function randomValues(n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => gen.normal() * scale);
}

const EDGES = [
  -100,
  -20,
  -3.7,
  -2.5,
  -1,
  -0.5,
  -1e-3,
  -1e-7,
  0,
  -0,
  1e-7,
  1e-3,
  0.5,
  1,
  1.5,
  2.5,
  3.7,
  10,
  20,
  50,
  88,
  100,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.25,
  7.5,
  -7.5,
  0.1,
  1 / 3,
];

async function check(
  problems: string[],
  c: Storage,
  g: Storage,
  shape: readonly number[],
  dtype: DType,
  label: string,
  tol: Tolerance = DEFAULT_TOL,
) {
  const p = await compareStorages(c, g, shape, dtype, label, tol);
  if (p) problems.push(p);
}

describe.skipIf(!webGpuTestsEnabled)('webgpu kernels match the CPU backend', () => {
  beforeAll(async () => {
    gpu = await requireWebGpu();
  }, 60_000);

  it('unary ops over strided float, int and half inputs', async () => {
    const problems: string[] = [];
    const floatBase = tensor(EDGES, { dtype: 'float32' }).reshape([5, 6]);
    const noNan = tensor(
      EDGES.map((v) => (Number.isNaN(v) ? 2 : v)),
      { dtype: 'float32' },
    ).reshape([5, 6]);
    const intBase = tensor([-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int64' }).reshape([3, 4]);
    const halfBase = tensor([-2.5, -1, -0.333, 0, 0.1, 1, 3.25, 1000], { dtype: 'float16' }).reshape([2, 4]);
    const integerKept: UnaryOp[] = ['neg', 'abs', 'sign', 'relu', 'square', 'floor', 'ceil', 'round'];
    for (const op of Object.keys(UNARY) as UnaryOp[]) {
      const boolOut = op === 'isnan' || op === 'isfinite' || op === 'logicalNot';
      // The CPU backend treats NaN as false in logical ops (JS truthiness); PyTorch and WebGPU treat it as true.
      const f = twin(op === 'logicalNot' ? noNan : floatBase, (t) => t.t());
      const out = boolOut ? 'bool' : 'float32';
      await check(
        problems,
        cpu.unary(op, f.c, out),
        gpu.unary(op, f.g, out),
        f.c.shape,
        out,
        `${op} float32`,
      );
      const i = twin(intBase, (t) => t.slice(1, 1, 4));
      const iout: DType = boolOut ? 'bool' : integerKept.includes(op) ? 'int64' : 'float32';
      await check(
        problems,
        cpu.unary(op, i.c, iout),
        gpu.unary(op, i.g, iout),
        i.c.shape,
        iout,
        `${op} int64`,
      );
      if (!boolOut) {
        const h = twin(halfBase);
        await check(
          problems,
          cpu.unary(op, h.c, 'float16'),
          gpu.unary(op, h.g, 'float16'),
          h.c.shape,
          'float16',
          `${op} float16`,
          {
            rtol: 1e-3,
            atol: 1e-6,
          },
        );
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('binary ops with broadcasting, edge values and integer dtypes', async () => {
    const problems: string[] = [];
    const grid = [
      -3.5,
      -2,
      -1,
      -0.5,
      -0,
      0,
      0.5,
      1,
      2,
      3,
      7.25,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    const n = grid.length;
    const a = tensor(grid, { dtype: 'float32' }).reshape([n, 1]);
    const b = tensor(grid, { dtype: 'float32' }).reshape([1, n]);
    // JS's Math.pow gives NaN for pow(1, NaN) and pow(+-1, +-Inf) where PyTorch (and WebGPU) give 1.
    const powSafe = grid.filter((v) => v !== 1 && v !== -1);
    const pa = tensor(powSafe, { dtype: 'float32' }).reshape([powSafe.length, 1]);
    const pb = tensor(grid, { dtype: 'float32' }).reshape([1, n]);
    const noNan = grid.filter((v) => !Number.isNaN(v));
    const la = tensor(noNan, { dtype: 'float32' }).reshape([noNan.length, 1]);
    const lb = tensor(noNan, { dtype: 'float32' }).reshape([1, noNan.length]);
    const ints = [-7, -4, -3, -1, 0, 1, 2, 3, 5, 9];
    const nonzero = ints.filter((v) => v !== 0);
    const smallPow = [-3, -2, -1, 0, 1, 2, 3, 4];
    const compares: BinaryOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'];
    for (const op of Object.keys(BINARY) as BinaryOp[]) {
      const boolOut = compares.includes(op);
      const out: DType = boolOut ? 'bool' : 'float32';
      const [A, B] = op === 'pow' ? [pa, pb] : op === 'logicalAnd' || op === 'logicalOr' ? [la, lb] : [a, b];
      const s = [A.shape[0], B.shape[1]];
      const x = twin(A, (t) => t.expand(s));
      const y = twin(B, (t) => t.expand(s));
      await check(
        problems,
        cpu.binary(op, x.c, y.c, out),
        gpu.binary(op, x.g, y.g, out),
        s,
        out,
        `${op} float32`,
      );
      // Integers: int64 op int32-range values, divisors never 0 (the CPU backend throws there).
      const left = op === 'pow' ? smallPow : ints;
      const right =
        op === 'pow' ? smallPow : op === 'floorDivide' || op === 'remainder' || op === 'div' ? nonzero : ints;
      const ia = tensor(left, { dtype: 'int64' }).reshape([left.length, 1]);
      const ib = tensor(right, { dtype: 'int64' }).reshape([1, right.length]);
      const is = [left.length, right.length];
      const ix = twin(ia, (t) => t.expand(is));
      const iy = twin(ib, (t) => t.expand(is));
      const iout: DType = boolOut ? 'bool' : op === 'div' ? 'float32' : 'int64';
      await check(
        problems,
        cpu.binary(op, ix.c, iy.c, iout),
        gpu.binary(op, ix.g, iy.g, iout),
        is,
        iout,
        `${op} int64`,
      );
    }
    // Mixed dtypes: float32 with int64 and bool operands, and a bool result of int32 inputs.
    const fa = twin(tensor([[1.5, -2.25, 3]], { dtype: 'float32' }), (t) => t.expand([2, 3]));
    const ib = twin(tensor([[4], [-2]], { dtype: 'int64' }), (t) => t.expand([2, 3]));
    const bb = twin(tensor([[true], [false]]), (t) => t.expand([2, 3]));
    await check(
      problems,
      cpu.binary('mul', fa.c, ib.c, 'float32'),
      gpu.binary('mul', fa.g, ib.g, 'float32'),
      [2, 3],
      'float32',
      'mul f32*i64',
    );
    await check(
      problems,
      cpu.binary('add', fa.c, bb.c, 'float32'),
      gpu.binary('add', fa.g, bb.g, 'float32'),
      [2, 3],
      'float32',
      'add f32+bool',
    );
    await check(
      problems,
      cpu.binary('add', bb.c, bb.c, 'bool'),
      gpu.binary('add', bb.g, bb.g, 'bool'),
      [2, 3],
      'bool',
      'add bool+bool',
    );
    const i32 = twin(tensor([3, -1, 0, 8], { dtype: 'int32' }));
    const j32 = twin(tensor([3, 2, 0, -8], { dtype: 'int32' }));
    await check(
      problems,
      cpu.binary('ge', i32.c, j32.c, 'bool'),
      gpu.binary('ge', i32.g, j32.g, 'bool'),
      [4],
      'bool',
      'ge int32',
    );
    await check(
      problems,
      cpu.binary('mul', i32.c, j32.c, 'int32'),
      gpu.binary('mul', i32.g, j32.g, 'int32'),
      [4],
      'int32',
      'mul int32',
    );
    expect(problems).toEqual([]);
  }, 120_000);

  it('where with broadcast operands', async () => {
    const problems: string[] = [];
    const cond = twin(
      tensor([
        [true, false, true],
        [false, false, true],
      ]),
    );
    const a = twin(tensor([1.5, Number.NaN, -3], { dtype: 'float32' }), (t) => t.expand([2, 3]));
    const b = twin(tensor([[7], [-8]], { dtype: 'float32' }), (t) => t.expand([2, 3]));
    await check(
      problems,
      cpu.where(cond.c, a.c, b.c, 'float32'),
      gpu.where(cond.g, a.g, b.g, 'float32'),
      [2, 3],
      'float32',
      'where f32',
    );
    const ia = twin(
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'int64' },
      ),
      (t) => t,
    );
    const ib = twin(tensor([0], { dtype: 'int64' }), (t) => t.expand([2, 3]));
    await check(
      problems,
      cpu.where(cond.c, ia.c, ib.c, 'int64'),
      gpu.where(cond.g, ia.g, ib.g, 'int64'),
      [2, 3],
      'int64',
      'where i64',
    );
    expect(problems).toEqual([]);
  }, 60_000);

  it('reductions over every dim subset, with NaN, ties, ints, bools and large extents', async () => {
    const problems: string[] = [];
    const vals = randomValues(60).map((v) => Math.round(v * 4) / 4);
    vals[7] = Number.NaN;
    vals[41] = Number.NaN;
    const f = tensor(vals, { dtype: 'float32' }).reshape([3, 4, 5]);
    const clean = tensor(
      randomValues(60).map((v) => (Math.abs(v) < 0.3 ? 0 : v)),
      { dtype: 'float32' },
    ).reshape([3, 4, 5]);
    const ints = tensor(
      Array.from({ length: 60 }, (_, i) => ((i * 7) % 11) - 5),
      { dtype: 'int64' },
    ).reshape([3, 4, 5]);
    const bools = tensor(Array.from({ length: 60 }, (_, i) => i % 3 === 0 || i % 7 === 0));
    const subsets = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2], []];
    for (const op of Object.keys(REDUCE) as ReduceOp[]) {
      const arg = op === 'argmax' || op === 'argmin';
      const logical = op === 'any' || op === 'all';
      for (const dims of subsets) {
        if (arg && dims.length !== 1) continue;
        const keptShape = [3, 5, 4].filter((_, d) => !dims.includes(d));
        for (const [name, base, dtype] of [
          ['float32', logical ? clean : f, logical ? 'bool' : arg ? 'int64' : 'float32'],
          ['int64', ints, logical ? 'bool' : 'int64'],
          [
            'bool',
            bools.reshape([3, 4, 5]),
            logical ? 'bool' : arg ? 'int64' : op === 'sum' || op === 'prod' ? 'int64' : 'bool',
          ],
        ] as [string, Tensor, DType][]) {
          // A permuted view, so reduced dims are strided.
          const x = twin(base, (t) => t.permute([0, 2, 1]));
          const label = `${op} ${name} dims [${dims}]`;
          await check(
            problems,
            cpu.reduce(op, x.c, dims, dtype),
            gpu.reduce(op, x.g, dims, dtype),
            keptShape,
            dtype,
            label,
            {
              rtol: 1e-4,
              atol: 1e-5,
            },
          );
        }
      }
    }
    // Large extents take the workgroup-per-output path; tolerances scale with the number of terms.
    const big = tensor(randomValues(3 * 3000), { dtype: 'float32' }).reshape([3, 3000]);
    for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
      const dtype = op.startsWith('arg') ? 'int64' : 'float32';
      const x = twin(big);
      await check(
        problems,
        cpu.reduce(op, x.c, [1], dtype),
        gpu.reduce(op, x.g, [1], dtype),
        [3],
        dtype,
        `${op} [3,3000] dim 1`,
        {
          rtol: 1e-4,
          atol: 3000 * 1e-6,
        },
      );
      const y = twin(big, (t) => t.t());
      await check(
        problems,
        cpu.reduce(op, y.c, [0], dtype),
        gpu.reduce(op, y.g, [0], dtype),
        [3],
        dtype,
        `${op} [3000,3] dim 0`,
        {
          rtol: 1e-4,
          atol: 3000 * 1e-6,
        },
      );
    }
    expect(() => gpu.reduce('max', twin(tensor([], { dtype: 'float32' })).g, [0], 'float32')).toThrow(
      /empty/,
    );
    expect(problems).toEqual([]);
  }, 180_000);

  it('matmul: tiles, edges, transposed and broadcast operands, ints', async () => {
    const problems: string[] = [];
    const cases: [number, number, number, number][] = [
      [1, 1, 1, 1],
      [2, 3, 4, 5],
      [1, 70, 33, 65],
      [3, 17, 64, 9],
      [1, 5, 0, 4],
    ];
    for (const [B, M, K, N] of cases) {
      const a = tensor(randomValues(B * M * K), { dtype: 'float32' }).reshape([B, M, K]);
      const b = tensor(randomValues(B * K * N), { dtype: 'float32' }).reshape([B, K, N]);
      const x = twin(a);
      const y = twin(b);
      const tol = { rtol: 1e-4, atol: 1e-5 * Math.max(K, 1) };
      await check(
        problems,
        cpu.matmul(x.c, y.c, 'float32'),
        gpu.matmul(x.g, y.g, 'float32'),
        [B, M, N],
        'float32',
        `mm ${B}x${M}x${K}x${N}`,
        tol,
      );
      // Transposed operands: A stored [B, K, M], B stored [B, N, K].
      const at = twin(tensor(randomValues(B * M * K), { dtype: 'float32' }).reshape([B, K, M]), (t) =>
        t.transpose(1, 2),
      );
      const bt = twin(tensor(randomValues(B * K * N), { dtype: 'float32' }).reshape([B, N, K]), (t) =>
        t.transpose(1, 2),
      );
      await check(
        problems,
        cpu.matmul(at.c, bt.c, 'float32'),
        gpu.matmul(at.g, bt.g, 'float32'),
        [B, M, N],
        'float32',
        `mm^T ${B}x${M}x${K}x${N}`,
        tol,
      );
    }
    // A batch-broadcast operand (stride 0 on the batch dim) and a sliced one.
    const w = twin(tensor(randomValues(6 * 4), { dtype: 'float32' }).reshape([1, 6, 4]), (t) =>
      t.expand([3, 6, 4]).slice(1, 1, 5),
    );
    const v = twin(tensor(randomValues(3 * 2 * 5), { dtype: 'float32' }).reshape([3, 2, 5]));
    await check(
      problems,
      cpu.matmul(v.c, w.c, 'float32'),
      gpu.matmul(v.g, w.g, 'float32'),
      [3, 2, 4],
      'float32',
      'mm broadcast',
      {
        rtol: 1e-4,
        atol: 1e-5,
      },
    );
    const ia = twin(
      tensor(
        [
          [
            [1, 2],
            [3, 4],
            [5, -6],
          ],
        ],
        { dtype: 'int64' },
      ),
    );
    const ib = twin(
      tensor(
        [
          [
            [7, -1, 0],
            [2, 2, 9],
          ],
        ],
        { dtype: 'int64' },
      ),
    );
    await check(
      problems,
      cpu.matmul(ia.c, ib.c, 'int64'),
      gpu.matmul(ia.g, ib.g, 'int64'),
      [1, 3, 3],
      'int64',
      'mm int64',
    );
    expect(problems).toEqual([]);
  }, 120_000);

  it('conv2d forward and both backward kernels', async () => {
    const problems: string[] = [];
    const configs: { x: number[]; w: number[]; p: Conv2dParams }[] = [
      {
        x: [2, 3, 7, 6],
        w: [4, 3, 3, 3],
        p: { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
      },
      {
        x: [1, 4, 9, 9],
        w: [6, 2, 3, 2],
        p: { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2 },
      },
      {
        x: [2, 4, 8, 8],
        w: [4, 1, 3, 3],
        p: { stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 4 },
      },
      {
        x: [1, 5, 5, 5],
        w: [3, 5, 1, 1],
        p: { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 },
      },
      {
        x: [1, 2, 11, 10],
        w: [70, 2, 5, 5],
        p: { stride: [3, 2], padding: [2, 2], dilation: [1, 1], groups: 1 },
      },
    ];
    for (const { x: xs, w: ws, p } of configs) {
      const [N, , H, W] = xs;
      const [O, , KH, KW] = ws;
      const OH = Math.floor((H + 2 * p.padding[0] - p.dilation[0] * (KH - 1) - 1) / p.stride[0]) + 1;
      const OW = Math.floor((W + 2 * p.padding[1] - p.dilation[1] * (KW - 1) - 1) / p.stride[1]) + 1;
      const outShape = [N, O, OH, OW];
      const x = twin(tensor(randomValues(numelOf(xs)), { dtype: 'float32' }).reshape(xs));
      const w = twin(tensor(randomValues(numelOf(ws), 0.3), { dtype: 'float32' }).reshape(ws));
      const g = twin(tensor(randomValues(numelOf(outShape)), { dtype: 'float32' }).reshape(outShape));
      const label = `conv x[${xs}] w[${ws}] s${p.stride} p${p.padding} d${p.dilation} g${p.groups}`;
      const tol = { rtol: 1e-4, atol: 1e-5 * numelOf(ws) };
      await check(
        problems,
        cpu.conv2d(x.c, w.c, p, outShape),
        gpu.conv2d(x.g, w.g, p, outShape),
        outShape,
        'float32',
        label,
        tol,
      );
      await check(
        problems,
        cpu.conv2dBackwardInput(g.c, w.c, p, xs),
        gpu.conv2dBackwardInput(g.g, w.g, p, xs),
        xs,
        'float32',
        `${label} backward input`,
        tol,
      );
      await check(
        problems,
        cpu.conv2dBackwardWeight(x.c, g.c, p, ws),
        gpu.conv2dBackwardWeight(x.g, g.g, p, ws),
        ws,
        'float32',
        `${label} backward weight`,
        { rtol: 1e-4, atol: 1e-5 * numelOf(outShape) },
      );
    }
    expect(problems).toEqual([]);
  }, 180_000);

  it('max, average and adaptive pooling with their backward kernels', async () => {
    const problems: string[] = [];
    const pool = (k: number, s: number, pad: number, extra: Partial<Pool2dParams> = {}): Pool2dParams => ({
      kernelSize: [k, k],
      stride: [s, s],
      padding: [pad, pad],
      dilation: [1, 1],
      ceilMode: false,
      countIncludePad: true,
      divisorOverride: null,
      ...extra,
    });
    const xs = [2, 3, 7, 8];
    const vals = randomValues(numelOf(xs)).map((v) => Math.round(v * 2) / 2); // ties
    vals[5] = Number.NaN;
    const x = twin(tensor(vals, { dtype: 'float32' }).reshape(xs));
    const size = (n: number, p: Pool2dParams, i: 0 | 1) => {
      const num = n + 2 * p.padding[i] - p.dilation[i] * (p.kernelSize[i] - 1) - 1;
      let o = (p.ceilMode ? Math.ceil(num / p.stride[i]) : Math.floor(num / p.stride[i])) + 1;
      if (p.ceilMode && (o - 1) * p.stride[i] >= n + p.padding[i]) o--;
      return o;
    };
    const params = [
      pool(2, 2, 0),
      pool(3, 2, 1),
      pool(3, 2, 1, { ceilMode: true }),
      pool(3, 1, 1, { countIncludePad: false }),
      pool(2, 3, 1, { ceilMode: true, countIncludePad: false }),
      pool(3, 2, 0, { divisorOverride: 5 }),
      pool(2, 1, 0, { dilation: [2, 2] }),
    ];
    for (const p of params) {
      const outShape = [2, 3, size(7, p, 0), size(8, p, 1)];
      const label = `k${p.kernelSize} s${p.stride} p${p.padding} d${p.dilation} ceil=${p.ceilMode} incl=${p.countIncludePad} div=${p.divisorOverride}`;
      const g = twin(tensor(randomValues(numelOf(outShape)), { dtype: 'float32' }).reshape(outShape));
      const mc = cpu.maxPool2d(x.c, p, outShape, true);
      const mg = gpu.maxPool2d(x.g, p, outShape, true);
      await check(problems, mc.values, mg.values, outShape, 'float32', `maxPool ${label}`);
      await check(problems, mc.indices!, mg.indices!, outShape, 'int64', `maxPool indices ${label}`);
      const ic = Tensor._fromStorage(mc.indices!, outShape, 'int64')._view;
      const ig = Tensor._fromStorage(mg.indices!, outShape, 'int64')._view;
      await check(
        problems,
        cpu.maxPool2dBackward(g.c, ic, xs),
        gpu.maxPool2dBackward(g.g, ig, xs),
        xs,
        'float32',
        `maxPool backward ${label}`,
      );
      if (p.dilation[0] === 1) {
        const clean = twin(tensor(randomValues(numelOf(xs)), { dtype: 'float32' }).reshape(xs));
        await check(
          problems,
          cpu.avgPool2d(clean.c, p, outShape),
          gpu.avgPool2d(clean.g, p, outShape),
          outShape,
          'float32',
          `avgPool ${label}`,
        );
        await check(
          problems,
          cpu.avgPool2dBackward(g.c, p, xs),
          gpu.avgPool2dBackward(g.g, p, xs),
          xs,
          'float32',
          `avgPool backward ${label}`,
        );
      }
    }
    for (const [oh, ow] of [
      [1, 1],
      [3, 5],
      [7, 8],
      [4, 3],
    ]) {
      const outShape = [2, 3, oh, ow];
      const clean = twin(tensor(randomValues(numelOf(xs)), { dtype: 'float32' }).reshape(xs));
      const g = twin(tensor(randomValues(numelOf(outShape)), { dtype: 'float32' }).reshape(outShape));
      await check(
        problems,
        cpu.adaptiveAvgPool2d(clean.c, outShape),
        gpu.adaptiveAvgPool2d(clean.g, outShape),
        outShape,
        'float32',
        `adaptive ${oh}x${ow}`,
      );
      await check(
        problems,
        cpu.adaptiveAvgPool2dBackward(g.c, xs),
        gpu.adaptiveAvgPool2dBackward(g.g, xs),
        xs,
        'float32',
        `adaptive backward ${oh}x${ow}`,
      );
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('gather, scatterAdd, indexSelect, indexAdd (negative indices, strided operands)', async () => {
    const problems: string[] = [];
    const x = twin(tensor(randomValues(4 * 5 * 3), { dtype: 'float32' }).reshape([4, 5, 3]), (t) =>
      t.permute([1, 0, 2]),
    );
    // x viewed as [5, 4, 3]
    for (const dim of [0, 1, 2]) {
      const ishape = [5, 4, 3].map((s, d) => (d === dim ? 6 : s));
      const size = [5, 4, 3][dim];
      const idxVals = Array.from({ length: numelOf(ishape) }, (_, i) => ((i * 5) % (2 * size)) - size);
      const idx = twin(tensor(idxVals, { dtype: 'int64' }).reshape(ishape));
      await check(
        problems,
        cpu.gather(x.c, dim, idx.c),
        gpu.gather(x.g, dim, idx.g),
        ishape,
        'float32',
        `gather dim ${dim}`,
      );
      const src = twin(tensor(randomValues(numelOf(ishape)), { dtype: 'float32' }).reshape(ishape));
      const outShape = [5, 4, 3];
      await check(
        problems,
        cpu.scatterAdd(outShape, dim, idx.c, src.c),
        gpu.scatterAdd(outShape, dim, idx.g, src.g),
        outShape,
        'float32',
        `scatterAdd dim ${dim}`,
      );
      const sel = twin(tensor([size - 1, 0, -1, 1, 1], { dtype: 'int64' }), (t) => t.slice(0, 0, 5));
      const selShape = [5, 4, 3].map((s, d) => (d === dim ? 5 : s));
      await check(
        problems,
        cpu.indexSelect(x.c, dim, sel.c),
        gpu.indexSelect(x.g, dim, sel.g),
        selShape,
        'float32',
        `indexSelect dim ${dim}`,
      );
      const addSrc = twin(
        tensor(randomValues(numelOf(selShape)), { dtype: 'float32' }).reshape(selShape),
        (t) => t,
      );
      await check(
        problems,
        cpu.indexAdd(outShape, dim, sel.c, addSrc.c),
        gpu.indexAdd(outShape, dim, sel.g, addSrc.g),
        outShape,
        'float32',
        `indexAdd dim ${dim}`,
      );
    }
    // int64 and bool payloads are copied bit-exactly by gather and indexSelect.
    const ix = twin(
      tensor(
        [
          [5, -6, 7],
          [8, 9, -10],
        ],
        { dtype: 'int64' },
      ),
    );
    const sel = twin(tensor([2, 0], { dtype: 'int64' }));
    await check(
      problems,
      cpu.indexSelect(ix.c, 1, sel.c),
      gpu.indexSelect(ix.g, 1, sel.g),
      [2, 2],
      'int64',
      'indexSelect int64',
    );
    expect(problems).toEqual([]);
  }, 120_000);

  it('out-of-range indices surface as an error at the next readback', async () => {
    const x = tensor([1, 2, 3], { dtype: 'float32' }).to('webgpu');
    const bad = tensor([0, 3], { dtype: 'int64' }).to('webgpu');
    const out = Tensor._fromStorage(gpu.indexSelect(x._view, 0, bad._view), [2], 'float32');
    await expect(out.read()).rejects.toThrow(/indexSelect: index out of bounds/);
    // The flag is cleared: the next readback works.
    expect(Array.from(await x.read())).toEqual([1, 2, 3]);
  }, 60_000);

  it('topk: largest and smallest, ties, NaN, any dim', async () => {
    const problems: string[] = [];
    const vals = randomValues(4 * 6 * 3).map((v) => Math.round(v * 2) / 2);
    vals[3] = Number.NaN;
    vals[20] = Number.NaN;
    const base = tensor(vals, { dtype: 'float32' }).reshape([4, 6, 3]);
    for (const dim of [0, 1, 2]) {
      for (const largest of [true, false]) {
        const x = twin(base, (t) => t.transpose(0, 2)); // [3, 6, 4]
        const L = x.c.shape[dim];
        for (const k of [1, Math.min(3, L), L]) {
          const shape = [...x.c.shape];
          shape[dim] = k;
          const rc = cpu.topk(x.c, k, dim, largest, true);
          const rg = gpu.topk(x.g, k, dim, largest, true);
          const label = `topk dim ${dim} k ${k} largest ${largest}`;
          await check(problems, rc.values, rg.values, shape, 'float32', label);
          await check(problems, rc.indices, rg.indices, shape, 'int64', `${label} indices`);
        }
      }
    }
    const ints = twin(tensor([[3, 1, 3, -2, 9]], { dtype: 'int64' }));
    const rc = cpu.topk(ints.c, 3, 1, true, true);
    const rg = gpu.topk(ints.g, 3, 1, true, true);
    await check(problems, rc.values, rg.values, [1, 3], 'int64', 'topk int64');
    await check(problems, rc.indices, rg.indices, [1, 3], 'int64', 'topk int64 indices');
    expect(problems).toEqual([]);
  }, 120_000);

  it('copy (casts between every dtype), assign into strided views, fill', async () => {
    const problems: string[] = [];
    // float64 is held as float32 on the GPU: exact to float32 rounding only.
    const exact = (to: DType): Tolerance =>
      to === 'float64' ? { rtol: 1e-7, atol: 0 } : { rtol: 0, atol: 0 };
    const sources: [string, Tensor][] = [
      [
        'float32',
        tensor(
          [
            -300.7,
            -129.5,
            -1.5,
            -0.5,
            -0,
            0,
            0.1,
            1 / 3,
            2.5,
            127.9,
            200.2,
            300.7,
            65519,
            65520,
            3e-5,
            1e-8,
            Number.NaN,
            Number.POSITIVE_INFINITY,
            Number.NEGATIVE_INFINITY,
            1e9,
          ],
          { dtype: 'float32' },
        ),
      ],
      [
        'int64',
        tensor([-2147483648, -300, -129, -1, 0, 1, 127, 128, 255, 256, 65537, 2147483647], {
          dtype: 'int64',
        }),
      ],
      ['int32', tensor([-70000, -1, 0, 1, 40000], { dtype: 'int32' })],
      ['bool', tensor([true, false, true])],
      ['uint8', tensor([0, 1, 128, 255], { dtype: 'uint8' })],
      ['float16', tensor([-65504, -1.5, 0.099975586, 1, 2049, 65504, 6e-8], { dtype: 'float16' })],
      ['bfloat16', tensor([-3.140625, 0.1, 1e4], { dtype: 'bfloat16' })],
    ];
    const targets: DType[] = [
      'float32',
      'float64',
      'float16',
      'bfloat16',
      'int64',
      'int32',
      'int16',
      'int8',
      'uint8',
      'bool',
    ];
    for (const [name, t] of sources) {
      for (const to of targets) {
        // Out of int32 range the CPU wraps where the GPU saturates: keep those values to float targets.
        if (name === 'float32' && (to === 'int32' || to === 'int64')) {
          const inRange = tensor(
            [-300.7, -1.5, -0, 0.1, 2.5, 300.7, 65520, Number.NaN, Number.POSITIVE_INFINITY, 1e9],
            { dtype: 'float32' },
          );
          const x = twin(inRange);
          await check(
            problems,
            cpu.copy(x.c, to),
            gpu.copy(x.g, to),
            x.c.shape,
            to,
            `copy float32 -> ${to}`,
            { rtol: 0, atol: 0 },
          );
          continue;
        }
        const x = twin(t, (v) => v.slice(0, 0, undefined, 1));
        await check(
          problems,
          cpu.copy(x.c, to),
          gpu.copy(x.g, to),
          x.c.shape,
          to,
          `copy ${name} -> ${to}`,
          exact(to),
        );
      }
    }
    // assign: a transposed source into every other column of a zero matrix.
    for (const dtype of ['float32', 'int64', 'bool'] as DType[]) {
      const dstC = Tensor._fromStorage(cpu.alloc(dtype, 24), [4, 6], dtype);
      const dstG = Tensor._fromStorage(gpu.alloc(dtype, 24), [4, 6], dtype);
      const src = twin(
        tensor(
          [
            [1, 0, 3, 4],
            [5, 6, 0, 8],
            [9, 10, 11, 0],
          ],
          { dtype: 'float32' },
        ),
        (t) => t.t(),
      );
      cpu.assign(dstC.slice(1, 0, 6, 2)._view, src.c);
      gpu.assign(dstG.slice(1, 0, 6, 2)._view, src.g);
      await check(problems, dstC._ref.storage, dstG._ref.storage, [4, 6], dtype, `assign ${dtype}`, {
        rtol: 0,
        atol: 0,
      });
    }
    for (const dtype of targets) {
      for (const v of [2.7, -1.5, 0]) {
        await check(
          problems,
          cpu.fill(dtype, 5, v),
          gpu.fill(dtype, 5, v),
          [5],
          dtype,
          `fill ${dtype} ${v}`,
          exact(dtype),
        );
      }
    }
    await check(
      problems,
      cpu.fill('float32', 3, Number.NaN),
      gpu.fill('float32', 3, Number.NaN),
      [3],
      'float32',
      'fill NaN',
    );
    expect(problems).toEqual([]);
  }, 120_000);

  it("refuses Dawn's null backend, which runs no shaders", async () => {
    await expect(initWebGpu({ dawnFlags: ['backend=null'] })).rejects.toThrow(/null backend/);
  }, 60_000);

  it('reads back every dtype, rejects readSync and oversized int64 uploads', async () => {
    for (const [t, dtype] of [
      [tensor([1.5, -2], { dtype: 'float64' }), 'float64'],
      [tensor([3, -4], { dtype: 'int16' }), 'int16'],
      [tensor([3, -4], { dtype: 'int8' }), 'int8'],
    ] as [Tensor, DType][]) {
      const g = t.to('webgpu');
      expect(g.dtype).toBe(dtype);
      expect(Array.from(await g.read())).toEqual(Array.from(t.readSync()));
    }
    const g = tensor([1, 2], { dtype: 'float32' }).to('webgpu');
    expect(() => g.readSync()).toThrow(/webgpu tensors need `await t.read\(\)`/);
    expect(() => g.to('cpu')).toThrow(/toAsync/);
    const back = await g.toAsync('cpu');
    expect(back.device).toBe('cpu');
    expect(Array.from(back.readSync())).toEqual([1, 2]);
    expect(() => tensor([2 ** 40], { dtype: 'int64' }).to('webgpu')).toThrow(
      /does not fit the GPU's 32-bit integer storage/,
    );
    g.dispose();
    await expect(g.read()).rejects.toThrow(/disposed/);
  }, 60_000);
});
