// The WebGPU backend's public surface: initialise it once, then use device 'webgpu' everywhere.

export { WebGpuBackend, WebGpuStorage } from './backend.js';
export { initWebGpu, type WebGpuOptions, webGpuBackend } from './init.js';
export { type GpuClass, gpuClass } from './runtime/dtype.js';
export { bucketSize, type PoolStats } from './runtime/pool.js';
