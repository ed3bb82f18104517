// A restricted pickle machine: it rebuilds scalars, strings, lists, tuples, dicts and tensors, and
// refuses every global outside a short allow-list. It never calls Python code, checks every read
// against the end of the input, and caps its stack and memo, so hostile bytes end in a SerializeError.

import { ByteReader, decodeUtf8 } from './byte-reader.js';
import type { DType } from './dtypes.js';
import { SerializeError } from './errors.js';
import {
  ALLOWED_GLOBALS,
  describe,
  type Internal,
  PyDict,
  PyGlobal,
  PyList,
  PyTuple,
  StorageHandle,
  TensorLeaf,
  type ToJsOptions,
  toJs,
} from './pickle-objects.js';
import { OP, opcodeName } from './pickle-opcodes.js';
import { type PickleKey, type PickleValue, PyFloat } from './python-value.js';
import { checkTensorGeometry } from './tensor-geometry.js';

/** A storage named by a persistent id: `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`. */
export interface StorageRef {
  dtype: DType;
  key: string;
  location: string;
  /** Elements in the root storage, as the pickle declares. */
  numel: number;
  /** Legacy storage views: a window of `numel` elements at `offset` in the root storage. */
  view: { key: string; offset: number; numel: number } | null;
}

/** A tensor as the pickle describes it: a strided view of a storage. */
export interface TensorRecord<S> {
  storage: S;
  dtype: DType;
  shape: number[];
  strides: number[];
  storageOffset: number;
  requiresGrad: boolean;
}

export interface UnpickleLimits {
  /** Most items on the stack at once (marks included). */
  maxStack: number;
  /** Most memo entries. */
  maxMemo: number;
  /** Most nested marks. */
  maxMarks: number;
  /** Longest integer in bytes (LONG1/LONG4/LONG). */
  maxIntBytes: number;
}

const DEFAULT_LIMITS: UnpickleLimits = {
  maxStack: 1_000_000,
  maxMemo: 4_000_000,
  maxMarks: 100_000,
  maxIntBytes: 1024,
};

export interface UnpickleOptions<S> {
  /** Prefix for error messages, e.g. `archive/data.pkl`. */
  context: string;
  /** Resolves a storage persistent id; without it every persistent id is refused. */
  loadStorage?: (ref: StorageRef) => S;
  limits?: Partial<UnpickleLimits>;
}

export type { ToJsOptions } from './pickle-objects.js';

/** The result of running one pickle: the root object, still in the machine's form, and where STOP ended. */
export interface Unpickled<S> {
  readonly root: unknown;
  readonly end: number;
  /** Converts the root to JavaScript values, turning each tensor record into T once (shared records stay shared). */
  toJs<T>(makeTensor: (record: TensorRecord<S>) => T, options?: ToJsOptions): PickleValue<T>;
}

/** Runs one pickle starting at `start` in `bytes`. */
export function unpickle<S>(bytes: Uint8Array, options: UnpickleOptions<S>, start = 0): Unpickled<S> {
  const machine = new Machine<S>(bytes, options, start);
  const root = machine.run();
  return {
    root,
    end: machine.reader.pos,
    toJs: <T>(makeTensor: (record: TensorRecord<S>) => T, options: ToJsOptions = {}) =>
      toJs<S, T>(root, makeTensor, options),
  };
}

class Machine<S> {
  readonly reader: ByteReader;
  private readonly stack: Internal[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, Internal>();
  private readonly limits: UnpickleLimits;
  private readonly context: string;
  private opPos = 0;
  private op = 0;

  constructor(
    bytes: Uint8Array,
    private readonly options: UnpickleOptions<S>,
    start: number,
  ) {
    this.context = options.context;
    this.reader = new ByteReader(bytes, options.context, start);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  private error(message: string): SerializeError {
    return new SerializeError(`${this.context}: ${opcodeName(this.op)} at byte ${this.opPos}: ${message}`);
  }

  private push(v: Internal): void {
    if (this.stack.length >= this.limits.maxStack) {
      throw this.error(`stack holds more than ${this.limits.maxStack} items`);
    }
    this.stack.push(v);
  }

  private floor(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  private pop(): Internal {
    if (this.stack.length <= this.floor()) throw this.error('stack underflow');
    return this.stack.pop() as Internal;
  }

  private top(): Internal {
    if (this.stack.length <= this.floor()) throw this.error('stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): Internal[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.error('no MARK on the stack');
    return this.stack.splice(mark);
  }

  private memoPut(index: number): void {
    if (this.memo.size >= this.limits.maxMemo && !this.memo.has(index)) {
      throw this.error(`memo holds more than ${this.limits.maxMemo} entries`);
    }
    this.memo.set(index, this.top());
  }

  private memoGet(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) throw this.error(`memo entry ${index} was never stored`);
    this.push(v);
  }

  private text(what: string): string {
    return decodeUtf8(this.reader.line(what), `${this.context}: ${what}`);
  }

  private string(n: number, what: string): string {
    return decodeUtf8(this.reader.take(n, what), `${this.context}: ${what} at byte ${this.opPos}`);
  }

  private decodeLong(bytes: Uint8Array): number | bigint {
    if (bytes.length > this.limits.maxIntBytes) {
      throw this.error(`integer of ${bytes.length} bytes is longer than ${this.limits.maxIntBytes}`);
    }
    if (bytes.length === 0) return 0;
    if (bytes.length <= 6) {
      let v = 0;
      for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i];
      if (bytes[bytes.length - 1] & 0x80) v -= 2 ** (8 * bytes.length);
      return v;
    }
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
    return normalizeInt(v);
  }

  private parseIntText(raw: string, what: string): number | bigint {
    const s = raw.endsWith('L') ? raw.slice(0, -1) : raw;
    if (!/^[-+]?[0-9]+$/.test(s) || s.length > this.limits.maxIntBytes * 3) {
      throw this.error(`${what} '${raw.slice(0, 40)}' is not a decimal integer`);
    }
    return normalizeInt(BigInt(s));
  }

  run(): Internal {
    const r = this.reader;
    for (;;) {
      this.opPos = r.pos;
      this.op = r.u8('opcode');
      switch (this.op) {
        case OP.PROTO: {
          const version = r.u8('protocol');
          if (version > 5) throw this.error(`unsupported pickle protocol ${version}, expected 0 to 5`);
          break;
        }
        case OP.FRAME:
          r.u64('frame length');
          break;
        case OP.STOP: {
          if (this.marks.length) throw this.error(`${this.marks.length} MARK(s) left open`);
          const v = this.pop();
          return v;
        }
        case OP.MARK:
          if (this.marks.length >= this.limits.maxMarks)
            throw this.error(`more than ${this.limits.maxMarks} nested MARKs`);
          this.marks.push(this.stack.length);
          break;
        case OP.POP:
          if (this.stack.length === this.floor() && this.marks.length) this.popMark();
          else this.pop();
          break;
        case OP.POP_MARK:
          this.popMark();
          break;
        case OP.DUP:
          this.push(this.top());
          break;

        // scalars
        case OP.NONE:
          this.push(null);
          break;
        case OP.NEWTRUE:
          this.push(true);
          break;
        case OP.NEWFALSE:
          this.push(false);
          break;
        case OP.BININT:
          this.push(r.i32('BININT'));
          break;
        case OP.BININT1:
          this.push(r.u8('BININT1'));
          break;
        case OP.BININT2:
          this.push(r.u16('BININT2'));
          break;
        case OP.LONG1:
          this.push(this.decodeLong(r.take(r.u8('LONG1 length'), 'LONG1')));
          break;
        case OP.LONG4: {
          const n = r.i32('LONG4 length');
          if (n < 0) throw this.error(`negative LONG4 length ${n}`);
          if (n > this.limits.maxIntBytes)
            throw this.error(`integer of ${n} bytes is longer than ${this.limits.maxIntBytes}`);
          this.push(this.decodeLong(r.take(n, 'LONG4')));
          break;
        }
        case OP.INT: {
          const s = this.text('INT');
          // Protocol 0 spells booleans as I00 / I01.
          if (s === '00') this.push(false);
          else if (s === '01') this.push(true);
          else this.push(this.parseIntText(s, 'INT'));
          break;
        }
        case OP.LONG:
          this.push(this.parseIntText(this.text('LONG'), 'LONG'));
          break;
        case OP.BINFLOAT:
          this.push(new PyFloat(r.f64be('BINFLOAT')));
          break;
        case OP.FLOAT: {
          const s = this.text('FLOAT');
          const v = Number(s);
          if (s.trim() === '' || (Number.isNaN(v) && !/^[-+]?nan$/i.test(s))) {
            throw this.error(`FLOAT '${s.slice(0, 40)}' is not a number`);
          }
          this.push(new PyFloat(v));
          break;
        }

        // strings and bytes
        case OP.BINUNICODE:
          this.push(this.string(r.u32('BINUNICODE length'), 'BINUNICODE'));
          break;
        case OP.SHORT_BINUNICODE:
          this.push(this.string(r.u8('SHORT_BINUNICODE length'), 'SHORT_BINUNICODE'));
          break;
        case OP.BINUNICODE8:
          this.push(this.string(r.u64('BINUNICODE8 length'), 'BINUNICODE8'));
          break;
        case OP.BINSTRING: {
          // Python 2 str; torch.load decodes these as UTF-8.
          const n = r.i32('BINSTRING length');
          if (n < 0) throw this.error(`negative BINSTRING length ${n}`);
          this.push(this.string(n, 'BINSTRING'));
          break;
        }
        case OP.SHORT_BINSTRING:
          this.push(this.string(r.u8('SHORT_BINSTRING length'), 'SHORT_BINSTRING'));
          break;
        case OP.BINBYTES:
          this.push(r.take(r.u32('BINBYTES length'), 'BINBYTES').slice());
          break;
        case OP.SHORT_BINBYTES:
          this.push(r.take(r.u8('SHORT_BINBYTES length'), 'SHORT_BINBYTES').slice());
          break;
        case OP.BINBYTES8:
          this.push(r.take(r.u64('BINBYTES8 length'), 'BINBYTES8').slice());
          break;

        // containers
        case OP.EMPTY_LIST:
          this.push(new PyList());
          break;
        case OP.EMPTY_DICT:
          this.push(new PyDict());
          break;
        case OP.EMPTY_TUPLE:
          this.push(new PyTuple([]));
          break;
        case OP.LIST: {
          const list = new PyList();
          list.items.push(...this.popMark());
          this.push(list);
          break;
        }
        case OP.DICT: {
          const items = this.popMark();
          const dict = new PyDict();
          this.setItems(dict, items);
          this.push(dict);
          break;
        }
        case OP.TUPLE:
          this.push(new PyTuple(this.popMark()));
          break;
        case OP.TUPLE1: {
          const a = this.pop();
          this.push(new PyTuple([a]));
          break;
        }
        case OP.TUPLE2: {
          const b = this.pop();
          const a = this.pop();
          this.push(new PyTuple([a, b]));
          break;
        }
        case OP.TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(new PyTuple([a, b, c]));
          break;
        }
        case OP.APPEND: {
          const item = this.pop();
          this.listOnTop('APPEND').items.push(item);
          break;
        }
        case OP.APPENDS: {
          const items = this.popMark();
          const list = this.listOnTop('APPENDS');
          for (const item of items) list.items.push(item);
          break;
        }
        case OP.SETITEM: {
          const value = this.pop();
          const key = this.pop();
          this.setItems(this.dictOnTop('SETITEM'), [key, value]);
          break;
        }
        case OP.SETITEMS: {
          const items = this.popMark();
          this.setItems(this.dictOnTop('SETITEMS'), items);
          break;
        }

        // memo
        case OP.BINPUT:
          this.memoPut(r.u8('BINPUT index'));
          break;
        case OP.LONG_BINPUT:
          this.memoPut(r.u32('LONG_BINPUT index'));
          break;
        case OP.MEMOIZE:
          this.memoPut(this.memo.size);
          break;
        case OP.PUT:
          this.memoPut(this.memoIndexText('PUT'));
          break;
        case OP.BINGET:
          this.memoGet(r.u8('BINGET index'));
          break;
        case OP.LONG_BINGET:
          this.memoGet(r.u32('LONG_BINGET index'));
          break;
        case OP.GET:
          this.memoGet(this.memoIndexText('GET'));
          break;

        // globals and calls
        case OP.GLOBAL: {
          const module = this.text('GLOBAL module');
          const name = this.text('GLOBAL name');
          this.push(this.global(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') {
            throw this.error(
              `expected module and name strings, got ${describe(module)} and ${describe(name)}`,
            );
          }
          this.push(this.global(module, name));
          break;
        }
        case OP.REDUCE: {
          const args = this.pop();
          const callable = this.pop();
          this.push(this.call(callable, args));
          break;
        }
        case OP.NEWOBJ: {
          const args = this.pop();
          const cls = this.pop();
          this.push(this.construct(cls, args));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(kwargs instanceof PyDict) || kwargs.entries.size) {
            throw this.error(`keyword arguments are not supported, got ${describe(kwargs)}`);
          }
          this.push(this.construct(cls, args));
          break;
        }
        case OP.BUILD: {
          const state = this.pop();
          this.build(this.top(), state);
          break;
        }
        case OP.BINPERSID:
          this.push(this.persistentLoad(this.pop()));
          break;
        case OP.PERSID:
          this.push(this.persistentLoad(this.text('PERSID')));
          break;

        default:
          throw this.error(refusalReason(this.op));
      }
    }
  }

  private memoIndexText(what: string): number {
    const s = this.text(`${what} index`);
    if (!/^[0-9]{1,10}$/.test(s))
      throw this.error(`${what} index '${s.slice(0, 40)}' is not a decimal integer`);
    return Number(s);
  }

  private listOnTop(what: string): PyList {
    const list = this.top();
    if (!(list instanceof PyList)) throw this.error(`${what} needs a list, got ${describe(list)}`);
    return list;
  }

  private dictOnTop(what: string): PyDict {
    const dict = this.top();
    if (!(dict instanceof PyDict)) throw this.error(`${what} needs a dict, got ${describe(dict)}`);
    return dict;
  }

  private setItems(dict: PyDict, items: Internal[]): void {
    if (items.length % 2) throw this.error(`odd number of items (${items.length}) for key/value pairs`);
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (!isHashable(key)) throw this.error(`unhashable dict key of type ${describe(key)}`);
      dict.entries.set(key, items[i + 1]);
    }
  }

  private global(module: string, name: string): PyGlobal {
    const fullName = `${module}.${name}`;
    const what = ALLOWED_GLOBALS.get(fullName);
    if (!what)
      throw this.error(
        `refusing to load global ${fullName.slice(0, 200)}: only tensors, storages and containers are allowed`,
      );
    return new PyGlobal(fullName, what);
  }

  private args(args: Internal, fn: string, min: number, max = min): Internal[] {
    if (!(args instanceof PyTuple))
      throw this.error(`${fn} expects an argument tuple, got ${describe(args)}`);
    if (args.items.length < min || args.items.length > max) {
      const expected = min === max ? `${min}` : `${min} to ${max}`;
      throw this.error(`${fn} expects ${expected} arguments, got ${args.items.length}`);
    }
    return args.items;
  }

  private call(callable: Internal, argTuple: Internal): Internal {
    if (!(callable instanceof PyGlobal)) throw this.error(`cannot call a ${describe(callable)}`);
    const fn = callable.fullName;
    switch (callable.what.kind) {
      case 'OrderedDict': {
        const a = this.args(argTuple, fn, 0, 1);
        const dict = new PyDict();
        dict.ordered = true;
        if (a.length) this.fillFromPairs(dict, a[0], fn);
        return dict;
      }
      case 'rebuildTensorV2': {
        const a = this.args(argTuple, fn, 6, 7);
        return this.tensor(a[0], a[1], a[2], a[3], a[4]);
      }
      case 'rebuildTensor': {
        const a = this.args(argTuple, fn, 4);
        return this.tensor(a[0], a[1], a[2], a[3], false);
      }
      case 'rebuildParameter':
      case 'rebuildParameterWithState': {
        const a = this.args(argTuple, fn, callable.what.kind === 'rebuildParameter' ? 3 : 4);
        return this.parameter(a[0], a[1], fn);
      }
      case 'rebuildFromTypeV2': {
        // (func, new_type, args, state): only plain tensors and parameters, whose extra state we drop.
        const a = this.args(argTuple, fn, 4);
        const type = a[1];
        if (
          !(type instanceof PyGlobal) ||
          (type.what.kind !== 'TensorClass' && type.what.kind !== 'ParameterClass')
        ) {
          throw this.error(`${fn} for type ${describe(type)}: only torch.Tensor and Parameter are supported`);
        }
        const result = this.call(a[0], a[2]);
        if (!(result instanceof TensorLeaf))
          throw this.error(`${fn} expected its function to build a tensor`);
        return result;
      }
      case 'Size': {
        const a = this.args(argTuple, fn, 0, 1);
        if (!a.length) return new PyTuple([]);
        const items = a[0];
        if (!(items instanceof PyTuple || items instanceof PyList))
          throw this.error(`${fn} expects a tuple, got ${describe(items)}`);
        return new PyTuple([...items.items]);
      }
      case 'codecsEncode': {
        // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1').
        const a = this.args(argTuple, fn, 2);
        const [text, encoding] = a;
        if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
          throw this.error(
            `${fn} supports (str, 'latin1') only, got (${describe(text)}, ${String(encoding).slice(0, 20)})`,
          );
        }
        const out = new Uint8Array(text.length);
        for (let i = 0; i < text.length; i++) {
          const c = text.charCodeAt(i);
          if (c > 255) throw this.error(`${fn}: character U+${c.toString(16)} is not latin1`);
          out[i] = c;
        }
        return out;
      }
      case 'ParameterClass':
        return this.construct(callable, argTuple);
      case 'TensorClass':
      case 'storageType':
        throw this.error(`calling ${fn} is not supported`);
      default:
        return assertNeverKind(callable.what);
    }
  }

  private construct(cls: Internal, argTuple: Internal): Internal {
    if (!(cls instanceof PyGlobal)) throw this.error(`cannot instantiate a ${describe(cls)}`);
    switch (cls.what.kind) {
      case 'OrderedDict':
      case 'Size':
        return this.call(cls, argTuple);
      case 'ParameterClass': {
        const a = this.args(argTuple, cls.fullName, 1, 2);
        return this.parameter(a[0], a.length > 1 ? a[1] : true, cls.fullName);
      }
      default:
        throw this.error(`instantiating ${cls.fullName} is not supported`);
    }
  }

  private fillFromPairs(dict: PyDict, pairs: Internal, fn: string): void {
    if (!(pairs instanceof PyList || pairs instanceof PyTuple))
      throw this.error(`${fn} expects a list of pairs, got ${describe(pairs)}`);
    for (const pair of pairs.items) {
      if (!((pair instanceof PyTuple || pair instanceof PyList) && pair.items.length === 2)) {
        throw this.error(`${fn} expects (key, value) pairs, got ${describe(pair)}`);
      }
      this.setItems(dict, pair.items);
    }
  }

  private parameter(data: Internal, requiresGrad: Internal, fn: string): Internal {
    if (!(data instanceof TensorLeaf)) throw this.error(`${fn} expects a tensor, got ${describe(data)}`);
    if (typeof requiresGrad !== 'boolean')
      throw this.error(`${fn} expects requires_grad to be a bool, got ${describe(requiresGrad)}`);
    return new TensorLeaf({ ...data.record, requiresGrad });
  }

  private intList(v: Internal, what: string): number[] {
    if (!(v instanceof PyTuple || v instanceof PyList))
      throw this.error(`${what} must be a tuple of ints, got ${describe(v)}`);
    return v.items.map((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x))
        throw this.error(`${what}[${i}] must be an int, got ${describe(x)}`);
      return x;
    });
  }

  private tensor(
    storage: Internal,
    offset: Internal,
    size: Internal,
    stride: Internal,
    requiresGrad: Internal,
  ): Internal {
    if (!(storage instanceof StorageHandle))
      throw this.error(`tensor storage must be a persistent storage, got ${describe(storage)}`);
    if (typeof offset !== 'number' || !Number.isInteger(offset))
      throw this.error(`storage offset must be an int, got ${describe(offset)}`);
    const shape = this.intList(size, 'tensor size');
    const strides = this.intList(stride, 'tensor stride');
    if (typeof requiresGrad !== 'boolean')
      throw this.error(`requires_grad must be a bool, got ${describe(requiresGrad)}`);
    const ref = storage.ref;
    const numel = ref.view ? ref.view.numel : ref.numel;
    const problem = checkTensorGeometry(shape, strides, offset, numel);
    if (problem)
      throw this.error(`tensor on storage '${ref.key}' (${numel} ${ref.dtype} elements): ${problem}`);
    return new TensorLeaf({
      storage: storage.value,
      dtype: ref.dtype,
      shape,
      strides,
      storageOffset: offset,
      requiresGrad,
    });
  }

  private build(target: Internal, state: Internal): void {
    if (target instanceof PyDict) {
      if (state === null) return;
      if (!(state instanceof PyDict))
        throw this.error(`BUILD state for a dict must be a dict, got ${describe(state)}`);
      for (const key of state.entries.keys()) {
        if (typeof key !== 'string')
          throw this.error(`attribute names must be strings, got ${describe(key)}`);
      }
      target.attributes ??= new PyDict();
      for (const [k, v] of state.entries) target.attributes.entries.set(k, v);
      return;
    }
    if (target instanceof TensorLeaf) {
      // A Parameter's __setstate__ may carry hooks or attributes; there is nothing graft can keep of them.
      return;
    }
    throw this.error(`BUILD is only supported on dicts and tensors, got ${describe(target)}`);
  }

  private persistentLoad(pid: Internal): Internal {
    const load = this.options.loadStorage;
    if (!load) throw this.error('persistent ids are not allowed here');
    if (!(pid instanceof PyTuple) || pid.items.length < 1)
      throw this.error(`persistent id must be a tuple, got ${describe(pid)}`);
    const [tag, type, key, location, numel, view] = pid.items;
    const tagText = tag instanceof Uint8Array ? String.fromCharCode(...tag.subarray(0, 32)) : tag;
    if (tagText !== 'storage') {
      const hint =
        tagText === 'module' ? ' (a whole pickled nn.Module; save and load model.state_dict() instead)' : '';
      throw this.error(`unsupported persistent id '${String(tagText).slice(0, 40)}'${hint}`);
    }
    if (pid.items.length !== 5 && pid.items.length !== 6) {
      throw this.error(
        `storage persistent id has ${pid.items.length} fields, expected 5 (zip) or 6 (legacy)`,
      );
    }
    if (!(type instanceof PyGlobal) || type.what.kind !== 'storageType') {
      throw this.error(`storage type must be a torch storage class, got ${describe(type)}`);
    }
    const keyText = typeof key === 'number' ? String(key) : key;
    if (typeof keyText !== 'string') throw this.error(`storage key must be a str, got ${describe(key)}`);
    if (typeof location !== 'string')
      throw this.error(`storage location must be a str, got ${describe(location)}`);
    if (typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0) {
      throw this.error(
        `storage size must be a non-negative int, got ${describe(numel)} ${String(numel).slice(0, 20)}`,
      );
    }
    let viewRef: StorageRef['view'] = null;
    if (view !== undefined && view !== null) {
      if (!(view instanceof PyTuple) || view.items.length !== 3)
        throw this.error(`storage view metadata must be a 3-tuple, got ${describe(view)}`);
      const [vKey, vOffset, vSize] = view.items;
      if (typeof vKey !== 'string' || !isCount(vOffset) || !isCount(vSize)) {
        throw this.error('storage view metadata must be (str, int, int)');
      }
      if (vOffset + vSize > numel)
        throw this.error(
          `storage view [${vOffset}, ${vOffset + vSize}) exceeds its storage of ${numel} elements`,
        );
      viewRef = { key: vKey, offset: vOffset, numel: vSize };
    }
    const ref: StorageRef = { dtype: type.what.dtype, key: keyText, location, numel, view: viewRef };
    return new StorageHandle(ref, load(ref));
  }
}

function isCount(v: Internal): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function isHashable(v: Internal): boolean {
  if (v instanceof PyList || v instanceof PyDict) return false;
  if (v instanceof PyTuple) return v.items.every(isHashable);
  return true;
}

function normalizeInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function refusalReason(op: number): string {
  switch (op) {
    case OP.INST:
    case OP.OBJ:
      return 'instantiating classes is not allowed';
    case OP.EXT1:
    case OP.EXT2:
    case OP.EXT4:
      return 'extension registry codes are not allowed';
    case OP.EMPTY_SET:
    case OP.ADDITEMS:
    case OP.FROZENSET:
      return 'sets are not supported';
    case OP.STRING:
    case OP.UNICODE:
      return 'protocol 0 quoted strings are not supported';
    case OP.BYTEARRAY8:
    case OP.NEXT_BUFFER:
    case OP.READONLY_BUFFER:
      return 'out-of-band buffers are not supported';
    default:
      return 'not a pickle opcode this reader accepts';
  }
}

function assertNeverKind(x: never): never {
  throw new SerializeError(`unreachable global kind ${String(x)}`);
}

export type { PickleKey };
