// ResNet-18 fine-tuning on the WebGPU backend against the CPU backend: same weights, same batch, three
// SGD steps (train-mode BatchNorm, momentum, two parameter groups), losses equal to 1e-4 relative.
// Runs on whatever adapter Dawn finds (in CI: Mesa lavapipe, set up by .ci/run).
import { F, Linear } from '@graft/nn';
import { SGD } from '@graft/optim';
import { initWebGpu, manualSeed, randint, randn } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { resnet18 } from './index.js';

async function threeSteps(device: 'cpu' | 'webgpu', state: Record<string, import('@graft/tensor').Tensor>) {
  const model = await resnet18({ numClasses: 1000 });
  model.fc = new Linear(512, 3);
  model.loadStateDict(state);
  model.to(device);
  model.train();
  const body = [...model.namedParameters()].filter(([n]) => !n.startsWith('fc.')).map(([, p]) => p);
  const opt = new SGD([{ params: body }, { params: model.fc.parameters(), lr: 0.01 }], {
    lr: 0.001,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 1e-4,
  });
  manualSeed(7);
  const x = randn(4, 3, 64, 64).to(device);
  const y = randint(0, 3, [4]).to(device);
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.call(x), y);
    loss.backward();
    opt.step();
    losses.push(await loss.item());
  }
  return losses;
}

describe('ResNet-18 on WebGPU', () => {
  it('three fine-tuning steps give the CPU backend losses to 1e-4 relative', async () => {
    await initWebGpu();
    manualSeed(0);
    const ref = await resnet18({ numClasses: 1000 });
    ref.fc = new Linear(512, 3);
    const state = ref.stateDict();
    const cpu = await threeSteps('cpu', state);
    const gpu = await threeSteps('webgpu', state);
    console.log(`cpu losses ${cpu.join(' ')}\nwebgpu losses ${gpu.join(' ')}`);
    for (let i = 0; i < 3; i++) expect(Math.abs(gpu[i] - cpu[i]) / Math.abs(cpu[i])).toBeLessThan(1e-4);
    expect(cpu[2]).toBeLessThan(cpu[0]);
  }, 600_000);
});
