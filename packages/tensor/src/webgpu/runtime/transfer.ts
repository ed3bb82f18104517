// Host <-> GPU transfers: uploads through the queue, and readback through a mapped staging buffer
// that also carries the kernel error flag, so a bad index found on the GPU surfaces at the next read.

import type { View } from '../../backend.js';
import type { DType, TypedArray } from '../../dtype.js';
import { numelOf } from '../../shape.js';
import type { GpuRuntime, WebGpuStorage } from './device.js';
import { elemBytes, fromGpuBytes, toGpuArray } from './dtype.js';

/** Codes kernels write into the device-side error flag (checked at the next readback). */
export const KERNEL_ERRORS: Record<number, string> = {
  1: 'gather: index out of bounds',
  2: 'scatterAdd: index out of bounds',
  3: 'indexSelect: index out of bounds',
  4: 'indexAdd: index out of bounds',
};

/** A new storage holding `data` (in the dtype's storage format). */
export function upload(rt: GpuRuntime, data: TypedArray, dtype: DType): WebGpuStorage {
  rt.check();
  rt.requireDtype(dtype);
  const gpu = toGpuArray(data, dtype);
  const s = rt.newStorage(data.length, dtype);
  if (gpu.length > 0) {
    // Pending kernels may still use this pooled buffer: submit them before the queue write.
    rt.flush();
    rt.device.queue.writeBuffer(s._buffer!, 0, gpu.buffer, gpu.byteOffset, gpu.byteLength);
  }
  return s;
}

/**
 * The elements of contiguous view `x`, in its dtype's storage format. Records the copy and submits
 * before its first await, so the caller may release `x`'s storage as soon as this returns a promise.
 * Buffer copies move whole 4-byte words: a 2-byte dtype starts at an even element (the caller copies
 * other views first) and its byte count is rounded up, which stays inside the pooled buffer.
 */
export async function readback(rt: GpuRuntime, x: View): Promise<TypedArray> {
  const n = numelOf(x.shape);
  const size = elemBytes(x.dtype);
  const bytes = Math.ceil((n * size) / 4) * 4;
  const src = rt.buffer(x, 'read');
  if ((x.offset * size) % 4 !== 0) throw new Error('internal: readback of a view not aligned to 4 bytes');
  const staging = rt.staging.acquire(bytes + 16);
  const enc = rt.launcher.commandEncoder();
  if (n > 0) enc.copyBufferToBuffer(src, x.offset * size, staging, 0, bytes);
  enc.copyBufferToBuffer(rt.errorFlag, 0, staging, bytes, 16);
  enc.clearBuffer(rt.errorFlag);
  rt.flush();
  try {
    await staging.mapAsync(1, 0, bytes + 16);
  } catch (e) {
    rt.check();
    throw new Error(`webgpu: readback failed: ${(e as Error).message}`);
  }
  const copy = staging.getMappedRange(0, bytes + 16).slice(0);
  staging.unmap();
  rt.staging.release(staging);
  rt.check();
  const flag = new Uint32Array(copy, bytes, 1)[0];
  if (flag !== 0) {
    throw new Error(
      `webgpu: ${KERNEL_ERRORS[flag] ?? `kernel error ${flag}`} (detected on the GPU by an earlier op; reported at this readback)`,
    );
  }
  return fromGpuBytes(copy, x.dtype, n);
}
