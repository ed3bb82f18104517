// torchvision's ImageClassification preset: resize, center crop, scale to [0, 1], normalize.
import { functional, type ImageLike, type Interpolation, isRawImage, type Transform } from '@graft/data';
import { checkOptions, type Tensor } from '@graft/tensor';

/** Options of the ImageClassification preset (torchvision's keyword arguments, camelCased). */
export interface ImageClassificationOptions {
  cropSize: number;
  /** Smaller edge after resizing (default 256). */
  resizeSize?: number;
  /** Per-channel mean (default ImageNet's). */
  mean?: readonly number[];
  /** Per-channel standard deviation (default ImageNet's). */
  std?: readonly number[];
  /** Default 'bilinear'. */
  interpolation?: Interpolation;
}

const PRESET_OPTION_KEYS: readonly (keyof ImageClassificationOptions)[] = [
  'cropSize',
  'resizeSize',
  'mean',
  'std',
  'interpolation',
];

/** ImageNet's channel means, as torchvision normalizes with them. */
export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);
/** ImageNet's channel standard deviations. */
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);

function pyList(values: readonly number[]): string {
  return `[${values.map((v) => (Number.isInteger(v) ? `${v}.0` : String(v))).join(', ')}]`;
}

/**
 * The preprocessing a pretrained classifier expects (torchvision's `weights.transforms()`): resize
 * the smaller edge to `resizeSize` (bilinear, antialiased as PIL images are in torchvision), crop
 * the center `cropSize` square, scale uint8 to [0, 1] and normalize. Takes a decoded RawImage or a
 * [C, H, W] tensor and returns a float32 [C, H, W] tensor.
 */
export class ImageClassification implements Transform<ImageLike, Tensor> {
  readonly cropSize: [number];
  readonly resizeSize: [number];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly interpolation: Interpolation;
  readonly antialias = true;

  constructor(options: ImageClassificationOptions) {
    checkOptions('ImageClassification', options, PRESET_OPTION_KEYS);
    if (typeof options?.cropSize !== 'number') {
      throw new TypeError(
        `ImageClassification: cropSize is required: the side of the center crop, e.g. { cropSize: 224 }; got ${String(options?.cropSize)}`,
      );
    }
    this.cropSize = [options.cropSize];
    this.resizeSize = [options.resizeSize ?? 256];
    this.mean = [...(options.mean ?? IMAGENET_MEAN)];
    this.std = [...(options.std ?? IMAGENET_STD)];
    this.interpolation = options.interpolation ?? 'bilinear';
  }

  forward(image: ImageLike): Tensor {
    let out = functional.resize(image, this.resizeSize, {
      interpolation: this.interpolation,
      antialias: this.antialias,
    });
    out = functional.centerCrop(out, this.cropSize);
    const tensor = isRawImage(out) ? functional.pilToTensor(out) : out;
    return functional.normalize(functional.convertImageDtype(tensor, 'float32'), this.mean, this.std);
  }

  /** torchvision's repr of the preset. */
  toString(): string {
    return [
      'ImageClassification(',
      `    crop_size=[${this.cropSize[0]}]`,
      `    resize_size=[${this.resizeSize[0]}]`,
      `    mean=${pyList(this.mean)}`,
      `    std=${pyList(this.std)}`,
      `    interpolation=InterpolationMode.${this.interpolation.toUpperCase()}`,
      ')',
    ].join('\n');
  }
}
