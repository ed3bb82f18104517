// MNIST-family datasets built from an images IDX file and a labels IDX file.
import { checkOptions, fromTypedArray, type Tensor } from '@graft/tensor';
import { checkIndex, Dataset } from './dataset.js';
import { decodeIdx, type IdxArray } from './idx.js';
import type { RawImage } from './raw-image.js';
import { applyTransform, type TransformLike } from './transforms/transform.js';

/** torchvision's MNIST.classes. */
export const MNIST_CLASSES: readonly string[] = [
  '0 - zero',
  '1 - one',
  '2 - two',
  '3 - three',
  '4 - four',
  '5 - five',
  '6 - six',
  '7 - seven',
  '8 - eight',
  '9 - nine',
];

/** torchvision's FashionMNIST.classes. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** torchvision's KMNIST.classes. */
export const KMNIST_CLASSES: readonly string[] = ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'];

/** Options of {@link IdxImageDataset}. */
export interface IdxImageDatasetOptions<X, Y> {
  /** Applied to each image (a 1-channel RawImage, like torchvision's mode 'L' PIL image). */
  transform?: TransformLike<RawImage, X>;
  /** Applied to each label. */
  targetTransform?: TransformLike<number, Y>;
  /** Class names, index = label. */
  classes?: readonly string[];
  /** Names the files in error messages. */
  names?: { images: string; labels: string };
}

const IDX_DATASET_OPTIONS = ['transform', 'targetTransform', 'classes', 'names'] as const;

/**
 * Images [N, H, W] uint8 and labels [N] uint8 from two IDX arrays; item i is `[image, label]`
 * with the image a 1-channel RawImage viewing the IDX bytes (no copy).
 */
export class IdxImageDataset<X = RawImage, Y = number> extends Dataset<[X, Y]> {
  /** The images, [N, height, width] uint8. */
  readonly images: Uint8Array;
  /** The labels, one per image. */
  readonly labels: Uint8Array;
  readonly length: number;
  readonly height: number;
  readonly width: number;
  readonly classes: readonly string[];
  readonly transform: TransformLike<RawImage, X> | undefined;
  readonly targetTransform: TransformLike<number, Y> | undefined;

  constructor(images: IdxArray, labels: IdxArray, options: IdxImageDatasetOptions<X, Y> = {}) {
    super();
    checkOptions('IdxImageDataset', options, IDX_DATASET_OPTIONS);
    const names = options.names ?? { images: 'images IDX', labels: 'labels IDX' };
    if (images.dtype !== 'uint8' || images.shape.length !== 3) {
      throw new Error(
        `${names.images}: expected uint8 images of shape [N, height, width], got ${images.dtype} [${images.shape.join(', ')}]`,
      );
    }
    if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
      throw new Error(
        `${names.labels}: expected uint8 labels of shape [N], got ${labels.dtype} [${labels.shape.join(', ')}]`,
      );
    }
    if (images.shape[0] !== labels.shape[0]) {
      throw new Error(
        `${names.images} holds ${images.shape[0]} images but ${names.labels} holds ${labels.shape[0]} labels`,
      );
    }
    this.images = images.data as Uint8Array;
    this.labels = labels.data as Uint8Array;
    [this.length, this.height, this.width] = images.shape;
    this.classes = options.classes ?? [];
    if (this.classes.length > 0) {
      const bad = this.labels.findIndex((label) => label >= this.classes.length);
      if (bad >= 0) {
        throw new Error(
          `${names.labels}: label ${this.labels[bad]} at index ${bad} is outside the ${this.classes.length} classes`,
        );
      }
    }
    this.transform = options.transform;
    this.targetTransform = options.targetTransform;
  }

  /** Builds the dataset from the bytes of the two files, gzip-compressed or raw. */
  static fromBytes<X = RawImage, Y = number>(
    imageBytes: Uint8Array,
    labelBytes: Uint8Array,
    options: IdxImageDatasetOptions<X, Y> = {},
  ): IdxImageDataset<X, Y> {
    checkOptions('IdxImageDataset.fromBytes', options, IDX_DATASET_OPTIONS);
    const names = options.names ?? { images: 'images IDX', labels: 'labels IDX' };
    return new IdxImageDataset(decodeIdx(imageBytes, names.images), decodeIdx(labelBytes, names.labels), {
      ...options,
      names,
    });
  }

  /** All images as a uint8 tensor [N, H, W] sharing this dataset's bytes (torchvision's `data`). */
  get data(): Tensor {
    return fromTypedArray(this.images, [this.length, this.height, this.width], 'uint8');
  }

  /** All labels as an int64 tensor [N] (torchvision's `targets`). */
  get targets(): Tensor {
    return fromTypedArray(Float64Array.from(this.labels), [this.length], 'int64');
  }

  /** classToIdx like torchvision's: class name -> label. */
  get classToIdx(): Record<string, number> {
    return Object.fromEntries(this.classes.map((name, i) => [name, i]));
  }

  /** The raw image i (no transform). */
  image(index: number): RawImage {
    checkIndex('IdxImageDataset', index, this.length);
    const size = this.height * this.width;
    return {
      data: this.images.subarray(index * size, (index + 1) * size),
      width: this.width,
      height: this.height,
      channels: 1,
    };
  }

  get(index: number): [X, Y] {
    const image = this.image(index);
    const label = this.labels[index];
    const x = this.transform ? applyTransform(this.transform, image) : (image as X);
    const y = this.targetTransform ? applyTransform(this.targetTransform, label) : (label as Y);
    return [x, y];
  }
}
