// The CPU heap: float32 tensors live in WebAssembly memory, kernels read and write them in place,
// dispose() and the collector return blocks, and memory stays flat over a training loop.

import { describe, expect, it } from 'vitest';
import { noGrad } from '../../autograd.js';
import type { Backend } from '../../backend.js';
import { randint, randn, zeros } from '../../creation.js';
import { memoryStats } from '../../memory.js';
import { batchNorm, conv2d, crossEntropy, maxPool2d } from '../../ops/nn.js';
import { manualSeed } from '../../random.js';
import type { Tensor } from '../../tensor.js';
import { on, reference, wasm } from '../../test-utils/backends.js';
import { relErr } from '../../test-utils/compare.js';
import { fakeHeap } from '../../test-utils/fake-heap.js';
import type { CpuStorage } from '../storage.js';
import { cpuHeap, type Heap, setCpuHeapLimit, sizeClass } from './heap.js';

const heap = cpuHeap();

describe('block sizes', () => {
  it("round up to 64 bytes, the kernels' alignment", () => {
    expect(sizeClass(1)).toBe(64);
    expect(sizeClass(65)).toBe(128);
    expect(sizeClass(65536)).toBe(65536);
    expect(sizeClass(65537)).toBe(65536 + 64);
    expect(sizeClass(4e6)).toBe(4e6);
  });
});

describe('the allocator (a heap over a plain memory)', () => {
  const KB = 1024;

  it('reuses a freed block exactly, and splits a larger one, keeping the rest free', () => {
    const h = fakeHeap(64);
    const a = h.alloc(64 * KB);
    const b = h.alloc(64 * KB);
    h.release(a);
    expect(h.alloc(64 * KB)).toBe(a);
    h.release(b);
    const c = h.alloc(16 * KB);
    expect(c).toBe(b);
    // The other 48 KiB of b's block are still free: a second request fits there, no growth.
    const reserved = h.reserved;
    expect(h.alloc(48 * KB)).toBe(b + 16 * KB);
    expect(h.reserved).toBe(reserved);
    expect(h.stats().pooled).toBe(0);
  });

  it('merges a freed block with free neighbours on both sides, so a bigger request fits without growth', () => {
    const h = fakeHeap(64);
    const [a, b, c] = [h.alloc(32 * KB), h.alloc(32 * KB), h.alloc(32 * KB)];
    h.alloc(KB); // keeps c off the top of the heap
    const reserved = h.reserved;
    h.release(a);
    h.release(c);
    h.release(b);
    expect(h.stats().pooled).toBe(96 * KB);
    expect(h.alloc(96 * KB)).toBe(a);
    expect(h.reserved).toBe(reserved);
  });

  /** Free blocks of `first` and then `second` bytes, in that address order, freed second first. */
  function twoHoles(h: Heap, first: number, second: number): [number, number] {
    const a = h.alloc(first);
    h.alloc(KB); // keeps the holes apart
    const b = h.alloc(second);
    h.alloc(KB); // keeps the second off the top of the heap
    h.release(b);
    h.release(a);
    return [a, b];
  }

  it('takes the smallest free block that fits (best fit), whatever the order they were freed in', () => {
    const h = fakeHeap(64);
    const [, small] = twoHoles(h, 80 * KB, 24 * KB);
    expect(h.alloc(20 * KB)).toBe(small);
  });

  it('places blocks of 4 MiB and up at the top of the highest free block that fits, smaller ones best-fit low', () => {
    const MB = 1024 * KB;
    const h = fakeHeap(64 * 1024);
    const [low, high] = twoHoles(h, 12 * MB, 12 * MB);
    // A big block: the higher hole, its top end; the rest of that hole stays free below it.
    const big = h.alloc(8 * MB);
    expect(big).toBe(high + 4 * MB);
    expect(h.alloc(4 * MB)).toBe(high);
    // A small block: still the smallest hole that fits, from its bottom.
    expect(h.alloc(3 * MB)).toBe(low);
  });

  it('extends a free block that ends at the top instead of leaving it behind', () => {
    const h = fakeHeap(64);
    h.alloc(KB);
    const last = h.alloc(16 * KB);
    h.release(last);
    expect(h.alloc(40 * KB)).toBe(last);
    expect(h.stats().live).toBe(41 * KB);
    expect(h.stats().pooled).toBe(0);
  });
});

describe.runIf(heap?.holdsTensors)('float32 tensors in WebAssembly memory', () => {
  const h = heap as Heap;

  it('a float32 tensor is a view of the kernels memory; dispose() returns its block for reuse', () => {
    const before = memoryStats();
    const t = zeros(1000, 1000);
    const data = (t._ref.storage as CpuStorage).data;
    expect(h.owns(data)).toBe(true);
    const during = memoryStats();
    expect(during.live - before.live).toBe(sizeClass(4e6));
    t.dispose();
    const after = memoryStats();
    expect(after.live).toBe(before.live);
    expect(after.pooled - before.pooled).toBe(sizeClass(4e6));
    const again = zeros(1000, 1000);
    expect((again._ref.storage as CpuStorage).data.byteOffset).toBe(data.byteOffset);
    expect(memoryStats().reserved).toBe(after.reserved);
    again.dispose();
  });

  it('other dtypes stay JavaScript arrays', () => {
    const t = zeros([4], { dtype: 'int64' });
    expect(h.owns((t._ref.storage as CpuStorage).data)).toBe(false);
  });

  it('convolution, matmul, batch norm and max pool forward and backward copy nothing in or out', () => {
    manualSeed(1);
    const x = randn(4, 16, 12, 12).requiresGrad_();
    const w = randn(32, 16, 3, 3).requiresGrad_();
    const w2 = randn(8, 32, 1, 1).requiresGrad_();
    const lin = randn(8 * 6 * 6, 10).requiresGrad_();
    const before = memoryStats().copiedBytes;
    const y = conv2d(x, w, null, { padding: 1 }).relu();
    const z = maxPool2d(conv2d(y, w2, null), 2).flatten(1);
    const loss = crossEntropy(z.matmul(lin), randint(0, 10, [4]));
    loss.backward();
    expect(memoryStats().copiedBytes - before).toBe(0);
    expect(x.grad?.shape).toEqual([4, 16, 12, 12]);
  });

  it('past the heap limit new tensors spill to JavaScript arrays, and every kernel still computes the same', () => {
    manualSeed(2);
    const x0 = randn(2, 16, 14, 14);
    const w0 = randn(32, 16, 3, 3);
    const step = (b: Backend) => {
      const x = on(b, x0).requiresGrad_();
      const w = on(b, w0).requiresGrad_();
      const y = batchNorm(conv2d(x, w, null, { padding: 1 }), null, null, null, null, { training: true });
      const z = maxPool2d(y.relu(), 2);
      z.square().sum().backward();
      return [z, x.grad as Tensor, w.grad as Tensor].map((t) => t.readSync() as Float32Array);
    };
    const ref = step(reference);
    const before = setCpuHeapLimit(0);
    const copied = memoryStats().copiedBytes;
    let spilled: Float32Array[];
    try {
      spilled = step(wasm);
      expect(h.owns((zeros(4)._ref.storage as CpuStorage).data)).toBe(false);
    } finally {
      setCpuHeapLimit(before);
    }
    expect(memoryStats().copiedBytes).toBeGreaterThan(copied);
    for (const [i, r] of ref.entries()) expect(relErr(spilled[i], r)).toBeLessThan(1e-5);
  });

  it('holds steady over 1,000 training steps of a small CNN that reads its loss each step', async () => {
    manualSeed(0);
    const w1 = randn(8, 1, 3, 3).mul(0.3).requiresGrad_();
    const w2 = randn(8 * 7 * 7, 10)
      .mul(0.05)
      .requiresGrad_();
    const x = randn(16, 1, 14, 14);
    const target = randint(0, 10, [16]);
    const reservedAt: number[] = [];
    let first = 0;
    let last = 0;
    for (let step = 0; step < 1000; step++) {
      const h1 = maxPool2d(conv2d(x, w1, null, { padding: 1 }).relu(), 2).flatten(1);
      const loss = crossEntropy(h1.matmul(w2), target);
      w1.grad = null;
      w2.grad = null;
      loss.backward();
      const [g1, g2] = [w1.grad, w2.grad] as unknown as [Tensor, Tensor];
      noGrad(() => {
        w1.sub_(g1.mul(0.05));
        w2.sub_(g2.mul(0.05));
      });
      const value = await loss.item();
      if (step === 0) first = value;
      last = value;
      if (step % 100 === 99) reservedAt.push(memoryStats().reserved);
    }
    expect(last).toBeLessThan(first);
    // The heap reaches its working size early and stops growing: the last 500 steps reserve nothing new
    // beyond what steps 1-500 did (allowing some slack for where the collector happens to free blocks).
    const mid = reservedAt[4];
    expect(reservedAt[9]).toBeLessThanOrEqual(mid * 1.25 + 4 * 65536);
    // Without reclamation the loop would hold every step's tensors, about 1 GB by step 1,000.
    expect(reservedAt[9]).toBeLessThan(256 * 1024 * 1024);
  }, 120_000);
});

describe('out of memory', () => {
  it('a block past 4 GiB is refused with the sizes and what to do, before any growth', () => {
    const h = fakeHeap(100);
    expect(() => h.alloc(5 * 1024 ** 3)).toThrow(
      /cannot allocate 5120\.0 MiB in WebAssembly memory: 0\.0 MiB is held by live tensors, 0\.0 MiB is pooled.*4096 MiB.*Dispose tensors/,
    );
  });

  it('a failed grow becomes the same error, and the heap stays usable', () => {
    const h = fakeHeap(4);
    const a = h.alloc(65536);
    expect(() => h.alloc(10 * 65536)).toThrow(/cannot allocate 0\.6 MiB.*0\.1 MiB is held by live tensors/);
    h.release(a);
    expect(h.alloc(65536)).toBe(a);
  });
});
