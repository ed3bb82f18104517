// Dense matrix products on row-major float arrays in plain TypeScript: the core the reference CPU
// backend's matmul and convolutions share (the WebAssembly backend's GEMM is wasm/gemm.ts).

/** The arrays the kernels read and write: float32 for compute, float64 for gradient checks. */
export type FloatArray = Float32Array | Float64Array;

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
