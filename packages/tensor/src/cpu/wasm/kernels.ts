// Loads the WebAssembly SIMD kernels into one memory the host owns. Where SharedArrayBuffer exists the
// memory is shared, so worker threads (threads.ts) can run the same kernels on the same data.
// Compiled synchronously: each build of the module is ~80 KB (Chrome dropped its 4 KB main-thread limit on
// synchronous compiles in version 114; V8 compiles the functions lazily).

import {
  KERNELS_RELAXED_SHARED_WASM_BASE64,
  KERNELS_RELAXED_WASM_BASE64,
  KERNELS_SHARED_WASM_BASE64,
  KERNELS_WASM_BASE64,
} from './kernels.generated.js';

// Minimal typings for the runtime globals used here, so the package needs neither DOM nor Node libs.
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
};
declare const atob: ((s: string) => string) | undefined;
declare const process:
  | {
      getBuiltinModule?: (name: string) => unknown;
      versions?: { node?: string };
      env?: Record<string, string | undefined>;
    }
  | undefined;

export interface KernelExports {
  sgemm(
    M: number,
    N: number,
    K: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    ldc: number,
    accumulate: number,
    scratch: number,
  ): void;
  /** x, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, col, ldcol */
  im2col(...args: number[]): void;
  /** im2col's arguments, then images, xImage, colImage: several images in one task (floats apart) */
  im2colImages(...args: number[]): void;
  /** Forward convolution in blocks of columns, unfolded and multiplied in one pass (see conv.ts). */
  convColumns(...args: number[]): void;
  /** Weight gradient of a range of taps over every image, unfolded block by block (see conv.ts). */
  convWeightTaps(...args: number[]): void;
  /** src, count, stride, dst, i0, i1: dst[i] = the count partial sums of element i, added in order */
  sumParts(...args: number[]): void;
  /** Kc, nb: floats of scratch one convColumns (or convWeightTaps: taps, block) task needs. */
  convColumnsScratchFloats(Kc: number, nb: number): number;
  /** g, O, OH, OW, w, wrs, wcs, H, W, sh, sw, c0, c1, out, scratch: a strided 1x1's input gradient (conv.ts) */
  pointwiseStridedInput(...args: number[]): void;
  /** col, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, out, ldcol */
  col2im(...args: number[]): void;
  /** kept, dst, r0, r1, KH, KW, kh0, kh, kw0, kw: a full kernel gradient from its kept taps' (conv.ts) */
  scatterTaps(...args: number[]): void;
  /** w, so, sc, sh, sx, dst, o0, o1, Cg, kh, kw: the kept taps of a strided weight, contiguous (conv.ts) */
  gatherTaps(...args: number[]): void;
  /** p, g, buf, i0, i1, lr, momentum, dampening, nesterov, maximize, wd, first: SGD over [i0, i1) */
  sgdStep(...args: number[]): void;
  /** p, g, m, v, vmax, i0, i1, decay, wd, b1, c1, b2, c2, bc2, eps, neg, flags: Adam over [i0, i1) */
  adamStep(...args: number[]): void;
  /** op, x, R1, K, R2, a0, a1, k0, k1, out, wide: sum/max/min of [A, R1, K, R2] over r1, r2 */
  reduceF32(...args: number[]): void;
  /** op, x, out, i0, i1: out = op(x) over [i0, i1) (assembly/unary.ts; codes in elementwise.ts UNARY_CODES) */
  unaryF32(...args: number[]): void;
  /** op, a, b, out, i0, i1, bStep: out = a op b over [i0, i1) (codes in elementwise.ts BINARY_CODES) */
  binaryF32(...args: number[]): void;
  /** Winograd input transform (see assembly/winograd.ts and winograd.ts). */
  winoInput(...args: number[]): void;
  /** Winograd filter transform. */
  winoWeights(...args: number[]): void;
  /** Winograd output transform. */
  winoOutput(...args: number[]): void;
  /** Winograd output transform over several images (one pool task per output-channel block). */
  winoOutputImages(...args: number[]): void;
  /** Winograd convolution of a few images in one task: transforms and products (assembly/winograd.ts). */
  winoConvImages(...args: number[]): void;
  /** Stride-2 3x3 Winograd by phases (assembly/winograd-s2.ts): filter transform. */
  winoWeightsS2(...args: number[]): void;
  /** Stride-2 3x3 Winograd: input transform of channel blocks over several images. */
  winoInputS2Images(...args: number[]): void;
  /** Stride-2 3x3 Winograd: output transform of output-channel blocks over several images. */
  winoOutputS2Images(...args: number[]): void;
  /** winoInput over several images (assembly/winograd-weight.ts), for both Winograd paths. */
  winoInputImages(...args: number[]): void;
  /** Weight-gradient Winograd: output-gradient transform. */
  winoGradOut(...args: number[]): void;
  /** Weight-gradient Winograd: a range of the 36 transformed-domain products. */
  winoWeightGemm(...args: number[]): void;
  /** Weight-gradient Winograd: one partial sum of the products over a few images, transforms included. */
  winoWeightImages(...args: number[]): void;
  /** Weight-gradient Winograd: transform of the products back to 3x3 filters. */
  winoWeightOut(...args: number[]): void;
  /** x, planes, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, out, idx (idx 0: values only) */
  maxPool(...args: number[]): void;
  /** As maxPool, with the indices stored as float64 (PyTorch's int64 as the CPU backend holds it). */
  maxPoolF64(...args: number[]): void;
  /** g, idx (float64), HW, P, p0, p1, out: max-pool input gradient of planes [p0, p1) (assembly/pool.ts) */
  maxPoolBackward(...args: number[]): void;
  /** x, HW, p0, p1, out: global average pooling of planes [p0, p1) (assembly/pool.ts) */
  meanPlanes(...args: number[]): void;
  /** g, HW, p0, p1, out: its gradient, g / HW over each plane */
  meanPlanesBackward(...args: number[]): void;
  /** x, N, C, S, c0, c1, out: per-channel shift, sum and sum of squares about it, float64 (assembly/norm.ts) */
  bnStats(...args: number[]): void;
  /** x, out, C, S, p0, p1, scale, shift, residual, relu: batch-norm output of planes [p0, p1) */
  bnApply(...args: number[]): void;
  /** g, x, y, N, C, S, c0, c1, mean, out: batch-norm backward sums (g masked by y > 0 when y is set) */
  bnGradSums(...args: number[]): void;
  /** g, x, y, C, S, p0, p1, ka, kb, k0, gx, gm: batch-norm input gradient (and masked gradient) */
  bnGradInput(...args: number[]): void;
  /** x, out, residual, N, C, S, c0, c1, w, b, eps, relu, st, scale, shift, stats: batch norm a channel at a time */
  bnForwardChannels(...args: number[]): void;
  /** g, x, y, N, C, S, c0, c1, mean, invstd, w, sums, coef, gx, gm: its backward a channel at a time */
  bnBackwardChannels(...args: number[]): void;
  /** x, out, i0, i1: relu over [i0, i1) (assembly/elementwise.ts) */
  reluF32(...args: number[]): void;
  /** g, y, out, i0, i1: relu backward from its output over [i0, i1) */
  reluBackwardF32(...args: number[]): void;
  /** x, N, C, P, scale, shift, residual, relu (in place; zero pointers skip a term) */
  epilogue(
    x: number,
    N: number,
    C: number,
    P: number,
    scale: number,
    shift: number,
    residual: number,
    relu: number,
  ): void;
  regroup(
    rowsMajor: number,
    batchMajor: number,
    rows: number,
    N: number,
    P: number,
    batchRows: number,
    toBatchMajor: number,
    stats: number,
    acc: number,
  ): void;
}

export interface Kernels {
  exports: KernelExports;
  memory: WasmMemory;
  /** The compiled module, shareable with workers when `shared`. */
  module: object;
  shared: boolean;
  /** Built with relaxed-SIMD fused multiply-add. */
  relaxed: boolean;
}

/**
 * Node 20 ships relaxed SIMD behind a V8 flag (Node 22+ and Chrome 114+ have it on); set it before the
 * first compile so the FMA build validates. GRAFT_WASM_RELAXED=0 keeps the plain build.
 */
function enableRelaxedSimdInNode(): void {
  try {
    if (typeof process === 'undefined' || !process?.versions?.node || process.env?.GRAFT_WASM_RELAXED === '0')
      return;
    const v8 = process.getBuiltinModule?.('node:v8') as
      | { setFlagsFromString(flags: string): void }
      | undefined;
    v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not Node, or the flag is unknown: the plain build is used
  }
}

let kernels: Kernels | null | undefined;

function decodeBase64(s: string): Uint8Array {
  if (typeof atob !== 'function') throw new Error('no base64 decoder available');
  return Uint8Array.from(atob(s), (ch: string) => ch.charCodeAt(0));
}

/** Instantiates a kernel module against a memory (also used by worker threads). */
export function instantiate(module: object, memory: WasmMemory): KernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('graft wasm kernel aborted');
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}

function load(): Kernels | null {
  if (typeof WebAssembly === 'undefined') return null;
  enableRelaxedSimdInNode();
  const noRelaxed = typeof process !== 'undefined' && process?.env?.GRAFT_WASM_RELAXED === '0';
  const canShare = typeof SharedArrayBuffer !== 'undefined';
  const candidates: [string, boolean, boolean][] = [
    [KERNELS_RELAXED_SHARED_WASM_BASE64, true, true],
    [KERNELS_SHARED_WASM_BASE64, true, false],
    [KERNELS_RELAXED_WASM_BASE64, false, true],
    [KERNELS_WASM_BASE64, false, false],
  ];
  for (const [base64, shared, relaxed] of candidates) {
    if ((shared && !canShare) || (relaxed && noRelaxed)) continue;
    try {
      const bytes = decodeBase64(base64);
      if (!WebAssembly.validate(bytes)) continue;
      const module = new WebAssembly.Module(bytes);
      const memory = new WebAssembly.Memory(
        shared ? { initial: 2, maximum: 65536, shared: true } : { initial: 2, maximum: 65536 },
      );
      return { exports: instantiate(module, memory), memory, module, shared, relaxed };
    } catch {
      // fall through to the next variant
    }
  }
  return null;
}

/** The kernels, or null where WebAssembly SIMD is unavailable. */
export function wasmKernels(): Kernels | null {
  if (kernels === undefined) kernels = load();
  return kernels;
}

/** Which kernel build runs: 'relaxed-simd' (FMA), 'simd', or 'none' (TypeScript kernels), and whether threads can share it. */
export function wasmKernelInfo(): { build: 'relaxed-simd' | 'simd' | 'none'; sharedMemory: boolean } {
  const k = wasmKernels();
  return { build: !k ? 'none' : k.relaxed ? 'relaxed-simd' : 'simd', sharedMemory: k?.shared ?? false };
}

/** Floats of per-call scratch the GEMM kernel needs (one packed 256 x 256 block of B, whatever N is). */
export function gemmScratch(): number {
  return 256 * 256 + 16;
}
