// What graft writes for nn state dicts and optimizer state dicts has torch.save's structure: the golden
// fixtures/torch_structure.json comes from scripts/golden/serialize.py (PyTorch 1.13, torchvision 0.14).

import { type BatchNorm2d, stateDictMetadata } from '@graft/nn';
import { type Tensor, zeros } from '@graft/tensor';
import { expect, it, describe as suite } from 'vitest';
import { loadBytes, type PyValue, saveBytesSync } from './index.js';
import { fixture, fixtureJson } from './test-utils/fixtures.js';
import {
  type Described,
  describe,
  type OptimizerCase,
  smallModel,
  steppedOptimizer,
} from './test-utils/torch-cases.js';
import { ZipArchive } from './zip-reader.js';

interface Golden {
  small_model_state_dict: Described;
  resnet18_state_dict: Described;
  optimizers: OptimizerCase[];
  small_model_zip_names: string[];
}

const golden = fixtureJson<Golden>('torch_structure.json');
/** torch.save's data.pkl for the same values, base64: tensors are storage references, so weights do not matter. */
const torchPickles = fixtureJson<Record<string, string>>('torch_pickles.json');

/** The data.pkl graft's saveBytes writes for `value`, as base64. */
function graftPickle(value: object): string {
  const zip = new ZipArchive(saveBytesSync(value));
  return Buffer.from(zip.read('archive/data.pkl', { verifyCrc: true })).toString('base64');
}

/** A state dict with torchvision's resnet18 keys, shapes and _metadata (zeros for the weights). */
function resnet18Like(): Record<string, Tensor> {
  const d = golden.resnet18_state_dict as DictDescription;
  const sd: Record<string, Tensor> = {};
  for (const [k, v] of d.dict) {
    const t = (v as { tensor: { dtype: string; shape: number[] } }).tensor;
    sd[k as string] = zeros(t.shape, { dtype: t.dtype as 'float32' });
  }
  const metadata = new Map(versions(d).map(([prefix, version]) => [prefix, { version }]));
  return Object.defineProperty(sd, '_metadata', { value: metadata });
}

/** Saves with graft, reads back with graft's own unpickler keeping Python's int/float distinction. */
const roundTrip = (value: object): PyValue => loadBytes(saveBytesSync(value), { keepFloats: true });

type DictDescription = Extract<Described, { dict: unknown }>;

/** A described state dict's `_metadata` as [prefix, version] pairs, in order. */
function versions(d: Described): [string, number][] {
  const meta = (d as DictDescription).attributes?._metadata as DictDescription | undefined;
  if (!meta) throw new Error('the description has no _metadata');
  return meta.dict.map(([k, v]) => [
    k as string,
    Number(((v as DictDescription).dict[0][1] as { int: string }).int),
  ]);
}

suite('state dicts are written as torch.save writes model.state_dict()', () => {
  it("a Sequential's stateDict() is an OrderedDict with torch's keys and _metadata", () => {
    expect(describe(roundTrip(smallModel().stateDict()))).toEqual(golden.small_model_state_dict);
  });

  it("stateDict() carries torch's _metadata, in torch's order, off the keys", () => {
    const sd = smallModel().stateDict();
    const expected = versions(golden.small_model_state_dict);
    expect([...(stateDictMetadata(sd) ?? [])].map(([k, v]) => [k, v.version])).toEqual(expected);
    expect(Object.keys(sd)).not.toContain('_metadata');
  });

  it("resnet18's keys and _metadata (torchvision's, 122 entries, more than 256 memo slots) survive the writer", () => {
    const sd = resnet18Like();
    expect(Object.keys(sd)).toHaveLength(122);
    expect(describe(roundTrip(sd))).toEqual(golden.resnet18_state_dict);
  });

  it("writes the small network's data.pkl byte for byte as torch.save does", () => {
    expect(graftPickle(smallModel().stateDict())).toBe(torchPickles.small_model_state_dict);
  });

  it("writes resnet18's data.pkl byte for byte as torch.save does", () => {
    expect(graftPickle(resnet18Like())).toBe(torchPickles.resnet18_state_dict);
  });

  it('loads a torch state dict into a module, reading BatchNorm versions from its _metadata', () => {
    // state_dict_zip.pth is torch's small_model() state dict; drop num_batches_tracked from a copy.
    const sd = loadBytes(fixture('state_dict_zip.pth')) as Record<string, Tensor>;
    expect(stateDictMetadata(sd)?.get('1')).toEqual({ version: 2 });
    const model = smallModel();
    expect(model.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const withoutCounter = (metadata: unknown) => {
      const { '1.num_batches_tracked': _, ...old } = sd;
      return Object.defineProperty(old, '_metadata', { value: metadata });
    };
    // Version 2 says the counter should be there: torch reports it missing.
    const v2 = withoutCounter(stateDictMetadata(sd));
    expect(model.loadStateDict(v2, { strict: false }).missingKeys).toEqual(['1.num_batches_tracked']);
    // Version 1 (saved before PyTorch 0.4.1): torch fills the counter with 0.
    const v1 = withoutCounter(new Map([['1', { version: 1 }]]));
    expect(model.loadStateDict(v1)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const bn = [...model.children()][1] as BatchNorm2d;
    expect(bn.num_batches_tracked?.itemSync()).toBe(0);
  });

  it("names the zip's records as torch.save does, plus torch 2's byteorder record", () => {
    const zip = new ZipArchive(saveBytesSync(smallModel().stateDict()));
    // torch 1.13 writes no byteorder (it assumes little-endian) and ignores one; torch 2 writes it after data.pkl.
    const [pkl, ...rest] = golden.small_model_zip_names;
    expect(zip.names).toEqual([pkl, 'archive/byteorder', ...rest]);
  });

  it('reads floats as PyFloat with keepFloats, so a loaded checkpoint saves back with its Python types', () => {
    const torchCheckpoint = fixtureJson<Record<string, DictDescription>>('expected.json')['checkpoint.pth'];
    const scalars = ['epoch', 'best_acc', 'lr_float_integral', 'big', 'negative', 'note', 'pair', 'int_keys'];
    const expected = torchCheckpoint.dict.filter(([k]) => scalars.includes(k as string));
    const loaded = loadBytes(fixture('checkpoint.pth'), { keepFloats: true }) as Record<string, PyValue>;
    for (const value of [loaded, roundTrip(loaded) as Record<string, PyValue>]) {
      for (const [k, v] of expected) expect(describe(value[k as string]), k as string).toEqual(v);
    }
  });
});

suite('optimizer state dicts are written with torch.optim 1.13 structure (keys, order, Python types)', () => {
  for (const c of golden.optimizers) {
    it(`${c.name}: ${c.class}(${JSON.stringify(c.kwargs)}).stateDict()`, () => {
      const sd = steppedOptimizer(c).stateDict();
      expect(describe(roundTrip(sd))).toEqual(c.state_dict);
      expect(graftPickle(sd), 'data.pkl bytes').toBe(torchPickles[`optimizer ${c.name}`]);
    });
  }
});
