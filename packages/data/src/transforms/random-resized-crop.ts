// RandomResizedCrop: a random area and aspect ratio, then a resize (the ImageNet training crop).
import { checkOptions, defaultGenerator, type Generator } from '@graft/tensor';
import type { Interpolation } from '../planar.js';
import { roundHalfEven } from '../planar.js';
import { getDimensions, type ImageLike, resizedCrop, type SizeArg } from './functional.js';
import { pyFloat, pyTuple } from './repr.js';
import type { RandomOptions } from './resize.js';
import type { Transform } from './transform.js';

/** Options of {@link RandomResizedCrop}. */
export interface RandomResizedCropOptions extends RandomOptions {
  /** Range of the crop's area as a fraction of the image's (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width / height, sampled log-uniformly (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
  interpolation?: Interpolation;
  antialias?: boolean;
}

/** A crop box: top, left, height, width. */
export type CropBox = [top: number, left: number, height: number, width: number];

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 tries of a uniform area fraction in
 * `scale` and a log-uniform aspect ratio in `ratio`, keeping the first box that fits; otherwise a
 * center crop with the ratio clamped into range (or the whole image).
 */
export function randomResizedCropParams(
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  generator: Generator,
): CropBox {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + (scale[1] - scale[0]) * generator.random());
    const aspectRatio = Math.exp(logRatio[0] + (logRatio[1] - logRatio[0]) * generator.random());
    const w = roundHalfEven(Math.sqrt(targetArea * aspectRatio));
    const h = roundHalfEven(Math.sqrt(targetArea / aspectRatio));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = generator.randint(0, height - h + 1);
      const left = generator.randint(0, width - w + 1);
      return [top, left, h, w];
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  }
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

/** Crops a random area and aspect ratio, then resizes to `size` (torchvision's RandomResizedCrop). */
export class RandomResizedCrop implements Transform<ImageLike, ImageLike> {
  readonly size: [number, number];
  readonly scale: readonly [number, number];
  readonly ratio: readonly [number, number];
  readonly interpolation: Interpolation;
  readonly antialias: boolean;
  readonly generator: Generator;

  /**
   * `new RandomResizedCrop(224, { scale: [0.5, 1], generator })`, or torchvision's positional
   * `new RandomResizedCrop(224, [0.5, 1], [3 / 4, 4 / 3], 'bilinear')`.
   */
  constructor(
    size: SizeArg,
    options: RandomResizedCropOptions | readonly [number, number] = {},
    ratio?: readonly [number, number],
    interpolation?: Interpolation,
  ) {
    if (Array.isArray(options)) {
      options = { scale: options as readonly [number, number], ratio, interpolation };
    } else if (ratio !== undefined || interpolation !== undefined) {
      throw new TypeError(
        'RandomResizedCrop: give scale, ratio and interpolation either positionally or in one options object, not both',
      );
    }
    options = options as RandomResizedCropOptions;
    checkOptions('RandomResizedCrop', options, ['scale', 'ratio', 'interpolation', 'antialias', 'generator']);
    this.size =
      typeof size === 'number' ? [size, size] : size.length === 1 ? [size[0], size[0]] : [size[0], size[1]];
    this.scale = options.scale ?? [0.08, 1];
    this.ratio = options.ratio ?? [3 / 4, 4 / 3];
    for (const [name, range] of [
      ['scale', this.scale],
      ['ratio', this.ratio],
    ] as const) {
      if (!(range[0] <= range[1])) {
        throw new RangeError(
          `RandomResizedCrop: ${name} should be of kind (min, max), got [${range.join(', ')}]`,
        );
      }
    }
    this.interpolation = options.interpolation ?? 'bilinear';
    this.antialias = options.antialias ?? true;
    this.generator = options.generator ?? defaultGenerator;
  }

  forward<T extends ImageLike>(image: T): T {
    const [, height, width] = getDimensions(image);
    const [top, left, h, w] = randomResizedCropParams(height, width, this.scale, this.ratio, this.generator);
    return resizedCrop(image, top, left, h, w, this.size, {
      interpolation: this.interpolation,
      antialias: this.antialias,
    });
  }

  toString(): string {
    const ratio = this.ratio.map((r) => pyFloat(Math.round(r * 1e4) / 1e4));
    return (
      `RandomResizedCrop(size=${pyTuple(this.size)}, scale=${pyTuple(this.scale.map(pyFloat))}, ` +
      `ratio=${pyTuple(ratio)}, interpolation=${this.interpolation}, antialias=${this.antialias ? 'True' : 'False'})`
    );
  }
}
