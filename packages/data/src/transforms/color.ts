// Grayscale and ColorJitter: the color transforms.
import { checkOptions, defaultGenerator, type Generator, randperm } from '@graft/tensor';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  type ImageLike,
  rgbToGrayscale,
} from './functional.js';
import { pyFloatList } from './repr.js';
import type { RandomOptions } from './resize.js';
import type { Transform } from './transform.js';

/**
 * Converts to grayscale with 1 or 3 output channels (torchvision's Grayscale). RawImages use
 * PIL's convert('L') luma (ITU-R 601-2: 299/587/114 per mille), tensors torchvision's tensor formula.
 */
export class Grayscale implements Transform<ImageLike, ImageLike> {
  readonly numOutputChannels: 1 | 3;

  constructor(numOutputChannels: 1 | 3 | { numOutputChannels?: 1 | 3 } = 1) {
    if (typeof numOutputChannels === 'object')
      checkOptions('Grayscale', numOutputChannels, ['numOutputChannels']);
    const n =
      typeof numOutputChannels === 'number' ? numOutputChannels : (numOutputChannels.numOutputChannels ?? 1);
    if (n !== 1 && n !== 3)
      throw new RangeError(`Grayscale: numOutputChannels must be 1 or 3, got ${String(n)}`);
    this.numOutputChannels = n;
  }

  forward<T extends ImageLike>(image: T): T {
    return rgbToGrayscale(image, this.numOutputChannels);
  }

  toString(): string {
    return `Grayscale(num_output_channels=${this.numOutputChannels})`;
  }
}

/** A jitter strength: f means [max(0, 1 - f), 1 + f] (hue: [-f, f]); a pair is the range itself. */
export type JitterRange = number | readonly [number, number];

/** Options of {@link ColorJitter}. */
export interface ColorJitterOptions extends RandomOptions {
  brightness?: JitterRange;
  contrast?: JitterRange;
  saturation?: JitterRange;
  /** At most 0.5: the hue turns by a factor in [-hue, hue]. */
  hue?: JitterRange;
}

// torchvision's ColorJitter._check_input.
function jitterRange(
  name: string,
  value: JitterRange | undefined,
  center = 1,
  bound: [number, number] = [0, Number.POSITIVE_INFINITY],
  clipFirstOnZero = true,
): [number, number] | undefined {
  if (value === undefined) return undefined;
  let range: [number, number];
  if (typeof value === 'number') {
    if (value < 0) {
      throw new RangeError(
        `ColorJitter: if ${name} is a single number, it must be non negative, got ${value}`,
      );
    }
    range = [center - value, center + value];
    if (clipFirstOnZero) range[0] = Math.max(range[0], 0);
  } else {
    range = [value[0], value[1]];
  }
  if (!(bound[0] <= range[0] && range[0] <= range[1] && range[1] <= bound[1])) {
    throw new RangeError(
      `ColorJitter: ${name} values should be between [${bound.join(', ')}] with min <= max, got [${range.join(', ')}]`,
    );
  }
  return range[0] === center && range[1] === center ? undefined : range;
}

/** One ColorJitter draw: the order of the four adjustments (0 brightness, 1 contrast, 2 saturation, 3 hue) and each factor. */
export interface ColorJitterParams {
  order: number[];
  brightness?: number;
  contrast?: number;
  saturation?: number;
  hue?: number;
}

/**
 * Randomly changes brightness, contrast, saturation and hue (torchvision's ColorJitter): each
 * factor is uniform in its range and the adjustments run in a random order. The arithmetic is
 * torchvision's tensor path (uint8 results truncated), also for RawImages.
 */
export class ColorJitter implements Transform<ImageLike, ImageLike> {
  readonly brightness: [number, number] | undefined;
  readonly contrast: [number, number] | undefined;
  readonly saturation: [number, number] | undefined;
  readonly hue: [number, number] | undefined;
  readonly generator: Generator;

  /**
   * `new ColorJitter({ brightness: 0.4, hue: 0.1 })`, or torchvision's positional form
   * `new ColorJitter(brightness, contrast, saturation, hue)`.
   */
  constructor(
    options: ColorJitterOptions | JitterRange = {},
    contrast?: JitterRange,
    saturation?: JitterRange,
    hue?: JitterRange,
  ) {
    if (typeof options === 'number' || Array.isArray(options)) {
      options = { brightness: options as JitterRange, contrast, saturation, hue };
    } else {
      checkOptions('ColorJitter', options, ['brightness', 'contrast', 'saturation', 'hue', 'generator']);
      if (contrast !== undefined || saturation !== undefined || hue !== undefined) {
        throw new TypeError(
          'ColorJitter: give the jitter strengths either positionally (brightness, contrast, saturation, hue) or as one options object, not both',
        );
      }
    }
    options = options as ColorJitterOptions;
    this.brightness = jitterRange('brightness', options.brightness);
    this.contrast = jitterRange('contrast', options.contrast);
    this.saturation = jitterRange('saturation', options.saturation);
    this.hue = jitterRange('hue', options.hue, 0, [-0.5, 0.5], false);
    this.generator = options.generator ?? defaultGenerator;
  }

  /** Draws the order and the factors (undefined where the adjustment is off). */
  getParams(): ColorJitterParams {
    const order = Array.from(randperm(4, { generator: this.generator }).readSync());
    const draw = (range: [number, number] | undefined) =>
      range === undefined ? undefined : range[0] + (range[1] - range[0]) * this.generator.random();
    return {
      order,
      brightness: draw(this.brightness),
      contrast: draw(this.contrast),
      saturation: draw(this.saturation),
      hue: draw(this.hue),
    };
  }

  forward<T extends ImageLike>(image: T): T {
    const params = this.getParams();
    let out = image;
    for (const step of params.order) {
      if (step === 0 && params.brightness !== undefined) out = adjustBrightness(out, params.brightness);
      if (step === 1 && params.contrast !== undefined) out = adjustContrast(out, params.contrast);
      if (step === 2 && params.saturation !== undefined) out = adjustSaturation(out, params.saturation);
      if (step === 3 && params.hue !== undefined) out = adjustHue(out, params.hue);
    }
    return out;
  }

  toString(): string {
    const show = (r: [number, number] | undefined) => (r === undefined ? 'None' : pyFloatList(r));
    return (
      `ColorJitter(brightness=${show(this.brightness)}, contrast=${show(this.contrast)}, ` +
      `saturation=${show(this.saturation)}, hue=${show(this.hue)})`
    );
  }
}
