// The free functions, PyTorch's `torch.*`: `sin(x)`, `sum(x, dim)`, `clamp(x, min, max)`. Each is the
// op's one definition called as a function; the Tensor methods call the same definitions.

import type { Tensor, ValuesIndices } from '../tensor.js';
import * as E from './elementwise.js';
import * as I from './indexing.js';
import * as R from './reduce.js';
import type { PublicUnaryName } from './unary.js';

/** The free function of a unary op of the table (ops/unary.ts). */
function unaryFunction(name: PublicUnaryName): (x: Tensor) => Tensor {
  const fn = (x: Tensor): Tensor => E.applyUnary(name, x);
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

// ---- unary (one line per entry of UNARY_OPS; a test checks none is missing)

/** Negation, `-x`. `torch.neg`. */
export const neg = /* @__PURE__ */ unaryFunction('neg');
/** Absolute value; the gradient at 0 is 0. `torch.abs`. */
export const abs = /* @__PURE__ */ unaryFunction('abs');
/** `x * x`. `torch.square`. */
export const square = /* @__PURE__ */ unaryFunction('square');
/** `e^x`. `torch.exp`. */
export const exp = /* @__PURE__ */ unaryFunction('exp');
/** `2^x`. `torch.exp2`. */
export const exp2 = /* @__PURE__ */ unaryFunction('exp2');
/** `e^x - 1`, accurate near 0. `torch.expm1`. */
export const expm1 = /* @__PURE__ */ unaryFunction('expm1');
/** Natural logarithm. `torch.log`. */
export const log = /* @__PURE__ */ unaryFunction('log');
/** Base-2 logarithm. `torch.log2`. */
export const log2 = /* @__PURE__ */ unaryFunction('log2');
/** `log(1 + x)`, accurate near 0. `torch.log1p`. */
export const log1p = /* @__PURE__ */ unaryFunction('log1p');
/** Square root. `torch.sqrt`. */
export const sqrt = /* @__PURE__ */ unaryFunction('sqrt');
/** `1 / sqrt(x)`. `torch.rsqrt`. */
export const rsqrt = /* @__PURE__ */ unaryFunction('rsqrt');
/** `1 / x`. `torch.reciprocal`. */
export const reciprocal = /* @__PURE__ */ unaryFunction('reciprocal');
/** Sine (radians). `torch.sin`. */
export const sin = /* @__PURE__ */ unaryFunction('sin');
/** Cosine (radians). `torch.cos`. */
export const cos = /* @__PURE__ */ unaryFunction('cos');
/** Tangent (radians). `torch.tan`. */
export const tan = /* @__PURE__ */ unaryFunction('tan');
/** Inverse sine; NaN outside [-1, 1]. `torch.asin`. */
export const asin = /* @__PURE__ */ unaryFunction('asin');
/** Inverse cosine; NaN outside [-1, 1]. `torch.acos`. */
export const acos = /* @__PURE__ */ unaryFunction('acos');
/** Inverse tangent. `torch.atan`. */
export const atan = /* @__PURE__ */ unaryFunction('atan');
/** Hyperbolic sine. `torch.sinh`. */
export const sinh = /* @__PURE__ */ unaryFunction('sinh');
/** Hyperbolic cosine. `torch.cosh`. */
export const cosh = /* @__PURE__ */ unaryFunction('cosh');
/** Hyperbolic tangent. `torch.tanh`. */
export const tanh = /* @__PURE__ */ unaryFunction('tanh');
/** Logistic sigmoid, `1 / (1 + e^-x)`. `torch.sigmoid`. */
export const sigmoid = /* @__PURE__ */ unaryFunction('sigmoid');
/** `max(x, 0)`; NaN stays NaN. `torch.relu`. */
export const relu = /* @__PURE__ */ unaryFunction('relu');
/** Error function. `torch.erf`. */
export const erf = /* @__PURE__ */ unaryFunction('erf');
/** -1, 0 or 1 by the sign of x (0 for NaN, as in PyTorch). `torch.sign`. */
export const sign = /* @__PURE__ */ unaryFunction('sign');
/** Rounds down. `torch.floor`. */
export const floor = /* @__PURE__ */ unaryFunction('floor');
/** Rounds up. `torch.ceil`. */
export const ceil = /* @__PURE__ */ unaryFunction('ceil');
/** Rounds half to even, as `torch.round`. `torch.round`. */
export const round = /* @__PURE__ */ unaryFunction('round');
/** `x == 0`, as a bool tensor. `torch.logical_not`. */
export const logicalNot = /* @__PURE__ */ unaryFunction('logicalNot');
/** True where x is NaN. `torch.isnan`. */
export const isnan = /* @__PURE__ */ unaryFunction('isnan');
/** True where x is neither infinite nor NaN. `torch.isfinite`. */
export const isfinite = /* @__PURE__ */ unaryFunction('isfinite');

// ---- binary

/** `a + alpha * b` (torch.add). */
export function add(a: Tensor, b: Tensor | number, opts?: { alpha?: number }): Tensor {
  return E.add(a, b, opts?.alpha);
}
/** `a - alpha * b` (torch.sub). */
export function sub(a: Tensor, b: Tensor | number, opts?: { alpha?: number }): Tensor {
  return E.sub(a, b, opts?.alpha);
}
/** `a * b` (torch.mul). */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  return E.mul(a, b);
}
/** `a / b`, true division (torch.div). */
export function div(a: Tensor, b: Tensor | number): Tensor {
  return E.div(a, b);
}
/** `a ** b` (torch.pow). */
export function pow(a: Tensor, exponent: Tensor | number): Tensor {
  return E.pow(a, exponent);
}
/** Elementwise larger of a and b; NaN wins (torch.maximum). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return E.maximum(a, b);
}
/** Elementwise smaller of a and b; NaN wins (torch.minimum). */
export function minimum(a: Tensor, b: Tensor): Tensor {
  return E.minimum(a, b);
}
/** `a` where the bool `condition` is true, `b` elsewhere, broadcasting all three (torch.where). */
export function where(condition: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return E.where(condition, a, b);
}
/** `a == b` as a bool tensor (torch.eq). */
export function eq(a: Tensor, b: Tensor | number): Tensor {
  return E.compare('eq', a, b);
}
/** `a != b` as a bool tensor (torch.ne). */
export function ne(a: Tensor, b: Tensor | number): Tensor {
  return E.compare('ne', a, b);
}
/** `a < b` as a bool tensor (torch.lt). */
export function lt(a: Tensor, b: Tensor | number): Tensor {
  return E.compare('lt', a, b);
}
/** `a <= b` as a bool tensor (torch.le). */
export function le(a: Tensor, b: Tensor | number): Tensor {
  return E.compare('le', a, b);
}
/** `a > b` as a bool tensor (torch.gt). */
export function gt(a: Tensor, b: Tensor | number): Tensor {
  return E.compare('gt', a, b);
}
/** `a >= b` as a bool tensor (torch.ge). */
export function ge(a: Tensor, b: Tensor | number): Tensor {
  return E.compare('ge', a, b);
}
/** Limits x to [min, max]; either bound may be null (torch.clamp). */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  return E.clamp(x, min ?? null, max ?? null);
}
/** GELU, exact or with the tanh approximation (torch.nn.functional.gelu). */
export function gelu(x: Tensor, opts?: { approximate?: 'none' | 'tanh' }): Tensor {
  return E.gelu(x, opts?.approximate ?? 'none');
}

// ---- reductions and scans

/** Sum of all elements, or over `dim` (torch.sum). */
export function sum(x: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  return R.sum(x, dim ?? undefined, keepdim);
}
/** Mean of all elements, or over `dim` (torch.mean). */
export function mean(x: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  return R.mean(x, dim ?? undefined, keepdim);
}
/** Product of all elements, or along `dim`, with PyTorch's gradient (zeros included) (torch.prod). */
export function prod(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  return R.prod(x, dim ?? undefined, keepdim);
}
/** Running sum along `dim` (torch.cumsum). */
export function cumsum(x: Tensor, dim: number): Tensor {
  return R.cumsum(x, dim);
}
/** Standard deviation with Bessel's correction by default (torch.std). */
export function std(
  x: Tensor,
  dim?: number | number[] | null,
  opts: { correction?: number; keepdim?: boolean } = {},
): Tensor {
  return x.std(dim, opts);
}
/** Largest element (torch.max); with `dim`, `[values, indices]`. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? R.maxAll(x, 'max') : R.maxDim(x, 'max', dim, keepdim);
}
/** Smallest element (torch.min); with `dim`, `[values, indices]`. */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? R.maxAll(x, 'min') : R.maxDim(x, 'min', dim, keepdim);
}
/** Largest values over `dim` (torch.amax). */
export function amax(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  return R.amax(x, 'max', dim, keepdim);
}
/** Smallest values over `dim` (torch.amin). */
export function amin(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  return R.amax(x, 'min', dim, keepdim);
}
/** Index of the largest element, flat or along `dim` (torch.argmax). */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return R.argmax(x, 'argmax', dim, keepdim);
}
/** Index of the smallest element, flat or along `dim` (torch.argmin). */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return R.argmax(x, 'argmin', dim, keepdim);
}
/** `log(sum(exp(x)))` over `dim`, computed stably (torch.logsumexp). */
export function logsumexp(x: Tensor, dim: number | number[], keepdim = false): Tensor {
  return R.logsumexp(x, dim, keepdim);
}

// ---- indexing

/** Reverses the order of elements along `dims` (torch.flip). */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  return I.flip(x, typeof dims === 'number' ? [dims] : dims);
}
/** `value` where `mask` is true, x elsewhere (torch.masked_fill). */
export function maskedFill(x: Tensor, mask: Tensor, value: number | Tensor): Tensor {
  return I.maskedFill(x, mask, value);
}
