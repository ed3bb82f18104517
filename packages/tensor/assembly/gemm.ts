// SIMD single-precision GEMM for graft's CPU backend (WebAssembly SIMD128).
// C[M,N] (+)= A[M,K] * B[K,N], where A and B are read through arbitrary (row, col) element strides
// and C is row-major. B is packed into 8-column panels so the inner loop streams two v128 loads per k,
// and a 4x8 register tile (8 accumulators) keeps the product in registers.

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
 * SIMD lanes (a scalar running max is bound by its compare-select latency); edges run scalar. When
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
        if (ow >= owLo && ow + 4 <= owHi) {
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

/** Adds the four lanes of `v` to the float64 pair accumulators (lanes 0-1 to a, 2-3 to b). */
@inline
function widen(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline
function widenHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/**
 * Per-channel sums over a batch-major block [N, C, S] for channels [c0, c1), accumulated in float64
 * and stored (not added) at out[c]: the sum of x where `mean` is 0, else the sum of (x - mean[c])^2.
 */
export function chanSum(x: usize, N: i32, C: i32, S: i32, c0: i32, c1: i32, mean: usize, out: usize): void {
  for (let c = c0; c < c1; c++) {
    const m: f32 = mean ? load<f32>(mean + (<usize>c << 2)) : 0;
    const vm = f32x4.splat(m);
    let a = f64x2.splat(0);
    let b = f64x2.splat(0);
    let tail: f64 = 0;
    for (let n = 0; n < N; n++) {
      const p = x + ((<usize>(n * C + c) * <usize>S) << 2);
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        let v = v128.load(p + (<usize>s << 2));
        if (mean) {
          v = f32x4.sub(v, vm);
          // Squares in float64: the lanes widen first.
          const lo = widen(v);
          const hi = widenHigh(v);
          a = f64x2.add(a, f64x2.mul(lo, lo));
          b = f64x2.add(b, f64x2.mul(hi, hi));
        } else {
          a = f64x2.add(a, widen(v));
          b = f64x2.add(b, widenHigh(v));
        }
      }
      for (; s < S; s++) {
        const v = <f64>load<f32>(p + (<usize>s << 2));
        if (mean) {
          const d = v - <f64>m;
          tail += d * d;
        } else tail += v;
      }
    }
    const t = f64x2.add(a, b);
    store<f64>(out + (<usize>c << 3), f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1) + tail);
  }
}

/**
 * Batch-norm backward sums for channels [c0, c1) of [N, C, S]: sg[c] = sum(g) and
 * sgx[c] = sum(g * (x - mean[c])) in float64. With `y` (a fused ReLU's output), g is first masked
 * in place: 0 where y <= 0 (ReLU's backward).
 */
export function chanGradSum(
  g: usize, x: usize, y: usize, N: i32, C: i32, S: i32, c0: i32, c1: i32,
  mean: usize, sg: usize, sgx: usize,
): void {
  const zero = f32x4.splat(0);
  for (let c = c0; c < c1; c++) {
    const m: f32 = load<f32>(mean + (<usize>c << 2));
    const vm = f32x4.splat(m);
    let a = f64x2.splat(0);
    let b = f64x2.splat(0);
    let ax = f64x2.splat(0);
    let bx = f64x2.splat(0);
    let tg: f64 = 0;
    let tgx: f64 = 0;
    for (let n = 0; n < N; n++) {
      const off = (<usize>(n * C + c) * <usize>S) << 2;
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        const o = off + (<usize>s << 2);
        let gv = v128.load(g + o);
        if (y) {
          gv = v128.andnot(gv, f32x4.le(v128.load(y + o), zero));
          v128.store(g + o, gv);
        }
        const d = f32x4.sub(v128.load(x + o), vm);
        const glo = widen(gv);
        const ghi = widenHigh(gv);
        a = f64x2.add(a, glo);
        b = f64x2.add(b, ghi);
        ax = f64x2.add(ax, f64x2.mul(glo, widen(d)));
        bx = f64x2.add(bx, f64x2.mul(ghi, widenHigh(d)));
      }
      for (; s < S; s++) {
        const o = off + (<usize>s << 2);
        let gv = load<f32>(g + o);
        if (y && load<f32>(y + o) <= 0) {
          gv = 0;
          store<f32>(g + o, 0);
        }
        tg += <f64>gv;
        tgx += <f64>gv * (<f64>load<f32>(x + o) - <f64>m);
      }
    }
    const t = f64x2.add(a, b);
    const tx = f64x2.add(ax, bx);
    store<f64>(sg + (<usize>c << 3), f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1) + tg);
    store<f64>(sgx + (<usize>c << 3), f64x2.extract_lane(tx, 0) + f64x2.extract_lane(tx, 1) + tgx);
  }
}

/** out = a * ka[c] + b * kb[c] + k0[c] over a batch-major block [N, C, S] (out may alias a or b). */
export function chanAffine2(a: usize, b: usize, N: i32, C: i32, S: i32, ka: usize, kb: usize, k0: usize, out: usize): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const fa = load<f32>(ka + (<usize>c << 2));
      const fb = load<f32>(kb + (<usize>c << 2));
      const f0 = load<f32>(k0 + (<usize>c << 2));
      const va = f32x4.splat(fa);
      const vb = f32x4.splat(fb);
      const v0 = f32x4.splat(f0);
      const off = (<usize>(n * C + c) * <usize>S) << 2;
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        const o = off + (<usize>s << 2);
        const v = f32x4.add(f32x4.add(f32x4.mul(v128.load(a + o), va), f32x4.mul(v128.load(b + o), vb)), v0);
        v128.store(out + o, v);
      }
      for (; s < S; s++) {
        const o = off + (<usize>s << 2);
        store<f32>(out + o, load<f32>(a + o) * fa + load<f32>(b + o) * fb + f0);
      }
    }
  }
}

export * from './winograd';
export * from './winograd-weight';

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

/**
 * out[i] = a[i] op b[i] (bStep 1) or a[i] op b[0] (bStep 0) for i in [i0, i1), in float32: op 0 add,
 * 1 sub, 2 mul, 3 div. `out` may be `a` (in place). IEEE float32 results, as the JavaScript loops give.
 */
export function binaryF32(op: i32, a: usize, b: usize, out: usize, i0: i32, i1: i32, bStep: i32): void {
  const one = f32x4.splat(load<f32>(b));
  let i = i0;
  const v = i1 - 3;
  if (op == 0) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.add(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else if (op == 1) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.sub(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else if (op == 2) {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  } else {
    for (; i < v; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.div(v128.load(a + o), bStep ? v128.load(b + o) : one));
    }
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(a + o);
    const y = load<f32>(bStep ? b + o : b);
    store<f32>(out + o, op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / y);
  }
}
