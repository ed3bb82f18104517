// The WebGPU backend's entries in the kernel registry (registry.ts): fused kernels that replace chains
// of core dispatches in training and inference (batch norm, SGD, ReLU's gradient, in-place binary ops,
// the convolution epilogue). Each op keeps its composed fallback for the cases these refuse. Batch norm
// is registered for float16 too, so that training under autocast keeps only its float16 input.

import type { Backend } from '../backend.js';
import { registerKernel } from '../registry.js';
import { conv2dEpilogue } from './kernels/fused-conv.js';
import { adamStep, binaryInto, reluBackward, sgdStep } from './kernels/fused-elementwise.js';
import { BATCH_NORM_DTYPES, batchNormBackward, batchNormForward } from './kernels/fused-norm.js';
import type { GpuRuntime } from './runtime/device.js';

/** Registers the WebGPU implementations of the named fast kernels for `backend`, running on `rt`. */
export function registerWebGpuKernels(backend: Backend, rt: GpuRuntime): void {
  registerKernel(backend, 'conv2dEpilogue', (x, w, p, outShape, ep) =>
    conv2dEpilogue(rt, x, w, p, outShape, ep),
  );
  registerKernel(
    backend,
    'batchNormForward',
    (x, w, b, eps, r, relu) => batchNormForward(rt, x, w, b, eps, r, relu),
    BATCH_NORM_DTYPES,
  );
  registerKernel(
    backend,
    'batchNormBackward',
    (g, x, m, is, w, ni, y, wm) => batchNormBackward(rt, g, x, m, is, w, ni, y, wm),
    BATCH_NORM_DTYPES,
  );
  registerKernel(backend, 'sgdStep', (param, grad, buf, o) => sgdStep(rt, param, grad, buf, o));
  registerKernel(backend, 'adamStep', (t, o) => adamStep(rt, t, o));
  registerKernel(backend, 'reluBackward', (g, out) => reluBackward(rt, g, out));
  registerKernel(backend, 'binaryInto', (op, dst, b) => binaryInto(rt, op, dst, b));
}
