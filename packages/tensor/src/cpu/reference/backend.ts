// The reference CPU backend in plain TypeScript: correct first, the oracle the WebAssembly backend
// (cpu/wasm/backend.ts) is tested against. Its storage is shared with that backend (cpu/storage.ts).

import type {
  AdamOperands,
  AdamStepOptions,
  Backend,
  BinaryOp,
  Conv2dParams,
  Pool2dParams,
  ReduceOp,
  SgdStepOptions,
  Storage,
  UnaryOp,
  View,
} from '../../backend.js';
import {
  assertNever,
  castScalar,
  type DType,
  float32ToBfloat16,
  float32ToFloat16,
  isFloating,
  storageArrayFor,
  type TypedArray,
} from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { contiguousStrides, numelOf } from '../../shape.js';
import { type FloatArray, gemmNN, gemmNT } from '../gemm.js';
import { fastAssign, fastBinary, fastBinaryInto, fastReduce, fastUnary } from '../loops.js';
import { batchDims, batchNormBackwardLoop, batchNormForwardLoop, reluBackwardLoop } from '../norm.js';
import { binaryFn, unaryFn } from '../ops.js';
import { adamStepLoop, sgdStepLoop } from '../optim.js';
import { arr, CpuStorage, floats, needsCast, numeric, offsets, output } from '../storage.js';
import { offsetsOf, stridedOffsets } from '../strided.js';
import { yieldForFinalizers } from '../wasm/heap.js';
import { avgWindow, checkIndex, col2im, im2col, maxPoolPlanes, remapOffset } from './helpers.js';

/** The CPU backend in plain TypeScript loops: every op, any dtype, float64 accumulation where it matters. */
export class ReferenceCpuBackend implements Backend {
  readonly device = 'cpu' as const;
  readonly name: string = 'cpu-reference';

  constructor() {
    // The fused loops are this backend's named kernels: exact, and faster than their composed fallbacks.
    registerKernel(this, 'batchNormForward', (x, w, b, eps, r, relu) =>
      this.batchNormForward(x, w, b, eps, r, relu),
    );
    registerKernel(this, 'batchNormBackward', (g, x, m, is, w, ni, y, wm) =>
      this.batchNormBackward(g, x, m, is, w, ni, y, wm),
    );
    registerKernel(this, 'sgdStep', (p, g, b, o) => this.sgdStep(p, g, b, o));
    registerKernel(this, 'adamStep', (t, o) => this.adamStep(t, o));
    registerKernel(this, 'reluBackward', (g, out) => this.reluBackward(g, out));
    registerKernel(this, 'binaryInto', (op, dst, b) => this.binaryInto(op, dst, b));
  }

  /** A storage of this backend over `data` (ops dispatch on it). */
  protected store(data: TypedArray): CpuStorage {
    return new CpuStorage(data, this);
  }

  /**
   * An array for a new storage of `n` elements (JavaScript memory here; the heap in cpu-wasm): zeroed,
   * or with `zero` false, of unspecified contents for callers that write every element.
   */
  allocArray(dtype: DType, n: number, _zero = true): TypedArray {
    return storageArrayFor(dtype, n);
  }

  /** A zeroed array of the same float type as `like`. */
  protected floatsLike(like: FloatArray, n: number): FloatArray {
    return like instanceof Float64Array
      ? new Float64Array(n)
      : (this.allocArray('float32', n) as Float32Array);
  }

  alloc(dtype: DType, length: number): Storage {
    return this.store(this.allocArray(dtype, length));
  }

  fill(dtype: DType, length: number, value: number): Storage {
    const a = this.allocArray(dtype, length, false);
    const v =
      dtype === 'float16'
        ? float32ToFloat16(value)
        : dtype === 'bfloat16'
          ? float32ToBfloat16(value)
          : castScalar(value, dtype);
    a.fill(v);
    return this.store(a);
  }

  fromArray(data: TypedArray): Storage {
    return this.store(data);
  }

  async read(x: View): Promise<TypedArray> {
    // An awaited readback is where finalizers get to return dropped tensors' heap blocks.
    await yieldForFinalizers();
    return this.readSync(x);
  }

  readSync(x: View): TypedArray {
    const a = arr(x);
    const n = numelOf(x.shape);
    const offs = stridedOffsets(x);
    if (!offs) return a.slice(x.offset, x.offset + n);
    const out = storageArrayFor(x.dtype, n);
    for (let i = 0; i < n; i++) out[i] = a[offs[i]];
    return out;
  }

  copy(x: View, dtype: DType): Storage {
    const n = numelOf(x.shape);
    if (dtype === x.dtype) {
      const out = this.allocArray(dtype, n, false);
      const a = arr(x);
      const offs = stridedOffsets(x);
      if (!offs) out.set(a.subarray(x.offset, x.offset + n));
      else for (let i = 0; i < n; i++) out[i] = a[offs[i]];
      return this.store(out);
    }
    const src = numeric(x);
    const offs = stridedOffsets(x);
    const { out, finish } = output(this, dtype, n);
    const cast = needsCast(dtype) || !isFloating(dtype);
    for (let i = 0; i < n; i++) {
      const v = src[offs ? offs[i] : x.offset + i];
      out[i] = cast ? castScalar(v, dtype) : v;
    }
    return finish();
  }

  assign(dst: View, src: View): void {
    const d = arr(dst);
    if (fastAssign(dst, src, d, arr(src))) return;
    const s = numeric(src);
    const n = numelOf(dst.shape);
    const od = offsets(dst);
    const os = stridedOffsets(src);
    const enc =
      dst.dtype === 'float16' ? float32ToFloat16 : dst.dtype === 'bfloat16' ? float32ToBfloat16 : null;
    const cast = dst.dtype !== src.dtype && !isFloating(dst.dtype);
    for (let i = 0; i < n; i++) {
      const v = s[os ? os[i] : src.offset + i];
      d[od[i]] = enc ? enc(v) : cast ? castScalar(v, dst.dtype) : v;
    }
  }

  unary(op: UnaryOp, x: View, outDtype: DType): Storage {
    const n = numelOf(x.shape);
    {
      const out = this.allocArray(outDtype, n, false);
      if (fastUnary(op, x, arr(x), out, outDtype)) return this.store(out);
    }
    const f = unaryFn(op);
    const src = numeric(x);
    const offs = stridedOffsets(x);
    const { out, finish } = output(this, outDtype, n);
    const cast = needsCast(outDtype);
    if (offs) for (let i = 0; i < n; i++) out[i] = f(src[offs[i]]);
    else for (let i = 0, o = x.offset; i < n; i++, o++) out[i] = f(src[o]);
    if (cast) for (let i = 0; i < n; i++) out[i] = castScalar(out[i], outDtype);
    return finish();
  }

  binary(op: BinaryOp, a: View, b: View, outDtype: DType): Storage {
    const n = numelOf(a.shape);
    {
      const out = this.allocArray(outDtype, n, false);
      if (fastBinary(op, a, b, arr(a), arr(b), out, outDtype)) return this.store(out);
    }
    const integer = !isFloating(a.dtype) && !isFloating(b.dtype);
    const f = binaryFn(op, integer);
    const av = numeric(a);
    const bv = numeric(b);
    const oa = stridedOffsets(a);
    const ob = stridedOffsets(b);
    const { out, finish } = output(this, outDtype, n);
    if (!oa && !ob) {
      for (let i = 0, ia = a.offset, ib = b.offset; i < n; i++) out[i] = f(av[ia + i], bv[ib + i]);
    } else if (!oa && ob) {
      for (let i = 0, ia = a.offset; i < n; i++) out[i] = f(av[ia + i], bv[ob[i]]);
    } else if (oa && !ob) {
      for (let i = 0, ib = b.offset; i < n; i++) out[i] = f(av[oa[i]], bv[ib + i]);
    } else if (oa && ob) {
      for (let i = 0; i < n; i++) out[i] = f(av[oa[i]], bv[ob[i]]);
    }
    if (needsCast(outDtype)) for (let i = 0; i < n; i++) out[i] = castScalar(out[i], outDtype);
    return finish();
  }

  protected binaryInto(op: BinaryOp, dst: View, b: View): boolean {
    // An operand overlapping the destination could be read after it was written: take the safe path.
    if (b.storage === dst.storage) return false;
    return fastBinaryInto(op, dst, b, arr(dst), arr(b));
  }

  where(cond: View, a: View, b: View, outDtype: DType): Storage {
    const n = numelOf(cond.shape);
    const c = arr(cond);
    const av = numeric(a);
    const bv = numeric(b);
    const oc = offsets(cond);
    const oa = offsets(a);
    const ob = offsets(b);
    const { out, finish } = output(this, outDtype, n);
    for (let i = 0; i < n; i++) out[i] = c[oc[i]] !== 0 ? av[oa[i]] : bv[ob[i]];
    return finish();
  }

  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage {
    {
      const keptCount = numelOf(x.shape.filter((_, d) => !dims.includes(d)));
      const out = this.allocArray(outDtype, keptCount);
      if (fastReduce(op, x, arr(x), dims, out, outDtype)) return this.store(out);
    }
    const nd = x.shape.length;
    const kept = [...Array(nd).keys()].filter((d) => !dims.includes(d));
    const order = [...kept, ...dims];
    const shape = order.map((d) => x.shape[d]);
    const strides = order.map((d) => x.strides[d]);
    const inner = numelOf(dims.map((d) => x.shape[d]));
    const outer = numelOf(kept.map((d) => x.shape[d]));
    const offs = offsetsOf(shape, strides, x.offset);
    const src = numeric(x);
    const { out, finish } = output(this, outDtype, outer);
    for (let o = 0; o < outer; o++) {
      const base = o * inner;
      let acc: number;
      switch (op) {
        case 'sum': {
          acc = 0;
          for (let i = 0; i < inner; i++) acc += src[offs[base + i]];
          break;
        }
        case 'prod': {
          acc = 1;
          for (let i = 0; i < inner; i++) acc *= src[offs[base + i]];
          break;
        }
        case 'max':
        case 'min': {
          if (inner === 0) throw new Error(`${op}: cannot reduce over an empty dimension`);
          const isMax = op === 'max';
          acc = src[offs[base]];
          for (let i = 1; i < inner && acc === acc; i++) {
            const v = src[offs[base + i]];
            if (v !== v || (isMax ? v > acc : v < acc)) acc = v;
          }
          break;
        }
        case 'argmax':
        case 'argmin': {
          if (inner === 0) throw new Error(`${op}: cannot reduce over an empty dimension`);
          const isMax = op === 'argmax';
          let best = src[offs[base]];
          acc = 0;
          for (let i = 1; i < inner && best === best; i++) {
            const v = src[offs[base + i]];
            if (v !== v || (isMax ? v > best : v < best)) {
              best = v;
              acc = i;
            }
          }
          break;
        }
        case 'any': {
          acc = 0;
          for (let i = 0; i < inner; i++)
            if (src[offs[base + i]] !== 0) {
              acc = 1;
              break;
            }
          break;
        }
        case 'all': {
          acc = 1;
          for (let i = 0; i < inner; i++)
            if (src[offs[base + i]] === 0) {
              acc = 0;
              break;
            }
          break;
        }
        default:
          acc = assertNever(op);
      }
      out[o] = needsCast(outDtype) ? castScalar(acc, outDtype) : acc;
    }
    return finish();
  }

  matmul(a: View, b: View, outDtype: DType): Storage {
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    const fast =
      (outDtype === 'float32' || outDtype === 'float64') && a.dtype === outDtype && b.dtype === outDtype;
    if (!fast) return this.matmulGeneric(a, b, outDtype);
    const A = arr(a) as FloatArray;
    const Bm = arr(b) as FloatArray;
    const out = this.floatsLike(A, B * M * N);
    // B with contiguous rows: multiply directly; B^T contiguous (x @ W.T): dot products; else pack.
    for (let bi = 0; bi < B; bi++) {
      const aOff = a.offset + bi * a.strides[0];
      const bOff = b.offset + bi * b.strides[0];
      const cOff = bi * M * N;
      if (b.strides[2] === 1 || N === 1) {
        gemmNN(M, N, K, A, aOff, a.strides[1], a.strides[2], Bm, bOff, b.strides[1], out, cOff, N, false);
      } else if (b.strides[1] === 1 && a.strides[2] === 1) {
        gemmNT(M, N, K, A, aOff, a.strides[1], Bm, bOff, b.strides[2], out, cOff, N, false);
      } else {
        const packed = this.floatsLike(Bm, K * N);
        for (let k = 0; k < K; k++)
          for (let j = 0; j < N; j++) packed[k * N + j] = Bm[bOff + k * b.strides[1] + j * b.strides[2]];
        gemmNN(M, N, K, A, aOff, a.strides[1], a.strides[2], packed, 0, N, out, cOff, N, false);
      }
    }
    return this.store(out);
  }

  private matmulGeneric(a: View, b: View, outDtype: DType): Storage {
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    const av = numeric(a);
    const bv = numeric(b);
    const { out, finish } = output(this, outDtype, B * M * N);
    for (let bi = 0; bi < B; bi++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) {
            s +=
              av[a.offset + bi * a.strides[0] + i * a.strides[1] + k * a.strides[2]] *
              bv[b.offset + bi * b.strides[0] + k * b.strides[1] + j * b.strides[2]];
          }
          out[(bi * M + i) * N + j] = needsCast(outDtype) ? castScalar(s, outDtype) : s;
        }
    return finish();
  }

  conv2d(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Storage {
    const X = floats(x, 'conv2d');
    const W = floats(weight, 'conv2d');
    const [N, C, H, Wd] = x.shape;
    const [O, Cg, KH, KW] = weight.shape;
    const [, , OH, OW] = outShape;
    const G = p.groups;
    const Og = O / G;
    const P = OH * OW;
    const Kc = Cg * KH * KW;
    const out = this.floatsLike(X, N * O * P);
    const col = this.floatsLike(X, Kc * P);
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < G; g++) {
        im2col(X, x.offset + (n * C + g * Cg) * H * Wd, Cg, H, Wd, KH, KW, OH, OW, p, col);
        gemmNN(
          Og,
          P,
          Kc,
          W,
          weight.offset + g * Og * Kc,
          Kc,
          1,
          col,
          0,
          P,
          out,
          (n * O + g * Og) * P,
          P,
          false,
        );
      }
    }
    return this.store(out);
  }

  conv2dBackwardInput(gradOut: View, weight: View, p: Conv2dParams, inputShape: readonly number[]): Storage {
    const Gd = floats(gradOut, 'conv2dBackwardInput');
    const W = floats(weight, 'conv2dBackwardInput');
    const [N, C, H, Wd] = inputShape;
    const [O, Cg, KH, KW] = weight.shape;
    const [, , OH, OW] = gradOut.shape;
    const G = p.groups;
    const Og = O / G;
    const P = OH * OW;
    const Kc = Cg * KH * KW;
    const out = this.floatsLike(Gd, N * C * H * Wd);
    const col = this.floatsLike(Gd, Kc * P);
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < G; g++) {
        // col[Kc, P] = W_g^T [Kc, Og] * gradOut_g [Og, P]
        gemmNN(
          Kc,
          P,
          Og,
          W,
          weight.offset + g * Og * Kc,
          1,
          Kc,
          Gd,
          gradOut.offset + (n * O + g * Og) * P,
          P,
          col,
          0,
          P,
          false,
        );
        col2im(col, Cg, H, Wd, KH, KW, OH, OW, p, out, (n * C + g * Cg) * H * Wd);
      }
    }
    return this.store(out);
  }

  conv2dBackwardWeight(x: View, gradOut: View, p: Conv2dParams, weightShape: readonly number[]): Storage {
    const X = floats(x, 'conv2dBackwardWeight');
    const Gd = floats(gradOut, 'conv2dBackwardWeight');
    const [N, C, H, Wd] = x.shape;
    const [O, Cg, KH, KW] = weightShape;
    const [, , OH, OW] = gradOut.shape;
    const G = p.groups;
    const Og = O / G;
    const P = OH * OW;
    const Kc = Cg * KH * KW;
    const out = this.floatsLike(X, O * Kc);
    const col = this.floatsLike(X, Kc * P);
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < G; g++) {
        im2col(X, x.offset + (n * C + g * Cg) * H * Wd, Cg, H, Wd, KH, KW, OH, OW, p, col);
        // gradW_g [Og, Kc] += gradOut_g [Og, P] * col^T [P, Kc]
        gemmNT(
          Og,
          Kc,
          P,
          Gd,
          gradOut.offset + (n * O + g * Og) * P,
          P,
          col,
          0,
          P,
          out,
          g * Og * Kc,
          Kc,
          true,
        );
      }
    }
    return this.store(out);
  }

  protected batchNormForward(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    residual: View | null = null,
    relu = false,
  ): { out: Storage; mean: Storage; variance: Storage; invstd: Storage } {
    const X = floats(x, 'batchNorm');
    const [N, C, S] = batchDims(x.shape);
    const st = (a: FloatArray) => this.store(a);
    const out = this.floatsLike(X, N * C * S);
    const mean = this.floatsLike(X, C);
    const variance = this.floatsLike(X, C);
    const invstd = this.floatsLike(X, C);
    batchNormForwardLoop(
      X,
      x.offset,
      N,
      C,
      S,
      weight && floats(weight, 'batchNorm'),
      weight?.offset ?? 0,
      bias && floats(bias, 'batchNorm'),
      bias?.offset ?? 0,
      eps,
      residual && floats(residual, 'batchNorm'),
      residual?.offset ?? 0,
      relu,
      out,
      mean,
      variance,
      invstd,
    );
    return { out: st(out), mean: st(mean), variance: st(variance), invstd: st(invstd) };
  }

  protected batchNormBackward(
    g: View,
    x: View,
    mean: View,
    invstd: View,
    weight: View | null,
    needInput: boolean,
    reluOut: View | null = null,
    // The loop computes the masked gradient anyway; only the WebAssembly kernel skips it.
    _wantMasked = true,
  ): { gx: Storage | null; gw: Storage; gb: Storage; gm: Storage | null } {
    const G = floats(g, 'batchNorm backward');
    const X = floats(x, 'batchNorm backward');
    const [N, C, S] = batchDims(x.shape);
    const st = (a: FloatArray | null) => a && this.store(a);
    const gx = needInput ? this.floatsLike(G, N * C * S) : null;
    const gm = reluOut ? this.floatsLike(G, N * C * S) : null;
    const gw = this.floatsLike(G, C);
    const gb = this.floatsLike(G, C);
    const vec = (v: View) => floats(v, 'batchNorm backward').subarray(v.offset, v.offset + C);
    batchNormBackwardLoop(
      G,
      g.offset,
      X,
      x.offset,
      N,
      C,
      S,
      vec(mean),
      vec(invstd),
      weight && floats(weight, 'batchNorm backward'),
      weight?.offset ?? 0,
      reluOut && floats(reluOut, 'batchNorm backward'),
      reluOut?.offset ?? 0,
      gm,
      gx,
      gw,
      gb,
    );
    return { gx: st(gx), gw: this.store(gw), gb: this.store(gb), gm: st(gm) };
  }

  protected sgdStep(param: View, grad: View, buf: View | null, o: SgdStepOptions): void {
    sgdStepLoop(
      floats(param, 'sgdStep'),
      param.offset,
      floats(grad, 'sgdStep'),
      grad.offset,
      buf && floats(buf, 'sgdStep'),
      buf?.offset ?? 0,
      numelOf(param.shape),
      o.lr,
      o.momentum,
      o.dampening,
      o.nesterov,
      o.maximize,
      o.weightDecay,
      o.first,
    );
  }

  protected adamStep(t: AdamOperands, o: AdamStepOptions): void {
    const { param, grad, expAvg, expAvgSq, maxExpAvgSq } = t;
    const f = (v: View) => floats(v, 'adamStep');
    adamStepLoop(
      f(param),
      param.offset,
      f(grad),
      grad.offset,
      f(expAvg),
      expAvg.offset,
      f(expAvgSq),
      expAvgSq.offset,
      maxExpAvgSq && f(maxExpAvgSq),
      maxExpAvgSq?.offset ?? 0,
      numelOf(param.shape),
      o,
    );
  }

  protected reluBackward(g: View, out: View): Storage {
    const G = floats(g, 'relu backward');
    const n = numelOf(g.shape);
    const gx = this.floatsLike(G, n);
    reluBackwardLoop(G, g.offset, floats(out, 'relu backward'), out.offset, n, gx);
    return this.store(gx);
  }

  maxPool2d(
    x: View,
    p: Pool2dParams,
    outShape: readonly number[],
    // The loop records indices either way (cheap next to the comparisons).
    _withIndices = true,
  ): { values: Storage; indices: Storage | null } {
    const X = numeric(x);
    const [N, C, H, W] = x.shape;
    const [, , OH, OW] = outShape;
    const indices = new Float64Array(N * C * OH * OW);
    const { out: values, finish } = output(this, x.dtype, N * C * OH * OW);
    maxPoolPlanes(X, x.offset, N * C, H, W, OH, OW, p, values, indices);
    return { values: finish(), indices: this.store(indices) };
  }

  maxPool2dBackward(gradOut: View, indices: View, inputShape: readonly number[]): Storage {
    const G = numeric(gradOut);
    const I = arr(indices);
    const [N, C, H, W] = inputShape;
    const [, , OH, OW] = gradOut.shape;
    const { out, finish } = output(this, gradOut.dtype, N * C * H * W);
    const P = OH * OW;
    for (let nc = 0; nc < N * C; nc++) {
      for (let k = 0; k < P; k++) {
        const idx = I[indices.offset + nc * P + k];
        out[nc * H * W + idx] += G[gradOut.offset + nc * P + k];
      }
    }
    return finish();
  }

  avgPool2d(x: View, p: Pool2dParams, outShape: readonly number[]): Storage {
    const X = numeric(x);
    const [N, C, H, W] = x.shape;
    const [, , OH, OW] = outShape;
    const { out, finish } = output(this, x.dtype, N * C * OH * OW);
    let o = 0;
    for (let nc = 0; nc < N * C; nc++) {
      const base = x.offset + nc * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++, o++) {
          const w = avgWindow(oh, ow, H, W, p);
          let s = 0;
          for (let h = w.h0; h < w.h1; h++) for (let c = w.w0; c < w.w1; c++) s += X[base + h * W + c];
          out[o] = s / w.divisor;
        }
      }
    }
    return finish();
  }

  avgPool2dBackward(gradOut: View, p: Pool2dParams, inputShape: readonly number[]): Storage {
    const G = numeric(gradOut);
    const [N, C, H, W] = inputShape;
    const [, , OH, OW] = gradOut.shape;
    const { out, finish } = output(this, gradOut.dtype, N * C * H * W);
    let o = gradOut.offset;
    for (let nc = 0; nc < N * C; nc++) {
      const base = nc * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++, o++) {
          const w = avgWindow(oh, ow, H, W, p);
          const g = G[o] / w.divisor;
          for (let h = w.h0; h < w.h1; h++) for (let c = w.w0; c < w.w1; c++) out[base + h * W + c] += g;
        }
      }
    }
    return finish();
  }

  adaptiveAvgPool2d(x: View, outShape: readonly number[]): Storage {
    const X = numeric(x);
    const [N, C, H, W] = x.shape;
    const [, , OH, OW] = outShape;
    const { out, finish } = output(this, x.dtype, N * C * OH * OW);
    let o = 0;
    for (let nc = 0; nc < N * C; nc++) {
      const base = x.offset + nc * H * W;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.floor((oh * H) / OH);
        const h1 = Math.ceil(((oh + 1) * H) / OH);
        for (let ow = 0; ow < OW; ow++, o++) {
          const w0 = Math.floor((ow * W) / OW);
          const w1 = Math.ceil(((ow + 1) * W) / OW);
          let s = 0;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += X[base + h * W + w];
          out[o] = s / ((h1 - h0) * (w1 - w0));
        }
      }
    }
    return finish();
  }

  adaptiveAvgPool2dBackward(gradOut: View, inputShape: readonly number[]): Storage {
    const G = numeric(gradOut);
    const [N, C, H, W] = inputShape;
    const [, , OH, OW] = gradOut.shape;
    const { out, finish } = output(this, gradOut.dtype, N * C * H * W);
    let o = gradOut.offset;
    for (let nc = 0; nc < N * C; nc++) {
      const base = nc * H * W;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.floor((oh * H) / OH);
        const h1 = Math.ceil(((oh + 1) * H) / OH);
        for (let ow = 0; ow < OW; ow++, o++) {
          const w0 = Math.floor((ow * W) / OW);
          const w1 = Math.ceil(((ow + 1) * W) / OW);
          const g = G[o] / ((h1 - h0) * (w1 - w0));
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) out[base + h * W + w] += g;
        }
      }
    }
    return finish();
  }

  gather(x: View, dim: number, index: View): Storage {
    const X = numeric(x);
    const I = arr(index);
    const shape = index.shape;
    const n = numelOf(shape);
    const oi = offsets(index);
    const { out, finish } = output(this, x.dtype, n);
    const walk = contiguousStrides(shape);
    for (let i = 0; i < n; i++) {
      out[i] =
        X[remapOffset(i, walk, dim, x.strides, x.offset, () => checkIndex(I[oi[i]], x.shape[dim], 'gather'))];
    }
    return finish();
  }

  scatterAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    const S = numeric(src);
    const I = arr(index);
    const n = numelOf(index.shape);
    const oi = offsets(index);
    const os = offsets(src);
    const { out, finish } = output(this, src.dtype, numelOf(shape));
    const outStrides = contiguousStrides(shape);
    const walk = contiguousStrides(index.shape);
    for (let i = 0; i < n; i++) {
      out[remapOffset(i, walk, dim, outStrides, 0, () => checkIndex(I[oi[i]], shape[dim], 'scatterAdd'))] +=
        S[os[i]];
    }
    return finish();
  }

  indexSelect(x: View, dim: number, index: View): Storage {
    const X = numeric(x);
    const I = numeric(index);
    const k = numelOf(index.shape);
    const outShape = [...x.shape];
    outShape[dim] = k;
    const n = numelOf(outShape);
    const { out, finish } = output(this, x.dtype, n);
    const walk = contiguousStrides(outShape);
    const oi = offsets(index);
    for (let i = 0; i < n; i++) {
      out[i] =
        X[
          remapOffset(i, walk, dim, x.strides, x.offset, (c) =>
            checkIndex(I[oi[c]], x.shape[dim], 'indexSelect'),
          )
        ];
    }
    return finish();
  }

  indexAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    const S = numeric(src);
    const I = numeric(index);
    const n = numelOf(src.shape);
    const os = offsets(src);
    const oi = offsets(index);
    const { out, finish } = output(this, src.dtype, numelOf(shape));
    const outStrides = contiguousStrides(shape);
    const walk = contiguousStrides(src.shape);
    for (let i = 0; i < n; i++) {
      out[remapOffset(i, walk, dim, outStrides, 0, (c) => checkIndex(I[oi[c]], shape[dim], 'indexAdd'))] +=
        S[os[i]];
    }
    return finish();
  }

  topk(
    x: View,
    k: number,
    dim: number,
    largest: boolean,
    sorted: boolean,
  ): { values: Storage; indices: Storage } {
    void sorted; // always sorted: a valid answer for sorted=false too
    const X = numeric(x);
    const nd = x.shape.length;
    const order = [...[...Array(nd).keys()].filter((d) => d !== dim), dim];
    const shape = order.map((d) => x.shape[d]);
    const strides = order.map((d) => x.strides[d]);
    const offs = offsetsOf(shape, strides, x.offset);
    const L = x.shape[dim];
    const outer = numelOf(shape) / Math.max(L, 1);
    // Results are produced with `dim` last, then moved back into place.
    const tmpV = new Float64Array(outer * k);
    const tmpI = new Float64Array(outer * k);
    const idx = Array.from({ length: L }, (_, i) => i);
    for (let o = 0; o < outer; o++) {
      const vals = (i: number) => X[offs[o * L + i]];
      const cmp = (a: number, b: number) => {
        const va = vals(a);
        const vb = vals(b);
        // NaN counts as the largest value, as in PyTorch.
        const na = va !== va;
        const nb = vb !== vb;
        if (na || nb) return na && nb ? a - b : largest ? (na ? -1 : 1) : na ? 1 : -1;
        return va === vb ? a - b : largest ? vb - va : va - vb;
      };
      const sortedIdx = [...idx].sort(cmp);
      for (let j = 0; j < k; j++) {
        tmpV[o * k + j] = vals(sortedIdx[j]);
        tmpI[o * k + j] = sortedIdx[j];
      }
    }
    const outShape = [...x.shape];
    outShape[dim] = k;
    const { out: values, finish } = output(this, x.dtype, outer * k);
    const indices = new Float64Array(outer * k);
    const permShape = order.map((d) => outShape[d]);
    const cs = contiguousStrides(outShape);
    const permStrides = order.map((d) => cs[d]);
    const dest = offsetsOf(permShape, permStrides, 0);
    for (let i = 0; i < outer * k; i++) {
      values[dest[i]] = tmpV[i];
      indices[dest[i]] = tmpI[i];
    }
    return { values: finish(), indices: this.store(indices) };
  }
}
