// float16 on WebGPU: stored as f16 (2 bytes an element) where the device has 'shader-f16', rounded
// like the CPU's float16 on every store (overflow to inf included), reductions and matmul accumulated
// in f32, and a clear error on a device without the feature. The op-by-op comparison with PyTorch is
// the float16 run of golden.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../creation.js';
import { float16ToFloat32, float32ToFloat16 } from '../dtype.js';
import { memoryStats } from '../memory.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test-utils/webgpu-adapter.js';
import { WebGpuBackend } from './backend.js';
import type { GPU } from './gpu-types.js';

/** float32 -> float16 -> float32, the CPU's rounding (round to nearest even, overflow to inf). */
const f16 = (v: number) => float16ToFloat32(float32ToFloat16(v));

let gpu: WebGpuBackend;

describe.skipIf(!webGpuTestsEnabled)('float16 on webgpu', () => {
  beforeAll(async () => {
    gpu = await requireWebGpu();
  }, 60_000);

  it('the test adapter offers shader-f16 and the device has it', () => {
    expect(gpu.shaderF16).toBe(true);
    expect(gpu.gpuDevice.features.has('shader-f16')).toBe(true);
  });

  it('stores 2 bytes an element', () => {
    const before = memoryStats('webgpu').live;
    const h = tensor(
      Array.from({ length: 8192 }, (_, i) => i),
      { dtype: 'float16', device: 'webgpu' },
    );
    expect(memoryStats('webgpu').live - before).toBe(8192 * 2);
    const f = h.to('float32');
    expect(memoryStats('webgpu').live - before).toBe(8192 * 6);
    h.dispose();
    f.dispose();
  });

  it('casts float32 to float16 on the GPU exactly as the CPU rounds (ties, subnormals, overflow, NaN)', async () => {
    const values = [
      0,
      -0,
      1,
      -1,
      0.1,
      1 / 3,
      2049,
      2051,
      65504,
      65519,
      65520,
      70000,
      -70000,
      1e-5,
      6e-8,
      3e-8,
      2.98e-8,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      1.0009765625,
      1.00048828125,
    ];
    const x = tensor(values, { dtype: 'float32', device: 'webgpu' });
    const h = x.to('float16');
    expect(h.dtype).toBe('float16');
    const got = Array.from(await h.to('float32').read());
    const cpu = Array.from(await tensor(values, { dtype: 'float32' }).to('float16').to('float32').read());
    expect(got).toEqual(values.map(f16));
    expect(got).toEqual(cpu);
  });

  it('reads back odd offsets and strided views of float16', async () => {
    const h = tensor([1, 2, 3, 4, 5, 6, 7], { dtype: 'float16', device: 'webgpu' });
    expect(Array.from(await h.slice(0, 1, 4).to('float32').read())).toEqual([2, 3, 4]);
    expect(await h.slice(0, 3, 4).item()).toBe(4);
    expect(await h.tolist()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const m = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float16', device: 'webgpu' },
    );
    expect(await m.t().tolist()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('elementwise results round once to float16 (computed in f32, as PyTorch opmath)', async () => {
    const a = [1, 1000, 0.1, 60000, -3.5];
    const b = [2049, 0.3, 0.2, 60000, 1e-4];
    const ga = tensor(a, { dtype: 'float16', device: 'webgpu' });
    const gb = tensor(b, { dtype: 'float16', device: 'webgpu' });
    const sum = Array.from(await ga.add(gb).to('float32').read());
    expect(sum).toEqual(a.map((v, i) => f16(f16(v) + f16(b[i]))));
    expect(ga.add(gb).dtype).toBe('float16');
    // 60000 + 60000 overflows float16: inf, as on the CPU and in PyTorch.
    expect(sum[3]).toBe(Number.POSITIVE_INFINITY);
    const e = Array.from(await ga.exp().to('float32').read());
    expect(e[0]).toBe(f16(Math.E));
    expect(e[1]).toBe(Number.POSITIVE_INFINITY);
  });

  it('sums in f32: 4096 terms of 0.1 reach 409.5 (a float16 accumulator stalls at 256)', async () => {
    const x = tensor(new Array(4096).fill(0.1), { dtype: 'float16', device: 'webgpu' });
    const s = x.sum();
    expect(s.dtype).toBe('float16');
    expect(await s.item()).toBe(f16(4096 * f16(0.1)));
    expect(await x.reshape(64, 64).sum(1).to('float32').read()).toEqual(
      new Float32Array(64).fill(f16(64 * f16(0.1))),
    );
  });

  it('matmul and conv2d in float16 match the CPU float16 result within one float16 rounding', async () => {
    const a = tensor(
      Array.from({ length: 24 * 40 }, (_, i) => Math.sin(i) * 2),
      { dtype: 'float32' },
    ).reshape(24, 40);
    const b = tensor(
      Array.from({ length: 40 * 17 }, (_, i) => Math.cos(i * 0.7)),
      { dtype: 'float32' },
    ).reshape(40, 17);
    const want = a.half().float().matmul(b.half().float()).read();
    const got = await a.half().to('webgpu').matmul(b.half().to('webgpu')).float().read();
    const w = await want;
    for (let i = 0; i < w.length; i++)
      expect(Math.abs(got[i] - w[i])).toBeLessThanOrEqual(Math.abs(w[i]) * 2 ** -11 + 1e-6);

    const x = tensor(
      Array.from({ length: 2 * 3 * 9 * 9 }, (_, i) => Math.sin(i * 0.3)),
      { dtype: 'float32' },
    ).reshape(2, 3, 9, 9);
    const k = tensor(
      Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => Math.cos(i)),
      { dtype: 'float32' },
    ).reshape(4, 3, 3, 3);
    const { conv2d } = await import('../ops/nn.js');
    const cw = await conv2d(x.half().float(), k.half().float(), null, { padding: 1 }).read();
    const cg = conv2d(x.half().to('webgpu'), k.half().to('webgpu'), null, { padding: 1 });
    expect(cg.dtype).toBe('float16');
    const cgv = await cg.float().read();
    for (let i = 0; i < cw.length; i++)
      expect(Math.abs(cgv[i] - cw[i])).toBeLessThanOrEqual(Math.abs(cw[i]) * 2 ** -11 + 1e-6);
  }, 60_000);

  it('refuses float16 on a device created without shader-f16, naming the feature and the adapter', async () => {
    const { create } = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
    const adapter = await create([]).requestAdapter();
    const device = await adapter!.requestDevice();
    const info = { vendor: 'v', architecture: 'a', device: 'd', description: 'test adapter' };
    const plain = new WebGpuBackend(device, info);
    expect(plain.shaderF16).toBe(false);
    expect(() => plain.fromArray(new Uint16Array([0x3c00]), 'float16')).toThrow(
      /float16 tensors need the WebGPU feature 'shader-f16'.*"test adapter"/,
    );
    expect(() => plain.alloc('float16', 4)).toThrow(/shader-f16/);
    const x = plain.fromArray(new Float32Array([1, 2]), 'float32');
    expect(() =>
      plain.copy({ storage: x, shape: [2], strides: [1], offset: 0, dtype: 'float32' }, 'float16'),
    ).toThrow(/shader-f16/);
    device.destroy();
  });
});
