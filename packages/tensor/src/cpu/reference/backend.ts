// The reference CPU backend in plain TypeScript: correct first, the oracle the WebAssembly backend
// (cpu/wasm/backend.ts) is tested against. Its storage is shared with that backend (cpu/storage.ts).
// The class holds storage and copies; its kernels live by family beside it: elementwise.ts (unary,
// binary, where, reductions), linalg.ts (matmul, convolution), pool.ts, indexing.ts and fused.ts
// (batch norm, ReLU gradient, optimizer updates).

import type {
  AdamOperands,
  AdamStepOptions,
  Backend,
  BinaryOp,
  Conv2dParams,
  Pool2dParams,
  ReduceOp,
  SgdStepOptions,
  Storage,
  UnaryOp,
  View,
} from '../../backend.js';
import {
  castScalar,
  type DType,
  decodeBfloat16,
  decodeFloat16,
  float32ToBfloat16,
  float32ToFloat16,
  isFloating,
  storageArrayFor,
  type TypedArray,
} from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { numelOf } from '../../shape.js';
import { fastAssign, fastBinaryInto } from '../loops.js';
import { arr, CpuStorage, needsCast, numeric, offsets, output } from '../storage.js';
import { stridedOffsets } from '../strided.js';
import { yieldForFinalizers } from '../wasm/heap.js';
import { referenceBinary, referenceReduce, referenceUnary, referenceWhere } from './elementwise.js';
import {
  referenceAdamStep,
  referenceBatchNormBackward,
  referenceBatchNormForward,
  referenceReluBackward,
  referenceSgdStep,
} from './fused.js';
import {
  referenceGather,
  referenceIndexAdd,
  referenceIndexSelect,
  referenceScatterAdd,
  referenceTopk,
} from './indexing.js';
import {
  referenceConv2d,
  referenceConv2dBackwardInput,
  referenceConv2dBackwardWeight,
  referenceMatmul,
} from './linalg.js';
import {
  referenceAdaptiveAvgPool2d,
  referenceAdaptiveAvgPool2dBackward,
  referenceAvgPool2d,
  referenceAvgPool2dBackward,
  referenceMaxPool2d,
  referenceMaxPool2dBackward,
} from './pool.js';

/** The CPU backend in plain TypeScript loops: every op, any dtype, float64 accumulation where it matters. */
export class ReferenceCpuBackend implements Backend {
  readonly device = 'cpu' as const;
  readonly name: string = 'cpu-reference';

  constructor() {
    // The fused loops are this backend's named kernels: exact, and faster than their composed fallbacks.
    registerKernel(this, 'batchNormForward', (x, w, b, eps, r, relu) =>
      this.batchNormForward(x, w, b, eps, r, relu),
    );
    registerKernel(this, 'batchNormBackward', (g, x, m, is, w, ni, y, wm) =>
      this.batchNormBackward(g, x, m, is, w, ni, y, wm),
    );
    registerKernel(this, 'sgdStep', (p, g, b, o) => this.sgdStep(p, g, b, o));
    registerKernel(this, 'adamStep', (t, o) => this.adamStep(t, o));
    registerKernel(this, 'reluBackward', (g, out) => this.reluBackward(g, out));
    registerKernel(this, 'binaryInto', (op, dst, b) => this.binaryInto(op, dst, b));
  }

  /** A storage of this backend over `data` (ops dispatch on it). */
  protected store(data: TypedArray): CpuStorage {
    return new CpuStorage(data, this);
  }

  /**
   * An array for a new storage of `n` elements (JavaScript memory here; the heap in cpu-wasm): zeroed,
   * or with `zero` false, of unspecified contents for callers that write every element.
   */
  allocArray(dtype: DType, n: number, _zero = true): TypedArray {
    return storageArrayFor(dtype, n);
  }

  alloc(dtype: DType, length: number): Storage {
    return this.store(this.allocArray(dtype, length));
  }

  fill(dtype: DType, length: number, value: number): Storage {
    const a = this.allocArray(dtype, length, false);
    const v =
      dtype === 'float16'
        ? float32ToFloat16(value)
        : dtype === 'bfloat16'
          ? float32ToBfloat16(value)
          : castScalar(value, dtype);
    a.fill(v);
    return this.store(a);
  }

  fromArray(data: TypedArray): Storage {
    return this.store(data);
  }

  async read(x: View): Promise<TypedArray> {
    // An awaited readback is where finalizers get to return dropped tensors' heap blocks.
    await yieldForFinalizers();
    return this.readSync(x);
  }

  readSync(x: View): TypedArray {
    const a = arr(x);
    const n = numelOf(x.shape);
    const offs = stridedOffsets(x);
    if (!offs) return a.slice(x.offset, x.offset + n);
    const out = storageArrayFor(x.dtype, n);
    for (let i = 0; i < n; i++) out[i] = a[offs[i]];
    return out;
  }

  copy(x: View, dtype: DType): Storage {
    const n = numelOf(x.shape);
    if (dtype === x.dtype) {
      const out = this.allocArray(dtype, n, false);
      const a = arr(x);
      const offs = stridedOffsets(x);
      if (!offs) out.set(a.subarray(x.offset, x.offset + n));
      else for (let i = 0; i < n; i++) out[i] = a[offs[i]];
      return this.store(out);
    }
    const offs = stridedOffsets(x);
    if (dtype === 'float32' && (x.dtype === 'float16' || x.dtype === 'bfloat16') && !offs) {
      // Half-precision weights to float32 (loading a float16 checkpoint): decoded straight into the result.
      const out = this.allocArray('float32', n, false) as Float32Array;
      const half = (arr(x) as Uint16Array).subarray(x.offset, x.offset + n);
      (x.dtype === 'float16' ? decodeFloat16 : decodeBfloat16)(half, out);
      return this.store(out);
    }
    const src = numeric(x);
    const { out, finish } = output(this, dtype, n);
    const cast = needsCast(dtype) || !isFloating(dtype);
    for (let i = 0; i < n; i++) {
      const v = src[offs ? offs[i] : x.offset + i];
      out[i] = cast ? castScalar(v, dtype) : v;
    }
    return finish();
  }

  assign(dst: View, src: View): void {
    const d = arr(dst);
    if (fastAssign(dst, src, d, arr(src))) return;
    const s = numeric(src);
    const n = numelOf(dst.shape);
    const od = offsets(dst);
    const os = stridedOffsets(src);
    const enc =
      dst.dtype === 'float16' ? float32ToFloat16 : dst.dtype === 'bfloat16' ? float32ToBfloat16 : null;
    const cast = dst.dtype !== src.dtype && !isFloating(dst.dtype);
    for (let i = 0; i < n; i++) {
      const v = s[os ? os[i] : src.offset + i];
      d[od[i]] = enc ? enc(v) : cast ? castScalar(v, dst.dtype) : v;
    }
  }

  unary(op: UnaryOp, x: View, outDtype: DType): Storage {
    return referenceUnary(this, op, x, outDtype);
  }

  binary(op: BinaryOp, a: View, b: View, outDtype: DType): Storage {
    return referenceBinary(this, op, a, b, outDtype);
  }

  protected binaryInto(op: BinaryOp, dst: View, b: View): boolean {
    // An operand overlapping the destination could be read after it was written: take the safe path.
    if (b.storage === dst.storage) return false;
    return fastBinaryInto(op, dst, b, arr(dst), arr(b));
  }

  where(cond: View, a: View, b: View, outDtype: DType): Storage {
    return referenceWhere(this, cond, a, b, outDtype);
  }

  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage {
    return referenceReduce(this, op, x, dims, outDtype);
  }

  matmul(a: View, b: View, outDtype: DType): Storage {
    return referenceMatmul(this, a, b, outDtype);
  }

  conv2d(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Storage {
    return referenceConv2d(this, x, weight, p, outShape);
  }

  conv2dBackwardInput(gradOut: View, weight: View, p: Conv2dParams, inputShape: readonly number[]): Storage {
    return referenceConv2dBackwardInput(this, gradOut, weight, p, inputShape);
  }

  conv2dBackwardWeight(x: View, gradOut: View, p: Conv2dParams, weightShape: readonly number[]): Storage {
    return referenceConv2dBackwardWeight(this, x, gradOut, p, weightShape);
  }

  protected batchNormForward(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    residual: View | null = null,
    relu = false,
  ): { out: Storage; mean: Storage; variance: Storage; invstd: Storage } {
    return referenceBatchNormForward(this, x, weight, bias, eps, residual, relu);
  }

  protected batchNormBackward(
    g: View,
    x: View,
    mean: View,
    invstd: View,
    weight: View | null,
    needInput: boolean,
    reluOut: View | null = null,
    // The loop computes the masked gradient anyway; only the WebAssembly kernel skips it.
    _wantMasked = true,
  ): { gx: Storage | null; gw: Storage; gb: Storage; gm: Storage | null } {
    return referenceBatchNormBackward(this, g, x, mean, invstd, weight, needInput, reluOut);
  }

  protected sgdStep(param: View, grad: View, buf: View | null, o: SgdStepOptions): void {
    referenceSgdStep(param, grad, buf, o);
  }

  protected adamStep(t: AdamOperands, o: AdamStepOptions): void {
    referenceAdamStep(t, o);
  }

  protected reluBackward(g: View, out: View): Storage {
    return referenceReluBackward(this, g, out);
  }

  maxPool2d(
    x: View,
    p: Pool2dParams,
    outShape: readonly number[],
    // The loop records indices either way (cheap next to the comparisons).
    _withIndices = true,
  ): { values: Storage; indices: Storage | null } {
    return referenceMaxPool2d(this, x, p, outShape);
  }

  maxPool2dBackward(gradOut: View, indices: View, inputShape: readonly number[]): Storage {
    return referenceMaxPool2dBackward(this, gradOut, indices, inputShape);
  }

  avgPool2d(x: View, p: Pool2dParams, outShape: readonly number[]): Storage {
    return referenceAvgPool2d(this, x, p, outShape);
  }

  avgPool2dBackward(gradOut: View, p: Pool2dParams, inputShape: readonly number[]): Storage {
    return referenceAvgPool2dBackward(this, gradOut, p, inputShape);
  }

  adaptiveAvgPool2d(x: View, outShape: readonly number[]): Storage {
    return referenceAdaptiveAvgPool2d(this, x, outShape);
  }

  adaptiveAvgPool2dBackward(gradOut: View, inputShape: readonly number[]): Storage {
    return referenceAdaptiveAvgPool2dBackward(this, gradOut, inputShape);
  }

  gather(x: View, dim: number, index: View): Storage {
    return referenceGather(this, x, dim, index);
  }

  scatterAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    return referenceScatterAdd(this, shape, dim, index, src);
  }

  indexSelect(x: View, dim: number, index: View): Storage {
    return referenceIndexSelect(this, x, dim, index);
  }

  indexAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    return referenceIndexAdd(this, shape, dim, index, src);
  }

  topk(
    x: View,
    k: number,
    dim: number,
    largest: boolean,
    sorted: boolean,
  ): { values: Storage; indices: Storage } {
    return referenceTopk(this, x, k, dim, largest, sorted);
  }
}
