// The pickle machine's own objects (lists, tuples, dicts, globals, storages, tensor records), the
// allow-list of globals it may build, and their conversion to JavaScript values once a pickle has run.

import { DTYPE_FROM_STORAGE_CLASS, type DType } from './dtypes.js';
import { SerializeError } from './errors.js';
import { defineKey, orderedDict, type PickleValue, PyFloat } from './python-value.js';
import type { StorageRef, TensorRecord } from './unpickler.js';

// ---- the machine's objects -------------------------------------------------------------------

export class PyList {
  readonly items: Internal[] = [];
}

export class PyTuple {
  constructor(readonly items: Internal[]) {}
}

export class PyDict {
  readonly entries = new Map<Internal, Internal>();
  ordered = false;
  attributes: PyDict | null = null;
}

export type GlobalKind =
  | { kind: 'OrderedDict' }
  | { kind: 'rebuildTensorV2' }
  | { kind: 'rebuildTensor' }
  | { kind: 'rebuildParameter' }
  | { kind: 'rebuildParameterWithState' }
  | { kind: 'rebuildFromTypeV2' }
  | { kind: 'TensorClass' }
  | { kind: 'ParameterClass' }
  | { kind: 'Size' }
  | { kind: 'codecsEncode' }
  | { kind: 'storageType'; dtype: DType };

export class PyGlobal {
  constructor(
    readonly fullName: string,
    readonly what: GlobalKind,
  ) {}
}

export class StorageHandle<S> {
  constructor(
    readonly ref: StorageRef,
    readonly value: S,
  ) {}
}

export class TensorLeaf<S> {
  constructor(readonly record: TensorRecord<S>) {}
}

export type Internal =
  | null
  | boolean
  | number
  | PyFloat
  | bigint
  | string
  | Uint8Array
  | PyList
  | PyTuple
  | PyDict
  | PyGlobal
  | StorageHandle<unknown>
  | TensorLeaf<unknown>;

/** Globals a checkpoint needs; anything else is refused by name. */
export const ALLOWED_GLOBALS = new Map<string, GlobalKind>([
  ['collections.OrderedDict', { kind: 'OrderedDict' }],
  ['torch._utils._rebuild_tensor_v2', { kind: 'rebuildTensorV2' }],
  ['torch._utils._rebuild_tensor', { kind: 'rebuildTensor' }],
  ['torch._utils._rebuild_parameter', { kind: 'rebuildParameter' }],
  ['torch._utils._rebuild_parameter_with_state', { kind: 'rebuildParameterWithState' }],
  ['torch._tensor._rebuild_from_type_v2', { kind: 'rebuildFromTypeV2' }],
  ['torch.tensor._rebuild_from_type_v2', { kind: 'rebuildFromTypeV2' }],
  ['torch.Tensor', { kind: 'TensorClass' }],
  ['torch._tensor.Tensor', { kind: 'TensorClass' }],
  ['torch.nn.parameter.Parameter', { kind: 'ParameterClass' }],
  ['torch.Size', { kind: 'Size' }],
  ['_codecs.encode', { kind: 'codecsEncode' }],
]);
for (const [cls, dtype] of DTYPE_FROM_STORAGE_CLASS) {
  ALLOWED_GLOBALS.set(`torch.${cls}`, { kind: 'storageType', dtype });
  ALLOWED_GLOBALS.set(`torch.cuda.${cls}`, { kind: 'storageType', dtype });
}
ALLOWED_GLOBALS.set('torch.storage.UntypedStorage', { kind: 'storageType', dtype: 'uint8' });

export function describe(v: Internal): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'int';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyList) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof PyGlobal) return v.fullName;
  if (v instanceof StorageHandle) return 'storage';
  return 'tensor';
}

export interface ToJsOptions {
  /** Python floats become `PyFloat` (so `1.0` stays a float when saved again) instead of numbers. */
  keepFloats?: boolean;
}

/** Converts the machine's objects to JavaScript without recursion, keeping shared objects shared. */
export function toJs<S, T>(
  root: unknown,
  makeTensor: (record: TensorRecord<S>) => T,
  options: ToJsOptions,
): PickleValue<T> {
  const done = new Map<object, unknown>();
  const jobs: (() => void)[] = [];

  const convert = (v: Internal): unknown => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
    if (v instanceof PyFloat) return options.keepFloats ? v : v.value;
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    if (v instanceof PyList) {
      const out: unknown[] = [];
      done.set(v, out);
      jobs.push(() => {
        for (const item of v.items) out.push(convert(item));
      });
      return out;
    }
    if (v instanceof PyTuple) {
      const out: unknown[] = [];
      done.set(v, out);
      jobs.push(() => {
        for (const item of v.items) out.push(convert(item));
        Object.freeze(out);
      });
      return out;
    }
    if (v instanceof PyDict) {
      let allStrings = true;
      for (const k of v.entries.keys()) if (typeof k !== 'string') allStrings = false;
      const out: Record<string, unknown> | Map<unknown, unknown> = allStrings ? {} : new Map();
      done.set(v, out);
      if (v.ordered) {
        const attributes: Record<string, unknown> = {};
        orderedDict(out, attributes);
        if (v.attributes) {
          jobs.push(() => {
            for (const [k, item] of (v.attributes as PyDict).entries) {
              if (k !== '_metadata') {
                defineKey(attributes, k as string, convert(item));
                continue;
              }
              // A state dict's module versions: a Map keeps their order ('' first; a plain object would
              // move keys such as '0' ahead), and a non-enumerable property keeps them off the keys.
              const metadata = convertOrdered(item);
              defineKey(attributes, k, metadata);
              if (!v.entries.has('_metadata'))
                Object.defineProperty(out, '_metadata', {
                  value: metadata,
                  enumerable: false,
                  writable: true,
                  configurable: true,
                });
            }
          });
        }
      }
      jobs.push(() => {
        for (const [k, item] of v.entries) {
          // Keys stay plain numbers even with keepFloats, so `map.get(1.5)` finds them.
          if (out instanceof Map) out.set(k instanceof PyFloat ? k.value : convert(k), convert(item));
          else defineKey(out, k as string, convert(item));
        }
      });
      return out;
    }
    if (v instanceof TensorLeaf) {
      const t = makeTensor(v.record as TensorRecord<S>);
      done.set(v, t);
      return t;
    }
    if (v instanceof PyGlobal)
      throw new SerializeError(`pickle result holds the bare global ${v.fullName}, not a value`);
    throw new SerializeError('pickle result holds a bare storage; only tensors are supported');
  };

  /** A str-keyed dict as a Map (order kept whatever the keys), else as `convert` makes it. */
  const convertOrdered = (v: Internal): unknown => {
    if (!(v instanceof PyDict) || done.has(v)) return convert(v);
    const out = new Map<unknown, unknown>();
    done.set(v, out);
    if (v.ordered) orderedDict(out);
    jobs.push(() => {
      for (const [k, item] of v.entries) out.set(convert(k), convert(item));
    });
    return out;
  };

  const result = convert(root as Internal);
  // Jobs may queue more jobs; process in FIFO order so containers fill in pickle order.
  for (let i = 0; i < jobs.length; i++) jobs[i]();
  return result as PickleValue<T>;
}
