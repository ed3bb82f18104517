// The op reference page (docs/guide/ops.md), rendered from the op definitions: the unary table row by
// row, and the other torch.* functions from their entries below. scripts/op-reference.mjs writes the
// page; src/ops/reference.test.ts fails when the committed page differs from this rendering.

import { publicUnaryNames, type UnaryDtypeRule, unaryDef } from './unary.js';

/** An op outside the unary table, as the reference lists it. */
export interface OpEntry {
  /** The free function's name (also the method's, unless `method` says otherwise). */
  readonly name: string;
  /** The call, as a TypeScript user writes it. */
  readonly call: string;
  /** The method, or null when there is none. */
  readonly method: string | null;
  readonly torch: string;
  /** grad_fn names, or null for ops without a gradient. */
  readonly gradFn: string | null;
  readonly doc: string;
}

/** Every free function of ops/functions.ts that is not a unary op of the table. */
export const OTHER_OPS: readonly OpEntry[] = [
  {
    name: 'add',
    call: 'add(a, b, { alpha })',
    method: 'a.add(b, { alpha })',
    torch: 'add',
    gradFn: 'AddBackward0',
    doc: '`a + alpha * b`, broadcasting.',
  },
  {
    name: 'sub',
    call: 'sub(a, b, { alpha })',
    method: 'a.sub(b, { alpha })',
    torch: 'sub',
    gradFn: 'SubBackward0',
    doc: '`a - alpha * b`, broadcasting.',
  },
  {
    name: 'mul',
    call: 'mul(a, b)',
    method: 'a.mul(b)',
    torch: 'mul',
    gradFn: 'MulBackward0',
    doc: '`a * b`, broadcasting.',
  },
  {
    name: 'div',
    call: 'div(a, b)',
    method: 'a.div(b)',
    torch: 'div',
    gradFn: 'DivBackward0',
    doc: 'True division; integer inputs give float32.',
  },
  {
    name: 'pow',
    call: 'pow(a, exponent)',
    method: 'a.pow(exponent)',
    torch: 'pow',
    gradFn: 'PowBackward0, PowBackward1',
    doc: '`a ** exponent` (a number or a tensor).',
  },
  {
    name: 'maximum',
    call: 'maximum(a, b)',
    method: 'a.maximum(b)',
    torch: 'maximum',
    gradFn: 'MaximumBackward0',
    doc: 'Elementwise larger value; NaN wins; ties share the gradient.',
  },
  {
    name: 'minimum',
    call: 'minimum(a, b)',
    method: 'a.minimum(b)',
    torch: 'minimum',
    gradFn: 'MinimumBackward0',
    doc: 'Elementwise smaller value; NaN wins; ties share the gradient.',
  },
  {
    name: 'where',
    call: 'where(condition, a, b)',
    method: 'a.where(condition, b)',
    torch: 'where',
    gradFn: 'WhereBackward0',
    doc: '`a` where the bool condition holds, `b` elsewhere (numbers allowed).',
  },
  ...(['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const).map(
    (name): OpEntry => ({
      name,
      call: `${name}(a, b)`,
      method: `a.${name}(b)`,
      torch: name,
      gradFn: null,
      doc: 'Comparison as a bool tensor (NaN compares unequal).',
    }),
  ),
  {
    name: 'clamp',
    call: 'clamp(x, min, max)',
    method: 'x.clamp(min, max)',
    torch: 'clamp',
    gradFn: 'ClampBackward1',
    doc: 'Limits x to [min, max]; either bound may be null.',
  },
  {
    name: 'gelu',
    call: "gelu(x, { approximate: 'none' | 'tanh' })",
    method: 'x.gelu({ approximate })',
    torch: 'nn.functional.gelu',
    gradFn: 'GeluBackward0',
    doc: 'GELU, exact (erf) or with the tanh approximation.',
  },
  {
    name: 'sum',
    call: 'sum(x, dim?, keepdim?)',
    method: 'x.sum(dim?, keepdim?)',
    torch: 'sum',
    gradFn: 'SumBackward0, SumBackward1',
    doc: 'Sum of all elements or over dims; integers give int64.',
  },
  {
    name: 'mean',
    call: 'mean(x, dim?, keepdim?)',
    method: 'x.mean(dim?, keepdim?)',
    torch: 'mean',
    gradFn: 'MeanBackward0, MeanBackward1',
    doc: 'Mean of all elements or over dims (floating point only).',
  },
  {
    name: 'prod',
    call: 'prod(x, dim?, keepdim?)',
    method: 'x.prod(dim?, keepdim?)',
    torch: 'prod',
    gradFn: 'ProdBackward0, ProdBackward1',
    doc: "Product of all elements or along a dim; the gradient handles zeros as PyTorch's does.",
  },
  {
    name: 'cumsum',
    call: 'cumsum(x, dim)',
    method: 'x.cumsum(dim)',
    torch: 'cumsum',
    gradFn: 'CumsumBackward0',
    doc: 'Running sum along a dim; integers and bool give int64.',
  },
  {
    name: 'std',
    call: 'std(x, dim?, { correction, keepdim })',
    method: 'x.std(dim?, { correction, keepdim })',
    torch: 'std',
    gradFn: 'composite',
    doc: "Standard deviation, Bessel's correction by default.",
  },
  {
    name: 'max',
    call: 'max(x) / max(x, dim, keepdim?)',
    method: 'x.max() / x.max(dim, keepdim?)',
    torch: 'max',
    gradFn: 'MaxBackward1, MaxBackward0',
    doc: 'Largest element, or `[values, indices]` along a dim.',
  },
  {
    name: 'min',
    call: 'min(x) / min(x, dim, keepdim?)',
    method: 'x.min() / x.min(dim, keepdim?)',
    torch: 'min',
    gradFn: 'MinBackward1, MinBackward0',
    doc: 'Smallest element, or `[values, indices]` along a dim.',
  },
  {
    name: 'amax',
    call: 'amax(x, dim?, keepdim?)',
    method: 'x.amax(dim?, keepdim?)',
    torch: 'amax',
    gradFn: 'AmaxBackward0',
    doc: 'Largest values over dims; ties share the gradient.',
  },
  {
    name: 'amin',
    call: 'amin(x, dim?, keepdim?)',
    method: 'x.amin(dim?, keepdim?)',
    torch: 'amin',
    gradFn: 'AminBackward0',
    doc: 'Smallest values over dims; ties share the gradient.',
  },
  {
    name: 'argmax',
    call: 'argmax(x, dim?, keepdim?)',
    method: 'x.argmax(dim?, keepdim?)',
    torch: 'argmax',
    gradFn: null,
    doc: 'Index of the largest element (first of ties).',
  },
  {
    name: 'argmin',
    call: 'argmin(x, dim?, keepdim?)',
    method: 'x.argmin(dim?, keepdim?)',
    torch: 'argmin',
    gradFn: null,
    doc: 'Index of the smallest element (first of ties).',
  },
  {
    name: 'logsumexp',
    call: 'logsumexp(x, dim, keepdim?)',
    method: 'x.logsumexp(dim, keepdim?)',
    torch: 'logsumexp',
    gradFn: 'composite',
    doc: '`log(sum(exp(x)))` over dims, computed stably.',
  },
  {
    name: 'flip',
    call: 'flip(x, dims)',
    method: 'x.flip(dims)',
    torch: 'flip',
    gradFn: 'FlipBackward0',
    doc: 'Reverses the order of elements along dims (a copy).',
  },
  {
    name: 'maskedFill',
    call: 'maskedFill(x, mask, value)',
    method: 'x.maskedFill(mask, value), x.maskedFill_(mask, value)',
    torch: 'masked_fill',
    gradFn: 'MaskedFillBackward0, MaskedFillBackward1',
    doc: '`value` (a number or a 0-d tensor) where the bool mask is true.',
  },
];

const DTYPE_NOTE: Record<UnaryDtypeRule, string> = {
  float: 'float (integers give float32)',
  same: "the input's",
  bool: 'bool',
};

/** A Markdown table row; pipes inside cells (`'none' | 'tanh'`) are escaped so they do not split them. */
function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}

/** The op reference page as Markdown. */
export function opReferenceMarkdown(): string {
  const lines = [
    '<!-- Generated from packages/tensor/src/ops (unary.ts, reference.ts) by',
    '     `node packages/tensor/scripts/op-reference.mjs` after a build; a test fails when it is stale. -->',
    '',
    '# Op reference',
    '',
    'Every op below is a `Tensor` method and a free function exported by `@graft/tensor`, as in PyTorch',
    '(`x.sin()` and `sin(x)` are `x.sin()` and `torch.sin(x)`), and runs forward and backward on every',
    'device. `grad_fn` is the name `String(t)` prints, as PyTorch does.',
    '',
    '## Unary ops',
    '',
    'Defined once each in the op table (`packages/tensor/src/ops/unary.ts`).',
    '',
    '| Method | Function | PyTorch | grad_fn | Output dtype | |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const name of publicUnaryNames()) {
    const def = unaryDef(name);
    const gradFn = def.gradFn ? `\`${def.gradFn}\`` : 'none';
    lines.push(
      row([
        `\`x.${name}()\``,
        `\`${name}(x)\``,
        `\`torch.${def.torch}\``,
        gradFn,
        DTYPE_NOTE[def.dtype],
        def.doc,
      ]),
    );
  }
  lines.push('', '## Binary ops, reductions and indexing', '', '| Call | Method | PyTorch | grad_fn | |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (const op of OTHER_OPS) {
    const method = op.method
      ? op.method
          .split(', ')
          .map((m) => `\`${m}\``)
          .join(', ')
      : 'none';
    const grad = op.gradFn
      ? op.gradFn
          .split(', ')
          .map((g) => (g === 'composite' ? 'composite' : `\`${g}\``))
          .join(', ')
      : 'none';
    lines.push(row([`\`${op.call}\``, method, `\`torch.${op.torch}\``, grad, op.doc]));
  }
  lines.push('');
  return lines.join('\n');
}
