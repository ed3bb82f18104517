// The playground's network: a narrow CNN for 28x28 grayscale images, module for module the PyTorch model
// that docs/scripts/make-playground-data.py pretrains, so its safetensors file loads with strict keys.

import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
} from '@graft/nn';
import type { Tensor } from '@graft/tensor';

function stage(inChannels: number, outChannels: number): Module[] {
  return [
    new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false }),
    new BatchNorm2d(outChannels),
    new ReLU({ inplace: true }),
  ];
}

/** features (three conv stages) -> global average pool -> fc, about 24k parameters. */
export class SmallNet extends Module {
  declare features: Sequential;
  declare avgpool: AdaptiveAvgPool2d;
  declare fc: Linear;

  constructor(numClasses = 5) {
    super();
    this.features = new Sequential(
      ...stage(1, 16),
      new MaxPool2d(2),
      ...stage(16, 32),
      new MaxPool2d(2),
      ...stage(32, 64),
    );
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = new Linear(64, numClasses);
  }

  override forward(x: Tensor): Tensor {
    return this.fc.call(this.avgpool.call(this.features.call(x)).flatten(1));
  }
}
