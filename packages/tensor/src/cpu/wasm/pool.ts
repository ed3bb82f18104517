// Max pooling in WebAssembly: branch-free selects instead of the data-dependent branches that make
// the JavaScript loop slow on real activations.

import type { Pool2dParams } from '../../backend.js';
import { withFrame } from './heap.js';

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
    const vp = v.ptr;
    const ip = withIndices ? f.scratch(n) : 0;
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
    const values = f.result(v, n);
    if (!withIndices) return { values, indices: null };
    const src = new Int32Array(k.memory.buffer, ip, n);
    const indices = new Float64Array(n);
    for (let i = 0; i < n; i++) indices[i] = src[i];
    return { values, indices };
  });
}
