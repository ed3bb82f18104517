// Test support for the WebGPU backend: get an adapter or fail loudly; skipping needs GRAFT_WEBGPU_TESTS=0.

import type { WebGpuBackend } from '../webgpu/backend.js';
import { initWebGpu, type WebGpuOptions } from '../webgpu/init.js';

/** False only when the environment asks to skip the WebGPU tests explicitly. */
export const webGpuTestsEnabled = process.env.GRAFT_WEBGPU_TESTS !== '0';

if (!webGpuTestsEnabled) {
  console.warn(
    'GRAFT_WEBGPU_TESTS=0: the WebGPU backend tests are skipped (reported as skipped, not passed)',
  );
}

let pending: Promise<WebGpuBackend> | null = null;

/** Initialises the WebGPU backend once per test file, or throws with what to do about it. */
export function requireWebGpu(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  pending ??= initWebGpu(opts).catch((e: Error) => {
    throw new Error(
      `${e.message}\nThe WebGPU tests need an adapter. On Debian run packages/tensor/scripts/setup-webgpu-ci.sh ` +
        'and export what it prints; set GRAFT_WEBGPU_TESTS=0 to skip these tests explicitly.',
    );
  });
  return pending;
}
