// Builds the training and validation datasets the finetune command reads, with their transforms.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CenterCrop,
  Compose,
  type Dataset,
  FASHION_MNIST_CLASSES,
  IdxImageDataset,
  Normalize,
  RandomHorizontalFlip,
  RandomResizedCrop,
  type RawImage,
  Resize,
  randomSplit,
  Subset,
  ToTensor,
} from '@graft/data';
import { findIdxFile, ImageFolder, readIdxFileSync } from '@graft/data/node';
import { type Generator, pad2d, type Tensor } from '@graft/tensor';
import { CliError, messageOf } from './errors.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
/** Fashion-MNIST's pixel statistics; the demo checkpoint was pretrained with them. */
export const FASHION_MEAN = 0.286;
export const FASHION_STD = 0.353;
export const DEFAULT_FASHION_DIR = '/usr/share/datasets/fashion-mnist';

export type Sample = [Tensor, number];

export interface DataSetup {
  kind: 'idx' | 'folder';
  train: Dataset<Sample>;
  val: Dataset<Sample>;
  classes: string[];
  /** Description for logs and config.json. */
  describe: string;
  /** Whether training samples vary between epochs (random augmentation). */
  randomTrain: boolean;
  /** The preprocessing for single images at prediction time. */
  evalTransform: (img: RawImage) => Tensor;
  /** Corrupt images left out (--on-corrupt skip). */
  skipped: string[];
}

/** IDX images are grayscale: pad (or resize) to the input size, normalise, repeat to 3 channels. */
function idxTransform(imageSize: number): (img: RawImage) => Tensor {
  const toTensor = new ToTensor();
  const normalize = new Normalize([FASHION_MEAN], [FASHION_STD]);
  return (img) => {
    let t = toTensor.forward(img);
    const [, h, w] = t.shape;
    if (imageSize >= h && imageSize >= w) {
      const top = Math.floor((imageSize - h) / 2);
      const left = Math.floor((imageSize - w) / 2);
      t = pad2d(t, left, imageSize - w - left, top, imageSize - h - top);
    } else {
      t = new Resize([imageSize, imageSize]).forward(t) as Tensor;
    }
    return normalize.forward(t).expand(3, imageSize, imageSize).contiguous();
  };
}

function folderTransforms(imageSize: number, augment: boolean, generator: Generator) {
  const resizeTo = Math.round((imageSize * 256) / 224);
  const evalT = new Compose([
    new Resize(resizeTo),
    new CenterCrop(imageSize),
    new ToTensor(),
    new Normalize(IMAGENET_MEAN, IMAGENET_STD),
  ]);
  const trainT = augment
    ? new Compose([
        new RandomResizedCrop(imageSize, { generator }),
        new RandomHorizontalFlip(0.5, { generator }),
        new ToTensor(),
        new Normalize(IMAGENET_MEAN, IMAGENET_STD),
      ])
    : evalT;
  return {
    evalT: (img: RawImage) => evalT.forward(img) as Tensor,
    trainT: (img: RawImage) => trainT.forward(img) as Tensor,
  };
}

function loadIdx(
  dir: string,
  train: boolean,
  transform: (img: RawImage) => Tensor,
  classes: readonly string[],
): Dataset<Sample> {
  const split = train ? 'train' : 't10k';
  const images = findIdxFile(dir, 'FashionMNIST', `${split}-images-idx3-ubyte`, '--data');
  const labels = findIdxFile(dir, 'FashionMNIST', `${split}-labels-idx1-ubyte`, '--data');
  return new IdxImageDataset(readIdxFileSync(images), readIdxFileSync(labels), {
    transform,
    classes,
    names: { images, labels },
  }) as unknown as Dataset<Sample>;
}

/** Scans and decodes every image once, so a corrupt file fails (or is skipped) before training starts. */
async function imageFolder(
  root: string,
  transform: (img: RawImage) => Tensor,
  onCorrupt: 'error' | 'skip',
  skipped: string[],
): Promise<ImageFolder<Tensor, number>> {
  const folder = await ImageFolder.create<Tensor, number>(root, { transform, onCorrupt });
  if (onCorrupt === 'error') await folder.verify();
  skipped.push(...folder.skipped.map((s) => s.path));
  return folder;
}

/**
 * `fashion-mnist[:DIR]` reads IDX files (with an optional classes.json beside them);
 * anything else is an ImageFolder root with train/ and val/ (or test/) folders, or one folder split by valSplit.
 */
export async function setupData(
  spec: string,
  opts: {
    imageSize: number;
    augment: boolean;
    valSplit: number;
    generator: Generator;
    onCorrupt?: 'error' | 'skip';
  },
): Promise<DataSetup> {
  const onCorrupt = opts.onCorrupt ?? 'error';
  const skipped: string[] = [];
  try {
    if (spec === 'fashion-mnist' || spec.startsWith('fashion-mnist:')) {
      const dir = resolve(spec.includes(':') ? spec.slice(spec.indexOf(':') + 1) : DEFAULT_FASHION_DIR);
      if (!existsSync(dir)) throw new CliError(`--data: folder ${dir} does not exist`);
      const classesFile = join(dir, 'classes.json');
      const classes: string[] = existsSync(classesFile)
        ? JSON.parse(readFileSync(classesFile, 'utf8'))
        : [...FASHION_MNIST_CLASSES];
      const t = idxTransform(opts.imageSize);
      return {
        kind: 'idx',
        train: loadIdx(dir, true, t, classes),
        val: loadIdx(dir, false, t, classes),
        classes,
        describe: `IDX images from ${dir}`,
        randomTrain: false,
        evalTransform: t,
        skipped,
      };
    }
    const root = resolve(spec);
    if (!existsSync(root) || !statSync(root).isDirectory())
      throw new CliError(`--data: folder ${root} does not exist`);
    const { evalT, trainT } = folderTransforms(opts.imageSize, opts.augment, opts.generator);
    const valDir = ['val', 'test'].map((d) => join(root, d)).find((d) => existsSync(d));
    if (existsSync(join(root, 'train')) && valDir) {
      const train = await imageFolder(join(root, 'train'), trainT, onCorrupt, skipped);
      const val = await imageFolder(valDir, evalT, onCorrupt, skipped);
      if (train.classes.join('\u0000') !== val.classes.join('\u0000')) {
        throw new CliError(
          `--data: ${join(root, 'train')} and ${valDir} hold different classes ([${train.classes.join(', ')}] vs [${val.classes.join(', ')}])`,
        );
      }
      return {
        kind: 'folder',
        train: train as unknown as Dataset<Sample>,
        val: val as unknown as Dataset<Sample>,
        classes: [...train.classes],
        describe: `ImageFolder ${join(root, 'train')} (${train.length} images) and ${valDir} (${val.length})`,
        randomTrain: opts.augment,
        evalTransform: evalT,
        skipped,
      };
    }
    if (!(opts.valSplit > 0 && opts.valSplit < 1)) {
      throw new CliError(
        `--data: ${root} has no train/ and val/ (or test/) folders; pass --val-split between 0 and 1 to hold out part of it`,
      );
    }
    // One folder: split indices once, then view the same files through the train and eval transforms.
    const trainAll = await imageFolder(root, trainT, onCorrupt, skipped);
    const evalAll = await imageFolder(root, evalT, 'skip', []);
    const [trainPart, valPart] = randomSplit(trainAll, [1 - opts.valSplit, opts.valSplit], {
      generator: opts.generator,
    });
    return {
      kind: 'folder',
      train: trainPart as unknown as Dataset<Sample>,
      val: new Subset(evalAll, [...valPart.indices]) as unknown as Dataset<Sample>,
      classes: [...trainAll.classes],
      describe: `ImageFolder ${root} split ${1 - opts.valSplit}/${opts.valSplit}`,
      randomTrain: opts.augment,
      evalTransform: evalT,
      skipped,
    };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--data: ${messageOf(e)}`);
  }
}
