// The Tensor: a strided view of backend storage with autograd metadata. Ops live in ops/*.ts;
// the methods here are thin, so the class reads as the API surface.

import { withoutAutocast } from './amp/autocast.js';
import { isGradEnabled, type Node, relabel, runBackward } from './autograd.js';
import { type Device, getBackend, type Storage, type View } from './backend.js';
import { type DType, decodeBfloat16, decodeFloat16, isFloating, type TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import * as E from './ops/elementwise.js';
import * as I from './ops/indexing.js';
import * as L from './ops/linalg.js';
import * as NN from './ops/nn.js';
import * as R from './ops/reduce.js';
import { publicUnaryNames, type UnaryMethods } from './ops/unary.js';
import * as V from './ops/view.js';
import { checkOptions } from './options.js';
import { contiguousStrides, isContiguousLayout, numelOf, type ShapeArg, shapeFromArgs } from './shape.js';
import { installSnakeCaseAliases } from './snake-case-aliases.js';

/** Nested arrays of numbers (or booleans for bool tensors), as `tolist()` returns them. */
export type NestedArray = number | boolean | NestedArray[];

/** Storage shared by a tensor and its views, with the version counter in-place ops bump. */
export interface StorageRef {
  storage: Storage;
  version: number;
}

/** `max(dim)` and friends: destructure as `[values, indices]` or read `.values` / `.indices`. */
export type ValuesIndices = [Tensor, Tensor] & { values: Tensor; indices: Tensor };

export function valuesIndices(values: Tensor, indices: Tensor): ValuesIndices {
  return Object.assign([values, indices] as [Tensor, Tensor], { values, indices });
}

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/** An n-dimensional array with PyTorch's semantics: strided views, broadcasting, autograd. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below adds the op table's methods, installed on the prototype right after the class.
export class Tensor {
  /** The storage this tensor views, shared with its views (and with a `Parameter` made from it). */
  _ref: StorageRef;
  readonly shape: number[];
  readonly strides: number[];
  readonly offset: number;
  readonly dtype: DType;
  private _grad: Tensor | null = null;
  /**
   * Whether `_grad` is private: made by `backward()` in a storage of its own, and never handed out
   * since (`.grad` read). Nothing else can hold such a gradient, so letting it go frees its storage at
   * once, as PyTorch's reference count does, instead of leaving it to the garbage collector.
   */
  private _gradPrivate = false;
  /**
   * The gradient accumulated by `backward()`, or null. Reading it hands it out: setting `.grad` to
   * null (`zeroGrad`) then leaves it to the garbage collector, so a reference kept to it stays valid.
   */
  get grad(): Tensor | null {
    this._gradPrivate = false;
    return this._grad;
  }
  set grad(g: Tensor | null) {
    const old = this._grad;
    const free = this._gradPrivate;
    this._grad = g;
    this._gradPrivate = false;
    if (!old || old === g || old._ref.storage === g?._ref.storage) return;
    // A private gradient let go is freed now; one handed out is usually garbage too, which its storage
    // may tell the collector.
    if (free) old._ref.storage.dispose();
    else old._ref.storage.letGo?.();
  }
  /**
   * The gradient without handing it out (see `grad`), for graft's optimizers and `zeroGrad`, which
   * read it during a call and keep neither it nor a view of it. User code reads `.grad`.
   */
  _peekGrad(): Tensor | null {
    return this._grad;
  }
  /** The op that produced this tensor (null for leaves). */
  gradFn: Node | null = null;
  private _requiresGrad = false;
  /** @internal The tensor whose storage this view was made from (null when not a view). */
  _base: Tensor | null = null;

  /**
   * A tensor over `ref` with the given layout; subclasses such as `Parameter` use it. To make tensors,
   * use the creation functions (`tensor`, `zeros`, ...) instead.
   */
  constructor(
    ref: StorageRef,
    shape: readonly number[],
    strides: readonly number[],
    offset: number,
    dtype: DType,
  ) {
    this._ref = ref;
    this.shape = [...shape];
    this.strides = [...strides];
    this.offset = offset;
    this.dtype = dtype;
  }

  /** @internal A fresh contiguous tensor over a new storage. */
  static _fromStorage(storage: Storage, shape: readonly number[], dtype: DType): Tensor {
    return new Tensor({ storage, version: 0 }, shape, contiguousStrides(shape), 0, dtype);
  }

  get device(): Device {
    return this._ref.storage.device;
  }

  /**
   * Makes this tensor view `source`'s storage with its shape, strides and offset, keeping this
   * object's identity (torch's `set_`; what `param.data = t` does in PyTorch). Used to move parameters
   * between devices without breaking optimizers that hold them. Same dtype only; in grad mode a leaf
   * that requires grad is refused, as for any in-place op.
   */
  set_(source: Tensor): this {
    if (source.dtype !== this.dtype) {
      throw new Error(`set_: expected a source of dtype ${this.dtype}, got ${source.dtype}`);
    }
    if (isGradEnabled() && this.requiresGrad && this.isLeaf) {
      throw new Error('a leaf Variable that requires grad is being used in an in-place operation (set_).');
    }
    const self = this as unknown as {
      _ref: StorageRef;
      shape: number[];
      strides: number[];
      offset: number;
      _base: Tensor | null;
    };
    self._ref = source._ref;
    self.shape = [...source.shape];
    self.strides = [...source.strides];
    self.offset = source.offset;
    self._base = null;
    return this;
  }

  /** @internal */
  get _version(): number {
    return this._ref.version;
  }

  /** @internal The operand a kernel receives. */
  get _view(): View {
    return {
      storage: this._ref.storage,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
      dtype: this.dtype,
    };
  }

  /** @internal */
  _setGradFn(node: Node): void {
    // retainGrad() follows the tensor to its new node after an in-place op, as in PyTorch.
    if (this.gradFn?.retained === this) {
      this.gradFn.retained = null;
      node.retained = this;
    }
    this.gradFn = node;
    this._requiresGrad = true;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(flag: boolean) {
    if (this.gradFn && !flag) {
      throw new Error(
        'you can only change requiresGrad flags of leaf variables. If you want to use a computed variable in a ' +
          'subgraph that does not require differentiation use detach().',
      );
    }
    if (flag && !isFloating(this.dtype)) {
      throw new Error(`only Tensors of floating point dtype can require gradients (got ${this.dtype})`);
    }
    this._requiresGrad = flag;
  }

  /** Sets `requiresGrad` in place and returns this tensor. */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** True for tensors not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Keeps `.grad` for this non-leaf tensor during `backward()`. */
  retainGrad(): this {
    if (!this._requiresGrad) throw new Error("can't retainGrad on Tensor that has requiresGrad=false");
    if (this.gradFn) this.gradFn.retained = this;
    return this;
  }

  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  numel(): number {
    return numelOf(this.shape);
  }
  /** The shape, or one dim's size. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return [...this.shape];
    return this.shape[dim < 0 ? dim + this.shape.length : dim];
  }
  isContiguous(): boolean {
    return isContiguousLayout(this.shape, this.strides);
  }
  isFloatingPoint(): boolean {
    return isFloating(this.dtype);
  }

  /**
   * Computes gradients of this tensor with respect to graph leaves, accumulating into `.grad`.
   * A non-scalar tensor needs `gradient` (the vector in the vector-Jacobian product).
   */
  backward(gradient?: Tensor | null | { retainGraph?: boolean }, options?: { retainGraph?: boolean }): void {
    let opts = options ?? {};
    if (gradient != null && !(gradient instanceof Tensor)) {
      // `loss.backward({ retainGraph: true })`: PyTorch's `backward(retain_graph=True)` without a gradient.
      if (typeof gradient !== 'object' || Array.isArray(gradient) || options !== undefined) {
        throw new Error(
          `backward: expected the gradient to be a Tensor (or an options object alone), got ${Array.isArray(gradient) ? 'Array' : typeof gradient}; ` +
            'pass a tensor of the same shape, e.g. `y.backward(onesLike(y))`, or `backward({ retainGraph: true })`',
        );
      }
      opts = gradient;
      gradient = undefined;
    }
    checkOptions('backward', opts, ['retainGraph']);
    if (!this._requiresGrad) {
      throw new Error('element 0 of tensors does not require grad and does not have a gradFn');
    }
    let g = gradient as Tensor | null | undefined;
    if (!g) {
      if (this.numel() !== 1) {
        throw new Error(
          `grad can be implicitly created only for scalar outputs (got shape [${this.shape.join(', ')}])`,
        );
      }
      g = E.onesLikeRaw(this);
    } else if (g.shape.join() !== this.shape.join()) {
      throw new Error(
        `backward: gradient has shape [${g.shape.join(', ')}], but the tensor has shape [${this.shape.join(', ')}]`,
      );
    }
    const grad = g;
    // Backward ops run in the dtypes of their forward ops, not autocast again (as in PyTorch).
    withoutAutocast(() =>
      E.withoutGrad(() =>
        runBackward(this, grad, opts.retainGraph ?? false, (t, gi, owned) => {
          // First use stores a private copy (grads may alias each other or the caller's tensor), or
          // takes a gradient this pass made and nobody else holds; later uses accumulate in place, so a
          // held reference to `.grad` stays live, as in PyTorch.
          // Either way the new `.grad` is private (see `_gradPrivate`) until read.
          const cur = t._grad;
          if (cur) {
            cur.add_(gi);
            return false;
          }
          // detach() shares gi's storage: an owned gradient is taken without a copy.
          t.grad = owned ? gi.detach() : gi.detach().clone();
          t._gradPrivate = true;
          return owned;
        }),
      ),
    );
  }

  // ---- readback ----

  /**
   * PyTorch's `.data`: a tensor sharing this one's storage, cut from autograd (`detach()` without the
   * version check). `param.data.fill_(1)` and `init.xavierNormal_(m.weight.data)` port verbatim.
   * Assigning (`p.data = t`) makes this tensor view `t`'s storage, as PyTorch's `.data =` does.
   */
  get data(): Tensor {
    return this.detach();
  }
  set data(source: Tensor) {
    if (!(source instanceof Tensor)) {
      throw new Error(
        `Tensor.data: expected a Tensor to assign, got ${source === null ? 'null' : typeof source}; ` +
          'to read the values use `await t.read()` (or `t.readSync()` on the CPU)',
      );
    }
    if (source.dtype !== this.dtype) {
      throw new Error(
        `Tensor.data: expected a tensor of dtype ${this.dtype}, got ${source.dtype}; cast it first (\`t.to('${this.dtype}')\`)`,
      );
    }
    const self = this as unknown as { _ref: StorageRef; shape: number[]; strides: number[]; offset: number };
    self._ref = source._ref;
    self.shape = [...source.shape];
    self.strides = [...source.strides];
    self.offset = source.offset;
  }

  /** The values in row-major order (float16/bfloat16 decoded, int64 as float64, bool as 0/1). */
  async read(): Promise<TypedArray> {
    return decode(this.dtype, await getBackend(this.device).read(this._view));
  }
  /** Synchronous `read()`; CPU only. */
  readSync(): TypedArray {
    return decode(this.dtype, getBackend(this.device).readSync(this._view));
  }
  /** The values in storage format (float16 bits as Uint16Array). */
  async readRaw(): Promise<TypedArray> {
    return getBackend(this.device).read(this._view);
  }
  readRawSync(): TypedArray {
    return getBackend(this.device).readSync(this._view);
  }
  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    this.checkItem();
    return (await this.read())[0];
  }
  itemSync(): number {
    this.checkItem();
    return this.readSync()[0];
  }
  private checkItem(): void {
    if (this.numel() !== 1) {
      throw new Error(`a Tensor with ${this.numel()} elements cannot be converted to a scalar (item)`);
    }
  }
  /** Nested arrays of the values. */
  async tolist(): Promise<NestedArray> {
    return nest(await this.read(), this.shape, this.dtype === 'bool');
  }
  tolistSync(): NestedArray {
    return nest(this.readSync(), this.shape, this.dtype === 'bool');
  }

  toString(): string {
    return formatTensor(this);
  }
  [inspectSymbol](): string {
    return this.toString();
  }

  /** Returns GPU memory now; views of this storage become invalid. A no-op on CPU. */
  dispose(): void {
    this._ref.storage.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- conversion ----

  /** Casts to a dtype or moves to a device (a no-op returning `this` when nothing changes). */
  to(target: DType | Device): Tensor {
    return target === 'cpu' || target === 'webgpu' ? V.toDevice(this, target) : E.cast(this, target);
  }
  float(): Tensor {
    return E.cast(this, 'float32');
  }
  double(): Tensor {
    return E.cast(this, 'float64');
  }
  half(): Tensor {
    return E.cast(this, 'float16');
  }
  long(): Tensor {
    return E.cast(this, 'int64');
  }
  int(): Tensor {
    return E.cast(this, 'int32');
  }
  bool(): Tensor {
    return E.cast(this, 'bool');
  }
  cpu(): Tensor {
    return V.toDevice(this, 'cpu');
  }
  /** Moves to a device through an async readback: `await t.toAsync('cpu')` works for webgpu tensors. */
  toAsync(device: Device): Promise<Tensor> {
    return V.toDeviceAsync(this, device);
  }
  clone(): Tensor {
    return V.clone(this);
  }
  contiguous(): Tensor {
    return this.isContiguous() ? this : V.clone(this);
  }
  /** A tensor sharing storage but cut from the graph. */
  detach(): Tensor {
    return new Tensor(this._ref, this.shape, this.strides, this.offset, this.dtype);
  }

  // ---- views ----

  reshape(...shape: (number | ShapeArg)[]): Tensor {
    return V.reshape(this, shapeFromArgs(shape, 'reshape'));
  }
  view(...shape: (number | ShapeArg)[]): Tensor {
    return V.view(this, shapeFromArgs(shape, 'view'));
  }
  viewAs(other: Tensor): Tensor {
    return V.view(this, other.shape);
  }
  permute(...dims: (number | ShapeArg)[]): Tensor {
    return V.permute(this, shapeFromArgs(dims, 'permute'));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return V.transpose(this, dim0, dim1);
  }
  /** Transpose of a tensor with at most 2 dims. */
  t(): Tensor {
    if (this.ndim > 2)
      throw new Error(`t() expects a tensor with <= 2 dimensions, but self is ${this.ndim}D`);
    return this.ndim < 2 ? this : relabel(V.transpose(this, 0, 1), 'TBackward0');
  }
  get T(): Tensor {
    return V.permute(this, [...this.shape.keys()].reverse());
  }
  expand(...shape: (number | ShapeArg)[]): Tensor {
    return V.expand(this, shapeFromArgs(shape, 'expand'));
  }
  expandAs(other: Tensor): Tensor {
    return V.expand(this, other.shape);
  }
  squeeze(dim?: number | number[]): Tensor {
    return V.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return V.unsqueeze(this, dim);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  unflatten(dim: number, sizes: number[]): Tensor {
    return V.unflatten(this, dim, sizes);
  }
  /** Elements `start` to `start + length` along `dim` (a view). */
  narrow(dim: number, start: number, length: number): Tensor {
    return V.narrow(this, dim, start, length);
  }
  /** Removes `dim` by picking `index` (a view). */
  select(dim: number, index: number): Tensor {
    return V.select(this, dim, index);
  }
  /** Python's `t[start:end:step]` along `dim` (a view). */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return V.slice(this, dim, start, end, step);
  }
  /** A view with explicit shape, strides and storage offset (like torch.as_strided). */
  asStrided(shape: readonly number[], strides: readonly number[], offset = this.offset): Tensor {
    return V.asStrided(this, shape, strides, offset);
  }
  split(splitSize: number | number[], dim = 0): Tensor[] {
    return V.split(this, splitSize, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return V.chunk(this, chunks, dim);
  }
  unbind(dim = 0): Tensor[] {
    return V.unbind(this, dim);
  }

  // ---- elementwise ----

  add(other: Tensor | number, opts?: { alpha?: number }): Tensor {
    return E.add(this, other, opts?.alpha);
  }
  sub(other: Tensor | number, opts?: { alpha?: number }): Tensor {
    return E.sub(this, other, opts?.alpha);
  }
  mul(other: Tensor | number): Tensor {
    return E.mul(this, other);
  }
  div(other: Tensor | number): Tensor {
    return E.div(this, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return E.pow(this, exponent);
  }
  maximum(other: Tensor): Tensor {
    return E.maximum(this, other);
  }
  minimum(other: Tensor): Tensor {
    return E.minimum(this, other);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return E.clamp(this, min ?? null, max ?? null);
  }
  gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor {
    return E.gelu(this, opts?.approximate ?? 'none');
  }
  eq(other: Tensor | number): Tensor {
    return E.compare('eq', this, other);
  }
  ne(other: Tensor | number): Tensor {
    return E.compare('ne', this, other);
  }
  lt(other: Tensor | number): Tensor {
    return E.compare('lt', this, other);
  }
  le(other: Tensor | number): Tensor {
    return E.compare('le', this, other);
  }
  gt(other: Tensor | number): Tensor {
    return E.compare('gt', this, other);
  }
  ge(other: Tensor | number): Tensor {
    return E.compare('ge', this, other);
  }
  logicalAnd(other: Tensor): Tensor {
    return E.compare('logicalAnd', this, other);
  }
  logicalOr(other: Tensor): Tensor {
    return E.compare('logicalOr', this, other);
  }
  floorDivide(other: Tensor | number): Tensor {
    return E.binaryNoGrad('floorDivide', this, other);
  }
  remainder(other: Tensor | number): Tensor {
    return E.binaryNoGrad('remainder', this, other);
  }
  /** `where(condition, this, other)`. */
  where(condition: Tensor, other: Tensor | number): Tensor {
    return E.where(condition, this, other);
  }

  // ---- reductions ----

  sum(dim?: number | number[] | null, keepdim = false): Tensor {
    return R.sum(this, dim ?? undefined, keepdim);
  }
  mean(dim?: number | number[] | null, keepdim = false): Tensor {
    return R.mean(this, dim ?? undefined, keepdim);
  }
  /** Variance with Bessel's correction by default (`correction: 1`), like torch.var. */
  var(dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return R.variance(this, dim ?? undefined, opts.correction ?? 1, opts.keepdim ?? false);
  }
  std(dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return E.applyUnary(
      'sqrt',
      R.variance(this, dim ?? undefined, opts.correction ?? 1, opts.keepdim ?? false),
    );
  }
  /** Product of all elements, or along `dim`; the gradient is right with zeros in the input (as PyTorch's). */
  prod(dim?: number | null, keepdim = false): Tensor {
    return R.prod(this, dim ?? undefined, keepdim);
  }
  /** Running sum along `dim` (integer inputs give int64, as in PyTorch). */
  cumsum(dim: number): Tensor {
    return R.cumsum(this, dim);
  }
  /** Without `dim`: the largest element. With `dim`: `[values, indices]`. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | ValuesIndices {
    return dim === undefined ? R.maxAll(this, 'max') : R.maxDim(this, 'max', dim, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | ValuesIndices {
    return dim === undefined ? R.maxAll(this, 'min') : R.maxDim(this, 'min', dim, keepdim);
  }
  amax(dim?: number | number[], keepdim = false): Tensor {
    return R.amax(this, 'max', dim, keepdim);
  }
  amin(dim?: number | number[], keepdim = false): Tensor {
    return R.amax(this, 'min', dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return R.argmax(this, 'argmax', dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return R.argmax(this, 'argmin', dim, keepdim);
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return R.logsumexp(this, dim, keepdim);
  }
  any(dim?: number, keepdim = false): Tensor {
    return R.reduceNoGrad(this, 'any', dim, keepdim);
  }
  all(dim?: number, keepdim = false): Tensor {
    return R.reduceNoGrad(this, 'all', dim, keepdim);
  }
  softmax(dim: number): Tensor {
    return NN.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return NN.logSoftmax(this, dim);
  }

  // ---- linear algebra and indexing ----

  matmul(other: Tensor): Tensor {
    return L.matmul(this, other);
  }
  mm(other: Tensor): Tensor {
    return L.mm(this, other);
  }
  bmm(other: Tensor): Tensor {
    return L.bmm(this, other);
  }
  gather(dim: number, index: Tensor): Tensor {
    return I.gather(this, dim, index);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return I.indexSelect(this, dim, index);
  }
  topk(k: number, dim = -1, opts: { largest?: boolean; sorted?: boolean } = {}): ValuesIndices {
    return I.topk(this, k, dim, opts.largest ?? true, opts.sorted ?? true);
  }
  /** Reverses the order of elements along `dims` (a copy, as in PyTorch). */
  flip(...dims: (number | ShapeArg)[]): Tensor {
    return I.flip(this, shapeFromArgs(dims, 'flip'));
  }
  /** `value` where `mask` (bool, broadcast against this tensor) is true, this tensor's values elsewhere. */
  maskedFill(mask: Tensor, value: number | Tensor): Tensor {
    return I.maskedFill(this, mask, value);
  }

  // ---- in place (bump the version counter; see ops/inplace in elementwise.ts) ----

  add_(other: Tensor | number, opts?: { alpha?: number }): this {
    const alpha = opts?.alpha ?? 1;
    return E.inplace(
      this,
      'add_',
      'AddBackward0',
      (x) => E.add(x, other, opts?.alpha),
      [other],
      () => ['add', alpha === 1 ? other : typeof other === 'number' ? other * alpha : E.mul(other, alpha)],
    );
  }
  sub_(other: Tensor | number, opts?: { alpha?: number }): this {
    const alpha = opts?.alpha ?? 1;
    return E.inplace(
      this,
      'sub_',
      'SubBackward0',
      (x) => E.sub(x, other, opts?.alpha),
      [other],
      () => ['sub', alpha === 1 ? other : typeof other === 'number' ? other * alpha : E.mul(other, alpha)],
    );
  }
  mul_(other: Tensor | number): this {
    return E.inplace(
      this,
      'mul_',
      'MulBackward0',
      (x) => E.mul(x, other),
      [other],
      () => ['mul', other],
    );
  }
  div_(other: Tensor | number): this {
    return E.inplace(
      this,
      'div_',
      'DivBackward0',
      (x) => E.div(x, other),
      [other],
      () => ['div', other],
    );
  }
  clamp_(min?: number | null, max?: number | null): this {
    return E.inplace(this, 'clamp_', 'ClampBackward1', (x) => E.clamp(x, min ?? null, max ?? null), []);
  }
  /** `maskedFill` in place (the mask broadcasts to this tensor's shape). */
  maskedFill_(mask: Tensor, value: number | Tensor): this {
    return E.inplace(
      this,
      'maskedFill_',
      typeof value === 'number' ? 'MaskedFillBackward0' : 'MaskedFillBackward1',
      (x) => I.maskedFill(x, mask, value),
      typeof value === 'number' ? [] : [value],
    );
  }
  relu_(): this {
    return E.inplace(this, 'relu_', 'ReluBackward0', (x) => E.applyUnary('relu', x), []);
  }
  /** Copies `src` (broadcast to this shape, cast to this dtype) into this tensor. */
  copy_(src: Tensor): this {
    if (E.copyDirect(this, src)) return this;
    return E.inplace(this, 'copy_', 'CopyBackwards', (x) => E.copyLike(x, src), [src]);
  }
  fill_(value: number): this {
    return E.inplace(this, 'fill_', 'FillBackward0', (x) => E.fullLikeRaw(x, value), []);
  }
  zero_(): this {
    return E.inplace(this, 'zero_', 'ZeroBackward0', (x) => E.fullLikeRaw(x, 0), []);
  }
  uniform_(from = 0, to = 1, opts: { generator?: import('./random.js').Generator } = {}): this {
    if (E.randomInto(this, 'uniform', from, to, opts.generator)) return this;
    return E.inplace(
      this,
      'uniform_',
      'UniformBackward0',
      (x) => E.randomLike(x, 'uniform', from, to, opts.generator),
      [],
    );
  }
  normal_(mean = 0, std = 1, opts: { generator?: import('./random.js').Generator } = {}): this {
    if (E.randomInto(this, 'normal', mean, std, opts.generator)) return this;
    return E.inplace(
      this,
      'normal_',
      'NormalBackward0',
      (x) => E.randomLike(x, 'normal', mean, std, opts.generator),
      [],
    );
  }
}

// The unary ops' methods come from their table (ops/unary.ts): `x.sin()` is `sin(x)`.
export interface Tensor extends UnaryMethods {}
for (const name of publicUnaryNames()) {
  Object.defineProperty(Tensor.prototype, name, {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function (this: Tensor): Tensor {
      return E.applyUnary(name, this);
    },
  });
}

function decode(dtype: DType, raw: TypedArray): TypedArray {
  if (dtype === 'float16') return decodeFloat16(raw as Uint16Array);
  if (dtype === 'bfloat16') return decodeBfloat16(raw as Uint16Array);
  return raw;
}

function nest(data: TypedArray, shape: readonly number[], asBool: boolean): NestedArray {
  const conv = (v: number): number | boolean => (asBool ? v !== 0 : v);
  if (shape.length === 0) return conv(data[0]);
  const build = (dim: number, off: number): NestedArray[] => {
    const n = shape[dim];
    const stride = numelOf(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? conv(data[off + i]) : build(dim + 1, off + i * stride));
    }
    return out;
  };
  return build(0, 0);
}

/** True when grad mode would record an op on these tensors. */
export function anyRequiresGrad(...ts: (Tensor | number | null | undefined)[]): boolean {
  return isGradEnabled() && ts.some((t) => t instanceof Tensor && t.requiresGrad);
}

installSnakeCaseAliases(Tensor.prototype);
