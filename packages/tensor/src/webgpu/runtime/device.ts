// The WebGPU runtime every kernel launcher works through: the device and its error state, tensor
// storages from a buffer pool (returned on dispose or by the FinalizationRegistry), and the launcher.

import type { Storage, View } from '../../backend.js';
import type { DType } from '../../dtype.js';
import { nextStorageSerial } from '../../serial.js';
import type { GPUBuffer, GPUDevice } from '../gpu-types.js';
import { elemBytes } from './dtype.js';
import { type Grid, Launcher } from './launch.js';
import type { Kernel, ParamField, ParamValues } from './params.js';
import { BufferPool, type PoolStats, USAGE } from './pool.js';

/** Returns a storage's buffer for reuse. */
interface StorageOwner {
  _releaseStorage(s: WebGpuStorage, buffer: GPUBuffer): void;
}

/** A tensor's storage on the GPU: a pooled buffer holding `length` elements (2 or 4 bytes each). */
export class WebGpuStorage implements Storage {
  readonly device = 'webgpu' as const;
  readonly serial = nextStorageSerial();
  /** @internal null once disposed. */
  _buffer: GPUBuffer | null;

  constructor(
    private readonly owner: StorageOwner,
    buffer: GPUBuffer,
    readonly length: number,
  ) {
    this._buffer = buffer;
  }

  /** Returns the buffer to the pool at once; views of this storage become invalid. */
  dispose(): void {
    if (!this._buffer) return;
    this.owner._releaseStorage(this, this._buffer);
    this._buffer = null;
  }
}

/** Asks the JS engine for a collection when the pool has handed out `threshold` bytes (see initWebGpu). */
export interface GcPressure {
  collect: (() => void) | null;
  threshold: number;
}

export class GpuRuntime implements StorageOwner {
  readonly pool: BufferPool;
  /** Mappable buffers readback copies into. */
  readonly staging: BufferPool;
  /** Kernels that find a bad index write its code here (atomicMax); readback reports it. */
  readonly errorFlag: GPUBuffer;
  readonly launcher: Launcher;
  private readonly registry: FinalizationRegistry<GPUBuffer>;
  private lost: string | null = null;
  private pendingError: string | null = null;
  /** Whether the device was created with 'shader-f16' (float16 tensors need it). */
  readonly shaderF16: boolean;

  constructor(
    readonly device: GPUDevice,
    pressure: GcPressure,
    /** The adapter, in words, for error messages. */
    readonly adapterName = 'this adapter',
  ) {
    this.shaderF16 = device.features.has('shader-f16');
    const fail = (m: string) => {
      this.pendingError ??= m;
    };
    this.pool = new BufferPool(device, USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST, fail, pressure);
    this.staging = new BufferPool(device, USAGE.MAP_READ | USAGE.COPY_DST, fail);
    this.registry = new FinalizationRegistry((buffer) => {
      if (!this.lost) this.pool.release(buffer);
    });
    this.errorFlag = device.createBuffer({
      size: 16,
      usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST,
    });
    this.launcher = new Launcher(device, fail);
    device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => fail(ev.error.message);
  }

  /** Throws when the device was lost or reported an error since the last check. */
  check(): void {
    if (this.lost !== null) {
      throw new Error(
        `webgpu: the GPU device was lost (${this.lost}); call initWebGpu() again and recreate your tensors`,
      );
    }
    if (this.pendingError !== null) {
      const m = this.pendingError;
      this.pendingError = null;
      throw new Error(`webgpu: ${m}`);
    }
  }

  /** Throws unless the device can hold `dtype` (float16 needs the 'shader-f16' feature). */
  requireDtype(dtype: DType): void {
    if (dtype === 'float16' && !this.shaderF16) {
      throw new Error(
        `webgpu: float16 tensors need the WebGPU feature 'shader-f16', which the device on adapter ${this.adapterName} ` +
          'was created without (the adapter does not offer it, or initWebGpu was called with { shaderF16: false }); ' +
          'use float32 here, or bfloat16 (stored as f32 on the GPU)',
      );
    }
  }

  /**
   * A storage of `length` elements of `dtype` (contents undefined) from the pool. Without a dtype it
   * sizes 4-byte elements, which holds any dtype.
   */
  newStorage(length: number, dtype?: DType): WebGpuStorage {
    if (dtype) this.requireDtype(dtype);
    const bytes = Math.max(length, 1) * (dtype ? elemBytes(dtype) : 4);
    const maxBinding = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > maxBinding) {
      throw new Error(
        `webgpu: a tensor of ${length} elements (${bytes} bytes) exceeds the device's maxStorageBufferBindingSize (${maxBinding} bytes)`,
      );
    }
    const buffer = this.pool.acquire(bytes);
    const s = new WebGpuStorage(this, buffer, length);
    this.registry.register(s, buffer, s);
    return s;
  }

  /** Returns a storage's buffer to the pool (called by `WebGpuStorage.dispose`). */
  _releaseStorage(s: WebGpuStorage, buffer: GPUBuffer): void {
    this.registry.unregister(s);
    if (!this.lost) this.pool.release(buffer);
  }

  /** The GPU buffer behind a view or storage; `op` names the caller in the error. */
  buffer(v: View | Storage, op: string): GPUBuffer {
    const s = ('storage' in v ? v.storage : v) as Storage;
    if (!(s instanceof WebGpuStorage))
      throw new Error(`${op}: expected a webgpu tensor, got one on '${s.device}'`);
    if (!s._buffer) throw new Error(`${op}: the tensor's webgpu storage was disposed`);
    return s._buffer;
  }

  launch<F extends readonly ParamField[]>(
    k: Kernel<F>,
    params: ParamValues<F>,
    buffers: readonly GPUBuffer[],
    grid: Grid,
  ): void {
    this.launcher.launch(k, params, buffers, grid);
  }

  /** Workgroups for one thread per element. */
  grid1(n: number): Grid {
    return this.launcher.grid1(n);
  }

  /** One workgroup per output element. */
  gridGroups(n: number): Grid {
    return this.launcher.gridGroups(n);
  }

  flush(): void {
    this.launcher.flush();
  }

  memory(): PoolStats {
    return this.pool.snapshot();
  }

  /** Destroys the free buffers both pools keep for reuse. */
  trim(): void {
    this.flush();
    this.pool.trim();
    this.staging.trim();
  }
}
