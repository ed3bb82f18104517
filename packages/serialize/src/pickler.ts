// Writes values as a protocol-2 pickle with the same opcodes torch.save emits, so PyTorch's
// weights_only loader accepts what graft writes. Tensors become persistent storage ids.

import { ByteWriter } from './byte-reader.js';
import { type DType, STORAGE_CLASS } from './dtypes.js';
import { SerializeError } from './errors.js';
import { OP } from './pickle-opcodes.js';
import { isOrderedDict, isPlainObject, PyFloat, pyAttributes } from './python-value.js';

/** One block of tensor data in the file. Tensors whose `id` is the same object share it. */
export interface StorageSource {
  readonly id: object;
  readonly dtype: DType;
  /** Elements in the storage. */
  readonly numel: number;
  /** Little-endian bytes, numel * element size long (a function is called once, when the file is assembled). */
  readonly bytes: Uint8Array | (() => Uint8Array);
}

/** A tensor as the writer needs it: a strided view of a storage. */
export interface TensorSource {
  storage: StorageSource;
  shape: readonly number[];
  strides: readonly number[];
  storageOffset: number;
  requiresGrad: boolean;
  /** Written as `torch.nn.Parameter` (through `_rebuild_parameter`) rather than a plain tensor. */
  parameter: boolean;
}

export interface PickleWriteOptions {
  /** Returns the tensor view for values that are tensors, undefined for everything else. */
  tensorSource(value: object): TensorSource | undefined;
  /** The storage location tag (default `cpu`). */
  location?: string;
}

export interface Pickled {
  pickle: Uint8Array;
  /** Storages in key order: key `i` is `storages[i]`. */
  storages: StorageSource[];
}

const MAX_DEPTH = 10_000;
const BATCH = 1000;
const utf8 = new TextEncoder();

/** Pickles `value` (see python-value.ts for the mapping) with tensors as storage persistent ids. */
export function pickle(value: unknown, options: PickleWriteOptions): Pickled {
  const p = new Pickler(options);
  p.out.u8(OP.PROTO);
  p.out.u8(2);
  p.save(value);
  p.out.u8(OP.STOP);
  return { pickle: p.out.result().slice(), storages: p.storages };
}

class Pickler {
  readonly out = new ByteWriter(4096);
  readonly storages: StorageSource[] = [];
  private readonly storageKeys = new Map<object, string>();
  private readonly memo = new Map<unknown, number>();
  private readonly tuplesInProgress = new Set<object>();
  /** Plain objects whose integer-string keys are written as Python ints (an optimizer's `state`). */
  private readonly intKeyed = new Set<object>();
  /** An optimizer's param groups, whose numeric options are written with torch's types (floatOptionValue). */
  private readonly paramGroups = new Set<object>();
  private readonly path: string[] = [];
  private readonly location: string;

  constructor(private readonly options: PickleWriteOptions) {
    this.location = options.location ?? 'cpu';
  }

  private error(message: string): SerializeError {
    const where = this.path.length ? this.path.join('') : '(root)';
    return new SerializeError(`pickle: at ${where}: ${message}`);
  }

  private put(key: unknown): void {
    const index = this.memo.size;
    this.memo.set(key, index);
    if (index < 256) {
      this.out.u8(OP.BINPUT);
      this.out.u8(index);
    } else {
      this.out.u8(OP.LONG_BINPUT);
      this.out.u32(index);
    }
  }

  /** Emits a BINGET for a memoized value; false when it was not memoized. */
  private get(key: unknown): boolean {
    const index = this.memo.get(key);
    if (index === undefined) return false;
    if (index < 256) {
      this.out.u8(OP.BINGET);
      this.out.u8(index);
    } else {
      this.out.u8(OP.LONG_BINGET);
      this.out.u32(index);
    }
    return true;
  }

  private global(module: string, name: string): void {
    const key = `\0global:${module}.${name}`;
    if (this.get(key)) return;
    this.out.u8(OP.GLOBAL);
    this.out.bytes(utf8.encode(`${module}\n${name}\n`));
    this.put(key);
  }

  /**
   * Equal strings share one memo entry, as Python's interned strings do. torch makes each storage key a new
   * string (`str(n)`), so storage keys get their own entries: a later '0' (a module prefix in _metadata) is
   * written out again, as torch.save writes it.
   */
  private string(s: string, namespace = 'str'): void {
    const key = `\0${namespace}:${s}`;
    if (this.get(key)) return;
    const bytes = utf8.encode(s);
    this.out.u8(OP.BINUNICODE);
    this.out.u32(bytes.length);
    this.out.bytes(bytes);
    this.put(key);
  }

  private int(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v < 256) {
      this.out.u8(OP.BININT1);
      this.out.u8(v);
    } else if (typeof v === 'number' && v >= 0 && v < 65536) {
      this.out.u8(OP.BININT2);
      this.out.u16(v);
    } else if (typeof v === 'number' && v >= -0x80000000 && v < 0x80000000) {
      this.out.u8(OP.BININT);
      this.out.i32(v);
    } else {
      const bytes = encodeLong(BigInt(v));
      if (bytes.length > 255)
        throw this.error(`integer ${String(v).slice(0, 30)}... needs ${bytes.length} bytes, more than 255`);
      this.out.u8(OP.LONG1);
      this.out.u8(bytes.length);
      this.out.bytes(bytes);
    }
  }

  private float(v: number): void {
    this.out.u8(OP.BINFLOAT);
    this.out.f64be(v);
  }

  private number(v: number): void {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) this.int(v);
    else this.float(v);
  }

  /** Emits a tuple whose items are written by `items` (which must write exactly `n` values). */
  private tuple(n: number, items: () => void, memoKey?: object): void {
    if (n === 0) {
      this.out.u8(OP.EMPTY_TUPLE);
      return;
    }
    if (n > 3) this.out.u8(OP.MARK);
    items();
    this.out.u8(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : n === 3 ? OP.TUPLE3 : OP.TUPLE);
    this.put(memoKey ?? {});
  }

  private ints(values: readonly number[]): void {
    this.tuple(values.length, () => {
      for (const v of values) this.int(v);
    });
  }

  private emptyOrderedDict(): void {
    this.global('collections', 'OrderedDict');
    this.out.u8(OP.EMPTY_TUPLE);
    this.out.u8(OP.REDUCE);
  }

  save(value: unknown): void {
    if (this.path.length > MAX_DEPTH) throw this.error(`nesting deeper than ${MAX_DEPTH} levels`);
    switch (typeof value) {
      case 'string':
        this.string(value);
        return;
      case 'number':
        this.number(value);
        return;
      case 'bigint':
        this.int(value);
        return;
      case 'boolean':
        this.out.u8(value ? OP.NEWTRUE : OP.NEWFALSE);
        return;
      case 'object':
        break;
      case 'function':
        throw this.error(
          `cannot save a function (${value.name || 'anonymous'}); did you mean to call it, as in model.stateDict()?`,
        );
      default:
        throw this.error(`cannot save a value of type ${typeof value}`);
    }
    if (value === null) {
      this.out.u8(OP.NONE);
      return;
    }
    if (value instanceof PyFloat) {
      this.float(value.value);
      return;
    }
    if (this.get(value)) return;
    const tensor = this.options.tensorSource(value);
    if (tensor) {
      this.tensor(tensor, value);
      return;
    }
    if (value instanceof Uint8Array) {
      this.out.u8(value.length < 256 ? OP.SHORT_BINBYTES : OP.BINBYTES);
      if (value.length < 256) this.out.u8(value.length);
      else this.out.u32(value.length);
      this.out.bytes(value);
      this.put(value);
      return;
    }
    if (Array.isArray(value)) {
      if (Object.isFrozen(value)) this.tupleValue(value);
      else this.list(value);
      return;
    }
    if (value instanceof Map) {
      this.dict(value, [...value.entries()]);
      return;
    }
    if (isPlainObject(value)) {
      if (isOptimizerStateDict(value)) {
        if (isPlainObject(value.state)) this.intKeyed.add(value.state);
        for (const group of value.param_groups) this.paramGroups.add(group);
      }
      let entries: [unknown, unknown][] = Object.entries(value);
      if (this.intKeyed.has(value)) entries = entries.map(([k, v]) => [Number(k), v]);
      if (this.paramGroups.has(value))
        entries = entries.map(([k, v]) => [k, paramGroupValue(k as string, v)]);
      this.dict(value, entries);
      return;
    }
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    if (typeof (value as { stateDict?: unknown }).stateDict === 'function') {
      throw this.error(
        `cannot save a ${name} itself; save its stateDict() (torch.save(model) pickles Python classes, which graft neither writes nor reads)`,
      );
    }
    throw this.error(
      `cannot save a ${name}; expected a tensor, array, Map, plain object, string, number, bigint, boolean, null or Uint8Array`,
    );
  }

  private tupleValue(items: readonly unknown[]): void {
    if (this.tuplesInProgress.has(items))
      throw this.error('a tuple (frozen array) that contains itself cannot be pickled');
    this.tuplesInProgress.add(items);
    this.tuple(
      items.length,
      () => {
        items.forEach((item, i) => {
          this.path.push(`[${i}]`);
          this.save(item);
          this.path.pop();
        });
      },
      items,
    );
    this.tuplesInProgress.delete(items);
  }

  private list(items: readonly unknown[]): void {
    this.out.u8(OP.EMPTY_LIST);
    this.put(items);
    for (let start = 0; start < items.length; start += BATCH) {
      const end = Math.min(items.length, start + BATCH);
      if (end - start > 1) this.out.u8(OP.MARK);
      for (let i = start; i < end; i++) {
        this.path.push(`[${i}]`);
        this.save(items[i]);
        this.path.pop();
      }
      this.out.u8(end - start > 1 ? OP.APPENDS : OP.APPEND);
    }
  }

  private dict(dict: object, entries: [unknown, unknown][], ordered = isOrderedDict(dict)): void {
    if (ordered) this.emptyOrderedDict();
    else this.out.u8(OP.EMPTY_DICT);
    this.put(dict);
    for (let start = 0; start < entries.length; start += BATCH) {
      const end = Math.min(entries.length, start + BATCH);
      if (end - start > 1) this.out.u8(OP.MARK);
      for (let i = start; i < end; i++) {
        const [key, item] = entries[i];
        this.path.push(typeof key === 'string' ? `[${JSON.stringify(key)}]` : `[${String(key)}]`);
        this.key(key);
        this.save(item);
        this.path.pop();
      }
      this.out.u8(end - start > 1 ? OP.SETITEMS : OP.SETITEM);
    }
    const attributes = ordered ? pyAttributes(dict) : undefined;
    if (attributes && Object.keys(attributes).length) this.attributes(attributes);
  }

  /** The BUILD that sets an OrderedDict's attributes, as pickle writes `__reduce__`'s state: a dict of them. */
  private attributes(attributes: Record<string, unknown>): void {
    const entries = Object.entries(attributes);
    this.out.u8(OP.EMPTY_DICT);
    this.put({});
    if (entries.length > 1) this.out.u8(OP.MARK);
    for (const [name, value] of entries) {
      this.path.push(`.${name}`);
      this.string(name);
      // torch keeps a state dict's _metadata in an OrderedDict; nn's is a Map, a hand-made one may be an object.
      if (name === '_metadata' && (value instanceof Map || isPlainObject(value))) {
        if (!this.get(value))
          this.dict(value, value instanceof Map ? [...value.entries()] : Object.entries(value), true);
      } else {
        this.save(value);
      }
      this.path.pop();
    }
    this.out.u8(entries.length > 1 ? OP.SETITEMS : OP.SETITEM);
    this.out.u8(OP.BUILD);
  }

  private key(key: unknown): void {
    const hashable = (k: unknown): boolean =>
      k === null ||
      typeof k === 'string' ||
      typeof k === 'number' ||
      typeof k === 'bigint' ||
      typeof k === 'boolean' ||
      k instanceof PyFloat ||
      (Array.isArray(k) && Object.isFrozen(k) && k.every(hashable));
    if (!hashable(key))
      throw this.error('dict key must be a string, number, bigint, boolean, null or frozen array (tuple)');
    this.save(key);
  }

  private storageKey(storage: StorageSource): string {
    let key = this.storageKeys.get(storage.id);
    if (key === undefined) {
      key = String(this.storages.length);
      this.storageKeys.set(storage.id, key);
      this.storages.push(storage);
    }
    return key;
  }

  private tensor(t: TensorSource, memoKey: object): void {
    if (t.parameter) {
      this.global('torch._utils', '_rebuild_parameter');
      this.tuple(3, () => {
        this.plainTensor({ ...t, requiresGrad: false });
        this.put({}); // the parameter's data tensor
        this.out.u8(t.requiresGrad ? OP.NEWTRUE : OP.NEWFALSE);
        this.emptyOrderedDict();
        this.put({}); // the backward-hooks OrderedDict, memoized as pickle does
      });
      this.out.u8(OP.REDUCE);
      this.put(memoKey);
      return;
    }
    this.plainTensor(t);
    this.put(memoKey);
  }

  private plainTensor(t: TensorSource): void {
    const storage = t.storage;
    const key = this.storageKey(storage);
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.tuple(6, () => {
      this.tuple(5, () => {
        this.string('storage');
        this.global('torch', STORAGE_CLASS[storage.dtype]);
        this.string(key, 'storage-key');
        this.string(this.location);
        this.int(storage.numel);
      });
      this.out.u8(OP.BINPERSID);
      this.int(t.storageOffset);
      this.ints(t.shape);
      this.ints(t.strides);
      this.out.u8(t.requiresGrad ? OP.NEWTRUE : OP.NEWFALSE);
      this.emptyOrderedDict();
      this.put({}); // the backward-hooks OrderedDict, memoized as pickle does
    });
    this.out.u8(OP.REDUCE);
  }
}

const INT_KEY = /^(0|-?[1-9][0-9]{0,15})$/;

/**
 * torch.optim's state dict, `{ state, param_groups }`, keys `state` by parameter position (ints). In JS that
 * dict is a Map with number keys (as the readers return it) or, as @graft/optim builds it, a plain object
 * keyed '0', '1', ...; the latter is written with int keys, else `optimizer.load_state_dict` would ignore it.
 * Each group is a dict with a `params` list.
 */
function isOptimizerStateDict(
  value: Record<string, unknown>,
): value is { state: Record<string, unknown> | Map<unknown, unknown>; param_groups: object[] } {
  const keys = Object.keys(value);
  if (!keys.includes('state') || !keys.includes('param_groups') || !Array.isArray(value.param_groups))
    return false;
  if (!value.param_groups.every((g) => isPlainObject(g) && Array.isArray(g.params))) return false;
  const state = value.state;
  if (state instanceof Map) return true;
  return (
    isPlainObject(state) &&
    Object.keys(state).every((k) => INT_KEY.test(k) && Number.isSafeInteger(Number(k)))
  );
}

/**
 * Group options torch.optim keeps as Python ints when integral, because their defaults are the int 0 (SGD's
 * `momentum=0`, `weight_decay=0`, Adagrad's `lr_decay=0`, ...). Every other numeric option is a float in torch
 * (`lr`, `eps`, `betas`, Adadelta's `lr=1.0`, schedulers' `initial_lr`), whatever its value.
 */
const INT_GROUP_OPTIONS = new Set([
  'momentum',
  'dampening',
  'weight_decay',
  'lr_decay',
  'initial_accumulator_value',
]);

/** A param group's value with torch's Python type: numbers of float options (and in their tuples) as floats. */
function paramGroupValue(key: string, value: unknown): unknown {
  if (key === 'params' || INT_GROUP_OPTIONS.has(key)) return value;
  if (typeof value === 'number') return new PyFloat(value);
  if (Array.isArray(value) && Object.isFrozen(value) && value.every((v) => typeof v === 'number'))
    return Object.freeze(value.map((v: number) => new PyFloat(v)));
  return value;
}

/** Python's encode_long: minimal little-endian two's complement. */
function encodeLong(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const bytes: number[] = [];
  let x = v;
  // Emit bytes until the remaining value is pure sign extension of the last byte.
  for (;;) {
    const b = Number(x & 0xffn);
    bytes.push(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(bytes);
}
