// End-to-end on WebGPU: a small ResNet trains to the CPU backend's losses (1e-4 relative), and a
// 1,000-step loop holds the buffer pool's allocation flat with no dispose calls and no tidy().

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../autograd.js';
import { memoryStats } from '../memory.js';
import { batch, forward, tinyResNet, trainStep } from '../test-utils/tiny-resnet.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test-utils/webgpu-adapter.js';
import { mismatches } from '../test-utils/webgpu-compare.js';
import type { WebGpuBackend } from './backend.js';

let gpu: WebGpuBackend;

// Node's collector on demand (what `node --expose-gc` gives), so the pool can ask for a collection
// when GPU memory grows instead of waiting for V8's heap-driven schedule.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

describe.skipIf(!webGpuTestsEnabled)('training on webgpu', () => {
  beforeAll(async () => {
    gpu = await requireWebGpu({ collectGarbage: collect, gcThresholdBytes: 2 * 2 ** 20 });
  }, 60_000);

  it('a ResNet-like network trains to the same losses as on the CPU (1e-4 relative)', async () => {
    const steps = 5;
    const losses: Record<'cpu' | 'webgpu', number[]> = { cpu: [], webgpu: [] };
    const finalWeights: Record<'cpu' | 'webgpu', number[]> = { cpu: [], webgpu: [] };
    for (const device of ['cpu', 'webgpu'] as const) {
      const model = tinyResNet(device);
      const [x, y] = batch(device, 4, 12, 5, 7);
      for (let s = 0; s < steps; s++) losses[device].push(await trainStep(model, x, y, 0.05).item());
      finalWeights[device] = Array.from(await model.params.get('layer2.conv2')!.read());
      // Eval mode uses the running statistics the training steps updated in place.
      losses[device].push(
        await noGrad(() => forward(model, x, false))
          .sum()
          .item(),
      );
    }
    expect(losses.webgpu.every(Number.isFinite)).toBe(true);
    expect(losses.cpu[steps - 1]).toBeLessThan(losses.cpu[0]);
    expect(mismatches(losses.cpu, losses.webgpu, { rtol: 1e-4, atol: 0 })).toBeNull();
    expect(mismatches(finalWeights.cpu, finalWeights.webgpu, { rtol: 1e-3, atol: 1e-5 })).toBeNull();
  }, 240_000);

  it('1,000 training steps hold the buffer pool flat (no dispose, no tidy)', async () => {
    const model = tinyResNet('webgpu', 4, 3, 2);
    const [x, y] = batch('webgpu', 2, 8, 3, 5);
    const allocated: number[] = [];
    const created: number[] = [];
    let last = 0;
    for (let step = 0; step < 1000; step++) {
      last = await trainStep(model, x, y, 0.01).item();
      const m = gpu.memory();
      allocated.push(m.allocatedBytes);
      created.push(m.created);
    }
    expect(Number.isFinite(last)).toBe(true);
    // Forgotten tensors come back when the collector runs (the pool asks for a run every 2 MiB it
    // hands out): after warm-up the steps reuse buffers and the footprint stays flat.
    console.log(
      `pool: ${allocated[49]} bytes at step 50, ${allocated[499]} at step 500, ${allocated[999]} at step 1000; buffers created ${created[49]} -> ${created[999]}`,
    );
    // The pool holds 2-5 MiB here (lavapipe, SwiftShader); over the last 500 steps it may grow a little
    // as the collector's timing spreads garbage over buckets, but a leak of more than ~2 KB per step
    // (a step hands out a few hundred KB) would break the 1 MiB bound.
    expect(Math.max(...allocated.slice(500)) - allocated[499]).toBeLessThan(2 ** 20);
    expect(allocated[999]).toBeLessThan(16 * 2 ** 20);
    // The same figures through memoryStats, the one shape both devices report.
    const m = memoryStats('webgpu');
    expect(m.reserved).toBe(allocated[999]);
    expect(m.live + m.pooled).toBe(m.reserved);
  }, 600_000);
});
