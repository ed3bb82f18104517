// The CPU backend on WebAssembly SIMD kernels (on the worker pool where there is one): GEMM, im2col and
// Winograd convolutions, batch norm, max pooling and the fused conv epilogue over float32 tensors that
// live in the kernels' heap. Everything else, and every other dtype, runs the reference loops it extends.

import type {
  AdamOperands,
  AdamStepOptions,
  BinaryOp,
  Conv2dParams,
  Pool2dParams,
  ReduceOp,
  SgdStepOptions,
  Storage,
  UnaryOp,
  View,
} from '../../backend.js';
import type { DType, TypedArray } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { numelOf } from '../../shape.js';
import { batchDims } from '../norm.js';
import { ReferenceCpuBackend } from '../reference/backend.js';
import { arr, CpuStorage } from '../storage.js';
import {
  type ConvEpilogue,
  forwardPath,
  type WeightMatrix,
  wasmConv2d,
  wasmConv2dBackwardInput,
  wasmConv2dBackwardWeight,
} from './conv.js';
import {
  copyKeptTaps,
  cropTaps,
  denseView,
  keptTaps,
  scatterKeptTaps,
  type TapCrop,
  wasmCopyKeptTaps,
  wasmScatterKeptTaps,
} from './conv-taps.js';
import {
  heapBinary,
  heapRun,
  UNARY_CODES,
  wasmAdamStep,
  wasmBinary,
  wasmReduce,
  wasmRelu,
  wasmReluBackward,
  wasmSgdStep,
  wasmUnary,
} from './elementwise.js';
import { wasmGemm } from './gemm.js';
import { cpuHeap } from './heap.js';
import { wasmKernels } from './kernels.js';
import { wasmBatchNormBackward, wasmBatchNormForward } from './norm.js';
import { wasmMaxPool2d, wasmMaxPool2dBackward, wasmMeanPlanes, wasmMeanPlanesBackward } from './pool.js';
import { useWinograd, winogradConv2d, winogradConv2dBackwardInput } from './winograd.js';
import { useWinogradS2, winogradS2Conv2d } from './winograd-s2.js';
import { useWinogradWeight, winogradConv2dBackwardWeight } from './winograd-weight.js';

/** Products (and per-call convolution work) with at least this many multiply-adds go to WebAssembly. */
export const WASM_MIN_WORK = 64 * 64 * 64;

/**
 * Output positions per plane from which a convolution computes batch-norm statistics for the batch norm
 * that follows (conv2dStats). Below it, batch norm's own pass over a plane costs no more than the
 * statistics' bookkeeping (a record per plane, merged per channel): conv + training batch norm forward
 * at batch 16-20 on 2 threads, separate processes alternating, was 3-56% slower with them on 7x7 and
 * smaller maps (56% on 1x1 maps), about even at 14x14, and 1-10% faster from 16x16 up (ResNet-18's stem
 * at 32x32 input and every layer at 224 but layer4).
 */
export const STATS_MIN_P = 128;

/** Options of a {@link WasmCpuBackend}. */
export interface WasmCpuBackendOptions {
  /** Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions (default true); false uses im2col + GEMM. */
  winograd?: boolean;
}

const f32 = (...vs: (View | null)[]) => vs.every((v) => !v || v.dtype === 'float32');

/** The default CPU backend where WebAssembly SIMD runs: see the file comment. */
export class WasmCpuBackend extends ReferenceCpuBackend {
  override readonly name: string = 'cpu-wasm';
  readonly winograd: boolean;

  constructor(opts: WasmCpuBackendOptions = {}) {
    super();
    if (!wasmKernels()) throw new Error('WasmCpuBackend: WebAssembly SIMD is not available here');
    this.winograd = opts.winograd ?? true;
    registerKernel(this, 'conv2dEpilogue', (x, w, p, outShape, ep) => {
      if (!f32(x, w, ep.scale, ep.shift, ep.residual) || !useWasmConv(w.shape, outShape)) return null;
      const vec = (v: View | null) => (v ? (arr(v) as Float32Array).subarray(v.offset) : null);
      return this.forward(x, w, p, outShape, {
        scale: vec(ep.scale),
        shift: vec(ep.shift),
        residual: ep.residual ? (arr(ep.residual) as Float32Array) : null,
        residualOffset: ep.residual?.offset ?? 0,
        relu: ep.relu,
      });
    });
    registerKernel(this, 'conv2dStats', (x, w, p, outShape) => {
      // Every WebAssembly path but the pointwise one computes them (forward); null there (batch norm's
      // own pass costs what one here would, conv.ts), for small planes (STATS_MIN_P) and where no
      // WebAssembly kernel runs.
      if (!f32(x, w) || outShape[2] * outShape[3] < STATS_MIN_P) return null;
      const crop = cropTaps(w.shape, p, x.shape, outShape);
      if (forwardPath(x.shape, crop ? crop.shape : w.shape, crop ? crop.p : p, outShape) === 'pointwise')
        return null;
      const [N, O, OH, OW] = outShape;
      const planes = new Float64Array(3 * N * O);
      const out = this.forward(x, w, p, outShape, null, undefined, planes);
      return out && { out, stats: { N, C: O, S: OH * OW, planes } };
    });
    registerKernel(this, 'batchNormForward', (x, weight, bias, eps, residual, relu, stats) => {
      const [N, C, S] = batchDims(x.shape);
      const planes = stats && stats.N === N && stats.C === C && stats.S === S ? stats.planes : null;
      const vec = (v: View | null) => v && (arr(v) as Float32Array).subarray(v.offset, v.offset + C);
      const r = f32(x, weight, bias, residual)
        ? wasmBatchNormForward(
            arr(x) as Float32Array,
            x.offset,
            N,
            C,
            S,
            vec(weight),
            vec(bias),
            eps,
            residual && (arr(residual) as Float32Array),
            residual?.offset ?? 0,
            relu,
            false,
            planes,
          )
        : null;
      if (!r) return this.batchNormForward(x, weight, bias, eps, residual, relu);
      const st = (a: Float32Array) => this.store(a);
      return { out: st(r.out), mean: st(r.mean), variance: st(r.variance), invstd: st(r.invstd) };
    });
    registerKernel(
      this,
      'batchNormBackward',
      (g, x, mean, invstd, weight, needInput, reluOut, wantMasked) => {
        const [N, C, S] = batchDims(x.shape);
        const vec = (v: View) => (arr(v) as Float32Array).subarray(v.offset, v.offset + C);
        const r = f32(g, x, mean, invstd, weight, reluOut)
          ? wasmBatchNormBackward(
              arr(g) as Float32Array,
              g.offset,
              arr(x) as Float32Array,
              x.offset,
              N,
              C,
              S,
              vec(mean),
              vec(invstd),
              weight && vec(weight),
              reluOut && (arr(reluOut) as Float32Array),
              reluOut?.offset ?? 0,
              needInput,
              wantMasked,
            )
          : null;
        if (!r) return this.batchNormBackward(g, x, mean, invstd, weight, needInput, reluOut, wantMasked);
        const st = (a: Float32Array | null) => a && this.store(a);
        return { gx: st(r.gx), gw: this.store(r.gw), gb: this.store(r.gb), gm: st(r.gm) };
      },
    );
  }

  /** float32 add/sub/mul/div/maximum/minimum/pow over contiguous runs in the heap: SIMD on the pool. */
  override binary(op: BinaryOp, a: View, b: View, outDtype: DType): Storage {
    const heap = cpuHeap();
    const k = outDtype === 'float32' ? heapBinary(heap, op, a, b) : null;
    if (heap && k) {
      const out = heap.float32(k.n, false);
      if (heap.owns(out)) {
        wasmBinary(heap.kernels, k.code, k.a, k.b, out.byteOffset, k.n, k.bStep);
        return this.store(out);
      }
    }
    return super.binary(op, a, b, outDtype);
  }

  /** float32 sum / max / min of a contiguous tensor in the heap: SIMD on the pool (see wasmReduce). */
  override reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage {
    const heap = outDtype === 'float32' ? cpuHeap() : null;
    const out = heap && wasmReduce(heap, op, x, dims);
    if (out) return this.store(out);
    return super.reduce(op, x, dims, outDtype);
  }

  /** float32 relu and the UNARY_CODES ops of a contiguous run in the heap: SIMD on the pool. */
  override unary(op: UnaryOp, x: View, outDtype: DType): Storage {
    const code = op === 'relu' ? -1 : UNARY_CODES[op];
    const heap = code !== undefined && outDtype === 'float32' ? cpuHeap() : null;
    const xp = heap && heapRun(heap, x);
    if (heap && xp) {
      const n = numelOf(x.shape);
      const out = heap.float32(n, false);
      if (heap.owns(out)) {
        if (code === -1) wasmRelu(heap.kernels, xp, out.byteOffset, n);
        else wasmUnary(heap.kernels, code!, xp, out.byteOffset, n);
        return this.store(out);
      }
    }
    return super.unary(op, x, outDtype);
  }

  /** ReLU's gradient from its output (both contiguous) for float32 in the heap: SIMD on the pool. */
  protected override reluBackward(g: View, out: View): Storage {
    const heap = cpuHeap();
    const gp = heap && heapRun(heap, g);
    const yp = heap && gp && heapRun(heap, out);
    if (heap && gp && yp) {
      const n = numelOf(g.shape);
      const gx = heap.float32(n, false);
      if (heap.owns(gx)) {
        wasmReluBackward(heap.kernels, gp, yp, gx.byteOffset, n);
        return this.store(gx);
      }
    }
    return super.reluBackward(g, out);
  }

  /** In-place float32 add/sub/mul/div (dst = dst op b) over contiguous runs in the heap, on the pool. */
  protected override binaryInto(op: BinaryOp, dst: View, b: View): boolean {
    const heap = cpuHeap();
    const k = b.storage !== dst.storage ? heapBinary(heap, op, dst, b) : null;
    if (!heap || !k) return super.binaryInto(op, dst, b);
    wasmBinary(heap.kernels, k.code, k.a, k.b, k.a, k.n, k.bStep);
    return true;
  }

  /** SGD in SIMD on the pool where the parameter, gradient and buffer live in the heap (in place there). */
  protected override sgdStep(param: View, grad: View, buf: View | null, o: SgdStepOptions): void {
    const heap = cpuHeap();
    const views = buf ? [param, grad, buf] : [param, grad];
    if (!heap || !f32(...views) || !views.every((v) => heap.owns(arr(v)))) {
      super.sgdStep(param, grad, buf, o);
      return;
    }
    const at = (v: View) => arr(v).byteOffset + v.offset * 4;
    let n = 1;
    for (const d of param.shape) n *= d;
    wasmSgdStep(heap.kernels, at(param), at(grad), buf ? at(buf) : 0, n, o);
  }

  /** Adam/AdamW in SIMD on the pool where every operand is float32 in the heap (in place there). */
  protected override adamStep(t: AdamOperands, o: AdamStepOptions): void {
    const { param, grad, expAvg, expAvgSq, maxExpAvgSq } = t;
    const heap = cpuHeap();
    const views = [param, grad, expAvg, expAvgSq, ...(maxExpAvgSq ? [maxExpAvgSq] : [])];
    if (!heap || !f32(...views) || !views.every((v) => heap.owns(arr(v)))) {
      super.adamStep(t, o);
      return;
    }
    const at = (v: View) => arr(v).byteOffset + v.offset * 4;
    const n = numelOf(param.shape);
    const vmax = maxExpAvgSq ? at(maxExpAvgSq) : 0;
    wasmAdamStep(heap.kernels, at(param), at(grad), at(expAvg), at(expAvgSq), vmax, n, o);
  }

  /** float32 arrays come from the WebAssembly heap (so kernels read them in place); others as in the reference. */
  override allocArray(dtype: DType, n: number, zero = true): TypedArray {
    if (dtype === 'float32') return cpuHeap()?.float32(n, zero) ?? new Float32Array(n);
    return super.allocArray(dtype, n, zero);
  }

  /** Float32 data goes into the heap once, here, so no kernel has to copy it later. */
  override fromArray(data: TypedArray): Storage {
    const heap = cpuHeap();
    if (heap?.owns(data)) {
      // A view of `hostBytes` (a file read into the heap): float32 is adopted in place; other dtypes
      // are copied out, as nothing would keep that block alive for them.
      if (data instanceof Float32Array && heap.adopt(data)) return this.store(data);
      if (!(data instanceof Float32Array) && heap.inHostBlock(data)) return this.store(data.slice());
      return this.store(data);
    }
    if (data instanceof Float32Array && heap?.holdsTensors) {
      const a = heap.float32(data.length, false);
      a.set(data);
      return this.store(a);
    }
    return this.store(data);
  }

  override matmul(a: View, b: View, outDtype: DType): Storage {
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    if (outDtype !== 'float32' || !f32(a, b) || M * N * K < WASM_MIN_WORK)
      return super.matmul(a, b, outDtype);
    const A = arr(a) as Float32Array;
    const Bm = arr(b) as Float32Array;
    const out = this.allocArray('float32', B * M * N) as Float32Array;
    for (let bi = 0; bi < B; bi++) {
      const aOff = a.offset + bi * a.strides[0];
      const bOff = b.offset + bi * b.strides[0];
      const ok = wasmGemm(
        M,
        N,
        K,
        A,
        aOff,
        a.strides[1],
        a.strides[2],
        Bm,
        bOff,
        b.strides[1],
        b.strides[2],
        out,
        bi * M * N,
        N,
        false,
      );
      if (!ok) return super.matmul(a, b, outDtype);
    }
    return this.store(out);
  }

  override conv2d(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Storage {
    return (
      (f32(x, weight) && this.forward(x, weight, p, outShape, null)) || super.conv2d(x, weight, p, outShape)
    );
  }

  override conv2dBackwardInput(
    gradOut: View,
    weight: View,
    p: Conv2dParams,
    inputShape: readonly number[],
  ): Storage {
    return (
      (f32(gradOut, weight) && this.backwardInput(gradOut, weight, p, inputShape)) ||
      super.conv2dBackwardInput(gradOut, weight, p, inputShape)
    );
  }

  /** The float32 input gradient in WebAssembly; null where it does not run (small products). */
  private backwardInput(
    gradOut: View,
    weight: View,
    p: Conv2dParams,
    inputShape: readonly number[],
    wm?: WeightMatrix,
  ): Storage | null {
    const crop = wm ? null : cropTaps(weight.shape, p, inputShape, gradOut.shape);
    const cropped =
      crop &&
      this.withKeptTaps(weight, crop, (w, m) => this.backwardInput(gradOut, w, crop.p, inputShape, m));
    if (cropped) return cropped;
    // gradInput = conv2d(gradOut, W rotated and channel-swapped, padding 2 - p): the forward Winograd path.
    const args = [arr(gradOut) as Float32Array, gradOut.offset] as const;
    const w = [arr(weight) as Float32Array, weight.offset, weight.shape, p, inputShape] as const;
    const r =
      !wm && this.winograd && useWinograd(weight.shape, p, gradOut.shape)
        ? winogradConv2dBackwardInput(...args, gradOut.shape, ...w)
        : useWasmConv(weight.shape, gradOut.shape)
          ? wasmConv2dBackwardInput(...args, ...w, gradOut.shape, wm)
          : null;
    return r ? this.store(r) : null;
  }

  override conv2dBackwardWeight(
    x: View,
    gradOut: View,
    p: Conv2dParams,
    weightShape: readonly number[],
  ): Storage {
    const crop = f32(x, gradOut) ? cropTaps(weightShape, p, x.shape, gradOut.shape) : null;
    if (crop) {
      // The kept taps' gradient, written into a zero gradient of the full kernel.
      const kept = this.conv2dBackwardWeight(x, gradOut, crop.p, crop.shape);
      const keptData = (kept as CpuStorage).data as Float32Array;
      const [, , kh, kw] = crop.shape;
      let full = wasmScatterKeptTaps(keptData, 0, weightShape, crop.kh0, kh, crop.kw0, kw);
      if (!full) {
        full = this.allocArray('float32', numelOf(weightShape), false) as Float32Array;
        scatterKeptTaps(keptData, crop, weightShape, full);
      }
      kept.dispose();
      return this.store(full);
    }
    if (f32(x, gradOut)) {
      const conv =
        this.winograd && useWinogradWeight(weightShape, p, gradOut.shape)
          ? winogradConv2dBackwardWeight
          : useWasmConv(weightShape, gradOut.shape)
            ? wasmConv2dBackwardWeight
            : null;
      const r = conv?.(
        arr(x) as Float32Array,
        x.offset,
        x.shape,
        arr(gradOut) as Float32Array,
        gradOut.offset,
        gradOut.shape,
        p,
        weightShape,
      );
      if (r) return this.store(r);
    }
    return super.conv2dBackwardWeight(x, gradOut, p, weightShape);
  }

  override maxPool2d(
    x: View,
    p: Pool2dParams,
    outShape: readonly number[],
    withIndices = true,
  ): { values: Storage; indices: Storage | null } {
    if (x.dtype === 'float32') {
      const [N, C, H, W] = x.shape;
      const r = wasmMaxPool2d(
        arr(x) as Float32Array,
        x.offset,
        N * C,
        H,
        W,
        outShape[2],
        outShape[3],
        p,
        withIndices,
      );
      if (r) return { values: this.store(r.values), indices: r.indices && this.store(r.indices) };
    }
    return super.maxPool2d(x, p, outShape, withIndices);
  }

  /** Global average pooling (output 1x1) of float32: WebAssembly on the pool, by plane. */
  override adaptiveAvgPool2d(x: View, outShape: readonly number[]): Storage {
    const [N, C, H, W] = x.shape;
    if (x.dtype === 'float32' && outShape[2] === 1 && outShape[3] === 1 && N * C * H * W > 0) {
      const r = wasmMeanPlanes(arr(x) as Float32Array, x.offset, N * C, H * W);
      if (r) return this.store(r);
    }
    return super.adaptiveAvgPool2d(x, outShape);
  }

  override adaptiveAvgPool2dBackward(gradOut: View, inputShape: readonly number[]): Storage {
    const [N, C, H, W] = inputShape;
    const [, , OH, OW] = gradOut.shape;
    if (gradOut.dtype === 'float32' && OH === 1 && OW === 1 && N * C * H * W > 0) {
      const r = wasmMeanPlanesBackward(arr(gradOut) as Float32Array, gradOut.offset, N * C, H * W);
      if (r) return this.store(r);
    }
    return super.adaptiveAvgPool2dBackward(gradOut, inputShape);
  }

  /** float32 gradients with float64 (int64) indices, both contiguous: WebAssembly on the pool, by plane. */
  override maxPool2dBackward(gradOut: View, indices: View, inputShape: readonly number[]): Storage {
    const I = arr(indices);
    if (gradOut.dtype === 'float32' && I instanceof Float64Array) {
      const [N, C, H, W] = inputShape;
      const [, , OH, OW] = gradOut.shape;
      const r = wasmMaxPool2dBackward(
        arr(gradOut) as Float32Array,
        gradOut.offset,
        I,
        indices.offset,
        N * C,
        H * W,
        OH * OW,
      );
      if (r) return this.store(r);
    }
    return super.maxPool2dBackward(gradOut, indices, inputShape);
  }

  /**
   * A float32 forward convolution (with an optional epilogue): Winograd where it applies, im2col
   * otherwise; null where neither runs (small products). With `stats` (3 N O float64, no epilogue),
   * every path also fills each output plane's batch-norm statistics (PlaneStats).
   */
  private forward(
    x: View,
    weight: View,
    p: Conv2dParams,
    outShape: readonly number[],
    ep: ConvEpilogue | null,
    wm?: WeightMatrix,
    stats: Float64Array | null = null,
  ): Storage | null {
    const crop = wm ? null : cropTaps(weight.shape, p, x.shape, outShape);
    const cropped =
      crop && this.withKeptTaps(weight, crop, (w, m) => this.forward(x, w, crop.p, outShape, ep, m, stats));
    if (cropped) return cropped;
    const w = [arr(weight) as Float32Array, weight.offset, weight.shape, p, outShape, ep] as const;
    const args = [arr(x) as Float32Array, x.offset, x.shape] as const;
    const r =
      !wm && this.winograd && useWinograd(weight.shape, p, outShape)
        ? winogradConv2d(...args, ...w, stats)
        : !wm && this.winograd && useWinogradS2(weight.shape, p, outShape)
          ? winogradS2Conv2d(...args, ...w, stats)
          : useWasmConv(weight.shape, outShape)
            ? wasmConv2d(...args, ...w, wm, stats)
            : null;
    return r ? this.store(r) : null;
  }

  /**
   * Runs `fn` on the kept taps of `weight` (see conv-taps.ts): one tap is viewed in place as a strided
   * [O, Cg] matrix (`m`); more are copied to a contiguous block, freed after.
   */
  private withKeptTaps<T>(weight: View, crop: TapCrop, fn: (w: View, m?: WeightMatrix) => T): T {
    if (crop.shape[2] * crop.shape[3] === 1)
      return fn(keptTaps(weight, crop), { row: weight.strides[0], col: weight.strides[1] });
    const base = weight.offset + crop.kh0 * weight.strides[2] + crop.kw0 * weight.strides[3];
    let kept = weight.strides.every((st) => st >= 0)
      ? wasmCopyKeptTaps(arr(weight) as Float32Array, base, weight.strides, crop.shape)
      : null;
    if (!kept) {
      kept = this.allocArray('float32', numelOf(crop.shape), false) as Float32Array;
      copyKeptTaps(weight, arr(weight) as Float32Array, crop, kept);
    }
    const copy = this.store(kept);
    try {
      return fn(denseView({ storage: copy, dtype: 'float32' }, crop.shape));
    } finally {
      copy.dispose();
    }
  }
}

/** Per-call GEMM work large enough for the WebAssembly kernels. */
function useWasmConv(weightShape: readonly number[], outShape: readonly number[]): boolean {
  const [O, Cg, KH, KW] = weightShape;
  return O * Cg * KH * KW * outShape[0] * outShape[2] * outShape[3] >= WASM_MIN_WORK;
}

export { CpuStorage };
