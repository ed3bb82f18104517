// The pretrained-weights registry: torchvision's ResNet weight enums, with their URLs, metadata and presets.
import { fileNameFromUrl, hashPrefixFromFileName } from './hash-prefix.js';
import { ImageClassification, type ImageClassificationOptions } from './image-classification.js';
import { IMAGENET_CATEGORIES } from './imagenet-categories.js';

/** The architectures with registered weights. */
export type ResNetArchitecture = 'resnet18' | 'resnet34' | 'resnet50';

/** A weights entry's metadata; keys are torchvision's (`weights.meta['categories']` reads the same). */
export interface WeightsMeta {
  /** Class names, index = class id. */
  readonly categories: readonly string[];
  readonly num_params: number;
  readonly min_size: readonly [number, number];
  readonly recipe: string;
  /** Dataset -> metric -> value, e.g. `_metrics['ImageNet-1K']['acc@1']`. */
  readonly _metrics: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly _docs: string;
}

/** One pretrained checkpoint (torchvision's `Weights`): where to get it, what it was trained on, how to feed it. */
export class Weights {
  /** The enum it belongs to, as torchvision names it: 'ResNet18_Weights'. */
  readonly enumName: string;
  /** Its member name: 'IMAGENET1K_V1'. */
  readonly name: string;
  readonly architecture: ResNetArchitecture;
  readonly url: string;
  readonly meta: WeightsMeta;
  readonly #preset: ImageClassificationOptions;

  constructor(
    enumName: string,
    name: string,
    architecture: ResNetArchitecture,
    url: string,
    preset: ImageClassificationOptions,
    meta: WeightsMeta,
  ) {
    this.enumName = enumName;
    this.name = name;
    this.architecture = architecture;
    this.url = url;
    this.#preset = { ...preset };
    this.meta = Object.freeze(meta);
    Object.freeze(this);
  }

  /** The checkpoint's file name, as cached: 'resnet18-f37072fd.pth'. */
  get fileName(): string {
    return fileNameFromUrl(this.url);
  }

  /** The sha256 prefix the file name carries: 'f37072fd'. */
  get hashPrefix(): string | null {
    return hashPrefixFromFileName(this.fileName);
  }

  /** A fresh preprocessing transform for these weights (torchvision's `weights.transforms()`). */
  transforms(): ImageClassification {
    return new ImageClassification(this.#preset);
  }

  toString(): string {
    return `${this.enumName}.${this.name}`;
  }
}

const RECIPE_V1 = 'https://github.com/pytorch/vision/tree/main/references/classification#resnet';
const DOCS_V1 = 'These weights reproduce closely the results of the paper using a simple training recipe.';

function imagenet(numParams: number, recipe: string, acc1: number, acc5: number, docs: string): WeightsMeta {
  return {
    categories: IMAGENET_CATEGORIES,
    num_params: numParams,
    min_size: [1, 1],
    recipe,
    _metrics: { 'ImageNet-1K': { 'acc@1': acc1, 'acc@5': acc5 } },
    _docs: docs,
  };
}

const RESNET18_V1 = new Weights(
  'ResNet18_Weights',
  'IMAGENET1K_V1',
  'resnet18',
  'https://download.pytorch.org/models/resnet18-f37072fd.pth',
  { cropSize: 224 },
  imagenet(11689512, RECIPE_V1, 69.758, 89.078, DOCS_V1),
);

const RESNET34_V1 = new Weights(
  'ResNet34_Weights',
  'IMAGENET1K_V1',
  'resnet34',
  'https://download.pytorch.org/models/resnet34-b627a593.pth',
  { cropSize: 224 },
  imagenet(21797672, RECIPE_V1, 73.314, 91.42, DOCS_V1),
);

const RESNET50_V1 = new Weights(
  'ResNet50_Weights',
  'IMAGENET1K_V1',
  'resnet50',
  'https://download.pytorch.org/models/resnet50-0676ba61.pth',
  { cropSize: 224 },
  imagenet(25557032, RECIPE_V1, 76.13, 92.862, DOCS_V1),
);

const RESNET50_V2 = new Weights(
  'ResNet50_Weights',
  'IMAGENET1K_V2',
  'resnet50',
  'https://download.pytorch.org/models/resnet50-11ad3fa6.pth',
  { cropSize: 224, resizeSize: 232 },
  imagenet(
    25557032,
    'https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621',
    80.858,
    95.434,
    "\n                These weights improve upon the results of the original paper by using TorchVision's `new training recipe\n                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n            ",
  ),
);

/** ResNet-18 weights (torchvision's ResNet18_Weights). */
export const ResNet18Weights: { readonly IMAGENET1K_V1: Weights; readonly DEFAULT: Weights } = Object.freeze({
  IMAGENET1K_V1: RESNET18_V1,
  DEFAULT: RESNET18_V1,
});

/** ResNet-34 weights (torchvision's ResNet34_Weights). */
export const ResNet34Weights: { readonly IMAGENET1K_V1: Weights; readonly DEFAULT: Weights } = Object.freeze({
  IMAGENET1K_V1: RESNET34_V1,
  DEFAULT: RESNET34_V1,
});

/** ResNet-50 weights (torchvision's ResNet50_Weights); DEFAULT is the better V2. */
export const ResNet50Weights: {
  readonly IMAGENET1K_V1: Weights;
  readonly IMAGENET1K_V2: Weights;
  readonly DEFAULT: Weights;
} = Object.freeze({
  IMAGENET1K_V1: RESNET50_V1,
  IMAGENET1K_V2: RESNET50_V2,
  DEFAULT: RESNET50_V2,
});

/** Each architecture's weights enum. */
export const WEIGHTS_BY_ARCHITECTURE: Readonly<
  Record<ResNetArchitecture, Readonly<Record<string, Weights>>>
> = Object.freeze({
  resnet18: ResNet18Weights,
  resnet34: ResNet34Weights,
  resnet50: ResNet50Weights,
});

/**
 * A weights entry named as torchvision accepts names: 'IMAGENET1K_V1', 'DEFAULT' or
 * 'ResNet18_Weights.IMAGENET1K_V1'; null when the string names none of `architecture`'s entries.
 */
export function weightsByName(architecture: ResNetArchitecture, name: string): Weights | null {
  const entries = WEIGHTS_BY_ARCHITECTURE[architecture];
  const dot = name.indexOf('.');
  const [enumPart, member] = dot < 0 ? [null, name] : [name.slice(0, dot), name.slice(dot + 1)];
  if (!Object.hasOwn(entries, member)) return null;
  const entry = entries[member];
  if (enumPart !== null && enumPart !== entry.enumName) return null;
  return entry;
}

const MEMBER_NAME = /^[A-Z][A-Z0-9_]*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]+_Weights\.[A-Za-z0-9_]+$/;

/**
 * True when `source` reads as a weights name rather than a file: an enum member the way torchvision
 * spells them (all capitals, digits and '_': 'IMAGENET1K_V2') or a qualified one ('ResNet50_Weights.X').
 * Paths have a '/' or an extension; URLs have a scheme.
 */
export function looksLikeWeightsName(source: string): boolean {
  return MEMBER_NAME.test(source) || QUALIFIED_NAME.test(source);
}

/** `architecture`'s entries as a readable list: 'IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT (= IMAGENET1K_V2)'. */
export function describeWeightsEnum(architecture: ResNetArchitecture): string {
  const entries = WEIGHTS_BY_ARCHITECTURE[architecture];
  const members = Object.keys(entries).filter((k) => k !== 'DEFAULT');
  return `${members.join(', ')}, DEFAULT (= ${entries.DEFAULT.name})`;
}

function enumNameOf(architecture: ResNetArchitecture): string {
  return WEIGHTS_BY_ARCHITECTURE[architecture].DEFAULT.enumName;
}

/** 'ResNet18_Weights' -> 'ResNet18Weights', the name graft exports it under. */
export function exportedEnumName(enumName: string): string {
  return enumName.replace('_', '');
}

/**
 * Resolves a `weights` string for `architecture`: a registry entry when it names one, the string itself
 * when it is a path or URL, and a TypeError listing the valid names when it reads as a name that is not
 * there ('IMAGENET1K_V2' for resnet18, 'imagenet1k_v1', 'ResNet50_Weights.IMAGENET1K_V2' for resnet18).
 */
export function resolveWeightsName(architecture: ResNetArchitecture, source: string): Weights | string {
  const entry = weightsByName(architecture, source);
  if (entry) return entry;
  const enumName = enumNameOf(architecture);
  const valid = `${enumName} has ${describeWeightsEnum(architecture)}`;
  const usage = `pass one of those (weights: 'IMAGENET1K_V1' or ${exportedEnumName(enumName)}.IMAGENET1K_V1), or a checkpoint's path or URL`;
  const dot = source.indexOf('.');
  if (QUALIFIED_NAME.test(source)) {
    const otherEnum = source.slice(0, dot);
    const owner = (Object.keys(WEIGHTS_BY_ARCHITECTURE) as ResNetArchitecture[]).find(
      (a) => enumNameOf(a) === otherEnum,
    );
    if (owner && owner !== architecture) {
      throw new TypeError(
        `${architecture}: weights '${source}' are ${owner}'s; ${valid}. Use ${owner}() for them, or ${usage}`,
      );
    }
    throw new TypeError(`${architecture}: unknown weights '${source}'; ${valid}; ${usage}`);
  }
  if (MEMBER_NAME.test(source)) {
    throw new TypeError(`${architecture}: unknown weights '${source}'; ${valid}; ${usage}`);
  }
  // A case slip of a real name ('imagenet1k_v1', 'default') is a name too: no checkpoint is called that.
  const upper = source.toUpperCase();
  if (/^[A-Za-z0-9_]+$/.test(source) && weightsByName(architecture, upper)) {
    throw new TypeError(`${architecture}: unknown weights '${source}'; did you mean '${upper}'? ${valid}`);
  }
  return source;
}
