// ToTensor, PILToTensor, ConvertImageDtype and Normalize: from decoded images to network inputs.
import type { Tensor } from '@graft/tensor';
import type { RawImage } from '../raw-image.js';
import { convertImageDtype, normalize, pilToTensor, toTensor } from './functional.js';
import { pyFloatList } from './repr.js';
import type { Transform } from './transform.js';

/** RawImage (HWC uint8) -> float32 Tensor [C, H, W] scaled to [0, 1]. */
export class ToTensor implements Transform<RawImage, Tensor> {
  forward(image: RawImage): Tensor {
    return toTensor(image);
  }

  toString(): string {
    return 'ToTensor()';
  }
}

/** RawImage (HWC uint8) -> uint8 Tensor [C, H, W], values unchanged. */
export class PILToTensor implements Transform<RawImage, Tensor> {
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

  constructor(mean: readonly number[], std: readonly number[]) {
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
