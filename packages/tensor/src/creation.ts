// Creation functions: tensor(), zeros, ones, full, arange, linspace, eye, random tensors, *Like.

import { type Device, getBackend } from './backend.js';
import {
  castScalar,
  type DType,
  float32ToBfloat16,
  float32ToFloat16,
  isFloating,
  storageArrayFor,
  storageMatches,
  type TypedArray,
} from './dtype.js';
import { typeName } from './ops/core.js';
import { checkOptions } from './options.js';
import { defaultGenerator, type Generator } from './random.js';
import { fmtShape, numelOf, type ShapeArg, shapeFromArgs } from './shape.js';
import { type NestedArray, Tensor } from './tensor.js';

/** Options every creation function takes. */
export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

const TENSOR_OPTIONS = ['dtype', 'device', 'requiresGrad'] as const;
const RANDOM_OPTIONS = [...TENSOR_OPTIONS, 'generator'] as const;

function finish(t: Tensor, opts: TensorOptions): Tensor {
  let out = t;
  if (opts.device && opts.device !== 'cpu') out = out.to(opts.device);
  if (opts.requiresGrad) out.requiresGrad = true;
  return out;
}

/** Builds a CPU tensor from values already in the dtype's storage format, then applies options. */
function fromValues(values: ArrayLike<number>, shape: number[], dtype: DType, opts: TensorOptions): Tensor {
  const data = storageArrayFor(dtype, values.length);
  if (dtype === 'float16') for (let i = 0; i < values.length; i++) data[i] = float32ToFloat16(values[i]);
  else if (dtype === 'bfloat16')
    for (let i = 0; i < values.length; i++) data[i] = float32ToBfloat16(values[i]);
  else if (isFloating(dtype)) data.set(values as ArrayLike<number>);
  else for (let i = 0; i < values.length; i++) data[i] = castScalar(values[i], dtype);
  return finish(Tensor._fromStorage(getBackend('cpu').fromArray(data, dtype), shape, dtype), opts);
}

function dtypeOfTypedArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  throw new Error(`tensor: cannot infer a dtype from ${a.constructor.name}; pass { dtype }`);
}

/**
 * Creates a tensor from a number, nested arrays (numbers or booleans) or a typed array (copied).
 * Integers infer int64, other numbers float32, booleans bool, like torch.tensor.
 */
export function tensor(data: NestedArray | TypedArray, opts: TensorOptions = {}): Tensor {
  checkOptions('tensor', opts, TENSOR_OPTIONS);
  if (ArrayBuffer.isView(data)) {
    const arr = data as TypedArray;
    const dtype = opts.dtype ?? dtypeOfTypedArray(arr);
    return fromValues(arr, [arr.length], dtype, opts);
  }
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  let allInt = true;
  let allBool = true;
  const walk = (v: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v === 'boolean') {
        flat.push(v ? 1 : 0);
        return;
      }
      if (typeof v !== 'number')
        throw new Error(`tensor: expected a number or boolean at ${path || 'top level'}, got ${typeName(v)}`);
      allBool = false;
      if (!Number.isInteger(v)) allInt = false;
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new Error(
        `tensor: expected sequence of length ${shape[dim]} at dim ${dim} (${path || 'top level'}), got ${Array.isArray(v) ? v.length : typeName(v)}`,
      );
    }
    v.forEach((x, i) => {
      walk(x, dim + 1, `${path}[${i}]`);
    });
  };
  walk(data, 0, '');
  const inferred: DType = flat.length === 0 ? 'float32' : allBool ? 'bool' : allInt ? 'int64' : 'float32';
  return fromValues(flat, shape, opts.dtype ?? inferred, opts);
}

/**
 * Wraps a storage-format typed array as a CPU tensor without copying (float16/bfloat16 as raw
 * Uint16Array bits, int64 as Float64Array, bool as Uint8Array of 0/1).
 */
export function fromTypedArray(data: TypedArray, shape: readonly number[], dtype?: DType): Tensor {
  const d = dtype ?? dtypeOfTypedArray(data);
  if (!storageMatches(d, data)) {
    throw new Error(
      `fromTypedArray: dtype ${d} is stored in a ${storageArrayFor(d, 0).constructor.name}, got ${data.constructor.name}`,
    );
  }
  const n = numelOf(shape);
  if (data.length < n)
    throw new Error(
      `fromTypedArray: shape ${fmtShape(shape)} needs ${n} elements, the array has ${data.length}`,
    );
  return Tensor._fromStorage(getBackend('cpu').fromArray(data, d), shape, d);
}

type ShapeAndOptions<O> = (number | ShapeArg | O)[];

function splitArgs<O extends object>(
  args: ShapeAndOptions<O>,
  op: string,
  known: readonly string[],
): [number[], O] {
  const last = args[args.length - 1];
  const hasOpts = last !== undefined && typeof last === 'object' && !Array.isArray(last);
  const opts = (hasOpts ? last : {}) as O;
  checkOptions(op, opts, known);
  const shapeArgs = (hasOpts ? args.slice(0, -1) : args) as (number | ShapeArg)[];
  return [shapeFromArgs(shapeArgs, op), opts];
}

function filled(shape: number[], value: number, opts: TensorOptions): Tensor {
  const dtype = opts.dtype ?? 'float32';
  const device = opts.device ?? 'cpu';
  const t = Tensor._fromStorage(getBackend(device).fill(dtype, numelOf(shape), value), shape, dtype);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** zeros(2, 3) or zeros([2, 3], { dtype }). */
export function zeros(...args: ShapeAndOptions<TensorOptions>): Tensor {
  const [shape, opts] = splitArgs(args, 'zeros', TENSOR_OPTIONS);
  return filled(shape, 0, opts);
}

export function ones(...args: ShapeAndOptions<TensorOptions>): Tensor {
  const [shape, opts] = splitArgs(args, 'ones', TENSOR_OPTIONS);
  return filled(shape, 1, opts);
}

/** A tensor of `shape` filled with `value` (int64 for integer values, bool for booleans, as torch.full). */
export function full(shape: ShapeArg, value: number | boolean, opts: TensorOptions = {}): Tensor {
  checkOptions('full', opts, TENSOR_OPTIONS);
  const dtype =
    opts.dtype ?? (typeof value === 'boolean' ? 'bool' : Number.isInteger(value) ? 'int64' : 'float32');
  return filled(shapeFromArgs([shape], 'full'), Number(value), { ...opts, dtype });
}

function likeOpts(t: Tensor, opts: TensorOptions): TensorOptions {
  return { dtype: opts.dtype ?? t.dtype, device: opts.device ?? t.device, requiresGrad: opts.requiresGrad };
}

export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  checkOptions('zerosLike', opts, TENSOR_OPTIONS);
  return filled(t.shape, 0, likeOpts(t, opts));
}
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  checkOptions('onesLike', opts, TENSOR_OPTIONS);
  return filled(t.shape, 1, likeOpts(t, opts));
}
export function fullLike(t: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  checkOptions('fullLike', opts, TENSOR_OPTIONS);
  return filled(t.shape, value, likeOpts(t, opts));
}

/** arange(end), arange(start, end, step?): int64 when all arguments are integers, else float32. */
export function arange(...args: (number | TensorOptions)[]): Tensor {
  const last = args[args.length - 1];
  const opts = (typeof last === 'object' ? last : {}) as TensorOptions;
  checkOptions('arange', opts, TENSOR_OPTIONS);
  const nums = args.filter((a): a is number => typeof a === 'number');
  const [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (step === 0) throw new Error('arange: step must be nonzero');
  if ((end - start) / step < 0) {
    throw new Error(
      `arange: upper bound and larger bound inconsistent with step sign (start=${start}, end=${end}, step=${step})`,
    );
  }
  const n = Math.ceil((end - start) / step);
  const dtype = opts.dtype ?? (nums.every(Number.isInteger) ? 'int64' : 'float32');
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return fromValues(values, [n], dtype, opts);
}

/**
 * `steps` evenly spaced values from start to end inclusive, by PyTorch's formula: the first half
 * counts up from start, the second half down from end, so both ends are exact.
 */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  checkOptions('linspace', opts, TENSOR_OPTIONS);
  if (!Number.isInteger(steps) || steps < 0)
    throw new Error(`linspace: number of steps must be non-negative, got ${steps}`);
  const values = new Float64Array(steps);
  const dtype = opts.dtype ?? 'float32';
  // PyTorch computes float32 linspace in float32: start, end and step are rounded first, and each
  // value start + step * i is rounded once (its kernels evaluate it as one fused multiply-add).
  // Half dtypes take the same float32 values, rounded to half at the end.
  const single = dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
  const r = single ? Math.fround : (v: number) => v;
  const s = r(start);
  const e = r(end);
  const step = steps > 1 ? r((e - s) / (steps - 1)) : 0;
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) values[i] = r(i < half ? s + step * i : e - step * (steps - 1 - i));
  if (steps === 1) values[0] = s;
  return fromValues(values, [steps], dtype, opts);
}

/** Identity matrix n x m. */
export function eye(n: number, m: number | TensorOptions = n, opts: TensorOptions = {}): Tensor {
  const cols = typeof m === 'number' ? m : n;
  const o = typeof m === 'number' ? opts : m;
  checkOptions('eye', o, TENSOR_OPTIONS);
  const values = new Float64Array(n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) values[i * cols + i] = 1;
  return fromValues(values, [n, cols], o.dtype ?? 'float32', o);
}

/** Uniform [0, 1) samples. */
export function rand(...args: ShapeAndOptions<RandomOptions>): Tensor {
  const [shape, opts] = splitArgs(args, 'rand', RANDOM_OPTIONS);
  const g = opts.generator ?? defaultGenerator;
  const v = new Float64Array(numelOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = g.random();
  return fromValues(v, shape, opts.dtype ?? 'float32', opts);
}

/** Standard normal samples. */
export function randn(...args: ShapeAndOptions<RandomOptions>): Tensor {
  const [shape, opts] = splitArgs(args, 'randn', RANDOM_OPTIONS);
  const g = opts.generator ?? defaultGenerator;
  const v = new Float64Array(numelOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = g.normal();
  return fromValues(v, shape, opts.dtype ?? 'float32', opts);
}

/** Integers uniform in [low, high): randint(high, shape) or randint(low, high, shape). */
export function randint(
  lowOrHigh: number,
  highOrShape: number | ShapeArg,
  shapeOrOpts?: ShapeArg | RandomOptions,
  maybeOpts: RandomOptions = {},
): Tensor {
  let low = 0;
  let high: number;
  let shape: ShapeArg;
  let opts: RandomOptions;
  if (typeof highOrShape === 'number') {
    low = lowOrHigh;
    high = highOrShape;
    shape = shapeOrOpts as ShapeArg;
    opts = maybeOpts;
  } else {
    high = lowOrHigh;
    shape = highOrShape;
    opts = (shapeOrOpts as RandomOptions) ?? {};
  }
  checkOptions('randint', opts, RANDOM_OPTIONS);
  const s = shapeFromArgs([shape], 'randint');
  const g = opts.generator ?? defaultGenerator;
  const v = new Float64Array(numelOf(s));
  for (let i = 0; i < v.length; i++) v[i] = g.randint(low, high);
  return fromValues(v, s, opts.dtype ?? 'int64', opts);
}

/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  checkOptions('randperm', opts, RANDOM_OPTIONS);
  const g = opts.generator ?? defaultGenerator;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.randint(0, i + 1);
    const t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
  return fromValues(v, [n], opts.dtype ?? 'int64', opts);
}

export function randLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  checkOptions('randLike', opts, RANDOM_OPTIONS);
  return rand(t.shape, { ...likeOpts(t, opts), generator: opts.generator });
}
export function randnLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  checkOptions('randnLike', opts, RANDOM_OPTIONS);
  return randn(t.shape, { ...likeOpts(t, opts), generator: opts.generator });
}
export function randintLike(t: Tensor, low: number, high: number, opts: RandomOptions = {}): Tensor {
  checkOptions('randintLike', opts, RANDOM_OPTIONS);
  return randint(low, high, t.shape, {
    ...likeOpts(t, opts),
    dtype: opts.dtype ?? t.dtype,
    generator: opts.generator,
  });
}
