// The WebGPU backend's public surface: initialise it once, then use device 'webgpu' everywhere.

export { initWebGpu, webGpuBackend, type WebGpuOptions } from './init.js';
export { WebGpuBackend, WebGpuStorage } from './backend.js';
export { type PoolStats, bucketSize } from './pool.js';
export { gpuClass, type GpuClass } from './wgsl.js';
