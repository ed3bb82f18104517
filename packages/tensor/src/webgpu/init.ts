// Finds a GPU (navigator.gpu in browsers, the `webgpu` npm package in Node), refuses adapters that
// compute garbage, and registers the WebGPU backend under the device name 'webgpu'.

import { getBackend, registerBackend } from '../backend.js';
import { WebGpuBackend } from './backend.js';
import type { GPU, GPUAdapter, GPUDevice, GPUPowerPreference } from './gpu-types.js';
import { USAGE } from './runtime/pool.js';

/** Options for `initWebGpu`. */
export interface WebGpuOptions {
  /** A GPU entry point to use instead of `navigator.gpu` or the `webgpu` package. */
  gpu?: GPU;
  /** An adapter to use as is (skips adapter selection). */
  adapter?: GPUAdapter;
  powerPreference?: GPUPowerPreference;
  /** Flags for Dawn's `create()` when the `webgpu` npm package is loaded (Node only). */
  dawnFlags?: string[];
  /** Refuse software adapters (lavapipe, SwiftShader). Default false: they are slow but correct. */
  requireHardware?: boolean;
  /**
   * Buffers of tensors nobody disposed return to the pool when the JS engine collects the tensors,
   * which it schedules by its own heap's size, not the GPU's. Each time the pool has handed out
   * `gcThresholdBytes` (default 256 MiB), `collectGarbage` is called; it defaults to `globalThis.gc`
   * when present (Node with --expose-gc). Null disables it.
   */
  collectGarbage?: (() => void) | null;
  gcThresholdBytes?: number;
  /**
   * Request the 'shader-f16' feature where the adapter offers it (default true): float16 tensors are
   * then stored as f16 (2 bytes an element) and computed in f16 kernels. Without it, creating a
   * float16 tensor on webgpu throws.
   */
  shaderF16?: boolean;
}

interface DawnModule {
  create(flags: string[]): GPU;
}

// The GPU object from the `webgpu` package must stay reachable while its devices are used.
let nodeGpu: GPU | null = null;

async function loadNodeGpu(flags: string[]): Promise<GPU> {
  if (nodeGpu && flags.length === 0) return nodeGpu;
  // A variable specifier keeps bundlers from pulling the Node-only package into browser builds.
  const specifier = 'webgpu';
  let mod: DawnModule;
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (e) {
    throw new Error(
      `initWebGpu: no navigator.gpu here and the 'webgpu' npm package (Dawn for Node) could not be loaded: ${(e as Error).message}. ` +
        'Install it with `npm install webgpu`, or pass { gpu }.',
    );
  }
  const gpu = mod.create(flags);
  if (flags.length === 0) nodeGpu = gpu;
  return gpu;
}

/** Reasons to refuse an adapter outright, from what it says about itself. */
function refusal(info: GPUAdapterInfo): string | null {
  const device = (info.device ?? '').toLowerCase();
  const description = (info.description ?? '').toLowerCase();
  if (device.includes('null-backend') || device === 'null' || description.includes('null backend')) {
    return "it is Dawn's null backend (backend=null), which runs no shaders";
  }
  return null;
}

/** Adds two small vectors on the GPU and checks the answer, so a broken driver fails here, loudly. */
async function smokeTest(device: GPUDevice): Promise<string | null> {
  const n = 64;
  const input = new Float32Array(n);
  for (let i = 0; i < n; i++) input[i] = i * 0.5 - 7;
  const src = device.createBuffer({ size: n * 4, usage: USAGE.STORAGE | USAGE.COPY_DST });
  const dst = device.createBuffer({ size: n * 4, usage: USAGE.STORAGE | USAGE.COPY_SRC });
  const read = device.createBuffer({ size: n * 4, usage: USAGE.MAP_READ | USAGE.COPY_DST });
  device.queue.writeBuffer(src, 0, input);
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { b[g.x] = a[g.x] * a[g.x] + 1.0; }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: src } },
      { binding: 1, resource: { buffer: dst } },
    ],
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(1);
  pass.end();
  enc.copyBufferToBuffer(dst, 0, read, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(1);
  const got = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [src, dst, read]) b.destroy();
  for (let i = 0; i < n; i++) {
    const want = input[i] * input[i] + 1;
    if (got[i] !== want) return `element ${i}: expected ${want}, got ${got[i]}`;
  }
  return null;
}

/**
 * Requests a GPU adapter and device, checks that the adapter computes correctly, and registers the
 * WebGPU backend, so `device: 'webgpu'` and `t.to('webgpu')` work. Browsers use `navigator.gpu`;
 * Node loads the `webgpu` npm package (Dawn). Throws a clear error when no usable adapter exists.
 */
export async function initWebGpu(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  let adapter = opts.adapter ?? null;
  if (!adapter) {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    const gpu = opts.gpu ?? nav?.gpu ?? (await loadNodeGpu(opts.dawnFlags ?? []));
    try {
      adapter = await gpu.requestAdapter(
        opts.powerPreference ? { powerPreference: opts.powerPreference } : {},
      );
    } catch (e) {
      throw new Error(`initWebGpu: requestAdapter failed: ${(e as Error).message}`);
    }
    if (!adapter) {
      throw new Error(
        'initWebGpu: no WebGPU adapter is available. In a browser, use one with WebGPU enabled; in Node on Linux ' +
          'without a GPU, install a Vulkan driver (packages/tensor/scripts/setup-webgpu-ci.sh sets up Mesa lavapipe).',
      );
    }
  }
  const info = adapter.info;
  const described = `${info.vendor || '?'} / ${info.architecture || '?'} / ${info.device || '?'} / ${info.description || '?'}`;
  const why = refusal(info);
  if (why) throw new Error(`initWebGpu: refusing adapter (${described}): ${why}`);
  if (opts.requireHardware && info.isFallbackAdapter) {
    throw new Error(
      `initWebGpu: adapter (${described}) is a software fallback adapter and requireHardware is set`,
    );
  }
  const lim = adapter.limits;
  const f16 = (opts.shaderF16 ?? true) && adapter.features.has('shader-f16');
  const device = await adapter.requestDevice({
    requiredFeatures: f16 ? ['shader-f16'] : [],
    requiredLimits: {
      maxBufferSize: lim.maxBufferSize,
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: Math.min(lim.maxStorageBuffersPerShaderStage, 8),
    },
  });
  const bad = await smokeTest(device);
  if (bad) {
    device.destroy();
    throw new Error(
      `initWebGpu: refusing adapter (${described}): it computed a wrong result in a self-test (${bad})`,
    );
  }
  const globalGc = (globalThis as { gc?: unknown }).gc;
  const collect =
    opts.collectGarbage !== undefined
      ? opts.collectGarbage
      : typeof globalGc === 'function'
        ? (globalGc as () => void)
        : null;
  const backend = new WebGpuBackend(
    device,
    {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    { collect, threshold: opts.gcThresholdBytes ?? 256 * 2 ** 20 },
  );
  registerBackend(backend);
  return backend;
}

/** The registered WebGPU backend (after `initWebGpu`), for memory statistics and `flush()`. */
export function webGpuBackend(): WebGpuBackend {
  const b = getBackend('webgpu');
  if (!(b instanceof WebGpuBackend))
    throw new Error("webGpuBackend: the backend registered for webgpu is not graft's WebGpuBackend");
  return b;
}
