// Matrix products in WebAssembly: operands that live in the kernels' heap are read in place (others are
// copied in), multiplied on the thread pool when there is one, and written straight into C.

import { withFrame } from './heap.js';
import { gemmScratch, wasmKernels } from './kernels.js';
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
  const [aLo, aHi] = extent(aOff, M, K, ars, acs);
  const [bLo, bHi] = extent(bOff, K, N, brs, bcs);
  const cLen = M === 0 ? 0 : (M - 1) * ldc + N;
  const threads = getNumThreads();
  const scratch = gemmScratch();
  const done = withFrame((f, k) => {
    const heap = f.heap;
    // Operands in the heap are read in place: a kernel pointer is the array's own address.
    const aPtr = f.input(A, aLo, aHi - aLo);
    const bPtr = f.input(B, bLo, bHi - bLo);
    const cResident = heap.owns(C);
    const cPtr = cResident ? C.byteOffset + cOff * 4 : accumulate ? f.input(C, cOff, cLen) : f.scratch(cLen);
    const sPtr = f.scratch(scratch * threads);
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
    if (cResident) return true;
    const h = heap.f32();
    heap.copiedBytes += M * N * 4;
    if (ldc === N) C.set(h.subarray(cPtr / 4, cPtr / 4 + M * N), cOff);
    else
      for (let i = 0; i < M; i++)
        C.set(h.subarray(cPtr / 4 + i * ldc, cPtr / 4 + i * ldc + N), cOff + i * ldc);
    return true;
  });
  return done ?? false;
}

export { wasmKernels };
