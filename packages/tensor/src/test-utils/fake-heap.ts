// A CPU heap over a plain ArrayBuffer memory, for testing the allocator without WebAssembly.

import { Heap } from '../cpu/wasm/heap.js';
import type { Kernels } from '../cpu/wasm/kernels.js';

/** A heap over a fake memory that cannot grow past `pages` (64 KiB each); `holdsTensors` as the real one's. */
export function fakeHeap(pages: number, holdsTensors = false): Heap {
  let buffer = new ArrayBuffer(2 * 65536);
  const memory = {
    get buffer() {
      return buffer;
    },
    grow(n: number): number {
      const old = buffer.byteLength / 65536;
      if (old + n > pages) throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      buffer = new ArrayBuffer((old + n) * 65536);
      return old;
    },
  };
  return new Heap(
    { memory, exports: {}, module: {}, shared: false, relaxed: false } as unknown as Kernels,
    holdsTensors,
  );
}
