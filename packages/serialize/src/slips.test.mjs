// Plain JavaScript, as a user without a compiler writes it: the slips people make with save and load throw
// errors that name the option, the expected and the actual, and say what to do. What does load is checked
// against PyTorch 1.13's own structures (fixtures/torch_structure.json, from scripts/golden/serialize.py).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential, stateDictMetadata } from '@graft/nn';
import { Adadelta } from '@graft/optim';
import {
  load,
  loadBytes,
  PyFloat,
  save,
  saveBytes,
  saveBytesSync,
  saveInBackground,
} from '@graft/serialize/node';
import { manualSeed, ones } from '@graft/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const golden = JSON.parse(
  await readFile(new URL('../fixtures/torch_structure.json', import.meta.url), 'utf8'),
);

// torch: nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 4))
function smallModel() {
  manualSeed(0);
  return new Sequential(
    new Conv2d(2, 3, 3),
    new BatchNorm2d(3),
    new ReLU(),
    new Flatten(),
    new Linear(12, 4),
  );
}

/** torch's state_dict()._metadata for the small model, as [prefix, version] pairs. */
const torchVersions = golden.small_model_state_dict.attributes._metadata.dict.map(([prefix, meta]) => [
  prefix,
  Number(meta.dict[0][1].int),
]);

let dir;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graft-serialize-slips-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('option slips', () => {
  const sd = () => new Linear(2, 2).stateDict();

  it('a misspelled option names the one meant', async () => {
    await expect(save(sd(), join(dir, 'a.safetensors'), { metadat: { a: 'b' } })).rejects.toThrow(
      "save: unknown option 'metadat'; did you mean 'metadata'?",
    );
    await expect(saveBytes(sd(), { Format: 'safetensors' })).rejects.toThrow(
      "saveBytes: unknown option 'Format'; did you mean 'format'?",
    );
    expect(() => saveBytesSync(sd(), { archive_name: 'x' })).toThrow(
      "saveBytesSync: unknown option 'archive_name'; did you mean 'archiveName'?",
    );
    await save(sd(), join(dir, 'b.pth'));
    await expect(load(join(dir, 'b.pth'), { verifyCRC: true })).rejects.toThrow(
      "load: unknown option 'verifyCRC'; did you mean 'verifyCrc'?",
    );
    expect(() => loadBytes(saveBytesSync(sd()), { keep_floats: true })).toThrow(
      "loadBytes: unknown option 'keep_floats'; did you mean 'keepFloats'?",
    );
  });

  it('torch.load / torch.save keywords say what graft does instead', async () => {
    const path = join(dir, 'c.pth');
    await save(sd(), path);
    await expect(load(path, { weights_only: true })).rejects.toThrow(
      /load: unknown option 'weights_only' \(torch's weights_only\): graft always loads weights only/,
    );
    await expect(load(path, { mapLocation: 'cpu' })).rejects.toThrow(
      /load: unknown option 'mapLocation' \(torch's map_location\): tensors load on the CPU; move them with `\.to\(device\)`/,
    );
    await expect(load(path, 'cpu')).rejects.toThrow(
      /load: the second argument is an options object, got the string "cpu"/,
    );
    await expect(save(sd(), path, { _use_new_zipfile_serialization: false })).rejects.toThrow(
      /save: unknown option '_use_new_zipfile_serialization' .*legacy files are read, not written/,
    );
  });

  it('an option of the other format is refused, not dropped', async () => {
    await expect(save(sd(), join(dir, 'd.pth'), { metadata: { epoch: '3' } })).rejects.toThrow(
      /save: option 'metadata' is safetensors' __metadata__ and would be lost writing ".*d\.pth" \(format 'pytorch-zip'\)/,
    );
    await expect(save(sd(), join(dir, 'e.safetensors'), { archiveName: 'e' })).rejects.toThrow(
      /save: option 'archiveName' names the folder inside a PyTorch zip and would be lost writing ".*e\.safetensors" \(format 'safetensors'\); drop it/,
    );
    expect(() => saveBytesSync(sd(), { format: 'safetensor' })).toThrow(
      `saveBytesSync: unknown save format "safetensor"; did you mean 'safetensors'?`,
    );
    expect(() => saveBytesSync(sd(), { format: 'safetensors', metadata: { epoch: 3 } })).toThrow(
      /metadata value for "epoch" must be a string, got number/,
    );
    expect(() => loadBytes(saveBytesSync(sd()), { verifyCrc: 'yes' })).toThrow(
      "loadBytes: option 'verifyCrc' must be true or false, got string yes",
    );
  });
});

describe('argument slips', () => {
  it('swapped save arguments', async () => {
    await expect(save(join(dir, 'f.pth'), smallModel().stateDict())).rejects.toThrow(
      /save: expected \(value, path\) with a string path, got a path of type Object; did you swap them\?/,
    );
    await expect(saveInBackground(join(dir, 'f.pth'), smallModel().stateDict())).rejects.toThrow(
      /saveInBackground: expected \(value, path\) with a string path, got a path of type Object; did you swap them\? call saveInBackground\(value, /,
    );
    await expect(
      saveInBackground(new Linear(2, 2).stateDict(), join(dir, 'g.pth'), { metadat: {} }),
    ).rejects.toThrow("saveInBackground: unknown option 'metadat'; did you mean 'metadata'?");
  });

  it('a module, or a stateDict method not called', async () => {
    await expect(save(smallModel(), join(dir, 'g.pth'))).rejects.toThrow(
      /cannot save a Sequential itself; save its stateDict\(\)/,
    );
    const model = smallModel();
    await expect(save({ model: model.stateDict }, join(dir, 'h.pth'))).rejects.toThrow(
      /at \["model"\]: cannot save a function \(stateDict\); did you mean to call it/,
    );
  });

  it('a path given to loadBytes', () => {
    expect(() => loadBytes('model.pth')).toThrow(
      "loadBytes: expected the file's bytes as a Uint8Array, got string; to read a path use load() from '@graft/serialize/node'",
    );
  });
});

describe("what torch's files hold comes back as torch has it", () => {
  it("a saved stateDict() loads with torch's _metadata, and loads into a module", async () => {
    const path = join(dir, 'model.pth');
    await save(smallModel().stateDict(), path);
    const sd = await load(path);
    expect([...sd._metadata].map(([prefix, meta]) => [prefix, meta.version])).toEqual(torchVersions);
    expect(Object.keys(sd)).toEqual(golden.small_model_state_dict.dict.map(([k]) => k));
    const model = smallModel();
    expect(model.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect([...stateDictMetadata(model.stateDict())]).toEqual([...sd._metadata]);
  });

  it("Adadelta's lr=1.0 is saved as torch's float, and keepFloats reads it as one", async () => {
    const model = smallModel();
    const opt = new Adadelta(model.parameters());
    model
      .call(ones(1, 2, 4, 4))
      .sum()
      .backward();
    opt.step();
    const path = join(dir, 'opt.pth');
    await save(opt.stateDict(), path);
    const torchGroup = golden.optimizers.find((c) => c.name === 'Adadelta').state_dict.dict[1][1].list[0]
      .dict;
    const torchLr = torchGroup.find(([k]) => k === 'lr')[1];
    expect(torchLr).toEqual({ float: 1 });
    const back = await load(path, { keepFloats: true });
    expect(back.param_groups[0].lr).toBeInstanceOf(PyFloat);
    expect(Number(back.param_groups[0].lr)).toBe(torchLr.float);
    // Without keepFloats a float is a plain number, and loadStateDict takes it as it is.
    const plain = await load(path);
    expect(plain.param_groups[0].lr).toBe(1);
    const fresh = new Adadelta(model.parameters());
    fresh.loadStateDict(plain);
    expect(fresh.paramGroups[0].lr).toBe(1);
  });
});
