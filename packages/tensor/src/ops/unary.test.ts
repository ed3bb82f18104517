// The op table drives the methods, the free functions, the golden case list and the op reference:
// these tests fail when one of them misses an op, or when a grad_fn name differs from PyTorch's.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensor } from '../creation.js';
import * as api from '../index.js';
import type { OpsFixture } from '../test-utils/cases.js';
import { loadFixture } from '../test-utils/fixtures.js';
import { OTHER_OPS, opReferenceMarkdown } from './reference.js';
import { publicUnaryNames, UNARY_OPS, unaryDef } from './unary.js';

const fixture = loadFixture<OpsFixture & { gradFnNames: Record<string, string | null> }>('ops.json');

// graft records no gradient through these (PyTorch records a zero gradient under the names it prints).
const NO_GRAD_HERE = ['sign', 'floor', 'ceil', 'round'];

describe('the unary op table', () => {
  const names = publicUnaryNames();

  it('has golden cases for every public op, with gradients and a gradcheck for the differentiable ones', () => {
    const missing: string[] = [];
    for (const name of names) {
      const cases = fixture.cases.filter((c) => c.op === name);
      if (cases.length === 0)
        missing.push(`${name}: no golden case (add it to UNARY in scripts/golden/tensor.py)`);
      else if (unaryDef(name).gradFn && !cases.some((c) => c.grads && c.gradcheck !== false))
        missing.push(`${name}: no golden case with gradients`);
    }
    expect(missing).toEqual([]);
  });

  it("names each op's grad_fn as PyTorch does", () => {
    const expected: Record<string, string | null> = {};
    const actual: Record<string, string | null> = {};
    for (const name of names) {
      expected[name] = NO_GRAD_HERE.includes(name) ? null : fixture.gradFnNames[name];
      actual[name] = unaryDef(name).gradFn;
    }
    expect(actual).toEqual(expected);
  });

  it('records that grad_fn on the output of both the method and the free function', () => {
    const x = tensor([0.25, 0.5, 0.75], { dtype: 'float64' }).requiresGrad_();
    const fns = api as unknown as Record<string, (t: api.Tensor) => api.Tensor>;
    for (const name of names) {
      const def = unaryDef(name);
      const viaMethod = x[name]();
      const viaFunction = fns[name](x);
      expect(viaMethod.gradFn?.name ?? null, name).toBe(def.gradFn);
      expect(viaFunction.gradFn?.name ?? null, name).toBe(def.gradFn);
      expect(Array.from(viaFunction.readSync()), name).toEqual(Array.from(viaMethod.readSync()));
      // The CPU kernel is the table's scalar function.
      const want = Array.from(x.readSync(), (v) => def.cpu(v));
      expect(Array.from(viaMethod.readSync(), Number), name).toEqual(want);
    }
  });

  it('exports a free function for every public op, and none for the kernel-only entries', () => {
    const exported = api as unknown as Record<string, unknown>;
    expect(names.filter((n) => typeof exported[n] !== 'function')).toEqual([]);
    const kernelOnly = Object.keys(UNARY_OPS).filter((n) => !(names as string[]).includes(n));
    expect(kernelOnly).toEqual(['gelu', 'geluTanh']);
    expect(typeof exported.geluTanh).toBe('undefined');
  });

  it('promotes integer inputs to float32 where PyTorch does, keeps the dtype or gives bool otherwise', () => {
    const ints = tensor([1, 2, 3], { dtype: 'int64' });
    for (const name of names) {
      const rule = unaryDef(name).dtype;
      const want = rule === 'float' ? 'float32' : rule === 'bool' ? 'bool' : 'int64';
      expect(ints[name]().dtype, name).toBe(want);
    }
  });

  it('refuses a bool tensor for neg with PyTorch’s message', () => {
    expect(() => tensor([true]).neg()).toThrow(/negation, the `-` operator, on a bool tensor/);
    expect(() => api.sin(3 as unknown as api.Tensor)).toThrow(/sin: expected a Tensor, got number/);
  });
});

describe('prod, cumsum, flip and maskedFill', () => {
  it('name their grad_fn as PyTorch does', () => {
    const x = tensor([0.5, 2, 3], { dtype: 'float64' }).requiresGrad_();
    const m = tensor([true, false, true]);
    const names = {
      prod: x.prod().gradFn?.name,
      prodDim: x.prod(0).gradFn?.name,
      cumsum: x.cumsum(0).gradFn?.name,
      flip: x.flip(0).gradFn?.name,
      maskedFill: x.maskedFill(m, 1).gradFn?.name,
      maskedFillTensor: x.maskedFill(m, tensor(1, { dtype: 'float64' }).requiresGrad_()).gradFn?.name,
    };
    const g = fixture.gradFnNames;
    expect(names).toEqual({
      prod: g.prod,
      prodDim: g.prodDim,
      cumsum: g.cumsum,
      flip: g.flip,
      maskedFill: g.maskedFill,
      maskedFillTensor: g.maskedFillTensor,
    });
  });

  it('maskedFill_ writes in place, bumps the version and passes no gradient where it filled', () => {
    const x = tensor([1, 2, 3, 4], { dtype: 'float64' }).requiresGrad_();
    const y = x.mul(2);
    const v = y._version;
    expect(y.maskedFill_(tensor([false, true, false, true]), -1)).toBe(y);
    expect(y._version).toBe(v + 1);
    expect(Array.from(y.readSync())).toEqual([2, -1, 6, -1]);
    expect(y.gradFn?.name).toBe('MaskedFillBackward0');
    y.sum().backward();
    expect(Array.from(x.grad!.readSync())).toEqual([2, 0, 2, 0]);
  });

  it('refuse what PyTorch refuses', () => {
    const x = tensor([1, 2, 3]);
    expect(() => x.maskedFill(tensor([1, 0, 1]), 0)).toThrow(/only boolean masks.*int64/);
    expect(() => x.maskedFill(tensor([true, false, true]), tensor([1, 2]))).toThrow(/0-dimensional value/);
    expect(() => x.flip(0, 0)).toThrow(/dim 0 appears multiple times/);
    expect(() => x.cumsum(1)).toThrow(/cumsum: dimension out of range/);
    expect(() => x.maskedFill_(tensor([[true], [false]]), 0)).toThrow(/doesn't match the broadcast shape/);
  });

  it('free functions accept what the methods accept', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float32' },
    );
    expect(api.flip(x, 1).tolistSync()).toEqual(x.flip(1).tolistSync());
    expect(api.flip(x, [0, 1]).tolistSync()).toEqual([
      [6, 5, 4],
      [3, 2, 1],
    ]);
    expect(api.cumsum(x, 1).tolistSync()).toEqual([
      [1, 3, 6],
      [4, 9, 15],
    ]);
    expect(api.prod(x, 1).tolistSync()).toEqual([6, 120]);
    expect(api.prod(x).itemSync()).toBe(720);
    expect(api.sum(x, 0).tolistSync()).toEqual([5, 7, 9]);
    expect(api.clamp(x, 2, 5).tolistSync()).toEqual([
      [2, 2, 3],
      [4, 5, 5],
    ]);
    expect(api.add(x, 1, { alpha: 2 }).tolistSync()).toEqual([
      [3, 4, 5],
      [6, 7, 8],
    ]);
    const [values, indices] = api.max(x, 1);
    expect([values.tolistSync(), indices.tolistSync()]).toEqual([
      [3, 6],
      [2, 2],
    ]);
  });
});

describe('the op reference (docs/guide/ops.md)', () => {
  it('lists every free function of ops/functions.ts', () => {
    const listed = new Set([...publicUnaryNames(), ...OTHER_OPS.map((o) => o.name)]);
    const source = readFileSync(new URL('./functions.ts', import.meta.url), 'utf8');
    const defined = [...source.matchAll(/^export (?:const|function) (\w+)/gm)].map((m) => m[1]);
    expect(defined.filter((n) => !listed.has(n))).toEqual([]);
    expect([...listed].filter((n) => !defined.includes(n))).toEqual([]);
    // Each unary function's TSDoc line is its table entry's doc.
    const stale = publicUnaryNames().filter((name) => {
      const { doc, torch } = unaryDef(name);
      return !source.includes(`/** ${doc} \`torch.${torch}\`. */\nexport const ${name} = `);
    });
    expect(stale).toEqual([]);
  });

  it('is up to date (regenerate: build, then node packages/tensor/scripts/op-reference.mjs)', () => {
    const page = readFileSync(new URL('../../../../docs/guide/ops.md', import.meta.url), 'utf8');
    expect(page).toBe(opReferenceMarkdown());
  });
});
