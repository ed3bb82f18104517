// The two CPU backends as objects tests compare directly (no global switch), and a way to put a
// tensor's values on either.

import type { Backend } from '../backend.js';
import { ReferenceCpuBackend } from '../cpu/reference/backend.js';
import { WasmCpuBackend } from '../cpu/wasm/backend.js';
import { Tensor } from '../tensor.js';

/** The TypeScript reference backend: the oracle. */
export const reference = new ReferenceCpuBackend();
/** The WebAssembly backend, as the default CPU backend is built. */
export const wasm = new WasmCpuBackend();
/** The WebAssembly backend with the Winograd path off (im2col + GEMM for every convolution). */
export const wasmNoWinograd = new WasmCpuBackend({ winograd: false });

/** A contiguous copy of `t` whose ops run on `backend` (requiresGrad carried over for leaves). */
export function on(backend: Backend, t: Tensor): Tensor {
  const data = t.readRawSync();
  const copy = backend.fromArray(data.slice(), t.dtype);
  const out = Tensor._fromStorage(copy, t.shape, t.dtype);
  if (t.requiresGrad && t.isLeaf) out.requiresGrad_(true);
  return out;
}

/** The backend a tensor's ops run on. */
export function backendName(t: Tensor): string | undefined {
  return t._ref.storage.backend?.name;
}
