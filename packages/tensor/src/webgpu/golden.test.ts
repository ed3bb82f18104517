// The conformance suite on WebGPU (src/test-utils/conformance.ts): every golden case of fixtures/ops.json,
// forward and backward, against PyTorch's values, with the tolerance of `webgpuDevice` there; then the
// cases with float inputs again in float16 (test-utils/conformance-f16.ts states how and the tolerance).

import { beforeAll, describe, expect, it } from 'vitest';
import { checkCase, golden, webgpuDevice as webgpu } from '../test-utils/conformance.js';
import { checkCaseFloat16, float16Applicable, webgpuFloat16Device } from '../test-utils/conformance-f16.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test-utils/webgpu-adapter.js';

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

describe.skipIf(!webGpuTestsEnabled)(
  'ops in float16 on webgpu match float64 on float16-rounded inputs',
  () => {
    beforeAll(async () => {
      await requireWebGpu();
    }, 60_000);
    for (const c of golden.cases.filter(float16Applicable)) {
      if (c.name in REFUSED) continue;
      it(c.name, async () => {
        expect(await checkCaseFloat16(webgpuFloat16Device, c)).toEqual([]);
      });
    }
  },
);
