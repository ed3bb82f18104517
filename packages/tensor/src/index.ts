// @graft/tensor: tensors with PyTorch semantics, autograd, and pluggable backends.

export {
  type AutocastDevice,
  type AutocastOptions,
  autocast,
  getAutocastDtype,
  isAutocastEnabled,
  withoutAutocast,
} from './amp/autocast.js';
export { enableGrad, isGradEnabled, markTemporary, Node, noGrad, setGradEnabled } from './autograd.js';
export {
  type AdamOperands,
  type AdamStepOptions,
  type Backend,
  type BinaryOp,
  type Conv2dParams,
  type Device,
  getBackend,
  type Layout,
  type Pool2dParams,
  type ReduceOp,
  registerBackend,
  type SgdStepOptions,
  type Storage,
  setCpuBackend,
  type UnaryOp,
  type View,
} from './backend.js';
export { ReferenceCpuBackend } from './cpu/reference/backend.js';
export { CpuStorage } from './cpu/storage.js';
export { WasmCpuBackend, type WasmCpuBackendOptions } from './cpu/wasm/backend.js';
export { setCpuHeapLimit } from './cpu/wasm/heap.js';
export { wasmKernelInfo } from './cpu/wasm/kernels.js';
export { getNumThreads, setNumThreads, threadPoolStats } from './cpu/wasm/threads.js';
export {
  arange,
  eye,
  fromTypedArray,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  type RandomOptions,
  rand,
  randint,
  randintLike,
  randLike,
  randn,
  randnLike,
  randperm,
  type TensorOptions,
  tensor,
  zeros,
  zerosLike,
} from './creation.js';
export {
  bfloat16ToFloat32,
  DTYPES,
  type DType,
  decodeBfloat16,
  decodeFloat16,
  dtypeByteSize,
  encodeBfloat16,
  encodeFloat16,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  isFloating,
  promoteTypes,
  storageArrayFor,
  type TypedArray,
} from './dtype.js';
export { formatTensor } from './format.js';
export { type MemoryStats, memoryStats } from './memory.js';
export { cast } from './ops/elementwise.js';
export * from './ops/functions.js';
export { cat, gather, indexSelect, oneHot, stack, topk } from './ops/indexing.js';
export { bmm, matmul, mm } from './ops/linalg.js';
export {
  type AvgPool2dOptions,
  adaptiveAvgPool2d,
  avgPool2d,
  type BatchNormOptions,
  batchNorm,
  binaryCrossEntropyWithLogits,
  type Conv2dOptions,
  type CrossEntropyOptions,
  conv2d,
  crossEntropy,
  dropout,
  type FusedBatchNormOptions,
  type FusedConv2dOptions,
  fusedBatchNorm,
  fusedConv2d,
  type IntPair,
  layerNorm,
  linear,
  logSoftmax,
  maxPool2d,
  maxPool2dWithIndices,
  mseLoss,
  type NllLossOptions,
  nllLoss,
  type Pool2dOptions,
  pad2d,
  type Reduction,
  softmax,
} from './ops/nn.js';
export {
  type AdamUpdateOptions,
  adamUpdate_,
  type SgdUpdateOptions,
  sgdUpdate_,
} from './ops/optim.js';
export { type PublicUnaryName, UNARY_OPS, type UnaryDef, type UnaryDtypeRule } from './ops/unary.js';
export { checkOptions, didYouMean, toCamelCase, unknownOptionMessage } from './options.js';
export { defaultGenerator, Generator, manualSeed } from './random.js';
export { hostBytes, rawViewSync } from './raw-view.js';
export {
  type BatchNormBackwardResult,
  type BatchNormForwardResult,
  batchNormStatsDtype,
  type Conv2dStatsResult,
  type ConvEpilogueViews,
  DEFAULT_KERNEL_DTYPES,
  type FastKernels,
  findKernel,
  KERNEL_NAMES,
  type KernelName,
  kernelDtypes,
  type PlaneStats,
  registeredKernels,
  registerKernel,
} from './registry.js';
export { broadcastShapes } from './shape.js';
export { type NestedArray, type StorageRef, Tensor, type ValuesIndices } from './tensor.js';
export {
  initWebGpu,
  type PoolStats,
  WebGpuBackend,
  type WebGpuOptions,
  WebGpuStorage,
  webGpuBackend,
} from './webgpu/index.js';
