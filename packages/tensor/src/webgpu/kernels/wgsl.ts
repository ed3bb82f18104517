// WGSL pieces the kernel families share: dtype conversions on load and store, the one-thread-per-
// element entry point, index decomposition and a float atomic add. Each kernel's own WGSL sits beside
// its launcher; parameters come from `p` (see runtime/params.ts).

import type { DType } from '../../dtype.js';
import { type ComputeType, type GpuClass, gpuClass } from '../runtime/dtype.js';
import { WORKGROUP } from '../runtime/launch.js';
import { PRELUDE } from './math.js';

/** Expression converting a loaded storage value `v` of class `c` to compute type `ct`. */
export function loadAs(c: GpuClass, ct: ComputeType, v: string): string {
  if (c === ct) return v;
  if (c === 'f16') return ct === 'f32' ? `from_f16(${v})` : `f2i(from_f16(${v}))`;
  return `${ct}(${v})`;
}

/** Expression converting a value of compute type `ct` to the storage value of `dtype`. */
export function storeAs(dtype: DType, ct: ComputeType, v: string): string {
  const c = gpuClass(dtype);
  if (c === 'f16') return `to_f16(${ct === 'f32' ? v : `f32(${v})`})`;
  if (c === 'f32') {
    const f = ct === 'f32' ? v : `f32(${v})`;
    if (dtype === 'bfloat16') return `round_bf16(${f})`;
    return f;
  }
  if (c === 'i32') {
    const i = ct === 'i32' ? v : `f2i(${v})`;
    if (dtype === 'int16') return `((${i} << 16u) >> 16u)`;
    if (dtype === 'int8') return `((${i} << 24u) >> 24u)`;
    return i;
  }
  if (dtype === 'bool') return ct === 'f32' ? `select(0u, 1u, nz(${v}))` : `select(0u, 1u, (${v}) != 0)`;
  return ct === 'f32' ? `(u32(f2i(${v})) & 255u)` : `(u32(${v}) & 255u)`;
}

/** Truth of a compute-typed value (nonzero, NaN counts as true as in PyTorch). */
export function truth(ct: ComputeType, v: string): string {
  return ct === 'f32' ? `nz(${v})` : `(${v} != 0)`;
}

/** A WGSL bool as a compute-typed 0 or 1. */
export function fromBool(ct: ComputeType, c: string): string {
  return ct === 'f32' ? `b2f(${c})` : `b2i(${c})`;
}

/** The entry point of one-thread-per-element kernels; `i` is the flat index over a 2-D grid. */
export const ELEMENT_ENTRY = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;`;

/**
 * A kernel with one thread per element `i` (launch it on `grid1(n)`): `bindings` from 1 on, `helpers`
 * (functions, after the math library), then `body`, which must return early for `i` out of range.
 */
export function elementShader(bindings: string, body: string, helpers = ''): string {
  return `${bindings}
${PRELUDE}
${helpers}
${ELEMENT_ENTRY}
${body}
}`;
}

/** Statements decomposing flat index `idx` over `rank` dims of sizes `p.<field>`; defines c0..c{rank-1}. */
export function decompose(rank: number, field: string, idx = 'i'): string {
  const out = [`  var rem_ = ${idx};`];
  for (let d = rank - 1; d >= 0; d--) {
    out.push(`  let c${d} = i32(rem_ % u32(p.${field}[${d}])); rem_ = rem_ / u32(p.${field}[${d}]);`);
  }
  return out.join('\n');
}

/** `c0 * p.<field>[0] + c1 * p.<field>[1] + ...` over `rank` dims, with `replace[d]` in place of `c{d}` where given. */
export function dot(rank: number, field: string, replace: Record<number, string> = {}): string {
  const terms: string[] = [];
  for (let d = 0; d < rank; d++) terms.push(`${replace[d] ?? `c${d}`} * p.${field}[${d}]`);
  return terms.join(' + ');
}

/** Float add into `OUT[idx]` (OUT: array<atomic<u32>>) with a compare-and-swap loop. */
export const ATOMIC_ADD = `
fn atomic_add_f32(idx: u32, v: f32) {
  var old = atomicLoad(&OUT[idx]);
  loop {
    let r = atomicCompareExchangeWeak(&OUT[idx], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}`;
