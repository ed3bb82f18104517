// The playground's training code in Node: its network matches the PyTorch model the page downloads, and
// each recipe learns. The browser test runs the same code in a page.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImageFile } from '@graft/data/node';
import { readSafetensors } from '@graft/serialize';
import { noGrad } from '@graft/tensor';
import { describe, expect, test } from 'vitest';
import { type Example, fineTune, imagesToBatch, type Recipe } from '../.vitepress/playground/fine-tune';
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
