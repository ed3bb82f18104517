// Test support: a small ResNet-shaped network written with tensor ops only (conv, batch norm, relu,
// max pool, residual blocks with a strided downsample, global average pool, linear, cross entropy)
// and an SGD step with momentum and weight decay done with in-place updates, as optimizers do.

import { noGrad } from '../autograd.js';
import type { Device } from '../backend.js';
import { ones, randn, tensor, zeros } from '../creation.js';
import { adaptiveAvgPool2d, batchNorm, conv2d, crossEntropy, linear, maxPool2d } from '../ops/nn.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

export interface TinyResNet {
  params: Map<string, Tensor>;
  buffers: Map<string, Tensor>;
  momentum: Map<string, Tensor>;
}

/** Same seed, same weights, on either device. */
export function tinyResNet(device: Device, width = 8, classes = 5, seed = 1): TinyResNet {
  const gen = new Generator(seed);
  const params = new Map<string, Tensor>();
  const buffers = new Map<string, Tensor>();
  const conv = (name: string, o: number, i: number, k: number) => {
    const std = Math.sqrt(2 / (i * k * k));
    params.set(name, randn([o, i, k, k], { generator: gen }).mul(std).to(device).requiresGrad_());
  };
  const bn = (name: string, c: number) => {
    params.set(`${name}.weight`, ones([c], { device }).requiresGrad_());
    params.set(`${name}.bias`, zeros([c], { device }).requiresGrad_());
    buffers.set(`${name}.running_mean`, zeros([c], { device }));
    buffers.set(`${name}.running_var`, ones([c], { device }));
  };
  conv('conv1', width, 3, 3);
  bn('bn1', width);
  conv('layer1.conv1', width, width, 3);
  bn('layer1.bn1', width);
  conv('layer1.conv2', width, width, 3);
  bn('layer1.bn2', width);
  conv('layer2.conv1', 2 * width, width, 3);
  bn('layer2.bn1', 2 * width);
  conv('layer2.conv2', 2 * width, 2 * width, 3);
  bn('layer2.bn2', 2 * width);
  conv('layer2.down', 2 * width, width, 1);
  bn('layer2.downbn', 2 * width);
  params.set(
    'fc.weight',
    randn([classes, 2 * width], { generator: gen })
      .mul(0.1)
      .to(device)
      .requiresGrad_(),
  );
  params.set('fc.bias', zeros([classes], { device }).requiresGrad_());
  const momentum = new Map<string, Tensor>();
  return { params, buffers, momentum };
}

export function forward(m: TinyResNet, x: Tensor, training = true): Tensor {
  const p = (n: string) => m.params.get(n)!;
  const norm = (n: string, t: Tensor) =>
    batchNorm(
      t,
      m.buffers.get(`${n}.running_mean`)!,
      m.buffers.get(`${n}.running_var`)!,
      p(`${n}.weight`),
      p(`${n}.bias`),
      {
        training,
      },
    );
  let h = norm('bn1', conv2d(x, p('conv1'), null, { padding: 1 })).relu();
  h = maxPool2d(h, 3, { stride: 2, padding: 1 });
  let r = norm('layer1.bn1', conv2d(h, p('layer1.conv1'), null, { padding: 1 })).relu();
  r = norm('layer1.bn2', conv2d(r, p('layer1.conv2'), null, { padding: 1 }));
  h = r.add(h).relu();
  r = norm('layer2.bn1', conv2d(h, p('layer2.conv1'), null, { stride: 2, padding: 1 })).relu();
  r = norm('layer2.bn2', conv2d(r, p('layer2.conv2'), null, { padding: 1 }));
  const down = norm('layer2.downbn', conv2d(h, p('layer2.down'), null, { stride: 2 }));
  h = r.add(down).relu();
  return linear(adaptiveAvgPool2d(h, 1).flatten(1), p('fc.weight'), p('fc.bias'));
}

/** SGD with momentum 0.9 and weight decay, updating parameters in place; grads are cleared. */
export function sgdStep(m: TinyResNet, lr: number, weightDecay = 1e-4, mom = 0.9): void {
  noGrad(() => {
    for (const [name, p] of m.params) {
      if (!p.grad) continue;
      const d = p.grad.add(p, { alpha: weightDecay });
      const buf = m.momentum.get(name);
      if (buf) buf.mul_(mom).add_(d);
      else m.momentum.set(name, d.clone());
      p.sub_(m.momentum.get(name)!.mul(lr));
      p.grad = null;
    }
  });
}

/** A fixed batch: images [n, 3, size, size] and int64 labels. */
export function batch(
  device: Device,
  n: number,
  size: number,
  classes: number,
  seed: number,
): [Tensor, Tensor] {
  const gen = new Generator(seed);
  const x = randn([n, 3, size, size], { generator: gen }).to(device);
  const y = tensor(
    Array.from({ length: n }, () => gen.randint(0, classes)),
    { dtype: 'int64' },
  ).to(device);
  return [x, y];
}

export function trainStep(m: TinyResNet, x: Tensor, y: Tensor, lr: number): Tensor {
  const loss = crossEntropy(forward(m, x), y);
  loss.backward();
  sgdStep(m, lr);
  return loss;
}
