// Named fast kernels a backend may register beside its required core (backend.ts). Each name has
// one fallback composed from core kernels, written next to the op that uses it (ops/nn.ts, ops/optim.ts,
// ops/elementwise.ts), so a backend that registers nothing still runs every op.

import type { Backend, BinaryOp, Conv2dParams, SgdStepOptions, Storage, View } from './backend.js';

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
   * batchNorm / fusedBatchNorm in training mode (ops/nn.ts) over dim 1 of contiguous x [N, C, ...]:
   * per-channel batch mean, biased variance, invstd = 1/sqrt(var + eps) and the normalised affine
   * output, plus `residual` (same shape) and then ReLU when asked.
   */
  batchNormForward(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    residual: View | null,
    relu: boolean,
  ): BatchNormForwardResult;
  /**
   * The gradients of `batchNormForward` (gx only when `needInput`); all operands contiguous. With
   * `reluOut` (the fused ReLU's output), g is masked first and, when `wantMasked`, returned as `gm`.
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
  'batchNormForward',
  'batchNormBackward',
  'sgdStep',
  'reluBackward',
  'binaryInto',
];

const registry = new WeakMap<Backend, Partial<FastKernels>>();

/** Registers `impl` as `backend`'s kernel `name` (replacing an earlier one). */
export function registerKernel<K extends KernelName>(backend: Backend, name: K, impl: FastKernels[K]): void {
  if (!KERNEL_NAMES.includes(name)) {
    throw new Error(`registerKernel: unknown kernel '${String(name)}' (known: ${KERNEL_NAMES.join(', ')})`);
  }
  let table = registry.get(backend);
  if (!table) {
    table = {};
    registry.set(backend, table);
  }
  table[name] = impl;
}

/** `backend`'s kernel `name`, or undefined: the caller then runs the op's composed fallback. */
export function findKernel<K extends KernelName>(backend: Backend, name: K): FastKernels[K] | undefined {
  return registry.get(backend)?.[name];
}

/** The kernel names `backend` registered. */
export function registeredKernels(backend: Backend): KernelName[] {
  const table = registry.get(backend);
  return table ? KERNEL_NAMES.filter((n) => table[n] !== undefined) : [];
}
