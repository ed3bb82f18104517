// The module trees of scripts/golden/nn.py, written as a graft user would write them.
// Test support only (excluded from the build).

import { ones, type Tensor, zeros } from '@graft/tensor';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  F,
  Flatten,
  GELU,
  Identity,
  init,
  Linear,
  MaxPool2d,
  Module,
  ModuleDict,
  ModuleList,
  Parameter,
  ReLU,
  Sequential,
} from '../index.js';

/** The seed article's LeNet-style network. */
export class Net extends Module {
  conv1 = new Conv2d(3, 6, 5);
  pool = new MaxPool2d(2, 2);
  conv2 = new Conv2d(6, 16, 5);
  fc1 = new Linear(16 * 5 * 5, 120);
  fc2 = new Linear(120, 84);
  fc3 = new Linear(84, 10);

  override forward(x: Tensor): Tensor {
    x = this.pool.call(F.relu(this.conv1.call(x)));
    x = this.pool.call(F.relu(this.conv2.call(x)));
    x = x.view(-1, 16 * 5 * 5);
    x = F.relu(this.fc1.call(x));
    x = F.relu(this.fc2.call(x));
    return this.fc3.call(x);
  }

  initializeWeights(): void {
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        init.kaimingNormal_(m.weight);
        if (m.bias) init.constant_(m.bias, 0);
      } else if (m instanceof BatchNorm2d) {
        init.constant_(m.weight!, 1);
        init.constant_(m.bias!, 0);
      } else if (m instanceof Linear) {
        init.normal_(m.weight, 0, 0.01);
        init.zeros_(m.bias!);
      }
    }
  }
}

export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Module | null;
  stride: number;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Module | null = null) {
    super();
    this.conv1 = new Conv2d(inplanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(planes);
    // Assigned here, not as a field initializer: initializers run before the constructor body,
    // and registration order is assignment order.
    this.relu = new ReLU({ inplace: true });
    this.conv2 = new Conv2d(planes, planes, 3, { stride: 1, padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
    this.stride = stride;
  }

  override forward(x: Tensor): Tensor {
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.bn2.call(this.conv2.call(out));
    const identity = this.downsample ? (this.downsample.call(x) as Tensor) : x;
    out = out.add_(identity);
    return this.relu.call(out);
  }
}

/** ResNet-18's module tree at toy width. */
export class TinyResNet extends Module {
  conv1 = new Conv2d(3, 8, 3, { stride: 1, padding: 1, bias: false });
  bn1 = new BatchNorm2d(8);
  relu = new ReLU({ inplace: true });
  maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  layer1 = new Sequential(new BasicBlock(8, 8), new BasicBlock(8, 8));
  layer2 = new Sequential(
    new BasicBlock(
      8,
      16,
      2,
      new Sequential(new Conv2d(8, 16, 1, { stride: 2, bias: false }), new BatchNorm2d(16)),
    ),
    new BasicBlock(16, 16),
  );
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  fc: Linear;

  constructor(numClasses = 10) {
    super();
    this.fc = new Linear(16, numClasses);
  }

  override forward(x: Tensor): Tensor {
    x = this.maxpool.call(this.relu.call(this.bn1.call(this.conv1.call(x))));
    x = this.layer2.call(this.layer1.call(x));
    return this.fc.call(this.avgpool.call(x).flatten(1));
  }
}

/** Containers inside containers, buffers (one non-persistent), a shared module and a tied weight. */
export class Nested extends Module {
  features = new Sequential(
    new Conv2d(3, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new ReLU({ inplace: true }),
    new Sequential(new Conv2d(4, 4, 3, { bias: false }), new ReLU()),
  );
  heads = new ModuleList([new Linear(4, 2), new ModuleList([new Linear(4, 3), new Identity()])]);
  branches = new ModuleDict({
    left: new Linear(4, 4),
    right: new Sequential({ fc: new Linear(4, 4), act: new GELU() }),
  });
  declare scale: Tensor;
  shared: Module;
  tied: Linear;

  constructor() {
    super();
    this.registerBuffer('scale', ones(1));
    this.registerBuffer('cache', zeros(2), false);
    this.shared = this.heads[0];
    this.tied = new Linear(4, 2, { bias: false });
    this.tied.weight = (this.heads[0] as Linear).weight;
    this.registerParameter('temperature', new Parameter(ones([])));
    this.registerParameter('unused', null);
  }
}

export function resnetHead2(): TinyResNet {
  const m = new TinyResNet();
  m.fc = new Linear(m.fc.inFeatures, 2);
  return m;
}

export function resnetCut(): Sequential {
  const m = new TinyResNet();
  return new Sequential(...[...m.children()].slice(0, -1), new Flatten(), new Linear(16, 5));
}

export function netCut(): Sequential {
  const m = new Net();
  return new Sequential(...[...m.children()].slice(0, -1), new Flatten(), new Linear(84, 5));
}

export function netFc5(): Net {
  const m = new Net();
  m.fc3 = new Linear(84, 5);
  return m;
}

export function resnetLayer1Identity(): Module {
  const m = new TinyResNet();
  (m as unknown as { layer1: Module }).layer1 = new Identity();
  return m;
}

/** The builders under the names the fixtures use. */
export const MODELS: Record<string, () => Module> = {
  Net: () => new Net(),
  Net_fc5: netFc5,
  Net_cut: netCut,
  TinyResNet: () => new TinyResNet(),
  TinyResNet_head2: resnetHead2,
  TinyResNet_cut: resnetCut,
  TinyResNet_layer1_identity: resnetLayer1Identity,
  Nested: () => new Nested(),
};
