// WebGPU kernels for the registry's fused elementwise entries (registry.ts): the SGD step of one
// parameter in one dispatch (and the Adam/AdamW step), ReLU's gradient from its output, and in-place binary ops written straight
// into the destination (no temporary, no copy back).

import type {
  AdamOperands,
  AdamStepOptions,
  BinaryOp,
  SgdStepOptions,
  Storage,
  View,
} from '../../backend.js';
import type { DType } from '../../dtype.js';
import { isContiguousLayout, numelOf } from '../../shape.js';
import type { GpuRuntime } from '../runtime/device.js';
import { computeType, gpuClass } from '../runtime/dtype.js';
import { kernel } from '../runtime/params.js';
import { coalesce } from './coalesce.js';
import { binaryStmt } from './elementwise.js';
import { elementShader, loadAs, storeAs } from './wgsl.js';

const bits = new Int32Array(1);
const floats = new Float32Array(bits.buffer);

/** The bit pattern of `v` as a float32, for a parameter the WGSL reads with `bitcast<f32>(p.NAME)`. */
export function f32Bits(v: number): number {
  floats[0] = v;
  return bits[0];
}

/** Dtypes whose GPU storage these kernels read and write as plain f32 words. */
export function f32Storage(...views: (View | null)[]): boolean {
  return views.every((v) => !v || v.dtype === 'float32' || v.dtype === 'float64');
}

function requireF32(op: string, ...views: (View | null)[]): void {
  if (!f32Storage(...views)) {
    const d = views.find((v) => v && v.dtype !== 'float32' && v.dtype !== 'float64')?.dtype;
    throw new Error(`webgpu ${op}: expected float32 or float64 operands, got ${d}`);
  }
}

/**
 * One SGD step in place (PyTorch 1.13's single-tensor formula, as sgdStepLoop in cpu/optim.ts): one
 * thread per element reads param, grad and the momentum buffer once and writes param and buffer.
 * All operands contiguous and of one shape.
 */
export function sgdStep(rt: GpuRuntime, param: View, grad: View, buf: View | null, o: SgdStepOptions): void {
  rt.check();
  requireF32('sgdStep', param, grad, buf);
  const n = numelOf(param.shape);
  if (n === 0) return;
  const momentum = buf !== null;
  // Four elements a thread where every operand starts on a 16-byte boundary: a software adapter runs
  // one load per vec4 where it would run four, and the arithmetic is the same per element.
  const w = n % 4 === 0 && [param, grad, buf].every((v) => !v || v.offset % 4 === 0) ? 4 : 1;
  const t = w === 4 ? 'vec4<f32>' : 'f32';
  const k = kernel(
    `fused-sgd:${momentum}:${o.nesterov}:${o.maximize}:${o.first}:${w}`,
    ['n', 'po', 'go', 'bo', 'lr', 'momentum', 'keep', 'wd'],
    () =>
      elementShader(
        [
          `@group(0) @binding(1) var<storage, read_write> P: array<${t}>;`,
          `@group(0) @binding(2) var<storage, read> G: array<${t}>;`,
          momentum ? `@group(0) @binding(3) var<storage, read_write> B: array<${t}>;` : '',
        ].join('\n'),
        `  if (i >= u32(p.n)) { return; }
  let pi = u32(p.po) + i;
  let x = P[pi];
  let d = ${o.maximize ? '-' : ''}G[u32(p.go) + i] + bitcast<f32>(p.wd) * x;
  ${
    momentum
      ? `let bi = u32(p.bo) + i;
  let mom = bitcast<f32>(p.momentum);
  let b = ${o.first ? 'd' : 'mom * B[bi] + bitcast<f32>(p.keep) * d'};
  B[bi] = b;
  P[pi] = x - bitcast<f32>(p.lr) * ${o.nesterov ? '(d + mom * b)' : 'b'};`
      : 'P[pi] = x - bitcast<f32>(p.lr) * d;'
  }`,
      ),
  );
  const buffers = [rt.buffer(param, 'sgdStep'), rt.buffer(grad, 'sgdStep')];
  if (buf) buffers.push(rt.buffer(buf, 'sgdStep'));
  rt.launch(
    k,
    {
      n: n / w,
      po: param.offset / w,
      go: grad.offset / w,
      bo: (buf?.offset ?? 0) / w,
      lr: f32Bits(o.lr),
      momentum: f32Bits(o.momentum),
      keep: f32Bits(1 - o.dampening),
      wd: f32Bits(o.weightDecay),
    },
    buffers,
    rt.grid1(n / w),
  );
}

/**
 * One Adam/AdamW step in place (PyTorch 1.13's single-tensor formula, as adamStepLoop in cpu/optim.ts):
 * one thread per element (four where every operand is 16-byte aligned) reads param, grad and the
 * moments once and writes them back. All operands contiguous and of one shape; `maxExpAvgSq` is
 * AMSGrad's running maximum (WGSL's max may drop a NaN where the CPU keeps it).
 */
export function adamStep(rt: GpuRuntime, ops: AdamOperands, o: AdamStepOptions): void {
  const { param, grad, expAvg, expAvgSq, maxExpAvgSq } = ops;
  rt.check();
  const views = [param, grad, expAvg, expAvgSq, maxExpAvgSq];
  requireF32('adamStep', ...views);
  const n = numelOf(param.shape);
  if (n === 0) return;
  const ams = maxExpAvgSq !== null;
  const w = n % 4 === 0 && views.every((v) => !v || v.offset % 4 === 0) ? 4 : 1;
  const t = w === 4 ? 'vec4<f32>' : 'f32';
  const addWd = !o.decoupled && o.weightDecay !== 0;
  const f = (name: string) => `bitcast<f32>(p.${name})`;
  const k = kernel(
    `fused-adam:${o.decoupled}:${addWd}:${o.maximize}:${ams}:${w}`,
    ['n', 'po', 'go', 'mo', 'vo', 'xo', 'decay', 'wd', 'b1', 'c1', 'b2', 'c2', 'bc2', 'eps', 'neg'],
    () =>
      elementShader(
        [
          `@group(0) @binding(1) var<storage, read_write> P: array<${t}>;`,
          `@group(0) @binding(2) var<storage, read> G: array<${t}>;`,
          `@group(0) @binding(3) var<storage, read_write> M: array<${t}>;`,
          `@group(0) @binding(4) var<storage, read_write> V: array<${t}>;`,
          ams ? `@group(0) @binding(5) var<storage, read_write> X: array<${t}>;` : '',
        ].join('\n'),
        `  if (i >= u32(p.n)) { return; }
  let pi = u32(p.po) + i;
  let mi = u32(p.mo) + i;
  let vi = u32(p.vo) + i;
  var x = P[pi];
  var d = ${o.maximize ? '-' : ''}G[u32(p.go) + i];
  ${o.decoupled ? `x = x * ${f('decay')};` : addWd ? `d = d + ${f('wd')} * x;` : ''}
  let a = M[mi] * ${f('b1')} + ${f('c1')} * d;
  var s = V[vi] * ${f('b2')} + ${f('c2')} * d * d;
  M[mi] = a;
  V[vi] = s;
  ${
    ams
      ? `let xi = u32(p.xo) + i;
  s = max(X[xi], s);
  X[xi] = s;`
      : ''
  }
  P[pi] = x + (${f('neg')} * a) / (sqrt(s) / ${f('bc2')} + ${f('eps')});`,
      ),
  );
  const buffers = [param, grad, expAvg, expAvgSq].map((v) => rt.buffer(v, 'adamStep'));
  if (maxExpAvgSq) buffers.push(rt.buffer(maxExpAvgSq, 'adamStep'));
  rt.launch(
    k,
    {
      n: n / w,
      po: param.offset / w,
      go: grad.offset / w,
      mo: expAvg.offset / w,
      vo: expAvgSq.offset / w,
      xo: (maxExpAvgSq?.offset ?? 0) / w,
      decay: f32Bits(1 - o.lr * o.weightDecay),
      wd: f32Bits(o.weightDecay),
      b1: f32Bits(o.beta1),
      c1: f32Bits(1 - o.beta1),
      b2: f32Bits(o.beta2),
      c2: f32Bits(1 - o.beta2),
      bc2: f32Bits(o.biasCorrection2Sqrt),
      eps: f32Bits(o.eps),
      neg: f32Bits(-o.stepSize),
    },
    buffers,
    rt.grid1(n / w),
  );
}

/** ReLU's gradient from its output (threshold_backward): 0 where out <= 0, else g; contiguous operands. */
export function reluBackward(rt: GpuRuntime, g: View, out: View): Storage {
  rt.check();
  requireF32('reluBackward', g, out);
  const n = numelOf(g.shape);
  const gx = rt.newStorage(n);
  if (n === 0) return gx;
  const k = kernel('fused-relu-backward', ['n', 'go', 'yo'], () =>
    elementShader(
      `@group(0) @binding(1) var<storage, read_write> GX: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> Y: array<f32>;`,
      `  if (i >= u32(p.n)) { return; }
  GX[i] = select(G[u32(p.go) + i], 0.0, Y[u32(p.yo) + i] <= 0.0);`,
    ),
  );
  rt.launch(
    k,
    { n, go: g.offset, yo: out.offset },
    [gx._buffer!, rt.buffer(g, 'reluBackward'), rt.buffer(out, 'reluBackward')],
    rt.grid1(n),
  );
  return gx;
}

/** Dtypes `binaryInto` writes in place: those held as one 32-bit word with no rounding on store. */
const INTO_DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'int64'];

/**
 * `dst = dst op b` in one dispatch, dst bound once (read and written by the same thread), b shaped like
 * dst (any strides, broadcast included). False where it does not apply: b sharing dst's storage, an
 * overlapping (broadcast) destination, or a dtype outside INTO_DTYPES.
 */
export function binaryInto(rt: GpuRuntime, op: BinaryOp, dst: View, b: View): boolean {
  if (b.storage === dst.storage || !INTO_DTYPES.includes(dst.dtype) || !INTO_DTYPES.includes(b.dtype))
    return false;
  if (dst.strides.some((s, d) => s === 0 && dst.shape[d] > 1)) return false;
  rt.check();
  const n = numelOf(dst.shape);
  if (n === 0) return true;
  const ct = computeType(dst.dtype, b.dtype);
  const c = coalesce(dst.shape, [dst.strides, b.strides]);
  const rank = c.shape.length;
  const contiguous = isContiguousLayout(dst.shape, dst.strides) && isContiguousLayout(b.shape, b.strides);
  const dc = gpuClass(dst.dtype);
  const bc = gpuClass(b.dtype);
  const k = kernel(
    `fused-into:${op}:${ct}:${dst.dtype}:${bc}:${contiguous ? 'c' : rank}`,
    ['n', 'dOff', 'bOff', ['shape', rank], ['ds', rank], ['bs', rank]],
    () => {
      const index = contiguous
        ? '  let od = p.dOff + i32(i); let ob = p.bOff + i32(i);'
        : [
            '  var od = p.dOff; var ob = p.bOff; var rem = i;',
            ...Array.from({ length: rank }, (_, j) => rank - 1 - j).map(
              (d) =>
                `  { let s = u32(p.shape[${d}]); let q = i32(rem % s); rem = rem / s; od += q * p.ds[${d}]; ob += q * p.bs[${d}]; }`,
            ),
          ].join('\n');
      return elementShader(
        `@group(0) @binding(1) var<storage, read_write> D: array<${dc}>;
@group(0) @binding(2) var<storage, read> BV: array<${bc}>;`,
        `  if (i >= u32(p.n)) { return; }
${index}
  let a = ${loadAs(dc, ct, 'D[u32(od)]')};
  let b = ${loadAs(bc, ct, 'BV[u32(ob)]')};
  var r: ${ct};
  ${binaryStmt(op, ct)}
  D[u32(od)] = ${storeAs(dst.dtype, ct, 'r')};`,
      );
    },
  );
  rt.launch(
    k,
    { n, dOff: dst.offset, bOff: b.offset, shape: c.shape, ds: c.strides[0], bs: c.strides[1] },
    [rt.buffer(dst, 'binaryInto'), rt.buffer(b, 'binaryInto')],
    rt.grid1(n),
  );
  return true;
}
