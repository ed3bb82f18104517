import { type Tensor, tensor, zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { BatchNorm2d, Linear, Module, Parameter, StateDictError } from './index.js';
import { readFixture } from './test-utils/fixtures.js';
import { MODELS, Net } from './test-utils/models.js';

interface LoadCase {
  name: string;
  target: string;
  source: string;
  ops: (['drop', string] | ['add', string, number[]] | ['reshape', string, number[]])[];
  strict_error: string | null;
  nonstrict: { missing: string[]; unexpected: string[] } | null;
  nonstrict_error: string | null;
}
const cases = readFixture<LoadCase[]>('load_reports.json');

function buildSource(c: LoadCase): Record<string, Tensor> {
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(MODELS[c.source]().stateDict())) sd[k] = v.clone();
  for (const op of c.ops) {
    if (op[0] === 'drop') delete sd[op[1]];
    else if (op[0] === 'add') sd[op[1]] = zeros(op[2]);
    else sd[op[1]] = zeros(op[2], { dtype: sd[op[1]].dtype });
  }
  return sd;
}

function errorOf(fn: () => unknown): StateDictError | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!(e instanceof StateDictError)) throw e;
    return e;
  }
}

describe('loadStateDict reports exactly what PyTorch reports', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s (strict)', (_, c) => {
    const err = errorOf(() => MODELS[c.target]().loadStateDict(buildSource(c)));
    expect(err?.message ?? null).toBe(c.strict_error);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s (non-strict)', (_, c) => {
    let result: { missingKeys: string[]; unexpectedKeys: string[] } | null = null;
    const err = errorOf(() => {
      result = MODELS[c.target]().loadStateDict(buildSource(c), { strict: false });
    });
    expect(err?.message ?? null).toBe(c.nonstrict_error);
    if (c.nonstrict)
      expect(result).toEqual({ missingKeys: c.nonstrict.missing, unexpectedKeys: c.nonstrict.unexpected });
  });
});

describe('loadStateDict semantics', () => {
  it('copies values into the existing parameters and buffers (same objects)', () => {
    const src = new Net();
    const dst = new Net();
    const w = dst.fc1.weight;
    dst.loadStateDict(src.stateDict());
    expect(dst.fc1.weight).toBe(w);
    expect([...w.readSync()]).toEqual([...src.fc1.weight.readSync()]);
    expect(w.requiresGrad).toBe(true);
  });

  it('a strict failure still copies the entries that matched, like PyTorch', () => {
    const src = new Net();
    const dst = MODELS.Net_fc5() as Net;
    expect(() => dst.loadStateDict(src.stateDict())).toThrow(StateDictError);
    expect([...dst.conv1.weight.readSync()]).toEqual([...src.conv1.weight.readSync()]);
  });

  it('the error carries the key lists', () => {
    const sd = new Net().stateDict();
    delete sd['fc1.bias'];
    sd['head.weight'] = zeros(2);
    const err = errorOf(() => new Net().loadStateDict(sd));
    expect(err?.missingKeys).toEqual(['fc1.bias']);
    expect(err?.unexpectedKeys).toEqual(['head.weight']);
    expect(err?.name).toBe('StateDictError');
  });

  it('the replaced-head recipe: drop the old head, load non-strict', () => {
    const pretrained = MODELS.TinyResNet().stateDict();
    const model = MODELS.TinyResNet_head2();
    for (const k of Object.keys(pretrained)) if (k.startsWith('fc.')) delete pretrained[k];
    expect(model.loadStateDict(pretrained, { strict: false })).toEqual({
      missingKeys: ['fc.weight', 'fc.bias'],
      unexpectedKeys: [],
    });
  });

  it('accepts a Map and casts dtypes on copy', () => {
    const lin = new Linear(2, 2);
    lin.loadStateDict(
      new Map([
        [
          'weight',
          tensor(
            [
              [1, 2],
              [3, 4],
            ],
            { dtype: 'float64' },
          ),
        ],
        ['bias', tensor([5, 6], { dtype: 'float64' })],
      ]),
    );
    expect(lin.weight.dtype).toBe('float32');
    expect([...lin.weight.readSync()]).toEqual([1, 2, 3, 4]);
  });

  it('loads num_batches_tracked as int64 and stateDict keeps it int64', () => {
    const bn = new BatchNorm2d(2);
    bn.loadStateDict({ ...bn.stateDict(), num_batches_tracked: tensor(7) });
    expect(bn.num_batches_tracked?.dtype).toBe('int64');
    expect(bn.num_batches_tracked?.itemSync()).toBe(7);
    expect(bn.stateDict().num_batches_tracked.dtype).toBe('int64');
  });

  it('rejects values that are not tensors, naming the key', () => {
    const lin = new Linear(2, 2);
    const sd = { weight: [1, 2], bias: zeros(2) } as unknown as Record<string, Tensor>;
    expect(() => lin.loadStateDict(sd)).toThrow(
      'Error(s) in loading state_dict for Linear:\n\tWhile copying the parameter named "weight", expected torch.Tensor or Tensor-like object from checkpoint but received Array',
    );
    expect(() => lin.loadStateDict(null as unknown as Record<string, Tensor>)).toThrow(
      'Expected state_dict to be dict-like, got null.',
    );
  });

  it('non-persistent buffers and null members stay out of the state dict', () => {
    class M extends Module {
      constructor() {
        super();
        this.registerBuffer('kept', zeros(1));
        this.registerBuffer('scratch', zeros(1), false);
        this.registerBuffer('absent', null);
        this.registerParameter('w', new Parameter(zeros(1)));
        this.registerParameter('b', null);
      }
    }
    expect(Object.keys(new M().stateDict())).toEqual(['w', 'kept']);
    expect([...new M().namedBuffers()].map(([k]) => k)).toEqual(['kept', 'scratch']);
  });

  it('stateDict values share storage with the module and are detached unless keepVars', () => {
    const lin = new Linear(2, 2);
    const sd = lin.stateDict();
    expect(sd.weight).not.toBe(lin.weight);
    expect(sd.weight.requiresGrad).toBe(false);
    sd.weight.zero_();
    expect([...lin.weight.readSync()]).toEqual([0, 0, 0, 0]);
    expect(lin.stateDict({ keepVars: true }).weight).toBe(lin.weight);
    expect(Object.keys(lin.stateDict({ prefix: 'head.' }))).toEqual(['head.weight', 'head.bias']);
  });
});
