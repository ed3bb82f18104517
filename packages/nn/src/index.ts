// @graft/nn: PyTorch-style modules, layers, functional ops and initialisers for graft.

export { ModuleDict, ModuleList, Sequential } from './containers.js';
export * as F from './functional.js';
export { bnAct, canFuse, canFuseEval, convBnEval, moduleFusionEnabled, setModuleFusion } from './fusion.js';
export * as init from './init.js';
export { GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh } from './layers/activation.js';
export { Conv2d, type Conv2dModuleOptions, type Conv2dPadding, type PaddingMode } from './layers/conv.js';
export { Dropout, type DropoutModuleOptions } from './layers/dropout.js';
export { Identity, Linear, type LinearOptions } from './layers/linear.js';
export {
  BCEWithLogitsLoss,
  type BCEWithLogitsLossOptions,
  CrossEntropyLoss,
  type CrossEntropyLossOptions,
  MSELoss,
  NLLLoss,
  type NLLLossOptions,
} from './layers/loss.js';
export {
  BatchNorm,
  BatchNorm1d,
  BatchNorm2d,
  type BatchNormModuleOptions,
  LayerNorm,
  type LayerNormOptions,
} from './layers/normalization.js';
export {
  AdaptiveAvgPool2d,
  type AdaptiveSize,
  AvgPool2d,
  type AvgPool2dModuleOptions,
  MaxPool2d,
  type MaxPool2dOptions,
} from './layers/pooling.js';
export { Flatten, Unflatten } from './layers/reshape.js';
export {
  type ForwardHook,
  type ForwardPreHook,
  type IncompatibleKeys,
  Module,
  type ModuleMetadata,
  type NamedMembersOptions,
  RemovableHandle,
  type StateDict,
  StateDictError,
  type StateDictMetadata,
  stateDictMetadata,
} from './module.js';
export { Parameter } from './parameter.js';
export { type ModelSummary, type SummaryRow, summary } from './summary.js';
