// Reductions (sum, prod, max, min, argmax, argmin, any, all) over any set of dims of a strided view:
// one thread per output for short rows, one workgroup with a shared-memory tree for long ones.

import type { ReduceOp, Storage, View } from '../../backend.js';
import { assertNever, type DType } from '../../dtype.js';
import { numelOf } from '../../shape.js';
import type { GpuRuntime } from '../runtime/device.js';
import { type ComputeType, computeType, type GpuClass, gpuClass } from '../runtime/dtype.js';
import { WORKGROUP } from '../runtime/launch.js';
import { kernel } from '../runtime/params.js';
import { coalesce } from './coalesce.js';
import { PRELUDE } from './math.js';
import { ELEMENT_ENTRY, fromBool, loadAs, storeAs, truth } from './wgsl.js';

function identity(op: ReduceOp, f: boolean): string {
  switch (op) {
    case 'sum':
    case 'any':
      return f ? '0.0' : '0';
    case 'prod':
    case 'all':
      return f ? '1.0' : '1';
    case 'max':
    case 'argmax':
      return f ? 'mk_inf(true)' : '-2147483647 - 1';
    case 'min':
    case 'argmin':
      return f ? 'mk_inf(false)' : '2147483647';
    default:
      return assertNever(op);
  }
}

/**
 * The body of combine(a, b: Acc) -> Acc: associative and commutative, so any tree order gives the
 * sequential CPU answer (first NaN / first extreme element wins).
 */
function combine(op: ReduceOp, ct: ComputeType): string {
  const f = ct === 'f32';
  const better = (gt: string) =>
    f
      ? `(is_nan(bv) && (!is_nan(av) || bk < ak)) || (!is_nan(av) && !is_nan(bv) && (bv ${gt} av || (bv == av && bk < ak)))`
      : `(bv ${gt} av || (bv == av && bk < ak))`;
  switch (op) {
    case 'sum':
      return 'return Acc(a.v + b.v, 0);';
    case 'prod':
      return 'return Acc(a.v * b.v, 0);';
    case 'max':
      return f
        ? 'if (is_nan(a.v)) { return a; } if (is_nan(b.v)) { return b; } return Acc(select(a.v, b.v, b.v > a.v), 0);'
        : 'return Acc(max(a.v, b.v), 0);';
    case 'min':
      return f
        ? 'if (is_nan(a.v)) { return a; } if (is_nan(b.v)) { return b; } return Acc(select(a.v, b.v, b.v < a.v), 0);'
        : 'return Acc(min(a.v, b.v), 0);';
    case 'argmax':
      return `let av = a.v; let ak = a.k; let bv = b.v; let bk = b.k; if (${better('>')}) { return b; } return a;`;
    case 'argmin':
      return `let av = a.v; let ak = a.k; let bv = b.v; let bk = b.k; if (${better('<')}) { return b; } return a;`;
    case 'any':
      return `return Acc(${fromBool(ct, `${truth(ct, 'a.v')} || ${truth(ct, 'b.v')}`)}, 0);`;
    case 'all':
      return `return Acc(${fromBool(ct, `${truth(ct, 'a.v')} && ${truth(ct, 'b.v')}`)}, 0);`;
    default:
      return assertNever(op);
  }
}

/** fn `name`(idx) -> offset of the idx-th element over the dims `p.<shape>` with strides `p.<strides>`. */
function offsetFn(name: string, shape: string, strides: string, rank: number): string {
  const body = [`fn ${name}(idx: u32) -> i32 {`, '  var rem = idx;', '  var off = 0;'];
  for (let d = rank - 1; d >= 0; d--) {
    body.push(
      `  { let s = u32(p.${shape}[${d}]); off = off + i32(rem % s) * p.${strides}[${d}]; rem = rem / s; }`,
    );
  }
  body.push('  return off;', '}');
  return body.join('\n');
}

/**
 * Reduction of the inner (reduced) dims for each of `p.outer` kept elements, starting at `p.offset`.
 * `perGroup`: one workgroup per output with a shared-memory tree; else one thread per output.
 */
function reduceShader(
  op: ReduceOp,
  input: GpuClass,
  ct: ComputeType,
  outDtype: DType,
  rk: number,
  rr: number,
  perGroup: boolean,
) {
  const arg = op === 'argmax' || op === 'argmin';
  const load = (off: string) => loadAs(input, ct, `X[u32(${off})]`);
  const store = arg ? 'OUT[o] = acc.k;' : `OUT[o] = ${storeAs(outDtype, ct, 'acc.v')};`;
  const init = `var acc = Acc(${identity(op, ct === 'f32')}, 2147483647);`;
  const head = `@group(0) @binding(1) var<storage, read_write> OUT: array<${gpuClass(outDtype)}>;
@group(0) @binding(2) var<storage, read> X: array<${input}>;
${PRELUDE}
struct Acc { v: ${ct}, k: i32 }
fn combine(a: Acc, b: Acc) -> Acc { ${combine(op, ct)} }
${offsetFn('outer_off', 'keptShape', 'keptStrides', rk)}
${offsetFn('inner_off', 'redShape', 'redStrides', rr)}`;
  if (!perGroup) {
    return `${head}
${ELEMENT_ENTRY}
  let o = i;
  if (o >= u32(p.outer)) { return; }
  let base = p.offset + outer_off(o);
  ${init}
  let inner = u32(p.inner);
  for (var j = 0u; j < inner; j++) { acc = combine(acc, Acc(${load('base + inner_off(j)')}, i32(j))); }
  ${store}
}`;
  }
  return `${head}
var<workgroup> SV: array<${ct}, ${WORKGROUP}>;
var<workgroup> SK: array<i32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < u32(p.outer);
  ${init}
  if (valid) {
    let base = p.offset + outer_off(o);
    let inner = u32(p.inner);
    for (var j = t; j < inner; j += ${WORKGROUP}u) { acc = combine(acc, Acc(${load('base + inner_off(j)')}, i32(j))); }
  }
  SV[t] = acc.v; SK[t] = acc.k;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { let c = combine(Acc(SV[t], SK[t]), Acc(SV[t + s], SK[t + s])); SV[t] = c.v; SK[t] = c.k; }
    workgroupBarrier();
  }
  if (t == 0u && valid) { acc = Acc(SV[0], SK[0]);
    ${store}
  }
}`;
}

/** Reduces `dims` of `x` away; the output holds the kept dims in order. */
export function reduce(
  rt: GpuRuntime,
  op: ReduceOp,
  x: View,
  dims: readonly number[],
  outDtype: DType,
): Storage {
  rt.check();
  const kept = [...Array(x.shape.length).keys()].filter((d) => !dims.includes(d));
  const outer = numelOf(kept.map((d) => x.shape[d]));
  const inner = numelOf(dims.map((d) => x.shape[d]));
  const out = rt.newStorage(outer, outDtype);
  if (outer === 0) return out;
  if (inner === 0 && (op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin')) {
    out.dispose();
    throw new Error(`${op}: cannot reduce over an empty dimension`);
  }
  const k = coalesce(
    kept.map((d) => x.shape[d]),
    [kept.map((d) => x.strides[d])],
  );
  const r = coalesce(
    dims.map((d) => x.shape[d]),
    [dims.map((d) => x.strides[d])],
  );
  const ct = computeType(
    x.dtype,
    op === 'argmax' || op === 'argmin' || op === 'any' || op === 'all' ? x.dtype : outDtype,
  );
  const perGroup = inner > 32 && (outer <= 2048 || inner >= 1024);
  const input = gpuClass(x.dtype);
  const [rk, rr] = [k.shape.length, r.shape.length];
  const kern = kernel(
    `reduce:${op}:${input}:${ct}:${outDtype}:${rk}:${rr}:${perGroup}`,
    [
      'outer',
      'inner',
      'offset',
      ['keptShape', rk],
      ['keptStrides', rk],
      ['redShape', rr],
      ['redStrides', rr],
    ],
    () => reduceShader(op, input, ct, outDtype, rk, rr, perGroup),
  );
  rt.launch(
    kern,
    {
      outer,
      inner,
      offset: x.offset,
      keptShape: k.shape,
      keptStrides: k.strides[0],
      redShape: r.shape,
      redStrides: r.strides[0],
    },
    [out._buffer!, rt.buffer(x, op)],
    perGroup ? rt.gridGroups(outer) : rt.grid1(outer),
  );
  return out;
}
