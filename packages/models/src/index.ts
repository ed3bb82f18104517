// @graft/models: torchvision-exact ResNet-18/34/50 with a pretrained-weights registry (browser-safe entry).

export { type ResNetBuilderOptions, resnet18, resnet34, resnet50 } from './builders.js';
export type { CheckpointRequest, DownloadProgress } from './checkpoint-source/types.js';
export { fileNameFromUrl, hashPrefixFromFileName } from './hash-prefix.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  ImageClassification,
  type ImageClassificationOptions,
} from './image-classification.js';
export { IMAGENET_CATEGORIES } from './imagenet-categories.js';
export {
  type FetchWeightsOptions,
  fetchStateDict,
  loadWeightsInto,
  type StateDict,
  stateDictFromCheckpoint,
  type WeightsSource,
} from './load-weights.js';
export {
  BasicBlock,
  type BlockClass,
  type BlockOptions,
  Bottleneck,
  conv1x1,
  conv3x3,
  ResNet,
  type ResNetOptions,
} from './resnet.js';
export {
  looksLikeWeightsName,
  ResNet18Weights,
  ResNet34Weights,
  ResNet50Weights,
  type ResNetArchitecture,
  resolveWeightsName,
  WEIGHTS_BY_ARCHITECTURE,
  Weights,
  type WeightsMeta,
  weightsByName,
} from './weights.js';
