// The interface every backend implements: storage, transfer, and the kernels the ops call.
// Kernels take layouts (shape, strides, offset), so view ops never reach a backend.

import { CpuBackend } from './cpu/backend.js';
import type { DType, TypedArray } from './dtype.js';

/** Where a tensor lives. */
export type Device = 'cpu' | 'webgpu';

/** A backend's handle to a block of elements of one dtype. */
export interface Storage {
  readonly device: Device;
  /** Number of elements. */
  readonly length: number;
  /** Returns GPU memory to the pool; a no-op on CPU. */
  dispose(): void;
}

/** How a tensor reads its storage: element (i0, i1, ...) is at offset + sum(i_k * strides[k]). */
export interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** A kernel operand: storage plus layout plus dtype. */
export interface View extends Layout {
  readonly storage: Storage;
  readonly dtype: DType;
}

export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'abs'
  | 'sign'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'gelu'
  | 'geluTanh'
  | 'erf'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'reciprocal'
  | 'sin'
  | 'cos'
  | 'log1p'
  | 'expm1'
  | 'logicalNot'
  | 'isnan'
  | 'isfinite'
  | 'square';

export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'logicalAnd'
  | 'logicalOr'
  | 'floorDivide'
  | 'remainder';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'any' | 'all';

export interface Conv2dParams {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

export interface Pool2dParams {
  kernelSize: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
  /** avg pooling only */
  countIncludePad: boolean;
  divisorOverride: number | null;
}

/**
 * The kernels a backend provides. Outputs are fresh contiguous storages. Heavy kernels (conv,
 * pooling, gather/scatter) receive contiguous views; elementwise and reduction kernels take any
 * strides (broadcast operands arrive with stride 0 on the broadcast dims).
 */
/** Hyper-parameters of one SGD step (PyTorch 1.13's single-tensor formula). */
export interface SgdStepOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  maximize: boolean;
  weightDecay: number;
  /** The momentum buffer is new: it takes the update direction instead of being blended. */
  first: boolean;
}

/** Operands of `Backend.conv2dEpilogue`; a null view skips its term. */
export interface ConvEpilogueViews {
  scale: View | null;
  shift: View | null;
  residual: View | null;
  relu: boolean;
}

export interface Backend {
  readonly device: Device;
  alloc(dtype: DType, length: number): Storage;
  fill(dtype: DType, length: number, value: number): Storage;
  /** Takes ownership of `data` (must be in the dtype's storage format). */
  fromArray(data: TypedArray, dtype: DType): Storage;
  /** Contiguous copy of a view in storage format. */
  read(x: View): Promise<TypedArray>;
  /** Synchronous read; backends that cannot do it throw. */
  readSync(x: View): TypedArray;
  /** Contiguous copy of a view, converted to `dtype`. */
  copy(x: View, dtype: DType): Storage;
  /** Writes `src` (already shaped like `dst`, any strides) into the elements `dst` covers. */
  assign(dst: View, src: View): void;
  unary(op: UnaryOp, x: View, outDtype: DType): Storage;
  /** `a` and `b` have the output's shape (broadcast dims have stride 0). */
  binary(op: BinaryOp, a: View, b: View, outDtype: DType): Storage;
  where(cond: View, a: View, b: View, outDtype: DType): Storage;
  /**
   * Optional: `dst = dst op b` in place (b already shaped like dst, not sharing its storage), for the
   * in-place ops when no graph is recorded. Returns false where it does not apply; callers fall back to
   * computing out of place and `assign`.
   */
  binaryInto?(op: BinaryOp, dst: View, b: View): boolean;
  /** Reduces `dims` away; the output holds the kept dims in order. */
  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage;
  /** [B, M, K] x [B, K, N] -> [B, M, N], any strides. */
  matmul(a: View, b: View, outDtype: DType): Storage;
  conv2d(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Storage;
  conv2dBackwardInput(gradOut: View, weight: View, p: Conv2dParams, inputShape: readonly number[]): Storage;
  conv2dBackwardWeight(x: View, gradOut: View, p: Conv2dParams, weightShape: readonly number[]): Storage;
  /**
   * Optional inference fusion: relu?(conv2d(x, weight) * scale[o] + shift[o] + residual) written in
   * the convolution's own output pass (x, weight, residual contiguous; scale and shift [O]). Returns
   * null where this backend has no fused kernel for the case; the caller then composes the ops.
   */
  conv2dEpilogue?(
    x: View,
    weight: View,
    p: Conv2dParams,
    outShape: readonly number[],
    ep: ConvEpilogueViews,
  ): Storage | null;
  /**
   * Optional fused training-mode batch norm over dim 1 of contiguous x [N, C, ...]: per-channel batch
   * mean, biased variance and invstd = 1/sqrt(var + eps), and the normalised affine output, plus
   * `residual` (same shape) and then ReLU when asked.
   */
  batchNormForward?(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    residual: View | null,
    relu: boolean,
  ): { out: Storage; mean: Storage; variance: Storage; invstd: Storage };
  /**
   * Optional: the gradients of `batchNormForward` (gx only when `needInput`); all operands contiguous.
   * With `reluOut` (the fused ReLU's output), g is masked first and the masked gradient is returned as
   * `gm` (the residual's gradient).
   */
  batchNormBackward?(
    g: View,
    x: View,
    mean: View,
    invstd: View,
    weight: View | null,
    needInput: boolean,
    reluOut: View | null,
    /** false: the caller needs no `gm` (no residual gradient), so a backend may skip it. */
    wantMasked?: boolean,
  ): { gx: Storage | null; gw: Storage; gb: Storage; gm: Storage | null };
  /**
   * Optional fused SGD step in place over contiguous float operands of one shape (see `sgdUpdate_`):
   * writes `param` and, with momentum, `buf` (`first`: the buffer starts as the update direction).
   */
  sgdStep?(param: View, grad: View, buf: View | null, o: SgdStepOptions): void;
  /** Optional: ReLU's gradient from its output, 0 where out <= 0 else g (contiguous, same shape). */
  reluBackward?(g: View, out: View): Storage;
  /** Indices are flat positions within each H*W plane (int64), as PyTorch returns them. */
  maxPool2d(
    x: View,
    p: Pool2dParams,
    outShape: readonly number[],
    /** false: the caller needs no indices (no gradient), so a backend may skip them and return null. */
    withIndices?: boolean,
  ): { values: Storage; indices: Storage | null };
  maxPool2dBackward(gradOut: View, indices: View, inputShape: readonly number[]): Storage;
  avgPool2d(x: View, p: Pool2dParams, outShape: readonly number[]): Storage;
  avgPool2dBackward(gradOut: View, p: Pool2dParams, inputShape: readonly number[]): Storage;
  adaptiveAvgPool2d(x: View, outShape: readonly number[]): Storage;
  adaptiveAvgPool2dBackward(gradOut: View, inputShape: readonly number[]): Storage;
  /** out[..., i, ...] = x[..., index[..., i, ...], ...] along `dim`; index has the output's shape. */
  gather(x: View, dim: number, index: View): Storage;
  /** Zeros of `shape`, then out[..., index[i], ...] += src[..., i, ...] along `dim`. */
  scatterAdd(shape: readonly number[], dim: number, index: View, src: View): Storage;
  /** Selects whole slices along `dim` by a 1-D index. */
  indexSelect(x: View, dim: number, index: View): Storage;
  /** Zeros of `shape`, then adds slices of `src` at positions `index` along `dim`. */
  indexAdd(shape: readonly number[], dim: number, index: View, src: View): Storage;
  topk(
    x: View,
    k: number,
    dim: number,
    largest: boolean,
    sorted: boolean,
  ): { values: Storage; indices: Storage };
}

const backends = new Map<Device, Backend>();

/** Makes a backend available under its device name. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.device, backend);
}

/** Returns the backend for a device, or throws naming what is available. */
export function getBackend(device: Device): Backend {
  // The CPU backend is created on first use, so importing the package has no side effects.
  if (device === 'cpu' && !backends.has('cpu')) backends.set('cpu', new CpuBackend());
  const b = backends.get(device);
  if (!b) {
    throw new Error(
      `no backend registered for device '${device}' (registered: ${[...backends.keys()].join(', ') || 'none'})` +
        (device === 'webgpu' ? '; import and initialise the WebGPU backend first' : ''),
    );
  }
  return b;
}
