// Elementwise ops (binary, where, clamp, casts, and the runner of the unary table) with their gradients,
// and in-place semantics.

import { autocastUnary } from '../amp/autocast.js';
import { isGradEnabled, noGrad, record, relabel } from '../autograd.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import { type DType, isFloating } from '../dtype.js';
import { defaultGenerator, type Generator } from '../random.js';
import { rawViewSync } from '../raw-view.js';
import { findKernel } from '../registry.js';
import { broadcastShapes, fmtShape, numelOf, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import {
  backendOf,
  broadcastOf,
  broadcastView,
  operands,
  scalarTensor,
  sumToShape,
  typeName,
  wrap,
} from './core.js';
import { unaryDef } from './unary.js';
import { restride } from './view.js';

export function withoutGrad<T>(fn: () => T): T {
  return noGrad(fn);
}

/** Raw binary kernel call: broadcast, promote, no graph. */
function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor | number, outDtype?: (d: DType) => DType): Tensor {
  const [x, y, dtype] = operands(a, b, op);
  const shape = broadcastOf(x, y, op);
  const out = outDtype ? outDtype(dtype) : dtype;
  const r = wrap(backendOf(x).binary(op, broadcastView(x, shape), broadcastView(y, shape), out), shape, out);
  // A number operand became a 0-d tensor for the kernel only: free it now, not at the next collection.
  if (y !== b) y.dispose();
  return r;
}

function unaryRaw(op: UnaryOp, x: Tensor, outDtype: DType = x.dtype): Tensor {
  return wrap(backendOf(x).unary(op, x._view, outDtype), x.shape, outDtype);
}

/** Float-valued ops promote integer inputs to float32, as PyTorch does. */
function floatOut(d: DType): DType {
  return isFloating(d) ? d : 'float32';
}

const isT = (x: Tensor | number): x is Tensor => x instanceof Tensor;

export function add(a: Tensor, b: Tensor | number, alpha = 1): Tensor {
  const bb = alpha === 1 ? b : isT(b) ? mul(b, alpha) : b * alpha;
  const out = binaryRaw('add', a, bb);
  return record('AddBackward0', out, [a, isT(bb) ? bb : null], (g) => [
    sumToShape(g, a.shape),
    isT(bb) ? sumToShape(g, bb.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor | number, alpha = 1): Tensor {
  const bb = alpha === 1 ? b : isT(b) ? mul(b, alpha) : b * alpha;
  const out = binaryRaw('sub', a, bb);
  return record('SubBackward0', out, [a, isT(bb) ? bb : null], (g) => [
    sumToShape(g, a.shape),
    isT(bb) ? sumToShape(neg(g), bb.shape) : null,
  ]);
}

/** `number - tensor` (Python's rsub). */
export function rsub(a: Tensor, b: number): Tensor {
  return add(neg(a), b);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  const out = binaryRaw('mul', a, b);
  if (!isT(b)) return record('MulBackward0', out, [a], (g) => [mul(g, b)]);
  return record(
    'MulBackward0',
    out,
    [a, b],
    (g) => [
      a.requiresGrad ? sumToShape(mul(g, b), a.shape) : null,
      b.requiresGrad ? sumToShape(mul(g, a), b.shape) : null,
    ],
    [a, b],
  );
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  const out = binaryRaw('div', a, b, floatOut);
  if (!isT(b)) return record('DivBackward0', out, [a], (g) => [div(g, b)]);
  return record(
    'DivBackward0',
    out,
    [a, b],
    (g) => [
      a.requiresGrad ? sumToShape(div(g, b), a.shape) : null,
      b.requiresGrad ? sumToShape(neg(div(mul(g, a), mul(b, b))), b.shape) : null,
    ],
    [a, b],
  );
}

export function pow(a: Tensor, e: Tensor | number): Tensor {
  if (!isT(e)) {
    const out = binaryRaw('pow', a, e, (d) => (Number.isInteger(e) && e >= 0 ? d : floatOut(d)));
    return record('PowBackward0', out, [a], (g) => [e === 0 ? mul(g, 0) : mul(g, mul(pow(a, e - 1), e))], [
      a,
    ]);
  }
  const out = binaryRaw('pow', a, e);
  return record(
    'PowBackward1',
    out,
    [a, e],
    (g) => [
      a.requiresGrad ? sumToShape(mul(g, mul(e, pow(a, sub(e, 1)))), a.shape) : null,
      // d/de a^e = a^e * log(a); PyTorch masks a == 0 (and e >= 0) to 0 instead of NaN.
      e.requiresGrad ? sumToShape(mul(g, where(a.eq(0), 0, mul(out, log(a)))), e.shape) : null,
    ],
    [a, e, out],
  );
}

export function maximum(a: Tensor, b: Tensor): Tensor {
  return minmax('maximum', a, b);
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  return minmax('minimum', a, b);
}

function minmax(op: 'maximum' | 'minimum', a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw(op, a, b);
  const name = op === 'maximum' ? 'MaximumBackward0' : 'MinimumBackward0';
  return record(
    name,
    out,
    [a, b],
    (g) => {
      // Ties share the gradient equally, as in PyTorch.
      const aWins = op === 'maximum' ? a.gt(b) : a.lt(b);
      const tie = a.eq(b);
      const wa = add(aWins.to(g.dtype), mul(tie.to(g.dtype), 0.5));
      const ga = mul(g, wa);
      return [
        a.requiresGrad ? sumToShape(ga, a.shape) : null,
        b.requiresGrad ? sumToShape(sub(g, ga), b.shape) : null,
      ];
    },
    [a, b],
  );
}

/**
 * Runs a unary op of the table (ops/unary.ts): the backend's kernel for the forward, the entry's
 * backward (or its named fast kernel where the backend has one) recorded under PyTorch's grad_fn name.
 */
export function applyUnary(op: UnaryOp, x: Tensor): Tensor {
  const xa = autocastUnary(op, x);
  if (xa !== x) return applyUnary(op, xa);
  const def = unaryDef(op);
  if (!isT(x)) throw new Error(`${def.torch}: expected a Tensor, got ${typeName(x)}`);
  if (def.noBool && x.dtype === 'bool') throw new Error(def.noBool);
  const outDtype = def.dtype === 'bool' ? 'bool' : def.dtype === 'float' ? floatOut(x.dtype) : x.dtype;
  const out = unaryRaw(op, x, outDtype);
  const backward = def.backward;
  if (!def.gradFn || !backward) return out;
  const saves = def.saves ?? [];
  const fast = def.fastBackward;
  return record(
    def.gradFn,
    out,
    [x],
    (g) => {
      const kernel = fast && findKernel(backendOf(g), fast);
      if (kernel && g.dtype === out.dtype && (g.dtype === 'float32' || g.dtype === 'float64'))
        return [wrap(kernel(g.contiguous()._view, out.contiguous()._view), g.shape, g.dtype)];
      return [backward(g, x, out)];
    },
    saves.map((s) => (s === 'x' ? x : out)),
  );
}

export function neg(x: Tensor): Tensor {
  return applyUnary('neg', x);
}

export function exp(x: Tensor): Tensor {
  return applyUnary('exp', x);
}

export function log(x: Tensor): Tensor {
  return applyUnary('log', x);
}

export function sqrt(x: Tensor): Tensor {
  return applyUnary('sqrt', x);
}

export function gelu(x: Tensor, approximate: 'none' | 'tanh'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new Error(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  const out = unaryRaw(approximate === 'none' ? 'gelu' : 'geluTanh', x, floatOut(x.dtype));
  return record(
    'GeluBackward0',
    out,
    [x],
    (g) => {
      if (approximate === 'none') {
        // Phi(x) + x * phi(x)
        const cdf = mul(add(unaryRaw('erf', mul(x, Math.SQRT1_2)), 1), 0.5);
        const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return [mul(g, add(cdf, mul(x, pdf)))];
      }
      const k = Math.sqrt(2 / Math.PI);
      const inner = mul(add(x, mul(pow(x, 3), 0.044715)), k);
      const t = unaryRaw('tanh', inner);
      const dinner = mul(add(mul(mul(x, x), 3 * 0.044715), 1), k);
      const d = add(mul(add(t, 1), 0.5), mul(mul(mul(x, rsub(mul(t, t), 1)), dinner), 0.5));
      return [mul(g, d)];
    },
    [x],
  );
}

/** clamp with PyTorch's gradient: passes where min <= x <= max. */
export function clamp(x: Tensor, min: number | null, max: number | null): Tensor {
  if (min === null && max === null) throw new Error("clamp: at least one of 'min' or 'max' must not be null");
  let out = x;
  noGrad(() => {
    if (min !== null) out = binaryRaw('maximum', out, min);
    if (max !== null) out = binaryRaw('minimum', out, max);
  });
  if (out === x) out = x.clone();
  return record(
    'ClampBackward1',
    out,
    [x],
    (g) => {
      let mask = x.eq(x); // NaN inputs get no gradient, as (x >= min) is false for them in PyTorch
      if (min !== null) mask = mask.logicalAnd(x.ge(min));
      if (max !== null) mask = mask.logicalAnd(x.le(max));
      return [mul(g, mask.to(g.dtype))];
    },
    [x],
  );
}

export function compare(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
  return binaryRaw(op, a, b, () => 'bool');
}

export function binaryNoGrad(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
  return binaryRaw(op, a, b);
}

/** where(condition, a, b) with broadcasting over all three. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (cond.dtype !== 'bool')
    throw new Error(`where: expected condition to be a bool tensor, got ${cond.dtype}`);
  const aT = isT(a) ? a : null;
  const bT = isT(b) ? b : null;
  const ref = aT ?? bT ?? cond;
  const dtype: DType =
    aT && bT
      ? operands(aT, bT, 'where')[2]
      : aT
        ? aT.dtype
        : bT
          ? bT.dtype
          : Number.isInteger(a) && Number.isInteger(b)
            ? 'int64'
            : 'float32';
  const at = aT ?? scalarTensor(a as number, dtype, ref);
  const bt = bT ?? scalarTensor(b as number, dtype, ref);
  const shape = broadcastShapes(broadcastShapes(cond.shape, at.shape, 'where'), bt.shape, 'where');
  const out = wrap(
    backendOf(cond).where(
      broadcastView(cond, shape),
      broadcastView(at, shape),
      broadcastView(bt, shape),
      dtype,
    ),
    shape,
    dtype,
  );
  if (!aT) at.dispose();
  if (!bT) bt.dispose();
  return record(
    'WhereBackward0',
    out,
    [aT, bT],
    (g) => [
      aT?.requiresGrad ? sumToShape(where(cond, g, 0), aT.shape) : null,
      bT?.requiresGrad ? sumToShape(where(cond, 0, g), bT.shape) : null,
    ],
    [cond],
  );
}

/** Cast to another dtype; gradients flow back cast to the input's dtype. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return x;
  const out = wrap(backendOf(x).copy(x._view, dtype), x.shape, dtype);
  if (!isFloating(dtype)) return out;
  return record('ToCopyBackward0', out, [x], (g) => [cast(g, x.dtype)]);
}

export function onesLikeRaw(x: Tensor): Tensor {
  return wrap(backendOf(x).fill(x.dtype, x.numel(), 1), x.shape, x.dtype);
}

export function fullLikeRaw(x: Tensor, value: number): Tensor {
  return wrap(backendOf(x).fill(x.dtype, x.numel(), value), x.shape, x.dtype);
}

/** `src` broadcast to x's shape and cast to x's dtype (the value copy_ writes). */
export function copyLike(x: Tensor, src: Tensor): Tensor {
  if (!isT(src)) throw new Error('copy_: expected a Tensor as the source');
  broadcastOf(x, src, 'copy_');
  const expanded = src.expand(x.shape);
  const out = cast(expanded.contiguous(), x.dtype);
  return out === expanded ? expanded.clone() : out;
}

/**
 * `self.copy_(src)` straight into self's storage, with no copy of src in between, where nothing can go
 * wrong that the general path guards against: no autograd, both on the CPU with the same dtype, src
 * broadcasting to self's shape, and separate storages (so no element is read after it was written).
 * False where the general path must run.
 */
export function copyDirect(self: Tensor, src: Tensor): boolean {
  if (!isT(src) || (isGradEnabled() && (self.requiresGrad || src.requiresGrad))) return false;
  if (self.device !== 'cpu' || src.device !== 'cpu' || src.dtype !== self.dtype) return false;
  if (src._ref.storage === self._ref.storage || numelOf(self.shape) === 0) return false;
  // Shapes that do not broadcast throw here as on the general path (copyLike); a source that would
  // widen self leaves it to that path's error.
  if (!sameShape(broadcastOf(self, src, 'copy_'), self.shape)) return false;
  backendOf(self).assign(self._view, broadcastView(src, self.shape));
  self._ref.version++;
  return true;
}

/** Random values shaped like x, drawn on the host from a seeded generator. */
export function randomLike(
  x: Tensor,
  kind: 'uniform' | 'normal',
  a: number,
  b: number,
  gen?: Generator,
): Tensor {
  const g = gen ?? defaultGenerator;
  const n = x.numel();
  // float64 tensors get float64 draws; everything else is drawn in float32 and cast.
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  if (kind === 'uniform') g.fillUniform(data, a, b);
  else g.fillNormal(data, a, b);
  const t = wrap(backendOf(x).fromArray(data, dtype), x.shape, dtype);
  return t.dtype === x.dtype ? t : cast(t, x.dtype);
}

/**
 * `uniform_` / `normal_` drawn straight into a contiguous CPU float storage when nothing records:
 * the same draws in the same order as `randomLike`, without its temporary and copy. False otherwise.
 */
export function randomInto(
  self: Tensor,
  kind: 'uniform' | 'normal',
  a: number,
  b: number,
  gen?: Generator,
): boolean {
  if (self.device !== 'cpu' || (self.dtype !== 'float32' && self.dtype !== 'float64')) return false;
  if ((isGradEnabled() && self.requiresGrad) || !self.isContiguous()) return false;
  const data = rawViewSync(self) as Float32Array | Float64Array;
  const g = gen ?? defaultGenerator;
  if (kind === 'uniform') g.fillUniform(data, a, b);
  else g.fillNormal(data, a, b);
  self._ref.version++;
  return true;
}

/**
 * Without a graph to record, `self = self op other` can be written straight into self's storage
 * (no temporary, no copy back) when the backend supports it and the result keeps self's dtype.
 */
function writeDirect(self: Tensor, op: string, direct: () => [BinaryOp, Tensor | number]): boolean {
  const binaryInto = findKernel(backendOf(self), 'binaryInto');
  if (!binaryInto || numelOf(self.shape) === 0) return false;
  const [bop, operand] = noGrad(direct);
  const [, y, dtype] = operands(self, operand, op);
  const done = (ok: boolean) => {
    if (y !== operand) y.dispose();
    return ok;
  };
  if (dtype !== self.dtype || !sameShape(broadcastShapes(self.shape, y.shape, op), self.shape))
    return done(false);
  if (!binaryInto(bop, self._view, broadcastView(y, self.shape))) return done(false);
  self._ref.version++;
  return done(true);
}

/**
 * Runs an in-place op: the value is computed out of place by `compute`, then written into `self`'s
 * storage and the version counter bumped, so graphs that saved the old value fail loudly.
 * With autograd on, `self` becomes the op's output: its gradFn is the new node (named `gradName`),
 * and a view's base is updated as PyTorch's CopySlices does. `op` names the method in errors.
 */
export function inplace<T extends Tensor>(
  self: T,
  op: string,
  gradName: string,
  compute: (x: Tensor) => Tensor,
  others: (Tensor | number)[],
  direct?: () => [BinaryOp, Tensor | number],
): T {
  const tracking = isGradEnabled() && (self.requiresGrad || others.some((o) => isT(o) && o.requiresGrad));
  if (!tracking && direct && writeDirect(self, op, direct)) return self;
  const base = self._base;
  if (tracking && base?.isLeaf && base.requiresGrad) {
    throw new Error(
      `${op}: a view of a leaf Variable that requires grad is being used in an in-place operation.`,
    );
  }
  if (tracking && self.isLeaf && self.requiresGrad) {
    throw new Error(`${op}: a leaf Variable that requires grad is being used in an in-place operation.`);
  }
  let result: Tensor;
  if (tracking) {
    // The old value must survive the write for the new node's backward, so snapshot it through a clone.
    const before = self.requiresGrad ? self.clone() : self.detach().clone();
    result = compute(before);
    if (result.gradFn) relabel(result, gradName);
  } else {
    result = noGrad(() => compute(self));
  }
  if (!sameShape(result.shape, self.shape)) {
    throw new Error(
      `${op}: output with shape ${fmtShape(self.shape)} doesn't match the broadcast shape ${fmtShape(result.shape)}`,
    );
  }
  if (numelOf(self.shape) > 0) backendOf(self).assign(self._view, result._view);
  self._ref.version++;
  if (!tracking) return self;
  if (!base) {
    // A value that does not depend on the old one (fill_, zero_, uniform_, ...) passes it a zero gradient.
    if (result.gradFn) self._setGradFn(result.gradFn);
    else record(gradName, self, [self], (g) => [g.mul(0)]);
    return self;
  }
  // Writing through a view changes its base too (PyTorch's CopySlices): the base's gradient
  // flows to the new values in the view's region and to the base's old graph elsewhere, and the
  // view becomes a view of the updated base.
  const n = self._ref.storage.length;
  const baseLayout = { shape: [...base.shape], strides: [...base.strides], offset: base.offset };
  const selfLayout = { shape: [...self.shape], strides: [...self.strides], offset: self.offset };
  record('CopySlices', base, [base, result], (g) => [
    restride(g, baseLayout, baseLayout, n, selfLayout),
    result.requiresGrad ? restride(g, baseLayout, selfLayout, n) : null,
  ]);
  record('AsStridedBackward0', self, [base], (g) => [restride(g, selfLayout, baseLayout, n)]);
  return self;
}
