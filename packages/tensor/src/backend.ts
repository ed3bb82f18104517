// The interface every backend implements: storage, transfer, and the kernels the ops call.
// Kernels take layouts (shape, strides, offset), so view ops never reach a backend.

import { ReferenceCpuBackend } from './cpu/reference/backend.js';
import { WasmCpuBackend } from './cpu/wasm/backend.js';
import { wasmKernels } from './cpu/wasm/kernels.js';
import type { DType, TypedArray } from './dtype.js';
import type { UnaryOp } from './ops/unary.js';

/** Where a tensor lives. */
export type Device = 'cpu' | 'webgpu';

/** A backend's handle to a block of elements of one dtype. */
export interface Storage {
  readonly device: Device;
  /** Number of elements. */
  readonly length: number;
  /** Returns the storage's memory now (GPU buffer, WebAssembly heap block); later use is an error. */
  dispose(): void;
  /** The backend whose kernels run ops on this storage; absent: the device's default backend. */
  readonly backend?: Backend;
  /** Creation order (see `nextStorageSerial`): tells autograd which storages a backward pass made. */
  readonly serial?: number;
  /**
   * A tensor's `.grad` let go of a tensor over this storage, which is then likely garbage: a storage
   * whose memory only the collector returns may ask it to run soon. Optional; nothing changes.
   */
  letGo?(): void;
}

export { nextStorageSerial } from './serial.js';

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

// A unary kernel's name (UnaryOp): one per entry of the op table in ops/unary.ts.
export type { UnaryOp };

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
 * The required core every backend provides (named fast kernels are optional: registry.ts). Outputs are
 * fresh contiguous storages. Heavy kernels (conv,
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

/**
 * One Adam/AdamW step (PyTorch 1.13's single-tensor formula) with the per-step scalars already worked
 * out: `stepSize` = lr / (1 - beta1^step) and `biasCorrection2Sqrt` = sqrt(1 - beta2^step).
 */
/** The tensors one Adam step reads and updates in place; `maxExpAvgSq` is AMSGrad's (null without it). */
export interface AdamOperands {
  param: View;
  grad: View;
  expAvg: View;
  expAvgSq: View;
  maxExpAvgSq: View | null;
}

export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: `param *= 1 - lr * weightDecay` before the update; Adam: `grad += weightDecay * param`. */
  decoupled: boolean;
  maximize: boolean;
  stepSize: number;
  biasCorrection2Sqrt: number;
}

export interface Backend {
  readonly device: Device;
  /** A name for listings and errors ('cpu-wasm', 'cpu-reference', 'webgpu'). */
  readonly name?: string;
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
  /** Reduces `dims` away; the output holds the kept dims in order. */
  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage;
  /** [B, M, K] x [B, K, N] -> [B, M, N], any strides. */
  matmul(a: View, b: View, outDtype: DType): Storage;
  conv2d(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Storage;
  conv2dBackwardInput(gradOut: View, weight: View, p: Conv2dParams, inputShape: readonly number[]): Storage;
  conv2dBackwardWeight(x: View, gradOut: View, p: Conv2dParams, weightShape: readonly number[]): Storage;
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
  if (device === 'cpu' && !backends.has('cpu')) backends.set('cpu', defaultCpuBackend());
  const b = backends.get(device);
  if (!b) {
    throw new Error(
      `no backend registered for device '${device}' (registered: ${[...backends.keys()].join(', ') || 'none'})` +
        (device === 'webgpu' ? '; import and initialise the WebGPU backend first' : ''),
    );
  }
  return b;
}

function defaultCpuBackend(): Backend {
  return wasmKernels() ? new WasmCpuBackend() : new ReferenceCpuBackend();
}

/**
 * Chooses the backend new CPU tensors use: 'webassembly' (the default where WebAssembly SIMD runs: SIMD
 * kernels on a worker pool), 'reference' (plain TypeScript loops, the oracle tests compare against), or
 * a backend object. Existing tensors keep the backend that made them. Returns the previous backend.
 */
export function setCpuBackend(backend: 'webassembly' | 'reference' | Backend): Backend {
  const before = getBackend('cpu');
  let next: Backend;
  if (backend === 'reference') next = new ReferenceCpuBackend();
  else if (backend === 'webassembly') {
    if (!wasmKernels())
      throw new Error("setCpuBackend: 'webassembly' needs WebAssembly SIMD, which this runtime lacks");
    next = new WasmCpuBackend();
  } else if (typeof backend === 'object' && backend !== null && backend.device === 'cpu') next = backend;
  else {
    throw new Error(
      `setCpuBackend: expected 'webassembly', 'reference' or a CPU backend object, got ${typeof backend === 'object' ? `a ${backend?.device} backend` : JSON.stringify(backend)}`,
    );
  }
  backends.set('cpu', next);
  return before;
}
