// The WebGPU backend: GPUBuffer storages from a pool, WGSL kernels batched into command buffers,
// and readback through mapAsync. Kernels mirror the CPU backend's semantics (src/cpu/backend.ts).
/// <reference types="@webgpu/types" preserve="true" />

import type {
  Backend,
  BinaryOp,
  Conv2dParams,
  Pool2dParams,
  ReduceOp,
  Storage,
  UnaryOp,
  View,
} from '../backend.js';
import {
  assertNever,
  bfloat16ToFloat32,
  castScalar,
  type DType,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  type TypedArray,
} from '../dtype.js';
import { contiguousStrides, isContiguousLayout, numelOf } from '../shape.js';
import { BufferPool, type PoolStats, USAGE } from './pool.js';
import {
  ATOMIC_ADD,
  binaryStmt,
  type ComputeType,
  decompose,
  fillShader,
  type GpuClass,
  gemmShader,
  gemmTile,
  gpuClass,
  loadAs,
  mapShader,
  reduceShader,
  simpleShader,
  storeAs,
  unaryExpr,
  WORKGROUP,
} from './wgsl.js';

/** A tensor's storage on the GPU: a pooled buffer holding `length` 32-bit elements. */
export class WebGpuStorage implements Storage {
  readonly device = 'webgpu' as const;
  /** @internal null once disposed. */
  _buffer: GPUBuffer | null;

  constructor(
    private readonly owner: WebGpuBackend,
    buffer: GPUBuffer,
    readonly length: number,
  ) {
    this._buffer = buffer;
  }

  /** Returns the buffer to the pool at once; views of this storage become invalid. */
  dispose(): void {
    if (!this._buffer) return;
    this.owner._releaseStorage(this, this._buffer);
    this._buffer = null;
  }
}

/** Codes kernels write into the device-side error flag (checked at the next readback). */
const KERNEL_ERRORS: Record<number, string> = {
  1: 'gather: index out of bounds',
  2: 'scatterAdd: index out of bounds',
  3: 'indexSelect: index out of bounds',
  4: 'indexAdd: index out of bounds',
};

const ARENA_BYTES = 1 << 18;
const MAX_BATCH = 512;

interface Coalesced {
  shape: number[];
  strides: number[][];
}

/** Drops size-1 dims and merges dims that are contiguous in every operand, so kernels see low rank. */
function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): Coalesced {
  const dims = shape.map((_, d) => d).filter((d) => shape[d] !== 1);
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const d of dims) {
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, j) => {
        outStrides[j][last] = s[d];
      });
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, j) => {
        outStrides[j].push(s[d]);
      });
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/** Bytes of one element on the GPU (every dtype is held in 32 bits). */
const ELEM = 4;

function isFloatClass(dtype: DType): boolean {
  return gpuClass(dtype) === 'f32';
}

/** Host array in the GPU format of `dtype`, from the dtype's storage format. */
function toGpuArray(data: TypedArray, dtype: DType): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'float64':
      return Float32Array.from(data);
    case 'float16':
      return Float32Array.from(data as Uint16Array, float16ToFloat32);
    case 'bfloat16':
      return Float32Array.from(data as Uint16Array, bfloat16ToFloat32);
    case 'int64': {
      const out = new Int32Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (!(v >= -2147483648 && v <= 2147483647)) {
          throw new Error(
            `webgpu: int64 value ${v} (element ${i}) does not fit the GPU's 32-bit integer storage; int64 tensors on webgpu hold |v| < 2^31`,
          );
        }
        out[i] = v;
      }
      return out;
    }
    case 'int32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'int16':
    case 'int8':
      return Int32Array.from(data);
    case 'uint8':
    case 'bool':
      return Uint32Array.from(data);
    default:
      return assertNever(dtype);
  }
}

/** Storage-format array of `dtype` from `n` GPU words. */
function fromGpuBytes(bytes: ArrayBuffer, dtype: DType, n: number): TypedArray {
  switch (gpuClass(dtype)) {
    case 'f32': {
      const f = new Float32Array(bytes, 0, n);
      if (dtype === 'float32') return f.slice();
      if (dtype === 'float64') return Float64Array.from(f);
      if (dtype === 'float16') return Uint16Array.from(f, float32ToFloat16);
      return Uint16Array.from(f, float32ToBfloat16);
    }
    case 'i32': {
      const a = new Int32Array(bytes, 0, n);
      if (dtype === 'int64') return Float64Array.from(a);
      if (dtype === 'int32') return a.slice();
      if (dtype === 'int16') return Int16Array.from(a);
      return Int8Array.from(a);
    }
    default:
      return Uint8Array.from(new Uint32Array(bytes, 0, n));
  }
}

/** The 32-bit pattern that `fill` writes for `value` in `dtype` (as an i32). */
function fillBits(dtype: DType, value: number): number {
  const f = new Float32Array(1);
  const i = new Int32Array(f.buffer);
  switch (gpuClass(dtype)) {
    case 'f32':
      f[0] = dtype === 'float16' || dtype === 'bfloat16' ? castScalar(value, dtype) : value;
      return i[0];
    case 'i32': {
      const v = castScalar(value, dtype);
      if (v < -2147483648 || v > 2147483647) {
        throw new Error(`webgpu: fill value ${value} does not fit the GPU's 32-bit storage of ${dtype}`);
      }
      return v;
    }
    default:
      return castScalar(value, dtype);
  }
}

function computeType(...dtypes: DType[]): ComputeType {
  return dtypes.some(isFloatClass) ? 'f32' : 'i32';
}

/** The WebGPU implementation of every backend kernel. Create it with `initWebGpu()`. */
export class WebGpuBackend implements Backend {
  readonly device = 'webgpu' as const;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly registry: FinalizationRegistry<GPUBuffer>;
  private readonly errorFlag: GPUBuffer;
  private readonly arena: GPUBuffer;
  private readonly arenaData = new Int32Array(ARENA_BYTES / 4);
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private batched = 0;
  /** Kernel dispatches recorded since the backend was created (for profiling). */
  dispatches = 0;
  private lost: string | null = null;
  private pendingError: string | null = null;
  private readonly align: number;
  private readonly maxGroups: number;

  constructor(
    /** The GPUDevice every kernel runs on. */
    readonly gpuDevice: GPUDevice,
    /** What the adapter says about itself (vendor, architecture, device, description). */
    readonly adapterInfo: { vendor: string; architecture: string; device: string; description: string },
    /** Asks the JS engine for a collection when the pool has grown by `threshold` bytes (see initWebGpu). */
    pressure: { collect: (() => void) | null; threshold: number } = { collect: null, threshold: 0 },
  ) {
    const d = gpuDevice;
    this.align = d.limits.minStorageBufferOffsetAlignment;
    this.maxGroups = d.limits.maxComputeWorkgroupsPerDimension;
    const fail = (m: string) => {
      this.pendingError ??= m;
    };
    this.pool = new BufferPool(d, USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST, fail, pressure);
    this.staging = new BufferPool(d, USAGE.MAP_READ | USAGE.COPY_DST, fail);
    this.registry = new FinalizationRegistry((buffer) => {
      if (!this.lost) this.pool.release(buffer);
    });
    this.errorFlag = d.createBuffer({ size: 16, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    this.arena = d.createBuffer({ size: ARENA_BYTES, usage: USAGE.STORAGE | USAGE.COPY_DST });
    d.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
    d.onuncapturederror = (ev: GPUUncapturedErrorEvent) => fail(ev.error.message);
  }

  /** The pool's byte counts (allocated, in use, free). */
  memory(): PoolStats {
    return this.pool.snapshot();
  }

  /** Destroys the free buffers the pool keeps for reuse. */
  trimPool(): void {
    this.flush();
    this.pool.trim();
    this.staging.trim();
  }

  /** Destroys the device; every webgpu tensor becomes unusable. */
  destroy(): void {
    this.flush();
    this.gpuDevice.destroy();
  }

  // ---- errors, storage, batching ----

  private check(): void {
    if (this.lost !== null) {
      throw new Error(
        `webgpu: the GPU device was lost (${this.lost}); call initWebGpu() again and recreate your tensors`,
      );
    }
    if (this.pendingError !== null) {
      const m = this.pendingError;
      this.pendingError = null;
      throw new Error(`webgpu: ${m}`);
    }
  }

  /** @internal */
  _releaseStorage(s: WebGpuStorage, buffer: GPUBuffer): void {
    this.registry.unregister(s);
    if (!this.lost) this.pool.release(buffer);
  }

  private newStorage(length: number): WebGpuStorage {
    const bytes = Math.max(length, 1) * ELEM;
    const maxBinding = this.gpuDevice.limits.maxStorageBufferBindingSize;
    if (bytes > maxBinding) {
      throw new Error(
        `webgpu: a tensor of ${length} elements (${bytes} bytes) exceeds the device's maxStorageBufferBindingSize (${maxBinding} bytes)`,
      );
    }
    const buffer = this.pool.acquire(bytes);
    const s = new WebGpuStorage(this, buffer, length);
    this.registry.register(s, buffer, s);
    return s;
  }

  private buf(v: View | Storage, op: string): GPUBuffer {
    const s = ('storage' in v ? v.storage : v) as Storage;
    if (!(s instanceof WebGpuStorage))
      throw new Error(`${op}: expected a webgpu tensor, got one on '${s.device}'`);
    if (!s._buffer) throw new Error(`${op}: the tensor's webgpu storage was disposed`);
    return s._buffer;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.gpuDevice.createCommandEncoder();
    return this.encoder;
  }

  /** Submits the batched work (parameters first: the queue runs writes and submits in order). */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.arenaUsed > 0)
      this.gpuDevice.queue.writeBuffer(this.arena, 0, this.arenaData, 0, this.arenaUsed / 4);
    this.gpuDevice.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.arenaUsed = 0;
    this.batched = 0;
  }

  private pipeline(key: string, code: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const d = this.gpuDevice;
      d.pushErrorScope('validation');
      const module = d.createShaderModule({ code: code(), label: key });
      p = d.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      d.popErrorScope().then(
        (err) => {
          if (err) this.pendingError ??= `kernel ${key} failed to compile: ${err.message}`;
        },
        () => {},
      );
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Records one dispatch: params go to the arena, buffers bind in order from binding 1. */
  private launch(
    key: string,
    code: () => string,
    params: readonly number[],
    buffers: GPUBuffer[],
    grid: [number, number, number],
  ): void {
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    for (const g of grid) {
      if (g > this.maxGroups)
        throw new Error(
          `webgpu: ${key}: dispatch of ${grid.join('x')} workgroups exceeds the device limit ${this.maxGroups}`,
        );
    }
    const pipeline = this.pipeline(key, code);
    const bytes = Math.max(params.length, 1) * 4;
    if (this.arenaUsed + bytes > ARENA_BYTES) this.flush();
    const offset = this.arenaUsed;
    for (let i = 0; i < params.length; i++) {
      const v = params[i];
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new Error(`webgpu: ${key}: parameter ${i} (${v}) does not fit a 32-bit integer`);
      }
      this.arenaData[offset / 4 + i] = v;
    }
    this.arenaUsed = Math.ceil((offset + bytes) / this.align) * this.align;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arena, offset, size: bytes } },
    ];
    buffers.forEach((buffer, i) => {
      entries.push({ binding: i + 1, resource: { buffer } });
    });
    const bindGroup = this.gpuDevice.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (!this.pass) this.pass = (this.encoder ??= this.gpuDevice.createCommandEncoder()).beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.dispatches++;
    if (++this.batched >= MAX_BATCH) this.flush();
  }

  /** Workgroups for one thread per element, folded into 2-D when there are more than 65535 groups. */
  private grid1(n: number): [number, number, number] {
    const groups = Math.ceil(n / WORKGROUP);
    if (groups <= this.maxGroups) return [groups, 1, 1];
    return [this.maxGroups, Math.ceil(groups / this.maxGroups), 1];
  }

  private gridGroups(n: number): [number, number, number] {
    if (n <= this.maxGroups) return [n, 1, 1];
    return [this.maxGroups, Math.ceil(n / this.maxGroups), 1];
  }

  // ---- storage and transfer ----

  alloc(dtype: DType, length: number): Storage {
    return this.fill(dtype, length, 0);
  }

  fill(dtype: DType, length: number, value: number): Storage {
    this.check();
    const s = this.newStorage(length);
    const bits = fillBits(dtype, value);
    if (length > 0) this.launch('fill', fillShader, [length, bits], [s._buffer!], this.grid1(length));
    return s;
  }

  fromArray(data: TypedArray, dtype: DType): Storage {
    this.check();
    const gpu = toGpuArray(data, dtype);
    const s = this.newStorage(gpu.length);
    if (gpu.length > 0) {
      // Pending kernels may still use this pooled buffer: submit them before the queue write.
      this.flush();
      this.gpuDevice.queue.writeBuffer(s._buffer!, 0, gpu.buffer, gpu.byteOffset, gpu.byteLength);
    }
    return s;
  }

  async read(x: View): Promise<TypedArray> {
    this.check();
    const n = numelOf(x.shape);
    let src = x;
    let temp: WebGpuStorage | null = null;
    if (!isContiguousLayout(x.shape, x.strides)) {
      temp = this.copy(x, x.dtype) as WebGpuStorage;
      src = { storage: temp, shape: x.shape, strides: contiguousStrides(x.shape), offset: 0, dtype: x.dtype };
    }
    const bytes = n * ELEM;
    const staging = this.staging.acquire(bytes + 16);
    const enc = this.commandEncoder();
    if (n > 0) enc.copyBufferToBuffer(this.buf(src, 'read'), src.offset * ELEM, staging, 0, bytes);
    enc.copyBufferToBuffer(this.errorFlag, 0, staging, bytes, 16);
    enc.clearBuffer(this.errorFlag);
    temp?.dispose();
    this.flush();
    try {
      await staging.mapAsync(1, 0, bytes + 16);
    } catch (e) {
      this.check();
      throw new Error(`webgpu: readback failed: ${(e as Error).message}`);
    }
    const copy = staging.getMappedRange(0, bytes + 16).slice(0);
    staging.unmap();
    this.staging.release(staging);
    this.check();
    const flag = new Uint32Array(copy, bytes, 1)[0];
    if (flag !== 0) {
      throw new Error(
        `webgpu: ${KERNEL_ERRORS[flag] ?? `kernel error ${flag}`} (detected on the GPU by an earlier op; reported at this readback)`,
      );
    }
    return fromGpuBytes(copy, x.dtype, n);
  }

  readSync(_x: View): TypedArray {
    throw new Error(
      "webgpu tensors need `await t.read()` (or `await t.item()`, `await t.tolist()`, `await t.toAsync('cpu')`): " +
        'a GPU readback cannot be synchronous',
    );
  }

  // ---- elementwise ----

  /**
   * Runs an elementwise kernel over `inputs` (all shaped like the output) into a fresh contiguous
   * storage, or into the elements `into` covers.
   */
  private map(
    name: string,
    inputs: View[],
    loadTypes: (ComputeType | 'bool')[],
    ct: ComputeType,
    outDtype: DType,
    body: string,
    into?: View,
  ): Storage | null {
    this.check();
    const shape = into ? into.shape : inputs[0].shape;
    const n = numelOf(shape);
    const out = into ? null : this.newStorage(n);
    if (n === 0) return out;
    const outStrides = into ? into.strides : contiguousStrides(shape);
    const c = coalesce(shape, [outStrides, ...inputs.map((v) => v.strides)]);
    const rank = c.shape.length;
    const classes = inputs.map((v) => gpuClass(v.dtype));
    const key = `map:${name}:${ct}:${outDtype}:${classes.join(',')}:${loadTypes.join(',')}:${rank}`;
    const params = [
      n,
      into ? into.offset : 0,
      ...inputs.map((v) => v.offset),
      ...c.shape,
      ...c.strides.flat(),
    ];
    const outBuf = into ? this.buf(into, name) : out!._buffer!;
    this.launch(
      key,
      () => mapShader({ inputs: classes, loadTypes, ct, outDtype, rank, body }),
      params,
      [outBuf, ...inputs.map((v) => this.buf(v, name))],
      this.grid1(n),
    );
    return out;
  }

  copy(x: View, dtype: DType): Storage {
    const ct = computeType(x.dtype, dtype);
    return this.map('copy', [x], [ct], ct, dtype, 'r = v1;')!;
  }

  assign(dst: View, src: View): void {
    let s = src;
    let temp: Storage | null = null;
    if (src.storage === dst.storage) {
      // Overlapping read and write in one dispatch is not allowed: read from a copy.
      temp = this.copy(src, src.dtype);
      s = {
        storage: temp,
        shape: src.shape,
        strides: contiguousStrides(src.shape),
        offset: 0,
        dtype: src.dtype,
      };
    }
    const ct = computeType(s.dtype, dst.dtype);
    this.map('copy', [s], [ct], ct, dst.dtype, 'r = v1;', dst);
    temp?.dispose();
  }

  unary(op: UnaryOp, x: View, outDtype: DType): Storage {
    const ct = computeType(x.dtype, outDtype);
    return this.map(`unary-${op}`, [x], [ct], ct, outDtype, `r = ${unaryExpr(op, ct, 'v1')};`)!;
  }

  binary(op: BinaryOp, a: View, b: View, outDtype: DType): Storage {
    const ct = computeType(a.dtype, b.dtype, outDtype === 'bool' ? a.dtype : outDtype);
    return this.map(
      `binary-${op}`,
      [a, b],
      [ct, ct],
      ct,
      outDtype,
      `let a = v1; let b = v2; ${binaryStmt(op, ct)}`,
    )!;
  }

  where(cond: View, a: View, b: View, outDtype: DType): Storage {
    const ct = computeType(outDtype);
    return this.map('where', [cond, a, b], ['bool', ct, ct], ct, outDtype, 'r = select(v3, v2, v1);')!;
  }

  // ---- reductions ----

  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage {
    this.check();
    const nd = x.shape.length;
    const kept = [...Array(nd).keys()].filter((d) => !dims.includes(d));
    const outer = numelOf(kept.map((d) => x.shape[d]));
    const inner = numelOf(dims.map((d) => x.shape[d]));
    const out = this.newStorage(outer);
    if (outer === 0) return out;
    if (inner === 0 && (op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin')) {
      out.dispose();
      throw new Error(`${op}: cannot reduce over an empty dimension`);
    }
    const k = coalesce(
      kept.map((d) => x.shape[d]),
      [kept.map((d) => x.strides[d])],
    );
    const r = coalesce(
      dims.map((d) => x.shape[d]),
      [dims.map((d) => x.strides[d])],
    );
    const ct = computeType(
      x.dtype,
      op === 'argmax' || op === 'argmin' || op === 'any' || op === 'all' ? x.dtype : outDtype,
    );
    const perGroup = inner > 32 && (outer <= 2048 || inner >= 1024);
    const input = gpuClass(x.dtype);
    const key = `reduce:${op}:${input}:${ct}:${outDtype}:${k.shape.length}:${r.shape.length}:${perGroup}`;
    const params = [outer, inner, x.offset, ...k.shape, ...k.strides[0], ...r.shape, ...r.strides[0]];
    this.launch(
      key,
      () =>
        reduceShader({
          op,
          input,
          ct,
          outDtype,
          keptRank: k.shape.length,
          redRank: r.shape.length,
          perGroup,
        }),
      params,
      [out._buffer!, this.buf(x, op)],
      perGroup ? this.gridGroups(outer) : this.grid1(outer),
    );
    return out;
  }

  // ---- matrix products and convolutions (one tiled GEMM body) ----

  matmul(a: View, b: View, outDtype: DType): Storage {
    this.check();
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    const out = this.newStorage(B * M * N);
    if (B * M * N === 0) return out;
    const ac = gpuClass(a.dtype);
    const bc = gpuClass(b.dtype);
    const tile = gemmTile(M, N);
    const key = `matmul:${ac}:${bc}:${outDtype}:${tile.tm}x${tile.tn}`;
    const params = [M, N, K, a.offset, ...a.strides, b.offset, ...b.strides];
    this.launch(
      key,
      () =>
        gemmShader({
          tile,
          params: ['M', 'N', 'K', 'AO', 'SA0', 'SA1', 'SA2', 'BO', 'SB0', 'SB1', 'SB2'],
          bindings: `@group(0) @binding(1) var<storage, read_write> C: array<${gpuClass(outDtype)}>;
@group(0) @binding(2) var<storage, read> A: array<${ac}>;
@group(0) @binding(3) var<storage, read> BM: array<${bc}>;`,
          aHoist: 'let aRow = AO + g * SA0 + m * SA1;',
          aLoad: `av = ${loadAs(ac, 'f32', 'A[u32(aRow + k * SA2)]')};`,
          bHoist: 'let bCol = BO + g * SB0 + n * SB2;',
          bLoad: `bv = ${loadAs(bc, 'f32', 'BM[u32(bCol + k * SB1)]')};`,
          storeC: `C[u32((g * M + m) * N + n)] = ${storeAs(outDtype, 'f32', 'v')};`,
        }),
      params,
      [out._buffer!, this.buf(a, 'matmul'), this.buf(b, 'matmul')],
      [Math.ceil(N / tile.tn), Math.ceil(M / tile.tm), B],
    );
    return out;
  }

  private convParams(
    xShape: readonly number[],
    wShape: readonly number[],
    outHW: readonly number[],
    p: Conv2dParams,
  ) {
    const [, C, IH, IW] = xShape;
    const [O, CG, KH, KW] = wShape;
    const [OH, OW] = outHW;
    const G = p.groups;
    return {
      C,
      IH,
      IW,
      O,
      CG,
      KH,
      KW,
      OH,
      OW,
      G,
      OG: O / G,
      KC: CG * KH * KW,
      SH: p.stride[0],
      SW: p.stride[1],
      PH: p.padding[0],
      PW: p.padding[1],
      DH: p.dilation[0],
      DW: p.dilation[1],
    };
  }

  /** Convolution geometry as shader constants: one pipeline per layer shape, cheap index math. */
  /** Convolution geometry, passed as runtime parameters so one pipeline serves every layer shape. */
  private convGeometry(q: ReturnType<WebGpuBackend['convParams']>) {
    const { C, IH, IW, O, CG, OG, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, KC } = q;
    return { C, IH, IW, O, CG, OG, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, KC };
  }

  conv2d(x: View, weight: View, p: Conv2dParams, outShape: readonly number[]): Storage {
    this.check();
    const n = numelOf(outShape);
    const out = this.newStorage(n);
    if (n === 0) return out;
    const q = this.convParams(x.shape, weight.shape, outShape.slice(2), p);
    const cols = outShape[0] * q.OH * q.OW;
    const geo = this.convGeometry(q);
    const [M, N, K] = [q.OG, cols, q.KC];
    const tile = gemmTile(M, N);
    this.launch(
      `conv2d:${x.dtype}:${tile.tm}x${tile.tn}`,
      () =>
        gemmShader({
          tile,
          params: ['M', 'N', 'K', 'XO', 'WO', ...Object.keys(geo)],
          bindings: `@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read> WT: array<f32>;`,
          aHoist: 'let aRow = WO + (g * OG + m) * KC;',
          aLoad: 'av = WT[u32(aRow + k)];',
          bHoist: `let KHW = KH * KW; let bImg = n / (OH * OW); let bP = n % (OH * OW);
  let bH0 = (bP / OW) * SH - PH; let bW0 = (bP % OW) * SW - PW; let bBase = XO + (bImg * C + g * CG) * IH * IW;`,
          bLoad: `let c = k / KHW; let r = k - c * KHW; let kh = r / KW; let kw = r - kh * KW;
  let h = bH0 + kh * DH; let w = bW0 + kw * DW;
  if (h >= 0 && h < IH && w >= 0 && w < IW) { bv = X[u32(bBase + (c * IH + h) * IW + w)]; }`,
          storeC: `let img = n / (OH * OW); let pp = n % (OH * OW);
  OUT[u32((img * O + g * OG + m) * OH * OW + pp)] = ${storeAs(x.dtype, 'f32', 'v')};`,
        }),
      [M, N, K, x.offset, weight.offset, ...Object.values(geo)],
      [out._buffer!, this.buf(x, 'conv2d'), this.buf(weight, 'conv2d')],
      [Math.ceil(cols / tile.tn), Math.ceil(q.OG / tile.tm), q.G],
    );
    return out;
  }

  conv2dBackwardInput(gradOut: View, weight: View, p: Conv2dParams, inputShape: readonly number[]): Storage {
    this.check();
    const n = numelOf(inputShape);
    const out = this.newStorage(n);
    if (n === 0) return out;
    const q = this.convParams(inputShape, weight.shape, gradOut.shape.slice(2), p);
    const cols = inputShape[0] * q.IH * q.IW;
    const geo = this.convGeometry(q);
    const [M, N, K] = [q.CG, cols, q.OG * q.KH * q.KW];
    const tile = gemmTile(M, N);
    this.launch(
      `conv2dBackwardInput:${gradOut.dtype}:${tile.tm}x${tile.tn}`,
      () =>
        gemmShader({
          tile,
          params: ['M', 'N', 'K', 'GO', 'WO', ...Object.keys(geo)],
          bindings: `@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(2) var<storage, read> GD: array<f32>;
@group(0) @binding(3) var<storage, read> WT: array<f32>;`,
          aHoist: 'let KHW = KH * KW;',
          aLoad:
            'let o = k / KHW; let r = k - o * KHW; av = WT[u32(WO + ((g * OG + o) * CG + m) * KHW + r)];',
          bHoist: `let bImg = n / (IH * IW); let bQ = n % (IH * IW); let bTh = bQ / IW + PH; let bTw = bQ % IW + PW;
  let bBase = GO + (bImg * O + g * OG) * OH * OW;`,
          bLoad: `let o = k / KHW; let r = k - o * KHW; let kh = r / KW; let kw = r - kh * KW;
  let th = bTh - kh * DH; let tw = bTw - kw * DW;
  if (th >= 0 && tw >= 0 && th % SH == 0 && tw % SW == 0) {
    let oh = th / SH; let ow = tw / SW;
    if (oh < OH && ow < OW) { bv = GD[u32(bBase + (o * OH + oh) * OW + ow)]; }
  }`,
          storeC: `let img = n / (IH * IW); let qq = n % (IH * IW);
  OUT[u32((img * C + g * CG + m) * IH * IW + qq)] = ${storeAs(gradOut.dtype, 'f32', 'v')};`,
        }),
      [M, N, K, gradOut.offset, weight.offset, ...Object.values(geo)],
      [out._buffer!, this.buf(gradOut, 'conv2dBackwardInput'), this.buf(weight, 'conv2dBackwardInput')],
      [Math.ceil(cols / tile.tn), Math.ceil(q.CG / tile.tm), q.G],
    );
    return out;
  }

  conv2dBackwardWeight(x: View, gradOut: View, p: Conv2dParams, weightShape: readonly number[]): Storage {
    this.check();
    const n = numelOf(weightShape);
    const out = this.newStorage(n);
    if (n === 0) return out;
    const q = this.convParams(x.shape, weightShape, gradOut.shape.slice(2), p);
    const geo = this.convGeometry(q);
    const [M, N, K] = [q.OG, q.KC, x.shape[0] * q.OH * q.OW];
    const tile = gemmTile(M, N);
    this.launch(
      `conv2dBackwardWeight:${x.dtype}:${tile.tm}x${tile.tn}`,
      () =>
        gemmShader({
          tile,
          params: ['M', 'N', 'K', 'XO', 'GO', ...Object.keys(geo)],
          bindings: `@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read> GD: array<f32>;`,
          aHoist: 'let OHW = OH * OW; let aRow = GO + (g * OG + m) * OHW;',
          aLoad: 'let img = k / OHW; let pp = k - img * OHW; av = GD[u32(aRow + img * O * OHW + pp)];',
          bHoist: `let KHW = KH * KW; let bC = n / KHW; let bR = n - bC * KHW; let bKh = bR / KW;
  let bOffH = bKh * DH - PH; let bOffW = (bR - bKh * KW) * DW - PW; let bBase = XO + (g * CG + bC) * IH * IW;`,
          bLoad: `let img = k / OHW; let pp = k - img * OHW; let oh = pp / OW; let ow = pp - oh * OW;
  let h = oh * SH + bOffH; let w = ow * SW + bOffW;
  if (h >= 0 && h < IH && w >= 0 && w < IW) { bv = X[u32(bBase + img * C * IH * IW + h * IW + w)]; }`,
          storeC: `OUT[u32((g * OG + m) * KC + n)] = ${storeAs(x.dtype, 'f32', 'v')};`,
        }),
      [M, N, K, x.offset, gradOut.offset, ...Object.values(geo)],
      [out._buffer!, this.buf(x, 'conv2dBackwardWeight'), this.buf(gradOut, 'conv2dBackwardWeight')],
      [Math.ceil(q.KC / tile.tn), Math.ceil(q.OG / tile.tm), q.G],
    );
    return out;
  }

  // ---- pooling ----

  private poolParams(inputShape: readonly number[], outShape: readonly number[], p: Pool2dParams): number[] {
    return [
      inputShape[2],
      inputShape[3],
      outShape[2],
      outShape[3],
      p.kernelSize[0],
      p.kernelSize[1],
      p.stride[0],
      p.stride[1],
      p.padding[0],
      p.padding[1],
      p.dilation[0],
      p.dilation[1],
    ];
  }

  maxPool2d(
    x: View,
    p: Pool2dParams,
    outShape: readonly number[],
    _withIndices = true,
  ): { values: Storage; indices: Storage } {
    this.check();
    const n = numelOf(outShape);
    const values = this.newStorage(n);
    const indices = this.newStorage(n);
    const xc = gpuClass(x.dtype);
    // P = [n, XO, IH, IW, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW]
    this.launch(
      `maxPool2d:${x.dtype}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> VALS: array<${xc}>;
@group(0) @binding(2) var<storage, read_write> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> X: array<${xc}>;`,
          `  if (i >= u32(P[0])) { return; }
  let IH = P[2]; let IW = P[3]; let OH = P[4]; let OW = P[5];
  let nc = i32(i) / (OH * OW); let q = i32(i) % (OH * OW); let oh = q / OW; let ow = q % OW;
  let base = P[1] + nc * IH * IW;
  var best = mk_inf(true);
  var bi = -1;
  for (var a = 0; a < P[6]; a++) {
    let h = oh * P[8] - P[10] + a * P[12];
    if (h < 0 || h >= IH) { continue; }
    for (var b = 0; b < P[7]; b++) {
      let w = ow * P[9] - P[11] + b * P[13];
      if (w < 0 || w >= IW) { continue; }
      let v = ${loadAs(xc, 'f32', 'X[u32(base + h * IW + w)]')};
      if (v > best || is_nan(v) || bi < 0) {
        best = v;
        bi = h * IW + w;
        if (is_nan(v)) { break; }
      }
    }
  }
  VALS[i] = ${storeAs(x.dtype, 'f32', 'best')};
  IDX[i] = bi;`,
        ),
      [n, x.offset, ...this.poolParams(x.shape, outShape, p)],
      [values._buffer!, indices._buffer!, this.buf(x, 'maxPool2d')],
      this.grid1(n),
    );
    return { values, indices };
  }

  maxPool2dBackward(gradOut: View, indices: View, inputShape: readonly number[]): Storage {
    const out = this.alloc('float32', numelOf(inputShape)) as WebGpuStorage;
    const n = numelOf(gradOut.shape);
    const gc = gpuClass(gradOut.dtype);
    const P = gradOut.shape[2] * gradOut.shape[3];
    // P = [n, GO, IO, planeOut, planeIn]
    this.launch(
      `maxPool2dBackward:${gc}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> G: array<${gc}>;
@group(0) @binding(3) var<storage, read> IDX: array<i32>;`,
          `  if (i >= u32(P[0])) { return; }
  let nc = i32(i) / P[3];
  let idx = IDX[u32(P[2] + i32(i))];
  atomic_add_f32(u32(nc * P[4] + idx), ${loadAs(gc, 'f32', 'G[u32(P[1] + i32(i))]')});`,
          ATOMIC_ADD,
        ),
      [n, gradOut.offset, indices.offset, P, inputShape[2] * inputShape[3]],
      [out._buffer!, this.buf(gradOut, 'maxPool2dBackward'), this.buf(indices, 'maxPool2dBackward')],
      this.grid1(n),
    );
    return out;
  }

  /** WGSL computing the clipped window h0..h1, w0..w1 and `divisor` of output (oh, ow), as the CPU's avgWindow. */
  private static AVG_WINDOW = `
fn avg_window(oh: i32, ow: i32) -> vec4<i32> {
  let IH = P[2]; let IW = P[3];
  var h0 = oh * P[8] - P[10];
  var w0 = ow * P[9] - P[11];
  var h1 = min(h0 + P[6], IH + P[10]);
  var w1 = min(w0 + P[7], IW + P[11]);
  return vec4<i32>(h0, h1, w0, w1);
}
fn avg_divisor(win: vec4<i32>) -> f32 {
  let pool = (win.y - win.x) * (win.w - win.z);
  let h0 = max(win.x, 0); let h1 = min(win.y, P[2]);
  let w0 = max(win.z, 0); let w1 = min(win.w, P[3]);
  if (P[14] > 0) { return f32(P[14]); }
  if (P[15] != 0) { return f32(pool); }
  return f32((h1 - h0) * (w1 - w0));
}`;

  avgPool2d(x: View, p: Pool2dParams, outShape: readonly number[]): Storage {
    this.check();
    const n = numelOf(outShape);
    const out = this.newStorage(n);
    const xc = gpuClass(x.dtype);
    // P = [n, XO, IH, IW, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, divisorOverride (0 = none), countIncludePad]
    this.launch(
      `avgPool2d:${x.dtype}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<${xc}>;
@group(0) @binding(2) var<storage, read> X: array<${xc}>;`,
          `  if (i >= u32(P[0])) { return; }
  let IH = P[2]; let IW = P[3]; let OH = P[4]; let OW = P[5];
  let nc = i32(i) / (OH * OW); let q = i32(i) % (OH * OW); let oh = q / OW; let ow = q % OW;
  let win = avg_window(oh, ow);
  let base = P[1] + nc * IH * IW;
  var s = 0.0;
  for (var h = max(win.x, 0); h < min(win.y, IH); h++) {
    for (var w = max(win.z, 0); w < min(win.w, IW); w++) { s += ${loadAs(xc, 'f32', 'X[u32(base + h * IW + w)]')}; }
  }
  OUT[i] = ${storeAs(x.dtype, 'f32', 's / avg_divisor(win)')};`,
          WebGpuBackend.AVG_WINDOW,
        ),
      [
        n,
        x.offset,
        ...this.poolParams(x.shape, outShape, p),
        p.divisorOverride ?? 0,
        p.countIncludePad ? 1 : 0,
      ],
      [out._buffer!, this.buf(x, 'avgPool2d')],
      this.grid1(n),
    );
    return out;
  }

  avgPool2dBackward(gradOut: View, p: Pool2dParams, inputShape: readonly number[]): Storage {
    this.check();
    const n = numelOf(inputShape);
    const out = this.newStorage(n);
    const gc = gpuClass(gradOut.dtype);
    // Gather form (deterministic): each input element sums g / divisor over the windows that cover it.
    this.launch(
      `avgPool2dBackward:${gc}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<${gc}>;`,
          `  if (i >= u32(P[0])) { return; }
  let IH = P[2]; let IW = P[3]; let OH = P[4]; let OW = P[5];
  let nc = i32(i) / (IH * IW); let q = i32(i) % (IH * IW); let h = q / IW; let w = q % IW;
  let lh = h + P[10] - P[6] + 1;
  let lw = w + P[11] - P[7] + 1;
  let oh0 = select(0, (lh + P[8] - 1) / P[8], lh > 0);
  let ow0 = select(0, (lw + P[9] - 1) / P[9], lw > 0);
  let oh1 = min(OH - 1, (h + P[10]) / P[8]);
  let ow1 = min(OW - 1, (w + P[11]) / P[9]);
  var s = 0.0;
  for (var oh = oh0; oh <= oh1; oh++) {
    for (var ow = ow0; ow <= ow1; ow++) {
      let win = avg_window(oh, ow);
      if (h >= win.x && h < win.y && w >= win.z && w < win.w) {
        s += ${loadAs(gc, 'f32', 'G[u32(P[1] + (nc * OH + oh) * OW + ow)]')} / avg_divisor(win);
      }
    }
  }
  OUT[i] = s;`,
          WebGpuBackend.AVG_WINDOW,
        ),
      [
        n,
        gradOut.offset,
        ...this.poolParams(inputShape, gradOut.shape, p),
        p.divisorOverride ?? 0,
        p.countIncludePad ? 1 : 0,
      ],
      [out._buffer!, this.buf(gradOut, 'avgPool2dBackward')],
      this.grid1(n),
    );
    return out;
  }

  adaptiveAvgPool2d(x: View, outShape: readonly number[]): Storage {
    this.check();
    const n = numelOf(outShape);
    const out = this.newStorage(n);
    const xc = gpuClass(x.dtype);
    // P = [n, XO, IH, IW, OH, OW]
    this.launch(
      `adaptiveAvgPool2d:${x.dtype}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<${xc}>;
@group(0) @binding(2) var<storage, read> X: array<${xc}>;`,
          `  if (i >= u32(P[0])) { return; }
  let IH = P[2]; let IW = P[3]; let OH = P[4]; let OW = P[5];
  let nc = i32(i) / (OH * OW); let q = i32(i) % (OH * OW); let oh = q / OW; let ow = q % OW;
  let h0 = (oh * IH) / OH; let h1 = ((oh + 1) * IH + OH - 1) / OH;
  let w0 = (ow * IW) / OW; let w1 = ((ow + 1) * IW + OW - 1) / OW;
  let base = P[1] + nc * IH * IW;
  var s = 0.0;
  for (var h = h0; h < h1; h++) { for (var w = w0; w < w1; w++) { s += ${loadAs(xc, 'f32', 'X[u32(base + h * IW + w)]')}; } }
  OUT[i] = ${storeAs(x.dtype, 'f32', 's / f32((h1 - h0) * (w1 - w0))')};`,
        ),
      [n, x.offset, x.shape[2], x.shape[3], outShape[2], outShape[3]],
      [out._buffer!, this.buf(x, 'adaptiveAvgPool2d')],
      this.grid1(n),
    );
    return out;
  }

  adaptiveAvgPool2dBackward(gradOut: View, inputShape: readonly number[]): Storage {
    this.check();
    const n = numelOf(inputShape);
    const out = this.newStorage(n);
    const gc = gpuClass(gradOut.dtype);
    this.launch(
      `adaptiveAvgPool2dBackward:${gc}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<${gc}>;`,
          `  if (i >= u32(P[0])) { return; }
  let IH = P[2]; let IW = P[3]; let OH = P[4]; let OW = P[5];
  let nc = i32(i) / (IH * IW); let q = i32(i) % (IH * IW); let h = q / IW; let w = q % IW;
  var s = 0.0;
  for (var oh = (h * OH) / IH; oh <= min(OH - 1, ((h + 1) * OH - 1) / IH); oh++) {
    let h0 = (oh * IH) / OH; let h1 = ((oh + 1) * IH + OH - 1) / OH;
    if (h < h0 || h >= h1) { continue; }
    for (var ow = (w * OW) / IW; ow <= min(OW - 1, ((w + 1) * OW - 1) / IW); ow++) {
      let w0 = (ow * IW) / OW; let w1 = ((ow + 1) * IW + OW - 1) / OW;
      if (w < w0 || w >= w1) { continue; }
      s += ${loadAs(gc, 'f32', 'G[u32(P[1] + (nc * OH + oh) * OW + ow)]')} / f32((h1 - h0) * (w1 - w0));
    }
  }
  OUT[i] = s;`,
        ),
      [n, gradOut.offset, inputShape[2], inputShape[3], gradOut.shape[2], gradOut.shape[3]],
      [out._buffer!, this.buf(gradOut, 'adaptiveAvgPool2dBackward')],
      this.grid1(n),
    );
    return out;
  }

  // ---- indexing ----

  /** WGSL wrapping a possibly negative index `v` into [0, size) or flagging error `code` and returning. */
  private static checkIndex(code: number, onError: string): string {
    return `  var v = idx_raw;
  if (v < 0) { v = v + size; }
  if (v < 0 || v >= size) { atomicMax(&ERR[0], ${code}u); ${onError} return; }`;
  }

  gather(x: View, dim: number, index: View): Storage {
    this.check();
    const shape = index.shape;
    const R = Math.max(shape.length, 1);
    const n = numelOf(shape);
    const out = this.newStorage(n);
    if (n === 0) return out;
    const sh = shape.length ? [...shape] : [1];
    const xs = x.strides.length ? [...x.strides] : [0];
    const is = index.strides.length ? [...index.strides] : [0];
    const size = x.shape.length ? x.shape[dim] : 1;
    // P = [n, XO, IO, size, shape[R], xstrides[R], istrides[R]]
    const at = { shape: 4, xs: 4 + R, is: 4 + 2 * R };
    const xoff = sh
      .map((_, d) => (d === dim ? `v * P[${at.xs + d}]` : `c${d} * P[${at.xs + d}]`))
      .join(' + ');
    const ioff = sh.map((_, d) => `c${d} * P[${at.is + d}]`).join(' + ');
    this.launch(
      `gather:${R}:${dim}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<u32>;
@group(0) @binding(3) var<storage, read> IDX: array<i32>;
@group(0) @binding(4) var<storage, read_write> ERR: array<atomic<u32>>;`,
          `  if (i >= u32(P[0])) { return; }
${decompose(R, at.shape)}
  let size = P[3];
  let idx_raw = IDX[u32(P[2] + ${ioff})];
${WebGpuBackend.checkIndex(1, 'OUT[i] = 0u;')}
  OUT[i] = X[u32(P[1] + ${xoff})];`,
        ),
      [n, x.offset, index.offset, size, ...sh, ...xs, ...is],
      [out._buffer!, this.buf(x, 'gather'), this.buf(index, 'gather'), this.errorFlag],
      this.grid1(n),
    );
    return out;
  }

  scatterAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    const out = this.alloc('float32', numelOf(shape)) as WebGpuStorage;
    const n = numelOf(index.shape);
    if (n === 0) return out;
    const R = Math.max(index.shape.length, 1);
    const ish = index.shape.length ? [...index.shape] : [1];
    const os = shape.length ? contiguousStrides(shape) : [0];
    const is = index.strides.length ? [...index.strides] : [0];
    const ss = src.strides.length ? [...src.strides] : [0];
    const size = shape.length ? shape[dim] : 1;
    const sc = gpuClass(src.dtype);
    // P = [n, IO, SO, size, ishape[R], ostrides[R], istrides[R], sstrides[R]]
    const at = { shape: 4, os: 4 + R, is: 4 + 2 * R, ss: 4 + 3 * R };
    const ooff = ish
      .map((_, d) => (d === dim ? `v * P[${at.os + d}]` : `c${d} * P[${at.os + d}]`))
      .join(' + ');
    const ioff = ish.map((_, d) => `c${d} * P[${at.is + d}]`).join(' + ');
    const soff = ish.map((_, d) => `c${d} * P[${at.ss + d}]`).join(' + ');
    this.launch(
      `scatterAdd:${R}:${dim}:${sc}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> SRC: array<${sc}>;
@group(0) @binding(4) var<storage, read_write> ERR: array<atomic<u32>>;`,
          `  if (i >= u32(P[0])) { return; }
${decompose(R, at.shape)}
  let size = P[3];
  let idx_raw = IDX[u32(P[1] + ${ioff})];
${WebGpuBackend.checkIndex(2, '')}
  atomic_add_f32(u32(${ooff}), ${loadAs(sc, 'f32', `SRC[u32(P[2] + ${soff})]`)});`,
          ATOMIC_ADD,
        ),
      [n, index.offset, src.offset, size, ...ish, ...os, ...is, ...ss],
      [out._buffer!, this.buf(index, 'scatterAdd'), this.buf(src, 'scatterAdd'), this.errorFlag],
      this.grid1(n),
    );
    return out;
  }

  indexSelect(x: View, dim: number, index: View): Storage {
    this.check();
    const k = numelOf(index.shape);
    const outShape = x.shape.length ? [...x.shape] : [1];
    const d = x.shape.length ? dim : 0;
    outShape[d] = k;
    const n = numelOf(outShape);
    const out = this.newStorage(n);
    if (n === 0) return out;
    const R = outShape.length;
    const xs = x.strides.length ? [...x.strides] : [0];
    const istride = index.strides.length ? index.strides[0] : 0;
    const size = x.shape.length ? x.shape[d] : 1;
    // P = [n, XO, IO, istride, size, outShape[R], xstrides[R]]
    const at = { shape: 5, xs: 5 + R };
    const xoff = outShape
      .map((_, e) => (e === d ? `v * P[${at.xs + e}]` : `c${e} * P[${at.xs + e}]`))
      .join(' + ');
    this.launch(
      `indexSelect:${R}:${d}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<u32>;
@group(0) @binding(3) var<storage, read> IDX: array<i32>;
@group(0) @binding(4) var<storage, read_write> ERR: array<atomic<u32>>;`,
          `  if (i >= u32(P[0])) { return; }
${decompose(R, at.shape)}
  let size = P[4];
  let idx_raw = IDX[u32(P[2] + c${d} * P[3])];
${WebGpuBackend.checkIndex(3, 'OUT[i] = 0u;')}
  OUT[i] = X[u32(P[1] + ${xoff})];`,
        ),
      [n, x.offset, index.offset, istride, size, ...outShape, ...xs],
      [out._buffer!, this.buf(x, 'indexSelect'), this.buf(index, 'indexSelect'), this.errorFlag],
      this.grid1(n),
    );
    return out;
  }

  indexAdd(shape: readonly number[], dim: number, index: View, src: View): Storage {
    const out = this.alloc('float32', numelOf(shape)) as WebGpuStorage;
    const n = numelOf(src.shape);
    if (n === 0) return out;
    const sh = src.shape.length ? [...src.shape] : [1];
    const d = src.shape.length ? dim : 0;
    const R = sh.length;
    const os = shape.length ? contiguousStrides(shape) : [0];
    const ss = src.strides.length ? [...src.strides] : [0];
    const istride = index.strides.length ? index.strides[0] : 0;
    const size = shape.length ? shape[d] : 1;
    const sc = gpuClass(src.dtype);
    // P = [n, IO, SO, istride, size, srcShape[R], ostrides[R], sstrides[R]]
    const at = { shape: 5, os: 5 + R, ss: 5 + 2 * R };
    const ooff = sh.map((_, e) => (e === d ? `v * P[${at.os + e}]` : `c${e} * P[${at.os + e}]`)).join(' + ');
    const soff = sh.map((_, e) => `c${e} * P[${at.ss + e}]`).join(' + ');
    this.launch(
      `indexAdd:${R}:${d}:${sc}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> OUT: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> SRC: array<${sc}>;
@group(0) @binding(4) var<storage, read_write> ERR: array<atomic<u32>>;`,
          `  if (i >= u32(P[0])) { return; }
${decompose(R, at.shape)}
  let size = P[4];
  let idx_raw = IDX[u32(P[1] + c${d} * P[3])];
${WebGpuBackend.checkIndex(4, '')}
  atomic_add_f32(u32(${ooff}), ${loadAs(sc, 'f32', `SRC[u32(P[2] + ${soff})]`)});`,
          ATOMIC_ADD,
        ),
      [n, index.offset, src.offset, istride, size, ...sh, ...os, ...ss],
      [out._buffer!, this.buf(index, 'indexAdd'), this.buf(src, 'indexAdd'), this.errorFlag],
      this.grid1(n),
    );
    return out;
  }

  topk(
    x: View,
    k: number,
    dim: number,
    largest: boolean,
    sorted: boolean,
  ): { values: Storage; indices: Storage } {
    void sorted; // always sorted, a valid answer for sorted=false too (as on the CPU)
    this.check();
    const shape = x.shape.length ? [...x.shape] : [1];
    const strides = x.strides.length ? [...x.strides] : [0];
    const d = x.shape.length ? dim : 0;
    const L = shape[d];
    const outShape = [...shape];
    outShape[d] = k;
    const n = numelOf(outShape);
    const values = this.newStorage(n);
    const indices = this.newStorage(n);
    const rows = L === 0 ? 0 : numelOf(shape) / L;
    if (n === 0 || rows === 0) return { values, indices };
    const rest = shape.map((_, e) => e).filter((e) => e !== d);
    const R = Math.max(rest.length, 1);
    const rs = rest.length ? rest.map((e) => shape[e]) : [1];
    const rxs = rest.length ? rest.map((e) => strides[e]) : [0];
    const outStrides = contiguousStrides(outShape);
    const ros = rest.length ? rest.map((e) => outStrides[e]) : [0];
    const xc = gpuClass(x.dtype);
    const ct: ComputeType = xc === 'f32' ? 'f32' : 'i32';
    // before(a, b): a ranks ahead of b in the output order (NaN counts as the largest value).
    const before =
      ct === 'f32'
        ? largest
          ? 'let na = is_nan(va); let nb = is_nan(vb); if (na || nb) { if (na && nb) { return ia < ib; } return na; } if (va == vb) { return ia < ib; } return va > vb;'
          : 'let na = is_nan(va); let nb = is_nan(vb); if (na || nb) { if (na && nb) { return ia < ib; } return nb; } if (va == vb) { return ia < ib; } return va < vb;'
        : `if (va == vb) { return ia < ib; } return va ${largest ? '>' : '<'} vb;`;
    // P = [rows, L, k, XO, xstrideDim, outStrideDim, restShape[R], restXStrides[R], restOutStrides[R]]
    const at = { shape: 6, xs: 6 + R, os: 6 + 2 * R };
    this.launch(
      `topk:${xc}:${R}:${largest}`,
      () =>
        simpleShader(
          `@group(0) @binding(1) var<storage, read_write> VALS: array<${xc}>;
@group(0) @binding(2) var<storage, read_write> IDX: array<i32>;
@group(0) @binding(3) var<storage, read> X: array<${xc}>;`,
          `  if (i >= u32(P[0])) { return; }
${decompose(R, at.shape)}
  let xb = P[3] + ${rs.map((_, e) => `c${e} * P[${at.xs + e}]`).join(' + ')};
  let ob = ${rs.map((_, e) => `c${e} * P[${at.os + e}]`).join(' + ')};
  let L = P[1];
  var prev = -1;
  for (var j = 0; j < P[2]; j++) {
    var best = -1;
    for (var e = 0; e < L; e++) {
      let v = ${loadAs(xc, ct, 'X[u32(xb + e * P[4])]')};
      if (prev >= 0 && !before(${loadAs(xc, ct, 'X[u32(xb + prev * P[4])]')}, prev, v, e)) { continue; }
      if (best >= 0 && !before(v, e, ${loadAs(xc, ct, 'X[u32(xb + best * P[4])]')}, best)) { continue; }
      best = e;
    }
    VALS[u32(ob + j * P[5])] = X[u32(xb + best * P[4])];
    IDX[u32(ob + j * P[5])] = best;
    prev = best;
  }`,
          `fn before(va: ${ct}, ia: i32, vb: ${ct}, ib: i32) -> bool { ${before} }`,
        ),
      [rows, L, k, x.offset, strides[d], outStrides[d], ...rs, ...rxs, ...ros],
      [values._buffer!, indices._buffer!, this.buf(x, 'topk')],
      this.grid1(rows),
    );
    return { values, indices };
  }
}

export type { GpuClass };
