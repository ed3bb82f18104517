import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { it } from 'vitest';
import { batch, tinyResNet, trainStep } from '../test/tiny-resnet.js';
import { requireWebGpu } from '../test/webgpu-adapter.js';
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
it('probe', async () => {
  const gpu = await requireWebGpu({ collectGarbage: collect, gcThresholdBytes: 2 * 2 ** 20 });
  const model = tinyResNet('webgpu', 4, 3, 2);
  const [x, y] = batch('webgpu', 2, 8, 3, 5);
  const rows: string[] = [];
  for (let step = 0; step < 600; step++) {
    await trainStep(model, x, y, 0.01).item();
    const m = gpu.memory();
    if (step % 25 === 0) rows.push(`${step} alloc ${(m.allocatedBytes/1e6).toFixed(2)} inUse ${(m.inUseBytes/1e6).toFixed(2)} free ${(m.freeBytes/1e6).toFixed(2)} bufs ${m.buffers} created ${m.created}`);
  }
  console.log(rows.join('\n'));
}, 600000);
