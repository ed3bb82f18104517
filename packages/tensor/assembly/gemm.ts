// SIMD single-precision GEMM for graft's CPU backend (WebAssembly SIMD128).
// C[M,N] (+)= A[M,K] * B[K,N], where A and B are read through arbitrary (row, col) element strides
// and C is row-major. B is packed into 8-column panels so the inner loop streams two v128 loads per k,
// and a 4x8 register tile (8 accumulators) keeps the product in registers.

const KC: i32 = 256; // k-block: a packed panel slice of 8*KC floats stays in L1

/**
 * c + a * b: one fused multiply-add where the build enables relaxed SIMD (the loader picks that build
 * when the engine validates it), a multiply and an add otherwise.
 */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Packs B[k0..k0+kc, 0..N] into panels of 8 columns (zero-padded) at `dst`. */
function packB(b: usize, brs: i32, bcs: i32, k0: i32, kc: i32, N: i32, dst: usize): void {
  const panels = (N + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const j0 = p << 3;
    const w = min(8, N - j0);
    let out = dst + ((<usize>p * <usize>kc) << 5);
    for (let k = 0; k < kc; k++) {
      const row = b + ((<usize>(k0 + k) * <usize>brs + <usize>j0 * <usize>bcs) << 2);
      if (w == 8 && bcs == 1) {
        v128.store(out, v128.load(row));
        v128.store(out, v128.load(row, 16), 16);
      } else {
        for (let j = 0; j < 8; j++) {
          store<f32>(out + (<usize>j << 2), j < w ? load<f32>(row + ((<usize>j * <usize>bcs) << 2)) : 0);
        }
      }
      out += 32;
    }
  }
}

/** Stores an accumulator pair into C row `crow` for columns [j0, j0 + w). */
@inline
function storeRow(crow: usize, acc0: v128, acc1: v128, w: i32, add: bool, tmp: usize): void {
  if (w == 8) {
    if (add) {
      acc0 = f32x4.add(acc0, v128.load(crow));
      acc1 = f32x4.add(acc1, v128.load(crow, 16));
    }
    v128.store(crow, acc0);
    v128.store(crow, acc1, 16);
    return;
  }
  v128.store(tmp, acc0);
  v128.store(tmp, acc1, 16);
  for (let j = 0; j < w; j++) {
    const v = load<f32>(tmp + (<usize>j << 2));
    const p = crow + (<usize>j << 2);
    store<f32>(p, add ? load<f32>(p) + v : v);
  }
}

export function sgemm(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32,
  accumulate: bool,
  scratch: usize,
): void {
  const panels = (N + 7) >> 3;
  // Packed panels first, then 32 bytes for partial-width stores: all per call, so threads sharing
  // one memory never share scratch.
  const tmp = scratch + ((<usize>panels * <usize>KC) << 5);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    packB(b, brs, bcs, k0, kc, N, scratch);
    const add = accumulate || k0 > 0;
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const a0 = a + ((<usize>i * <usize>ars + <usize>k0 * <usize>acs) << 2);
      const a1 = a0 + (<usize>ars << 2);
      const a2 = a1 + (<usize>ars << 2);
      const a3 = a2 + (<usize>ars << 2);
      const astep = <usize>acs << 2;
      for (let p = 0; p < panels; p++) {
        let bp = scratch + ((<usize>p * <usize>kc) << 5);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let off: usize = 0;
        for (let k = 0; k < kc; k++) {
          const b0 = v128.load(bp);
          const b1 = v128.load(bp, 16);
          bp += 32;
          const x0 = v128.load32_splat(a0 + off);
          const x1 = v128.load32_splat(a1 + off);
          const x2 = v128.load32_splat(a2 + off);
          const x3 = v128.load32_splat(a3 + off);
          off += astep;
          c00 = madd(x0, b0, c00);
          c01 = madd(x0, b1, c01);
          c10 = madd(x1, b0, c10);
          c11 = madd(x1, b1, c11);
          c20 = madd(x2, b0, c20);
          c21 = madd(x2, b1, c21);
          c30 = madd(x3, b0, c30);
          c31 = madd(x3, b1, c31);
        }
        const j0 = p << 3;
        const w = min(8, N - j0);
        const crow = c + ((<usize>i * <usize>ldc + <usize>j0) << 2);
        const cstep = <usize>ldc << 2;
        storeRow(crow, c00, c01, w, add, tmp);
        storeRow(crow + cstep, c10, c11, w, add, tmp);
        storeRow(crow + 2 * cstep, c20, c21, w, add, tmp);
        storeRow(crow + 3 * cstep, c30, c31, w, add, tmp);
      }
    }
    for (; i < M; i++) {
      const a0 = a + ((<usize>i * <usize>ars + <usize>k0 * <usize>acs) << 2);
      const astep = <usize>acs << 2;
      for (let p = 0; p < panels; p++) {
        let bp = scratch + ((<usize>p * <usize>kc) << 5);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let off: usize = 0;
        for (let k = 0; k < kc; k++) {
          const x0 = v128.load32_splat(a0 + off);
          off += astep;
          c00 = madd(x0, v128.load(bp), c00);
          c01 = madd(x0, v128.load(bp, 16), c01);
          bp += 32;
        }
        const j0 = p << 3;
        storeRow(c + ((<usize>i * <usize>ldc + <usize>j0) << 2), c00, c01, min(8, N - j0), add, tmp);
      }
    }
  }
}

/**
 * Unfolds one image's channels [C, H, W] into columns: row r = (c, i, j) of the [C*KH*KW, OH*OW]
 * patch matrix goes to col + r * ldcol, so several images can sit side by side in one wide matrix.
 */
export function im2col(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, col: usize, ldcol: i32,
): void {
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      for (let j = 0; j < KW; j++, r++) {
        let dst = col + ((<usize>r * <usize>ldcol) << 2);
        for (let oh = 0; oh < OH; oh++) {
          const h = oh * sh - ph + i * dh;
          if (h < 0 || h >= H) {
            memory.fill(dst, 0, <usize>OW << 2);
            dst += <usize>OW << 2;
            continue;
          }
          const src = x + ((<usize>(c * H + h) * <usize>W) << 2);
          const w0 = j * dw - pw;
          if (sw == 1 && w0 >= 0 && w0 + OW <= W) {
            memory.copy(dst, src + (<usize>w0 << 2), <usize>OW << 2);
            dst += <usize>OW << 2;
            continue;
          }
          for (let ow = 0; ow < OW; ow++) {
            const w = ow * sw + w0;
            store<f32>(dst, w >= 0 && w < W ? load<f32>(src + (<usize>w << 2)) : 0);
            dst += 4;
          }
        }
      }
    }
  }
}

/** Folds columns (rows at col + r * ldcol) back into an image [C, H, W], adding overlaps into `out`. */
export function col2im(
  col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, out: usize, ldcol: i32,
): void {
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      for (let j = 0; j < KW; j++, r++) {
        let src = col + ((<usize>r * <usize>ldcol) << 2);
        for (let oh = 0; oh < OH; oh++) {
          const h = oh * sh - ph + i * dh;
          if (h < 0 || h >= H) {
            src += <usize>OW << 2;
            continue;
          }
          const dst = out + ((<usize>(c * H + h) * <usize>W) << 2);
          const w0 = j * dw - pw;
          for (let ow = 0; ow < OW; ow++) {
            const w = ow * sw + w0;
            if (w >= 0 && w < W) {
              const p = dst + (<usize>w << 2);
              store<f32>(p, load<f32>(p) + load<f32>(src));
            }
            src += 4;
          }
        }
      }
    }
  }
}

/**
 * Moves P-float rows between a rows-major block [rows, N, P] and a batch-major tensor where row r of
 * image n sits at batchMajor + (n * batchRows + r) * P (toBatchMajor picks the direction).
 */
export function regroup(rowsMajor: usize, batchMajor: usize, rows: i32, N: i32, P: i32, batchRows: i32, toBatchMajor: bool): void {
  const bytes = <usize>P << 2;
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      const a = rowsMajor + ((<usize>(r * N + n) * <usize>P) << 2);
      const b = batchMajor + ((<usize>(n * batchRows + r) * <usize>P) << 2);
      if (toBatchMajor) memory.copy(b, a, bytes);
      else memory.copy(a, b, bytes);
    }
  }
}
