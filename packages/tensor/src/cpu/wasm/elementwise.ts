// Elementwise float32 arithmetic in WebAssembly SIMD on the thread pool, for operands that are one
// contiguous run each (same shape, or a broadcast scalar): `a + b`, `grad.add_(g)`, `x.pow(2)`,
// `clamp`, optimizer updates composed from tensor ops. Other layouts take the reference backend's loops.

import type { AdamStepOptions, BinaryOp, ReduceOp, SgdStepOptions, UnaryOp, View } from '../../backend.js';
import { isContiguousLayout, numelOf } from '../../shape.js';
import { rowPlan } from '../loops.js';
import { arr } from '../storage.js';
import { type Heap, withFrame } from './heap.js';
import type { wasmKernels } from './kernels.js';
import { getNumThreads, parallelCalls } from './threads.js';

type K = NonNullable<ReturnType<typeof wasmKernels>>;

/**
 * Kernel codes of the ops `binaryF32` runs (assembly/elementwise.ts): IEEE float32 arithmetic for the
 * first six, pow in float64 rounded once with C's special cases, as the reference loops.
 */
export const BINARY_CODES: Partial<Record<BinaryOp, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  pow: 6,
};

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
  parallelCalls(
    k,
    'binaryF32',
    rangeTasks(n, (i0, i1) => [code, a, b, out, i0, i1, bStep]),
  );
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

/**
 * Kernel codes of the float32 unary ops `unaryF32` runs (assembly/unary.ts): exact for the first nine,
 * float64 arithmetic rounded once for the rest (rsqrt, exp, log, sigmoid, tanh, erf, both GELUs,
 * expm1, log1p, exp2, log2, sinh, cosh, atan, sin, cos, tan, asin, acos), as the reference loops.
 */
export const UNARY_CODES: Partial<Record<UnaryOp, number>> = {
  neg: 0,
  abs: 1,
  square: 2,
  sqrt: 3,
  reciprocal: 4,
  floor: 5,
  ceil: 6,
  round: 7,
  sign: 8,
  rsqrt: 9,
  exp: 10,
  log: 11,
  sigmoid: 12,
  tanh: 13,
  geluTanh: 14,
  erf: 15,
  gelu: 16,
  expm1: 17,
  log1p: 18,
  exp2: 19,
  log2: 20,
  sinh: 21,
  cosh: 22,
  atan: 23,
  sin: 24,
  cos: 25,
  tan: 26,
  asin: 27,
  acos: 28,
};

/** out = op(x) over `n` floats at heap byte addresses (op a UNARY_CODES code), split over the pool. */
export function wasmUnary(k: K, code: number, x: number, out: number, n: number): void {
  parallelCalls(
    k,
    'unaryF32',
    rangeTasks(n, (i0, i1) => [code, x, out, i0, i1]),
  );
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
 * One SGD step in place over `n` float32s at heap byte addresses p (parameter), g (gradient) and buf
 * (momentum buffer, 0 for none), in SIMD on the pool.
 */
export function wasmSgdStep(k: K, p: number, g: number, buf: number, n: number, o: SgdStepOptions): void {
  const flags = [o.nesterov ? 1 : 0, o.maximize ? 1 : 0, o.weightDecay, o.first ? 1 : 0];
  parallelCalls(
    k,
    'sgdStep',
    rangeTasks(n, (i0, i1) => [p, g, buf, i0, i1, o.lr, o.momentum, o.dampening, ...flags]),
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

/** Kernel codes of the reductions `reduceF32` runs (assembly/elementwise.ts). */
const REDUCE_CODES: Partial<Record<ReduceOp, number>> = { sum: 0, max: 1, min: 2 };

/** Floats per task of a reduction to one value: fixed, so any thread count adds the same partial sums. */
const FULL_CHUNK = 1 << 16;

/**
 * A contiguous float32 `x` reduced over `dims`, seen as the kernel's [A, R1, K, R2] (reduced R1 and R2,
 * kept A and K): the reduced and kept dims, size-1 dims left out, must form at most three runs with
 * the reduced ones not both outside (`[K, R]`, `[R, K]`, `[K, R, K]`, `[R, K, R]`). Null otherwise.
 */
export function reduceGeometry(
  shape: readonly number[],
  dims: readonly number[],
): { A: number; R1: number; K: number; R2: number } | null {
  const runs: { size: number; reduced: boolean }[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const reduced = dims.includes(d);
    const last = runs[runs.length - 1];
    if (last && last.reduced === reduced) last.size *= size;
    else runs.push({ size, reduced });
  });
  const pattern = runs.map((r) => (r.reduced ? 'R' : 'K')).join('');
  const [a, b, c] = runs.map((r) => r.size);
  switch (pattern) {
    case 'R':
      return { A: 1, R1: 1, K: 1, R2: a };
    case 'KR':
      return { A: 1, R1: 1, K: a, R2: b };
    case 'RK':
      return { A: 1, R1: a, K: b, R2: 1 };
    case 'KRK':
      return { A: a, R1: b, K: c, R2: 1 };
    case 'RKR':
      return { A: 1, R1: a, K: b, R2: c };
    default:
      return null;
  }
}

/**
 * sum / max / min of a contiguous float32 `x` in the heap over `dims` into a new float32 block, in
 * SIMD on the pool; null where it does not apply (other ops, layouts, or fewer than MIN_ELEMENTWISE
 * elements). Tasks split the outputs (each output is one task's, in a fixed
 * order) or, for a reduction to one value, fixed chunks whose float64 partial sums are added in order,
 * so any thread count gives the same bits.
 */
export function wasmReduce(heap: Heap, op: ReduceOp, x: View, dims: readonly number[]): Float32Array | null {
  const code = REDUCE_CODES[op];
  const n = numelOf(x.shape);
  if (code === undefined || x.dtype !== 'float32' || n < MIN_ELEMENTWISE || !heap.owns(arr(x))) return null;
  if (!isContiguousLayout(x.shape, x.strides)) return null;
  const g = reduceGeometry(x.shape, dims);
  if (!g) return null;
  const result = heap.float32(g.A * g.K, false);
  if (!heap.owns(result)) return null;
  const out = result.byteOffset;
  const xp = arr(x).byteOffset + x.offset * 4;
  const { A, R1, K, R2 } = g;
  const k = heap.kernels;
  if (A * K === 1) {
    const ok = withFrame((f) => {
      const chunks = Math.ceil(n / FULL_CHUNK);
      const [pp] = f.region([2 * chunks]);
      const tasks: number[][] = [];
      for (let c = 0; c < chunks; c++) {
        const len = Math.min(FULL_CHUNK, n - c * FULL_CHUNK);
        const at = xp + c * FULL_CHUNK * 4;
        // Sums go to float64 partials; max/min to float32 ones (exact either way).
        tasks.push([code, at, 1, 1, len, 0, 1, 0, 1, pp + c * (code === 0 ? 8 : 4), code === 0 ? 1 : 0]);
      }
      parallelCalls(k, 'reduceF32', tasks);
      const mem = k.memory.buffer;
      const parts = code === 0 ? new Float64Array(mem, pp, chunks) : new Float32Array(mem, pp, chunks);
      let acc = parts[0];
      for (let c = 1; c < chunks; c++) {
        const v = parts[c];
        if (code === 0) acc += v;
        else if (v !== v || acc !== acc) acc = Number.NaN;
        else acc = code === 1 ? Math.max(acc, v) : Math.min(acc, v);
      }
      result[0] = acc;
      return true;
    });
    if (ok) return result;
    heap.dispose(result);
    return null;
  }
  const want = 4 * getNumThreads();
  const tasks: number[][] = [];
  if (A >= want || K < 8) {
    const step = Math.max(1, Math.ceil(A / want));
    for (let a0 = 0; a0 < A; a0 += step)
      tasks.push([code, xp, R1, K, R2, a0, Math.min(A, a0 + step), 0, K, out, 0]);
  } else {
    const step = Math.max(4, Math.ceil(K / Math.ceil(want / A) / 4) * 4);
    for (let a = 0; a < A; a++)
      for (let k0 = 0; k0 < K; k0 += step)
        tasks.push([code, xp, R1, K, R2, a, a + 1, k0, Math.min(K, k0 + step), out, 0]);
  }
  parallelCalls(k, 'reduceF32', tasks);
  return result;
}
