// 2-D pooling kernels over contiguous [N, C, H, W] inputs: max (with PyTorch's flat plane indices),
// average (PyTorch's window clipping and divisor rules) and adaptive average, each with its gradient.

import type { Pool2dParams, Storage, View } from '../../backend.js';
import { numelOf } from '../../shape.js';
import type { GpuRuntime } from '../runtime/device.js';
import { gpuClass } from '../runtime/dtype.js';
import { kernel } from '../runtime/params.js';
import { fill, narrowFrom32 } from './elementwise.js';
import { ATOMIC_ADD, elementShader, loadAs, storeAs } from './wgsl.js';

/** Input and output planes, window, stride, padding and dilation (height then width). */
const GEOMETRY = ['IH', 'IW', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'PH', 'PW', 'DH', 'DW'] as const;

function geometry(inputShape: readonly number[], outShape: readonly number[], p: Pool2dParams) {
  const [KH, KW] = p.kernelSize;
  const [SH, SW] = p.stride;
  const [PH, PW] = p.padding;
  const [DH, DW] = p.dilation;
  const [IH, IW, OH, OW] = [inputShape[2], inputShape[3], outShape[2], outShape[3]];
  return { IH, IW, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW };
}

/** Thread `i` as output pixel (nc, oh, ow) of an OH x OW plane, or input pixel (nc, h, w) with `input`. */
function pixel(input: boolean): string {
  const [H, W, h, w] = input ? ['IH', 'IW', 'h', 'w'] : ['OH', 'OW', 'oh', 'ow'];
  return `  if (i >= u32(p.n)) { return; }
  let IH = p.IH; let IW = p.IW; let OH = p.OH; let OW = p.OW;
  let nc = i32(i) / (${H} * ${W}); let q = i32(i) % (${H} * ${W}); let ${h} = q / ${W}; let ${w} = q % ${W};`;
}

export function maxPool2d(
  rt: GpuRuntime,
  x: View,
  p: Pool2dParams,
  outShape: readonly number[],
): { values: Storage; indices: Storage } {
  rt.check();
  const n = numelOf(outShape);
  const values = rt.newStorage(n, x.dtype);
  const indices = rt.newStorage(n, 'int64');
  const xc = gpuClass(x.dtype);
  const k = kernel(`maxPool2d:${x.dtype}`, ['n', 'XO', ...GEOMETRY], () =>
    elementShader(
      `@group(0) @binding(1) var<storage, read_write> VALS: array<${xc}>;
@group(0) @binding(2) var<storage, read_write> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> X: array<${xc}>;`,
      `${pixel(false)}
  let base = p.XO + nc * IH * IW;
  var best = mk_inf(true);
  var bi = -1;
  for (var a = 0; a < p.KH; a++) {
    let h = oh * p.SH - p.PH + a * p.DH;
    if (h < 0 || h >= IH) { continue; }
    for (var b = 0; b < p.KW; b++) {
      let w = ow * p.SW - p.PW + b * p.DW;
      if (w < 0 || w >= IW) { continue; }
      let v = ${loadAs(xc, 'f32', 'X[u32(base + h * IW + w)]')};
      if (v > best || is_nan(v) || bi < 0) {
        best = v;
        bi = h * IW + w;
        if (is_nan(v)) { break; }
      }
    }
  }
  VALS[i] = ${storeAs(x.dtype, 'f32', 'best')};
  IDX[i] = bi;`,
    ),
  );
  rt.launch(
    k,
    { n, XO: x.offset, ...geometry(x.shape, outShape, p) },
    [values._buffer!, indices._buffer!, rt.buffer(x, 'maxPool2d')],
    rt.grid1(n),
  );
  return { values, indices };
}

export function maxPool2dBackward(
  rt: GpuRuntime,
  gradOut: View,
  indices: View,
  inputShape: readonly number[],
): Storage {
  const out = fill(rt, 'float32', numelOf(inputShape), 0);
  const n = numelOf(gradOut.shape);
  const total = numelOf(inputShape);
  const gc = gpuClass(gradOut.dtype);
  const k = kernel(`maxPool2dBackward:${gc}`, ['n', 'GO', 'IO', 'planeOut', 'planeIn'], () =>
    elementShader(
      `@group(0) @binding(1) var<storage, read_write> OUT: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> G: array<${gc}>;
@group(0) @binding(3) var<storage, read> IDX: array<i32>;`,
      `  if (i >= u32(p.n)) { return; }
  let nc = i32(i) / p.planeOut;
  let idx = IDX[u32(p.IO + i32(i))];
  atomic_add_f32(u32(nc * p.planeIn + idx), ${loadAs(gc, 'f32', 'G[u32(p.GO + i32(i))]')});`,
      ATOMIC_ADD,
    ),
  );
  rt.launch(
    k,
    {
      n,
      GO: gradOut.offset,
      IO: indices.offset,
      planeOut: gradOut.shape[2] * gradOut.shape[3],
      planeIn: inputShape[2] * inputShape[3],
    },
    [out._buffer!, rt.buffer(gradOut, 'maxPool2dBackward'), rt.buffer(indices, 'maxPool2dBackward')],
    rt.grid1(n),
  );
  return narrowFrom32(rt, out, total, gradOut.dtype);
}

/** The clipped window h0..h1, w0..w1 of output (oh, ow) and its divisor, as the CPU's avgWindow. */
const AVG_WINDOW = `
fn avg_window(oh: i32, ow: i32) -> vec4<i32> {
  var h0 = oh * p.SH - p.PH;
  var w0 = ow * p.SW - p.PW;
  var h1 = min(h0 + p.KH, p.IH + p.PH);
  var w1 = min(w0 + p.KW, p.IW + p.PW);
  return vec4<i32>(h0, h1, w0, w1);
}
fn avg_divisor(win: vec4<i32>) -> f32 {
  let pool = (win.y - win.x) * (win.w - win.z);
  let h0 = max(win.x, 0); let h1 = min(win.y, p.IH);
  let w0 = max(win.z, 0); let w1 = min(win.w, p.IW);
  if (p.divisorOverride > 0) { return f32(p.divisorOverride); }
  if (p.countIncludePad != 0) { return f32(pool); }
  return f32((h1 - h0) * (w1 - w0));
}`;

/** Average pooling's parameters: the input's (or gradOut's) offset, geometry, then the divisor rules. */
function avgParams(
  offset: number,
  inputShape: readonly number[],
  outShape: readonly number[],
  p: Pool2dParams,
) {
  return {
    offset,
    ...geometry(inputShape, outShape, p),
    divisorOverride: p.divisorOverride ?? 0,
    countIncludePad: p.countIncludePad ? 1 : 0,
  };
}
const AVG_PARAMS = ['n', 'offset', ...GEOMETRY, 'divisorOverride', 'countIncludePad'] as const;

export function avgPool2d(rt: GpuRuntime, x: View, p: Pool2dParams, outShape: readonly number[]): Storage {
  rt.check();
  const n = numelOf(outShape);
  const out = rt.newStorage(n, x.dtype);
  const xc = gpuClass(x.dtype);
  const k = kernel(`avgPool2d:${x.dtype}`, AVG_PARAMS, () =>
    elementShader(
      `@group(0) @binding(1) var<storage, read_write> OUT: array<${xc}>;
@group(0) @binding(2) var<storage, read> X: array<${xc}>;`,
      `${pixel(false)}
  let win = avg_window(oh, ow);
  let base = p.offset + nc * IH * IW;
  var s = 0.0;
  for (var h = max(win.x, 0); h < min(win.y, IH); h++) {
    for (var w = max(win.z, 0); w < min(win.w, IW); w++) { s += ${loadAs(xc, 'f32', 'X[u32(base + h * IW + w)]')}; }
  }
  OUT[i] = ${storeAs(x.dtype, 'f32', 's / avg_divisor(win)')};`,
      AVG_WINDOW,
    ),
  );
  rt.launch(
    k,
    { n, ...avgParams(x.offset, x.shape, outShape, p) },
    [out._buffer!, rt.buffer(x, 'avgPool2d')],
    rt.grid1(n),
  );
  return out;
}

export function avgPool2dBackward(
  rt: GpuRuntime,
  gradOut: View,
  p: Pool2dParams,
  inputShape: readonly number[],
): Storage {
  rt.check();
  const n = numelOf(inputShape);
  const out = rt.newStorage(n, gradOut.dtype);
  const gc = gpuClass(gradOut.dtype);
  // Gather form (deterministic): each input element sums g / divisor over the windows that cover it.
  const k = kernel(`avgPool2dBackward:${gradOut.dtype}`, AVG_PARAMS, () =>
    elementShader(
      `@group(0) @binding(1) var<storage, read_write> OUT: array<${gc}>;
@group(0) @binding(2) var<storage, read> G: array<${gc}>;`,
      `${pixel(true)}
  let lh = h + p.PH - p.KH + 1;
  let lw = w + p.PW - p.KW + 1;
  let oh0 = select(0, (lh + p.SH - 1) / p.SH, lh > 0);
  let ow0 = select(0, (lw + p.SW - 1) / p.SW, lw > 0);
  let oh1 = min(OH - 1, (h + p.PH) / p.SH);
  let ow1 = min(OW - 1, (w + p.PW) / p.SW);
  var s = 0.0;
  for (var oh = oh0; oh <= oh1; oh++) {
    for (var ow = ow0; ow <= ow1; ow++) {
      let win = avg_window(oh, ow);
      if (h >= win.x && h < win.y && w >= win.z && w < win.w) {
        s += ${loadAs(gc, 'f32', 'G[u32(p.offset + (nc * OH + oh) * OW + ow)]')} / avg_divisor(win);
      }
    }
  }
  OUT[i] = ${storeAs(gradOut.dtype, 'f32', 's')};`,
      AVG_WINDOW,
    ),
  );
  rt.launch(
    k,
    { n, ...avgParams(gradOut.offset, inputShape, gradOut.shape, p) },
    [out._buffer!, rt.buffer(gradOut, 'avgPool2dBackward')],
    rt.grid1(n),
  );
  return out;
}

const ADAPTIVE_PARAMS = ['n', 'offset', 'IH', 'IW', 'OH', 'OW'] as const;

/** The adaptive window of output `o` of `O` over `I` inputs: [floor(o * I / O), ceil((o + 1) * I / O)). */
const ADAPTIVE_WINDOW = `
fn start_(o: i32, I: i32, O: i32) -> i32 { return (o * I) / O; }
fn end_(o: i32, I: i32, O: i32) -> i32 { return ((o + 1) * I + O - 1) / O; }`;

export function adaptiveAvgPool2d(rt: GpuRuntime, x: View, outShape: readonly number[]): Storage {
  rt.check();
  const n = numelOf(outShape);
  const out = rt.newStorage(n, x.dtype);
  const xc = gpuClass(x.dtype);
  const k = kernel(`adaptiveAvgPool2d:${x.dtype}`, ADAPTIVE_PARAMS, () =>
    elementShader(
      `@group(0) @binding(1) var<storage, read_write> OUT: array<${xc}>;
@group(0) @binding(2) var<storage, read> X: array<${xc}>;`,
      `${pixel(false)}
  let h0 = start_(oh, IH, OH); let h1 = end_(oh, IH, OH);
  let w0 = start_(ow, IW, OW); let w1 = end_(ow, IW, OW);
  let base = p.offset + nc * IH * IW;
  var s = 0.0;
  for (var h = h0; h < h1; h++) { for (var w = w0; w < w1; w++) { s += ${loadAs(xc, 'f32', 'X[u32(base + h * IW + w)]')}; } }
  OUT[i] = ${storeAs(x.dtype, 'f32', 's / f32((h1 - h0) * (w1 - w0))')};`,
      ADAPTIVE_WINDOW,
    ),
  );
  const [IH, IW, OH, OW] = [x.shape[2], x.shape[3], outShape[2], outShape[3]];
  rt.launch(
    k,
    { n, offset: x.offset, IH, IW, OH, OW },
    [out._buffer!, rt.buffer(x, 'adaptiveAvgPool2d')],
    rt.grid1(n),
  );
  return out;
}

export function adaptiveAvgPool2dBackward(
  rt: GpuRuntime,
  gradOut: View,
  inputShape: readonly number[],
): Storage {
  rt.check();
  const n = numelOf(inputShape);
  const out = rt.newStorage(n, gradOut.dtype);
  const gc = gpuClass(gradOut.dtype);
  const k = kernel(`adaptiveAvgPool2dBackward:${gradOut.dtype}`, ADAPTIVE_PARAMS, () =>
    elementShader(
      `@group(0) @binding(1) var<storage, read_write> OUT: array<${gc}>;
@group(0) @binding(2) var<storage, read> G: array<${gc}>;`,
      `${pixel(true)}
  var s = 0.0;
  for (var oh = (h * OH) / IH; oh <= min(OH - 1, ((h + 1) * OH - 1) / IH); oh++) {
    let h0 = start_(oh, IH, OH); let h1 = end_(oh, IH, OH);
    if (h < h0 || h >= h1) { continue; }
    for (var ow = (w * OW) / IW; ow <= min(OW - 1, ((w + 1) * OW - 1) / IW); ow++) {
      let w0 = start_(ow, IW, OW); let w1 = end_(ow, IW, OW);
      if (w < w0 || w >= w1) { continue; }
      s += ${loadAs(gc, 'f32', 'G[u32(p.offset + (nc * OH + oh) * OW + ow)]')} / f32((h1 - h0) * (w1 - w0));
    }
  }
  OUT[i] = ${storeAs(gradOut.dtype, 'f32', 's')};`,
      ADAPTIVE_WINDOW,
    ),
  );
  const [IH, IW, OH, OW] = [inputShape[2], inputShape[3], gradOut.shape[2], gradOut.shape[3]];
  rt.launch(
    k,
    { n, offset: gradOut.offset, IH, IW, OH, OW },
    [out._buffer!, rt.buffer(gradOut, 'adaptiveAvgPool2dBackward')],
    rt.grid1(n),
  );
  return out;
}
