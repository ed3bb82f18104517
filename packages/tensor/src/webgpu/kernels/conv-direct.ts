// Direct convolution kernels (no shared memory, no barriers) for the products the tiled GEMM (gemm.ts)
// runs in a handful of workgroups: the forward and input gradient over few output positions (the 1x1
// to 8x8 maps of a ResNet's last stages at small batch), where one thread per channel keeps up to 8
// positions in registers, and the weight gradient over at most 512 positions, where one thread keeps
// 8 output channels of one weight column (or of 4 input channels at one window tap). Each inner step is one load the thread owns, loads whose
// address is the same in every thread, and the multiply-adds, with no index division in the loop:
// what a software adapter (lavapipe runs invocations as CPU SIMD lanes) is fast at.

import type { DType } from '../../dtype.js';
import type { GpuClass } from '../runtime/dtype.js';
import { gpuClass } from '../runtime/dtype.js';
import { kernel } from '../runtime/params.js';
import { PRELUDE } from './math.js';
import { loadAs, storeAs } from './wgsl.js';

/**
 * The conjunction of boolean WGSL expressions `terms` with the non-short-circuit `&` (each term in
 * parentheses, as WGSL requires for relational operands of `&`). The kernels below never use `&&` or
 * `||`: Tint lowers each short-circuit operator to a branch and a merge block, and SwiftShader (the
 * adapter of headless Chromium) takes time exponential in how many of them one function has to compile
 * it: the 8-column forward (40 of them in its loop) took minutes, long enough that the GPU process
 * never answered, while with `&` and `|` it compiles in half a second.
 */
function all(...terms: string[]): string {
  return terms.map((t) => `(${t})`).join(' & ');
}

/** Threads (output channels) per workgroup. */
const ROWS = 64;

/** Columns (output positions) per thread at most. */
export const DIRECT_COLUMNS = 8;

/**
 * Products with at most this many columns run direct (conv.ts); wider ones run the tiled GEMM. On
 * lavapipe direct wins clearly up to 32 columns and ties at 128.
 */
export const DIRECT_MAX_N = 64;

/** Which convolution: the forward (rows = output channels, j = input channels) or the input gradient. */
export type DirectKind = 'conv2d' | 'conv2dBackwardInput';

/** Layer geometry: x [N, C, IH, IW], weight [O, CG, KH, KW] in G groups (OG = O / G), out [N, O, OH, OW]. */
export const GEOMETRY = [
  'C',
  'IH',
  'IW',
  'O',
  'CG',
  'OG',
  'KH',
  'KW',
  'OH',
  'OW',
  'SH',
  'SW',
  'PH',
  'PW',
  'DH',
  'DW',
  'KC',
] as const;

/** Parameters of the direct kernels: geometry as in conv.ts, offsets, the GEMM's M and N, K the batch. */
export const DIRECT_PARAMS = ['M', 'N', 'K', 'XO', 'WO', 'GO', ...GEOMETRY] as const;

/** Columns a thread keeps for an N-column product: N rounded up to a power of two, at most 8. */
export function directColumns(N: number): number {
  return Math.min(DIRECT_COLUMNS, 2 ** Math.ceil(Math.log2(Math.max(N, 1))));
}

/**
 * The direct kernel for `kind` with `cols` columns per thread, over the grid [ceil(M / 64),
 * ceil(N / cols), groups]. Binding 1 is the output, 2 the source (x or gradOut), 3 the weight.
 */
export function directConvKernel(kind: DirectKind, dtype: DType, classes: readonly GpuClass[], cols: number) {
  const [sc, wc] = classes;
  return kernel(`conv-direct:${kind}:${dtype}:${classes.join(',')}:${cols}`, DIRECT_PARAMS, () => {
    const fwd = kind === 'conv2d';
    const s = Array.from({ length: cols }, (_, i) => i);
    const each = (f: (i: number) => string) => s.map(f).join('\n  ');
    // Column n = (img, y, x) over the output's positions: the forward's [OH, OW], the gradient's [IH, IW].
    const [YH, YW] = fwd ? ['OH', 'OW'] : ['IH', 'IW'];
    // Per (kh, kw) and column: the source element of channel 0 and whether the tap hits the source.
    const tap = fwd
      ? (i: number) => `let h${i} = y${i} * SH - PH + kh * DH; let w${i} = x${i} * SW - PW + kw * DW;
  let ok${i} = ${all(`in${i}`, `h${i} >= 0`, `h${i} < IH`, `w${i} >= 0`, `w${i} < IW`)};
  let b${i} = select(SO, SO + (img${i} * C + g * CG) * IH * IW + h${i} * IW + w${i}, ok${i});`
      : (i: number) => `let th${i} = y${i} + PH - kh * DH; let tw${i} = x${i} + PW - kw * DW;
  let oh${i} = th${i} / SH; let ow${i} = tw${i} / SW;
  let ok${i} = ${all(`in${i}`, `th${i} >= 0`, `tw${i} >= 0`, `oh${i} * SH == th${i}`, `ow${i} * SW == tw${i}`, `oh${i} < OH`, `ow${i} < OW`)};
  let b${i} = select(SO, SO + ((img${i} * O + g * OG) * OH + oh${i}) * OW + ow${i}, ok${i});`;
    return `@group(0) @binding(1) var<storage, read_write> OUT: array<${gpuClass(dtype)}>;
@group(0) @binding(2) var<storage, read> SRC: array<${sc}>;
@group(0) @binding(3) var<storage, read> WT: array<${wc}>;
${PRELUDE}
@compute @workgroup_size(${ROWS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = p.M; let N = p.N; let C = p.C; let IH = p.IH; let IW = p.IW; let O = p.O; let CG = p.CG; let OG = p.OG;
  let KH = p.KH; let KW = p.KW; let OH = p.OH; let OW = p.OW; let SH = p.SH; let SW = p.SW;
  let PH = p.PH; let PW = p.PW; let DH = p.DH; let DW = p.DW;
  let SO = ${fwd ? 'p.XO' : 'p.GO'};
  let g = i32(wid.z);
  let mOut = i32(wid.x) * ${ROWS} + i32(lid);
  // Rows past M compute row M - 1 again and do not store: control flow stays uniform.
  let m = min(mOut, M - 1);
  let n0 = i32(wid.y) * ${cols};
  let YHW = ${YH} * ${YW};
  let J = ${fwd ? 'CG' : 'OG'};
  let bStep = ${fwd ? 'IH * IW' : 'OH * OW'};
  let KHW = KH * KW;
  let aStep = ${fwd ? 'KHW' : 'CG * KHW'};
  let aRow = p.WO + ${fwd ? '(g * OG + m) * CG * KHW' : '(g * OG * CG + m) * KHW'};
  ${each((i) => `let in${i} = n0 + ${i} < N; let nn${i} = min(n0 + ${i}, N - 1); let img${i} = nn${i} / YHW; let q${i} = nn${i} - img${i} * YHW; let y${i} = q${i} / ${YW}; let x${i} = q${i} - y${i} * ${YW};`)}
  ${each((i) => `var acc${i} = 0.0;`)}
  for (var kh = 0; kh < KH; kh++) {
    for (var kw = 0; kw < KW; kw++) {
      ${each(tap)}
      // Taps that hit padding (or, in the strided gradient, fall between outputs) for every column are
      // skipped: on a 1x1 map only the centre of a 3x3 window counts.
      if (${s.map((i) => `ok${i}`).join(' | ')}) {
        var a = aRow + kh * KW + kw;
        ${each((i) => `var s${i} = b${i};`)}
        for (var j = 0; j < J; j++) {
          let av = ${loadAs(wc, 'f32', 'WT[u32(a)]')};
          ${each((i) => `acc${i} += av * select(0.0, ${loadAs(sc, 'f32', `SRC[u32(s${i})]`)}, ok${i});`)}
          a += aStep;
          ${each((i) => `s${i} += bStep;`)}
        }
      }
    }
  }
  if (mOut < M) {
    let rowOff = (g * ${fwd ? 'OG' : 'CG'} + m) * YHW;
    let outRows = ${fwd ? 'O' : 'C'};
    ${each((i) => `if (in${i}) { OUT[u32((img${i} * outRows) * YHW + rowOff + q${i})] = ${storeAs(dtype, 'f32', `acc${i}`)}; }`)}
  }
}`;
  });
}

/** Output channels each thread of the direct weight gradient computes. */
export const WEIGHT_ROWS = 8;

/**
 * Which direct kernel computes a weight gradient summed over K positions (N * OH * OW) for `taps`
 * (groups * KH * KW) window taps, if any: under 16 the per-tap kernel, 16 to 512 the per-column one;
 * on lavapipe each beats the tiles (the short-K tiles of gemm-skinny.ts, the 64x64 ones) there, while
 * over many positions the tiles' reuse wins.
 */
export function directWeightGrad(K: number, taps: number): 'tap' | 'column' | null {
  // The per-tap grid has one workgroup per group and tap in its z dimension (at most 65535).
  if (K < 16 && taps <= 65535) return 'tap';
  return K <= 512 ? 'column' : null;
}

/**
 * The direct weight gradient: thread n = (c, kh, kw) of the im2col row computes WEIGHT_ROWS output
 * channels o, summing gradOut[img, o, oh, ow] (the same for every thread, so uniform) times its own
 * x tap over (img, oh, ow), with no index division in the loop. Grid [ceil(KC / 64), ceil(OG / 8),
 * groups]; binding 1 is the output, 2 x, 3 gradOut.
 */
export function directWeightGradKernel(dtype: DType, classes: readonly GpuClass[]) {
  const [xc, gc] = classes;
  const rows = WEIGHT_ROWS;
  const r = Array.from({ length: rows }, (_, i) => i);
  const each = (f: (i: number) => string) => r.map(f).join('\n  ');
  return kernel(`conv-direct:conv2dBackwardWeight:${dtype}:${classes.join(',')}`, DIRECT_PARAMS, () => {
    return `@group(0) @binding(1) var<storage, read_write> OUT: array<${gpuClass(dtype)}>;
@group(0) @binding(2) var<storage, read> X: array<${xc}>;
@group(0) @binding(3) var<storage, read> GD: array<${gc}>;
${PRELUDE}
@compute @workgroup_size(${ROWS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = p.M; let N = p.N; let C = p.C; let IH = p.IH; let IW = p.IW; let O = p.O; let CG = p.CG; let OG = p.OG;
  let KH = p.KH; let KW = p.KW; let OH = p.OH; let OW = p.OW; let SH = p.SH; let SW = p.SW;
  let g = i32(wid.z);
  let nOut = i32(wid.x) * ${ROWS} + i32(lid);
  let n = min(nOut, N - 1);
  let o0 = i32(wid.y) * ${rows};
  let KHW = KH * KW;
  let c = n / KHW; let rr = n - c * KHW; let kh = rr / KW; let kw = rr - kh * KW;
  let offH = kh * p.DH - p.PH; let offW = kw * p.DW - p.PW;
  let batch = p.K;
  let OHW = OH * OW;
  var xImg = p.XO + (g * CG + c) * IH * IW;
  ${each((i) => `let row${i} = min(o0 + ${i}, M - 1); var acc${i} = 0.0;`)}
  var gImg = p.GO + (g * OG) * OHW;
  for (var img = 0; img < batch; img++) {
    var gp = gImg;
    for (var oh = 0; oh < OH; oh++) {
      let h = oh * SH + offH;
      let okH = ${all('h >= 0', 'h < IH')};
      let xRow = xImg + h * IW;
      for (var ow = 0; ow < OW; ow++) {
        let w = ow * SW + offW;
        let ok = ${all('okH', 'w >= 0', 'w < IW')};
        let xv = select(0.0, ${loadAs(xc, 'f32', `X[u32(select(xImg, xRow + w, ok))]`)}, ok);
        ${each((i) => `acc${i} += ${loadAs(gc, 'f32', `GD[u32(gp + row${i} * OHW)]`)} * xv;`)}
        gp += 1;
      }
    }
    xImg += C * IH * IW;
    gImg += O * OHW;
  }
  if (nOut < N) {
    ${each((i) => `if (o0 + ${i} < M) { OUT[u32((g * OG + o0 + ${i}) * N + n)] = ${storeAs(dtype, 'f32', `acc${i}`)}; }`)}
  }
}`;
  });
}

/** Input channels each thread of the per-tap weight gradient computes (64 apart). */
const TAP_CHANNELS = 4;

/** Input channels one workgroup of the per-tap weight gradient covers. */
export const TAP_WORKGROUP_CHANNELS = ROWS * TAP_CHANNELS;

/**
 * The weight gradient over fewer than 16 positions, one workgroup per window tap (kh, kw): thread c
 * computes WEIGHT_ROWS output channels by TAP_CHANNELS input channels, so whether the tap hits x is
 * the same in every thread and a tap that hits only padding (8 of 9 on a 1x1 map) stores zeros.
 * Grid [ceil(CG / TAP_WORKGROUP_CHANNELS), ceil(OG / 8), groups * KH * KW]; bindings as
 * directWeightGradKernel.
 */
export function tapWeightGradKernel(dtype: DType, classes: readonly GpuClass[]) {
  const [xc, gc] = classes;
  const rows = Array.from({ length: WEIGHT_ROWS }, (_, i) => i);
  const chans = Array.from({ length: TAP_CHANNELS }, (_, t) => t);
  const both = (f: (i: number, t: number) => string) =>
    rows.flatMap((i) => chans.map((t) => f(i, t))).join('\n  ');
  return kernel(`conv-direct:tapWeightGrad:${dtype}:${classes.join(',')}`, DIRECT_PARAMS, () => {
    return `@group(0) @binding(1) var<storage, read_write> OUT: array<${gpuClass(dtype)}>;
@group(0) @binding(2) var<storage, read> X: array<${xc}>;
@group(0) @binding(3) var<storage, read> GD: array<${gc}>;
${PRELUDE}
@compute @workgroup_size(${ROWS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = p.M; let C = p.C; let IH = p.IH; let IW = p.IW; let O = p.O; let CG = p.CG; let OG = p.OG;
  let KH = p.KH; let KW = p.KW; let OH = p.OH; let OW = p.OW; let SH = p.SH; let SW = p.SW;
  let KHW = KH * KW;
  let g = i32(wid.z) / KHW; let r = i32(wid.z) - g * KHW; let kh = r / KW; let kw = r - kh * KW;
  let offH = kh * p.DH - p.PH; let offW = kw * p.DW - p.PW;
  let c0 = i32(wid.x) * ${TAP_WORKGROUP_CHANNELS} + i32(lid);
  let o0 = i32(wid.y) * ${WEIGHT_ROWS};
  let IHW = IH * IW; let OHW = OH * OW;
  ${chans.map((t) => `let ch${t} = min(c0 + ${t * ROWS}, CG - 1);`).join(' ')}
  ${rows.map((i) => `let row${i} = min(o0 + ${i}, M - 1);`).join(' ')}
  ${both((i, t) => `var acc${i}_${t} = 0.0;`)}
  var xImg = p.XO + g * CG * IHW;
  var gImg = p.GO + g * OG * OHW;
  for (var img = 0; img < p.K; img++) {
    for (var oh = 0; oh < OH; oh++) {
      let h = oh * SH + offH;
      for (var ow = 0; ow < OW; ow++) {
        let w = ow * SW + offW;
        if (${all('h >= 0', 'h < IH', 'w >= 0', 'w < IW')}) {
          let xp = xImg + h * IW + w;
          let gp = gImg + oh * OW + ow;
          ${chans.map((t) => `let x${t} = ${loadAs(xc, 'f32', `X[u32(xp + ch${t} * IHW)]`)};`).join('\n          ')}
          ${rows.map((i) => `let d${i} = ${loadAs(gc, 'f32', `GD[u32(gp + row${i} * OHW)]`)};`).join('\n          ')}
          ${both((i, t) => `acc${i}_${t} += d${i} * x${t};`)}
        }
      }
    }
    xImg += C * IHW;
    gImg += O * OHW;
  }
  ${both((i, t) => `if (${all(`o0 + ${i} < M`, `c0 + ${t * ROWS} < CG`)}) { OUT[u32(((g * OG + o0 + ${i}) * CG + c0 + ${t * ROWS}) * KHW + r)] = ${storeAs(dtype, 'f32', `acc${i}_${t}`)}; }`)}
}`;
  });
}
