// Elementwise kernels over strided views: the unary and binary op tables (WGSL per op), one map shader
// they all run in, and the launchers for fill, copy, assign, unary, binary and where.

import type { BinaryOp, Storage, UnaryOp, View } from '../../backend.js';
import { assertNever, type DType } from '../../dtype.js';
import { contiguousStrides, numelOf } from '../../shape.js';
import type { GpuRuntime, WebGpuStorage } from '../runtime/device.js';
import { type ComputeType, computeType, fillBits, type GpuClass, gpuClass } from '../runtime/dtype.js';
import { kernel } from '../runtime/params.js';
import { coalesce } from './coalesce.js';
import { elementShader, fromBool, loadAs, storeAs, truth } from './wgsl.js';

/**
 * The unary op table: a WGSL expression of `x` (compute type `ct`) for each op. Integer inputs compute
 * in i32 where the op keeps integers, and otherwise through the float expression. Helper functions
 * (`exp_`, `trig_`, ...) live in math.ts.
 */
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
    case 'exp2':
      return `exp_(${x} * 0.6931471805599453)`;
    case 'log2':
      return `(log_(${x}) * 1.4426950408889634)`;
    case 'tan':
      return `(trig_(${x}, false) / trig_(${x}, true))`;
    case 'asin':
      return `select(atan(${x} / sqrt((1.0 - ${x}) * (1.0 + ${x}))), mk_nan(), !(abs(${x}) <= 1.0))`;
    case 'acos':
      return `select(2.0 * atan(sqrt((1.0 - ${x}) / (1.0 + ${x}))), mk_nan(), !(abs(${x}) <= 1.0))`;
    case 'atan':
      return `atan(${x})`;
    case 'sinh':
      return `(0.5 * (expm1_(${x}) - expm1_(-${x})))`;
    case 'cosh':
      return `(0.5 * (exp_(${x}) + exp_(-${x})))`;
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

/** The binary op table: WGSL statements assigning `r` from `a` and `b` (compute type `ct`). */
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

/** How a map input is loaded: converted to a compute type, or tested for truth (where's condition). */
type LoadType = ComputeType | 'bool';

/**
 * Elementwise map over strided operands of one shape (rank `rank`, after coalescing). Operand 0 is the
 * output, 1..k the inputs: `offset[j]`, and `strides[j * rank + d]` for dim d. `body` assigns `r`
 * (compute type `ct`) from `v1..vk`.
 */
function mapShader(
  inputs: GpuClass[],
  loadTypes: LoadType[],
  ct: ComputeType,
  outDtype: DType,
  rank: number,
  body: string,
) {
  const ops = inputs.length + 1;
  const bindings = [`@group(0) @binding(1) var<storage, read_write> OUT: array<${gpuClass(outDtype)}>;`];
  inputs.forEach((c, j) => {
    bindings.push(`@group(0) @binding(${j + 2}) var<storage, read> IN${j + 1}: array<${c}>;`);
  });
  const lines = ['  if (i >= u32(p.n)) { return; }'];
  for (let j = 0; j < ops; j++) lines.push(`  var o${j} = p.offset[${j}];`);
  lines.push('  var rem = i;');
  if (rank === 1) {
    for (let j = 0; j < ops; j++) lines.push(`  o${j} = o${j} + i32(i) * p.strides[${j}];`);
  } else {
    for (let d = rank - 1; d >= 0; d--) {
      lines.push(`  { let s = u32(p.shape[${d}]); let c = i32(rem % s); rem = rem / s;`);
      for (let j = 0; j < ops; j++) lines.push(`    o${j} = o${j} + c * p.strides[${j * rank + d}];`);
      lines.push('  }');
    }
  }
  inputs.forEach((c, j) => {
    const lt = loadTypes[j];
    const raw = `IN${j + 1}[u32(o${j + 1})]`;
    const v =
      lt !== 'bool'
        ? loadAs(c, lt, raw)
        : c === 'f32'
          ? `nz(${raw})`
          : c === 'f16'
            ? `nz(from_f16(${raw}))`
            : c === 'i32'
              ? `(${raw} != 0)`
              : `(${raw} != 0u)`;
    lines.push(`  let v${j + 1} = ${v};`);
  });
  lines.push(`  var r: ${ct};`, `  ${body}`, `  OUT[u32(o0)] = ${storeAs(outDtype, ct, 'r')};`);
  return elementShader(bindings.join('\n'), lines.join('\n'));
}

/**
 * Runs `body` over `inputs` (all shaped like the output) into a fresh contiguous storage, or into the
 * elements `into` covers (then returns null).
 */
function map(
  rt: GpuRuntime,
  name: string,
  inputs: View[],
  loadTypes: LoadType[],
  ct: ComputeType,
  outDtype: DType,
  body: string,
  into?: View,
): Storage | null {
  rt.check();
  const shape = into ? into.shape : inputs[0].shape;
  const n = numelOf(shape);
  const out = into ? null : rt.newStorage(n, outDtype);
  if (n === 0) return out;
  const c = coalesce(shape, [
    into ? into.strides : contiguousStrides(shape),
    ...inputs.map((v) => v.strides),
  ]);
  const rank = c.shape.length;
  const ops = inputs.length + 1;
  const classes = inputs.map((v) => gpuClass(v.dtype));
  const k = kernel(
    `map:${name}:${ct}:${outDtype}:${classes.join(',')}:${loadTypes.join(',')}:${rank}`,
    ['n', ['offset', ops], ['shape', rank], ['strides', ops * rank]],
    () => mapShader(classes, loadTypes, ct, outDtype, rank, body),
  );
  rt.launch(
    k,
    {
      n,
      offset: [into ? into.offset : 0, ...inputs.map((v) => v.offset)],
      shape: c.shape,
      strides: c.strides.flat(),
    },
    [rt.buffer(into ?? out!, name), ...inputs.map((v) => rt.buffer(v, name))],
    rt.grid1(n),
  );
  return out;
}

/** `length` elements of `dtype`, all `value`. */
export function fill(rt: GpuRuntime, dtype: DType, length: number, value: number): WebGpuStorage {
  rt.check();
  const s = rt.newStorage(length, dtype);
  const bits = fillBits(dtype, value);
  if (length > 0 && gpuClass(dtype) === 'f16') {
    const k = kernel('fill:f16', ['n', 'bits'], () =>
      elementShader(
        '@group(0) @binding(1) var<storage, read_write> OUT: array<f16>;',
        '  if (i >= u32(p.n)) { return; }\n  OUT[i] = bitcast<vec2<f16>>(u32(p.bits)).x;',
      ),
    );
    rt.launch(k, { n: length, bits }, [s._buffer!], rt.grid1(length));
  } else if (length > 0) {
    const k = kernel('fill', ['n', 'bits'], () =>
      elementShader(
        '@group(0) @binding(1) var<storage, read_write> OUT: array<i32>;',
        '  if (i >= u32(p.n)) { return; }\n  OUT[i] = p.bits;',
      ),
    );
    rt.launch(k, { n: length, bits }, [s._buffer!], rt.grid1(length));
  }
  return s;
}

/**
 * `f32` (n float32 elements, as the atomic-add kernels accumulate) as a storage of `dtype`: itself for
 * dtypes held as f32, else a converted copy (f32 is released).
 */
export function narrowFrom32(rt: GpuRuntime, f32: WebGpuStorage, n: number, dtype: DType): Storage {
  if (gpuClass(dtype) !== 'f16') return f32;
  const out = copy(rt, { storage: f32, shape: [n], strides: [1], offset: 0, dtype: 'float32' }, dtype);
  f32.dispose();
  return out;
}

/** Contiguous copy of `x` converted to `dtype`. */
export function copy(rt: GpuRuntime, x: View, dtype: DType): Storage {
  const ct = computeType(x.dtype, dtype);
  return map(rt, 'copy', [x], [ct], ct, dtype, 'r = v1;')!;
}

/** Writes `src` (shaped like `dst`, any strides) into the elements `dst` covers. */
export function assign(rt: GpuRuntime, dst: View, src: View): void {
  let s = src;
  let temp: Storage | null = null;
  if (src.storage === dst.storage) {
    // Overlapping read and write in one dispatch is not allowed: read from a copy.
    temp = copy(rt, src, src.dtype);
    s = {
      storage: temp,
      shape: src.shape,
      strides: contiguousStrides(src.shape),
      offset: 0,
      dtype: src.dtype,
    };
  }
  const ct = computeType(s.dtype, dst.dtype);
  map(rt, 'copy', [s], [ct], ct, dst.dtype, 'r = v1;', dst);
  temp?.dispose();
}

export function unary(rt: GpuRuntime, op: UnaryOp, x: View, outDtype: DType): Storage {
  const ct = computeType(x.dtype, outDtype);
  return map(rt, `unary-${op}`, [x], [ct], ct, outDtype, `r = ${unaryExpr(op, ct, 'v1')};`)!;
}

export function binary(rt: GpuRuntime, op: BinaryOp, a: View, b: View, outDtype: DType): Storage {
  const ct = computeType(a.dtype, b.dtype, outDtype === 'bool' ? a.dtype : outDtype);
  const body = `let a = v1; let b = v2; ${binaryStmt(op, ct)}`;
  return map(rt, `binary-${op}`, [a, b], [ct, ct], ct, outDtype, body)!;
}

export function where(rt: GpuRuntime, cond: View, a: View, b: View, outDtype: DType): Storage {
  const ct = computeType(outDtype);
  return map(rt, 'where', [cond, a, b], ['bool', ct, ct], ct, outDtype, 'r = select(v3, v2, v1);')!;
}
