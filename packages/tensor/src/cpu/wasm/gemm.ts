// Matrix products in WebAssembly: operands are copied into the kernels' memory, multiplied (on the
// thread pool when there is one), and the result copied out.

import { gemmScratch, reserve, wasmKernels } from './kernels.js';
import { getNumThreads, parallelSgemm } from './threads.js';

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
  const threads = getNumThreads();
  const scratch = gemmScratch();
  const { ptrs, heap } = reserve(k, [aHi - aLo, bHi - bLo, cLen, scratch * threads]);
  const [aPtr, bPtr, cPtr, sPtr] = ptrs;
  heap.set(A.subarray(aLo, aHi), aPtr / 4);
  heap.set(B.subarray(bLo, bHi), bPtr / 4);
  if (accumulate) heap.set(C.subarray(cOff, cOff + cLen), cPtr / 4);
  parallelSgemm(
    k,
    M,
    N,
    K,
    aPtr,
    ars,
    acs,
    bPtr,
    brs,
    bcs,
    cPtr,
    ldc,
    accumulate ? 1 : 0,
    sPtr,
    Math.ceil(scratch / 16) * 64,
  );
  if (ldc === N) C.set(heap.subarray(cPtr / 4, cPtr / 4 + M * N), cOff);
  else
    for (let i = 0; i < M; i++)
      C.set(heap.subarray(cPtr / 4 + i * ldc, cPtr / 4 + i * ldc + N), cOff + i * ldc);
  return true;
}

export { wasmKernels };
