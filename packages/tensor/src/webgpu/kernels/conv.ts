// The three 2-D convolution kernels as implicit GEMMs on the shared tiled body (gemm.ts): forward,
// input gradient and weight gradient differ only in their GEMM sizes, operand loads and store, so
// each is one entry of a table and one launcher runs them all. Geometry is passed as parameters, so
// one pipeline serves every layer shape. Products over few positions go to the direct kernels
// (conv-direct.ts) instead.

import type { Conv2dParams, Storage, View } from '../../backend.js';
import { numelOf } from '../../shape.js';
import type { GpuRuntime } from '../runtime/device.js';
import { gpuClass } from '../runtime/dtype.js';
import type { Grid } from '../runtime/launch.js';
import { kernel } from '../runtime/params.js';
import {
  DIRECT_MAX_N,
  directColumns,
  directConvKernel,
  directWeightGrad,
  directWeightGradKernel,
  GEOMETRY,
  TAP_WORKGROUP_CHANNELS,
  tapWeightGradKernel,
  WEIGHT_ROWS,
} from './conv-direct.js';
import { type GemmBody, gemmShader, gemmTile } from './gemm.js';
import { skinnyExtent, skinnyGemmShader, skinnyTile } from './gemm-skinny.js';
import { loadAs, storeAs } from './wgsl.js';

type Geometry = Record<(typeof GEOMETRY)[number], number>;

/** Element offsets of the operands: x (X), weight (WT) and gradOut (GD); 0 for the one a kernel does not bind. */
const OFFSETS = ['XO', 'WO', 'GO'] as const;
type Operand = 'X' | 'WT' | 'GD';
const OFFSET_OF: Record<Operand, (typeof OFFSETS)[number]> = { X: 'XO', WT: 'WO', GD: 'GO' };

function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  outHW: readonly number[],
  p: Conv2dParams,
): Geometry {
  const [, C, IH, IW] = xShape;
  const [O, CG, KH, KW] = wShape;
  const [OH, OW] = outHW;
  const [SH, SW] = p.stride;
  const [PH, PW] = p.padding;
  const [DH, DW] = p.dilation;
  return { C, IH, IW, O, CG, OG: O / p.groups, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, KC: CG * KH * KW };
}

/**
 * One convolution as a GEMM per group g: C[g] (M x N) = A[g] (M x K) * B[g] (K x N). Loads go through
 * LOAD_<operand>(), defined per launch as the conversion of that operand's storage to f32.
 */
interface ConvGemm {
  /** The operands bound at 2 and 3, in the order the backend method receives them. */
  inputs: readonly [Operand, Operand];
  /** M, N, K for `batch` images. */
  sizes(q: Geometry, batch: number): [number, number, number];
  /** The GEMM's loads; geometry and offsets are in locals of their own names. */
  body: Omit<GemmBody, 'bindings' | 'locals' | 'storeC'>;
  /** Body of storeC(g, m, n, v) given the expression storing `v` in the output's dtype (reads `p.*`). */
  storeC(value: string): string;
}

const CONVS = {
  // out[img, o, oh, ow]: A = weight rows [OG, KC], B = im2col columns of x [KC, N * OH * OW].
  conv2d: {
    inputs: ['X', 'WT'],
    sizes: (q, batch) => [q.OG, batch * q.OH * q.OW, q.KC],
    body: {
      aHoist: 'let aRow = WO + (g * OG + m) * KC;',
      aLoad: 'av = LOAD_WT(WT[u32(aRow + k)]);',
      bHoist: `let KHW = KH * KW; let bImg = n / (OH * OW); let bP = n % (OH * OW);
  let bH0 = (bP / OW) * SH - PH; let bW0 = (bP % OW) * SW - PW; let bBase = XO + (bImg * C + g * CG) * IH * IW;`,
      bLoad: `let c = k / KHW; let r = k - c * KHW; let kh = r / KW; let kw = r - kh * KW;
  let h = bH0 + kh * DH; let w = bW0 + kw * DW;
  if (h >= 0 && h < IH && w >= 0 && w < IW) { bv = LOAD_X(X[u32(bBase + (c * IH + h) * IW + w)]); }`,
    },
    storeC: (value) => `let img = n / (p.OH * p.OW); let pp = n % (p.OH * p.OW);
  OUT[u32((img * p.O + g * p.OG + m) * p.OH * p.OW + pp)] = ${value};`,
  },
  // gx[img, c, h, w]: A = weight transposed [CG, OG * KH * KW], B = gradOut gathered back through the window.
  conv2dBackwardInput: {
    inputs: ['GD', 'WT'],
    sizes: (q, batch) => [q.CG, batch * q.IH * q.IW, q.OG * q.KH * q.KW],
    body: {
      aHoist: 'let KHW = KH * KW;',
      aLoad:
        'let o = k / KHW; let r = k - o * KHW; av = LOAD_WT(WT[u32(WO + ((g * OG + o) * CG + m) * KHW + r)]);',
      bHoist: `let bImg = n / (IH * IW); let bQ = n % (IH * IW); let bTh = bQ / IW + PH; let bTw = bQ % IW + PW;
  let bBase = GO + (bImg * O + g * OG) * OH * OW;`,
      bLoad: `let o = k / KHW; let r = k - o * KHW; let kh = r / KW; let kw = r - kh * KW;
  let th = bTh - kh * DH; let tw = bTw - kw * DW;
  if (th >= 0 && tw >= 0 && th % SH == 0 && tw % SW == 0) {
    let oh = th / SH; let ow = tw / SW;
    if (oh < OH && ow < OW) { bv = LOAD_GD(GD[u32(bBase + (o * OH + oh) * OW + ow)]); }
  }`,
    },
    storeC: (value) => `let img = n / (p.IH * p.IW); let qq = n % (p.IH * p.IW);
  OUT[u32((img * p.C + g * p.CG + m) * p.IH * p.IW + qq)] = ${value};`,
  },
  // gw[o, c, kh, kw]: A = gradOut rows [OG, N * OH * OW], B = im2col of x transposed [N * OH * OW, KC].
  conv2dBackwardWeight: {
    inputs: ['X', 'GD'],
    sizes: (q, batch) => [q.OG, q.KC, batch * q.OH * q.OW],
    body: {
      aHoist: 'let OHW = OH * OW; let aRow = GO + (g * OG + m) * OHW;',
      aLoad: 'let img = k / OHW; let pp = k - img * OHW; av = LOAD_GD(GD[u32(aRow + img * O * OHW + pp)]);',
      bHoist: `let KHW = KH * KW; let bC = n / KHW; let bR = n - bC * KHW; let bKh = bR / KW;
  let bOffH = bKh * DH - PH; let bOffW = (bR - bKh * KW) * DW - PW; let bBase = XO + (g * CG + bC) * IH * IW;`,
      bLoad: `let img = k / OHW; let pp = k - img * OHW; let oh = pp / OW; let ow = pp - oh * OW;
  let h = oh * SH + bOffH; let w = ow * SW + bOffW;
  if (h >= 0 && h < IH && w >= 0 && w < IW) { bv = LOAD_X(X[u32(bBase + img * C * IH * IW + h * IW + w)]); }`,
    },
    storeC: (value) => `OUT[u32((g * p.OG + m) * p.KC + n)] = ${value};`,
  },
} satisfies Record<string, ConvGemm>;

export type ConvKind = keyof typeof CONVS;

/**
 * Runs convolution `kind` on its two operands (as the backend method receives them) into a new
 * storage of `outLength` elements, stored in the first operand's dtype.
 */
function convolve(
  rt: GpuRuntime,
  kind: ConvKind,
  operands: readonly [View, View],
  groups: number,
  q: Geometry,
  batch: number,
  outLength: number,
): Storage {
  rt.check();
  const spec: ConvGemm = CONVS[kind];
  const dtype = operands[0].dtype;
  const out = rt.newStorage(outLength, dtype);
  if (outLength === 0) return out;
  const [M, N, K] = spec.sizes(q, batch);
  const classes = operands.map((v) => gpuClass(v.dtype));
  const offsets = { XO: 0, WO: 0, GO: 0 };
  spec.inputs.forEach((name, i) => {
    offsets[OFFSET_OF[name]] = operands[i].offset;
  });
  const buffers = [out._buffer!, ...operands.map((v) => rt.buffer(v, kind))];
  // Few output positions, or a weight gradient over few positions: the direct kernels (conv-direct.ts).
  const direct = { M, N, K: batch, ...offsets, ...q };
  const weightKernel = kind === 'conv2dBackwardWeight' ? directWeightGrad(K, groups * q.KH * q.KW) : null;
  if (weightKernel === 'tap') {
    const grid: Grid = [
      Math.ceil(q.CG / TAP_WORKGROUP_CHANNELS),
      Math.ceil(M / WEIGHT_ROWS),
      groups * q.KH * q.KW,
    ];
    rt.launch(tapWeightGradKernel(dtype, classes), direct, buffers, grid);
    return out;
  }
  if (weightKernel === 'column') {
    const grid: Grid = [Math.ceil(N / 64), Math.ceil(M / WEIGHT_ROWS), groups];
    rt.launch(directWeightGradKernel(dtype, classes), direct, buffers, grid);
    return out;
  }
  if (kind !== 'conv2dBackwardWeight' && N <= DIRECT_MAX_N) {
    const cols = directColumns(N);
    const grid: Grid = [Math.ceil(M / 64), Math.ceil(N / cols), groups];
    rt.launch(directConvKernel(kind, dtype, classes, cols), direct, buffers, grid);
    return out;
  }
  const tile = gemmTile(M, N);
  const bind = (i: number) => {
    const name = spec.inputs[i];
    return `@group(0) @binding(${i + 2}) var<storage, read> ${name}: array<${classes[i]}>;
fn LOAD_${name}(v: ${classes[i]}) -> f32 { return ${loadAs(classes[i], 'f32', 'v')}; }`;
  };
  // Skinny products (a 1x1 or 2x2 map, a weight gradient over few positions) get tiles without the
  // square tiles' padding (gemm-skinny.ts).
  const skinny = skinnyTile(M, N, K);
  const { tm, tn } = skinny ? skinnyExtent(skinny) : tile;
  const key = `${kind}:${dtype}:${classes.join(',')}:${tm}x${tn}${skinny ? `x${skinny.tk}` : ''}`;
  const k = kernel(key, ['M', 'N', 'K', ...OFFSETS, ...GEOMETRY], () => {
    const body: GemmBody = {
      ...spec.body,
      bindings: `@group(0) @binding(1) var<storage, read_write> OUT: array<${gpuClass(dtype)}>;
${bind(0)}
${bind(1)}`,
      locals: [...OFFSETS, ...GEOMETRY],
      storeC: spec.storeC(storeAs(dtype, 'f32', 'v')),
    };
    return skinny ? skinnyGemmShader(skinny, body) : gemmShader(tile, body);
  });
  rt.launch(k, { M, N, K, ...offsets, ...q }, buffers, [Math.ceil(N / tn), Math.ceil(M / tm), groups]);
  return out;
}

export function conv2d(
  rt: GpuRuntime,
  x: View,
  weight: View,
  p: Conv2dParams,
  outShape: readonly number[],
): Storage {
  const q = geometry(x.shape, weight.shape, outShape.slice(2), p);
  return convolve(rt, 'conv2d', [x, weight], p.groups, q, outShape[0], numelOf(outShape));
}

export function conv2dBackwardInput(
  rt: GpuRuntime,
  gradOut: View,
  weight: View,
  p: Conv2dParams,
  inputShape: readonly number[],
): Storage {
  const q = geometry(inputShape, weight.shape, gradOut.shape.slice(2), p);
  return convolve(
    rt,
    'conv2dBackwardInput',
    [gradOut, weight],
    p.groups,
    q,
    inputShape[0],
    numelOf(inputShape),
  );
}

export function conv2dBackwardWeight(
  rt: GpuRuntime,
  x: View,
  gradOut: View,
  p: Conv2dParams,
  weightShape: readonly number[],
): Storage {
  const q = geometry(x.shape, weightShape, gradOut.shape.slice(2), p);
  return convolve(rt, 'conv2dBackwardWeight', [x, gradOut], p.groups, q, x.shape[0], numelOf(weightShape));
}
