// Module: ordered registries of parameters, buffers and child modules, filled by plain property
// assignment (a Proxy routes `this.fc = new Linear(...)` into them), with PyTorch's traversal,
// state_dict save/load and printing.

import { checkOptions, type Device, noGrad, Tensor } from '@graft/tensor';
import { Parameter } from './parameter.js';
import { addIndent, torchSize, typeName } from './pyrepr.js';
import {
  type IncompatibleKeys,
  type ModuleMetadata,
  type StateDict,
  StateDictError,
  stateDictMetadata,
  withEmptyMetadata,
} from './state-dict.js';

export {
  type IncompatibleKeys,
  type ModuleMetadata,
  type StateDict,
  StateDictError,
  type StateDictMetadata,
  stateDictMetadata,
} from './state-dict.js';

/** Runs before `forward`; a non-null result replaces the inputs (an array is the argument list). */
export type ForwardPreHook<M extends Module = Module> = (module: M, inputs: unknown[]) => unknown;
/** Runs after `forward`; a non-null result replaces the output. */
export type ForwardHook<M extends Module = Module> = (
  module: M,
  inputs: unknown[],
  output: unknown,
) => unknown;

let nextHookId = 0;

/** Returned by hook registration; `remove()` unregisters the hook. Works with `using`. */
export class RemovableHandle {
  readonly id: number = nextHookId++;
  private readonly hooks: Map<number, unknown>;

  constructor(hooks: Map<number, unknown>) {
    this.hooks = hooks;
  }

  remove(): void {
    this.hooks.delete(this.id);
  }

  [Symbol.dispose](): void {
    this.remove();
  }
}

export interface NamedMembersOptions {
  /** Prepended to every name (with a dot). */
  prefix?: string;
  /** Include members of descendants (default true). */
  recurse?: boolean;
  /** Yield a member shared by several modules once (default true). */
  removeDuplicate?: boolean;
}

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const NOT_FOUND: unique symbol = Symbol('notFound');

const INTERNAL = new Set([
  '_parameters',
  '_buffers',
  '_nonPersistentBuffers',
  '_modules',
  '_forwardHooks',
  '_forwardPreHooks',
]);

/** Proxy -> the object behind it, for writes that must not re-enter the traps. */
const rawOf = new WeakMap<object, Module>();

function raw(m: Module): Module {
  return rawOf.get(m) ?? m;
}

function lookupMember(m: Module, name: string): unknown {
  if (m._parameters.has(name)) return m._parameters.get(name);
  if (m._buffers.has(name)) return m._buffers.get(name);
  if (m._modules.has(name)) return m._modules.get(name);
  return NOT_FOUND;
}

function isMember(m: Module, name: string): boolean {
  return m._parameters.has(name) || m._buffers.has(name) || m._modules.has(name);
}

/**
 * PyTorch's `Module.__setattr__`: a Parameter becomes a parameter, a Module a child, a Tensor
 * assigned to a buffer's name replaces the buffer; a registered name keeps its position.
 * Returns false when the value is an ordinary attribute. `m` is the raw object.
 */
function assignMember(m: Module, name: string, value: unknown): boolean {
  if (INTERNAL.has(name)) throw new TypeError(`cannot assign to '${name}': it is internal to Module`);
  if (value instanceof Parameter) {
    m._buffers.delete(name);
    m._modules.delete(name);
    m._nonPersistentBuffers.delete(name);
    Reflect.deleteProperty(m, name);
    m._parameters.set(name, value);
    return true;
  }
  if (m._parameters.has(name)) {
    if (value != null) {
      throw new TypeError(
        `cannot assign '${typeName(value)}' as parameter '${name}' (Parameter or null expected)`,
      );
    }
    m._parameters.set(name, null);
    return true;
  }
  if (value instanceof Module) {
    m._parameters.delete(name);
    m._buffers.delete(name);
    m._nonPersistentBuffers.delete(name);
    Reflect.deleteProperty(m, name);
    m._modules.set(name, value);
    return true;
  }
  if (m._modules.has(name)) {
    if (value != null) {
      throw new TypeError(
        `cannot assign '${typeName(value)}' as child module '${name}' (Module or null expected)`,
      );
    }
    m._modules.set(name, null);
    return true;
  }
  if (m._buffers.has(name)) {
    if (value != null && !(value instanceof Tensor)) {
      throw new TypeError(`cannot assign '${typeName(value)}' as buffer '${name}' (Tensor or null expected)`);
    }
    m._buffers.set(name, (value as Tensor | null | undefined) ?? null);
    return true;
  }
  return false;
}

/** `named_parameters` -> `namedParameters`: only an underscore before a letter joins (`conv_1` stays). */
function snakeToCamel(name: string): string {
  return name.replace(/(?<=[a-zA-Z0-9])_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The camelCase attribute a PyTorch snake_case name stands for (`state_dict` -> `stateDict`, `in_features`
 * -> `inFeatures`), or undefined. Only for names the module does not have itself; registered members
 * (`running_mean`) are found first.
 */
function snakeAlias(m: Module, name: string): string | undefined {
  if (!name.includes('_')) return undefined;
  const camel = snakeToCamel(name);
  return camel !== name && camel in m ? camel : undefined;
}

/**
 * Assignments PyTorch users write that would add a property nothing reads. In PyTorch too,
 * `model.requires_grad = False` only sets an attribute; freezing takes `requires_grad_(False)`.
 */
const MODULE_SLIPS: Record<string, string> = {
  requires_grad: 'a Module has no requires_grad flag; call requiresGrad_(false) to freeze its parameters',
  requiresGrad: 'a Module has no requiresGrad flag; call requiresGrad_(false) to freeze its parameters',
};

/**
 * Refuses an assignment that can only be a slip: a known PyTorch name without a graft attribute, or the
 * snake_case spelling of an attribute the module has (`conv.kernel_size = 5` beside `kernelSize`). Modules
 * and tensors pass: they register (or are kept) under the name given, as in PyTorch.
 */
function checkAttributeWrite(m: Module, name: string, value: unknown): void {
  if (value instanceof Module || value instanceof Tensor || name in m) return;
  const where = `${m._getName()}.${name}`;
  const slip = MODULE_SLIPS[name];
  if (slip !== undefined) throw new TypeError(`${where}: ${slip}`);
  const camel = snakeAlias(m, name);
  if (camel !== undefined) {
    throw new TypeError(
      `${where}: PyTorch's name for '${camel}'; assign ${camel} instead (this would add a property nothing reads)`,
    );
  }
}

function unregister(m: Module, name: string): void {
  m._parameters.delete(name);
  m._buffers.delete(name);
  m._nonPersistentBuffers.delete(name);
  m._modules.delete(name);
}

/** The traps every module uses. Members live only in the registries, so reads go through `get`. */
export const moduleProxyHandler: ProxyHandler<Module> = {
  get(target, prop, receiver) {
    if (typeof prop === 'string') {
      const v = lookupMember(target, prop);
      if (v !== NOT_FOUND) return v;
      // PyTorch's snake_case names read the camelCase attribute (`model.state_dict()`, `conv.in_channels`).
      if (prop.includes('_') && !(prop in target)) {
        const camel = snakeAlias(target, prop);
        if (camel !== undefined) return Reflect.get(target, camel, receiver);
      }
    }
    return Reflect.get(target, prop, receiver);
  },
  set(target, prop, value, receiver) {
    if (typeof prop === 'string') {
      if (assignMember(target, prop, value)) return true;
      checkAttributeWrite(target, prop, value);
    }
    return Reflect.set(target, prop, value, receiver);
  },
  defineProperty(target, prop, desc) {
    if (typeof prop === 'string' && 'value' in desc) {
      // A subclass's field declaration (`fc!: Linear`) defines `undefined` after super() ran:
      // it must not wipe a member the parent constructor registered.
      if (desc.value === undefined && isMember(target, prop)) return true;
      if (assignMember(target, prop, desc.value)) return true;
    }
    return Reflect.defineProperty(target, prop, desc);
  },
  deleteProperty(target, prop) {
    if (typeof prop === 'string') unregister(target, prop);
    return Reflect.deleteProperty(target, prop);
  },
  has(target, prop) {
    if (typeof prop !== 'string') return Reflect.has(target, prop);
    return isMember(target, prop) || Reflect.has(target, prop) || snakeAlias(target, prop) !== undefined;
  },
  ownKeys(target) {
    const keys = new Set<string | symbol>(Reflect.ownKeys(target));
    for (const map of [target._parameters, target._buffers, target._modules])
      for (const k of map.keys()) keys.add(k);
    return [...keys];
  },
  getOwnPropertyDescriptor(target, prop) {
    if (typeof prop === 'string') {
      const v = lookupMember(target, prop);
      if (v !== NOT_FOUND) return { value: v, writable: true, enumerable: true, configurable: true };
    }
    return Reflect.getOwnPropertyDescriptor(target, prop);
  },
};

const NAMED_MEMBERS_OPTIONS = ['prefix', 'recurse', 'removeDuplicate'];

/** `parameters(false)` or PyTorch's keyword spelled as an option, `parameters({ recurse: false })`. */
function recurseArg(where: string, recurse: boolean | { recurse?: boolean }): boolean {
  if (typeof recurse === 'boolean') return recurse;
  checkOptions(where, recurse, ['recurse']);
  return recurse?.recurse ?? true;
}

const DEVICES: readonly string[] = ['cpu', 'webgpu'];

/** `to('webgpu')` or `to({ device: 'webgpu' })`; anything else (a dtype, a typo) throws. */
function deviceArg(target: unknown): Device {
  let device = target;
  if (typeof target === 'object' && target !== null) {
    checkOptions('Module.to', target, ['device']);
    device = (target as { device?: unknown }).device;
  }
  if (typeof device !== 'string' || !DEVICES.includes(device)) {
    const got = typeof device === 'string' ? `'${device}'` : typeName(device);
    throw new TypeError(`Module.to: expected a device, 'cpu' or 'webgpu', got ${got}`);
  }
  return device as Device;
}

function checkMemberName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`${kind} name should be a string. Got ${typeName(name)}`);
  if (name.includes('.')) throw new Error(`${kind} name can't contain ".", got: ${name}`);
  if (name === '') throw new Error(`${kind} name can't be empty string ""`);
}

/**
 * Base class for all neural network modules, as torch.nn.Module. Assigning a `Parameter`, a
 * `Module` or (for a registered buffer name) a `Tensor` to a property registers it, in
 * assignment order; `forward` holds the computation and `call` runs it with hooks.
 *
 * ```ts
 * class Net extends Module {
 *   fc1 = new Linear(4, 8);
 *   fc2 = new Linear(8, 2);
 *   forward(x: Tensor): Tensor { return this.fc2.call(this.fc1.call(x).relu()); }
 * }
 * ```
 */
export class Module {
  /** True in training mode (the default), false after `eval()`. */
  declare training: boolean;
  /** @internal */ declare readonly _parameters: Map<string, Parameter | null>;
  /** @internal */ declare readonly _buffers: Map<string, Tensor | null>;
  /** @internal */ declare readonly _nonPersistentBuffers: Set<string>;
  /** @internal */ declare readonly _modules: Map<string, Module | null>;
  /** @internal */ declare readonly _forwardHooks: Map<number, ForwardHook<Module>>;
  /** @internal */ declare readonly _forwardPreHooks: Map<number, ForwardPreHook<Module>>;

  /** @internal The traps that route member assignment; containers add positional indexing. */
  static _proxyHandler: ProxyHandler<Module> = moduleProxyHandler;

  /**
   * PyTorch's `_version`: the state dict layout version written into `_metadata` (1; BatchNorm 2). A layer
   * that changes its state dict layout raises it and reads `localMetadata.version` when loading.
   */
  static version = 1;

  constructor() {
    const hidden = (name: string, value: unknown) =>
      Object.defineProperty(this, name, { value, writable: false, enumerable: false, configurable: false });
    hidden('_parameters', new Map());
    hidden('_buffers', new Map());
    hidden('_nonPersistentBuffers', new Set());
    hidden('_modules', new Map());
    hidden('_forwardHooks', new Map());
    hidden('_forwardPreHooks', new Map());
    this.training = true;
    const proxy = new Proxy(this, (new.target as typeof Module)._proxyHandler);
    rawOf.set(proxy, this);
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is what makes assignment register members
    return proxy;
  }

  /** The computation; subclasses override it. Call modules through `call` so hooks run. */
  forward(...inputs: unknown[]): unknown {
    void inputs;
    throw new Error(`Module [${this._getName()}] is missing the required "forward" function`);
  }

  /** Runs forward pre-hooks, `forward`, then forward hooks (PyTorch's `module(x)`). */
  call(...inputs: Parameters<this['forward']>): ReturnType<this['forward']> {
    let args: unknown[] = inputs;
    if (this._forwardPreHooks.size) {
      for (const hook of [...this._forwardPreHooks.values()]) {
        const r = hook(this, args);
        if (r !== undefined && r !== null) args = Array.isArray(r) ? r : [r];
      }
    }
    let out = (this.forward as (...a: unknown[]) => unknown).apply(this, args);
    if (this._forwardHooks.size) {
      for (const hook of [...this._forwardHooks.values()]) {
        const r = hook(this, args, out);
        if (r !== undefined && r !== null) out = r;
      }
    }
    return out as ReturnType<this['forward']>;
  }

  /** Registers `hook(module, inputs, output)` to run after every `call`. */
  registerForwardHook(hook: ForwardHook<this>): RemovableHandle {
    const handle = new RemovableHandle(this._forwardHooks);
    this._forwardHooks.set(handle.id, hook as ForwardHook<Module>);
    return handle;
  }

  /** Registers `hook(module, inputs)` to run before every `call`. */
  registerForwardPreHook(hook: ForwardPreHook<this>): RemovableHandle {
    const handle = new RemovableHandle(this._forwardPreHooks);
    this._forwardPreHooks.set(handle.id, hook as ForwardPreHook<Module>);
    return handle;
  }

  // ---- registration ----

  private attributeExists(name: string): boolean {
    if (isMember(this, name)) return true;
    return name in this && (this as unknown as Record<string, unknown>)[name] !== undefined;
  }

  /** Registers a parameter (or a `null` placeholder, like a missing bias) under `name`. */
  registerParameter(name: string, param: Parameter | null): void {
    checkMemberName('parameter', name);
    if (this.attributeExists(name) && !this._parameters.has(name))
      throw new Error(`attribute '${name}' already exists`);
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError(
        `cannot assign '${typeName(param)}' object to parameter '${name}' (Parameter or null required)`,
      );
    }
    if (param?.gradFn) throw new Error(`Cannot assign non-leaf Tensor to parameter '${name}'.`);
    Reflect.deleteProperty(raw(this), name);
    this._parameters.set(name, param);
  }

  /**
   * Registers a buffer: state that is not a parameter (BatchNorm's `running_mean`). Persistent
   * buffers are part of `stateDict()`. Assigning a Tensor to the name later replaces it in place.
   */
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): void {
    checkMemberName('buffer', name);
    if (this.attributeExists(name) && !this._buffers.has(name))
      throw new Error(`attribute '${name}' already exists`);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new TypeError(
        `cannot assign '${typeName(tensor)}' object to buffer '${name}' (Tensor or null required)`,
      );
    }
    Reflect.deleteProperty(raw(this), name);
    this._buffers.set(name, tensor);
    if (persistent) this._nonPersistentBuffers.delete(name);
    else this._nonPersistentBuffers.add(name);
  }

  /** Registers a child module under `name` (PyTorch's add_module / register_module). */
  registerModule(name: string, module: Module | null): void {
    if (module !== null && !(module instanceof Module))
      throw new TypeError(`${typeName(module)} is not a Module subclass`);
    checkMemberName('module', name);
    if (this.attributeExists(name) && !this._modules.has(name))
      throw new Error(`attribute '${name}' already exists`);
    Reflect.deleteProperty(raw(this), name);
    this._modules.set(name, module);
  }

  /** Alias of `registerModule`, PyTorch's older name. */
  addModule(name: string, module: Module | null): void {
    this.registerModule(name, module);
  }

  // ---- traversal ----

  /** This module and all descendants with dotted names (`''` for this one), each module once. */
  *namedModules(
    opts: { prefix?: string; removeDuplicate?: boolean; memo?: Set<Module> } = {},
  ): Generator<[string, Module]> {
    checkOptions('Module.namedModules', opts, ['prefix', 'removeDuplicate', 'memo']);
    const memo = opts.memo ?? new Set<Module>();
    const prefix = opts.prefix ?? '';
    const removeDuplicate = opts.removeDuplicate ?? true;
    if (memo.has(this)) return;
    if (removeDuplicate) memo.add(this);
    yield [prefix, this];
    for (const [name, m] of this._modules) {
      if (!m) continue;
      yield* m.namedModules({ memo, prefix: prefix ? `${prefix}.${name}` : name, removeDuplicate });
    }
  }

  /** This module and all descendants, depth first, each once. */
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Direct children with their names, each once. */
  *namedChildren(): Generator<[string, Module]> {
    const memo = new Set<Module>();
    for (const [name, m] of this._modules) {
      if (m && !memo.has(m)) {
        memo.add(m);
        yield [name, m];
      }
    }
  }

  /** Direct children, each once. */
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  private *namedMembers<T>(
    members: (m: Module) => Iterable<[string, T | null]>,
    opts: NamedMembersOptions,
  ): Generator<[string, T]> {
    const prefix = opts.prefix ?? '';
    const removeDuplicate = opts.removeDuplicate ?? true;
    const modules: Iterable<[string, Module]> =
      (opts.recurse ?? true) ? this.namedModules({ prefix, removeDuplicate }) : [[prefix, this]];
    const memo = new Set<T>();
    for (const [modulePrefix, module] of modules) {
      for (const [k, v] of members(module)) {
        if (v === null || memo.has(v)) continue;
        if (removeDuplicate) memo.add(v);
        yield [modulePrefix ? `${modulePrefix}.${k}` : k, v];
      }
    }
  }

  /** Parameters with PyTorch's dotted names (`layer1.0.conv1.weight`); shared ones once. */
  namedParameters(opts: NamedMembersOptions = {}): Generator<[string, Parameter]> {
    checkOptions('Module.namedParameters', opts, NAMED_MEMBERS_OPTIONS);
    return this.namedMembers((m) => m._parameters, opts);
  }

  /** All parameters (of descendants too, unless `recurse` is false), shared ones once. */
  *parameters(recurse: boolean | { recurse?: boolean } = true): Generator<Parameter> {
    for (const [, p] of this.namedParameters({ recurse: recurseArg('Module.parameters', recurse) })) yield p;
  }

  /** Buffers with dotted names, persistent or not. */
  namedBuffers(opts: NamedMembersOptions = {}): Generator<[string, Tensor]> {
    checkOptions('Module.namedBuffers', opts, NAMED_MEMBERS_OPTIONS);
    return this.namedMembers((m) => m._buffers, opts);
  }

  *buffers(recurse: boolean | { recurse?: boolean } = true): Generator<Tensor> {
    for (const [, b] of this.namedBuffers({ recurse: recurseArg('Module.buffers', recurse) })) yield b;
  }

  /** The descendant at a dotted path (`'layer1.0.conv1'`); `''` is this module. */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let mod: Module = this;
    for (const item of target.split('.')) {
      const next = mod._modules.get(item);
      if (!next) {
        if (next === undefined && !(item in mod))
          throw new Error(`${mod._getName()} has no attribute \`${item}\``);
        throw new Error(`\`${item}\` is not a Module`);
      }
      mod = next;
    }
    return mod;
  }

  /** The parameter at a dotted path (`'fc.weight'`). */
  getParameter(target: string): Parameter {
    const dot = target.lastIndexOf('.');
    const mod = this.getSubmodule(dot < 0 ? '' : target.slice(0, dot));
    const name = target.slice(dot + 1);
    const p = mod._parameters.get(name);
    if (!p) throw new Error(`${mod._getName()} has no parameter \`${name}\``);
    return p;
  }

  // ---- modes and bulk changes ----

  /** Sets training mode here and in all descendants (Dropout and BatchNorm depend on it). */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError('training mode is expected to be boolean');
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Sets `requiresGrad` on every parameter (freeze with `requiresGrad_(false)`). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Clears parameter gradients: sets them to null (default, as PyTorch 2) or zeroes them in place. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    checkOptions('Module.zeroGrad', opts, ['setToNone']);
    for (const p of this.parameters()) {
      const cur = p._peekGrad();
      if (!cur) continue;
      if (opts.setToNone ?? true) {
        p.grad = null;
      } else {
        const g = cur.gradFn ? cur.detach() : cur;
        if (g !== cur) p.grad = g;
        noGrad(() => g.zero_());
      }
    }
  }

  /** Calls `fn` on every descendant, then on this module (children first), like torch's apply. */
  apply(fn: (module: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Moves parameters (with their grads) and buffers to `device`. Parameters on another device are
   * replaced by new Parameter objects, so build optimizers after moving the model.
   */
  to(target: Device | { device: Device }): this {
    const device = deviceArg(target);
    const moved = new Map<Tensor, Tensor>();
    const move = (t: Tensor): Tensor => {
      let r = moved.get(t);
      if (!r) {
        r = noGrad(() => {
          // Parameters keep their identity (their storage moves, as `param.data = ...` in PyTorch), so an
          // optimizer built before the move still holds the live tensors.
          if (t instanceof Parameter) return t;
          return t.to(device);
        });
        moved.set(t, r);
      }
      return r;
    };
    // Compute every copy before touching the modules, so a failure leaves the model as it was.
    const mods = [...this.modules()];
    const plan: [Module, 'p' | 'b', string, Tensor][] = [];
    for (const m of mods) {
      for (const [k, p] of m._parameters) if (p && p.device !== device) plan.push([m, 'p', k, move(p)]);
      for (const [k, b] of m._buffers) if (b && b.device !== device) plan.push([m, 'b', k, move(b)]);
    }
    const targets = new Map<Tensor, Tensor>();
    for (const [, kind, , t] of plan) {
      if (kind === 'p' && !targets.has(t)) {
        targets.set(
          t,
          noGrad(() => t.to(device)),
        );
        if (t.grad)
          targets.set(
            t.grad,
            noGrad(() => t.grad!.to(device)),
          );
      }
    }
    for (const [m, kind, k, t] of plan) {
      if (kind === 'p') m._parameters.set(k, t as Parameter);
      else m._buffers.set(k, t);
    }
    noGrad(() => {
      for (const [t, moved] of targets) if (t.device !== device) t.set_(moved);
    });
    return this;
  }

  /** `to('cpu')`. */
  cpu(): this {
    return this.to('cpu');
  }

  // ---- state dict ----

  /** @internal Adds this module's own parameters and persistent buffers (PyTorch's _save_to_state_dict). */
  _saveToStateDict(destination: StateDict, prefix: string, keepVars: boolean): void {
    for (const [name, p] of this._parameters) if (p) destination[prefix + name] = keepVars ? p : p.detach();
    for (const [name, b] of this._buffers) {
      if (b && !this._nonPersistentBuffers.has(name)) destination[prefix + name] = keepVars ? b : b.detach();
    }
  }

  /**
   * Parameters and persistent buffers under PyTorch's keys, in registration order. Values share
   * storage with the module (detached unless `keepVars`). Like PyTorch's, it carries a non-enumerable
   * `_metadata` (`stateDictMetadata(sd)`): each module's prefix to `{ version }`, which checkpoint writers save
   * and `loadStateDict` reads. A `destination` without `_metadata` gets none, as in PyTorch.
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean; destination?: StateDict } = {}): StateDict {
    checkOptions('Module.stateDict', opts, ['prefix', 'keepVars', 'destination']);
    const destination = opts.destination ?? withEmptyMetadata({});
    const prefix = opts.prefix ?? '';
    const keepVars = opts.keepVars ?? false;
    const metadata = Object.getOwnPropertyDescriptor(destination, '_metadata')?.value as unknown;
    if (metadata instanceof Map)
      metadata.set(prefix.slice(0, -1), { version: (this.constructor as typeof Module).version });
    this._saveToStateDict(destination, prefix, keepVars);
    for (const [name, m] of this._modules) {
      if (m) m.stateDict({ destination, prefix: `${prefix}${name}.`, keepVars });
    }
    return destination;
  }

  /**
   * @internal Copies this module's own entries from `stateDict` (already narrowed to `prefix`),
   * collecting missing / unexpected keys and error messages like PyTorch's _load_from_state_dict.
   * `localMetadata` is this module's entry of the state dict's `_metadata` (`{}` when it has none).
   */
  _loadFromStateDict(
    stateDict: Map<string, unknown>,
    prefix: string,
    missingKeys: string[],
    unexpectedKeys: string[],
    errorMsgs: string[],
    localMetadata: ModuleMetadata = {},
  ): void {
    void localMetadata;
    const local = new Map<string, Tensor>();
    for (const [n, p] of this._parameters) if (p) local.set(n, p);
    for (const [n, b] of this._buffers) if (b && !this._nonPersistentBuffers.has(n)) local.set(n, b);
    for (const [name, param] of local) {
      const key = prefix + name;
      if (!stateDict.has(key)) {
        missingKeys.push(key);
        continue;
      }
      const value = stateDict.get(key);
      if (!(value instanceof Tensor)) {
        errorMsgs.push(
          `While copying the parameter named "${key}", expected torch.Tensor or Tensor-like object from checkpoint but received ${typeName(value)}`,
        );
        continue;
      }
      let input: Tensor = value;
      // Checkpoints from PyTorch 0.3 stored scalars as 1-element vectors.
      if (param.ndim === 0 && input.ndim === 1) input = input.select(0, 0);
      if (input.shape.length !== param.shape.length || input.shape.some((d, i) => d !== param.shape[i])) {
        errorMsgs.push(
          `size mismatch for ${key}: copying a param with shape ${torchSize(input.shape)} from checkpoint, ` +
            `the shape in current model is ${torchSize(param.shape)}.`,
        );
        continue;
      }
      const src = input;
      try {
        noGrad(() => param.copy_(src.device === param.device ? src : src.to(param.device)));
      } catch (e) {
        errorMsgs.push(
          `While copying the parameter named "${key}", whose dimensions in the model are ${torchSize(param.shape)} and ` +
            `whose dimensions in the checkpoint are ${torchSize(src.shape)}, an exception occurred : ${(e as Error).message}.`,
        );
      }
    }
    for (const key of stateDict.keys()) {
      if (!key.startsWith(prefix)) continue;
      const inputName = key.slice(prefix.length).split('.', 1)[0];
      if (!this._modules.has(inputName) && !local.has(inputName)) unexpectedKeys.push(key);
    }
  }

  /**
   * Copies a state dict into this module's parameters and buffers, as PyTorch's load_state_dict.
   * Strict (default): any missing or unexpected key throws a StateDictError listing all problems
   * at once. Non-strict: returns them. A shape mismatch throws in both modes; matching entries are
   * copied either way.
   */
  loadStateDict(
    stateDict: StateDict | Map<string, Tensor>,
    opts: { strict?: boolean } = {},
  ): IncompatibleKeys {
    checkOptions('Module.loadStateDict', opts, ['strict']);
    const strict = opts.strict ?? true;
    if (stateDict === null || typeof stateDict !== 'object' || stateDict instanceof Tensor) {
      throw new TypeError(`Expected state_dict to be dict-like, got ${typeName(stateDict)}.`);
    }
    const all = new Map<string, unknown>(stateDict instanceof Map ? stateDict : Object.entries(stateDict));
    const missingKeys: string[] = [];
    const unexpectedKeys: string[] = [];
    const errorMsgs: string[] = [];
    const metadata = stateDictMetadata(stateDict);
    const load = (module: Module, local: Map<string, unknown>, prefix: string) => {
      const localMetadata = metadata?.get(prefix.slice(0, -1)) ?? {};
      module._loadFromStateDict(local, prefix, missingKeys, unexpectedKeys, errorMsgs, localMetadata);
      for (const [name, child] of module._modules) {
        if (!child) continue;
        const childPrefix = `${prefix}${name}.`;
        const childDict = new Map<string, unknown>();
        for (const [k, v] of local) if (k.startsWith(childPrefix)) childDict.set(k, v);
        load(child, childDict, childPrefix);
      }
    };
    load(this, all, '');
    if (strict) {
      const quoted = (keys: string[]) => keys.map((k) => `"${k}"`).join(', ');
      if (unexpectedKeys.length)
        errorMsgs.unshift(`Unexpected key(s) in state_dict: ${quoted(unexpectedKeys)}. `);
      if (missingKeys.length) errorMsgs.unshift(`Missing key(s) in state_dict: ${quoted(missingKeys)}. `);
    }
    if (errorMsgs.length) {
      throw new StateDictError(
        `Error(s) in loading state_dict for ${this._getName()}:\n\t${errorMsgs.join('\n\t')}`,
        missingKeys,
        unexpectedKeys,
        errorMsgs,
      );
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing ----

  /** The class name shown in reprs. */
  _getName(): string {
    return this.constructor.name;
  }

  /** The text inside the parentheses of this module's repr (its options); '' by default. */
  extraRepr(): string {
    return '';
  }

  /** PyTorch's module repr: extraRepr() then the indented children, e.g. `Net(\n  (fc): Linear(...)\n)`. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = [...this._modules].map(
      ([key, m]) => `(${key}): ${addIndent(m === null ? 'None' : m.toString(), 2)}`,
    );
    const lines = [...extraLines, ...childLines];
    let s = `${this._getName()}(`;
    if (lines.length) {
      if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0];
      else s += `\n  ${lines.join('\n  ')}\n`;
    }
    return `${s})`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}
