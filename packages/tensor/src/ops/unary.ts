// The unary ops, each defined once: PyTorch's name and grad_fn name, the output dtype rule, the scalar
// function (the CPU reference kernel), the backward in Tensor ops, and a line for the op reference.
// Derived from this table: the backends' `UnaryOp` kernel names, the Tensor methods (`x.sin()`, installed
// in tensor.ts), the CPU kernels, the golden registry entries (test-utils/registry.ts), the gradcheck and
// WebGPU conformance case lists, and docs/guide/ops.md (ops/reference.ts).
//
// Adding a unary op: an entry here; its WGSL expression in webgpu/kernels/elementwise.ts (`unaryExpr`,
// whose exhaustive switch will not compile without it); its export line in ops/functions.ts and its line
// in UNARY of scripts/golden/tensor.py (src/ops/unary.test.ts fails until both are there); then
// regenerate fixtures/ops.json and docs/guide/ops.md.
//
// This module must not import the Tensor class at run time (tensor.ts installs the methods from it while
// it loads): backward functions only call methods of the tensors they receive.

import { erf } from '../cpu/ops.js';
import type { Tensor } from '../tensor.js';

/** How a unary op picks its output dtype. */
export type UnaryDtypeRule =
  /** integer and bool inputs give float32 (`torch.sin(int_tensor)` is float32) */
  | 'float'
  /** the input's dtype */
  | 'same'
  /** bool */
  | 'bool';

/** One unary op. */
export interface UnaryDef {
  /** PyTorch's name: `torch.<torch>` and `Tensor.<torch>`. */
  readonly torch: string;
  /** PyTorch's grad_fn name; null: not differentiable here (the output never requires grad). */
  readonly gradFn: string | null;
  readonly dtype: UnaryDtypeRule;
  /** The scalar function in float64: the CPU reference kernel. */
  readonly cpu: (x: number) => number;
  /** The input's gradient from the output's gradient `g`, the input `x` and the output `out`. */
  readonly backward?: (g: Tensor, x: Tensor, out: Tensor) => Tensor;
  /** Which tensors the backward reads (saved and version-checked, as PyTorch does). */
  readonly saves?: readonly ('x' | 'out')[];
  /**
   * A named optional backend kernel computing the same gradient from (g, out) for float32/float64; the
   * `backward` above is its fallback on backends without it.
   */
  readonly fastBackward?: 'reluBackward';
  /** Refuses bool inputs with this message (PyTorch's wording). */
  readonly noBool?: string;
  /** Where the op is defined; the golden cases draw inputs from it (`docs` shows it). */
  readonly domain?: 'all' | 'positive' | 'open-unit' | 'above-minus-one';
  /** One line for the op reference. */
  readonly doc: string;
  /**
   * false: a kernel only, reached through another op (`gelu` with its options, `clamp`), with no
   * method or free function of its own.
   */
  readonly public?: false;
}

const LN2 = Math.LN2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Python-style round half to even, as torch.round does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The unary op table; its keys are also the backends' unary kernel names (`UnaryOp`). */
export const UNARY_OPS = {
  neg: {
    torch: 'neg',
    gradFn: 'NegBackward0',
    dtype: 'same',
    cpu: (x) => -x,
    backward: (g): Tensor => g.neg(),
    noBool: 'neg: negation, the `-` operator, on a bool tensor is not supported',
    doc: 'Negation, `-x`.',
  },
  abs: {
    torch: 'abs',
    gradFn: 'AbsBackward0',
    dtype: 'same',
    cpu: Math.abs,
    backward: (g, x): Tensor => g.mul(x.sign()),
    saves: ['x'],
    doc: 'Absolute value; the gradient at 0 is 0.',
  },
  square: {
    torch: 'square',
    gradFn: 'PowBackward0',
    dtype: 'same',
    cpu: (x) => x * x,
    backward: (g, x): Tensor => g.mul(x.mul(2)),
    saves: ['x'],
    doc: '`x * x`.',
  },
  exp: {
    torch: 'exp',
    gradFn: 'ExpBackward0',
    dtype: 'float',
    cpu: Math.exp,
    backward: (g, _x, out): Tensor => g.mul(out),
    saves: ['out'],
    doc: '`e^x`.',
  },
  exp2: {
    torch: 'exp2',
    gradFn: 'Exp2Backward0',
    dtype: 'float',
    cpu: (x) => 2 ** x,
    backward: (g, _x, out): Tensor => g.mul(out.mul(LN2)),
    saves: ['out'],
    doc: '`2^x`.',
  },
  expm1: {
    torch: 'expm1',
    gradFn: 'Expm1Backward0',
    dtype: 'float',
    cpu: Math.expm1,
    backward: (g, _x, out): Tensor => g.mul(out.add(1)),
    saves: ['out'],
    doc: '`e^x - 1`, accurate near 0.',
  },
  log: {
    torch: 'log',
    gradFn: 'LogBackward0',
    dtype: 'float',
    cpu: Math.log,
    backward: (g, x): Tensor => g.div(x),
    saves: ['x'],
    domain: 'positive',
    doc: 'Natural logarithm.',
  },
  log2: {
    torch: 'log2',
    gradFn: 'Log2Backward0',
    dtype: 'float',
    cpu: Math.log2,
    backward: (g, x): Tensor => g.div(x.mul(LN2)),
    saves: ['x'],
    domain: 'positive',
    doc: 'Base-2 logarithm.',
  },
  log1p: {
    torch: 'log1p',
    gradFn: 'Log1PBackward0',
    dtype: 'float',
    cpu: Math.log1p,
    backward: (g, x): Tensor => g.div(x.add(1)),
    saves: ['x'],
    domain: 'above-minus-one',
    doc: '`log(1 + x)`, accurate near 0.',
  },
  sqrt: {
    torch: 'sqrt',
    gradFn: 'SqrtBackward0',
    dtype: 'float',
    cpu: Math.sqrt,
    backward: (g, _x, out): Tensor => g.div(out.mul(2)),
    saves: ['out'],
    domain: 'positive',
    doc: 'Square root.',
  },
  rsqrt: {
    torch: 'rsqrt',
    gradFn: 'RsqrtBackward0',
    dtype: 'float',
    cpu: (x) => 1 / Math.sqrt(x),
    // d/dx x^-1/2 = -1/2 x^-3/2 = -0.5 * out^3
    backward: (g, _x, out): Tensor => g.mul(out.pow(3).mul(-0.5)),
    saves: ['out'],
    domain: 'positive',
    doc: '`1 / sqrt(x)`.',
  },
  reciprocal: {
    torch: 'reciprocal',
    gradFn: 'ReciprocalBackward0',
    dtype: 'float',
    cpu: (x) => 1 / x,
    backward: (g, _x, out): Tensor => g.mul(out.mul(out)).neg(),
    saves: ['out'],
    domain: 'positive',
    doc: '`1 / x`.',
  },
  sin: {
    torch: 'sin',
    gradFn: 'SinBackward0',
    dtype: 'float',
    cpu: Math.sin,
    backward: (g, x): Tensor => g.mul(x.cos()),
    saves: ['x'],
    doc: 'Sine (radians).',
  },
  cos: {
    torch: 'cos',
    gradFn: 'CosBackward0',
    dtype: 'float',
    cpu: Math.cos,
    backward: (g, x): Tensor => g.mul(x.sin()).neg(),
    saves: ['x'],
    doc: 'Cosine (radians).',
  },
  tan: {
    torch: 'tan',
    gradFn: 'TanBackward0',
    dtype: 'float',
    cpu: Math.tan,
    backward: (g, _x, out): Tensor => g.mul(out.mul(out).add(1)),
    saves: ['out'],
    doc: 'Tangent (radians).',
  },
  asin: {
    torch: 'asin',
    gradFn: 'AsinBackward0',
    dtype: 'float',
    cpu: Math.asin,
    backward: (g, x): Tensor => g.mul(x.mul(x).neg().add(1).rsqrt()),
    saves: ['x'],
    domain: 'open-unit',
    doc: 'Inverse sine; NaN outside [-1, 1].',
  },
  acos: {
    torch: 'acos',
    gradFn: 'AcosBackward0',
    dtype: 'float',
    cpu: Math.acos,
    backward: (g, x): Tensor => g.mul(x.mul(x).neg().add(1).rsqrt()).neg(),
    saves: ['x'],
    domain: 'open-unit',
    doc: 'Inverse cosine; NaN outside [-1, 1].',
  },
  atan: {
    torch: 'atan',
    gradFn: 'AtanBackward0',
    dtype: 'float',
    cpu: Math.atan,
    backward: (g, x): Tensor => g.div(x.mul(x).add(1)),
    saves: ['x'],
    doc: 'Inverse tangent.',
  },
  sinh: {
    torch: 'sinh',
    gradFn: 'SinhBackward0',
    dtype: 'float',
    cpu: Math.sinh,
    backward: (g, x): Tensor => g.mul(x.cosh()),
    saves: ['x'],
    doc: 'Hyperbolic sine.',
  },
  cosh: {
    torch: 'cosh',
    gradFn: 'CoshBackward0',
    dtype: 'float',
    cpu: Math.cosh,
    backward: (g, x): Tensor => g.mul(x.sinh()),
    saves: ['x'],
    doc: 'Hyperbolic cosine.',
  },
  tanh: {
    torch: 'tanh',
    gradFn: 'TanhBackward0',
    dtype: 'float',
    cpu: Math.tanh,
    backward: (g, _x, out): Tensor => g.mul(out.mul(out).neg().add(1)),
    saves: ['out'],
    doc: 'Hyperbolic tangent.',
  },
  sigmoid: {
    torch: 'sigmoid',
    gradFn: 'SigmoidBackward0',
    dtype: 'float',
    cpu: (x) => 1 / (1 + Math.exp(-x)),
    backward: (g, _x, out): Tensor => g.mul(out.mul(out.neg().add(1))),
    saves: ['out'],
    doc: 'Logistic sigmoid, `1 / (1 + e^-x)`.',
  },
  relu: {
    torch: 'relu',
    gradFn: 'ReluBackward0',
    dtype: 'same',
    // NaN stays NaN, as in PyTorch.
    cpu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
    backward: (g, _x, out): Tensor => g.mul(out.gt(0).to(g.dtype)),
    saves: ['out'],
    fastBackward: 'reluBackward',
    doc: '`max(x, 0)`; NaN stays NaN.',
  },
  erf: {
    torch: 'erf',
    gradFn: 'ErfBackward0',
    dtype: 'float',
    cpu: erf,
    backward: (g, x): Tensor => g.mul(x.mul(x).neg().exp().mul(TWO_OVER_SQRT_PI)),
    saves: ['x'],
    doc: 'Error function.',
  },
  gelu: {
    torch: 'gelu',
    gradFn: null,
    dtype: 'float',
    cpu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    doc: 'GELU with the exact erf (the kernel behind `gelu()`).',
    public: false,
  },
  geluTanh: {
    torch: 'gelu',
    gradFn: null,
    dtype: 'float',
    cpu: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
    doc: "GELU's tanh approximation (the kernel behind `gelu({ approximate: 'tanh' })`).",
    public: false,
  },
  sign: {
    torch: 'sign',
    gradFn: null,
    dtype: 'same',
    // NaN gives 0, as in PyTorch (its sign is (0 < x) - (x < 0)).
    cpu: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
    doc: '-1, 0 or 1 by the sign of x (0 for NaN, as in PyTorch).',
  },
  floor: {
    torch: 'floor',
    gradFn: null,
    dtype: 'same',
    cpu: Math.floor,
    doc: 'Rounds down.',
  },
  ceil: {
    torch: 'ceil',
    gradFn: null,
    dtype: 'same',
    cpu: Math.ceil,
    doc: 'Rounds up.',
  },
  round: {
    torch: 'round',
    gradFn: null,
    dtype: 'same',
    cpu: roundHalfEven,
    doc: 'Rounds half to even, as `torch.round`.',
  },
  logicalNot: {
    torch: 'logical_not',
    gradFn: null,
    dtype: 'bool',
    // C truthiness (x != 0): NaN counts as true, as in PyTorch.
    cpu: (x) => (x !== 0 ? 0 : 1),
    doc: '`x == 0`, as a bool tensor.',
  },
  isnan: {
    torch: 'isnan',
    gradFn: null,
    dtype: 'bool',
    cpu: (x) => (Number.isNaN(x) ? 1 : 0),
    doc: 'True where x is NaN.',
  },
  isfinite: {
    torch: 'isfinite',
    gradFn: null,
    dtype: 'bool',
    cpu: (x) => (Number.isFinite(x) ? 1 : 0),
    doc: 'True where x is neither infinite nor NaN.',
  },
} as const satisfies Record<string, UnaryDef>;

/** The backends' unary kernels: one per table entry. */
export type UnaryOp = keyof typeof UNARY_OPS;

/** The unary ops with a method and a free function. */
export type PublicUnaryName = {
  [K in UnaryOp]: (typeof UNARY_OPS)[K] extends { readonly public: false } ? never : K;
}[UnaryOp];

/** `x.sin()` and friends, one per public table entry (merged into the Tensor class's type). */
export type UnaryMethods = { [K in PublicUnaryName]: () => Tensor };

/** The table's entries, typed as definitions. */
export function unaryDef(op: UnaryOp): UnaryDef {
  return UNARY_OPS[op];
}

/** The names of the public unary ops, in table order. */
export function publicUnaryNames(): PublicUnaryName[] {
  return (Object.keys(UNARY_OPS) as UnaryOp[]).filter(
    (k) => (UNARY_OPS[k] as UnaryDef).public !== false,
  ) as PublicUnaryName[];
}
