// Test helpers: graft's side of scripts/golden/serialize.py's cases, and values described as its Encoder does.
// (scripts/write-graft-fixtures.mjs builds the same model and optimizers in plain JavaScript.)

import { BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '@graft/nn';
import { Adadelta, Adagrad, Adam, AdamW, type Optimizer, RMSprop, SGD } from '@graft/optim';
import { manualSeed, randn, Tensor, toCamelCase } from '@graft/tensor';
import { isOrderedDict, PyFloat, pyAttributes } from '../index.js';

/** The golden script's small_model(): conv, batch norm, relu, flatten, linear. */
export function smallModel(): Sequential {
  manualSeed(0);
  return new Sequential(
    new Conv2d(2, 3, 3),
    new BatchNorm2d(3),
    new ReLU(),
    new Flatten(),
    new Linear(12, 4),
  );
}

const OPTIMIZERS = { SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta };

/** One entry of torch_structure.json's `optimizers`. */
export interface OptimizerCase {
  name: string;
  class: keyof typeof OPTIMIZERS;
  kwargs: Record<string, unknown>;
  groups: Record<string, unknown>[] | null;
  state_dict: Described;
}

function camel(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [toCamelCase(k), v]));
}

/** The case's optimizer on smallModel() after one seeded step (the golden script's stepped_optimizer). */
export function steppedOptimizer(c: OptimizerCase): Optimizer {
  const model = smallModel();
  const [conv, bn, , , head] = [...model.children()];
  const params = c.groups
    ? [
        { params: [...conv.parameters(), ...bn.parameters()], ...camel(c.groups[0]) },
        { params: [...head.parameters()], ...camel(c.groups[1]) },
      ]
    : [...model.parameters()];
  const OptimizerClass = OPTIMIZERS[c.class] as unknown as new (
    params: unknown,
    options: unknown,
  ) => Optimizer;
  const opt = new OptimizerClass(params, camel(c.kwargs));
  manualSeed(1);
  (model.call(randn(2, 2, 4, 4)) as Tensor).square().mean().backward();
  opt.step();
  return opt;
}

/** A value as the golden script's Encoder(values=False) writes it: Python types tagged, tensors as dtype and shape. */
export type Described =
  | null
  | boolean
  | string
  | { int: string }
  | { float: number | string }
  | { bytes: number[] }
  | { list: Described[] }
  | { tuple: Described[] }
  | { dict: [Described, Described][]; ordered: boolean; attributes?: { _metadata: Described } }
  | { tensor: { dtype: string; shape: number[] } };

function float(v: number): number | string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v;
}

/**
 * Describes a value loaded with `{ keepFloats: true }` (so numbers are Python ints and PyFloats floats) in the
 * golden script's JSON form.
 */
export function describe(v: unknown): Described {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return { int: String(v) };
  if (v instanceof PyFloat) return { float: float(v.value) };
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (v instanceof Tensor) return { tensor: { dtype: v.dtype, shape: [...v.shape] } };
  if (Array.isArray(v)) return Object.isFrozen(v) ? { tuple: v.map(describe) } : { list: v.map(describe) };
  if (typeof v === 'object') {
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
    const out: Described = {
      dict: entries.map(([k, x]) => [describe(k), describe(x)]),
      ordered: isOrderedDict(v),
    };
    const metadata = pyAttributes(v)?._metadata;
    if (metadata !== undefined && metadata !== null) out.attributes = { _metadata: describe(metadata) };
    return out;
  }
  throw new Error(`describe: no Python form for ${typeof v}`);
}
