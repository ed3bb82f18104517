// Index kernels: gather, scatterAdd, indexSelect, indexAdd and topk. A bad index sets the device-side
// error flag (its code is in runtime/transfer.ts) and is reported at the next readback.

import type { Storage, View } from '../../backend.js';
import { contiguousStrides, numelOf } from '../../shape.js';
import type { GpuRuntime } from '../runtime/device.js';
import { type ComputeType, type GpuClass, gpuClass, isFloatClass } from '../runtime/dtype.js';
import { kernel } from '../runtime/params.js';
import { fill, narrowFrom32 } from './elementwise.js';
import { ATOMIC_ADD, decompose, dot, elementShader, loadAs } from './wgsl.js';

/** WGSL wrapping a possibly negative `idx_raw` into [0, p.size) as `v`, or flagging error `code` and returning. */
function checkIndex(code: number, onError: string): string {
  return `  let size = p.size;
  var v = idx_raw;
  if (v < 0) { v = v + size; }
  if (v < 0 || v >= size) { atomicMax(&ERR[0], ${code}u); ${onError} return; }`;
}

const ERR_BINDING = '@group(0) @binding(4) var<storage, read_write> ERR: array<atomic<u32>>;';

/** Shape and strides of a possibly 0-d operand as rank >= 1 lists. */
const dims = (a: readonly number[], zeroD: number) => (a.length ? [...a] : [zeroD]);

/** The element type gather and indexSelect move unchanged: f16, or any 32-bit word. */
const word = (c: GpuClass) => (c === 'f16' ? 'f16' : 'u32');

export function gather(rt: GpuRuntime, x: View, dim: number, index: View): Storage {
  rt.check();
  const shape = dims(index.shape, 1);
  const R = shape.length;
  const n = numelOf(index.shape);
  const out = rt.newStorage(n, x.dtype);
  if (n === 0) return out;
  const w = word(gpuClass(x.dtype));
  const k = kernel(
    `gather:${R}:${dim}:${w}`,
    ['n', 'XO', 'IO', 'size', ['shape', R], ['xStrides', R], ['iStrides', R]],
    () =>
      elementShader(
        `@group(0) @binding(1) var<storage, read_write> OUT: array<${w}>;
@group(0) @binding(2) var<storage, read> X: array<${w}>;
@group(0) @binding(3) var<storage, read> IDX: array<i32>;
${ERR_BINDING}`,
        `  if (i >= u32(p.n)) { return; }
${decompose(R, 'shape')}
  let idx_raw = IDX[u32(p.IO + ${dot(R, 'iStrides')})];
${checkIndex(1, `OUT[i] = ${w}(0);`)}
  OUT[i] = X[u32(p.XO + ${dot(R, 'xStrides', { [dim]: 'v' })})];`,
      ),
  );
  rt.launch(
    k,
    {
      n,
      XO: x.offset,
      IO: index.offset,
      size: x.shape.length ? x.shape[dim] : 1,
      shape,
      xStrides: dims(x.strides, 0),
      iStrides: dims(index.strides, 0),
    },
    [out._buffer!, rt.buffer(x, 'gather'), rt.buffer(index, 'gather'), rt.errorFlag],
    rt.grid1(n),
  );
  return out;
}

export function scatterAdd(
  rt: GpuRuntime,
  shape: readonly number[],
  dim: number,
  index: View,
  src: View,
): Storage {
  const out = fill(rt, 'float32', numelOf(shape), 0);
  const n = numelOf(index.shape);
  if (n === 0) return narrowFrom32(rt, out, numelOf(shape), src.dtype);
  const R = Math.max(index.shape.length, 1);
  const sc = gpuClass(src.dtype);
  const k = kernel(
    `scatterAdd:${R}:${dim}:${sc}`,
    ['n', 'IO', 'SO', 'size', ['shape', R], ['oStrides', R], ['iStrides', R], ['sStrides', R]],
    () =>
      elementShader(
        `@group(0) @binding(1) var<storage, read_write> OUT: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> SRC: array<${sc}>;
${ERR_BINDING}`,
        `  if (i >= u32(p.n)) { return; }
${decompose(R, 'shape')}
  let idx_raw = IDX[u32(p.IO + ${dot(R, 'iStrides')})];
${checkIndex(2, '')}
  atomic_add_f32(u32(${dot(R, 'oStrides', { [dim]: 'v' })}), ${loadAs(sc, 'f32', `SRC[u32(p.SO + ${dot(R, 'sStrides')})]`)});`,
        ATOMIC_ADD,
      ),
  );
  rt.launch(
    k,
    {
      n,
      IO: index.offset,
      SO: src.offset,
      size: shape.length ? shape[dim] : 1,
      shape: dims(index.shape, 1),
      oStrides: shape.length ? contiguousStrides(shape) : [0],
      iStrides: dims(index.strides, 0),
      sStrides: dims(src.strides, 0),
    },
    [out._buffer!, rt.buffer(index, 'scatterAdd'), rt.buffer(src, 'scatterAdd'), rt.errorFlag],
    rt.grid1(n),
  );
  return narrowFrom32(rt, out, numelOf(shape), src.dtype);
}

export function indexSelect(rt: GpuRuntime, x: View, dim: number, index: View): Storage {
  rt.check();
  const outShape = dims(x.shape, 1);
  const d = x.shape.length ? dim : 0;
  outShape[d] = numelOf(index.shape);
  const n = numelOf(outShape);
  const out = rt.newStorage(n, x.dtype);
  if (n === 0) return out;
  const R = outShape.length;
  const w = word(gpuClass(x.dtype));
  const k = kernel(
    `indexSelect:${R}:${d}:${w}`,
    ['n', 'XO', 'IO', 'iStride', 'size', ['shape', R], ['xStrides', R]],
    () =>
      elementShader(
        `@group(0) @binding(1) var<storage, read_write> OUT: array<${w}>;
@group(0) @binding(2) var<storage, read> X: array<${w}>;
@group(0) @binding(3) var<storage, read> IDX: array<i32>;
${ERR_BINDING}`,
        `  if (i >= u32(p.n)) { return; }
${decompose(R, 'shape')}
  let idx_raw = IDX[u32(p.IO + c${d} * p.iStride)];
${checkIndex(3, `OUT[i] = ${w}(0);`)}
  OUT[i] = X[u32(p.XO + ${dot(R, 'xStrides', { [d]: 'v' })})];`,
      ),
  );
  rt.launch(
    k,
    {
      n,
      XO: x.offset,
      IO: index.offset,
      iStride: index.strides.length ? index.strides[0] : 0,
      size: x.shape.length ? x.shape[d] : 1,
      shape: outShape,
      xStrides: dims(x.strides, 0),
    },
    [out._buffer!, rt.buffer(x, 'indexSelect'), rt.buffer(index, 'indexSelect'), rt.errorFlag],
    rt.grid1(n),
  );
  return out;
}

export function indexAdd(
  rt: GpuRuntime,
  shape: readonly number[],
  dim: number,
  index: View,
  src: View,
): Storage {
  const out = fill(rt, 'float32', numelOf(shape), 0);
  const n = numelOf(src.shape);
  if (n === 0) return narrowFrom32(rt, out, numelOf(shape), src.dtype);
  const srcShape = dims(src.shape, 1);
  const d = src.shape.length ? dim : 0;
  const R = srcShape.length;
  const sc = gpuClass(src.dtype);
  const k = kernel(
    `indexAdd:${R}:${d}:${sc}`,
    ['n', 'IO', 'SO', 'iStride', 'size', ['shape', R], ['oStrides', R], ['sStrides', R]],
    () =>
      elementShader(
        `@group(0) @binding(1) var<storage, read_write> OUT: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> SRC: array<${sc}>;
${ERR_BINDING}`,
        `  if (i >= u32(p.n)) { return; }
${decompose(R, 'shape')}
  let idx_raw = IDX[u32(p.IO + c${d} * p.iStride)];
${checkIndex(4, '')}
  atomic_add_f32(u32(${dot(R, 'oStrides', { [d]: 'v' })}), ${loadAs(sc, 'f32', `SRC[u32(p.SO + ${dot(R, 'sStrides')})]`)});`,
        ATOMIC_ADD,
      ),
  );
  rt.launch(
    k,
    {
      n,
      IO: index.offset,
      SO: src.offset,
      iStride: index.strides.length ? index.strides[0] : 0,
      size: shape.length ? shape[d] : 1,
      shape: srcShape,
      oStrides: shape.length ? contiguousStrides(shape) : [0],
      sStrides: dims(src.strides, 0),
    },
    [out._buffer!, rt.buffer(index, 'indexAdd'), rt.buffer(src, 'indexAdd'), rt.errorFlag],
    rt.grid1(n),
  );
  return narrowFrom32(rt, out, numelOf(shape), src.dtype);
}

/** WGSL body of before(va, ia, vb, ib): a ranks ahead of b in the output order (NaN counts as the largest). */
function topkOrder(ct: ComputeType, largest: boolean): string {
  if (ct === 'i32') return `if (va == vb) { return ia < ib; } return va ${largest ? '>' : '<'} vb;`;
  return `let na = is_nan(va); let nb = is_nan(vb); if (na || nb) { if (na && nb) { return ia < ib; } return ${largest ? 'na' : 'nb'}; } if (va == vb) { return ia < ib; } return va ${largest ? '>' : '<'} vb;`;
}

/** The k first elements along `dim` in sorted order, and their indices; one thread per row (k selection passes). */
export function topk(
  rt: GpuRuntime,
  x: View,
  k: number,
  dim: number,
  largest: boolean,
): { values: Storage; indices: Storage } {
  rt.check();
  const shape = dims(x.shape, 1);
  const strides = dims(x.strides, 0);
  const d = x.shape.length ? dim : 0;
  const L = shape[d];
  const outShape = [...shape];
  outShape[d] = k;
  const n = numelOf(outShape);
  const values = rt.newStorage(n, x.dtype);
  const indices = rt.newStorage(n, 'int64');
  const rows = L === 0 ? 0 : numelOf(shape) / L;
  if (n === 0 || rows === 0) return { values, indices };
  const rest = shape.map((_, e) => e).filter((e) => e !== d);
  const R = Math.max(rest.length, 1);
  const outStrides = contiguousStrides(outShape);
  const xc = gpuClass(x.dtype);
  const ct: ComputeType = isFloatClass(xc) ? 'f32' : 'i32';
  const at = (e: string) => loadAs(xc, ct, `X[u32(xb + ${e} * xStride)]`);
  const kern = kernel(
    `topk:${xc}:${R}:${largest}`,
    ['rows', 'L', 'k', 'XO', 'xStride', 'outStride', ['shape', R], ['xStrides', R], ['outStrides', R]],
    () =>
      elementShader(
        `@group(0) @binding(1) var<storage, read_write> VALS: array<${xc}>;
@group(0) @binding(2) var<storage, read_write> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> X: array<${xc}>;`,
        `  if (i >= u32(p.rows)) { return; }
${decompose(R, 'shape')}
  let xb = p.XO + ${dot(R, 'xStrides')};
  let ob = ${dot(R, 'outStrides')};
  let L = p.L;
  let xStride = p.xStride;
  var prev = -1;
  for (var j = 0; j < p.k; j++) {
    var best = -1;
    for (var e = 0; e < L; e++) {
      let v = ${at('e')};
      if (prev >= 0 && !before(${at('prev')}, prev, v, e)) { continue; }
      if (best >= 0 && !before(v, e, ${at('best')}, best)) { continue; }
      best = e;
    }
    VALS[u32(ob + j * p.outStride)] = X[u32(xb + best * xStride)];
    IDX[u32(ob + j * p.outStride)] = best;
    prev = best;
  }`,
        `fn before(va: ${ct}, ia: i32, vb: ${ct}, ib: i32) -> bool { ${topkOrder(ct, largest)} }`,
      ),
  );
  const pick = (a: readonly number[], zeroD: number) => (rest.length ? rest.map((e) => a[e]) : [zeroD]);
  rt.launch(
    kern,
    {
      rows,
      L,
      k,
      XO: x.offset,
      xStride: strides[d],
      outStride: outStrides[d],
      shape: pick(shape, 1),
      xStrides: pick(strides, 0),
      outStrides: pick(outStrides, 0),
    },
    [values._buffer!, indices._buffer!, rt.buffer(x, 'topk')],
    rt.grid1(rows),
  );
  return { values, indices };
}
