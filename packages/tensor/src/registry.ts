// Named fast kernels a backend may register beside its required core (backend.ts). Each name has
// one fallback composed from core kernels, written next to the op that uses it (ops/nn.ts, ops/optim.ts,
// ops/elementwise.ts), so a backend that registers nothing still runs every op.

import type {
  AdamOperands,
  AdamStepOptions,
  Backend,
  BinaryOp,
  Conv2dParams,
  SgdStepOptions,
  Storage,
  View,
} from './backend.js';
import type { DType } from './dtype.js';

/** Operands of the `conv2dEpilogue` kernel; a null view skips its term. */
export interface ConvEpilogueViews {
  scale: View | null;
  shift: View | null;
  residual: View | null;
  relu: boolean;
}

/** Result of the `batchNormForward` kernel. */
export interface BatchNormForwardResult {
  out: Storage;
  mean: Storage;
  variance: Storage;
  invstd: Storage;
}

/**
 * Batch-norm statistics of each [n, c] plane of a convolution's output [N, C, OH, OW], from the
 * convolution's own output pass (`conv2dStats`): planes[3 (n C + c) ...] holds a shift k (a value of
 * the plane), sum(y - k) and sum((y - k)^2), in float64. `batchNormForward` combines them per channel
 * instead of reading y for its statistics.
 */
export interface PlaneStats {
  N: number;
  C: number;
  /** Floats per plane (OH OW). */
  S: number;
  planes: Float64Array;
}

/** Result of the `conv2dStats` kernel. */
export interface Conv2dStatsResult {
  out: Storage;
  stats: PlaneStats;
}

/** Result of the `batchNormBackward` kernel. */
export interface BatchNormBackwardResult {
  gx: Storage | null;
  gw: Storage;
  gb: Storage;
  gm: Storage | null;
}

/** The named kernels, with their signatures. Fallbacks live next to the ops named here. */
export interface FastKernels {
  /**
   * fusedConv2d (ops/nn.ts): relu?(conv2d(x, weight) * scale[o] + shift[o] + residual) in the
   * convolution's own output pass (x, weight, residual contiguous; scale and shift [O]). Returns null
   * where the backend has no kernel for the case.
   */
  conv2dEpilogue(
    x: View,
    weight: View,
    p: Conv2dParams,
    outShape: readonly number[],
    ep: ConvEpilogueViews,
  ): Storage | null;
  /**
   * conv2d (ops/nn.ts) when its output will take part in a backward pass and it has no bias: the
   * forward convolution (x and weight contiguous) and its output's per-plane batch-norm statistics
   * (`PlaneStats`), for a training-mode batch norm that takes the output as it is. Returns null where
   * the backend computes no statistics for the case; conv2d then runs plainly.
   */
  conv2dStats(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Conv2dStatsResult | null;
  /**
   * batchNorm / fusedBatchNorm in training mode (ops/norm.ts) over dim 1 of contiguous x [N, C, ...]:
   * per-channel batch mean, biased variance, invstd = 1/sqrt(var + eps) and the normalised affine
   * output, plus `residual` (same shape) and then ReLU when asked. `out` has x's dtype; the statistics
   * have `batchNormStatsDtype(x.dtype)` (float32 for a float16 x, whose weight and bias may be float32
   * or float16, as cuDNN's batch norm takes them under torch.autocast). `stats`, when given, are x's
   * per-plane statistics from the convolution that made it (`conv2dStats`); a kernel may use them
   * instead of its own statistics pass, or ignore them.
   */
  batchNormForward(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    residual: View | null,
    relu: boolean,
    stats?: PlaneStats | null,
  ): BatchNormForwardResult;
  /**
   * The gradients of `batchNormForward` (gx only when `needInput`); all operands contiguous. With
   * `reluOut` (the fused ReLU's output), g is masked first and, when `wantMasked`, returned as `gm`.
   * gx and gm have g's dtype, gw and gb the statistics' dtype (`batchNormStatsDtype`).
   */
  batchNormBackward(
    g: View,
    x: View,
    mean: View,
    invstd: View,
    weight: View | null,
    needInput: boolean,
    reluOut: View | null,
    wantMasked: boolean,
  ): BatchNormBackwardResult;
  /** sgdUpdate_ (ops/optim.ts): one SGD step in place over contiguous float operands of one shape. */
  sgdStep(param: View, grad: View, buf: View | null, o: SgdStepOptions): void;
  /**
   * adamUpdate_ (ops/optim.ts): one Adam/AdamW step in place over contiguous float operands of one
   * shape.
   */
  adamStep(t: AdamOperands, o: AdamStepOptions): void;
  /** ReLU's gradient from its output: 0 where out <= 0, else g (contiguous, same shape). */
  reluBackward(g: View, out: View): Storage;
  /**
   * In-place binary ops without a graph (ops/elementwise.ts): `dst = dst op b`, b already shaped like
   * dst and not sharing its storage. False where it does not apply.
   */
  binaryInto(op: BinaryOp, dst: View, b: View): boolean;
}

export type KernelName = keyof FastKernels;

/** Every kernel name, for listings and the conformance suite. */
export const KERNEL_NAMES: readonly KernelName[] = [
  'conv2dEpilogue',
  'conv2dStats',
  'batchNormForward',
  'batchNormBackward',
  'sgdStep',
  'adamStep',
  'reluBackward',
  'binaryInto',
];

/**
 * The dtype of the batch-norm kernels' statistics and weight/bias gradients for an input of `dtype`:
 * float32 for float16 (accumulated and kept in float32, cuDNN's save_mean / save_invstd), else `dtype`.
 */
export function batchNormStatsDtype(dtype: DType): DType {
  return dtype === 'float16' ? 'float32' : dtype;
}

/** The input dtypes a kernel takes when registered without a list. */
export const DEFAULT_KERNEL_DTYPES: readonly DType[] = ['float32', 'float64'];

interface Entry<K extends KernelName> {
  impl: FastKernels[K];
  dtypes: readonly DType[];
}

const registry = new WeakMap<Backend, { [K in KernelName]?: Entry<K> }>();

/**
 * Registers `impl` as `backend`'s kernel `name` (replacing an earlier one), for inputs of `dtypes`
 * (what `findKernel(backend, name, dtype)` asks; kernels refuse other cases themselves where their
 * signature lets them).
 */
export function registerKernel<K extends KernelName>(
  backend: Backend,
  name: K,
  impl: FastKernels[K],
  dtypes: readonly DType[] = DEFAULT_KERNEL_DTYPES,
): void {
  if (!KERNEL_NAMES.includes(name)) {
    throw new Error(`registerKernel: unknown kernel '${String(name)}' (known: ${KERNEL_NAMES.join(', ')})`);
  }
  let table = registry.get(backend);
  if (!table) {
    table = {};
    registry.set(backend, table);
  }
  // Tests take a kernel out by registering undefined: its entry goes too.
  (table as Record<K, Entry<K> | undefined>)[name] = impl === undefined ? undefined : { impl, dtypes };
}

/**
 * `backend`'s kernel `name` (for inputs of `dtype` when given), or undefined: the caller then runs the
 * op's composed fallback.
 */
export function findKernel<K extends KernelName>(
  backend: Backend,
  name: K,
  dtype?: DType,
): FastKernels[K] | undefined {
  const entry = registry.get(backend)?.[name] as Entry<K> | undefined;
  if (!entry || (dtype !== undefined && !entry.dtypes.includes(dtype))) return undefined;
  return entry.impl;
}

/** The input dtypes `backend`'s kernel `name` was registered for (empty when it has none). */
export function kernelDtypes(backend: Backend, name: KernelName): readonly DType[] {
  return registry.get(backend)?.[name]?.dtypes ?? [];
}

/** The kernel names `backend` registered. */
export function registeredKernels(backend: Backend): KernelName[] {
  const table = registry.get(backend);
  return table ? KERNEL_NAMES.filter((n) => table[n] !== undefined) : [];
}
