// resnet18 / resnet34 / resnet50: torchvision's builders, with weights resolved from the registry, files or URLs.

import { checkOptions } from '@graft/tensor';
import {
  type FetchWeightsOptions,
  fetchStateDict,
  loadWeightsInto,
  type StateDict,
  type WeightsSource,
} from './load-weights.js';
import {
  BasicBlock,
  type BlockClass,
  Bottleneck,
  RESNET_OPTION_KEYS,
  ResNet,
  type ResNetOptions,
} from './resnet.js';
import { warnDeprecated } from './warnings.js';
import {
  exportedEnumName,
  type ResNetArchitecture,
  resolveWeightsName,
  WEIGHTS_BY_ARCHITECTURE,
  Weights,
} from './weights.js';

/** Options of resnet18 / resnet34 / resnet50. */
export interface ResNetBuilderOptions extends ResNetOptions, FetchWeightsOptions {
  /**
   * Pretrained parameters: a registry entry (`ResNet18Weights.IMAGENET1K_V1`), its name
   * ('IMAGENET1K_V1', 'DEFAULT'), a URL, a local .pth/.safetensors path (Node), a checkpoint's
   * bytes, or a state dict. null or absent: random init.
   */
  weights?: WeightsSource | null;
  /**
   * @deprecated As in torchvision since 0.13: use `weights`. `true` loads the weights torchvision's
   * `pretrained=True` loads (IMAGENET1K_V1 for every ResNet, also ResNet-50) and warns; `false` is
   * random init. Passing it together with `weights` is an error.
   */
  pretrained?: boolean;
}

const ARCHITECTURES: Readonly<
  Record<ResNetArchitecture, { block: BlockClass; layers: [number, number, number, number] }>
> = {
  resnet18: { block: BasicBlock, layers: [2, 2, 2, 2] },
  resnet34: { block: BasicBlock, layers: [3, 4, 6, 3] },
  resnet50: { block: Bottleneck, layers: [3, 4, 6, 3] },
};

/** What torchvision 0.14's `pretrained=True` means for each builder (not DEFAULT: ResNet-50 gets V1). */
const LEGACY_PRETRAINED: Readonly<Record<ResNetArchitecture, string>> = {
  resnet18: 'IMAGENET1K_V1',
  resnet34: 'IMAGENET1K_V1',
  resnet50: 'IMAGENET1K_V1',
};

const BUILDER_OPTION_KEYS: readonly string[] = [
  'weights',
  'pretrained',
  'progress',
  'onProgress',
  ...RESNET_OPTION_KEYS,
];

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value instanceof Weights) return String(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/**
 * The weights the options ask for, with torchvision's handling of the deprecated `pretrained`:
 * alone it maps to the legacy default (true) or to no weights (false) and warns; with `weights` it is
 * an error (torchvision's ResNet refuses the leftover `pretrained` keyword).
 */
function requestedWeights(
  architecture: ResNetArchitecture,
  options: ResNetBuilderOptions,
): WeightsSource | null {
  const { pretrained, weights } = options;
  if (weights === (true as unknown)) {
    throw new TypeError(
      `${architecture}: weights: true is not a weights value; write weights: 'DEFAULT' or weights: 'IMAGENET1K_V1'`,
    );
  }
  if (pretrained === undefined) return weights ?? null;
  const enumName = WEIGHTS_BY_ARCHITECTURE[architecture].DEFAULT.enumName;
  const exported = exportedEnumName(enumName);
  if (typeof pretrained !== 'boolean') {
    const hint =
      typeof pretrained === 'string'
        ? `; to choose weights by name, write weights: '${pretrained}'`
        : `; write weights: 'IMAGENET1K_V1' (or ${exported}.IMAGENET1K_V1) instead`;
    throw new TypeError(`${architecture}: pretrained must be true or false, got ${show(pretrained)}${hint}`);
  }
  if (weights !== undefined) {
    throw new TypeError(
      `${architecture}: got both pretrained: ${pretrained} and weights: ${show(weights)}; pass only weights ` +
        `(pretrained is deprecated, and torchvision refuses the two together)`,
    );
  }
  const legacy = LEGACY_PRETRAINED[architecture];
  const deprecated = `${architecture}: the option 'pretrained' is deprecated (since torchvision 0.13); use 'weights' instead.`;
  if (pretrained) {
    warnDeprecated(
      `${deprecated} pretrained: true is the same as weights: '${legacy}' (${exported}.${legacy}). ` +
        `You can also use weights: 'DEFAULT' (${exported}.DEFAULT) to get the most up-to-date weights.`,
      'GRAFT_DEP_PRETRAINED',
    );
    return WEIGHTS_BY_ARCHITECTURE[architecture][legacy];
  }
  warnDeprecated(
    `${deprecated} pretrained: false is the same as weights: null (or leaving weights out): random initialization.`,
    'GRAFT_DEP_PRETRAINED',
  );
  return null;
}

async function build(architecture: ResNetArchitecture, options: ResNetBuilderOptions): Promise<ResNet> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `${architecture}: expected an options object, got ${show(options)}; ` +
        `write ${architecture}({ weights: 'IMAGENET1K_V1' }) for pretrained weights, ${architecture}() for random init`,
    );
  }
  checkOptions(architecture, options, BUILDER_OPTION_KEYS);
  let weights = requestedWeights(architecture, options);
  if (typeof weights === 'string') weights = resolveWeightsName(architecture, weights);
  const modelOptions: ResNetOptions = {};
  for (const key of RESNET_OPTION_KEYS) {
    if (options[key] !== undefined) (modelOptions as Record<string, unknown>)[key] = options[key];
  }
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
  // Fetch before building: a missing file or a failed download should not wait for the random init.
  let stateDict: StateDict | null = null;
  if (weights !== null) {
    const fetchOptions: FetchWeightsOptions & { architecture: ResNetArchitecture } = { architecture };
    if (options.progress !== undefined) fetchOptions.progress = options.progress;
    if (options.onProgress !== undefined) fetchOptions.onProgress = options.onProgress;
    stateDict = await fetchStateDict(weights, fetchOptions);
  }
  const { block, layers } = ARCHITECTURES[architecture];
  const model = new ResNet(block, layers, modelOptions);
  if (stateDict !== null) {
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
