// resnet18 / resnet34 / resnet50: torchvision's builders, with weights resolved from the registry, files or URLs.

import {
  type FetchWeightsOptions,
  fetchStateDict,
  loadWeightsInto,
  type WeightsSource,
} from './load-weights.js';
import { BasicBlock, type BlockClass, Bottleneck, ResNet, type ResNetOptions } from './resnet.js';
import { type ResNetArchitecture, WEIGHTS_BY_ARCHITECTURE, Weights, weightsByName } from './weights.js';

/** Options of resnet18 / resnet34 / resnet50. */
export interface ResNetBuilderOptions extends ResNetOptions, FetchWeightsOptions {
  /**
   * Pretrained parameters: a registry entry (`ResNet18Weights.IMAGENET1K_V1`), its name
   * ('IMAGENET1K_V1', 'DEFAULT'), a URL, a local .pth/.safetensors path (Node), a checkpoint's
   * bytes, or a state dict. null or absent: random init.
   */
  weights?: WeightsSource | null;
}

const ARCHITECTURES: Readonly<
  Record<ResNetArchitecture, { block: BlockClass; layers: [number, number, number, number] }>
> = {
  resnet18: { block: BasicBlock, layers: [2, 2, 2, 2] },
  resnet34: { block: BasicBlock, layers: [3, 4, 6, 3] },
  resnet50: { block: Bottleneck, layers: [3, 4, 6, 3] },
};

async function build(architecture: ResNetArchitecture, options: ResNetBuilderOptions): Promise<ResNet> {
  let weights = options.weights ?? null;
  if (typeof weights === 'string') weights = weightsByName(architecture, weights) ?? weights;
  const modelOptions: ResNetOptions = { ...options };
  if (weights instanceof Weights) {
    const enumName = Object.values(WEIGHTS_BY_ARCHITECTURE[architecture])[0].enumName;
    if (weights.architecture !== architecture) {
      throw new TypeError(`${architecture}: invalid weights ${weights}; expected one of ${enumName}`);
    }
    const numClasses = weights.meta.categories.length;
    if (options.numClasses !== undefined && options.numClasses !== numClasses) {
      throw new Error(
        `${architecture}: numClasses ${options.numClasses} does not match ${weights} (${numClasses} categories); ` +
          `load the weights, then replace model.fc`,
      );
    }
    modelOptions.numClasses = numClasses;
  }
  const { block, layers } = ARCHITECTURES[architecture];
  const model = new ResNet(block, layers, modelOptions);
  if (weights !== null) {
    const stateDict = await fetchStateDict(weights, { ...options, architecture });
    loadWeightsInto(
      model,
      stateDict,
      typeof weights === 'string' ? weights : weights instanceof Weights ? String(weights) : 'checkpoint',
    );
  }
  return model;
}

/**
 * ResNet-18 (torchvision's `resnet18`): 11,689,512 parameters with 1000 classes.
 * `await resnet18({ weights: ResNet18Weights.IMAGENET1K_V1 })` loads ImageNet weights.
 */
export function resnet18(options: ResNetBuilderOptions = {}): Promise<ResNet> {
  return build('resnet18', options);
}

/** ResNet-34 (torchvision's `resnet34`): 21,797,672 parameters with 1000 classes. */
export function resnet34(options: ResNetBuilderOptions = {}): Promise<ResNet> {
  return build('resnet34', options);
}

/** ResNet-50 (torchvision's `resnet50`, V1.5: stride on the 3x3): 25,557,032 parameters with 1000 classes. */
export function resnet50(options: ResNetBuilderOptions = {}): Promise<ResNet> {
  return build('resnet50', options);
}
