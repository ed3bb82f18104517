import { randn, type Tensor, tensor } from '@graft/tensor';
import { expect, it } from 'vitest';
import { Conv2d, F, init, Linear, MaxPool2d, Module, summary } from './index.js';

it('the README example runs and does what it says', () => {
  class Net extends Module {
    conv1 = new Conv2d(3, 6, 5);
    pool = new MaxPool2d(2, 2);
    fc = new Linear(6 * 14 * 14, 10);
    override forward(x: Tensor): Tensor {
      return this.fc.call(this.pool.call(F.relu(this.conv1.call(x))).flatten(1));
    }
  }
  const net = new Net();
  net.fc = new Linear(net.fc.inFeatures, 2);
  init.xavierUniform_(net.fc.weight);
  for (const [name, p] of net.namedParameters()) p.requiresGrad = name.startsWith('fc.');
  F.crossEntropy(net.call(randn(4, 3, 32, 32)), tensor([0, 1, 1, 0])).backward();
  expect(String(net)).toBe(
    'Net(\n  (conv1): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))\n' +
      '  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n' +
      '  (fc): Linear(in_features=1176, out_features=2, bias=True)\n)',
  );
  expect(Object.keys(net.stateDict())).toEqual(['conv1.weight', 'conv1.bias', 'fc.weight', 'fc.bias']);
  expect(net.conv1.weight.grad).toBeNull();
  expect(net.fc.weight.grad?.shape).toEqual([2, 1176]);
  const s = summary(net);
  expect([s.total, s.trainable, s.frozen]).toEqual([456 + 2354, 2354, 456]);
});
