import { spawnSync } from 'node:child_process';
import { memoryStats, Tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { isOrderedDict, loadBytes, type PyValue, pyAttributes, readSafetensors } from './index.js';
import { FIXTURES, fixture, fixtureJson } from './test-utils/fixtures.js';

// expected.json is written by scripts/golden/serialize.py from what PyTorch 1.13 loads.
type Expected =
  | null
  | boolean
  | string
  | { int: string }
  | { float: number | string }
  | { bytes: number[] }
  | { list: Expected[] }
  | { tuple: Expected[] }
  | { dict: [Expected, Expected][]; ordered: boolean; attributes?: { _metadata: Expected } }
  | { tensor: ExpectedTensor };

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  stride: number[];
  offset: number;
  requires_grad: boolean;
  values: (number | string)[];
}

const expected = fixtureJson<Record<string, Expected>>('expected.json');

function num(v: number | string): number {
  if (v === 'nan') return Number.NaN;
  if (v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  return v as number;
}

function key(e: Expected): unknown {
  if (typeof e === 'object' && e !== null && 'int' in e) {
    const b = BigInt(e.int);
    return Number.isSafeInteger(Number(b)) ? Number(b) : b;
  }
  return e;
}

/** Checks `actual` against PyTorch's description, under the package's documented JS mapping. */
function check(actual: unknown, e: Expected, path: string): void {
  if (e === null || typeof e === 'boolean' || typeof e === 'string') {
    expect(actual, path).toBe(e);
    return;
  }
  if ('int' in e) {
    expect(actual, path).toBe(key(e));
    return;
  }
  if ('float' in e) {
    expect(typeof actual, path).toBe('number');
    expect(actual, path).toBe(num(e.float));
    return;
  }
  if ('bytes' in e) {
    expect([...(actual as Uint8Array)], path).toEqual(e.bytes);
    return;
  }
  if ('list' in e || 'tuple' in e) {
    const items = 'list' in e ? e.list : e.tuple;
    expect(Array.isArray(actual), path).toBe(true);
    expect(Object.isFrozen(actual), `${path} frozen means tuple`).toBe('tuple' in e);
    const arr = actual as unknown[];
    expect(arr.length, path).toBe(items.length);
    items.forEach((item, i) => {
      check(arr[i], item, `${path}[${i}]`);
    });
    return;
  }
  if ('dict' in e) {
    const allStrings = e.dict.every(([k]) => typeof k === 'string');
    expect(isOrderedDict(actual as object), `${path} ordered`).toBe(e.ordered);
    if (path.endsWith('._metadata')) {
      // Policy: a state dict's _metadata is a Map, so its order ('' first) survives; compare it in order.
      expect(actual, path).toBeInstanceOf(Map);
      const map = actual as Map<unknown, unknown>;
      expect([...map.keys()], path).toEqual(e.dict.map(([k]) => k));
      for (const [k, v] of e.dict) check(map.get(k), v, `${path}[${JSON.stringify(k)}]`);
    } else if (allStrings) {
      expect(actual instanceof Map, path).toBe(false);
      const obj = actual as Record<string, unknown>;
      expect(Object.keys(obj).sort(), path).toEqual(e.dict.map(([k]) => k as string).sort());
      for (const [k, v] of e.dict) check(obj[k as string], v, `${path}.${k as string}`);
    } else {
      expect(actual, path).toBeInstanceOf(Map);
      const map = actual as Map<unknown, unknown>;
      expect([...map.keys()], path).toEqual(e.dict.map(([k]) => key(k)));
      for (const [k, v] of e.dict) check(map.get(key(k)), v, `${path}[${String(key(k))}]`);
    }
    if (e.attributes)
      check(pyAttributes(actual as object)?._metadata, e.attributes._metadata, `${path}._metadata`);
    return;
  }
  const t = e.tensor;
  expect(actual, path).toBeInstanceOf(Tensor);
  const tensor = actual as Tensor;
  expect(tensor.dtype, path).toBe(t.dtype);
  expect(tensor.shape, path).toEqual(t.shape);
  if (t.shape.every((n) => n > 0)) {
    expect(tensor.strides, `${path} strides`).toEqual(t.stride);
    expect(tensor.offset, `${path} offset`).toBe(t.offset);
  }
  expect(tensor.requiresGrad, `${path} requiresGrad`).toBe(t.requires_grad);
  expect([...tensor.readSync()], `${path} values`).toEqual(t.values.map(num));
}

const PTH = [
  'state_dict_zip.pth',
  'state_dict_legacy.pth',
  'checkpoint.pth',
  'views.pth',
  'views_legacy.pth',
  'dtypes.pth',
  'dtypes_legacy.pth',
  'parameter.pth',
  'legacy_protocol1.pth',
  'legacy_protocol4.pth',
  'deflated_prefix.pth',
  'model.safetensors',
];

describe('PyTorch 1.13 golden files', () => {
  for (const name of PTH) {
    it(`${name} loads with PyTorch's values`, () => {
      check(loadBytes(fixture(name)), expected[name], name);
    });
  }

  it('keeps state dict keys in file order and _metadata off the keys', () => {
    const sd = loadBytes(fixture('state_dict_zip.pth')) as Record<string, PyValue>;
    expect(Object.keys(sd)).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
      '4.weight',
      '4.bias',
    ]);
    expect(Object.keys(sd)).not.toContain('_metadata');
    const meta = pyAttributes(sd)?._metadata as Map<string, { version: number }>;
    expect(meta.get('1')?.version).toBe(2);
    expect((sd as unknown as { _metadata: unknown })._metadata).toBe(meta);
  });

  it('reads optimizer state with int keys as a Map and param ids as numbers', () => {
    const ckpt = loadBytes(fixture('checkpoint.pth')) as Record<string, PyValue>;
    const opt = ckpt.optimizer as {
      state: Map<number, { momentum_buffer: Tensor }>;
      param_groups: Record<string, PyValue>[];
    };
    expect(opt.state).toBeInstanceOf(Map);
    expect([...opt.state.keys()]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(opt.state.get(0)?.momentum_buffer.shape).toEqual([3, 2, 3, 3]);
    expect(opt.param_groups[0].params).toEqual([0, 1, 2, 3, 4, 5]);
    expect(opt.param_groups[0].lr).toBe(0.1);
    const adam = ckpt.adam as { param_groups: Record<string, PyValue>[] };
    expect(adam.param_groups[0].betas).toEqual([0.9, 0.999]);
    expect(Object.isFrozen(adam.param_groups[0].betas)).toBe(true);
    expect(ckpt.big).toBe(2n ** 60n);
    expect(ckpt.lr_float_integral).toBe(1);
  });

  it('reads safetensors metadata', () => {
    const { tensors, metadata } = readSafetensors(fixture('model.safetensors'));
    expect(metadata).toEqual(expected['model.safetensors.metadata']);
    expect(Object.keys(tensors).sort()).toEqual(
      Object.keys(loadBytes(fixture('model.safetensors')) as object).sort(),
    );
  });

  /** The 64-byte aligned offset of `w`'s first value in the file's bytes. */
  function firstValueAt(bytes: Uint8Array, w: Tensor): number {
    const pattern = new Uint8Array(new Float32Array([w.readSync()[0]]).buffer);
    for (let i = 0; i + 4 <= bytes.length; i += 64) {
      if (pattern.every((b, k) => bytes[i + k] === b)) return i;
    }
    return -1;
  }

  // The reference backend keeps storage in JavaScript memory; it is chosen in a process of its own, so
  // no test here changes a process-wide setting. Runs the built packages (turbo builds before testing).
  it('views tensor data in place where the zip aligns it (storage in JavaScript memory)', () => {
    const url = (rel: string) => JSON.stringify(new URL(rel, import.meta.url).href);
    const script = `
      const T = await import(${url('../../tensor/dist/index.js')});
      const S = await import(${url('../dist/index.js')});
      const { readFileSync } = await import('node:fs');
      T.setCpuBackend('reference');
      const bytes = new Uint8Array(readFileSync(new URL('state_dict_zip.pth', ${JSON.stringify(FIXTURES.href)})));
      const w = S.loadBytes(bytes)['0.weight'];
      const pattern = new Uint8Array(new Float32Array([w.readSync()[0]]).buffer);
      let at = -1;
      for (let i = 0; i + 4 <= bytes.length && at < 0; i += 64) if (pattern.every((b, k) => bytes[i + k] === b)) at = i;
      new DataView(bytes.buffer, bytes.byteOffset).setFloat32(at, 42, true);
      console.log(JSON.stringify({ at, after: w.readSync()[0] }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { at: number; after: number };
    expect(out.at).toBeGreaterThan(0);
    // Writing through the file's bytes shows up in the tensor: no copy was made.
    expect(out.after).toBe(42);
  });

  it('copies float32 data once into WebAssembly memory on the default backend, where kernels read it', () => {
    const bytes = fixture('state_dict_zip.pth');
    const w = (loadBytes(bytes) as Record<string, Tensor>)['0.weight'];
    const at = firstValueAt(bytes, w);
    const before = w.readSync()[0];
    const copied = memoryStats().copiedBytes;
    new DataView(bytes.buffer, bytes.byteOffset).setFloat32(at, 42, true);
    expect(w.readSync()[0]).toBe(before);
    const m = w.flatten(1);
    m.matmul(m.t()).sum().itemSync();
    expect(memoryStats().copiedBytes).toBe(copied);
  });

  it('refuses a whole pickled module, naming its class', () => {
    expect(() => loadBytes(fixture('whole_module.pth'))).toThrow(
      /refusing to load global torch\.nn\.modules\.linear\.Linear/,
    );
  });
});
