// Resize, CenterCrop and RandomHorizontalFlip: the deterministic-geometry transforms.
import { checkOptions, defaultGenerator, type Generator } from '@graft/tensor';
import type { Interpolation } from '../planar.js';
import {
  centerCrop,
  hflip,
  type ImageLike,
  RESIZE_OPTIONS,
  type ResizeOptions,
  resize,
  type SizeArg,
} from './functional.js';
import { pyBool, pyFloat, pyOptional, pyTuple } from './repr.js';
import type { Transform } from './transform.js';

function sizeRepr(size: SizeArg): string {
  return typeof size === 'number' ? String(size) : size.length === 1 ? `[${size[0]}]` : pyTuple(size);
}

/**
 * Resizes to `size`: one number sets the smaller edge (aspect ratio kept), [h, w] sets both.
 * Bilinear with antialias by default, computed as torchvision does on a tensor (uint8 rounded
 * half to even).
 */
export class Resize implements Transform<ImageLike, ImageLike> {
  readonly size: SizeArg;
  readonly interpolation: Interpolation;
  readonly maxSize: number | undefined;
  readonly antialias: boolean;

  /** `new Resize(256, { interpolation: 'nearest' })`, or torchvision's positional `new Resize(256, 'nearest')`. */
  constructor(size: SizeArg, options: ResizeOptions | Interpolation = {}) {
    if (typeof options === 'string') options = { interpolation: options };
    checkOptions('Resize', options, RESIZE_OPTIONS);
    this.size = typeof size === 'number' ? size : size.length === 1 ? [size[0]] : [size[0], size[1]];
    this.interpolation = options.interpolation ?? 'bilinear';
    this.maxSize = options.maxSize;
    this.antialias = options.antialias ?? true;
  }

  forward<T extends ImageLike>(image: T): T {
    return resize(image, this.size, {
      interpolation: this.interpolation,
      maxSize: this.maxSize,
      antialias: this.antialias,
    });
  }

  toString(): string {
    return `Resize(size=${sizeRepr(this.size)}, interpolation=${this.interpolation}, max_size=${pyOptional(this.maxSize)}, antialias=${pyBool(this.antialias)})`;
  }
}

/** The options object of a transform that takes none: any key is refused. */
export type NoOptions = Record<string, never>;

/** Crops the center to `size` (one number: a square), padding with zeros when the image is smaller. */
export class CenterCrop implements Transform<ImageLike, ImageLike> {
  readonly size: [number, number];

  constructor(size: SizeArg, options?: NoOptions) {
    checkOptions('CenterCrop', options, []);
    this.size =
      typeof size === 'number' ? [size, size] : size.length === 1 ? [size[0], size[0]] : [size[0], size[1]];
  }

  forward<T extends ImageLike>(image: T): T {
    return centerCrop(image, this.size);
  }

  toString(): string {
    return `CenterCrop(size=${pyTuple(this.size)})`;
  }
}

/** Options of the random transforms. */
export interface RandomOptions {
  /** Source of randomness (default: the global generator that manualSeed seeds). */
  generator?: Generator;
}

/** Options of {@link RandomHorizontalFlip} when given as one object. */
export interface RandomHorizontalFlipOptions extends RandomOptions {
  /** Probability of a flip (default 0.5). */
  p?: number;
}

/** Mirrors left to right with probability p (default 0.5): `new RandomHorizontalFlip(0.3)` or `({ p: 0.3, generator })`. */
export class RandomHorizontalFlip implements Transform<ImageLike, ImageLike> {
  readonly p: number;
  readonly generator: Generator;

  constructor(p: number | RandomHorizontalFlipOptions = 0.5, options: RandomOptions = {}) {
    if (typeof p === 'object' && p !== null) {
      checkOptions('RandomHorizontalFlip', p, ['p', 'generator']);
      options = { generator: p.generator };
      p = p.p ?? 0.5;
    } else {
      checkOptions('RandomHorizontalFlip', options, ['generator']);
    }
    if (!(p >= 0 && p <= 1)) throw new RangeError(`RandomHorizontalFlip: p must be in [0, 1], got ${p}`);
    this.p = p;
    this.generator = options.generator ?? defaultGenerator;
  }

  forward<T extends ImageLike>(image: T): T {
    return this.generator.random() < this.p ? hflip(image) : image;
  }

  toString(): string {
    return `RandomHorizontalFlip(p=${pyFloat(this.p)})`;
  }
}
