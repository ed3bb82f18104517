// How Python values from a pickle look in JavaScript, and the markers that let them round-trip.
//
// Policy (reading; writing is the exact inverse):
//   None -> null, bool -> boolean, str -> string, bytes -> Uint8Array
//   int -> number when it is a safe integer (|v| <= 2^53 - 1), else bigint
//   float -> number (or PyFloat with `{ keepFloats: true }`); a plain integral JS number is written as a Python
//     int, so wrap it as `pyFloat(1)` to write `1.0` (except in an optimizer's param_groups, whose options
//     torch keeps as floats unless their default is an int, such as weight_decay=0)
//   list -> mutable Array; tuple -> frozen Array (Object.isFrozen), so frozen arrays are written as tuples
//   dict whose keys are all str -> plain object (own data properties, even for `__proto__`);
//     a dict with any other key (the ints of an optimizer's `state`) -> Map, keys mapped as above;
//     when writing `{ state, param_groups }`, a plain-object `state` keyed '0', '1', ... gets int keys too
//   OrderedDict -> the same object or Map, marked as ordered (`isOrderedDict`), its Python attributes
//     kept off the keys and read with `pyAttributes(dict)`; `orderedDict(obj, attributes)` marks a value so
//     it is written as an OrderedDict
//   a state dict's `_metadata` (module prefix -> {version}) -> a Map (order kept: '' first), also set as the
//     dict's non-enumerable `_metadata` property, as @graft/nn's stateDict() sets it; a plain object or Map
//     with such a property is written as torch.save writes a state dict: an OrderedDict with `_metadata`
//   tensor -> T (a graft Tensor at the package entry); Parameter -> tensor with requiresGrad = true

/** Forces a number to be written as a Python float even when its value is integral (`pyFloat(1)` -> `1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

/** Wraps a number so that it is written as a Python float (`1.0`, not `1`). */
export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/** A hashable Python value used as a dict key. */
export type PickleKey = string | number | bigint | boolean | null | readonly PickleKey[];

/** Any value a checkpoint holds, with tensors of type T. */
export type PickleValue<T> =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyFloat
  | T
  | PickleValue<T>[]
  | readonly PickleValue<T>[]
  | PickleDict<T>
  | Map<PickleKey, PickleValue<T>>;

/** A Python dict whose keys are all strings. */
export interface PickleDict<T> {
  [key: string]: PickleValue<T>;
}

interface DictInfo {
  /** The Python attributes an OrderedDict carried (`_metadata` on a state dict), as a str-keyed dict. */
  attributes: Record<string, unknown>;
}

const orderedDicts = new WeakMap<object, DictInfo>();

/**
 * Marks a plain object or Map to be written as a `collections.OrderedDict`, optionally with Python
 * attributes (for a state dict: `{ _metadata: ... }`). Returns the same object.
 */
export function orderedDict<D extends object>(dict: D, attributes: Record<string, unknown> = {}): D {
  orderedDicts.set(dict, { attributes });
  return dict;
}

/** A state dict's `_metadata` when set as a non-enumerable own property (by @graft/nn or a reader). */
function metadataProperty(dict: object): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(dict, '_metadata');
  return descriptor && !descriptor.enumerable ? descriptor.value : undefined;
}

/**
 * True when the dict was read from (or marked as) a `collections.OrderedDict`, or carries a state dict's
 * `_metadata` property (so it is written as one).
 */
export function isOrderedDict(dict: object): boolean {
  return orderedDicts.has(dict) || metadataProperty(dict) !== undefined;
}

/**
 * The Python attributes of an OrderedDict: a state dict's `_metadata` lives here (and in the non-enumerable
 * `dict._metadata`, which wins when both are set), never among its keys.
 */
export function pyAttributes(dict: object): Record<string, unknown> | undefined {
  const attributes = orderedDicts.get(dict)?.attributes;
  const metadata = metadataProperty(dict);
  if (metadata === undefined) return attributes;
  const merged: Record<string, unknown> = { ...attributes };
  defineKey(merged, '_metadata', metadata);
  return merged;
}

/** True for a plain `{}` object (prototype Object.prototype or null): the JS form of a str-keyed dict. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property even for keys such as `__proto__`, so hostile keys cannot reach a prototype. */
export function defineKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
