// Max pooling in WebAssembly on the thread pool, split by plane: branch-free selects instead of the
// data-dependent branches that make the JavaScript loop slow on real activations, and the indices
// written as float64 (the CPU backend's int64) straight into the tensor that holds them.

import type { Pool2dParams } from '../../backend.js';
import { withFrame } from './heap.js';
import { blockRanges, parallelCalls } from './threads.js';

/**
 * Values and, when asked, in-plane indices (PyTorch's int64, held in float64); null where WebAssembly
 * is unavailable.
 */
export function wasmMaxPool2d(
  X: Float32Array,
  offset: number,
  planes: number,
  H: number,
  W: number,
  OH: number,
  OW: number,
  p: Pool2dParams,
  withIndices: boolean,
): { values: Float32Array; indices: Float64Array | null } | null {
  return withFrame((f, k) => {
    const n = planes * OH * OW;
    // Stride-2 lanes load 8 floats for 7 taps, reading up to one float past the input: the heap keeps
    // slack after its last block, so that read stays in bounds (its value is never used).
    const xp = f.input(X, offset, planes * H * W);
    const v = f.output(n);
    const ix = withIndices ? f.outputF64(n) : null;
    const P = OH * OW;
    const params = [...p.kernelSize, ...p.stride, ...p.padding, ...p.dilation];
    parallelCalls(
      k,
      'maxPoolF64',
      blockRanges(planes, planes * H * W).map(([p0, p1]) => [
        xp + p0 * H * W * 4,
        p1 - p0,
        H,
        W,
        OH,
        OW,
        ...params,
        v.ptr + p0 * P * 4,
        ix ? ix.ptr + p0 * P * 8 : 0,
      ]),
    );
    return { values: f.result(v, n), indices: ix && f.resultF64(ix, n) };
  });
}

/**
 * The input gradient of max pooling over `planes` planes of H*W from the output gradient (float32)
 * and the forward's float64 in-plane indices (both contiguous from their offsets): zeroed, then the
 * gradient of every output added at its index (windows that overlap add up). Null without WebAssembly.
 */
export function wasmMaxPool2dBackward(
  G: Float32Array,
  go: number,
  I: Float64Array,
  io: number,
  planes: number,
  HW: number,
  P: number,
): Float32Array | null {
  return withFrame((f, k) => {
    const n = planes * HW;
    const gp = f.input(G, go, planes * P);
    const ip = f.inputF64(I, io, planes * P);
    const out = f.output(n);
    parallelCalls(
      k,
      'maxPoolBackward',
      blockRanges(planes, n).map(([p0, p1]) => [gp, ip, HW, P, p0, p1, out.ptr]),
    );
    return f.result(out, n);
  });
}

/**
 * Global average pooling (adaptive average pooling to 1x1) of `planes` contiguous planes of HW floats
 * from `offset`: one mean per plane, with the reference loop's bits (float64 sum in order, rounded
 * once). Null without WebAssembly.
 */
export function wasmMeanPlanes(
  X: Float32Array,
  offset: number,
  planes: number,
  HW: number,
): Float32Array | null {
  return withFrame((f, k) => {
    const xp = f.input(X, offset, planes * HW);
    const out = f.output(planes);
    parallelCalls(
      k,
      'meanPlanes',
      blockRanges(planes, planes * HW).map(([p0, p1]) => [xp, HW, p0, p1, out.ptr]),
    );
    return f.result(out, planes);
  });
}

/** wasmMeanPlanes' input gradient: each plane of HW floats filled with its output gradient over HW. */
export function wasmMeanPlanesBackward(
  G: Float32Array,
  go: number,
  planes: number,
  HW: number,
): Float32Array | null {
  return withFrame((f, k) => {
    const gp = f.input(G, go, planes);
    const out = f.output(planes * HW);
    parallelCalls(
      k,
      'meanPlanesBackward',
      blockRanges(planes, planes * HW).map(([p0, p1]) => [gp, HW, p0, p1, out.ptr]),
    );
    return f.result(out, planes * HW);
  });
}
