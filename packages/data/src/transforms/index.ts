// torchvision.transforms for graft: transform classes, and the functional API as `functional`.

export { ColorJitter, type ColorJitterOptions, Grayscale, type JitterRange } from './color.js';
export { Compose, type TransformInput, type TransformOutput } from './compose.js';
export type { ImageLike, ResizeOptions, SizeArg } from './functional.js';
export * as functional from './functional.js';
export {
  type CropBox,
  RandomResizedCrop,
  type RandomResizedCropOptions,
  randomResizedCropParams,
} from './random-resized-crop.js';
export {
  CenterCrop,
  type NoOptions,
  RandomHorizontalFlip,
  type RandomHorizontalFlipOptions,
  type RandomOptions,
  Resize,
} from './resize.js';
export { ConvertImageDtype, Normalize, PILToTensor, ToTensor } from './tensor-conversion.js';
export { applyTransform, type Transform, type TransformLike } from './transform.js';
