// The playground's training: three recipes on the SmallNet, full-batch steps, metrics through callbacks.
// No DOM here: the page's worker runs it, and so does a Node test (test/playground.test.ts).

import { Normalize, rawImage, ToTensor } from '@graft/data';
import { F, Linear, type StateDict } from '@graft/nn';
import { type Optimizer, SGD } from '@graft/optim';
import { type Device, manualSeed, noGrad, stack, type Tensor, tensor } from '@graft/tensor';
import { SmallNet } from './small-net';

export type Recipe = 'frozen' | 'groups' | 'scratch';

export const RECIPES: Record<Recipe, { title: string; summary: string }> = {
  frozen: {
    title: 'Frozen backbone',
    summary: 'pretrained features frozen (BatchNorm in eval mode), only a new head trains: SGD lr 0.1',
  },
  groups: {
    title: 'Two parameter groups',
    summary: 'everything trains: pretrained features at lr 0.01, the new head at lr 0.1',
  },
  scratch: {
    title: 'From scratch',
    summary: 'random weights, everything at lr 0.1: what pretraining saves you',
  },
};

/** One 28x28 grayscale image (uint8, row-major) and its class. */
export interface Example {
  pixels: Uint8Array;
  label: number;
}

export const IMAGE_SIZE = 28;

/** Normalisation of the pretraining data (docs/scripts/make-playground-data.py). */
export interface Normalization {
  mean: number;
  std: number;
}

/** Images to a normalised float32 batch [N, 1, 28, 28] with the same transforms torchvision would use. */
export function imagesToBatch(images: Uint8Array[], norm: Normalization, device: Device): Tensor {
  const toTensor = new ToTensor();
  const normalize = new Normalize([norm.mean], [norm.std]);
  const items = images.map((pixels) =>
    normalize.forward(toTensor.forward(rawImage(pixels, IMAGE_SIZE, IMAGE_SIZE, 1))),
  );
  return stack(items).to(device);
}

export function examplesToBatch(
  examples: Example[],
  norm: Normalization,
  device: Device,
): { x: Tensor; y: Tensor } {
  return {
    x: imagesToBatch(
      examples.map((e) => e.pixels),
      norm,
      device,
    ),
    y: tensor(examples.map((e) => e.label)).to(device),
  };
}

/** Builds the model and optimizer of a recipe: the three ways of the guides, on a small network. */
export function setUpRecipe(
  recipe: Recipe,
  pretrained: StateDict | null,
  numClasses: number,
  device: Device = 'cpu',
): { model: SmallNet; optimizer: Optimizer } {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new Error(`setUpRecipe: expected at least 2 classes, got ${numClasses}`);
  }
  const model = new SmallNet(5);
  if (recipe !== 'scratch') {
    if (!pretrained) throw new Error(`recipe '${recipe}' needs the pretrained weights`);
    model.loadStateDict(pretrained);
  }
  model.fc = new Linear(model.fc.inFeatures, numClasses);
  // Move before building the optimizer: it must hold the parameters that live on the device.
  model.to(device);
  switch (recipe) {
    case 'frozen':
      model.features.requiresGrad_(false);
      return { model, optimizer: new SGD(model.fc.parameters(), { lr: 0.1, momentum: 0.9 }) };
    case 'groups':
      return {
        model,
        optimizer: new SGD(
          [{ params: model.features.parameters(), lr: 0.01 }, { params: model.fc.parameters() }],
          {
            lr: 0.1,
            momentum: 0.9,
          },
        ),
      };
    case 'scratch':
      return { model, optimizer: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) };
    default: {
      const never: never = recipe;
      throw new Error(`unknown recipe ${String(never)}`);
    }
  }
}

export interface FineTuneOptions {
  recipe: Recipe;
  steps: number;
  device: Device;
  pretrained: StateDict | null;
  numClasses: number;
  train: Example[];
  /** Held-out examples; none (your own classes) means no accuracy is measured. */
  val: Example[];
  norm: Normalization;
  /** Measure validation accuracy every this many steps (and after the last). */
  evalEvery?: number;
  seed?: number;
  /** After each step: its loss and how long it took (forward, backward, optimizer step, loss readback). */
  onStep?: (step: number, loss: number, ms: number) => void;
  onEval?: (step: number, accuracy: number) => void;
  /** Polled between steps; true ends training early. */
  shouldStop?: () => boolean;
}

/** Accuracy of `model` on a batch, in eval mode. */
export async function accuracy(model: SmallNet, x: Tensor, y: Tensor): Promise<number> {
  model.eval();
  return noGrad(() => model.call(x).argmax(1).eq(y).float().mean()).item();
}

/** Runs a recipe: one full-batch step per iteration. Returns the trained model. */
export async function fineTune(
  o: FineTuneOptions,
): Promise<{ model: SmallNet; steps: number; stopped: boolean }> {
  manualSeed(o.seed ?? 0);
  const { model, optimizer } = setUpRecipe(o.recipe, o.pretrained, o.numClasses, o.device);
  const train = examplesToBatch(o.train, o.norm, o.device);
  if (o.train.length === 0) throw new Error('fineTune: expected at least one training example, got none');
  const val = o.val.length > 0 ? examplesToBatch(o.val, o.norm, o.device) : null;
  const evalEvery = o.evalEvery ?? 2;
  if (val) o.onEval?.(0, await accuracy(model, val.x, val.y));
  let step = 0;
  while (step < o.steps) {
    if (o.shouldStop?.()) return { model, steps: step, stopped: true };
    const started = performance.now();
    model.train();
    // A frozen body keeps the statistics it was pretrained with (see the Freezing guide).
    if (o.recipe === 'frozen') model.features.eval();
    optimizer.zeroGrad();
    const loss = F.crossEntropy(model.call(train.x), train.y);
    loss.backward();
    optimizer.step();
    step++;
    const lossValue = await loss.item();
    o.onStep?.(step, lossValue, performance.now() - started);
    if (val && (step % evalEvery === 0 || step === o.steps))
      o.onEval?.(step, await accuracy(model, val.x, val.y));
  }
  return { model, steps: step, stopped: false };
}

/** Class probabilities for each image, from a trained model. */
export async function predict(
  model: SmallNet,
  images: Uint8Array[],
  norm: Normalization,
  device: Device,
): Promise<number[][]> {
  if (images.length === 0) return [];
  model.eval();
  const probs = noGrad(() => model.call(imagesToBatch(images, norm, device)).softmax(1));
  return (await probs.tolist()) as number[][];
}
