// Elementwise float32 arithmetic in WebAssembly SIMD on the thread pool, for operands that are one
// contiguous run each (same shape, or a broadcast scalar): `a + b`, `grad.add_(g)`, optimizer updates
// composed from tensor ops. Other layouts take the reference backend's loops.

import type { AdamStepOptions, BinaryOp, View } from '../../backend.js';
import { numelOf } from '../../shape.js';
import { rowPlan } from '../loops.js';
import { arr } from '../storage.js';
import type { Heap } from './heap.js';
import type { wasmKernels } from './kernels.js';
import { getNumThreads, parallelCalls } from './threads.js';

type K = NonNullable<ReturnType<typeof wasmKernels>>;

/** Kernel codes of the ops `binaryF32` runs (assembly/gemm.ts). */
export const BINARY_CODES: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

/** Below this many elements the JavaScript loop is as fast as a kernel call. */
export const MIN_ELEMENTWISE = 1 << 14;

/** Where `a` is one contiguous run and `b` one too (bStep 1) or a single value (bStep 0): element offsets. */
export function contiguousRun(a: View, b: View): { ia: number; ib: number; bStep: number } | null {
  const p = rowPlan(a.shape, [a.strides, b.strides], [a.offset, b.offset]);
  if (p.rows !== 1 || (p.len > 1 && p.steps[0] !== 1)) return null;
  const bStep = p.len > 1 ? p.steps[1] : 1;
  if (bStep !== 0 && bStep !== 1) return null;
  return { ia: p.bases[0][0], ib: p.bases[1][0], bStep };
}

/** A float32 op the SIMD kernel runs: its code, element count and operands' heap byte addresses. */
export interface HeapBinary {
  code: number;
  n: number;
  a: number;
  b: number;
  bStep: number;
}

/**
 * Where `a op b` can run on `binaryF32`: a known op, float32 operands living in `heap`, at least
 * MIN_ELEMENTWISE elements, each operand one contiguous run (or `b` a single value). Null otherwise.
 */
export function heapBinary(heap: Heap | null, op: BinaryOp, a: View, b: View): HeapBinary | null {
  const code = BINARY_CODES[op];
  const n = numelOf(a.shape);
  if (code === undefined || !heap || a.dtype !== 'float32' || b.dtype !== 'float32' || n < MIN_ELEMENTWISE)
    return null;
  const run = contiguousRun(a, b);
  if (!run || !heap.owns(arr(a)) || !heap.owns(arr(b))) return null;
  const at = (v: View, i: number) => arr(v).byteOffset + i * 4;
  return { code, n, a: at(a, run.ia), b: at(b, run.ib), bStep: run.bStep };
}

/** out = a op b over `n` floats at heap byte addresses (out may equal a), split over the pool. */
export function wasmBinary(
  k: K,
  code: number,
  a: number,
  b: number,
  out: number,
  n: number,
  bStep: number,
): void {
  const chunk = Math.max(1 << 14, Math.ceil(n / (4 * getNumThreads()) / 16) * 16);
  const tasks: number[][] = [];
  for (let i0 = 0; i0 < n; i0 += chunk) tasks.push([code, a, b, out, i0, Math.min(n, i0 + chunk), bStep]);
  parallelCalls(k, 'binaryF32', tasks);
}

/** Range tasks [i0, i1) over `n` elements for the pool: chunks of at least 64 KiB, a few per thread. */
function rangeTasks(n: number, build: (i0: number, i1: number) => number[]): number[][] {
  const chunk = Math.max(1 << 14, Math.ceil(n / (4 * getNumThreads()) / 16) * 16);
  const tasks: number[][] = [];
  for (let i0 = 0; i0 < n; i0 += chunk) tasks.push(build(i0, Math.min(n, i0 + chunk)));
  return tasks;
}

/**
 * The heap byte address of float32 `v`'s data where it is one contiguous run living in `heap` with
 * at least MIN_ELEMENTWISE elements; null otherwise.
 */
export function heapRun(heap: Heap, v: View): number | null {
  if (v.dtype !== 'float32' || numelOf(v.shape) < MIN_ELEMENTWISE || !heap.owns(arr(v))) return null;
  const p = rowPlan(v.shape, [v.strides], [v.offset]);
  if (p.rows !== 1 || (p.len > 1 && p.steps[0] !== 1)) return null;
  return arr(v).byteOffset + p.bases[0][0] * 4;
}

/** out = relu(x) over `n` floats at heap byte addresses, split over the pool. */
export function wasmRelu(k: K, x: number, out: number, n: number): void {
  parallelCalls(
    k,
    'reluF32',
    rangeTasks(n, (i0, i1) => [x, out, i0, i1]),
  );
}

/** out = y <= 0 ? 0 : g (ReLU's backward from its output) over `n` floats at heap byte addresses. */
export function wasmReluBackward(k: K, g: number, y: number, out: number, n: number): void {
  parallelCalls(
    k,
    'reluBackwardF32',
    rangeTasks(n, (i0, i1) => [g, y, out, i0, i1]),
  );
}

/**
 * One Adam/AdamW step in place over `n` float32s at heap byte addresses (vmax 0: no AMSGrad), in
 * SIMD on the pool; the scalars are PyTorch's, rounded to float32 where the kernel takes them.
 */
export function wasmAdamStep(
  k: K,
  p: number,
  g: number,
  m: number,
  v: number,
  vmax: number,
  n: number,
  o: AdamStepOptions,
): void {
  const flags = (o.maximize ? 1 : 0) | (o.decoupled ? 2 : 0) | (!o.decoupled && o.weightDecay !== 0 ? 4 : 0);
  const scalars = [
    1 - o.lr * o.weightDecay,
    o.weightDecay,
    o.beta1,
    1 - o.beta1,
    o.beta2,
    1 - o.beta2,
    o.biasCorrection2Sqrt,
    o.eps,
    -o.stepSize,
    flags,
  ];
  parallelCalls(
    k,
    'adamStep',
    rangeTasks(n, (i0, i1) => [p, g, m, v, vmax, i0, i1, ...scalars]),
  );
}
