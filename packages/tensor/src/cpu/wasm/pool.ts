// Max pooling in WebAssembly: branch-free selects instead of the data-dependent branches that make
// the JavaScript loop slow on real activations.

import type { Pool2dParams } from '../../backend.js';
import { reserve, wasmKernels } from './kernels.js';

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
  const k = wasmKernels();
  if (!k) return null;
  const n = planes * OH * OW;
  // One spare float after the input: stride-2 lanes load 8 floats for 7 taps.
  const { ptrs, heap } = reserve(k, [planes * H * W + 4, n, withIndices ? n : 0]);
  const [xp, vp, ip] = ptrs;
  heap.set(X.subarray(offset, offset + planes * H * W), xp / 4);
  k.exports.maxPool(
    xp,
    planes,
    H,
    W,
    OH,
    OW,
    ...p.kernelSize,
    ...p.stride,
    ...p.padding,
    ...p.dilation,
    vp,
    withIndices ? ip : 0,
  );
  const values = heap.slice(vp / 4, vp / 4 + n);
  if (!withIndices) return { values, indices: null };
  const src = new Int32Array(k.memory.buffer, ip, n);
  const indices = new Float64Array(n);
  for (let i = 0; i < n; i++) indices[i] = src[i];
  return { values, indices };
}
