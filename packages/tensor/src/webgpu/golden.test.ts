// The conformance suite on WebGPU (src/test/conformance.ts): every golden case of fixtures/ops.json,
// forward and backward, against PyTorch's values.

import { beforeAll, describe, expect, it } from 'vitest';
import { checkCase, type DeviceUnderTest, golden } from '../test/conformance.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test/webgpu-adapter.js';

/**
 * The GPU computes in float32 with its own reduction orders and transcendental functions written in
 * WGSL: 2e-5 relative plus 2e-6 * sqrt(reduction length) of the tensor's rms.
 */
const webgpu: DeviceUnderTest = {
  name: 'webgpu',
  put: (t) => t.to('webgpu'),
  read: (t) => t.read(),
  rtol: 2e-5,
  atol: 2e-6,
};

const REFUSED: Record<string, RegExp> = {
  'oneHot/inferred': /oneHot: pass numClasses for webgpu tensors/,
};

describe.skipIf(!webGpuTestsEnabled)('ops match PyTorch on webgpu (forward and backward)', () => {
  beforeAll(async () => {
    await requireWebGpu();
  }, 60_000);
  for (const c of golden.cases) {
    if (c.name in REFUSED) {
      // Not computable without a synchronous readback: refused with what to do instead.
      it(`${c.name} (refused)`, async () => {
        await expect(checkCase(webgpu, c)).rejects.toThrow(REFUSED[c.name]);
      });
      continue;
    }
    it(c.name, async () => {
      expect(await checkCase(webgpu, c)).toEqual([]);
    });
  }
});
