// WebGPU kernels for the registry's batch-norm entries (registry.ts), training mode over contiguous
// x [N, C, S]: the forward in two dispatches (per-channel statistics, then the normalised affine output
// with the residual and ReLU folded in), the backward in two (per-channel sums and coefficients, then
// the input gradient and the masked gradient). Formulas as batchNormForwardLoop / batchNormBackwardLoop
// (cpu/norm.ts). Activations (x, residual, output, gradients) are float32 or float16 (f16 storage, 2
// bytes an element); weight and bias float32 or float16 independently of x, as cuDNN takes them under
// autocast. Everything is computed in f32 and the per-channel statistics and weight/bias gradients
// are kept in f32, so a float16 run saves only its float16 input (and C floats) for the backward.
// Kernels bind at most seven buffers besides the parameters, the limit initWebGpu asks for.

import type { View } from '../../backend.js';
import type { DType } from '../../dtype.js';
import type { BatchNormBackwardResult, BatchNormForwardResult } from '../../registry.js';
import { numelOf } from '../../shape.js';
import type { GPUBuffer } from '../gpu-types.js';
import type { GpuRuntime, WebGpuStorage } from '../runtime/device.js';
import { type GpuClass, gpuClass } from '../runtime/dtype.js';
import { type Grid, WORKGROUP } from '../runtime/launch.js';
import { kernel } from '../runtime/params.js';
import { f32Bits } from './fused-elementwise.js';
import { PRELUDE } from './math.js';
import { elementShader, loadAs, storeAs } from './wgsl.js';

/** Dtypes these kernels read and write (float32 and float64 as f32 words, float16 as f16): what fused.ts registers them for. */
export const BATCH_NORM_DTYPES: readonly DType[] = ['float32', 'float64', 'float16'];

function requireBnDtypes(op: string, ...views: (View | null)[]): void {
  const bad = views.find((v) => v && !BATCH_NORM_DTYPES.includes(v.dtype));
  if (bad) throw new Error(`webgpu ${op}: expected float32, float64 or float16 operands, got ${bad.dtype}`);
}

/**
 * A buffer binding of a generated kernel: its WGSL name, whether the kernel writes it, the buffer and
 * the element class (f32 unless given).
 */
type Binding = [name: string, write: boolean, buffer: GPUBuffer, cls?: GpuClass];

/** WGSL declarations of `bindings` from binding 1 on, in order, and their buffers. */
function declare(bindings: readonly (Binding | null)[]): { wgsl: string; buffers: GPUBuffer[] } {
  const used = bindings.filter((b): b is Binding => b !== null);
  return {
    wgsl: used
      .map(
        ([name, write, , cls], i) =>
          `@group(0) @binding(${i + 1}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${cls ?? 'f32'}>;`,
      )
      .join('\n'),
    buffers: used.map((b) => b[2]),
  };
}

/** `ARRAY[index]` of a binding of class `cls`, as an f32. */
function load(cls: GpuClass, array: string, index: string): string {
  return loadAs(cls, 'f32', `${array}[${index}]`);
}

/** [N, C, S] of an operand [N, C, ...]. */
function dims(shape: readonly number[]): [number, number, number] {
  return [shape[0], shape[1], numelOf(shape.slice(2))];
}

/**
 * Channels with at most this many elements (a late ResNet stage: N * 1 * 1) are reduced by one thread
 * each, without a workgroup tree and its barriers.
 */
const SMALL_CHANNEL = 64;

/** How a per-channel kernel walks and adds up a channel (see channelShader). */
interface ChannelReduce {
  /** The step of a thread's loop over the channel's elements (`for (var e = t; e < n; e += step)`). */
  step: string;
  /** Statements adding `a` and `b` (f32 locals) over the channel's threads into `ta` and `tb`. */
  sum2(a: string, b: string, ta: string, tb: string): string;
}

const TREE: ChannelReduce = {
  step: `${WORKGROUP}u`,
  sum2: (a, b, ta, tb) => `  SA[t] = ${a}; SB[t] = ${b};
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { SA[t] += SA[t + s]; SB[t] += SB[t + s]; }
    workgroupBarrier();
  }
  let ${ta} = SA[0]; let ${tb} = SB[0];
  workgroupBarrier();`,
};

const SINGLE: ChannelReduce = {
  step: '1u',
  sum2: (a, b, ta, tb) => `  let ${ta} = ${a}; let ${tb} = ${b};`,
};

/**
 * A per-channel kernel: `c` is the channel, `t` the thread within it, `n` the element count of the
 * channel and `at(c, e)` the index of its e-th element (image e / S, position e % S). One workgroup per
 * channel adding up with a tree in shared memory (launch on [C, 1, 1]), or, for `small` channels, one
 * thread per channel (launch on grid1(C)). `body` gets the matching ChannelReduce; thread 0 writes.
 */
function channelShader(bindings: string, small: boolean, body: (r: ChannelReduce) => string): string {
  const at = `fn at(c: u32, e: u32) -> u32 {
  let S = u32(p.S);
  let img = e / S;
  return (img * u32(p.C) + c) * S + (e - img * S);
}`;
  if (small) {
    return elementShader(
      bindings,
      `  let c = i;
  if (c >= u32(p.C)) { return; }
  let t = 0u;
  let n = u32(p.N * p.S);
${body(SINGLE)}`,
      at,
    );
  }
  return `${bindings}
${PRELUDE}
var<workgroup> SA: array<f32, ${WORKGROUP}>;
var<workgroup> SB: array<f32, ${WORKGROUP}>;
${at}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let c = wid.x;
  let n = u32(p.N * p.S);
${body(TREE)}
}`;
}

/**
 * batchNormForward: per channel, mean, biased variance and invstd = 1/sqrt(var + eps) (two passes over
 * the channel, the second centred, in f32 whatever x's dtype), then out = x * a + (bias - mean * a)
 * (+ residual, then ReLU) with a = weight * invstd, rounded once to x's dtype. The statistics are f32.
 */
export function batchNormForward(
  rt: GpuRuntime,
  x: View,
  weight: View | null,
  bias: View | null,
  eps: number,
  residual: View | null,
  relu: boolean,
): BatchNormForwardResult {
  rt.check();
  requireBnDtypes('batchNormForward', x, weight, bias, residual);
  const [N, C, S] = dims(x.shape);
  const total = N * C * S;
  const xc = gpuClass(x.dtype);
  const wc = weight && gpuClass(weight.dtype);
  const bc = bias && gpuClass(bias.dtype);
  const rc = residual && gpuClass(residual.dtype);
  const out = rt.newStorage(total, x.dtype);
  const mean = rt.newStorage(C);
  const variance = rt.newStorage(C);
  const invstd = rt.newStorage(C);
  if (C === 0) return { out, mean, variance, invstd };
  const xb = rt.buffer(x, 'batchNormForward');
  const stats = declare([
    ['MEAN', true, mean._buffer!],
    ['VAR', true, variance._buffer!],
    ['INVSTD', true, invstd._buffer!],
    ['X', false, xb, xc],
  ]);
  const small = N * S <= SMALL_CHANNEL;
  const statsKernel = kernel(`fused-bn-stats:${xc}:${small}`, ['N', 'C', 'S', 'xo', 'eps'], () =>
    channelShader(
      stats.wgsl,
      small,
      (r) => `  let xo = u32(p.xo);
  var a = 0.0;
  for (var e = t; e < n; e += ${r.step}) { a += ${load(xc, 'X', 'xo + at(c, e)')}; }
${r.sum2('a', '0.0', 'total', 'unused0')}
  let m = total / f32(n);
  var q = 0.0;
  for (var e = t; e < n; e += ${r.step}) { let d = ${load(xc, 'X', 'xo + at(c, e)')} - m; q += d * d; }
${r.sum2('q', '0.0', 'sq', 'unused1')}
  if (t == 0u) {
    let v = sq / f32(n);
    MEAN[c] = m;
    VAR[c] = v;
    INVSTD[c] = 1.0 / sqrt(v + bitcast<f32>(p.eps));
  }`,
    ),
  );
  const channelGrid = small ? rt.grid1(C) : ([C, 1, 1] as Grid);
  rt.launch(statsKernel, { N, C, S, xo: x.offset, eps: f32Bits(eps) }, stats.buffers, channelGrid);
  const apply = declare([
    ['OUT', true, out._buffer!, xc],
    ['X', false, xb, xc],
    ['MEAN', false, mean._buffer!],
    ['INVSTD', false, invstd._buffer!],
    weight && ['W', false, rt.buffer(weight, 'batchNormForward'), wc!],
    bias && ['B', false, rt.buffer(bias, 'batchNormForward'), bc!],
    residual && ['R', false, rt.buffer(residual, 'batchNormForward'), rc!],
  ]);
  const applyKernel = kernel(
    `fused-bn-apply:${x.dtype}:${wc}:${bc}:${rc}:${relu}`,
    ['total', 'C', 'S', 'xo', 'wo', 'bo', 'ro'],
    () =>
      elementShader(
        apply.wgsl,
        `  if (i >= u32(p.total)) { return; }
  let c = (i / u32(p.S)) % u32(p.C);
  let a = ${wc ? `${load(wc, 'W', 'u32(p.wo) + c')} * ` : ''}INVSTD[c];
  let shift = ${bc ? load(bc, 'B', 'u32(p.bo) + c') : '0.0'} - MEAN[c] * a;
  let v = ${load(xc, 'X', 'u32(p.xo) + i')} * a + shift${rc ? ` + ${load(rc, 'R', 'u32(p.ro) + i')}` : ''};
  OUT[i] = ${storeAs(x.dtype, 'f32', relu ? 'relu_(v)' : 'v')};`,
      ),
  );
  rt.launch(
    applyKernel,
    {
      total,
      C,
      S,
      xo: x.offset,
      wo: weight?.offset ?? 0,
      bo: bias?.offset ?? 0,
      ro: residual?.offset ?? 0,
    },
    apply.buffers,
    rt.grid1(total),
  );
  return { out, mean, variance, invstd };
}

/**
 * batchNormBackward: with g masked by the fused ReLU's output first (0 where out <= 0), per channel
 * gb = sum(g) and gw = sum(g * xhat) in f32; then gx = k * g - x * cx - c0 with k = weight * invstd,
 * cx = k * invstd * gw / n and c0 = k * gb / n - mean * cx (gx = k * (g - mean(g) - xhat * mean(g * xhat))),
 * rounded once to g's dtype. gw and gb are f32.
 */
export function batchNormBackward(
  rt: GpuRuntime,
  g: View,
  x: View,
  mean: View,
  invstd: View,
  weight: View | null,
  needInput: boolean,
  reluOut: View | null,
  wantMasked: boolean,
): BatchNormBackwardResult {
  rt.check();
  requireBnDtypes('batchNormBackward', g, x, mean, invstd, weight, reluOut);
  const [N, C, S] = dims(x.shape);
  const total = N * C * S;
  const masked = reluOut !== null && wantMasked;
  const gc = gpuClass(g.dtype);
  const xc = gpuClass(x.dtype);
  const mc = gpuClass(mean.dtype);
  const ic = gpuClass(invstd.dtype);
  const wc = weight && gpuClass(weight.dtype);
  const yc = reluOut && gpuClass(reluOut.dtype);
  const gw = rt.newStorage(C);
  const gb = rt.newStorage(C);
  const gx = needInput ? rt.newStorage(total, g.dtype) : null;
  const gm = masked ? rt.newStorage(total, g.dtype) : null;
  if (C === 0) return { gx, gw, gb, gm };
  // Per channel: gw, gb, k, cx, c0 (the coefficients the elementwise pass needs).
  const coef: WebGpuStorage = rt.newStorage(5 * C);
  const name = 'batchNormBackward';
  const G = rt.buffer(g, name);
  const X = rt.buffer(x, name);
  const Y = reluOut && rt.buffer(reluOut, name);
  const gAt = (index: string) => {
    const v = load(gc, 'G', `u32(p.go) + ${index}`);
    return yc ? `select(${v}, 0.0, ${load(yc, 'Y', 'u32(p.yo) + idx')} <= 0.0)` : v;
  };
  const sums = declare([
    ['COEF', true, coef._buffer!],
    ['G', false, G, gc],
    ['X', false, X, xc],
    Y && ['Y', false, Y, yc!],
    ['MEAN', false, rt.buffer(mean, name), mc],
    ['INVSTD', false, rt.buffer(invstd, name), ic],
    weight && ['W', false, rt.buffer(weight, name), wc!],
  ]);
  const small = N * S <= SMALL_CHANNEL;
  const sumsKernel = kernel(
    `fused-bn-backward-sums:${gc}:${xc}:${mc}:${ic}:${yc}:${wc}:${small}`,
    ['N', 'C', 'S', 'go', 'xo', 'yo', 'mo', 'io', 'wo'],
    () =>
      channelShader(
        sums.wgsl,
        small,
        (r) => `  let m = ${load(mc, 'MEAN', 'u32(p.mo) + c')};
  var a = 0.0;
  var b = 0.0;
  for (var e = t; e < n; e += ${r.step}) {
    let idx = at(c, e);
    let gv = ${gAt('idx')};
    a += gv;
    b += gv * (${load(xc, 'X', 'u32(p.xo) + idx')} - m);
  }
${r.sum2('a', 'b', 'sg', 'sgx')}
  if (t == 0u) {
    let is = ${load(ic, 'INVSTD', 'u32(p.io) + c')};
    let C = u32(p.C);
    let sgxhat = sgx * is;
    let k = ${wc ? `${load(wc, 'W', 'u32(p.wo) + c')} * ` : ''}is;
    let cx = k * is * sgxhat / f32(n);
    COEF[c] = sgxhat;
    COEF[C + c] = sg;
    COEF[2u * C + c] = k;
    COEF[3u * C + c] = cx;
    COEF[4u * C + c] = k * sg / f32(n) - m * cx;
  }`,
      ),
  );
  const offsets = {
    go: g.offset,
    xo: x.offset,
    yo: reluOut?.offset ?? 0,
  };
  rt.launch(
    sumsKernel,
    { N, C, S, ...offsets, mo: mean.offset, io: invstd.offset, wo: weight?.offset ?? 0 },
    sums.buffers,
    small ? rt.grid1(C) : [C, 1, 1],
  );
  if (gx || gm) {
    const each = declare([
      gx && ['GX', true, gx._buffer!, gc],
      gm && ['GM', true, gm._buffer!, gc],
      ['G', false, G, gc],
      gx && ['X', false, X, xc],
      Y && ['Y', false, Y, yc!],
      gx && ['COEF', false, coef._buffer!],
    ]);
    const eachKernel = kernel(
      `fused-bn-backward-input:${g.dtype}:${xc}:${yc}:${gx !== null}:${gm !== null}`,
      ['total', 'C', 'S', 'go', 'xo', 'yo'],
      () =>
        elementShader(
          each.wgsl,
          `  if (i >= u32(p.total)) { return; }
  let idx = i;
  let gv = ${gAt('i')};
  ${gm ? `GM[i] = ${storeAs(g.dtype, 'f32', 'gv')};` : ''}
  ${
    gx
      ? `let C = u32(p.C);
  let c = (i / u32(p.S)) % C;
  GX[i] = ${storeAs(g.dtype, 'f32', `COEF[2u * C + c] * gv - ${load(xc, 'X', 'u32(p.xo) + i')} * COEF[3u * C + c] - COEF[4u * C + c]`)};`
      : ''
  }`,
        ),
    );
    rt.launch(eachKernel, { total, C, S, ...offsets }, each.buffers, rt.grid1(total));
  }
  // gw and gb are the first two rows of the coefficients: copied out between the dispatches.
  const enc = rt.launcher.commandEncoder();
  enc.copyBufferToBuffer(coef._buffer!, 0, gw._buffer!, 0, C * 4);
  enc.copyBufferToBuffer(coef._buffer!, C * 4, gb._buffer!, 0, C * 4);
  coef.dispose();
  return { gx, gw, gb, gm };
}
