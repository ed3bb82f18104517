import { fromTypedArray, type Tensor, tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import {
  asStateDict,
  detectFormat,
  isOrderedDict,
  loadBytes,
  orderedDict,
  type PyValue,
  pyAttributes,
  pyFloat,
  saveBytes,
  saveBytesSync,
} from './index.js';
import { fixture, fixtureJson } from './test-utils/fixtures.js';
import { ZipArchive } from './zip-reader.js';
import { writeZip } from './zip-writer.js';

const values = (t: PyValue) => [...(t as Tensor).readSync()];

describe('writing PyTorch zip checkpoints', () => {
  it('round-trips a state dict of every dtype, keeping order, dtype, shape and values', () => {
    const sd = orderedDict({
      'fc.weight': tensor([
        [1.5, -2],
        [3, 4],
      ]),
      'fc.bias': tensor([0.25, -0.5], { dtype: 'float64' }),
      half: tensor([1, -0.5, 65504], { dtype: 'float16' }),
      brain: tensor([1, -3.140625], { dtype: 'bfloat16' }),
      steps: tensor([0, -3, 2 ** 40 + 1, 2 ** 53 - 1], { dtype: 'int64' }),
      i32: tensor([-(2 ** 31), 7], { dtype: 'int32' }),
      i16: tensor([-32768, 32767], { dtype: 'int16' }),
      i8: tensor([-128, 127], { dtype: 'int8' }),
      u8: tensor([0, 255], { dtype: 'uint8' }),
      mask: tensor([1, 0, 1], { dtype: 'bool' }),
      scalar: tensor(3.5),
      empty: tensor([], { dtype: 'float32' }).reshape([0, 3]),
    });
    const bytes = saveBytesSync(sd);
    expect(detectFormat(bytes)).toBe('pytorch-zip');
    const back = loadBytes(bytes) as Record<string, Tensor>;
    expect(isOrderedDict(back)).toBe(true);
    expect(Object.keys(back)).toEqual(Object.keys(sd));
    for (const [k, t] of Object.entries(sd)) {
      expect(back[k].dtype, k).toBe(t.dtype);
      expect(back[k].shape, k).toEqual(t.shape);
      expect(values(back[k]), k).toEqual(values(t));
    }
  });

  it('writes non-contiguous tensors as contiguous data with the same values', () => {
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const back = loadBytes(saveBytesSync({ t: m.transpose(0, 1), s: m.asStrided([2], [4], 1) })) as Record<
      string,
      Tensor
    >;
    expect(back.t.shape).toEqual([3, 2]);
    expect(values(back.t)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(values(back.s)).toEqual([2, 6]);
  });

  it('round-trips a training checkpoint with int-keyed optimizer state', async () => {
    const p0 = tensor([0.1, 0.2]);
    const checkpoint = {
      epoch: 7,
      model: orderedDict({ w: tensor([1, 2]) }, { _metadata: orderedDict({ '': { version: 1 } }) }),
      optimizer: {
        state: new Map([[0, { momentum_buffer: p0 }]]),
        param_groups: [
          {
            lr: 0.01,
            momentum: 0.9,
            dampening: 0,
            weight_decay: 0,
            nesterov: false,
            foreach: null,
            params: [0],
            betas: Object.freeze([0.9, 0.999]),
          },
        ],
      },
      best: pyFloat(100),
    };
    const back = loadBytes(await saveBytes(checkpoint)) as typeof checkpoint;
    expect(back.epoch).toBe(7);
    expect(back.optimizer.state).toBeInstanceOf(Map);
    expect([...back.optimizer.state.keys()]).toEqual([0]);
    expect(values(back.optimizer.state.get(0)?.momentum_buffer as Tensor)).toEqual(values(p0));
    expect(back.optimizer.param_groups[0]).toMatchObject({
      lr: 0.01,
      momentum: 0.9,
      dampening: 0,
      nesterov: false,
      foreach: null,
      params: [0],
    });
    expect(Object.isFrozen(back.optimizer.param_groups[0].betas)).toBe(true);
    expect(back.best).toBe(100);
    expect(pyAttributes(back.model)).toEqual({ _metadata: new Map([['', { version: 1 }]]) });
  });

  it('writes the same tensor object once and reads it back shared', () => {
    const t = tensor([1, 2, 3]);
    const bytes = saveBytesSync({ a: t, b: t });
    const zip = new ZipArchive(bytes);
    expect(zip.names.filter((n) => n.includes('/data/'))).toEqual(['archive/data/0']);
    const back = loadBytes(bytes) as Record<string, Tensor>;
    expect(back.a).toBe(back.b);
  });

  it('keeps requiresGrad', () => {
    const p = fromTypedArray(new Float32Array([1, 2]), [2]);
    p.requiresGrad = true;
    const back = loadBytes(saveBytesSync({ p })) as Record<string, Tensor>;
    expect(back.p.requiresGrad).toBe(true);
  });

  it('copies data that is not aligned in memory, and reads it right', () => {
    const bytes = saveBytesSync({ w: tensor([1.5, 2.5], { dtype: 'float64' }) });
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect(values((loadBytes(shifted) as Record<string, Tensor>).w)).toEqual([1.5, 2.5]);
  });

  it('checks stored tensor data against its CRC only when asked', () => {
    const bytes = saveBytesSync({ w: tensor([1, 2], { dtype: 'float32' }) });
    const zip = new ZipArchive(bytes);
    const at = zip.entries.get('archive/data/0')?.dataOffset as number;
    bytes[at] ^= 1;
    expect(() => loadBytes(bytes)).not.toThrow();
    expect(() => loadBytes(bytes, { verifyCrc: true })).toThrow(
      /entry archive\/data\/0: crc32 0x[0-9a-f]+ does not match/,
    );
  });

  it('lays the archive out as torch.save does', () => {
    const zip = new ZipArchive(saveBytesSync({ w: tensor([1]) }, { archiveName: 'net' }));
    expect(zip.names).toEqual(['net/data.pkl', 'net/byteorder', 'net/data/0', 'net/version']);
    expect(new TextDecoder().decode(zip.read('net/byteorder'))).toBe('little');
    for (const name of zip.names)
      expect(zip.entries.get(name)?.dataOffset, name).toSatisfy((o: number) => o % 64 === 0);
  });

  it('writes and reads safetensors', () => {
    const sd = { b: tensor([1, 2], { dtype: 'float16' }), a: tensor([[1, 2]], { dtype: 'int64' }) };
    const bytes = saveBytesSync(sd, { format: 'safetensors', metadata: { format: 'pt' } });
    expect(detectFormat(bytes)).toBe('safetensors');
    const back = asStateDict(loadBytes(bytes));
    expect(values(back.a)).toEqual([1, 2]);
    expect(back.b.dtype).toBe('float16');
    expect(() => saveBytesSync({ x: 1 }, { format: 'safetensors' })).toThrow(
      /value for "x" must be a Tensor, got number/,
    );
  });

  it('checks state dicts', () => {
    expect(() => asStateDict({ a: tensor([1]), b: 3 })).toThrow(/entry "b" is number, not a Tensor/);
    expect(() => asStateDict([])).toThrow(/expected a state dict/);
  });

  it('rejects unknown formats with a description', () => {
    expect(() => loadBytes(new TextEncoder().encode('hello world'))).toThrow(
      /unrecognized file format \(first bytes 68 65 6c 6c 6f 20 77 6f\)/,
    );
    expect(() => loadBytes(new Uint8Array(0))).toThrow(/first bytes none/);
    const tar = new Uint8Array(600);
    tar.set(new TextEncoder().encode('ustar'), 257);
    expect(() => loadBytes(tar)).toThrow(/tar archive/);
    expect(() => saveBytesSync({}, { format: 'npz' as 'safetensors' })).toThrow(/unknown save format "npz"/);
  });
});

interface GraftCheck {
  torch: string;
  models: Record<string, Record<string, unknown>>;
  files: Record<
    string,
    {
      weights_only?: string;
      plain_load?: string;
      mismatch: string | null;
      aligned_64?: boolean;
      [k: string]: unknown;
    }
  >;
}

describe('files graft writes load in real PyTorch (fixtures/graft_written_check.json)', async () => {
  const check = fixtureJson<GraftCheck>('graft_written_check.json');
  const expected = fixtureJson<Record<string, unknown>>('expected.json');
  // The exact bytes PyTorch checked are the bytes the writer produces today.
  const { GRAFT_WRITTEN } = (await import('../scripts/write-graft-fixtures.mjs' as string)) as {
    GRAFT_WRITTEN: Record<string, () => Uint8Array>;
  };

  it('was produced by PyTorch 1.13 for every file the writer script makes', () => {
    expect(check.torch.startsWith('1.13')).toBe(true);
    expect(Object.keys(check.files).sort()).toEqual(Object.keys(GRAFT_WRITTEN).sort());
  });

  for (const name of Object.keys(check.files)) {
    it(`${name}: PyTorch loaded it with values equal to the original`, () => {
      const entry = check.files[name];
      expect(entry.mismatch).toBe(null);
      if (name.endsWith('.pth')) {
        expect(entry.aligned_64).toBe(true);
        // torch 1.13's weights_only loader lacks BINFLOAT; it refuses PyTorch's own float-holding checkpoints the same way.
        const holdsFloats = name === 'checkpoint.pth' || name === 'nn_optimizers.pth';
        expect(entry.weights_only).toBe(holdsFloats ? expected.torch_checkpoint_weights_only : 'ok');
      } else {
        expect(entry.header_aligned_8).toBe(true);
      }
    });

    // graft's own nn_* files hold trained values, which follow the kernels; PyTorch checks their structure.
    if (name.startsWith('nn_')) continue;
    it(`${name}: the writer still produces the bytes PyTorch checked`, () => {
      expect(Buffer.from(GRAFT_WRITTEN[name]()).equals(Buffer.from(fixture(`graft-written/${name}`)))).toBe(
        true,
      );
    });
  }

  it("state dicts read from torch files and written back keep torch's _metadata (OrderedDict ==, order too)", () => {
    expect(check.files['state_dict.pth'].metadata_equal).toEqual({ '': true });
    expect(check.files['from_legacy.pth'].metadata_equal).toEqual({ '': true });
    expect(check.files['checkpoint.pth'].metadata_equal).toEqual({ model: true });
  });

  it("nn_state_dict.pth: torch.load gave an OrderedDict whose _metadata equals torch's own", () => {
    expect(check.files['nn_state_dict.pth']).toMatchObject({
      type: 'OrderedDict',
      metadata_type: 'OrderedDict',
      metadata_equal: true,
      keys_equal: true,
      data_pkl_equal: true,
      load_state_dict: 'ok',
    });
  });

  it("nn_optimizers.pth: every optimizer's stateDict() had torch's structure and loaded into torch.optim", () => {
    const optimizers = check.files['nn_optimizers.pth'].optimizers as Record<string, Record<string, unknown>>;
    const names = fixtureJson<{ optimizers: { name: string }[] }>('torch_structure.json').optimizers.map(
      (c) => c.name,
    );
    expect(Object.keys(optimizers).sort()).toEqual([...names].sort());
    for (const entry of Object.values(optimizers)) {
      expect(entry).toEqual({
        load_state_dict: 'ok',
        structure_mismatch: null,
        reloaded_structure_mismatch: null,
      });
    }
  });

  it("@graft/models resnet18's state dict had torchvision's keys, shapes, _metadata and data.pkl bytes", () => {
    expect(check.models.resnet18).toEqual({
      type: 'OrderedDict',
      metadata_equal: true,
      data_pkl_equal: true,
      structure_mismatch: null,
      load_state_dict: 'ok',
    });
  });

  it('checkpoint.pth: optimizers accepted the state, with int keys', () => {
    const entry = check.files['checkpoint.pth'];
    expect(entry.load_state_dict).toBe('ok');
    expect(entry.momentum_buffers_match).toBe(true);
    // SGD's state was written from a plain object keyed '0'..'5' (@graft/optim's layout), Adam's from a Map.
    expect(entry.optimizer_state_keys).toEqual(['int', 'int', 'int', 'int', 'int', 'int']);
    expect(entry.adam_state_keys).toEqual(['int', 'int', 'int', 'int', 'int', 'int']);
  });

  it('parameter.pth: requires_grad survived', () => {
    expect(check.files['parameter.pth'].requires_grad).toEqual({ frozen: false, weight: true });
  });

  it('parameter_class.pth: a Parameter subclass is written as torch.nn.Parameter', () => {
    expect(check.files['parameter_class.pth'].is_parameter).toEqual({ frozen: true, weight: true });
    expect(check.files['parameter_class.pth'].requires_grad).toEqual({ frozen: false, weight: true });
    const back = loadBytes(fixture('graft-written/parameter_class.pth')) as Record<string, Tensor>;
    expect(back.weight.requiresGrad).toBe(true);
    expect(back.frozen.requiresGrad).toBe(false);
  });
});

describe('byte order', () => {
  it('swaps storages of a zip whose byteorder record says big', () => {
    const little = saveBytesSync({
      f: tensor([1.5, -2], { dtype: 'float32' }),
      i: tensor([1, -2], { dtype: 'int64' }),
    });
    const zip = new ZipArchive(little);
    const entries = zip.names.map((name) => {
      let data = zip.read(name).slice();
      if (name.endsWith('/byteorder')) data = new TextEncoder().encode('big');
      const size = name.endsWith('/data/0') ? 4 : name.endsWith('/data/1') ? 8 : 1;
      if (name.includes('/data/'))
        for (let i = 0; i < data.length; i += size) data.subarray(i, i + size).reverse();
      return { name, data, size: data.length };
    });
    const back = loadBytes(writeZip(entries)) as Record<string, Tensor>;
    expect(values(back.f)).toEqual([1.5, -2]);
    expect(values(back.i)).toEqual([1, -2]);
  });

  it('refuses an unknown byteorder', () => {
    const zip = new ZipArchive(saveBytesSync({ f: tensor([1]) }));
    const entries = zip.names.map((name) => {
      const data = name.endsWith('/byteorder') ? new TextEncoder().encode('middle') : zip.read(name);
      return { name, data, size: data.length };
    });
    expect(() => loadBytes(writeZip(entries))).toThrow(/byteorder is "middle", expected "little" or "big"/);
  });
});

describe('legacy format', () => {
  it('shares one storage between views', () => {
    const v = loadBytes(fixture('views_legacy.pth')) as Record<string, Tensor>;
    expect(values(v.slice)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(v.slice.offset).toBe(2);
  });

  it('fails cleanly when the storages are cut off', () => {
    const bytes = fixture('state_dict_legacy.pth');
    expect(() => loadBytes(bytes.subarray(0, bytes.length - 3))).toThrow(
      /legacy torch storages: truncated data of storage/,
    );
  });
});
