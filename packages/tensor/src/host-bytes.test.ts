// hostBytes: a file read into CPU tensor memory becomes float32 tensors in place, and the memory is freed
// once the bytes and every tensor made from them are gone.

import { describe, expect, it } from 'vitest';
import { cpuHeap, Heap } from './cpu/wasm/heap.js';
import type { Kernels } from './cpu/wasm/kernels.js';
import { fromTypedArray } from './creation.js';
import { hostBytes } from './raw-view.js';
import { fakeHeap } from './test-utils/fake-heap.js';

describe('host blocks', () => {
  it('lend float32 views to tensors and are released after the last reference, in any order', () => {
    for (const order of [
      ['bytes', 'a', 'b'],
      ['a', 'bytes', 'b'],
      ['b', 'a', 'bytes'],
    ]) {
      const h = fakeHeap(64, true);
      const bytes = h.hostBytes(4096) as Uint8Array;
      expect(h.stats().live).toBe(4096);
      const a = new Float32Array(bytes.buffer, bytes.byteOffset + 64, 16);
      const b = new Float32Array(bytes.buffer, bytes.byteOffset + 1024, 16);
      expect(h.adopt(a)).toBe(true);
      expect(h.adopt(b)).toBe(true);
      // Adopted once only; a view past the block's end, or of another block, is not adopted.
      expect(h.adopt(a)).toBe(false);
      expect(h.adopt(new Float32Array(bytes.buffer, bytes.byteOffset + 4096 - 8, 4))).toBe(false);
      const other = h.float32(16);
      expect(h.adopt(other)).toBe(false);
      const refs = { bytes, a, b } as Record<string, ArrayBufferView>;
      for (const [i, name] of order.entries()) {
        const v = refs[name];
        if (v instanceof Float32Array) h.dispose(v);
        else h.dropHostView(v);
        // The block (and only it) goes with the last reference; `other` stays.
        expect(h.stats().live, `${order.join(',')}: after ${name}`).toBe(i < 2 ? 4096 + 64 : 64);
      }
      // Released once: a second drop changes nothing.
      h.dispose(a);
      h.dropHostView(bytes);
      expect(h.stats().live).toBe(64);
    }
  });

  it('is null where tensors cannot live in the heap, and hostBytes is then a plain array', () => {
    const h = new Heap(
      { memory: { buffer: new ArrayBuffer(65536) }, exports: {}, shared: false } as unknown as Kernels,
      false,
    );
    expect(h.hostBytes(64)).toBeNull();
    expect(hostBytes(0)).toBeInstanceOf(Uint8Array);
    expect(() => hostBytes(-1)).toThrow(
      /hostBytes: expected a byte count \(a non-negative integer\), got -1/,
    );
    expect(() => hostBytes(1.5)).toThrow(/got 1.5/);
  });
});

describe.runIf(cpuHeap()?.holdsTensors)('hostBytes in the CPU heap', () => {
  it('makes float32 tensors in place and copies other dtypes, then frees the memory', () => {
    const heap = cpuHeap() as Heap;
    const before = heap.stats().live;
    const bytes = hostBytes(256);
    expect(heap.stats().live).toBe(before + 256);
    const f = new Float32Array(bytes.buffer, bytes.byteOffset, 8);
    f.set([1, -2, 3.5, 4, 5, 6, 7, 8]);
    const i = new Float64Array(bytes.buffer, bytes.byteOffset + 64, 2);
    i.set([7, 9]);
    const tf = fromTypedArray(f, [2, 4]);
    const ti = fromTypedArray(i, [2], 'int64');
    // No new block for the float32 tensor: it is the bytes; the int64 one is a copy outside the heap.
    expect(heap.stats().live).toBe(before + 256);
    f[0] = 10;
    i[0] = 70;
    expect(Array.from(tf.readSync() as Float32Array)).toEqual([10, -2, 3.5, 4, 5, 6, 7, 8]);
    expect(Array.from(ti.readSync() as ArrayLike<number>, Number)).toEqual([7, 9]);
    heap.dropHostView(bytes);
    expect(heap.stats().live).toBe(before + 256);
    tf.dispose();
    expect(heap.stats().live).toBe(before);
    ti.dispose();
  });
});
