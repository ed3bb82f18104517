// WGSL source generators for the WebGPU backend: one function per kernel family, each returning a
// complete compute shader specialised for its dtypes and rank (the backend caches the pipelines).
//
// Parameters reach every shader as `P: array<i32>` (binding 0), so one pipeline serves every shape of
// its class. NaN and Inf are tested on bit patterns, never with `x != x`, because WGSL lets
// implementations assume finite math; transcendental functions are written out (range reduction plus
// polynomials) so results match the CPU backend to a few ulps on every GPU, not just to Vulkan's
// loose precision floor.

import type { BinaryOp, ReduceOp, UnaryOp } from '../backend.js';
import { assertNever, type DType } from '../dtype.js';

/** How a dtype is held in a GPU buffer: every element is 32 bits. */
export type GpuClass = 'f32' | 'i32' | 'u32';

/**
 * GPU storage policy: float32/float64/float16/bfloat16 as f32 (float16 and bfloat16 values are
 * rounded to their precision on every store, float64 is computed in float32); int64/int32/int16/int8
 * as i32 (int64 is exact for |v| < 2^31); uint8 and bool as u32.
 */
export function gpuClass(dtype: DType): GpuClass {
  switch (dtype) {
    case 'float32':
    case 'float64':
    case 'float16':
    case 'bfloat16':
      return 'f32';
    case 'int64':
    case 'int32':
    case 'int16':
    case 'int8':
      return 'i32';
    case 'uint8':
    case 'bool':
      return 'u32';
    default:
      return assertNever(dtype);
  }
}

/** Compute type: float when any operand or the result is floating, else i32. */
export type ComputeType = 'f32' | 'i32';

export const WORKGROUP = 256;

/** Pure helper functions every shader may call. */
export const PRELUDE = /* wgsl */ `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn nz(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }
fn mk_nan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn mk_inf(negative: bool) -> f32 { var b = select(0x7f800000u, 0xff800000u, negative); return bitcast<f32>(b); }
fn b2f(c: bool) -> f32 { return select(0.0, 1.0, c); }
fn b2i(c: bool) -> i32 { return select(0, 1, c); }

fn exp_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x > 88.72284) { return mk_inf(false); }
  if (x < -103.97209) { return 0.0; }
  let k = round(x * 1.4426950408889634);
  let r = (x - k * 0.693145751953125) - k * 1.4286067653e-06;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 +
          r * (0.008333333333333333 + r * (0.001388888888888889 + r * 0.0001984126984126984))))));
  let ki = i32(k);
  let h = ki / 2;
  return ldexp(ldexp(p, h), ki - h);
}

fn log_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return mk_nan(); }
  if (x == 0.0) { return mk_inf(true); }
  if (!is_finite(x)) { return x; }
  let fr = frexp(x);
  var m = fr.fract;
  var e = f32(fr.exp);
  if (m < 0.70710678) { m = m * 2.0; e = e - 1.0; }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let p = s2 * (0.3333333333333333 + s2 * (0.2 + s2 * (0.14285714285714285 + s2 * (0.1111111111111111 +
          s2 * (0.09090909090909091 + s2 * 0.07692307692307693)))));
  return e * 0.693145751953125 + (2.0 * s + 2.0 * s * p + e * 1.4286067653e-06);
}

fn expm1_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * (0.008333333333333333 +
           x * (0.001388888888888889 + x * (0.0001984126984126984 + x * (2.48015873015873e-05 + x * 2.7557319223985893e-06))))))));
  }
  return exp_(x) - 1.0;
}

fn log1p_(x: f32) -> f32 {
  if (is_nan(x) || x < -1.0) { return mk_nan(); }
  if (x == -1.0) { return mk_inf(true); }
  if (!is_finite(x)) { return x; }
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log_(u) * (x / (u - 1.0));
}

fn sqrt_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return mk_nan(); }
  if (!is_finite(x)) { return x; }
  return sqrt(x);
}

fn rsqrt_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return mk_nan(); }
  if (x == 0.0) { return mk_inf(bitcast<u32>(x) != 0u); }
  if (!is_finite(x)) { return 0.0; }
  return 1.0 / sqrt(x);
}

fn tanh_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  var r = 1.0;
  if (a < 9.1) { let t = expm1_(2.0 * a); r = t / (t + 2.0); }
  return select(r, -r, x < 0.0);
}

fn sigmoid_(x: f32) -> f32 { return 1.0 / (1.0 + exp_(-x)); }

fn sign_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0);
}

fn relu_(x: f32) -> f32 { return select(0.0, x, x > 0.0 || is_nan(x)); }

// W. J. Cody's rational approximations (the CPU backend uses the same ones in double precision).
fn erf_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let ax = abs(x);
  if (ax < 0.5) {
    let t = x * x;
    let p = (((0.18577770618460315 * t + 3.1611237438705655) * t + 113.86415415105016) * t + 377.485237685302) * t + 3209.3775891384694;
    let q = (((t + 23.601290952344122) * t + 244.02463793444417) * t + 1282.6165260773723) * t + 2844.2368334391704;
    return x * p / q;
  }
  var r = 0.0;
  if (ax < 4.0) {
    let p = (((((((ax * 2.1531153547440383e-08 + 0.5641884969886701) * ax + 8.883149794388377) * ax + 66.11919063714163) * ax +
            298.635138197400131) * ax + 881.952221241769) * ax + 1712.0476126340707) * ax + 2051.0783778260716) * ax + 1230.3393547979972;
    let q = (((((((ax + 15.744926110709835) * ax + 117.6939508913125) * ax + 537.1811018620099) * ax + 1621.3895745666903) * ax +
            3290.7992357334597) * ax + 4362.619090143247) * ax + 3439.3676741437216) * ax + 1230.3393548037495;
    r = exp_(-ax * ax) * p / q;
  } else if (ax < 10.0) {
    let z = 1.0 / (ax * ax);
    let p = ((((0.016315387137302097 * z + 0.30532663496123236) * z + 0.36034489994980445) * z + 0.12578172611122926) * z +
            0.016083785148742275) * z + 0.0006587491615298378;
    let q = ((((z + 2.568520192289822) * z + 1.8729528499234604) * z + 0.5279051029514285) * z + 0.06051834131244132) * z +
            0.0023352049762686918;
    r = exp_(-ax * ax) / ax * (0.5641895835477551 - z * p / q);
  }
  return select(1.0 - r, r - 1.0, x < 0.0);
}

// sin and cos: Cody-Waite reduction by pi/2 (exact for |x| < ~1e5) and Taylor polynomials on [-pi/4, pi/4].
fn sin_poly(r: f32) -> f32 {
  let s = r * r;
  return r + r * s * (-0.16666666666666666 + s * (0.008333333333333333 + s * (-0.0001984126984126984 + s * 2.755731922398589e-06)));
}
fn cos_poly(r: f32) -> f32 {
  let s = r * r;
  return 1.0 + s * (-0.5 + s * (0.041666666666666664 + s * (-0.001388888888888889 + s * (2.48015873015873e-05 - s * 2.755731922398589e-07))));
}
fn trig_(x: f32, cosine: bool) -> f32 {
  if (!is_finite(x)) { return mk_nan(); }
  let q = round(x * 0.6366197723675814);
  let r = ((x - q * 1.5703125) - q * 4.837512969970703e-04) - q * 7.549789954891882e-08;
  let qi = (i32(q) + select(0, 1, cosine)) & 3;
  var v = select(sin_poly(r), cos_poly(r), (qi & 1) == 1);
  return select(v, -v, qi >= 2);
}

fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 1.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return mk_nan(); }
  let isInt = is_finite(b) && trunc(b) == b;
  if (isInt && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  if (!is_finite(b)) {
    let m = abs(a);
    if (m == 1.0) { return 1.0; }
    return select(0.0, mk_inf(false), (m > 1.0) == (b > 0.0));
  }
  if (a == 0.0) { return select(0.0, mk_inf(false), b < 0.0); }
  var mag = 0.0;
  if (!is_finite(a)) { mag = select(0.0, mk_inf(false), b > 0.0); }
  else if (a < 0.0 && !isInt) { return mk_nan(); }
  else { mag = exp_(b * log_(abs(a))); }
  let odd = isInt && abs(b) < 16777216.0 && (i32(b) & 1) == 1;
  return select(mag, -mag, a < 0.0 && odd);
}

fn ipow_(a: i32, b: i32) -> i32 {
  if (b < 0) { return select(select(0, select(1, -1, (b & 1) == 1), a == -1), 1, a == 1); }
  var e = u32(b);
  var base = a;
  var r = 1;
  loop {
    if ((e & 1u) == 1u) { r = r * base; }
    e = e >> 1u;
    if (e == 0u) { break; }
    base = base * base;
  }
  return r;
}

fn f2i(x: f32) -> i32 {
  if (!is_finite(x)) { return 0; }
  return i32(clamp(trunc(x), -2147483648.0, 2147483520.0));
}

fn round_f16(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  let sign = b & 0x80000000u;
  let a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) { return x; }
  if (a >= 0x477ff000u) { return bitcast<f32>(sign | 0x7f800000u); }
  if (a >= 0x38800000u) {
    let lsb = (a >> 13u) & 1u;
    return bitcast<f32>(sign | ((a + 0x0fffu + lsb) & 0xffffe000u));
  }
  let q = round(abs(x) * 16777216.0);
  return bitcast<f32>(sign | bitcast<u32>(q * 5.9604644775390625e-08));
}

fn round_bf16(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return bitcast<f32>((b | 0x00400000u) & 0xffff0000u); }
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}
`;

/** WGSL scalar type of a storage class. */
function wgslType(c: GpuClass): string {
  return c;
}

/** Expression converting a loaded storage value `v` of class `c` to compute type `ct`. */
export function loadAs(c: GpuClass, ct: ComputeType, v: string): string {
  if (c === ct) return v;
  return `${ct}(${v})`;
}

/** Expression converting a value of compute type `ct` to the storage value of `dtype`. */
export function storeAs(dtype: DType, ct: ComputeType, v: string): string {
  const c = gpuClass(dtype);
  if (c === 'f32') {
    const f = ct === 'f32' ? v : `f32(${v})`;
    if (dtype === 'float16') return `round_f16(${f})`;
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
function truth(ct: ComputeType, v: string): string {
  return ct === 'f32' ? `nz(${v})` : `(${v} != 0)`;
}

function fromBool(ct: ComputeType, c: string): string {
  return ct === 'f32' ? `b2f(${c})` : `b2i(${c})`;
}

export function unaryExpr(op: UnaryOp, ct: ComputeType, x: string): string {
  if (ct === 'i32') {
    switch (op) {
      case 'neg':
        return `(-${x})`;
      case 'abs':
        return `abs(${x})`;
      case 'sign':
        return `sign(${x})`;
      case 'relu':
        return `max(${x}, 0)`;
      case 'square':
        return `(${x} * ${x})`;
      case 'floor':
      case 'ceil':
      case 'round':
        return x;
      case 'logicalNot':
        return `b2i(${x} == 0)`;
      case 'isnan':
        return '0';
      case 'isfinite':
        return '1';
      default:
        return `f2i(${unaryExpr(op, 'f32', `f32(${x})`)})`;
    }
  }
  switch (op) {
    case 'neg':
      return `(-${x})`;
    case 'exp':
      return `exp_(${x})`;
    case 'log':
      return `log_(${x})`;
    case 'sqrt':
      return `sqrt_(${x})`;
    case 'rsqrt':
      return `rsqrt_(${x})`;
    case 'abs':
      return `abs(${x})`;
    case 'sign':
      return `sign_(${x})`;
    case 'relu':
      return `relu_(${x})`;
    case 'sigmoid':
      return `sigmoid_(${x})`;
    case 'tanh':
      return `tanh_(${x})`;
    case 'gelu':
      return `(0.5 * ${x} * (1.0 + erf_(${x} * 0.7071067811865476)))`;
    case 'geluTanh':
      return `(0.5 * ${x} * (1.0 + tanh_(0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x}))))`;
    case 'erf':
      return `erf_(${x})`;
    case 'floor':
      return `floor(${x})`;
    case 'ceil':
      return `ceil(${x})`;
    case 'round':
      return `round(${x})`;
    case 'reciprocal':
      return `(1.0 / ${x})`;
    case 'sin':
      return `trig_(${x}, false)`;
    case 'cos':
      return `trig_(${x}, true)`;
    case 'log1p':
      return `log1p_(${x})`;
    case 'expm1':
      return `expm1_(${x})`;
    case 'logicalNot':
      return `b2f(!nz(${x}))`;
    case 'isnan':
      return `b2f(is_nan(${x}))`;
    case 'isfinite':
      return `b2f(is_finite(${x}))`;
    case 'square':
      return `(${x} * ${x})`;
    default:
      return assertNever(op);
  }
}

/** Binary ops as WGSL statements assigning `r` from `a` and `b` (compute type `ct`). */
export function binaryStmt(op: BinaryOp, ct: ComputeType): string {
  const f = ct === 'f32';
  const anyNan = f ? '(is_nan(a) || is_nan(b))' : 'false';
  switch (op) {
    case 'add':
      return 'r = a + b;';
    case 'sub':
      return 'r = a - b;';
    case 'mul':
      return 'r = a * b;';
    case 'div':
      return f ? 'r = a / b;' : 'r = select(0, a / b, b != 0);';
    case 'pow':
      return f ? 'r = pow_(a, b);' : 'r = ipow_(a, b);';
    case 'maximum':
      return f ? 'r = select(select(b, a, a > b), mk_nan(), is_nan(a) || is_nan(b));' : 'r = max(a, b);';
    case 'minimum':
      return f ? 'r = select(select(b, a, a < b), mk_nan(), is_nan(a) || is_nan(b));' : 'r = min(a, b);';
    case 'eq':
      return `r = ${fromBool(ct, `a == b && !${anyNan}`)};`;
    case 'ne':
      return `r = ${fromBool(ct, `!(a == b) || ${anyNan}`)};`;
    case 'lt':
      return `r = ${fromBool(ct, `a < b && !${anyNan}`)};`;
    case 'le':
      return `r = ${fromBool(ct, `a <= b && !${anyNan}`)};`;
    case 'gt':
      return `r = ${fromBool(ct, `a > b && !${anyNan}`)};`;
    case 'ge':
      return `r = ${fromBool(ct, `a >= b && !${anyNan}`)};`;
    case 'logicalAnd':
      return `r = ${fromBool(ct, `${truth(ct, 'a')} && ${truth(ct, 'b')}`)};`;
    case 'logicalOr':
      return `r = ${fromBool(ct, `${truth(ct, 'a')} || ${truth(ct, 'b')}`)};`;
    case 'floorDivide':
      // Integer division by zero gives 0 on the GPU (the CPU backend throws).
      return f
        ? 'r = floor(a / b);'
        : 'if (b == 0) { r = 0; } else { r = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) { r = r - 1; } }';
    case 'remainder':
      return f
        ? 'if (!is_finite(b) && is_finite(a) && !is_nan(b)) { r = a; } else { r = a % b; } ' +
            'if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { r = r + b; }'
        : 'if (b == 0) { r = 0; } else { r = a % b; if (r != 0 && ((r < 0) != (b < 0))) { r = r + b; } }';
    default:
      return assertNever(op);
  }
}

/** Flat invocation index for 1-D work laid over a 2-D grid (dispatch limits are 65535 per dim). */
const FLAT_ID = `let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;`;
const ENTRY = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/**
 * Elementwise map over strided operands of one shape (rank `rank`, after dim coalescing).
 * P = [n, offOut, off_1..off_k, shape[rank], stridesOut[rank], strides_1[rank], ...].
 * `body` assigns `r` (compute type) from `v1..vk`.
 */
export function mapShader(opts: {
  inputs: GpuClass[];
  /** Overrides the compute type inputs are converted to (where: cond stays u32). */
  loadTypes: (ComputeType | 'bool')[];
  ct: ComputeType;
  outDtype: DType;
  rank: number;
  body: string;
}): string {
  const { inputs, rank, ct } = opts;
  const k = inputs.length;
  const ops = k + 1;
  const shapeBase = 2 + k;
  const strideBase = shapeBase + rank;
  const lines: string[] = [];
  lines.push('@group(0) @binding(0) var<storage, read> P: array<i32>;');
  lines.push(
    `@group(0) @binding(1) var<storage, read_write> OUT: array<${wgslType(gpuClass(opts.outDtype))}>;`,
  );
  inputs.forEach((c, j) => {
    lines.push(`@group(0) @binding(${j + 2}) var<storage, read> IN${j + 1}: array<${wgslType(c)}>;`);
  });
  lines.push(PRELUDE);
  lines.push(`${ENTRY} {`);
  lines.push(`  ${FLAT_ID}`);
  lines.push('  if (i >= u32(P[0])) { return; }');
  for (let j = 0; j < ops; j++) lines.push(`  var o${j} = P[${1 + j}];`);
  lines.push('  var rem = i;');
  if (rank === 1) {
    for (let j = 0; j < ops; j++) lines.push(`  o${j} = o${j} + i32(i) * P[${strideBase + j}];`);
  }
  for (let d = rank === 1 ? -1 : rank - 1; d >= 0; d--) {
    lines.push(`  { let s = u32(P[${shapeBase + d}]); let c = i32(rem % s); rem = rem / s;`);
    for (let j = 0; j < ops; j++) lines.push(`    o${j} = o${j} + c * P[${strideBase + j * rank + d}];`);
    lines.push('  }');
  }
  inputs.forEach((c, j) => {
    const lt = opts.loadTypes[j];
    const raw = `IN${j + 1}[u32(o${j + 1})]`;
    if (lt === 'bool')
      lines.push(
        `  let v${j + 1} = ${c === 'f32' ? `nz(${raw})` : c === 'i32' ? `(${raw} != 0)` : `(${raw} != 0u)`};`,
      );
    else lines.push(`  let v${j + 1} = ${loadAs(c, lt, raw)};`);
  });
  lines.push(`  var r: ${ct};`);
  lines.push(`  ${opts.body}`);
  lines.push(`  OUT[u32(o0)] = ${storeAs(opts.outDtype, ct, 'r')};`);
  lines.push('}');
  return lines.join('\n');
}

/** Writes a 32-bit pattern into the first P[0] words of OUT. P = [n, bits]. */
export function fillShader(): string {
  return `@group(0) @binding(0) var<storage, read> P: array<i32>;
@group(0) @binding(1) var<storage, read_write> OUT: array<i32>;
${ENTRY} {
  ${FLAT_ID}
  if (i >= u32(P[0])) { return; }
  OUT[i] = P[1];
}`;
}

/**
 * Reduction of the inner (reduced) dims for each outer (kept) element.
 * P = [outer, inner, offset, keptShape[rk], keptStrides[rk], redShape[rr], redStrides[rr]].
 * `perGroup`: one workgroup per output with a shared-memory tree; else one thread per output.
 */
export function reduceShader(opts: {
  op: ReduceOp;
  input: GpuClass;
  ct: ComputeType;
  outDtype: DType;
  keptRank: number;
  redRank: number;
  perGroup: boolean;
}): string {
  const { op, ct, keptRank: rk, redRank: rr } = opts;
  const arg = op === 'argmax' || op === 'argmin';
  const f = ct === 'f32';
  const lines: string[] = [];
  lines.push('@group(0) @binding(0) var<storage, read> P: array<i32>;');
  lines.push(`@group(0) @binding(1) var<storage, read_write> OUT: array<${gpuClass(opts.outDtype)}>;`);
  lines.push(`@group(0) @binding(2) var<storage, read> X: array<${opts.input}>;`);
  lines.push(PRELUDE);
  // Accumulator: value `v` (compute type) and, for arg ops, index `k`.
  let identity: string;
  switch (op) {
    case 'sum':
    case 'any':
      identity = f ? '0.0' : '0';
      break;
    case 'prod':
    case 'all':
      identity = f ? '1.0' : '1';
      break;
    case 'max':
    case 'argmax':
      identity = f ? 'mk_inf(true)' : '-2147483647 - 1';
      break;
    case 'min':
    case 'argmin':
      identity = f ? 'mk_inf(false)' : '2147483647';
      break;
    default:
      identity = assertNever(op);
  }
  // combine(av, ak, bv, bk) -> (v, k): associative and commutative, so any tree order gives the
  // sequential CPU answer (first NaN / first extreme element wins).
  const better = (gt: string) =>
    f
      ? `(is_nan(bv) && (!is_nan(av) || bk < ak)) || (!is_nan(av) && !is_nan(bv) && (bv ${gt} av || (bv == av && bk < ak)))`
      : `(bv ${gt} av || (bv == av && bk < ak))`;
  let combine: string;
  switch (op) {
    case 'sum':
      combine = 'return Acc(a.v + b.v, 0);';
      break;
    case 'prod':
      combine = 'return Acc(a.v * b.v, 0);';
      break;
    case 'max':
      combine = f
        ? 'if (is_nan(a.v)) { return a; } if (is_nan(b.v)) { return b; } return Acc(select(a.v, b.v, b.v > a.v), 0);'
        : 'return Acc(max(a.v, b.v), 0);';
      break;
    case 'min':
      combine = f
        ? 'if (is_nan(a.v)) { return a; } if (is_nan(b.v)) { return b; } return Acc(select(a.v, b.v, b.v < a.v), 0);'
        : 'return Acc(min(a.v, b.v), 0);';
      break;
    case 'argmax':
      combine = `let av = a.v; let ak = a.k; let bv = b.v; let bk = b.k; if (${better('>')}) { return b; } return a;`;
      break;
    case 'argmin':
      combine = `let av = a.v; let ak = a.k; let bv = b.v; let bk = b.k; if (${better('<')}) { return b; } return a;`;
      break;
    case 'any':
      combine = `return Acc(${fromBool(ct, `${truth(ct, 'a.v')} || ${truth(ct, 'b.v')}`)}, 0);`;
      break;
    case 'all':
      combine = `return Acc(${fromBool(ct, `${truth(ct, 'a.v')} && ${truth(ct, 'b.v')}`)}, 0);`;
      break;
    default:
      combine = assertNever(op);
  }
  lines.push(`struct Acc { v: ${ct}, k: i32 }`);
  lines.push(`fn combine(a: Acc, b: Acc) -> Acc { ${combine} }`);
  const keptShape = 3;
  const keptStrides = keptShape + rk;
  const redShape = keptStrides + rk;
  const redStrides = redShape + rr;
  // Offset of outer element `o` and of reduced element `j`.
  const offsetFn = (name: string, shapeAt: number, strideAt: number, rank: number) => {
    const body = [`fn ${name}(idx: u32) -> i32 {`, '  var rem = idx;', '  var off = 0;'];
    for (let d = rank - 1; d >= 0; d--) {
      body.push(
        `  { let s = u32(P[${shapeAt + d}]); off = off + i32(rem % s) * P[${strideAt + d}]; rem = rem / s; }`,
      );
    }
    body.push('  return off;', '}');
    return body.join('\n');
  };
  lines.push(offsetFn('outer_off', keptShape, keptStrides, rk));
  lines.push(offsetFn('inner_off', redShape, redStrides, rr));
  const load = (off: string) => loadAs(opts.input, ct, `X[u32(${off})]`);
  const store = arg ? 'OUT[o] = acc.k;' : `OUT[o] = ${storeAs(opts.outDtype, ct, 'acc.v')};`;
  if (!opts.perGroup) {
    lines.push(`${ENTRY} {`);
    lines.push('  let o = gid.x + gid.y * nwg.x * 256u;');
    lines.push('  if (o >= u32(P[0])) { return; }');
    lines.push('  let base = P[2] + outer_off(o);');
    lines.push(`  var acc = Acc(${identity}, 2147483647);`);
    lines.push('  let inner = u32(P[1]);');
    lines.push(
      `  for (var j = 0u; j < inner; j++) { acc = combine(acc, Acc(${load('base + inner_off(j)')}, i32(j))); }`,
    );
    lines.push(`  ${store}`);
    lines.push('}');
  } else {
    lines.push(`var<workgroup> SV: array<${ct}, ${WORKGROUP}>;`);
    lines.push(`var<workgroup> SK: array<i32, ${WORKGROUP}>;`);
    lines.push(`@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {`);
    lines.push('  let o = wid.x + wid.y * nwg.x;');
    lines.push('  let valid = o < u32(P[0]);');
    lines.push(`  var acc = Acc(${identity}, 2147483647);`);
    lines.push('  if (valid) {');
    lines.push('    let base = P[2] + outer_off(o);');
    lines.push('    let inner = u32(P[1]);');
    lines.push(
      `    for (var j = t; j < inner; j += ${WORKGROUP}u) { acc = combine(acc, Acc(${load('base + inner_off(j)')}, i32(j))); }`,
    );
    lines.push('  }');
    lines.push('  SV[t] = acc.v; SK[t] = acc.k;');
    lines.push('  workgroupBarrier();');
    lines.push(`  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {`);
    lines.push(
      '    if (t < s) { let c = combine(Acc(SV[t], SK[t]), Acc(SV[t + s], SK[t + s])); SV[t] = c.v; SK[t] = c.k; }',
    );
    lines.push('    workgroupBarrier();');
    lines.push('  }');
    lines.push('  if (t == 0u && valid) { acc = Acc(SV[0], SK[0]);');
    lines.push(`    ${store}`);
    lines.push('  }');
    lines.push('}');
  }
  return lines.join('\n');
}

/** Rows and columns of C one 16x16 workgroup computes; each thread holds a (TM/16)x(TN/16) block. */
export interface GemmTile {
  tm: number;
  tn: number;
}

const TK = 16;

/**
 * The tile for an M x N product: 64x64 in general, narrow tiles when one side is small (a 3-channel
 * input gradient, a 1x1 spatial map), where a square tile would compute mostly padding.
 */
export function gemmTile(M: number, N: number): GemmTile {
  if (M <= 16 && N <= 16) return { tm: 16, tn: 16 };
  if (M <= 16) return { tm: 16, tn: 64 };
  if (N <= 16) return { tm: 64, tn: 16 };
  return { tm: 64, tn: 64 };
}

/**
 * A tiled GEMM C[g, m, n] = sum_k A(g, m, k) * B(g, k, n), with the operand loads and the store given
 * as WGSL snippets, so matmul and the three convolution kernels (implicit GEMM) share one body.
 * Every thread loads A from one fixed row `m` and B from one fixed column `n` (the tile sizes divide
 * 256), so `aHoist` / `bHoist` compute what depends on the row / column once, outside the K loop;
 * `aLoad` / `bLoad` then assign `av` / `bv` for `k` (they run only for in-range m, n and k).
 * `params` name the P entries; `M`, `N`, `K` must be among them.
 */
export function gemmShader(opts: {
  params: string[];
  bindings: string;
  tile: GemmTile;
  aHoist?: string;
  aLoad: string;
  bHoist?: string;
  bLoad: string;
  /** fn storeC(g: i32, m: i32, n: i32, v: f32) body. */
  storeC: string;
}): string {
  const { tm, tn } = opts.tile;
  const rm = tm / 16;
  const rn = tn / 16;
  const decl = opts.params.map((p, i) => `  let ${p} = P[${i}];`).join('\n');
  const paramStruct = opts.params.map((p, i) => `fn p_${p}() -> i32 { return P[${i}]; }`).join('\n');
  const refs = (body: string) =>
    opts.params.reduce((s, p) => s.replace(new RegExp(`\\b${p}\\b`, 'g'), `p_${p}()`), body);
  const fma: string[] = [];
  for (let i = 0; i < rm; i++) fma.push(`      let a${i} = AS[kk * ${tm} + tm + ${i}];`);
  for (let j = 0; j < rn; j++) fma.push(`      let b${j} = BS[kk * ${tn} + tn + ${j}];`);
  for (let i = 0; i < rm; i++)
    for (let j = 0; j < rn; j++) fma.push(`      acc[${i * rn + j}] += a${i} * b${j};`);
  return `@group(0) @binding(0) var<storage, read> P: array<i32>;
${opts.bindings}
${PRELUDE}
${paramStruct}
fn storeC(g: i32, m: i32, n: i32, v: f32) { ${refs(opts.storeC)} }
var<workgroup> AS: array<f32, ${TK * tm}>;
var<workgroup> BS: array<f32, ${TK * tn}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${decl}
  let g = i32(wid.z);
  let m0 = i32(wid.y) * ${tm};
  let n0 = i32(wid.x) * ${tn};
  let tid = i32(lid.y * 16u + lid.x);
  let tm = i32(lid.y) * ${rm};
  let tn = i32(lid.x) * ${rn};
  let am = tid % ${tm};
  let bn = tid % ${tn};
  let m = m0 + am;
  let n = n0 + bn;
  ${opts.aHoist ?? ''}
  ${opts.bHoist ?? ''}
  var acc: array<f32, ${rm * rn}>;
  for (var q = 0; q < ${rm * rn}; q++) { acc[q] = 0.0; }
  for (var k0 = 0; k0 < K; k0 += ${TK}) {
    for (var l = 0; l < ${(TK * tm) / 256}; l++) {
      let kk = tid / ${tm} + l * ${256 / tm};
      var av = 0.0;
      if (m < M && k0 + kk < K) { let k = k0 + kk; ${opts.aLoad} }
      AS[kk * ${tm} + am] = av;
    }
    for (var l = 0; l < ${(TK * tn) / 256}; l++) {
      let kk = tid / ${tn} + l * ${256 / tn};
      var bv = 0.0;
      if (n < N && k0 + kk < K) { let k = k0 + kk; ${opts.bLoad} }
      BS[kk * ${tn} + bn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${TK}; kk++) {
${fma.join('\n')}
    }
    workgroupBarrier();
  }
  for (var i = 0; i < ${rm}; i++) {
    for (var j = 0; j < ${rn}; j++) {
      let mi = m0 + tm + i;
      let ni = n0 + tn + j;
      if (mi < M && ni < N) { storeC(g, mi, ni, acc[i * ${rn} + j]); }
    }
  }
}`;
}

/** Kernels that launch one thread per element and are written out in full by the backend. */
export function simpleShader(bindings: string, body: string, extra = ''): string {
  return `@group(0) @binding(0) var<storage, read> P: array<i32>;
${bindings}
${PRELUDE}
${extra}
${ENTRY} {
  ${FLAT_ID}
${body}
}`;
}

/** Statements decomposing flat index `i` over `rank` dims whose sizes are P[shapeAt..]; defines c0..c{rank-1}. */
export function decompose(rank: number, shapeAt: number, idx = 'i'): string {
  const out = [`  var rem_ = ${idx};`];
  for (let d = rank - 1; d >= 0; d--) {
    out.push(`  let c${d} = i32(rem_ % u32(P[${shapeAt + d}])); rem_ = rem_ / u32(P[${shapeAt + d}]);`);
  }
  return out.join('\n');
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
