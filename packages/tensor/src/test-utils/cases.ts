// Test support: building a fixture case's inputs as graft tensors and running its op.

import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { applyView, fromDesc, type InputSpec, type OpCase, type TensorDesc } from './fixtures.js';
import { type Kw, OPS } from './registry.js';

export interface OpsFixture {
  cases: OpCase[];
  dropout: { p: number; x: number[]; keptScale: number[]; evalEqualsInput: boolean }[];
  erf: { x: number[]; erf: number[] };
}

/** The dtype an input gets when float inputs are run at `floatDtype` (float32 for goldens, float64 for gradchecks). */
export function inputDtype(spec: InputSpec, floatDtype: DType): DType {
  return spec.dtype === 'float32' || spec.dtype === 'float64' ? floatDtype : spec.dtype;
}

/** Leaves (requiring grad where the fixture says so) and the operands derived from them through views. */
export function buildInputs(
  c: OpCase,
  floatDtype: DType,
  values?: Record<string, Tensor>,
): { leaves: Record<string, Tensor>; operands: Record<string, Tensor> } {
  const leaves: Record<string, Tensor> = {};
  const operands: Record<string, Tensor> = {};
  for (const spec of c.inputs) {
    const leaf = values?.[spec.name] ?? fromDesc(spec, inputDtype(spec, floatDtype));
    if (spec.grad) leaf.requiresGrad_(true);
    leaves[spec.name] = leaf;
    operands[spec.name] = applyView(leaf, spec.view);
  }
  return { leaves, operands };
}

export function runOp(c: OpCase, operands: Record<string, Tensor>): Tensor[] {
  const fn = OPS[c.op];
  if (!fn) throw new Error(`no registry entry for op '${c.op}'`);
  const out = fn(operands, c.kw as Kw);
  return Array.isArray(out) ? out : [out];
}

/** The fixture description of a leaf's gradient (same shape as the leaf). */
export function gradDesc(spec: InputSpec, data: TensorDesc['data']): TensorDesc {
  return { shape: spec.shape, dtype: 'float32', data };
}
