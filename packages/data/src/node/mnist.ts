// MNIST, FashionMNIST and KMNIST read from a directory of IDX files (torchvision's classes, Node only).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkOptions } from '@graft/tensor';
import { FASHION_MNIST_CLASSES, IdxImageDataset, KMNIST_CLASSES, MNIST_CLASSES } from '../idx-dataset.js';
import type { RawImage } from '../raw-image.js';
import type { TransformLike } from '../transforms/transform.js';
import { readIdxFileSync } from './idx-file.js';

/** Options of the MNIST-family datasets. */
export interface MnistOptions<X, Y> {
  /** The 60,000-image training split (default) or the 10,000-image test split. */
  train?: boolean;
  transform?: TransformLike<RawImage, X>;
  targetTransform?: TransformLike<number, Y>;
}

/**
 * Finds `file` or `file.gz` directly in `root` (Debian's dataset-fashion-mnist layout) or in
 * `root/<folder>/raw` (torchvision's layout).
 */
export function findIdxFile(root: string, folder: string, file: string, owner: string): string {
  const dirs = [root, join(root, folder, 'raw')];
  for (const dir of dirs) {
    for (const name of [file, `${file}.gz`]) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  throw new Error(`${owner}: ${file} (or ${file}.gz) not found; looked in ${dirs.join(' and ')}`);
}

function load<X, Y>(
  owner: string,
  root: string,
  classes: readonly string[],
  options: MnistOptions<X, Y>,
): ConstructorParameters<typeof IdxImageDataset<X, Y>> {
  checkOptions(owner, options, ['train', 'transform', 'targetTransform']);
  if (!existsSync(root)) throw new Error(`${owner}: root folder ${root} does not exist`);
  const split = options.train === false ? 't10k' : 'train';
  const imagesPath = findIdxFile(root, owner, `${split}-images-idx3-ubyte`, owner);
  const labelsPath = findIdxFile(root, owner, `${split}-labels-idx1-ubyte`, owner);
  return [
    readIdxFileSync(imagesPath),
    readIdxFileSync(labelsPath),
    {
      transform: options.transform,
      targetTransform: options.targetTransform,
      classes,
      names: { images: imagesPath, labels: labelsPath },
    },
  ];
}

/** MNIST digits from `root` (the four IDX files, gzip or raw, in `root` or `root/MNIST/raw`). */
export class MNIST<X = RawImage, Y = number> extends IdxImageDataset<X, Y> {
  constructor(root: string, options: MnistOptions<X, Y> = {}) {
    super(...load('MNIST', root, MNIST_CLASSES, options));
  }
}

/**
 * Fashion-MNIST from `root`, e.g. `/usr/share/datasets/fashion-mnist` (Debian's
 * dataset-fashion-mnist) or a torchvision download folder.
 */
export class FashionMNIST<X = RawImage, Y = number> extends IdxImageDataset<X, Y> {
  constructor(root: string, options: MnistOptions<X, Y> = {}) {
    super(...load('FashionMNIST', root, FASHION_MNIST_CLASSES, options));
  }
}

/** Kuzushiji-MNIST from `root` (same file names as MNIST). */
export class KMNIST<X = RawImage, Y = number> extends IdxImageDataset<X, Y> {
  constructor(root: string, options: MnistOptions<X, Y> = {}) {
    super(...load('KMNIST', root, KMNIST_CLASSES, options));
  }
}
