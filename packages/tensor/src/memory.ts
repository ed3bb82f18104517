// memoryStats(): live, pooled and peak bytes of a device's tensor memory, one shape for every device.

import { type Device, getBackend } from './backend.js';
import { cpuHeap } from './cpu/wasm/heap.js';

/** Live, pooled and peak bytes of one device's tensor memory. */
export interface MemoryStats {
  /** Bytes held by live tensors (and in-flight kernel scratch). */
  live: number;
  /** Bytes freed and kept for reuse. */
  pooled: number;
  /** The most `live` has been. */
  peak: number;
  /** Bytes the device has reserved from the system (WebAssembly memory size, GPU buffers). */
  reserved: number;
  /** Number of live allocations (CPU heap blocks, GPU buffers including pooled ones). */
  allocations: number;
  /** Bytes kernels copied between JavaScript arrays and WebAssembly memory (CPU only; 0 elsewhere). */
  copiedBytes: number;
}

const EMPTY: MemoryStats = { live: 0, pooled: 0, peak: 0, reserved: 0, allocations: 0, copiedBytes: 0 };

/**
 * Live, pooled and peak bytes of a device's tensor memory. On the CPU this is the WebAssembly heap
 * where float32 tensors live (other dtypes are JavaScript arrays and not counted), plus the bytes
 * kernels copied between JavaScript and WebAssembly; on WebGPU, the buffer pool.
 */
export function memoryStats(device: Device = 'cpu'): MemoryStats {
  if (device === 'cpu') return cpuHeap()?.stats() ?? { ...EMPTY };
  const b = getBackend(device) as { memoryStats?: () => MemoryStats };
  if (!b.memoryStats) throw new Error(`memoryStats: the ${device} backend reports no memory statistics`);
  return b.memoryStats();
}
