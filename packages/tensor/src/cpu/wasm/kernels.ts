// Loads the WebAssembly SIMD kernels into one memory the host owns. Where SharedArrayBuffer exists the
// memory is shared, so worker threads (threads.ts) can run the same kernels on the same data.
// Compiled synchronously: the modules are ~2.5 KB, under browsers' main-thread limit for sync compiles.

import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels.generated.js';

// Minimal typings for the runtime globals used here, so the package needs neither DOM nor Node libs.
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
};
declare const atob: ((s: string) => string) | undefined;

export interface KernelExports {
  sgemm(
    M: number,
    N: number,
    K: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    ldc: number,
    accumulate: number,
    scratch: number,
  ): void;
  /** x, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, col, ldcol */
  im2col(...args: number[]): void;
  /** col, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, out, ldcol */
  col2im(...args: number[]): void;
  regroup(
    rowsMajor: number,
    batchMajor: number,
    rows: number,
    N: number,
    P: number,
    batchRows: number,
    toBatchMajor: number,
  ): void;
}

export interface Kernels {
  exports: KernelExports;
  memory: WasmMemory;
  /** The compiled module, shareable with workers when `shared`. */
  module: object;
  shared: boolean;
}

let kernels: Kernels | null | undefined;

function decodeBase64(s: string): Uint8Array {
  if (typeof atob !== 'function') throw new Error('no base64 decoder available');
  return Uint8Array.from(atob(s), (ch: string) => ch.charCodeAt(0));
}

/** Instantiates a kernel module against a memory (also used by worker threads). */
export function instantiate(module: object, memory: WasmMemory): KernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('graft wasm kernel aborted');
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}

function load(): Kernels | null {
  if (typeof WebAssembly === 'undefined') return null;
  const canShare = typeof SharedArrayBuffer !== 'undefined';
  for (const shared of canShare ? [true, false] : [false]) {
    try {
      const bytes = decodeBase64(shared ? KERNELS_SHARED_WASM_BASE64 : KERNELS_WASM_BASE64);
      if (!WebAssembly.validate(bytes)) continue;
      const module = new WebAssembly.Module(bytes);
      const memory = new WebAssembly.Memory(
        shared ? { initial: 2, maximum: 65536, shared: true } : { initial: 2 },
      );
      return { exports: instantiate(module, memory), memory, module, shared };
    } catch {
      // fall through to the next variant
    }
  }
  return null;
}

/** The kernels, or null where WebAssembly SIMD is unavailable. */
export function wasmKernels(): Kernels | null {
  if (kernels === undefined) kernels = load();
  return kernels;
}

/** Start of the region the host manages (the modules keep no static data; page 0 stays unused). */
const HEAP_BASE = 65536;

/**
 * Bump-allocates 64-byte aligned float32 regions for one kernel call, growing memory as needed,
 * and returns their byte offsets plus a fresh view of the memory.
 */
export function reserve(k: Kernels, sizes: readonly number[]): { ptrs: number[]; heap: Float32Array } {
  const ptrs: number[] = [];
  let p = HEAP_BASE;
  for (const s of sizes) {
    ptrs.push(p);
    p += Math.ceil(s / 16) * 64;
  }
  const have = k.memory.buffer.byteLength;
  if (have < p) k.memory.grow(Math.ceil((p - have) / 65536));
  return { ptrs, heap: new Float32Array(k.memory.buffer) };
}

/** Floats of per-call scratch the GEMM kernel needs for N output columns. */
export function gemmScratch(N: number): number {
  return Math.ceil(N / 8) * 8 * 256 + 16;
}
