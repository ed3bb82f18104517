// Loads the WebAssembly SIMD GEMM kernel and runs it on operands copied into its memory.
// Compiled synchronously (the module is ~2 KB, under browsers' main-thread limit for sync compiles).

import { KERNELS_WASM_BASE64 } from './kernels.generated.js';

// Minimal typings for the runtime globals used here, so the package needs neither DOM nor Node libs.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};
declare const atob: ((s: string) => string) | undefined;

interface KernelExports {
  memory: WasmMemory;
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
  im2col(x: number, ...geometryThenCol: number[]): void;
  col2im(col: number, ...geometryThenOut: number[]): void;
}

let kernels: KernelExports | null | undefined;

function decodeBase64(s: string): Uint8Array {
  if (typeof atob === 'function') return Uint8Array.from(atob(s), (ch: string) => ch.charCodeAt(0));
  throw new Error('no base64 decoder available');
}

/** The kernel exports, or null where WebAssembly SIMD is unavailable. */
export function wasmKernels(): KernelExports | null {
  if (kernels !== undefined) return kernels;
  try {
    const bytes = decodeBase64(KERNELS_WASM_BASE64);
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) {
      kernels = null;
    } else {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        env: {
          abort: () => {
            throw new Error('graft wasm kernel aborted');
          },
        },
      });
      kernels = instance.exports as unknown as KernelExports;
    }
  } catch {
    kernels = null;
  }
  return kernels;
}

/** Start of the region the host manages (the module's static data lives below it). */
const HEAP_BASE = 65536;
const KC = 256;

/** Smallest index range [lo, hi) of a strided 2-D operand. */
function extent(off: number, rows: number, cols: number, rs: number, cs: number): [number, number] {
  if (rows === 0 || cols === 0) return [off, off];
  return [off, off + (rows - 1) * rs + (cols - 1) * cs + 1];
}

/**
 * C[M,N] (+)= A[M,K] * B[K,N] in WebAssembly. A and B are read through (row, col) element strides
 * from their arrays; C is row-major with leading dimension ldc. Returns false when unavailable.
 */
export function wasmGemm(
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  aOff: number,
  ars: number,
  acs: number,
  B: Float32Array,
  bOff: number,
  brs: number,
  bcs: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
  accumulate: boolean,
): boolean {
  const k = wasmKernels();
  if (!k) return false;
  const [aLo, aHi] = extent(aOff, M, K, ars, acs);
  const [bLo, bHi] = extent(bOff, K, N, brs, bcs);
  const cLen = M === 0 ? 0 : (M - 1) * ldc + N;
  const aPtr = HEAP_BASE;
  const bPtr = aPtr + (aHi - aLo) * 4;
  const cPtr = bPtr + (bHi - bLo) * 4;
  const sPtr = cPtr + cLen * 4;
  const end = sPtr + Math.ceil(N / 8) * 8 * KC * 4 + 64;
  const mem = k.memory;
  if (mem.buffer.byteLength < end) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
  const heap = new Float32Array(mem.buffer);
  heap.set(A.subarray(aLo, aHi), aPtr / 4);
  heap.set(B.subarray(bLo, bHi), bPtr / 4);
  if (accumulate) heap.set(C.subarray(cOff, cOff + cLen), cPtr / 4);
  k.sgemm(M, N, K, aPtr, ars, acs, bPtr, brs, bcs, cPtr, ldc, accumulate ? 1 : 0, sPtr);
  if (ldc === N) C.set(heap.subarray(cPtr / 4, cPtr / 4 + M * N), cOff);
  else for (let i = 0; i < M; i++) C.set(heap.subarray(cPtr / 4 + i * ldc, cPtr / 4 + i * ldc + N), cOff + i * ldc);
  return true;
}
