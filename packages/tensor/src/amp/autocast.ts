// Automatic mixed precision, PyTorch's `torch.autocast`: inside `autocast(device, fn)` the ops of the
// "lower precision" list (matmul, linear, conv) run in float16 and those of the "float32" list (exp,
// log, softmax, losses, sums, norms) in float32; the rest run in the types they get. An op opts in with
// one line where it is defined, `if (autocastActive()) return autocastCall(policy, op, [args])`, which
// casts the operands and runs the op with autocast off, so its insides are not cast again (PyTorch's
// autocast dispatch key); unary ops of the float32 list are cast in applyUnary (ops/elementwise.ts).

import { type DType, isFloating } from '../dtype.js';
import { checkOptions } from '../options.js';
import { Tensor } from '../tensor.js';

/** Devices autocast covers: 'webgpu' (PyTorch's 'cuda' lists, float16) and 'cpu' (bfloat16 by default). */
export type AutocastDevice = 'webgpu' | 'cpu';

/** Options of `autocast`, as torch.autocast's keyword arguments. */
export interface AutocastOptions {
  /** The lower precision dtype: 'float16' (default on webgpu) or 'bfloat16' (default on cpu). */
  dtype?: 'float16' | 'bfloat16';
  /** False turns autocast off inside `fn` (to force float32 in a region of an autocast region). */
  enabled?: boolean;
  /** Cache the casts of parameters (leaves requiring grad) for the region (default true). */
  cacheEnabled?: boolean;
}

/**
 * How an op's tensor operands are cast under autocast:
 * - 'lower': float32 operands on the device to the autocast dtype (matmul, linear, conv);
 * - 'float32': float16/bfloat16 operands on the device to float32 (exp, log, softmax, losses, sum);
 * - a function of the arguments and `like`, which casts a float tensor to the first operand's dtype when
 *   that is the autocast dtype (batch norm's float32 affine parameters where its composed ops would
 *   otherwise promote a float16 activation back to float32; ops/norm.ts).
 */
export type AutocastPolicy = 'lower' | 'float32' | ((args: unknown[], like: <T>(t: T) => T) => unknown[]);

interface AutocastState {
  device: AutocastDevice;
  dtype: DType;
  /** Casts of leaves requiring grad (parameters), reused until the outermost region ends. */
  cache: Map<Tensor, Tensor> | null;
}

let active: AutocastState | null = null;

/** torch.is_autocast_enabled(device): whether ops on `device` are autocast here. */
export function isAutocastEnabled(device: AutocastDevice = 'webgpu'): boolean {
  return active !== null && active.device === device;
}

/** The dtype ops of the lower precision list run in on `device` (torch.get_autocast_dtype). */
export function getAutocastDtype(device: AutocastDevice = 'webgpu'): DType {
  return active?.device === device ? active.dtype : device === 'cpu' ? 'bfloat16' : 'float16';
}

function withState<T>(state: AutocastState | null, fn: () => T): T {
  const outer = active;
  active = state;
  try {
    const out = fn();
    if (out instanceof Promise) {
      throw new Error(
        'autocast: the function returned a Promise; autocast covers synchronous code only (the ops of a ' +
          'forward pass need no await): run the async parts outside, or await inside a synchronous callback',
      );
    }
    return out;
  } finally {
    active = outer;
  }
}

const AUTOCAST_OPTIONS = ['dtype', 'enabled', 'cacheEnabled'];

/**
 * torch.autocast(device_type, dtype, enabled, cache_enabled) around `fn`: matmul, linear and conv run
 * in float16 on `device`, precision-sensitive ops in float32, returning what `fn` returns. Call
 * `backward()` after it, outside (as PyTorch recommends); backward ops run in the forward ops' dtypes.
 *
 * ```ts
 * const loss = autocast('webgpu', () => F.crossEntropy(model.forward(x), y));
 * ```
 */
export function autocast<T>(device: AutocastDevice, fn: () => T, opts: AutocastOptions = {}): T {
  const o = opts;
  checkOptions('autocast', o, AUTOCAST_OPTIONS);
  if (device !== 'webgpu' && device !== 'cpu') {
    throw new Error(`autocast: expected device 'webgpu' or 'cpu', got '${String(device)}'`);
  }
  const dtype = o.dtype ?? (device === 'cpu' ? 'bfloat16' : 'float16');
  if (dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new Error(`autocast: dtype must be 'float16' or 'bfloat16', got '${String(dtype)}'`);
  }
  if (o.enabled === false) return withState(active?.device === device ? null : active, fn);
  const cache = o.cacheEnabled === false ? null : (active?.cache ?? new Map<Tensor, Tensor>());
  return withState({ device, dtype, cache }, fn);
}

/** Runs `fn` with autocast off (what `autocast(device, fn, { enabled: false })` does for any device). */
export function withoutAutocast<T>(fn: () => T): T {
  return active === null ? fn() : withState(null, fn);
}

/** Whether autocast casts `t` (a floating tensor on the autocast device; float64 never, as PyTorch). */
function eligible(t: unknown, state: AutocastState): t is Tensor {
  return t instanceof Tensor && t.device === state.device && isFloating(t.dtype) && t.dtype !== 'float64';
}

function castTo(t: Tensor, dtype: DType, state: AutocastState): Tensor {
  if (t.dtype === dtype) return t;
  // A parameter cast once per region: a network that uses a weight twice casts it once.
  const cacheable = state.cache !== null && t.requiresGrad && t.gradFn === null && dtype === state.dtype;
  const hit = cacheable ? state.cache?.get(t) : undefined;
  if (hit) return hit;
  const out = t.to(dtype);
  if (cacheable) state.cache?.set(t, out);
  return out;
}

function castArgs(policy: AutocastPolicy, args: unknown[], state: AutocastState): unknown[] {
  if (typeof policy === 'function') {
    const first = args[0];
    const lower = eligible(first, state) && first.dtype === state.dtype;
    const like = <T>(t: T): T => (lower && eligible(t, state) ? (castTo(t, state.dtype, state) as T) : t);
    return policy(args, like);
  }
  return args.map((a) => {
    if (!eligible(a, state)) return a;
    if (policy === 'lower') return a.dtype === 'float32' ? castTo(a, state.dtype, state) : a;
    return castTo(a, 'float32', state);
  });
}

/** True inside an autocast region: ops check this first and call `autocastCall` only then. */
export function autocastActive(): boolean {
  return active !== null;
}

/**
 * Runs op `fn` on `args` cast by `policy`, with autocast off inside (so the op's own insides are not
 * cast again, as PyTorch's autocast dispatch key does). Ops open with
 * `if (autocastActive()) return autocastCall(policy, op, [args]);`.
 */
export function autocastCall<A extends unknown[], R>(
  policy: AutocastPolicy,
  fn: (...args: A) => R,
  args: A,
): R {
  const state = active;
  if (state === null) return fn(...args);
  const cast = castArgs(policy, args, state) as A;
  return withState(null, () => fn(...cast));
}

/** The unary ops of PyTorch's autocast float32 list (the table's names). */
const FLOAT32_UNARY = new Set([
  'exp',
  'log',
  'log1p',
  'log2',
  'expm1',
  'reciprocal',
  'rsqrt',
  'tan',
  'asin',
  'acos',
  'sinh',
  'cosh',
]);

/** `x` as a unary op of the float32 list gets it under autocast (float32), else `x`. */
export function autocastUnary(op: string, x: Tensor): Tensor {
  const state = active;
  if (state === null || !FLOAT32_UNARY.has(op) || !eligible(x, state)) return x;
  return castTo(x, 'float32', state);
}
