// The WebGPU runtime's own machinery, which no other device has: kernel error flags reported at the next
// readback, adapters refused, dtypes stored in GPU words (float16 as f16) and read back, async-only readback,
// disposal. What the ops compute is checked on every device by ops.golden/golden.test.ts and
// cross-device.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../creation.js';
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test-utils/webgpu-adapter.js';
import type { WebGpuBackend } from './backend.js';
import { initWebGpu } from './init.js';

let gpu: WebGpuBackend;

describe.skipIf(!webGpuTestsEnabled)('the webgpu runtime', () => {
  beforeAll(async () => {
    gpu = await requireWebGpu();
  }, 60_000);

  it('out-of-range indices surface as an error at the next readback', async () => {
    const x = tensor([1, 2, 3], { dtype: 'float32' }).to('webgpu');
    const bad = tensor([0, 3], { dtype: 'int64' }).to('webgpu');
    const out = Tensor._fromStorage(gpu.indexSelect(x._view, 0, bad._view), [2], 'float32');
    await expect(out.read()).rejects.toThrow(/indexSelect: index out of bounds/);
    // The flag is cleared: the next readback works.
    expect(Array.from(await x.read())).toEqual([1, 2, 3]);
  }, 60_000);

  it('reduces nothing to an error: max of an empty tensor', () => {
    const empty = tensor([], { dtype: 'float32' }).to('webgpu');
    expect(() => gpu.reduce('max', empty._view, [0], 'float32')).toThrow(/empty/);
  }, 60_000);

  it("refuses Dawn's null backend, which runs no shaders", async () => {
    await expect(initWebGpu({ dawnFlags: ['backend=null'] })).rejects.toThrow(/null backend/);
  }, 60_000);

  it('reads back every dtype, rejects readSync and oversized int64 uploads', async () => {
    for (const [t, dtype] of [
      [tensor([1.5, -2], { dtype: 'float64' }), 'float64'],
      [tensor([3, -4], { dtype: 'int16' }), 'int16'],
      [tensor([3, -4], { dtype: 'int8' }), 'int8'],
    ] as [Tensor, DType][]) {
      const g = t.to('webgpu');
      expect(g.dtype).toBe(dtype);
      expect(Array.from(await g.read())).toEqual(Array.from(t.readSync()));
    }
    const g = tensor([1, 2], { dtype: 'float32' }).to('webgpu');
    expect(() => g.readSync()).toThrow(/webgpu tensors need `await t.read\(\)`/);
    expect(() => g.to('cpu')).toThrow(/toAsync/);
    const back = await g.toAsync('cpu');
    expect(back.device).toBe('cpu');
    expect(Array.from(back.readSync())).toEqual([1, 2]);
    expect(() => tensor([2 ** 40], { dtype: 'int64' }).to('webgpu')).toThrow(
      /does not fit the GPU's 32-bit integer storage/,
    );
    g.dispose();
    await expect(g.read()).rejects.toThrow(/disposed/);
  }, 60_000);
});
