// @graft/tensor: tensors with PyTorch semantics, autograd, and pluggable backends.

export { Tensor, type NestedArray, type StorageRef, type ValuesIndices } from './tensor.js';
export { type DType, type TypedArray, DTYPES, isFloating, storageArrayFor, dtypeByteSize, promoteTypes } from './dtype.js';
export { float16ToFloat32, float32ToFloat16, bfloat16ToFloat32, float32ToBfloat16 } from './dtype.js';
export {
  type Backend,
  type Device,
  type Storage,
  type Layout,
  type View,
  type UnaryOp,
  type BinaryOp,
  type ReduceOp,
  type Conv2dParams,
  type Pool2dParams,
  registerBackend,
  getBackend,
} from './backend.js';
export { CpuBackend, CpuStorage } from './cpu/backend.js';
export {
  initWebGpu,
  webGpuBackend,
  type WebGpuOptions,
  WebGpuBackend,
  WebGpuStorage,
  type PoolStats,
} from './webgpu/index.js';
export { setWasmKernels, wasmKernelsEnabled } from './cpu/gemm.js';
export { setNumThreads, getNumThreads } from './cpu/wasm/threads.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled, Node } from './autograd.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export {
  type TensorOptions,
  type RandomOptions,
  tensor,
  fromTypedArray,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  randperm,
  randLike,
  randnLike,
  randintLike,
} from './creation.js';
export { formatTensor } from './format.js';
export { broadcastShapes } from './shape.js';
export { cat, stack, oneHot, gather, indexSelect, topk } from './ops/indexing.js';
export { matmul, mm, bmm } from './ops/linalg.js';
export { where, maximum, minimum, cast } from './ops/elementwise.js';
export {
  type Conv2dOptions,
  type Pool2dOptions,
  type AvgPool2dOptions,
  type BatchNormOptions,
  type NllLossOptions,
  type CrossEntropyOptions,
  type Reduction,
  type IntPair,
  conv2d,
  pad2d,
  maxPool2d,
  maxPool2dWithIndices,
  avgPool2d,
  adaptiveAvgPool2d,
  batchNorm,
  layerNorm,
  dropout,
  softmax,
  logSoftmax,
  nllLoss,
  crossEntropy,
  mseLoss,
  binaryCrossEntropyWithLogits,
  linear,
} from './ops/nn.js';
