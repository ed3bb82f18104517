// @graft/data: datasets, DataLoader, IDX parsing and torchvision-style transforms (browser-safe).

export { type CollatableArray, type Collated, defaultCollate } from './collate.js';
export { DataLoader, type DataLoaderOptions } from './dataloader.js';
export { ConcatDataset, Dataset, Subset } from './dataset.js';
export { canDecodeImagesInBrowser, type DecodeImageOptions, decodeImage } from './decode-image.js';
export {
  decodeIdx,
  gunzipBytes,
  type IdxArray,
  type IdxData,
  type IdxDType,
  isGzip,
  parseIdx,
} from './idx.js';
export {
  FASHION_MNIST_CLASSES,
  IdxImageDataset,
  type IdxImageDatasetOptions,
  KMNIST_CLASSES,
  MNIST_CLASSES,
} from './idx-dataset.js';
export type { Interpolation } from './planar.js';
export { type RandomSplitOptions, randomSplit, splitLengths } from './random-split.js';
export {
  convertImage,
  type ImageMode,
  imageMode,
  isRawImage,
  modeChannels,
  type RawImage,
  rawImage,
} from './raw-image.js';
export { TensorDataset } from './tensor-dataset.js';
export * as transforms from './transforms/index.js';
export * from './transforms/index.js';
