// ToTensor, PILToTensor, ConvertImageDtype and Normalize: from decoded images to network inputs.
import { checkOptions, type Tensor } from '@graft/tensor';
import type { RawImage } from '../raw-image.js';
import { convertImageDtype, normalize, pilToTensor, toTensor } from './functional.js';
import { pyFloatList } from './repr.js';
import type { NoOptions } from './resize.js';
import type { Transform } from './transform.js';

/** RawImage (HWC uint8) -> float32 Tensor [C, H, W] scaled to [0, 1]. */
export class ToTensor implements Transform<RawImage, Tensor> {
  /** Takes no options; any given is refused (`new ToTensor({ scale: false })` throws). */
  constructor(options?: NoOptions) {
    checkOptions('ToTensor', options, []);
  }

  forward(image: RawImage): Tensor {
    return toTensor(image);
  }

  toString(): string {
    return 'ToTensor()';
  }
}

/** RawImage (HWC uint8) -> uint8 Tensor [C, H, W], values unchanged. */
export class PILToTensor implements Transform<RawImage, Tensor> {
  /** Takes no options; any given is refused. */
  constructor(options?: NoOptions) {
    checkOptions('PILToTensor', options, []);
  }

  forward(image: RawImage): Tensor {
    return pilToTensor(image);
  }

  toString(): string {
    return 'PILToTensor()';
  }
}

/** uint8 Tensor -> float Tensor in [0, 1] (float tensors pass through with a cast). */
export class ConvertImageDtype implements Transform<Tensor, Tensor> {
  readonly dtype: 'float32' | 'float64';

  constructor(dtype: 'float32' | 'float64' = 'float32') {
    if (dtype !== 'float32' && dtype !== 'float64') {
      const got = typeof dtype === 'object' ? 'an object' : `'${String(dtype)}'`;
      throw new TypeError(`ConvertImageDtype: dtype must be 'float32' or 'float64', got ${got}`);
    }
    this.dtype = dtype;
  }

  forward(image: Tensor): Tensor {
    return convertImageDtype(image, this.dtype);
  }

  toString(): string {
    return `ConvertImageDtype(torch.${this.dtype})`;
  }
}

/** (x - mean[c]) / std[c] on a float Tensor [..., C, H, W]. */
export class Normalize implements Transform<Tensor, Tensor> {
  readonly mean: readonly number[];
  readonly std: readonly number[];

  constructor(mean: readonly number[], std: readonly number[], options?: NoOptions) {
    checkOptions('Normalize', options, []);
    this.mean = [...mean];
    this.std = [...std];
  }

  forward(image: Tensor): Tensor {
    return normalize(image, this.mean, this.std);
  }

  toString(): string {
    return `Normalize(mean=${pyFloatList(this.mean)}, std=${pyFloatList(this.std)})`;
  }
}
