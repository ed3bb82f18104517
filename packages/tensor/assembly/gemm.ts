// SIMD single-precision GEMM for graft's CPU backend (WebAssembly SIMD128).
// C[M,N] (+)= A[M,K] * B[K,N], where A and B are read through arbitrary (row, col) element strides
// and C is row-major. B is packed into 8-column panels so the inner loop streams two v128 loads per k,
// and a 4x8 register tile (8 accumulators) keeps the product in registers.

import { statsPlane } from './plane-stats';

const KC: i32 = 256; // k-block: an 8-column packed panel slice (8*KC floats, 8 KB) stays in L1
const NC: i32 = 256; // column block: a packed B block of KC*NC floats (256 KB) stays in L2

/**
 * c + a * b: one fused multiply-add where the build enables relaxed SIMD (the loader picks that build
 * when the engine validates it), a multiply and an add otherwise.
 */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * Packs B[k0..k0+kc, j0..j0+nc] into panels of 8 columns (zero-padded) at `dst`: panel p holds
 * kc rows of 8 floats. Row-contiguous B is copied with v128 moves; column-contiguous B (a transposed
 * operand, brs == 1) is transposed 4x4 at a time.
 */
function packB(b: usize, brs: i32, bcs: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const panels = (nc + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const jp = j0 + (p << 3);
    const w = min(8, nc - (p << 3));
    let out = dst + ((<usize>p * <usize>kc) << 5);
    let k = 0;
    if (w == 8 && bcs == 1) {
      for (; k < kc; k++) {
        const row = b + ((<usize>(k0 + k) * <usize>brs + <usize>jp) << 2);
        v128.store(out, v128.load(row));
        v128.store(out, v128.load(row, 16), 16);
        out += 32;
      }
      continue;
    }
    if (w == 8 && brs == 1) {
      const cs = <usize>bcs << 2;
      for (; k + 4 <= kc; k += 4) {
        const base = b + ((<usize>(k0 + k) + <usize>jp * <usize>bcs) << 2);
        for (let h = 0; h < 2; h++) {
          const c0 = base + <usize>(h << 2) * cs;
          const r0 = v128.load(c0);
          const r1 = v128.load(c0 + cs);
          const r2 = v128.load(c0 + 2 * cs);
          const r3 = v128.load(c0 + 3 * cs);
          const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
          const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          const o = out + (<usize>h << 4);
          v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
          v128.store(o, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
          v128.store(o, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
          v128.store(o, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
        }
        out += 128;
      }
    }
    for (; k < kc; k++) {
      const row = b + ((<usize>(k0 + k) * <usize>brs + <usize>jp * <usize>bcs) << 2);
      for (let j = 0; j < 8; j++) {
        store<f32>(out + (<usize>j << 2), j < w ? load<f32>(row + ((<usize>j * <usize>bcs) << 2)) : 0);
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

/** Floats of scratch `sgemm` needs: one packed KC x NC block of B plus 8 floats for partial stores. */
export function sgemmScratchFloats(): i32 {
  return KC * NC + 8;
}

/**
 * C[M,N] (+)= A[M,K] * B[K,N]. Blocked for caches: for each NC-column block and KC-deep slice, B is
 * packed once into `scratch` (L2), then every 8-column panel (L1) meets all rows of A in 4x8 tiles.
 */
export function sgemm(
  M: i32, N: i32, K: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32,
  accumulate: bool,
  scratch: usize,
): void {
  const tmp = scratch + ((<usize>KC * <usize>NC) << 2);
  const astep = <usize>acs << 2;
  const cstep = <usize>ldc << 2;
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    const panels = (nc + 7) >> 3;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packB(b, brs, bcs, k0, kc, j0, nc, scratch);
      const add = accumulate || k0 > 0;
      for (let p = 0; p < panels; p++) {
        const bp0 = scratch + ((<usize>p * <usize>kc) << 5);
        const jp = j0 + (p << 3);
        const w = min(8, N - jp);
        let i = 0;
        for (; i + 4 <= M; i += 4) {
          const a0 = a + ((<usize>i * <usize>ars + <usize>k0 * <usize>acs) << 2);
          const a1 = a0 + (<usize>ars << 2);
          const a2 = a1 + (<usize>ars << 2);
          const a3 = a2 + (<usize>ars << 2);
          let bp = bp0;
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
          const crow = c + ((<usize>i * <usize>ldc + <usize>jp) << 2);
          storeRow(crow, c00, c01, w, add, tmp);
          storeRow(crow + cstep, c10, c11, w, add, tmp);
          storeRow(crow + 2 * cstep, c20, c21, w, add, tmp);
          storeRow(crow + 3 * cstep, c30, c31, w, add, tmp);
        }
        for (; i < M; i++) {
          const a0 = a + ((<usize>i * <usize>ars + <usize>k0 * <usize>acs) << 2);
          let bp = bp0;
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
          let off: usize = 0;
          for (let k = 0; k < kc; k++) {
            const x0 = v128.load32_splat(a0 + off);
            off += astep;
            c00 = madd(x0, v128.load(bp), c00);
            c01 = madd(x0, v128.load(bp, 16), c01);
            bp += 32;
          }
          storeRow(c + ((<usize>i * <usize>ldc + <usize>jp) << 2), c00, c01, w, add, tmp);
        }
      }
    }
  }
}

/** Output columns [lo, hi) of a row whose input column ow * s + w0 lies inside [0, W). */
@inline
function interiorLo(w0: i32, s: i32): i32 {
  return w0 >= 0 ? 0 : (s - 1 - w0) / s;
}

@inline
function interiorHi(w0: i32, s: i32, W: i32, OW: i32): i32 {
  return W <= w0 ? 0 : min(OW, (W - w0 + s - 1) / s);
}

/**
 * Writes columns [owa, owb) of one patch-matrix row segment to `dst`: input row `src` (0: the row is
 * padding) read at column ow * sw + w0, zero outside [0, W). Interior runs are a copy at stride 1 and
 * four columns per vector at stride 2.
 */
@inline
function unfoldSegment(src: usize, W: i32, w0: i32, sw: i32, owa: i32, owb: i32, dst: usize): void {
  if (!src) {
    memory.fill(dst, 0, <usize>(owb - owa) << 2);
    return;
  }
  const lo = min(max(interiorLo(w0, sw), owa), owb);
  const hi = max(lo, min(interiorHi(w0, sw, W, owb), owb));
  const d = dst - (<usize>owa << 2); // column ow goes to d + ow * 4
  if (lo > owa) memory.fill(dst, 0, <usize>(lo - owa) << 2);
  let ow = lo;
  if (sw == 1) {
    memory.copy(d + (<usize>lo << 2), src + (<usize>(lo + w0) << 2), <usize>(hi - lo) << 2);
    ow = hi;
  } else if (sw == 2) {
    // Columns ow..ow+3 read inputs 2ow+w0 .. 2ow+w0+7: all inside the row.
    for (; ow + 4 <= hi && 2 * ow + w0 + 8 <= W; ow += 4) {
      const p = src + (<usize>(2 * ow + w0) << 2);
      v128.store(d + (<usize>ow << 2), v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
    }
  }
  for (; ow < hi; ow++) store<f32>(d + (<usize>ow << 2), load<f32>(src + (<usize>(ow * sw + w0) << 2)));
  if (hi < owb) memory.fill(d + (<usize>hi << 2), 0, <usize>(owb - hi) << 2);
}

/**
 * Rows [r0, r1) and columns [j0, j1) (output positions oh * OW + ow) of one image's patch matrix
 * [C*KH*KW, OH*OW], row r = (c, i, j): row r goes to col + (r - r0) * ldcol, column j0 first.
 */
function unfoldColumns(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, j0: i32, j1: i32, col: usize, ldcol: i32,
  r0: i32 = 0, r1: i32 = -1,
): void {
  if (r1 < 0) r1 = C * KH * KW;
  for (let r = r0; r < r1; r++) {
    const j = r % KW;
    const i = (r / KW) % KH;
    const c = r / (KW * KH);
    const row = col + ((<usize>(r - r0) * <usize>ldcol) << 2);
    const w0 = j * dw - pw;
    let p = j0;
    while (p < j1) {
      const oh = p / OW;
      const owa = p - oh * OW;
      const owb = min(OW, owa + (j1 - p));
      const h = oh * sh - ph + i * dh;
      const src = h < 0 || h >= H ? 0 : x + ((<usize>(c * H + h) * <usize>W) << 2);
      unfoldSegment(src, W, w0, sw, owa, owb, row + (<usize>(p - j0) << 2));
      p += owb - owa;
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
  if (OW > SHORT_ROW) {
    unfoldColumns(x, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, 0, OH * OW, col, ldcol);
    return;
  }
  // Short output rows (small maps): a segment is a few floats, so element loops over the nested
  // (c, i, j, oh) indices beat unfoldSegment's divisions and bulk-memory calls per segment.
  const rowBytes = <usize>OW << 2;
  let row = col;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let i = 0; i < KH; i++) {
      for (let j = 0; j < KW; j++) {
        const w0 = j * dw - pw;
        const lo = min(interiorLo(w0, sw), OW);
        const hi = max(lo, interiorHi(w0, sw, W, OW));
        let d = row;
        for (let oh = 0; oh < OH; oh++, d += rowBytes) {
          const h = oh * sh - ph + i * dh;
          const inside = h >= 0 && h < H;
          const src = plane + ((<usize>h * <usize>W + <usize>w0) << 2);
          const a = inside ? lo : OW;
          const b = inside ? hi : OW;
          let ow = 0;
          for (; ow < a; ow++) store<f32>(d + (<usize>ow << 2), 0);
          for (; ow < b; ow++) store<f32>(d + (<usize>ow << 2), load<f32>(src + (<usize>(ow * sw) << 2)));
          for (; ow < OW; ow++) store<f32>(d + (<usize>ow << 2), 0);
        }
        row += <usize>ldcol << 2;
      }
    }
  }
}

/**
 * im2col for `images` images side by side: image n at x + n * xImage floats, its columns at
 * col + n * colImage floats. One pool task then owns whole rows of the patch matrix for a block of
 * channels: on small maps an image's share of a row is a few floats, and tasks split by image would
 * write into the same cache lines from different threads.
 */
export function im2colImages(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, col: usize, ldcol: i32,
  images: i32, xImage: i32, colImage: i32,
): void {
  for (let n = 0; n < images; n++) {
    im2col(
      x + ((<usize>n * <usize>xImage) << 2), C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw,
      col + ((<usize>n * <usize>colImage) << 2), ldcol,
    );
  }
}

/**
 * Output row width up to which im2col moves elements in plain loops (measured: the 32x32 stem's rows of
 * 16 unfold ~15% faster in the loops than as segments).
 */
const SHORT_ROW: i32 = 16;

/** Row length (floats) up to which regroup copies in a loop instead of a bulk-memory call. */
const SHORT_COPY: i32 = 16;

/**
 * Weight gradient (groups 1) of patch rows (taps) [r0, r1) without a patch matrix: for each image n
 * and block of `kb` output positions, the taps' rows of the block are unfolded into `scratch`
 * ([r1 - r0, kb]) and gradW[:, r0:r1] [O, Kc] += gradOut_n[:, block] [O, kb] x block^T. Images and
 * blocks go in order, so each element sums its products in the order one GEMM over all positions
 * would (k blocks of 256 added into gradW in turn), whichever task runs it. The first block's
 * product is written, not added, so gradW need not be zeroed.
 */
export function convWeightTaps(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  g: usize, N: i32, O: i32, dw_: usize, r0: i32, r1: i32, kb: i32, scratch: usize,
): void {
  const P = OH * OW;
  const Kc = C * KH * KW;
  const taps = r1 - r0;
  const gs = scratch + (<usize>((taps * kb + 15) & ~15) << 2);
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>n * <usize>C * <usize>H * <usize>W) << 2);
    const gn = g + ((<usize>n * <usize>O * <usize>P) << 2);
    for (let s0 = 0; s0 < P; s0 += kb) {
      const cols = min(kb, P - s0);
      unfoldColumns(xn, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, s0, s0 + cols, scratch, cols, r0, r1);
      const add = n > 0 || s0 > 0;
      sgemm(O, taps, cols, gn + (<usize>s0 << 2), P, 1, scratch, 1, cols, dw_ + (<usize>r0 << 2), Kc, add, gs);
    }
  }
}

/**
 * dst[i] = src[i] + src[stride + i] + ... + src[(count - 1) * stride + i], added in that order, for i
 * in [i0, i1): partial sums (as convWeightTaps' per image group) reduced the same way on any thread.
 */
export function sumParts(src: usize, count: i32, stride: i32, dst: usize, i0: i32, i1: i32): void {
  const step = <usize>stride << 2;
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    let p = src + (<usize>i << 2);
    let acc = v128.load(p);
    for (let t = 1; t < count; t++) {
      p += step;
      acc = f32x4.add(acc, v128.load(p));
    }
    v128.store(dst + (<usize>i << 2), acc);
  }
  for (; i < i1; i++) {
    let p = src + (<usize>i << 2);
    let acc = load<f32>(p);
    for (let t = 1; t < count; t++) {
      p += step;
      acc += load<f32>(p);
    }
    store<f32>(dst + (<usize>i << 2), acc);
  }
}

/** Floats of scratch one `convColumns` task needs for blocks of `nb` columns and Kc patch rows. */
export function convColumnsScratchFloats(Kc: i32, nb: i32): i32 {
  return ((Kc * nb + 15) & ~15) + ((sgemmScratchFloats() + 15) & ~15) + 8;
}

/**
 * Forward convolution (groups 1) without a whole patch matrix: output positions of each image go in
 * blocks of `nb` columns, each unfolded into `scratch` (an L2-sized [Kc, nb] block) and multiplied by
 * the weight [O, Kc] (element (o, k) at w + (o * wrs + k * wcs) * 4) straight into the batch-major
 * output [N, O, P]. Blocks bi = b0, b0 + bstep, ... < blocks (blocksPerImage per image) are this
 * task's; a block's arithmetic does not depend on which task runs it. With `stats` (else 0), also each
 * block's batch-norm statistics per output channel while the block is in cache: shift (the block's
 * first value of the channel), sum and sum of squares about it at stats + (bi * O + o) * 24 bytes.
 */
export function convColumns(
  x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  w: usize, wrs: i32, wcs: i32, O: i32, out: usize,
  nb: i32, b0: i32, bstep: i32, blocks: i32, stats: usize, scratch: usize,
): void {
  const P = OH * OW;
  const Kc = C * KH * KW;
  const perImage = (P + nb - 1) / nb;
  const gs = scratch + (<usize>((Kc * nb + 15) & ~15) << 2);
  const acc = gs + (<usize>((sgemmScratchFloats() + 15) & ~15) << 2);
  for (let bi = b0; bi < blocks; bi += bstep) {
    const n = bi / perImage;
    const j0 = (bi - n * perImage) * nb;
    const cols = min(nb, P - j0);
    const xn = x + ((<usize>n * <usize>C * <usize>H * <usize>W) << 2);
    unfoldColumns(xn, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, j0, j0 + cols, scratch, cols);
    const yn = out + ((<usize>n * <usize>O * <usize>P + <usize>j0) << 2);
    sgemm(O, cols, Kc, w, wrs, wcs, scratch, cols, 1, yn, P, false, gs);
    if (!stats) continue;
    for (let o = 0; o < O; o++) {
      statsPlane(yn + ((<usize>o * <usize>P) << 2), cols, stats + (<usize>bi * <usize>O + <usize>o) * 24, acc);
    }
  }
}

/**
 * Channels [c0, c1) of one image's input gradient for a 1x1 convolution at stride (sh, sw) without
 * padding: W^T x gOut ([c1 - c0, O] x [O, OH*OW], weight element (o, c) at w + (o * wrs + c * wcs) * 4)
 * into `scratch` (convColumnsScratchFloats(c1 - c0, OH*OW) floats), then every element of those
 * channels' [H, W] planes of `out` written once: the products at (oh * sh, ow * sw), zeros elsewhere.
 * No zeroed output, patch matrix or regroup pass; a row split does not change any element's sum.
 */
export function pointwiseStridedInput(
  g: usize, O: i32, OH: i32, OW: i32,
  w: usize, wrs: i32, wcs: i32,
  H: i32, W: i32, sh: i32, sw: i32,
  c0: i32, c1: i32, out: usize, scratch: usize,
): void {
  const P = OH * OW;
  const cb = c1 - c0;
  const gs = scratch + (<usize>((cb * P + 15) & ~15) << 2);
  sgemm(cb, P, O, w + ((<usize>c0 * <usize>wcs) << 2), wcs, wrs, g, P, 1, scratch, P, false, gs);
  const zero = f32x4.splat(0);
  let src = scratch;
  for (let c = c0; c < c1; c++) {
    const plane = out + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let h = 0; h < H; h++) {
      const row = plane + ((<usize>h * <usize>W) << 2);
      const oh = h / sh;
      if (h != oh * sh || oh >= OH) {
        memory.fill(row, 0, <usize>W << 2);
        continue;
      }
      let ow = 0;
      if (sw == 2) {
        // Outputs ow..ow+3 land on columns 2ow..2ow+7, with zeros between.
        for (; ow + 4 <= OW && 2 * ow + 8 <= W; ow += 4) {
          const v = v128.load(src + (<usize>ow << 2));
          const d = row + (<usize>(2 * ow) << 2);
          v128.store(d, v128.shuffle<f32>(v, zero, 0, 4, 1, 5));
          v128.store(d, v128.shuffle<f32>(v, zero, 2, 6, 3, 7), 16);
        }
      }
      for (let x = ow * sw; x < W; x++) {
        const q = x / sw;
        store<f32>(row + (<usize>x << 2), x == q * sw && q < OW ? load<f32>(src + (<usize>q << 2)) : 0);
      }
      src += <usize>OW << 2;
    }
  }
}

/**
 * Folds columns (rows at col + r * ldcol) back into an image [C, H, W], adding overlaps into `out`.
 * Each element receives its terms in row order, whatever the vector width (stride 2 adds four columns
 * per pair of vectors, with -0 in the skipped lanes, which leaves every value as it is).
 */
export function col2im(
  col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, OH: i32, OW: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, out: usize, ldcol: i32,
): void {
  const nz = f32x4.splat(-0.0);
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < KH; i++) {
      for (let j = 0; j < KW; j++, r++) {
        let src = col + ((<usize>r * <usize>ldcol) << 2);
        const w0 = j * dw - pw;
        const lo = min(interiorLo(w0, sw), OW);
        const hi = max(lo, interiorHi(w0, sw, W, OW));
        for (let oh = 0; oh < OH; oh++) {
          const h = oh * sh - ph + i * dh;
          if (h < 0 || h >= H) {
            src += <usize>OW << 2;
            continue;
          }
          const dst = out + ((<usize>(c * H + h) * <usize>W) << 2);
          let ow = lo;
          if (sw == 1) {
            for (; ow + 4 <= hi; ow += 4) {
              const p = dst + (<usize>(ow + w0) << 2);
              v128.store(p, f32x4.add(v128.load(p), v128.load(src + (<usize>ow << 2))));
            }
          } else if (sw == 2) {
            for (; ow + 4 <= hi && 2 * ow + w0 + 8 <= W; ow += 4) {
              const p = dst + (<usize>(2 * ow + w0) << 2);
              const v = v128.load(src + (<usize>ow << 2));
              v128.store(p, f32x4.add(v128.load(p), v128.shuffle<f32>(v, nz, 0, 4, 1, 5)));
              v128.store(p, f32x4.add(v128.load(p, 16), v128.shuffle<f32>(v, nz, 2, 6, 3, 7)), 16);
            }
          }
          for (; ow < hi; ow++) {
            const p = dst + (<usize>(ow * sw + w0) << 2);
            store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>ow << 2)));
          }
          src += <usize>OW << 2;
        }
      }
    }
  }
}

/**
 * Copies the kept taps of a weight for outputs [o0, o1) to `dst` (contiguous [O, Cg, kh, kw]): element
 * (o, c, y, x) of the kept window is at w + (o * so + c * sc + y * sh + x * sx) * 4.
 */
export function gatherTaps(
  w: usize, so: i32, sc: i32, sh: i32, sx: i32, dst: usize, o0: i32, o1: i32, Cg: i32, kh: i32, kw: i32,
): void {
  let d = dst + ((<usize>o0 * <usize>(Cg * kh * kw)) << 2);
  for (let o = o0; o < o1; o++) {
    for (let c = 0; c < Cg; c++) {
      const base = w + ((<usize>o * <usize>so + <usize>c * <usize>sc) << 2);
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          store<f32>(d, load<f32>(base + (<usize>(y * sh + x * sx) << 2)));
          d += 4;
        }
      }
    }
  }
}

/** Rows scatterTaps zeroes at a time (a 3x3 kernel's: 36 KB). */
const SCATTER_ROWS: i32 = 1024;

/**
 * Rows [r0, r1) of a full kernel gradient [rows, KH, KW] from the gradient of its kept taps `kept`
 * ([rows, kh, kw], rows kh0.., columns kw0..): each row is written once, zeros around the kept window.
 */
export function scatterTaps(
  kept: usize, dst: usize, r0: i32, r1: i32, KH: i32, KW: i32, kh0: i32, kh: i32, kw0: i32, kw: i32,
): void {
  const taps = <usize>(KH * KW);
  let src = kept + ((<usize>r0 * <usize>(kh * kw)) << 2);
  for (let r = r0; r < r1; r++) {
    const row = dst + ((<usize>r * taps) << 2);
    // Zeroed a block of rows at a time (a bulk fill, then the kept taps while the block is in cache).
    if ((r - r0) % SCATTER_ROWS == 0) memory.fill(row, 0, (<usize>min(SCATTER_ROWS, r1 - r) * taps) << 2);
    for (let y = 0; y < kh; y++) {
      const d = row + (<usize>((kh0 + y) * KW + kw0) << 2);
      for (let x = 0; x < kw; x++) {
        store<f32>(d + (<usize>x << 2), load<f32>(src));
        src += 4;
      }
    }
  }
}

/**
 * Moves P-float rows between a rows-major block [rows, N, P] and a batch-major tensor where row r of
 * image n sits at batchMajor + (n * batchRows + r) * P (toBatchMajor picks the direction). With
 * `stats` (else 0), also each row's batch-norm statistics as it lands in the batch-major tensor, at
 * stats + (n * batchRows + r) * 24 bytes (statsPlane; acc: its accumulator).
 */
export function regroup(
  rowsMajor: usize, batchMajor: usize, rows: i32, N: i32, P: i32, batchRows: i32, toBatchMajor: bool,
  stats: usize, acc: usize,
): void {
  const bytes = <usize>P << 2;
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      const a = rowsMajor + ((<usize>(r * N + n) * <usize>P) << 2);
      const row = <usize>(n * batchRows + r);
      const b = batchMajor + ((row * <usize>P) << 2);
      const dst = toBatchMajor ? b : a;
      const src = toBatchMajor ? a : b;
      if (P > SHORT_COPY) {
        memory.copy(dst, src, bytes);
      } else {
        // A few floats (small maps): a loop beats a bulk-memory call.
        for (let o: usize = 0; o < bytes; o += 4) store<f32>(dst + o, load<f32>(src + o));
      }
      if (stats) statsPlane(dst, P, stats + row * 24, acc);
    }
  }
}

/**
 * In place over a batch-major [N, C, P] block: x = x * scale[c] + shift[c] (+ residual), then max(x, 0)
 * when `relu` (NaN stays NaN, as PyTorch's relu). A zero pointer skips scale, shift or residual.
 */
export function epilogue(x: usize, N: i32, C: i32, P: i32, scale: usize, shift: usize, residual: usize, relu: bool): void {
  const zero = f32x4.splat(0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const s: f32 = scale ? load<f32>(scale + (<usize>c << 2)) : 1;
      const t: f32 = shift ? load<f32>(shift + (<usize>c << 2)) : 0;
      const vs = f32x4.splat(s);
      const vt = f32x4.splat(t);
      const off = (<usize>(n * C + c) * <usize>P) << 2;
      const p = x + off;
      const q = residual + off;
      let j = 0;
      for (; j + 4 <= P; j += 4) {
        const o = <usize>j << 2;
        let v = f32x4.add(f32x4.mul(v128.load(p + o), vs), vt);
        if (residual) v = f32x4.add(v, v128.load(q + o));
        if (relu) v = f32x4.max(v, zero);
        v128.store(p + o, v);
      }
      for (; j < P; j++) {
        const o = <usize>j << 2;
        let v = load<f32>(p + o) * s + t;
        if (residual) v += load<f32>(q + o);
        if (relu) v = v > 0 || v != v ? v : 0;
        store<f32>(p + o, v);
      }
    }
  }
}

/** Four floats at p, p + s, p + 2s, p + 3s (s in floats). */
@inline
function gather4(p: usize, s: i32): v128 {
  if (s == 1) return v128.load(p);
  if (s == 2) return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
  const b = <usize>s << 2;
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + b));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * b));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * b));
}

/**
 * Max pooling over `planes` planes [H, W] into [OH, OW], with PyTorch's rule: start at the first tap
 * inside the image, move on a strictly greater value or a NaN. Interior outputs go four at a time in
 * SIMD lanes (a scalar running max is bound by its compare-select latency; a row's last group may
 * overlap the one before it); columns with a tap outside the image run scalar. When
 * `idx` is not zero, the flat in-plane index of each maximum goes there as i32.
 */
export function maxPool(
  x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  out: usize, idx: usize,
): void {
  // Output columns [owLo, owHi) have every horizontal tap inside the image.
  let owLo = 0;
  while (owLo < OW && owLo * sw - pw < 0) owLo++;
  let owHi = OW;
  while (owHi > owLo && (owHi - 1) * sw - pw + (kw - 1) * dw >= W) owHi--;
  const lane = i32x4(0, sw, 2 * sw, 3 * sw);
  let o: usize = 0;
  for (let nc = 0; nc < planes; nc++) {
    const base = x + ((<usize>nc * <usize>H * <usize>W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - ph;
      let iLo = 0;
      while (h0 + iLo * dh < 0) iLo++;
      let iHi = kh;
      while (iHi > iLo && h0 + (iHi - 1) * dh >= H) iHi--;
      let ow = 0;
      while (ow < OW) {
        if (ow >= owLo && ow < owHi && owHi - owLo >= 4) {
          // The last group of a row may start before `ow` (overlapping the one before it, whose outputs
          // it writes again with the same values), so the right edge's interior columns run in lanes too.
          if (ow + 4 > owHi) {
            o -= <usize>(ow - (owHi - 4));
            ow = owHi - 4;
          }
          const w0 = ow * sw - pw;
          let best = f32x4.splat(-Infinity);
          let bi = i32x4.add(i32x4.splat((h0 + iLo * dh) * W + w0), lane);
          for (let i = iLo; i < iHi; i++) {
            const row = (h0 + i * dh) * W + w0;
            for (let j = 0; j < kw; j++) {
              const t = row + j * dw;
              const v = gather4(base + (<usize>t << 2), sw);
              const take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
              best = v128.bitselect(v, best, take);
              if (idx) bi = v128.bitselect(i32x4.add(i32x4.splat(t), lane), bi, take);
            }
          }
          v128.store(out + (o << 2), best);
          if (idx) v128.store(idx + (o << 2), bi);
          ow += 4;
          o += 4;
          continue;
        }
        const w0 = ow * sw - pw;
        let jLo = 0;
        while (w0 + jLo * dw < 0) jLo++;
        let jHi = kw;
        while (jHi > jLo && w0 + (jHi - 1) * dw >= W) jHi--;
        let best: f32 = -Infinity;
        let bi: i32 = (h0 + iLo * dh) * W + w0 + jLo * dw;
        for (let i = iLo; i < iHi; i++) {
          const row = (h0 + i * dh) * W + w0;
          for (let j = jLo; j < jHi; j++) {
            const t = row + j * dw;
            const v = load<f32>(base + (<usize>t << 2));
            if (v > best || v != v) {
              best = v;
              bi = t;
            }
          }
        }
        store<f32>(out + (o << 2), best);
        if (idx) store<i32>(idx + (o << 2), bi);
        ow++;
        o++;
      }
    }
  }
}

export * from './winograd';
export * from './winograd-weight';
export * from './winograd-s2';

/**
 * One SGD step over floats [i0, i1) of a parameter, in float32 as PyTorch's single-tensor SGD:
 * d = sign * g + wd * p; b = first ? d : momentum * b + (1 - dampening) * d; p -= lr * (nesterov ?
 * d + momentum * b : b). `buf` 0: no momentum buffer (p -= lr * d).
 */
export function sgdStep(
  p: usize, g: usize, buf: usize, i0: i32, i1: i32,
  lr: f32, momentum: f32, dampening: f32, nesterov: bool, maximize: bool, wd: f32, first: bool,
): void {
  const sign: f32 = maximize ? -1 : 1;
  const keep: f32 = 1 - dampening;
  const vs = f32x4.splat(sign);
  const vwd = f32x4.splat(wd);
  const vlr = f32x4.splat(lr);
  const vm = f32x4.splat(momentum);
  const vk = f32x4.splat(keep);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const x = v128.load(p + o);
    const d = f32x4.add(f32x4.mul(vs, v128.load(g + o)), f32x4.mul(vwd, x));
    let step = d;
    if (buf) {
      const b = first ? d : f32x4.add(f32x4.mul(vm, v128.load(buf + o)), f32x4.mul(vk, d));
      v128.store(buf + o, b);
      step = nesterov ? f32x4.add(d, f32x4.mul(vm, b)) : b;
    }
    v128.store(p + o, f32x4.sub(x, f32x4.mul(vlr, step)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(p + o);
    const d: f32 = sign * load<f32>(g + o) + wd * x;
    let step = d;
    if (buf) {
      const b: f32 = first ? d : momentum * load<f32>(buf + o) + keep * d;
      store<f32>(buf + o, b);
      step = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + o, x - lr * step);
  }
}
