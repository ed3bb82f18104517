// Dense matrix products on row-major float arrays: the core the CPU backend's matmul and
// convolutions share. Large products run in the WebAssembly SIMD kernel (float32 accumulation, like
// BLAS); small ones and the reference path accumulate in float64 in plain TypeScript.

import { wasmGemm } from './wasm/gemm.js';

/** The arrays the kernels read and write: float32 for compute, float64 for gradient checks. */
export type FloatArray = Float32Array | Float64Array;

/** WebAssembly runs float32 only; float64 (gradient checks) always takes the TypeScript path. */
function allF32(a: FloatArray, b: FloatArray, c: FloatArray): a is Float32Array {
  return a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array;
}

let useWasm = true;
/** Products with at least this many multiply-adds go to WebAssembly. */
export const WASM_MIN_WORK = 64 * 64 * 64;

/** Turns the WebAssembly kernels on or off (off: the TypeScript reference kernels run everywhere). */
export function setWasmKernels(enabled: boolean): void {
  useWasm = enabled;
}

export function wasmKernelsEnabled(): boolean {
  return useWasm;
}

/** Runs a float32 product large enough to pay for the copies in WebAssembly; false means "do it here". */
function tryWasm(
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  aOff: number,
  ars: number,
  acs: number,
  B: FloatArray,
  bOff: number,
  brs: number,
  bcs: number,
  C: FloatArray,
  cOff: number,
  ldc: number,
  accumulate: boolean,
): boolean {
  if (!useWasm || M * N * K < WASM_MIN_WORK || !allF32(A, B, C)) return false;
  return wasmGemm(
    M,
    N,
    K,
    A as Float32Array,
    aOff,
    ars,
    acs,
    B as Float32Array,
    bOff,
    brs,
    bcs,
    C as Float32Array,
    cOff,
    ldc,
    accumulate,
  );
}

/** C[M,N] (+)= A[M,K] * B[K,N]; A read through (aRow, aCol) strides, B and C rows contiguous. */
export function gemmNN(
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  aOff: number,
  aRow: number,
  aCol: number,
  B: FloatArray,
  bOff: number,
  ldb: number,
  C: FloatArray,
  cOff: number,
  ldc: number,
  accumulate: boolean,
): void {
  if (tryWasm(M, N, K, A, aOff, aRow, aCol, B, bOff, ldb, 1, C, cOff, ldc, accumulate)) return;
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    const ci = cOff + i * ldc;
    if (accumulate) for (let j = 0; j < N; j++) acc[j] = C[ci + j];
    else acc.fill(0);
    const ai = aOff + i * aRow;
    for (let k = 0; k < K; k++) {
      const a = A[ai + k * aCol];
      const bk = bOff + k * ldb;
      for (let j = 0; j < N; j++) acc[j] += a * B[bk + j];
    }
    for (let j = 0; j < N; j++) C[ci + j] = acc[j];
  }
}

/** C[M,N] (+)= A[M,K] * B[N,K]^T: dot products of contiguous rows. */
export function gemmNT(
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  aOff: number,
  lda: number,
  B: FloatArray,
  bOff: number,
  ldb: number,
  C: FloatArray,
  cOff: number,
  ldc: number,
  accumulate: boolean,
): void {
  if (tryWasm(M, N, K, A, aOff, lda, 1, B, bOff, 1, ldb, C, cOff, ldc, accumulate)) return;
  for (let i = 0; i < M; i++) {
    const ai = aOff + i * lda;
    const ci = cOff + i * ldc;
    for (let j = 0; j < N; j++) {
      const bj = bOff + j * ldb;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[ai + k] * B[bj + k];
      C[ci + j] = accumulate ? C[ci + j] + s : s;
    }
  }
}
