// The WebGPU backend: a table from the Backend interface to the kernel launchers (kernels/, grouped by
// family) over one runtime (runtime/: device, buffer pool, launch batching, readback). Kernels mirror
// the CPU backend's semantics (src/cpu/backend.ts).

import type {
  Backend,
  BinaryOp,
  Conv2dParams,
  Pool2dParams,
  ReduceOp,
  Storage,
  UnaryOp,
  View,
} from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import type { MemoryStats } from '../memory.js';
import { contiguousStrides, isContiguousLayout } from '../shape.js';
import { registerWebGpuKernels } from './fused.js';
import type { GPUDevice } from './gpu-types.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from './kernels/conv.js';
import { assign, binary, copy, fill, unary, where } from './kernels/elementwise.js';
import { matmul } from './kernels/gemm.js';
import { gather, indexAdd, indexSelect, scatterAdd, topk } from './kernels/indexing.js';
import {
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  maxPool2d,
  maxPool2dBackward,
} from './kernels/pooling.js';
import { reduce } from './kernels/reduce.js';
import { type GcPressure, GpuRuntime, WebGpuStorage } from './runtime/device.js';
import type { PoolStats } from './runtime/pool.js';
import { readback, upload } from './runtime/transfer.js';

export { WebGpuStorage };

/** The WebGPU implementation of every backend kernel. Create it with `initWebGpu()`. */
export class WebGpuBackend implements Backend {
  readonly device = 'webgpu' as const;
  private readonly rt: GpuRuntime;

  constructor(
    /** The GPUDevice every kernel runs on. */
    readonly gpuDevice: GPUDevice,
    /** What the adapter says about itself (vendor, architecture, device, description). */
    readonly adapterInfo: { vendor: string; architecture: string; device: string; description: string },
    /** Asks the JS engine for a collection when the pool has grown by `threshold` bytes (see initWebGpu). */
    pressure: GcPressure = { collect: null, threshold: 0 },
  ) {
    this.rt = new GpuRuntime(
      gpuDevice,
      pressure,
      `"${adapterInfo.description || adapterInfo.device || adapterInfo.vendor || 'unknown'}"`,
    );
    registerWebGpuKernels(this, this.rt);
  }

  /** Kernel dispatches recorded since the backend was created (for profiling). */
  get dispatches(): number {
    return this.rt.launcher.dispatches;
  }
  set dispatches(n: number) {
    this.rt.launcher.dispatches = n;
  }

  /**
   * Kernel launches and queue submits since the backend was created: take the difference around a
   * training step to see how many dispatches it records and how many command buffers it submits.
   */
  launchStats(): { launches: number; submits: number } {
    return { launches: this.rt.launcher.dispatches, submits: this.rt.launcher.submits };
  }

  /** The pool's byte counts (allocated, in use, free). */
  memory(): PoolStats {
    return this.rt.memory();
  }

  /** Live, pooled, peak and reserved bytes of this device's buffers (see `memoryStats`). */
  memoryStats(): MemoryStats {
    const m = this.rt.memory();
    return {
      live: m.inUseBytes,
      pooled: m.freeBytes,
      peak: m.peakInUseBytes,
      reserved: m.allocatedBytes,
      allocations: m.buffers,
      copiedBytes: 0,
    };
  }

  /** Whether this device holds float16 tensors (as f16; it was created with 'shader-f16'). */
  get shaderF16(): boolean {
    return this.rt.shaderF16;
  }

  /** Destroys the free buffers the pool keeps for reuse. */
  trimPool(): void {
    this.rt.trim();
  }

  /** Destroys the device; every webgpu tensor becomes unusable. */
  destroy(): void {
    this.rt.flush();
    this.gpuDevice.destroy();
  }

  /** Submits the batched work. */
  flush(): void {
    this.rt.flush();
  }

  // ---- storage and transfer ----

  alloc(dtype: DType, length: number): Storage {
    return fill(this.rt, dtype, length, 0);
  }
  fill(dtype: DType, length: number, value: number): Storage {
    return fill(this.rt, dtype, length, value);
  }
  fromArray(data: TypedArray, dtype: DType): Storage {
    return upload(this.rt, data, dtype);
  }
  async read(x: View): Promise<TypedArray> {
    this.rt.check();
    // Buffer copies start on 4-byte boundaries: a float16 view at an odd element is copied first.
    const aligned = x.dtype !== 'float16' || x.offset % 2 === 0;
    if (aligned && isContiguousLayout(x.shape, x.strides)) return readback(this.rt, x);
    const temp = copy(this.rt, x, x.dtype);
    // readback records its copy before it first awaits, so the temporary can go back to the pool now.
    const done = readback(this.rt, { ...x, storage: temp, strides: contiguousStrides(x.shape), offset: 0 });
    temp.dispose();
    return done;
  }
  readSync(_x: View): TypedArray {
    throw new Error(
      "webgpu tensors need `await t.read()` (or `await t.item()`, `await t.tolist()`, `await t.toAsync('cpu')`): " +
        'a GPU readback cannot be synchronous',
    );
  }

  // ---- elementwise and reductions ----

  copy(x: View, dtype: DType): Storage {
    return copy(this.rt, x, dtype);
  }
  assign(dst: View, src: View): void {
    assign(this.rt, dst, src);
  }
  unary(op: UnaryOp, x: View, outDtype: DType): Storage {
    return unary(this.rt, op, x, outDtype);
  }
  binary(op: BinaryOp, a: View, b: View, outDtype: DType): Storage {
    return binary(this.rt, op, a, b, outDtype);
  }
  where(cond: View, a: View, b: View, outDtype: DType): Storage {
    return where(this.rt, cond, a, b, outDtype);
  }
  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage {
    return reduce(this.rt, op, x, dims, outDtype);
  }

  // ---- matrix products and convolutions ----

  matmul(a: View, b: View, outDtype: DType): Storage {
    return matmul(this.rt, a, b, outDtype);
  }
  conv2d(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Storage {
    return conv2d(this.rt, x, weight, p, outShape);
  }
  conv2dBackwardInput(gradOut: View, weight: View, p: Conv2dParams, inputShape: readonly number[]): Storage {
    return conv2dBackwardInput(this.rt, gradOut, weight, p, inputShape);
  }
  conv2dBackwardWeight(x: View, gradOut: View, p: Conv2dParams, weightShape: readonly number[]): Storage {
    return conv2dBackwardWeight(this.rt, x, gradOut, p, weightShape);
  }

  // ---- pooling ----

  maxPool2d(
    x: View,
    p: Pool2dParams,
    outShape: readonly number[],
    _withIndices = true,
  ): { values: Storage; indices: Storage } {
    return maxPool2d(this.rt, x, p, outShape);
  }
  maxPool2dBackward(gradOut: View, indices: View, inputShape: readonly number[]): Storage {
    return maxPool2dBackward(this.rt, gradOut, indices, inputShape);
  }
  avgPool2d(x: View, p: Pool2dParams, outShape: readonly number[]): Storage {
    return avgPool2d(this.rt, x, p, outShape);
  }
  avgPool2dBackward(gradOut: View, p: Pool2dParams, inputShape: readonly number[]): Storage {
    return avgPool2dBackward(this.rt, gradOut, p, inputShape);
  }
  adaptiveAvgPool2d(x: View, outShape: readonly number[]): Storage {
    return adaptiveAvgPool2d(this.rt, x, outShape);
  }
  adaptiveAvgPool2dBackward(gradOut: View, inputShape: readonly number[]): Storage {
    return adaptiveAvgPool2dBackward(this.rt, gradOut, inputShape);
  }

  // ---- indexing ----

  gather(x: View, dim: number, index: View): Storage {
    return gather(this.rt, x, dim, index);
  }
  scatterAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    return scatterAdd(this.rt, shape, dim, index, src);
  }
  indexSelect(x: View, dim: number, index: View): Storage {
    return indexSelect(this.rt, x, dim, index);
  }
  indexAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    return indexAdd(this.rt, shape, dim, index, src);
  }
  topk(
    x: View,
    k: number,
    dim: number,
    largest: boolean,
    sorted: boolean,
  ): { values: Storage; indices: Storage } {
    void sorted; // always sorted, a valid answer for sorted=false too (as on the CPU)
    return topk(this.rt, x, k, dim, largest);
  }
}

export type { GpuClass } from './runtime/dtype.js';
