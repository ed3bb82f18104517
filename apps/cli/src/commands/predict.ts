// graft predict IMAGE...: top-k labels with probabilities, from a run or from pretrained weights.

import { CenterCrop, Compose, convertImage, Normalize, type RawImage, Resize, ToTensor } from '@graft/data';
import { decodeImageFile } from '@graft/data/node';
import { IMAGENET_CATEGORIES, resnet18, resnet34, resnet50 } from '@graft/models';
import type { Module } from '@graft/nn';
import { Generator, noGrad, stack, type Tensor } from '@graft/tensor';
import { IMAGENET_MEAN, IMAGENET_STD, setupData } from '../data-setup.js';
import { CliError, messageOf } from '../errors.js';
import { loadRunModel, readRunConfig } from '../run-model.js';

export async function runPredict(
  images: string[],
  opts: { run?: string; weights?: string; model: string; top: string; json?: boolean },
): Promise<void> {
  const k = Number(opts.top);
  if (!Number.isInteger(k) || k < 1)
    throw new CliError(`invalid value for --top: expected a positive integer, got '${opts.top}'`);
  let model: Module;
  let classes: readonly string[];
  let transform: (img: RawImage) => Tensor;
  let grayscale = false;
  if (opts.run) {
    const cfg = await readRunConfig(opts.run);
    model = await loadRunModel(opts.run, cfg);
    classes = cfg.classes;
    const data = await setupData(cfg.data, {
      imageSize: cfg.imageSize,
      augment: false,
      valSplit: cfg.valSplit,
      generator: new Generator(0),
    });
    transform = data.evalTransform;
    grayscale = data.kind === 'idx';
  } else if (opts.weights) {
    const build = { resnet18, resnet34, resnet50 }[opts.model as 'resnet18'];
    if (!build)
      throw new CliError(
        `invalid value for --model: expected one of resnet18, resnet34, resnet50, got '${opts.model}'`,
      );
    try {
      model = await build({ weights: opts.weights === 'imagenet' ? 'IMAGENET1K_V1' : opts.weights });
    } catch (e) {
      throw new CliError(`--weights ${opts.weights}: ${messageOf(e)}`);
    }
    model.eval();
    classes = IMAGENET_CATEGORIES;
    const t = new Compose([
      new Resize(256),
      new CenterCrop(224),
      new ToTensor(),
      new Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ]);
    transform = (img) => t.forward(img) as Tensor;
  } else {
    throw new CliError('predict needs --run DIR (a finetune output folder) or --weights FILE|imagenet');
  }
  const inputs: Tensor[] = [];
  for (const path of images) {
    let img: RawImage;
    try {
      img = await decodeImageFile(path);
    } catch (e) {
      throw new CliError(`cannot read image ${path}: ${messageOf(e)}`);
    }
    inputs.push(transform(grayscale ? convertImage(img, 'L') : convertImage(img, 'RGB')));
  }
  const probs = noGrad(() => (model.call(stack(inputs)) as Tensor).softmax(1));
  const [values, indices] = probs.topk(Math.min(k, classes.length), 1);
  const v = values.readSync();
  const ix = indices.readSync();
  const kk = values.shape[1];
  const results = images.map((path, i) => ({
    path,
    top: Array.from({ length: kk }, (_, j) => ({
      label: classes[ix[i * kk + j]],
      probability: v[i * kk + j],
    })),
  }));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  for (const r of results) {
    process.stdout.write(`${r.path}\n`);
    for (const t of r.top)
      process.stdout.write(`  ${(100 * t.probability).toFixed(1).padStart(5)}%  ${t.label}\n`);
  }
}
