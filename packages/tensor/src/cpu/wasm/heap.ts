// The CPU backend's memory: one WebAssembly memory that holds float32 tensors and the kernels'
// scratch, carved up by a best-fit allocator that splits free blocks and merges freed ones with free
// neighbours (64-byte granules). Kernels take pointers into it, so a tensor that lives here is never
// copied in or out of WebAssembly for a kernel call.
//
// Tensors live here only where the memory is shared (Node, cross-origin-isolated pages): growing a
// shared memory leaves existing views valid, while growing an unshared one detaches every view, which
// would break the typed arrays the TypeScript loops hold. Elsewhere the memory is scratch only and
// kernels copy their operands (`memoryStats().copiedBytes` counts those copies).

import type { MemoryStats } from '../../memory.js';
import { Ballast } from './ballast.js';
import { type Kernels, wasmKernels } from './kernels.js';

/** Bytes of WebAssembly memory in a page. */
const PAGE = 65536;
/** 32-bit WebAssembly memory tops out at 65536 pages. */
const MAX_BYTES = 4 * 1024 * 1024 * 1024;
/** Page 0 stays unused, so 0 is never a valid pointer (kernels read 0 as "no operand"). */
const HEAP_BASE = PAGE;
/** Blocks from this size (4 MiB) are placed high in the heap, smaller ones low (see `alloc`). */
const BIG_BLOCK = 4 * 1024 * 1024;
/** Default for `Heap.limit`: 1.5 GiB, under 32-bit WebAssembly's 4 GiB with room for scratch. */
const DEFAULT_LIMIT = 1.5 * 1024 * 1024 * 1024;

/** The first index of ascending `a` whose value is at least `v`. */
function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rounds a request up to the allocator's granule: 64 bytes (the kernels' alignment). */
export function sizeClass(bytes: number): number {
  return Math.max(64, Math.ceil(bytes / 64) * 64);
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

export class Heap {
  private top = HEAP_BASE;
  /** Free blocks: by start (-> size), by end (-> start), and in per-size bins (LIFO) for best fit. */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEndAt = new Map<number, number>();
  private readonly bins = new Map<number, number[]>();
  /** The sizes that have a non-empty bin, ascending. */
  private readonly binSizes: number[] = [];
  private readonly sizes = new Map<number, number>();
  /** Buffer objects of this memory (a shared memory hands out a new one after each grow). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private view: Float32Array;
  live = 0;
  /** Bytes of tensors the heap may hold before new ones spill to JavaScript arrays. */
  limit = DEFAULT_LIMIT;
  pooled = 0;
  peak = 0;
  copiedBytes = 0;
  private readonly registry = new FinalizationRegistry<number>((ptr) => this.release(ptr));
  /** Paces the collector by the blocks only it can free (ballast.ts). */
  readonly ballast = new Ballast();
  /**
   * Host blocks (`hostBytes`): start -> [end, references]. The byte view and every float32 view
   * adopted from it hold one reference; the block is released when the last goes.
   */
  private readonly hostBlocks = new Map<number, [number, number]>();
  /** Adopted views and host byte views -> their block's start. */
  private readonly hostOf = new WeakMap<ArrayBufferView, number>();
  private readonly hostRegistry = new FinalizationRegistry<number>((ptr) => this.unrefHost(ptr));

  constructor(
    readonly kernels: Kernels,
    /** Whether tensors may live here (shared memory only; see the file comment). */
    readonly holdsTensors: boolean,
  ) {
    this.view = this.refresh();
  }

  private refresh(): Float32Array {
    const buf = this.kernels.memory.buffer;
    this.buffers.add(buf);
    this.view = new Float32Array(buf);
    return this.view;
  }

  /** The whole memory as float32, current after any growth. */
  f32(): Float32Array {
    return this.view.buffer === this.kernels.memory.buffer && this.view.length > 0
      ? this.view
      : this.refresh();
  }

  /** True when `a` is a view of this memory (so a kernel can take its pointer). */
  owns(a: ArrayBufferView): boolean {
    return this.buffers.has(a.buffer);
  }

  get reserved(): number {
    return this.kernels.memory.buffer.byteLength;
  }

  /**
   * A 64-byte aligned block of at least `bytes` (its size class); throws with the sizes when 4 GiB would
   * not hold it. Best fit over the free blocks, split when larger (the rest stays free); else the end
   * of the heap, extending a free block that ends there.
   */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    let ptr: number;
    const big = size >= BIG_BLOCK;
    const fit = big ? this.highestFit(size) : this.bestFit(size);
    if (fit !== undefined) {
      const have = this.takeFree(fit);
      // A big block takes the top of its free block, a small one the bottom, so big blocks gather
      // towards the heap's top and leave holes that later big ones fit.
      ptr = big ? fit + have - size : fit;
      if (have > size) this.putFree(big ? fit : ptr + size, have - size);
      this.pooled -= size;
    } else {
      // A free block that ends at the top is the start of the new block: grow by the difference only.
      const last = this.freeEndAt.get(this.top);
      ptr = last ?? this.top;
      if (last !== undefined) this.pooled -= this.takeFree(last);
      const end = ptr + size;
      const have = this.kernels.memory.buffer.byteLength;
      // Keep 64 bytes of slack past the last block: kernels may over-read a vector past their operand.
      if (end + 64 > have) {
        if (end + 64 > MAX_BYTES || !this.grow(Math.ceil((end + 64 - have) / PAGE))) {
          if (last !== undefined) {
            this.putFree(last, this.top - last);
            this.pooled += this.top - last;
          }
          throw this.outOfMemory(bytes);
        }
      }
      this.top = Math.max(this.top, end);
    }
    this.sizes.set(ptr, size);
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    return ptr;
  }

  private grow(pages: number): boolean {
    try {
      this.kernels.memory.grow(pages);
      return true;
    } catch {
      return false;
    }
  }

  /** The start of the highest free block of at least `size` bytes, or undefined. */
  private highestFit(size: number): number | undefined {
    let best: number | undefined;
    for (let i = lowerBound(this.binSizes, size); i < this.binSizes.length; i++)
      for (const p of this.bins.get(this.binSizes[i]) as number[])
        if (best === undefined || p > best) best = p;
    return best;
  }

  /** The start of the smallest free block of at least `size` bytes, or undefined. */
  private bestFit(size: number): number | undefined {
    const at = lowerBound(this.binSizes, size);
    if (at === this.binSizes.length) return undefined;
    const bin = this.bins.get(this.binSizes[at]) as number[];
    return bin[bin.length - 1];
  }

  /** Records the free block [ptr, ptr + size). */
  private putFree(ptr: number, size: number): void {
    this.freeAt.set(ptr, size);
    this.freeEndAt.set(ptr + size, ptr);
    let bin = this.bins.get(size);
    if (!bin) {
      bin = [];
      this.bins.set(size, bin);
    }
    if (bin.length === 0) this.binSizes.splice(lowerBound(this.binSizes, size), 0, size);
    bin.push(ptr);
  }

  /** Removes the free block starting at `ptr` from the free structures; returns its size. */
  private takeFree(ptr: number): number {
    const size = this.freeAt.get(ptr) as number;
    this.freeAt.delete(ptr);
    this.freeEndAt.delete(ptr + size);
    const bin = this.bins.get(size) as number[];
    const at = bin.lastIndexOf(ptr);
    bin[at] = bin[bin.length - 1];
    bin.pop();
    if (bin.length === 0) this.binSizes.splice(lowerBound(this.binSizes, size), 1);
    return size;
  }

  private outOfMemory(bytes: number): Error {
    return new RangeError(
      `graft CPU: cannot allocate ${mib(bytes)} in WebAssembly memory: ${mib(this.live)} is held by live tensors, ` +
        `${mib(this.pooled)} is pooled in other sizes, and 32-bit WebAssembly memory tops out at 4096 MiB. ` +
        'Dispose tensors you no longer need (t.dispose(), or `using`), use a smaller batch, or use the WebGPU device.',
    );
  }

  /**
   * Returns a block to the free blocks, merged with free neighbours so that later requests of other
   * sizes can use the space. Unknown pointers are ignored (freed already).
   */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.live -= size;
    this.pooled += size;
    let start = ptr;
    let end = ptr + size;
    if (this.freeAt.has(end)) end += this.takeFree(end);
    const before = this.freeEndAt.get(start);
    if (before !== undefined) {
      this.takeFree(before);
      start = before;
    }
    this.putFree(start, end - start);
  }

  /**
   * A fresh float32 array of `n` elements in this memory, for a tensor's storage. Its block is freed
   * when the array object is garbage collected (so nothing that still holds it can see the block
   * reused), or earlier by `dispose`. Where tensors cannot live here it is a plain JavaScript array.
   */
  float32(n: number, zero = true): Float32Array {
    // Past the limit, new tensors spill to JavaScript arrays (kernels copy them) until the collector
    // has returned blocks: a loop that never yields to the event loop cannot run finalizers.
    if (!this.holdsTensors || this.live + sizeClass(n * 4) > this.limit) return new Float32Array(n);
    const ptr = this.alloc(n * 4);
    const a = new Float32Array(this.kernels.memory.buffer, ptr, n);
    this.buffers.add(a.buffer);
    if (zero) a.fill(0);
    this.track(a, ptr);
    return a;
  }

  /**
   * A fresh float64 array of `n` elements in this memory (the storage of an int64 tensor, such as
   * max-pool indices a kernel writes in place), freed as `float32`'s are. Where tensors cannot live
   * here it is a plain JavaScript array.
   */
  float64(n: number): Float64Array {
    if (!this.holdsTensors || this.live + sizeClass(n * 8) > this.limit) return new Float64Array(n);
    const ptr = this.alloc(n * 8);
    const a = new Float64Array(this.kernels.memory.buffer, ptr, n);
    this.buffers.add(a.buffer);
    this.track(a, ptr);
    return a;
  }

  /**
   * Registers a fresh block for the collector. The collector sees a small JavaScript object, not the
   * block behind it, so blocks also pace it (ballast.ts).
   */
  private track(a: Float32Array | Float64Array, ptr: number): void {
    this.registry.register(a, ptr, a);
    this.ballast.fresh(a);
  }

  /** Frees a block from `float32` or `float64` now (explicit dispose); a no-op for other arrays. */
  dispose(a: Float32Array | Float64Array): void {
    if (!this.owns(a)) return;
    if (this.registry.unregister(a)) {
      this.release(a.byteOffset);
      this.ballast.disposed(a);
    } else this.dropHostView(a);
  }

  /**
   * `n` bytes in this memory for data that becomes tensors in place, as a file's contents: float32
   * views of it are adopted by `adopt` without a copy. The block is freed when the byte view and every
   * adopted view are gone (collected or disposed). Null where tensors cannot live here.
   */
  hostBytes(n: number): Uint8Array | null {
    if (!this.holdsTensors || n === 0 || this.live + sizeClass(n) > this.limit) return null;
    const ptr = this.alloc(n);
    const bytes = new Uint8Array(this.kernels.memory.buffer, ptr, n);
    this.buffers.add(bytes.buffer);
    this.hostBlocks.set(ptr, [ptr + n, 1]);
    this.hostOf.set(bytes, ptr);
    this.hostRegistry.register(bytes, ptr, bytes);
    return bytes;
  }

  /**
   * Takes `a`, a float32 view inside a live host block, as a tensor's storage: the block stays until
   * `a` is collected or disposed. False for any other array.
   */
  adopt(a: Float32Array): boolean {
    if (this.hostOf.has(a)) return false;
    const start = this.hostBlockOf(a);
    if (start === undefined) return false;
    (this.hostBlocks.get(start) as [number, number])[1]++;
    this.hostOf.set(a, start);
    this.hostRegistry.register(a, start, a);
    return true;
  }

  /** Whether `a` views a host block (not a tensor block of its own). */
  inHostBlock(a: ArrayBufferView): boolean {
    return this.hostBlockOf(a) !== undefined;
  }

  /** The start of the live host block that `a` lies inside, if any. */
  private hostBlockOf(a: ArrayBufferView): number | undefined {
    if (!this.owns(a)) return undefined;
    for (const [start, [end]] of this.hostBlocks)
      if (a.byteOffset >= start && a.byteOffset + a.byteLength <= end) return start;
    return undefined;
  }

  /** Drops a host byte view's or adopted view's reference now (a no-op if it holds none). */
  dropHostView(a: ArrayBufferView): void {
    const start = this.hostOf.get(a);
    if (start === undefined || !this.hostRegistry.unregister(a)) return;
    this.hostOf.delete(a);
    this.unrefHost(start);
  }

  private unrefHost(start: number): void {
    const entry = this.hostBlocks.get(start);
    if (!entry || --entry[1] > 0) return;
    this.hostBlocks.delete(start);
    this.release(start);
  }

  stats(): MemoryStats {
    return {
      live: this.live,
      pooled: this.pooled,
      peak: this.peak,
      reserved: this.reserved,
      allocations: this.sizes.size,
      copiedBytes: this.copiedBytes,
    };
  }

  resetPeak(): void {
    this.peak = this.live;
  }
}

let heap: Heap | null | undefined;

/** The CPU heap, or null where WebAssembly is unavailable. */
export function cpuHeap(): Heap | null {
  if (heap === undefined) {
    const k = wasmKernels();
    heap = k ? new Heap(k, k.shared && !tensorsOffHeap()) : null;
  }
  return heap;
}

declare const process: { env?: Record<string, string | undefined> } | undefined;

/** GRAFT_WASM_HEAP=0 keeps tensors in JavaScript arrays (kernels then copy; for comparisons). */
function tensorsOffHeap(): boolean {
  return typeof process !== 'undefined' && process?.env?.GRAFT_WASM_HEAP === '0';
}

/**
 * One kernel call's memory: operands by pointer where they already live in the heap and copied in
 * otherwise, outputs in fresh blocks that become tensors, scratch freed at `done()`.
 */
export class Frame {
  private readonly temps: number[] = [];
  constructor(readonly heap: Heap) {}

  /** Scratch for this call only. */
  scratch(floats: number): number {
    const p = this.heap.alloc(Math.max(floats, 1) * 4);
    this.temps.push(p);
    return p;
  }

  /** Scratch regions of the given float counts in one block, each 64-byte aligned. */
  region(sizes: readonly number[]): number[] {
    const padded = sizes.map((n) => Math.ceil(n / 16) * 16);
    let p = this.scratch(padded.reduce((a, b) => a + b, 0));
    return padded.map((n) => {
      const at = p;
      p += n * 4;
      return at;
    });
  }

  /** Copies `src[off, off + len)` to `ptr`: within the heap when `src` lives there, else counted. */
  private copyTo(ptr: number, src: Float32Array, off: number, len: number): void {
    const h = this.heap.f32();
    if (this.heap.owns(src)) h.copyWithin(ptr / 4, src.byteOffset / 4 + off, src.byteOffset / 4 + off + len);
    else {
      h.set(src.subarray(off, off + len), ptr / 4);
      this.heap.copiedBytes += len * 4;
    }
  }

  /** A pointer to `src[off, off + len)`: its own address in the heap, else a counted copy. */
  input(src: Float32Array, off: number, len: number): number {
    if (this.heap.owns(src)) return src.byteOffset + off * 4;
    const p = this.scratch(len);
    this.copyTo(p, src, off, len);
    return p;
  }

  /** An output block of `len` floats (zeroed when asked); `result` turns it into an array. */
  output(len: number, zero = false): { ptr: number; array: Float32Array | null } {
    if (this.heap.holdsTensors) {
      const array = this.heap.float32(len, zero);
      // Past the heap's limit the array spills to JavaScript memory: then compute in scratch and copy.
      if (this.heap.owns(array)) return { ptr: array.byteOffset, array };
    }
    const ptr = this.scratch(len);
    if (zero) this.heap.f32().fill(0, ptr / 4, ptr / 4 + len);
    return { ptr, array: null };
  }

  /** An output block that starts as a copy of `src[off, off + len)` (for kernels that work in place). */
  outputCopy(src: Float32Array, off: number, len: number): { ptr: number; array: Float32Array | null } {
    const o = this.output(len);
    this.copyTo(o.ptr, src, off, len);
    return o;
  }

  /** A float64 output block of `len` elements (int64 values); `resultF64` turns it into an array. */
  outputF64(len: number): { ptr: number; array: Float64Array | null } {
    if (this.heap.holdsTensors) {
      const array = this.heap.float64(len);
      if (this.heap.owns(array)) return { ptr: array.byteOffset, array };
    }
    return { ptr: this.scratch(2 * len), array: null };
  }

  /** The float64 output as an array: the heap block itself, or a counted copy out of scratch. */
  resultF64(o: { ptr: number; array: Float64Array | null }, len: number): Float64Array {
    if (o.array) return o.array;
    this.heap.copiedBytes += len * 8;
    return new Float64Array(this.heap.kernels.memory.buffer, o.ptr, len).slice();
  }

  /** A pointer to float64 `src[off, off + len)`: its own address in the heap, else a counted copy. */
  inputF64(src: Float64Array, off: number, len: number): number {
    if (this.heap.owns(src)) return src.byteOffset + off * 8;
    const p = this.scratch(2 * len);
    new Float64Array(this.heap.kernels.memory.buffer, p, len).set(src.subarray(off, off + len));
    this.heap.copiedBytes += len * 8;
    return p;
  }

  /** The output as a float32 array: the heap block itself, or a counted copy out of scratch. */
  result(o: { ptr: number; array: Float32Array | null }, len: number): Float32Array {
    if (o.array) return o.array;
    this.heap.copiedBytes += len * 4;
    return this.heap.f32().slice(o.ptr / 4, o.ptr / 4 + len);
  }

  /** Frees the scratch. */
  done(): void {
    for (const p of this.temps) this.heap.release(p);
    this.temps.length = 0;
  }
}

/**
 * Sets how many bytes of float32 tensors the CPU heap holds before new tensors spill to JavaScript
 * arrays (which kernels then copy); at most 4 GiB less scratch. Returns the previous limit.
 */
export function setCpuHeapLimit(bytes: number): number {
  const h = cpuHeap();
  if (!Number.isFinite(bytes) || bytes < 0 || bytes > 3.5 * 1024 ** 3) {
    throw new RangeError(`setCpuHeapLimit: expected a byte count from 0 to 3.5 GiB, got ${bytes}`);
  }
  const before = h?.limit ?? 0;
  if (h) h.limit = bytes;
  return before;
}

let liveAtYield = 0;
/** Cleared by the first collection after the last yield (finalizers may be waiting then). */
let sentinel = new WeakRef({});

/**
 * Lets the event loop run the collector's finalizers (which return heap blocks) when the heap has
 * grown since the last time, or a collection has run since: CPU readbacks (`await t.item()`) call it,
 * so a training loop that reads its loss holds steady memory.
 */
export async function yieldForFinalizers(): Promise<void> {
  const h = heap;
  if (!h) return;
  if (h.live - liveAtYield < YIELD_AFTER_BYTES && sentinel.deref() !== undefined) return;
  sentinel = new WeakRef({});
  await new Promise<void>((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else if (typeof MessageChannel === 'function') {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve();
      ch.port2.postMessage(0);
    } else setTimeout(resolve, 0);
  });
  liveAtYield = h.live;
}

const YIELD_AFTER_BYTES = 32 * 1024 * 1024;
declare const setImmediate: ((fn: () => void) => unknown) | undefined;
declare const MessageChannel:
  | (new () => { port1: { onmessage: (() => void) | null }; port2: { postMessage(v: unknown): void } })
  | undefined;
declare const setTimeout: (fn: () => void, ms: number) => unknown;

/** Runs `fn` with a frame over the CPU heap; null where WebAssembly is unavailable. */
export function withFrame<T>(fn: (f: Frame, k: Kernels) => T): T | null {
  const h = cpuHeap();
  if (!h) return null;
  const f = new Frame(h);
  try {
    return fn(f, h.kernels);
  } finally {
    f.done();
  }
}
