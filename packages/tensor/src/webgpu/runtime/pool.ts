// A size-bucketed pool of GPU buffers: released buffers wait in a free list per bucket and are
// handed out again before any new buffer is created, so a steady training loop stops allocating.

import type { GPUBuffer, GPUDevice } from '../gpu-types.js';

/** Buffer usage flags (numeric, so the code does not depend on the GPUBufferUsage global). */
export const USAGE = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  STORAGE: 0x0080,
} as const;

/** Byte counts the pool reports; `allocatedBytes` is what the GPU holds for it. */
export interface PoolStats {
  /** Bytes of all live GPU buffers the pool created (in use plus free). */
  allocatedBytes: number;
  /** Bytes of buffers handed out and not yet released. */
  inUseBytes: number;
  /** Bytes of released buffers waiting for reuse. */
  freeBytes: number;
  /** Number of live GPU buffers. */
  buffers: number;
  /** Buffers created since the start (a steady loop stops increasing it). */
  created: number;
  /** The most `inUseBytes` has been. */
  peakInUseBytes: number;
}

/**
 * Rounds a byte size up to its bucket: powers of two split into quarters above 4 KiB (at most 25%
 * slack), whole powers of two below.
 */
export function bucketSize(bytes: number): number {
  const b = Math.max(bytes, 16);
  const p = 2 ** Math.ceil(Math.log2(b));
  if (p <= 4096) return p;
  const step = p / 8;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private stats: PoolStats = {
    allocatedBytes: 0,
    inUseBytes: 0,
    freeBytes: 0,
    buffers: 0,
    created: 0,
    peakInUseBytes: 0,
  };

  /** Bytes handed out (new or reused) since the last collection request: garbage to come. */
  private acquiredSinceCollect = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    /** Called with a creation's error (out of memory) once the GPU reports it. */
    private readonly onError: (message: string) => void,
    /**
     * Forgotten tensors return their buffers only when the JS engine collects them, which it does
     * for its own heap's sake. Whenever `threshold` bytes were handed out since the last request,
     * `collect` (e.g. Node's `gc` under --expose-gc) is asked to run.
     */
    private readonly pressure: { collect: (() => void) | null; threshold: number } = {
      collect: null,
      threshold: 0,
    },
  ) {}

  /** A buffer of at least `bytes` bytes (its size is the bucket size). */
  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const reused = this.takeFree(size);
    this.acquiredSinceCollect += size;
    // Ask on a fixed budget of handed-out bytes, before the pool runs dry: the buffers come back
    // only once the current task yields, so waiting for a miss would make the pool grow each time.
    if (this.pressure.collect && this.acquiredSinceCollect > this.pressure.threshold) {
      this.acquiredSinceCollect = 0;
      this.pressure.collect();
    }
    if (reused) {
      this.stats.freeBytes -= reused.size;
      this.stats.inUseBytes += reused.size;
      this.stats.peakInUseBytes = Math.max(this.stats.peakInUseBytes, this.stats.inUseBytes);
      return reused;
    }
    const max = this.device.limits.maxBufferSize;
    if (size > max) {
      throw new Error(`webgpu: cannot allocate ${bytes} bytes: the device's maxBufferSize is ${max} bytes`);
    }
    this.device.pushErrorScope('out-of-memory');
    const buffer = this.device.createBuffer({ size, usage: this.usage });
    this.device.popErrorScope().then(
      (err) => {
        if (err)
          this.onError(
            `out of GPU memory allocating ${size} bytes (${err.message}); pool holds ${this.stats.allocatedBytes} bytes`,
          );
      },
      () => {},
    );
    this.stats.allocatedBytes += size;
    this.stats.inUseBytes += size;
    this.stats.peakInUseBytes = Math.max(this.stats.peakInUseBytes, this.stats.inUseBytes);
    this.stats.buffers++;
    this.stats.created++;
    return buffer;
  }

  /**
   * A free buffer of bucket `size`, or else of the smallest larger bucket up to twice the size: which
   * buckets the garbage of a step lands in varies with when the collector ran, so exact-size reuse
   * alone would keep creating buffers while others sit free.
   */
  private takeFree(size: number): GPUBuffer | undefined {
    const exact = this.free.get(size)?.pop();
    if (exact) return exact;
    let best = 0;
    for (const [s, list] of this.free) {
      if (s > size && s <= 2 * size && list.length > 0 && (best === 0 || s < best)) best = s;
    }
    return best ? this.free.get(best)!.pop() : undefined;
  }

  /** Returns a buffer for reuse. Safe at once: later work is queued after earlier work that used it. */
  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(buffer);
    this.stats.inUseBytes -= size;
    this.stats.freeBytes += size;
  }

  /** Destroys every free buffer (memory goes back to the GPU). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.allocatedBytes -= b.size;
        this.stats.freeBytes -= b.size;
        this.stats.buffers--;
        b.destroy();
      }
    }
    this.free.clear();
  }

  snapshot(): PoolStats {
    return { ...this.stats };
  }
}
