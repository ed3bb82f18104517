// The Optimizer base: parameter groups filled from defaults, per-parameter state, PyTorch's state_dict layout.

import { checkOptions, enableGrad, noGrad, Tensor, unknownOptionMessage } from '@graft/tensor';
import { formatPythonValue, toCamelCase, toSnakeCase } from './python.js';

/** A hyperparameter value held by a parameter group (`betas` is a `[beta1, beta2]` pair). */
export type OptionValue = number | boolean | string | null | readonly number[];

/**
 * One parameter group: its parameters and the options the optimizer reads, with camelCase keys. Groups in
 * `optimizer.paramGroups` are live: write `group.lr` to change a rate, as schedulers do. PyTorch's spelling
 * reads and writes the same option (`group.weight_decay = 0.5` sets `weightDecay`); writing a key the group
 * does not have throws, so a slip cannot add an option that `step()` never reads.
 */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  /** The rate a scheduler started from (set by the first scheduler attached). */
  initialLr?: number;
  [option: string]: OptionValue | Tensor[] | undefined;
}

/** A group as a caller passes it: its parameters, plus options that override the optimizer's defaults. */
export type ParamGroupInput<O extends object = object> = {
  params: Iterable<Tensor> | Tensor;
} & O & { [key: string]: unknown };

/** What an optimizer is built from: parameters in a stable order, or a list of groups. */
export type ParamsInput<O extends object = object> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** One entry of a parameter's state (`momentum_buffer`, `exp_avg`, `step`, ...). */
export type StateValue = Tensor | number | boolean | null;

/** The state of one parameter, with PyTorch's snake_case keys. */
export type ParamState = Record<string, StateValue>;

/** A group inside a state dict: snake_case option names and `params` as positions. */
export interface ParamGroupData {
  params: number[];
  [option: string]: OptionValue | number[];
}

/**
 * `optimizer.stateDict()`, in PyTorch's layout. `state` is a plain object keyed by parameter positions written
 * as integer strings (`'0'`, `'1'`, ...): the int-keyed dict of `torch.optim`. Tensors in it are the live state
 * tensors (as in PyTorch); `loadStateDict` copies what it loads.
 */
export interface OptimizerStateDict {
  state: Record<string, ParamState>;
  param_groups: ParamGroupData[];
}

/**
 * What `loadStateDict` accepts: an `OptimizerStateDict`, or the same data as a checkpoint reader returns it
 * (`state` as a Map with number keys, tuples as frozen arrays).
 */
export interface OptimizerStateDictInput {
  state: Readonly<Record<string, Readonly<Record<string, unknown>>>> | ReadonlyMap<unknown, unknown>;
  param_groups: readonly unknown[];
}

/** Options of `zeroGrad`. */
export interface ZeroGradOptions {
  /** Drop gradients (`grad = null`) instead of filling them with zeros. Default true, as in PyTorch 2. */
  setToNone?: boolean;
}

/**
 * Keys that learning-rate schedulers add to a group (PyTorch's `initial_lr`, `max_lr`, ...), so a group may
 * hold them besides the optimizer's own options; a group passed in may give `initialLr` to resume a schedule.
 */
export const SCHEDULER_GROUP_KEYS: readonly string[] = [
  'initialLr',
  'maxLr',
  'minLr',
  'maxMomentum',
  'baseMomentum',
];

/** Keys a group may carry as a label (PyTorch keeps any extra key; `name` is the one users write). */
export const LABEL_GROUP_KEYS: readonly string[] = ['name'];

/** A default left out on purpose: every group must then give a value (SGD's `lr`). */
export const REQUIRED: unique symbol = Symbol('required');

type DefaultValue = OptionValue | typeof REQUIRED;

const inspect = Symbol.for('nodejs.util.inspect.custom');

// The main entry runs in browsers and Node alike; it warns through the global console.
declare const console: { warn(message: string): void };

/**
 * Base class of all optimizers, with `torch.optim.Optimizer`'s semantics: groups are filled from `defaults`,
 * a parameter may belong to one group only, `state` is keyed by parameter, and `stateDict()` swaps
 * parameters for their positions.
 */
export abstract class Optimizer<G extends ParamGroup = ParamGroup> {
  /** The optimizer's options after the constructor's overrides, camelCase, in PyTorch's order. */
  readonly defaults: Readonly<Record<string, OptionValue>>;
  /** The live groups: schedulers and users write `group.lr` and friends here. */
  readonly paramGroups: G[] = [];
  /** Per-parameter state, created lazily by `step()` (Adagrad fills it up front, as PyTorch does). */
  readonly state = new Map<Tensor, ParamState>();
  private readonly className: string;
  private readonly requiredOptions: ReadonlySet<string>;
  /** The keys a group may hold: the optimizer's options (required ones too), then those schedulers add. */
  private readonly groupKeys: readonly string[];

  protected constructor(
    className: string,
    params: ParamsInput<object>,
    defaults: Record<string, DefaultValue>,
    options: object,
  ) {
    this.className = className;
    this.groupKeys = [
      ...Object.keys(defaults),
      ...[...SCHEDULER_GROUP_KEYS, ...LABEL_GROUP_KEYS].filter((k) => !(k in defaults)),
    ];
    const merged: Record<string, DefaultValue> = { ...defaults };
    checkOptions(className, options, Object.keys(defaults));
    for (const [key, value] of Object.entries(options ?? {})) {
      if (value !== undefined) merged[key] = value as OptionValue;
    }
    this.requiredOptions = new Set(Object.keys(merged).filter((k) => merged[k] === REQUIRED));
    const filled: Record<string, OptionValue> = {};
    for (const [key, value] of Object.entries(merged)) if (value !== REQUIRED) filled[key] = value;
    this.validate(filled);
    this.defaults = filled;

    const groups = listParams(params);
    if (groups.length === 0) throw new Error('optimizer got an empty parameter list');
    if (groups[0] instanceof Tensor) {
      this.addParamGroup({ params: groups as Tensor[] });
    } else {
      for (const group of groups) this.addParamGroup(group as ParamGroupInput);
    }
  }

  /** Checks one group's options; throws PyTorch's message (`Invalid learning rate: -0.1`). */
  protected abstract validate(options: Readonly<Record<string, OptionValue>>): void;

  /** Updates the parameters of one group from their gradients; runs under `noGrad`. */
  protected abstract updateGroup(group: G): void;

  /** Fills state a parameter needs before its first step, when the optimizer keeps it up front (Adagrad). */
  protected initParamState(_param: Tensor, _group: G): void {}

  /** Brings loaded state to this optimizer's current layout (PyTorch's `__setstate__`). */
  protected upgradeState(_state: ParamState): void {}

  /**
   * Adds a group of parameters, filling options it leaves out from `defaults`. Useful when fine-tuning:
   * unfreeze a layer and add it with its own rate.
   */
  addParamGroup(group: ParamGroupInput<object>): void {
    if (group === null || typeof group !== 'object' || group instanceof Tensor || Array.isArray(group)) {
      throw new TypeError(`param group must be a dict (an object with 'params'), got ${typeName(group)}`);
    }
    const input = group as Record<string, unknown>;
    if (!('params' in input)) throw new TypeError("param group must have a 'params' entry");
    const params = groupParams(input.params);
    for (const p of params) {
      if (!(p instanceof Tensor)) {
        throw new TypeError(`optimizer can only optimize Tensors, but one of the params is ${typeName(p)}`);
      }
      if (!p.isLeaf && p.gradFn?.retained !== p) throw new Error("can't optimize a non-leaf Tensor");
    }

    checkOptions(`${this.className} parameter group`, input, ['params', ...this.groupKeys]);
    const built: Record<string, unknown> = { params };
    for (const [key, value] of Object.entries(input)) {
      if (key === 'params') continue;
      built[key] = Array.isArray(value) ? [...value] : value;
    }
    for (const name of this.requiredOptions) {
      if (built[name] === undefined) {
        throw new Error(`parameter group didn't specify a value of required optimization parameter ${name}`);
      }
    }
    for (const [key, value] of Object.entries(this.defaults)) {
      if (built[key] === undefined) built[key] = Array.isArray(value) ? [...value] : value;
    }
    this.validate(built as Record<string, OptionValue>);

    if (new Set(params).size !== params.length) {
      console.warn(
        'optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; ' +
          'see github.com/pytorch/pytorch/issues/40967 for more information',
      );
    }
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    if (params.some((p) => seen.has(p)))
      throw new Error('some parameters appear in more than one parameter group');

    const typed = this.liveGroup(built, this.paramGroups.length);
    this.paramGroups.push(typed);
    for (const p of params) this.initParamState(p, typed);
  }

  /** Wraps a group so that PyTorch's snake_case names alias its options and unknown keys throw. */
  private liveGroup(group: Record<string, unknown>, index: number): G {
    return new Proxy(group, groupHandler(`${this.className}.paramGroups[${index}]`, this.groupKeys)) as G;
  }

  /** Clears gradients: `grad = null` by default, or zero-filled with `{ setToNone: false }`. */
  zeroGrad(options: ZeroGradOptions = {}): void {
    checkOptions(`${this.className}.zeroGrad`, options, ['setToNone']);
    const setToNone = options?.setToNone ?? true;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const cur = p._peekGrad();
        if (cur === null) continue;
        if (setToNone) {
          p.grad = null;
        } else {
          const grad = cur.gradFn ? cur.detach() : cur;
          if (grad.requiresGrad) grad.requiresGrad = false;
          noGrad(() => grad.zero_());
          p.grad = grad;
        }
      }
    }
  }

  /**
   * Performs one update of every parameter that has a gradient (parameters whose `grad` is null, frozen
   * ones included, are skipped). `closure` re-evaluates the model and returns the loss, which `step` returns.
   */
  step(): undefined;
  step<T>(closure: () => T): T;
  step<T>(closure?: () => T): T | undefined {
    let loss: T | undefined;
    if (closure) {
      loss = enableGrad(closure);
      if (isThenable(loss)) {
        throw new Error(
          `${this.className}.step: the closure returned a Promise; step() is synchronous. Compute the loss ` +
            'synchronously (backward() needs no readback) and await readbacks outside the closure.',
        );
      }
    }
    noGrad(() => {
      for (const group of this.paramGroups) this.updateGroup(group);
    });
    return loss;
  }

  /** The state of `param`, created empty on first use (PyTorch's `defaultdict(dict)`). */
  protected stateOf(param: Tensor): ParamState {
    let s = this.state.get(param);
    if (!s) {
      s = {};
      this.state.set(param, s);
    }
    return s;
  }

  /**
   * The optimizer's state in PyTorch's layout: `{ state: { '0': { momentum_buffer }, ... }, param_groups:
   * [{ lr, momentum, ..., params: [0, 1] }] }`, with snake_case option names, so that it saves to a `.pth`
   * that `torch.optim` loads.
   */
  stateDict(): OptimizerStateDict {
    const positions = new Map<Tensor, number>();
    let start = 0;
    const groups = this.paramGroups.map((group) => {
      const packed: Record<string, OptionValue | number[]> = {};
      for (const [key, value] of Object.entries(group)) {
        if (key === 'params' || value === undefined) continue;
        // Tuples are frozen arrays, so a checkpoint writer can tell `betas` from a list.
        const option = value as OptionValue;
        packed[toSnakeCase(key)] = Array.isArray(option) ? Object.freeze([...option]) : option;
      }
      group.params.forEach((p, i) => {
        if (!positions.has(p)) positions.set(p, start + i);
      });
      packed.params = group.params.map((p) => positions.get(p)!);
      start += group.params.length;
      return packed as ParamGroupData;
    });
    const state: Record<string, ParamState> = {};
    for (const [param, s] of this.state) {
      const i = positions.get(param);
      if (i !== undefined) state[String(i)] = { ...s };
    }
    return { state, param_groups: groups };
  }

  /**
   * Loads a state dict from `stateDict()` or from PyTorch (same group count and sizes). Tensors are copied and
   * cast to their parameter's dtype and device, except `step` counters; group options are replaced.
   */
  loadStateDict(stateDict: OptimizerStateDictInput): void {
    if (stateDict === null || typeof stateDict !== 'object' || !Array.isArray(stateDict.param_groups)) {
      throw new Error(
        "loadStateDict: expected an object with 'state' and 'param_groups' (an optimizer state dict)",
      );
    }
    const saved = stateDict.param_groups.map((g, i) => {
      if (g === null || typeof g !== 'object' || !Array.isArray((g as { params?: unknown }).params)) {
        throw new Error(`loadStateDict: param_groups[${i}] has no 'params' list`);
      }
      return g as Record<string, unknown> & { params: unknown[] };
    });
    if (saved.length !== this.paramGroups.length) {
      throw new Error(
        'loaded state dict has a different number of parameter groups ' +
          `(optimizer: ${this.paramGroups.length}, state dict: ${saved.length})`,
      );
    }
    saved.forEach((g, i) => {
      const mine = this.paramGroups[i].params.length;
      if (g.params.length !== mine) {
        throw new Error(
          "loaded state dict contains a parameter group that doesn't match the size of optimizer's group " +
            `(group ${i}: optimizer has ${mine} parameters, state dict has ${g.params.length})`,
        );
      }
    });

    const byPosition = new Map<number, Tensor>();
    saved.forEach((g, gi) => {
      g.params.forEach((position, i) => {
        byPosition.set(Number(position), this.paramGroups[gi].params[i]);
      });
    });

    const entries: [unknown, unknown][] =
      stateDict.state instanceof Map ? [...stateDict.state.entries()] : Object.entries(stateDict.state ?? {});
    const loaded = new Map<Tensor, ParamState>();
    for (const [key, value] of entries) {
      const param = byPosition.get(Number(key));
      if (param === undefined) continue; // state of no parameter here: PyTorch keeps it unused
      if (value === null || typeof value !== 'object') {
        throw new Error(
          `loadStateDict: state for parameter ${String(key)} must be a dict, got ${typeName(value)}`,
        );
      }
      const s: ParamState = {};
      const fields = value instanceof Map ? [...value.entries()] : Object.entries(value);
      for (const [name, v] of fields) s[String(name)] = copyStateValue(param, String(name), v, key);
      this.upgradeState(s);
      loaded.set(param, s);
    }

    const groups = saved.map((g, gi) => {
      const group: Record<string, unknown> = { params: this.paramGroups[gi].params };
      for (const [key, value] of Object.entries(g)) {
        if (key === 'params') continue;
        group[toCamelCase(key)] = copyOption(value, key);
      }
      // Options this optimizer has that an older checkpoint lacks (PyTorch's __setstate__ setdefaults).
      for (const [key, value] of Object.entries(this.defaults)) {
        if (group[key] === undefined) group[key] = Array.isArray(value) ? [...value] : value;
      }
      return this.liveGroup(group, gi);
    });

    this.state.clear();
    for (const [p, s] of loaded) this.state.set(p, s);
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
  }

  /** PyTorch's printout: `SGD (\nParameter Group 0\n    dampening: 0\n ...)`, options sorted by name. */
  toString(): string {
    let out = `${this.className} (`;
    this.paramGroups.forEach((group, i) => {
      out += `\nParameter Group ${i}\n`;
      const entries = Object.entries(group)
        .filter(([key, value]) => key !== 'params' && value !== undefined)
        .map(([key, value]): [string, unknown] => [toSnakeCase(key), value])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [key, value] of entries) out += `    ${key}: ${formatPythonValue(value, key)}\n`;
    });
    return `${out})`;
  }

  [inspect](): string {
    return this.toString();
  }
}

/**
 * PyTorch's snake_case names on an optimizer act as the camelCase ones (`opt.param_groups[0]['lr'] = x`,
 * `opt.zero_grad()`, `opt.state_dict()`). Left out of the TypeScript types on purpose: there, the camelCase
 * name is the API.
 */
const SNAKE_CASE_ALIASES: Record<string, string> = {
  param_groups: 'paramGroups',
  zero_grad: 'zeroGrad',
  state_dict: 'stateDict',
  load_state_dict: 'loadStateDict',
  add_param_group: 'addParamGroup',
};
defineSnakeCaseAliases(Optimizer.prototype, 'Optimizer', SNAKE_CASE_ALIASES);

/**
 * Defines PyTorch's snake_case names on `proto` as read-only aliases of the camelCase members (methods
 * come bound); assigning one throws, naming the class and the camelCase name.
 */
export function defineSnakeCaseAliases(
  proto: object,
  className: string,
  aliases: Record<string, string>,
): void {
  for (const [snake, camel] of Object.entries(aliases)) {
    Object.defineProperty(proto, snake, {
      configurable: true,
      enumerable: false,
      get(this: object) {
        const value = (this as Record<string, unknown>)[camel];
        return typeof value === 'function' ? value.bind(this) : value;
      },
      set() {
        throw new TypeError(`${className}.${snake} (${camel} in graft) cannot be assigned`);
      },
    });
  }
}

// ---- helpers shared by the optimizers ----

/** Throws PyTorch's `Invalid ... value` error unless `value >= 0`. */
export function checkNonNegative(value: unknown, what: string): void {
  if (typeof value !== 'number' || !(value >= 0))
    throw new Error(`Invalid ${what}: ${formatPythonValue(value)}`);
}

/**
 * The traps of a live group. Its own keys are camelCase and are what `step()`, `String(optimizer)` and
 * `stateDict()` read, so a snake_case name is resolved to the own key it spells (PyTorch's
 * `group['weight_decay']`) rather than stored beside it; a key that is neither an own key nor one a scheduler
 * may add throws, naming the closest.
 */
function groupHandler(where: string, optionNames: readonly string[]): ProxyHandler<Record<string, unknown>> {
  const resolve = (target: Record<string, unknown>, prop: string): string | undefined => {
    if (Object.hasOwn(target, prop)) return prop;
    const camel = toCamelCase(prop);
    if (Object.hasOwn(target, camel)) return camel;
    if (optionNames.includes(camel)) return camel;
    return undefined;
  };
  const refuse = (target: Record<string, unknown>, prop: string): never => {
    const known = [...Object.keys(target), ...optionNames.filter((k) => !Object.hasOwn(target, k))];
    throw new TypeError(unknownOptionMessage(where, prop, known));
  };
  return {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && !(prop in target)) {
        const key = resolve(target, prop);
        if (key !== undefined) return target[key];
      }
      return Reflect.get(target, prop, receiver);
    },
    set(target, prop, value) {
      if (typeof prop !== 'string') return Reflect.set(target, prop, value);
      const key = resolve(target, prop) ?? refuse(target, prop);
      if (key === 'params') target.params = groupParams(value);
      else target[key] = value;
      return true;
    },
    defineProperty(target, prop, descriptor) {
      if (typeof prop !== 'string') return Reflect.defineProperty(target, prop, descriptor);
      return Reflect.defineProperty(target, resolve(target, prop) ?? refuse(target, prop), descriptor);
    },
    deleteProperty(target, prop) {
      if (typeof prop !== 'string') return Reflect.deleteProperty(target, prop);
      const key = resolve(target, prop) ?? prop;
      if (
        key === 'params' ||
        (optionNames.includes(key) && !SCHEDULER_GROUP_KEYS.includes(key) && !LABEL_GROUP_KEYS.includes(key))
      ) {
        throw new TypeError(`${where}: cannot delete '${prop}': step() reads it`);
      }
      return Reflect.deleteProperty(target, key);
    },
    has(target, prop) {
      if (typeof prop !== 'string') return Reflect.has(target, prop);
      const key = resolve(target, prop);
      return (key !== undefined && Object.hasOwn(target, key)) || Reflect.has(target, prop);
    },
  };
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (Array.isArray(x)) return 'Array';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'Object';
  return typeof x;
}

function isThenable(x: unknown): boolean {
  return x !== null && typeof x === 'object' && typeof (x as { then?: unknown }).then === 'function';
}

function listParams(params: unknown): unknown[] {
  const prefix = 'params argument given to the optimizer should be an iterable of Tensors or dicts, but got ';
  if (params instanceof Tensor) throw new TypeError(`${prefix}Tensor`);
  // A Set's order is its insertion order here, but PyTorch refuses sets (their order is not stable in
  // Python) and checkpoints index parameters by position, so graft refuses them too.
  if (params instanceof Set) throw new TypeError(`${prefix}Set (sets have no stable order; pass an array)`);
  if (
    params === null ||
    typeof params !== 'object' ||
    typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(prefix + typeName(params));
  }
  return [...(params as Iterable<unknown>)];
}

function groupParams(params: unknown): Tensor[] {
  if (params instanceof Tensor) return [params];
  if (params instanceof Set) {
    throw new TypeError(
      'optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets ' +
        'will change between runs. Please use a list instead.',
    );
  }
  if (
    params === null ||
    typeof params !== 'object' ||
    typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(
      `param group 'params' must be a Tensor or an iterable of Tensors, got ${typeName(params)}`,
    );
  }
  return [...(params as Iterable<Tensor>)];
}

/** A deep copy of one loaded state value, cast like PyTorch's load_state_dict (`step` keeps dtype and device). */
function copyStateValue(param: Tensor, name: string, value: unknown, position: unknown): StateValue {
  if (value instanceof Tensor) {
    return noGrad(() => {
      const detached = value.detach();
      let v = detached;
      if (name !== 'step') {
        if (param.isFloatingPoint()) v = v.to(param.dtype);
        v = v.to(param.device);
      }
      return v === detached ? v.clone() : v;
    });
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf() === 'number') {
    return (value as { valueOf(): number }).valueOf(); // a boxed float from a checkpoint reader
  }
  throw new Error(
    `loadStateDict: unsupported value for state '${name}' of parameter ${String(position)}: ${typeName(value)}`,
  );
}

function copyOption(value: unknown, key: string): OptionValue {
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'string'
  ) {
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => Number(v));
  if (typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf() === 'number') {
    return (value as { valueOf(): number }).valueOf();
  }
  throw new Error(`loadStateDict: unsupported value for group option '${key}': ${typeName(value)}`);
}
