// Containers: Sequential (a pipeline), ModuleList (indexed children), ModuleDict (named children).

import type { Tensor } from '@graft/tensor';
import { Module, moduleProxyHandler } from './module.js';
import { typeName } from './pyrepr.js';

const INDEX = /^-?\d+$/;

/** Normalises a Python-style index (negative counts from the end) or throws PyTorch's IndexError text. */
function absIndex(i: number, n: number): number {
  if (!Number.isInteger(i)) throw new TypeError(`indices must be integers, got ${i}`);
  if (i < -n || i >= n) throw new RangeError(`index ${i} is out of range`);
  return i < 0 ? i + n : i;
}

function keyAt(m: Module, i: number): string {
  const keys = [...m._modules.keys()];
  return keys[absIndex(i, keys.length)];
}

/** Re-keys children as '0', '1', ... in order (after a deletion, as PyTorch does). */
function renumber(m: Module): void {
  const values = [...m._modules.values()];
  m._modules.clear();
  values.forEach((v, i) => {
    m._modules.set(String(i), v);
  });
}

function requireModule(m: unknown, op: string): Module {
  if (!(m instanceof Module)) throw new TypeError(`${op}: expected a Module, got ${typeName(m)}`);
  return m;
}

/** Adds positional indexing (`seq[0]`, `seq[-1]`, `seq[1] = m`, `delete seq[0]`) to a module's traps. */
const indexedProxyHandler: ProxyHandler<Module> = {
  ...moduleProxyHandler,
  get(target, prop, receiver) {
    if (typeof prop === 'string' && INDEX.test(prop)) {
      return target._modules.get(keyAt(target, Number(prop)));
    }
    return moduleProxyHandler.get?.(target, prop, receiver);
  },
  set(target, prop, value, receiver) {
    if (typeof prop === 'string' && INDEX.test(prop)) {
      target._modules.set(keyAt(target, Number(prop)), requireModule(value, 'setitem'));
      return true;
    }
    return moduleProxyHandler.set?.(target, prop, value, receiver) ?? false;
  },
  deleteProperty(target, prop) {
    if (typeof prop === 'string' && INDEX.test(prop)) {
      target._modules.delete(keyAt(target, Number(prop)));
      renumber(target);
      return true;
    }
    return moduleProxyHandler.deleteProperty?.(target, prop) ?? false;
  },
};

/**
 * Runs its children in order, each on the previous one's output. Build it from modules
 * (`new Sequential(conv, relu, new Flatten())`, named `(0)`, `(1)`, ...) or from named modules
 * (`new Sequential({ conv, relu })` or a Map). `seq[i]` indexes by position, negatives included.
 */
export class Sequential extends Module {
  [index: number]: Module;
  /** @internal */
  static override _proxyHandler = indexedProxyHandler;

  constructor(...modules: Module[]);
  constructor(modules: Record<string, Module> | Map<string, Module>);
  constructor(...args: (Module | Record<string, Module> | Map<string, Module>)[]) {
    super();
    const first = args[0];
    if (args.length === 1 && !(first instanceof Module)) {
      const entries = first instanceof Map ? [...first] : Object.entries(first);
      for (const [key, m] of entries) this.registerModule(key, requireModule(m, 'Sequential'));
    } else {
      args.forEach((m, i) => {
        this.registerModule(String(i), requireModule(m, 'Sequential'));
      });
    }
  }

  get length(): number {
    return this._modules.size;
  }

  /** The child at a position (negative counts from the end). */
  at(index: number): Module {
    return this._modules.get(keyAt(this, index)) as Module;
  }

  /** Children `start` to `end` (Python slice semantics) as a new Sequential keeping their names. */
  slice(start?: number, end?: number): Sequential {
    return new Sequential(new Map([...this._modules].slice(start, end) as [string, Module][]));
  }

  /** Adds a module at the end under the key `String(length)`. */
  append(module: Module): this {
    this.registerModule(String(this.length), requireModule(module, 'append'));
    return this;
  }

  /** Inserts a module before position `index`, shifting later keys up by one. */
  insert(index: number, module: Module): this {
    requireModule(module, 'insert');
    const n = this._modules.size;
    if (!(index >= -n && index <= n)) throw new RangeError(`Index out of range: ${index}`);
    const at = index < 0 ? index + n : index;
    for (let i = n; i > at; i--) this._modules.set(String(i), this._modules.get(String(i - 1)) ?? null);
    this._modules.set(String(at), module);
    return this;
  }

  /** Appends every module of an iterable. */
  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Removes and returns the child at a position; the rest are renumbered. */
  pop(index: number): Module {
    const m = this.at(index);
    this._modules.delete(keyAt(this, index));
    renumber(this);
    return m;
  }

  *[Symbol.iterator](): Iterator<Module> {
    for (const m of this._modules.values()) if (m) yield m;
  }

  override forward(input: Tensor): Tensor {
    let x: unknown = input;
    for (const m of this) x = m.call(x);
    return x as Tensor;
  }
}

/** Holds child modules in a list, registered as `(0)`, `(1)`, ...; it has no forward of its own. */
export class ModuleList extends Module {
  [index: number]: Module;
  /** @internal */
  static override _proxyHandler = indexedProxyHandler;

  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }

  get length(): number {
    return this._modules.size;
  }

  at(index: number): Module {
    return this._modules.get(keyAt(this, index)) as Module;
  }

  /** A new ModuleList of the children `start` to `end` (renumbered from 0, as PyTorch does). */
  slice(start?: number, end?: number): ModuleList {
    return new ModuleList([...this._modules.values()].slice(start, end) as Module[]);
  }

  append(module: Module): this {
    this.registerModule(String(this.length), requireModule(module, 'append'));
    return this;
  }

  extend(modules: Iterable<Module>): this {
    if (modules === null || typeof (modules as Iterable<Module>)[Symbol.iterator] !== 'function') {
      throw new TypeError(
        `ModuleList.extend should be called with an iterable, but got ${typeName(modules)}`,
      );
    }
    for (const m of modules) this.append(m);
    return this;
  }

  insert(index: number, module: Module): void {
    requireModule(module, 'insert');
    const n = this._modules.size;
    const at = Math.max(0, Math.min(n, index < 0 ? index + n : index));
    for (let i = n; i > at; i--) this._modules.set(String(i), this._modules.get(String(i - 1)) ?? null);
    this._modules.set(String(at), module);
  }

  pop(index: number): Module {
    const m = this.at(index);
    this._modules.delete(keyAt(this, index));
    renumber(this);
    return m;
  }

  *[Symbol.iterator](): Iterator<Module> {
    for (const m of this._modules.values()) if (m) yield m;
  }
}

/** Holds child modules by name, in insertion order; `dict.get('conv')` or `dict.conv`. */
export class ModuleDict extends Module {
  constructor(modules?: Record<string, Module> | Map<string, Module> | Iterable<[string, Module]>) {
    super();
    if (modules) this.update(modules);
  }

  get length(): number {
    return this._modules.size;
  }

  /** The module under `key`; throws for an unknown key (Python's KeyError). */
  get(key: string): Module {
    const m = this._modules.get(key);
    if (m === undefined) throw new Error(`ModuleDict has no key '${key}'`);
    return m as Module;
  }

  set(key: string, module: Module): this {
    this.registerModule(key, requireModule(module, 'ModuleDict.set'));
    return this;
  }

  has(key: string): boolean {
    return this._modules.has(key);
  }

  delete(key: string): boolean {
    return this._modules.delete(key);
  }

  /** Removes `key` and returns its module. */
  pop(key: string): Module {
    const m = this.get(key);
    this._modules.delete(key);
    return m;
  }

  clear(): void {
    this._modules.clear();
  }

  keys(): string[] {
    return [...this._modules.keys()];
  }

  values(): Module[] {
    return [...this._modules.values()].filter((m): m is Module => m !== null);
  }

  items(): [string, Module][] {
    return [...this._modules].filter((e): e is [string, Module] => e[1] !== null);
  }

  /** Adds or replaces entries from a record, a Map or [key, module] pairs (in their order). */
  update(modules: Record<string, Module> | Map<string, Module> | Iterable<[string, Module]>): this {
    const entries: Iterable<[string, Module]> =
      modules instanceof Map || Symbol.iterator in (modules as object)
        ? (modules as Iterable<[string, Module]>)
        : Object.entries(modules as Record<string, Module>);
    for (const [k, m] of entries) this.set(k, m);
    return this;
  }

  *[Symbol.iterator](): Iterator<string> {
    yield* this._modules.keys();
  }
}
