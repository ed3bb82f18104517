// The playground's training code in Node: its network matches the PyTorch model the page downloads, and
// each recipe learns. The browser test runs the same code in a page.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImageFile } from '@graft/data/node';
import { isOrderedDict, loadBytes, type PyDict, readSafetensors, type StateDict } from '@graft/serialize';
import { noGrad } from '@graft/tensor';
import { describe, expect, test } from 'vitest';
import { type Example, fineTune, imagesToBatch, type Recipe } from '../.vitepress/playground/fine-tune';
import { modelFiles } from '../.vitepress/playground/model-files';
import { SmallNet } from '../.vitepress/playground/small-net';

const root = fileURLToPath(new URL('../public/playground/', import.meta.url));
interface Index {
  classes: string[];
  train: [string, number][];
  val: [string, number][];
  mean: number;
  std: number;
  pretrained: { file: string; check: { images: string[]; logits: number[][] } };
}
const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as Index;
const norm = { mean: index.mean, std: index.std };
const pretrained = readSafetensors(readFileSync(join(root, index.pretrained.file))).tensors;

async function examples(list: [string, number][]): Promise<Example[]> {
  return Promise.all(
    list.map(async ([path, label]) => ({
      pixels: (await decodeImageFile(join(root, path), { mode: 'L' })).data,
      label,
    })),
  );
}

test('the shipped set is small: a few dozen training images, five classes', () => {
  expect(index.classes).toHaveLength(5);
  expect(index.train.length).toBeGreaterThanOrEqual(30);
  expect(index.train.length).toBeLessThanOrEqual(60);
});

test('SmallNet loads the PyTorch-trained weights strictly and reproduces its logits', async () => {
  const model = new SmallNet(5);
  model.loadStateDict(pretrained);
  model.eval();
  const images = await Promise.all(
    index.pretrained.check.images.map(
      async (p) => (await decodeImageFile(join(root, p), { mode: 'L' })).data,
    ),
  );
  const logits = (await noGrad(() => model.call(imagesToBatch(images, norm, 'cpu'))).tolist()) as number[][];
  const expected = index.pretrained.check.logits;
  for (const [i, row] of logits.entries()) {
    for (const [j, v] of row.entries()) expect(v).toBeCloseTo(expected[i][j], 3);
  }
});

describe('recipes learn the few-shot classes', async () => {
  const train = await examples(index.train);
  const val = await examples(index.val);
  for (const recipe of ['frozen', 'groups', 'scratch'] as Recipe[]) {
    test(recipe, async () => {
      const losses: number[] = [];
      const accuracies: number[] = [];
      await fineTune({
        recipe,
        steps: 8,
        device: 'cpu',
        pretrained,
        numClasses: 5,
        train,
        val,
        norm,
        evalEvery: 8,
        onStep: (_, loss) => losses.push(loss),
        onEval: (_, acc) => accuracies.push(acc),
      });
      expect(losses).toHaveLength(8);
      expect(losses[7]).toBeLessThan(losses[0] * 0.8);
      // Five classes: chance is 0.2.
      if (recipe === 'frozen') expect(accuracies[accuracies.length - 1]).toBeGreaterThan(0.4);
    });
  }
});

/** What torch.load(weights_only=True) returns for the "your own classes" checkpoint (scripts/my-classes-pth.py). */
interface TorchView {
  classes: string[];
  keys: string[];
  types: Record<string, string>;
  classes_item_types: string[];
  state_dict: [string, (number | 'classes')[], string][];
  metadata: Record<string, { version: number }>;
}
const torchView = JSON.parse(
  readFileSync(fileURLToPath(new URL('fixtures/my-classes-torch.json', import.meta.url)), 'utf8'),
) as TorchView;

/** The same description as the script's `describe`, from what graft's loader returned. */
function describeCheckpoint(ckpt: PyDict): Omit<TorchView, 'classes'> {
  const sd = ckpt.state_dict as StateDict;
  const classes = ckpt.classes as string[];
  const typeName = (v: unknown) =>
    typeof v === 'string'
      ? 'str'
      : Array.isArray(v)
        ? Object.isFrozen(v)
          ? 'tuple'
          : 'list'
        : isOrderedDict(v as object)
          ? 'OrderedDict'
          : 'dict';
  const metadata = Object.getOwnPropertyDescriptor(sd, '_metadata')?.value as Map<
    string,
    { version: number }
  >;
  return {
    keys: Object.keys(ckpt),
    types: Object.fromEntries(Object.entries(ckpt).map(([k, v]) => [k, typeName(v)])),
    classes_item_types: [...new Set(classes.map(typeName))].sort(),
    state_dict: Object.entries(sd).map(([k, t]) => [
      k,
      t.shape.map((d, i) => (k.startsWith('fc.') && i === 0 && d === classes.length ? 'classes' : d)),
      t.dtype,
    ]),
    metadata: Object.fromEntries([...metadata].map(([k, v]) => [k, { version: v.version }])),
  };
}

describe('the files of a model trained on your own classes', async () => {
  const model = new SmallNet(5);
  model.loadStateDict(pretrained);
  const { Linear } = await import('@graft/nn');
  model.fc = new Linear(64, torchView.classes.length);
  const files = await modelFiles(model, torchView.classes, norm);

  test('the .pth has the layout torch.save gives the same checkpoint, class names included', () => {
    const ckpt = loadBytes(files.pth) as PyDict;
    const { classes: _, torch: __, ...expected } = torchView as TorchView & { torch: string };
    expect(describeCheckpoint(ckpt)).toEqual(expected);
    expect(ckpt.classes).toEqual(torchView.classes);
  });

  test('the safetensors file holds the same tensors, and the class names in __metadata__', async () => {
    const st = readSafetensors(files.safetensors);
    expect(JSON.parse(st.metadata.classes)).toEqual(torchView.classes);
    expect({ mean: Number(st.metadata.mean), std: Number(st.metadata.std) }).toEqual(norm);
    const sd = model.stateDict();
    // safetensors writers order the header their own way (by dtype, then key).
    expect(Object.keys(st.tensors).sort()).toEqual(Object.keys(sd).sort());
    for (const [key, t] of Object.entries(sd))
      expect(await st.tensors[key].tolist(), key).toEqual(await t.tolist());
  });

  test('one class name per output, or a clear error', async () => {
    await expect(modelFiles(model, ['only one'], norm)).rejects.toThrow(
      'modelFiles: expected one class name per output (3), got 1',
    );
  });
});
