// Pixel kernels on planar images ([planes, height, width] typed arrays) that reproduce torch's CPU arithmetic.

/** Element arrays the kernels read and write. */
export type PlaneArray = Float32Array | Float64Array | Uint8Array;

/** `planes` images of height × width stored one after another, row-major. */
export interface Planar<A extends PlaneArray = PlaneArray> {
  data: A;
  planes: number;
  height: number;
  width: number;
}

/** Interpolation modes the resize kernels implement (torchvision's InterpolationMode values). */
export type Interpolation = 'bilinear' | 'nearest';

/** Whether arithmetic is rounded to float32 after every step (as torch does for float32 and uint8 input) or kept in float64. */
export type Precision = 'float32' | 'float64';

const identity = (x: number): number => x;

function rounder(precision: Precision): (x: number) => number {
  return precision === 'float32' ? Math.fround : identity;
}

// torch's CPU kernels are compiled with FMA contraction. On the reference build (Debian's torch
// 1.13, AVX2) the vertical antialias pass fuses `acc + t * w` and plain bilinear fuses
// `t0 * w0 + t1 * w1` into fma(t0, w0, t1 * w1); replaying that makes most float32 results agree
// bit for bit (all of them for plain bilinear on contiguous multi-channel input). Where torch
// vectorizes or takes its channels-last kernel the last bit can still differ. A product of two
// float32s is exact in a double, so one double addition and one float rounding stand in for the fma.
function fusedMultiplyAdd(precision: Precision): (a: number, b: number, c: number) => number {
  return precision === 'float32' ? (a, b, c) => Math.fround(a * b + c) : (a, b, c) => a * b + c;
}

function allocate(precision: Precision, length: number): Float32Array | Float64Array {
  return precision === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/** Round half to even, as torch.round and Python's round do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; step back when that lands on an odd number.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torch's cast of a rounded float to uint8 for values already inside [0, 255]; clamping guards the rest. */
export function toUint8(data: ArrayLike<number>, round: 'halfEven' | 'truncate'): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = round === 'halfEven' ? roundHalfEven(data[i]) : Math.trunc(data[i]);
    out[i] = Math.min(Math.max(v, 0), 255);
  }
  return out;
}

/** One output index's source window and weights along one axis. */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per output index. */
  weights: Float64Array;
  maxTaps: number;
}

// torch's _compute_weights_aa for the triangle (bilinear) filter; `fr` replays the float32 roundings
// of the C++ code (float center/support, double literals) so that uint8 results round the same way.
function antialiasTaps(inSize: number, outSize: number, fr: (x: number) => number): AxisTaps {
  const scale = fr(inSize / outSize);
  const support = Math.max(scale, 1);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const invScale = scale >= 1 ? fr(1 / scale) : 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = fr(scale * (i + 0.5));
    const xmin = Math.max(Math.trunc(fr(center - support) + 0.5), 0);
    const xsize = Math.min(Math.trunc(fr(center + support) + 0.5), inSize) - xmin;
    let total = 0;
    const base = i * maxTaps;
    for (let j = 0; j < xsize; j++) {
      let x = fr((fr(j + xmin - center) + 0.5) * invScale);
      if (x < 0) x = -x;
      const w = x < 1 ? fr(1 - x) : 0;
      weights[base + j] = w;
      total = fr(total + w);
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) weights[base + j] = fr(weights[base + j] / total);
    start[i] = xmin;
    count[i] = xsize;
  }
  return { start, count, weights, maxTaps };
}

// torch's compute_indices_weights_linear (align_corners=False): two taps, source index clamped at 0.
function bilinearTaps(inSize: number, outSize: number, fr: (x: number) => number): AxisTaps {
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * 2);
  const scale = fr(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    let i0 = i;
    let l1 = 0;
    if (inSize !== outSize) {
      // The source index is computed in acc_type<float> = double on CPU; only lambda is stored as float.
      let real = scale * (i + 0.5) - 0.5;
      if (real < 0) real = 0;
      i0 = Math.trunc(real);
      l1 = fr(Math.min(Math.max(real - i0, 0), 1));
    }
    const offset = i0 < inSize - 1 ? 1 : 0;
    start[i] = i0;
    // At the last pixel torch's second tap is the first one again (offset 0), still weighted by lambda1.
    count[i] = 1 + offset;
    weights[i * 2] = fr(1 - l1);
    weights[i * 2 + 1] = l1;
  }
  return { start, count, weights, maxTaps: 2 };
}

// torch's nearest_idx (legacy 'nearest': floor of dst * scale).
function nearestTaps(inSize: number, outSize: number): AxisTaps {
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize).fill(1);
  const weights = new Float64Array(outSize).fill(1);
  const scale = Math.fround(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    if (outSize === inSize) start[i] = i;
    else if (outSize === 2 * inSize) start[i] = i >> 1;
    else start[i] = Math.min(Math.floor(Math.fround(i * scale)), inSize - 1);
  }
  return { start, count, weights, maxTaps: 1 };
}

function resizeWidth(
  src: Planar,
  outW: number,
  taps: AxisTaps,
  precision: Precision,
): Planar<Float32Array | Float64Array> {
  const fr = rounder(precision);
  const rows = src.planes * src.height;
  const inW = src.width;
  const out = allocate(precision, rows * outW);
  const { start, count, weights, maxTaps } = taps;
  const s = src.data;
  for (let r = 0; r < rows; r++) {
    const rowIn = r * inW;
    const rowOut = r * outW;
    for (let x = 0; x < outW; x++) {
      const base = x * maxTaps;
      const p = rowIn + start[x];
      let acc = fr(s[p] * weights[base]);
      for (let j = 1; j < count[x]; j++) acc = fr(acc + fr(s[p + j] * weights[base + j]));
      out[rowOut + x] = acc;
    }
  }
  return { data: out, planes: src.planes, height: src.height, width: outW };
}

function resizeHeight(
  src: Planar,
  outH: number,
  taps: AxisTaps,
  precision: Precision,
): Planar<Float32Array | Float64Array> {
  const fr = rounder(precision);
  const fma = fusedMultiplyAdd(precision);
  const { planes, height: inH, width: w } = src;
  const out = allocate(precision, planes * outH * w);
  const { start, count, weights, maxTaps } = taps;
  const s = src.data;
  for (let p = 0; p < planes; p++) {
    const planeIn = p * inH * w;
    const planeOut = p * outH * w;
    for (let y = 0; y < outH; y++) {
      const base = y * maxTaps;
      const rowIn = planeIn + start[y] * w;
      const rowOut = planeOut + y * w;
      for (let x = 0; x < w; x++) {
        let acc = fr(s[rowIn + x] * weights[base]);
        for (let j = 1; j < count[y]; j++) acc = fma(s[rowIn + j * w + x], weights[base + j], acc);
        out[rowOut + x] = acc;
      }
    }
  }
  return { data: out, planes, height: outH, width: w };
}

/** Options of {@link resizePlanar}. */
export interface ResizeKernelOptions {
  interpolation: Interpolation;
  antialias: boolean;
  precision: Precision;
}

/**
 * Resizes every plane to outH × outW with torch.nn.functional.interpolate's CPU semantics
 * (align_corners=False): antialiased bilinear is the separable triangle filter of
 * `_upsample_bilinear2d_aa` (width pass, then height pass), plain bilinear the two-tap kernel of
 * `upsample_bilinear2d`, nearest the legacy floor rule. Returns unrounded values.
 */
export function resizePlanar(
  src: Planar,
  outH: number,
  outW: number,
  options: ResizeKernelOptions,
): Planar<Float32Array | Float64Array> {
  const { interpolation, antialias, precision } = options;
  const fr = rounder(precision);
  if (interpolation === 'nearest') {
    const rows = nearestTaps(src.height, outH);
    const cols = nearestTaps(src.width, outW);
    return resizeHeight(resizeWidth(src, outW, cols, precision), outH, rows, precision);
  }
  if (antialias) {
    // torch runs the last dimension first, keeping the float intermediate.
    const wide = resizeWidth(src, outW, antialiasTaps(src.width, outW, fr), precision);
    return resizeHeight(wide, outH, antialiasTaps(src.height, outH, fr), precision);
  }
  return bilinear2d(src, outH, outW, fr, precision);
}

// Plain bilinear evaluates each output from four taps in one expression, height weights outermost.
function bilinear2d(
  src: Planar,
  outH: number,
  outW: number,
  fr: (x: number) => number,
  precision: Precision,
): Planar<Float32Array | Float64Array> {
  const fma = fusedMultiplyAdd(precision);
  const rows = bilinearTaps(src.height, outH, fr);
  const cols = bilinearTaps(src.width, outW, fr);
  const { planes, height: inH, width: inW } = src;
  const s = src.data;
  const out = allocate(precision, planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    const planeIn = p * inH * inW;
    for (let y = 0; y < outH; y++) {
      const y0 = rows.start[y];
      const y1 = y0 + rows.count[y] - 1;
      const wy0 = rows.weights[y * 2];
      const wy1 = rows.weights[y * 2 + 1];
      for (let x = 0; x < outW; x++) {
        const x0 = cols.start[x];
        const x1 = x0 + cols.count[x] - 1;
        const wx0 = cols.weights[x * 2];
        const wx1 = cols.weights[x * 2 + 1];
        const r0 = planeIn + y0 * inW;
        const r1 = planeIn + y1 * inW;
        // A clamped edge is a second tap on the same pixel with weight lambda1 (torch reads it twice).
        const top = fma(s[r0 + x0], wx0, fr(s[r0 + x1] * wx1));
        const bottom = fma(s[r1 + x0], wx0, fr(s[r1 + x1] * wx1));
        out[(p * outH + y) * outW + x] = fma(top, wy0, fr(bottom * wy1));
      }
    }
  }
  return { data: out, planes, height: outH, width: outW };
}

function like<A extends PlaneArray>(data: A, length: number): A {
  return new (data.constructor as new (n: number) => A)(length);
}

/** Copies the window [top, top+height) × [left, left+width) of every plane; pixels outside the source are 0 (torchvision pads with 0). */
export function cropPlanar<A extends PlaneArray>(
  src: Planar<A>,
  top: number,
  left: number,
  height: number,
  width: number,
): Planar<A> {
  const out = like(src.data, src.planes * height * width);
  for (let p = 0; p < src.planes; p++) {
    for (let y = 0; y < height; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= src.height) continue;
      const rowIn = (p * src.height + sy) * src.width;
      const rowOut = (p * height + y) * width;
      for (let x = 0; x < width; x++) {
        const sx = left + x;
        if (sx >= 0 && sx < src.width) out[rowOut + x] = src.data[rowIn + sx];
      }
    }
  }
  return { data: out, planes: src.planes, height, width };
}

/** Mirrors every plane left to right. */
export function flipPlanarHorizontal<A extends PlaneArray>(src: Planar<A>): Planar<A> {
  const { planes, height, width } = src;
  const out = like(src.data, src.data.length);
  for (let r = 0; r < planes * height; r++) {
    const row = r * width;
    for (let x = 0; x < width; x++) out[row + x] = src.data[row + width - 1 - x];
  }
  return { data: out, planes, height, width };
}

/** HWC bytes to planar [channels, height, width]. */
export function interleavedToPlanar(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
): Planar<Uint8Array> {
  const out = new Uint8Array(data.length);
  const pixels = height * width;
  for (let p = 0; p < pixels; p++)
    for (let c = 0; c < channels; c++) out[c * pixels + p] = data[p * channels + c];
  return { data: out, planes: channels, height, width };
}

/** Planar [channels, height, width] bytes back to HWC. */
export function planarToInterleaved(src: Planar<Uint8Array>): Uint8Array {
  const { planes: channels, height, width } = src;
  const pixels = height * width;
  const out = new Uint8Array(src.data.length);
  for (let p = 0; p < pixels; p++)
    for (let c = 0; c < channels; c++) out[p * channels + c] = src.data[c * pixels + p];
  return out;
}
