// The finetune options: one table drives the command-line flags, the config file (JSON or YAML with
// the same keys) and validation, so a bad value gets the same error wherever it came from.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CliError, messageOf } from './errors.js';

export type Model = 'resnet18' | 'resnet34' | 'resnet50';

export interface FinetuneOptions {
  model: Model;
  weights: string;
  data: string;
  numClasses: number | null;
  head: 'replace' | 'cut';
  init: 'xavier-uniform' | 'xavier-normal' | 'kaiming-normal' | 'default';
  freeze: string;
  bn: 'train' | 'eval';
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  headLr: number | null;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  scheduler: 'none' | 'step' | 'cosine' | 'onecycle';
  warmup: number;
  stepSize: number;
  gamma: number;
  epochs: number;
  batchSize: number;
  valBatchSize: number | null;
  imageSize: number;
  valSplit: number;
  augment: boolean;
  onCorrupt: 'error' | 'skip';
  cacheFeatures: 'auto' | 'on' | 'off';
  device: 'cpu' | 'webgpu';
  amp: boolean;
  threads: number;
  seed: number;
  out: string;
  resume: string | null;
  compareScratch: boolean;
  json: boolean;
}

type Kind =
  | { type: 'choice'; values: readonly string[] }
  | { type: 'number'; min?: number; integer?: boolean; nullable?: boolean }
  | { type: 'string'; nullable?: boolean }
  | { type: 'boolean' };

export interface OptionSpec {
  key: keyof FinetuneOptions;
  flag: string;
  kind: Kind;
  help: string;
}

const choice = (...values: string[]): Kind => ({ type: 'choice', values });

export const FINETUNE_OPTIONS: OptionSpec[] = [
  { key: 'model', flag: 'model', kind: choice('resnet18', 'resnet34', 'resnet50'), help: 'architecture' },
  {
    key: 'weights',
    flag: 'weights',
    kind: { type: 'string' },
    help: "pretrained weights: a .pth/.safetensors path, a URL, 'imagenet' (torchvision's file) or 'none'",
  },
  {
    key: 'data',
    flag: 'data',
    kind: { type: 'string' },
    help: "an ImageFolder DIR (with train/ and val/ or test/, or split by --val-split) or 'fashion-mnist[:DIR]' (IDX files)",
  },
  {
    key: 'numClasses',
    flag: 'num-classes',
    kind: { type: 'number', min: 1, integer: true, nullable: true },
    help: 'classes of the new head (default: inferred from the data)',
  },
  {
    key: 'head',
    flag: 'head',
    kind: choice('replace', 'cut'),
    help: "'replace' model.fc, or 'cut': children()[:-1] + Flatten + Linear",
  },
  {
    key: 'init',
    flag: 'init',
    kind: choice('xavier-uniform', 'xavier-normal', 'kaiming-normal', 'default'),
    help: "initialisation of the new head's weight (bias zero; 'default' is PyTorch's)",
  },
  {
    key: 'freeze',
    flag: 'freeze',
    kind: { type: 'string' },
    help: "'none', 'backbone' (everything but the head) or comma-separated name prefixes, e.g. layer1,layer2",
  },
  {
    key: 'bn',
    flag: 'bn',
    kind: choice('train', 'eval'),
    help: 'BatchNorm mode of frozen layers during training',
  },
  { key: 'optimizer', flag: 'optimizer', kind: choice('sgd', 'adam', 'adamw'), help: 'optimizer' },
  {
    key: 'lr',
    flag: 'lr',
    kind: { type: 'number', min: 0 },
    help: 'learning rate (of the body, or of everything without --head-lr)',
  },
  {
    key: 'headLr',
    flag: 'head-lr',
    kind: { type: 'number', min: 0, nullable: true },
    help: 'learning rate of the new head: a second parameter group',
  },
  { key: 'momentum', flag: 'momentum', kind: { type: 'number', min: 0 }, help: 'SGD momentum' },
  { key: 'nesterov', flag: 'nesterov', kind: { type: 'boolean' }, help: 'Nesterov momentum (SGD)' },
  { key: 'weightDecay', flag: 'weight-decay', kind: { type: 'number', min: 0 }, help: 'weight decay' },
  {
    key: 'scheduler',
    flag: 'scheduler',
    kind: choice('none', 'step', 'cosine', 'onecycle'),
    help: 'learning-rate schedule (per step)',
  },
  {
    key: 'warmup',
    flag: 'warmup',
    kind: { type: 'number', min: 0 },
    help: 'linear warm-up, in epochs, before step/cosine decay',
  },
  {
    key: 'stepSize',
    flag: 'step-size',
    kind: { type: 'number', min: 1, integer: true },
    help: 'StepLR period in epochs',
  },
  { key: 'gamma', flag: 'gamma', kind: { type: 'number', min: 0 }, help: 'StepLR decay factor' },
  { key: 'epochs', flag: 'epochs', kind: { type: 'number', min: 1, integer: true }, help: 'epochs' },
  {
    key: 'batchSize',
    flag: 'batch-size',
    kind: { type: 'number', min: 1, integer: true },
    help: 'batch size',
  },
  {
    key: 'valBatchSize',
    flag: 'val-batch-size',
    kind: { type: 'number', min: 1, integer: true, nullable: true },
    help: 'validation batch size (default: --batch-size); validation keeps nothing for a backward pass, so a larger batch fits and runs faster per image',
  },
  {
    key: 'imageSize',
    flag: 'image-size',
    kind: { type: 'number', min: 8, integer: true },
    help: 'input size in pixels (square)',
  },
  {
    key: 'valSplit',
    flag: 'val-split',
    kind: { type: 'number', min: 0 },
    help: 'fraction of train/ held out when the data has no val/ or test/ folder',
  },
  {
    key: 'augment',
    flag: 'augment',
    kind: { type: 'boolean' },
    help: 'random resized crops and horizontal flips',
  },
  {
    key: 'onCorrupt',
    flag: 'on-corrupt',
    kind: choice('error', 'skip'),
    help: 'a corrupt image stops the run (error) or is left out and listed (skip)',
  },
  {
    key: 'cacheFeatures',
    flag: 'cache-features',
    kind: choice('auto', 'on', 'off'),
    help: 'with a frozen backbone in eval mode and no augmentation, compute its features once and train the head on them',
  },
  { key: 'device', flag: 'device', kind: choice('cpu', 'webgpu'), help: 'where to compute' },
  {
    key: 'amp',
    flag: 'amp',
    kind: { type: 'boolean' },
    help: "mixed precision: forward and loss under autocast (float16), backward through a GradScaler (--device webgpu with 'shader-f16')",
  },
  { key: 'threads', flag: 'threads', kind: { type: 'number', min: 1, integer: true }, help: 'CPU threads' },
  { key: 'seed', flag: 'seed', kind: { type: 'number', integer: true }, help: 'random seed' },
  { key: 'out', flag: 'out', kind: { type: 'string' }, help: 'output folder' },
  {
    key: 'resume',
    flag: 'resume',
    kind: { type: 'string', nullable: true },
    help: 'continue from a checkpoint (OUT/last.pth)',
  },
  {
    key: 'compareScratch',
    flag: 'compare-scratch',
    kind: { type: 'boolean' },
    help: 'also train the same recipe from random weights and print both accuracies',
  },
  { key: 'json', flag: 'json', kind: { type: 'boolean' }, help: 'print the final report as JSON' },
];

/** Checks and converts one value (from a flag's text or a config file), naming the flag on error. */
export function coerce(spec: OptionSpec, raw: unknown, source: string): unknown {
  const { kind, flag } = spec;
  const bad = (expected: string) =>
    new CliError(`invalid value for --${flag} (${source}): expected ${expected}, got ${JSON.stringify(raw)}`);
  if (raw === null && 'nullable' in kind && kind.nullable) return null;
  switch (kind.type) {
    case 'choice': {
      const v = String(raw);
      if (!kind.values.includes(v)) throw bad(`one of ${kind.values.join(', ')}`);
      return v;
    }
    case 'number': {
      if (kind.nullable && (raw === 'auto' || raw === 'none')) return null;
      const v =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && raw.trim() !== ''
            ? Number(raw)
            : Number.NaN;
      if (!Number.isFinite(v)) throw bad('a number');
      if (kind.integer && !Number.isInteger(v)) throw bad('an integer');
      if (kind.min !== undefined && v < kind.min) throw bad(`a number >= ${kind.min}`);
      return v;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw bad('true or false');
    }
    case 'string': {
      if (typeof raw !== 'string' || raw === '') throw bad('a non-empty string');
      return raw;
    }
  }
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

// Names PyTorch scripts and other trainers use for an option under a name no edit distance reaches.
const CONFIG_ALIASES: Readonly<Record<string, keyof FinetuneOptions>> = {
  learningrate: 'lr',
  numepochs: 'epochs',
  maxepochs: 'epochs',
  optim: 'optimizer',
  arch: 'model',
  dataset: 'data',
  outputdir: 'out',
  // timm's and PyTorch recipes' use_amp, Hugging Face Trainer's fp16, mixed_precision in accelerate.
  useamp: 'amp',
  fp16: 'amp',
  mixedprecision: 'amp',
};

/**
 * The error for a config key no option has: `unknown option 'batch_size' in --config run.yaml; did you mean
 * 'batch-size'?` (snake_case and near misses, answered in the file's own style: a camelCase key gets the
 * camelCase name and its flag), or the list of keys when nothing is close.
 */
export async function unknownConfigKeyMessage(key: string, path: string): Promise<string> {
  const { didYouMean } = await import('@graft/tensor');
  const keys = FINETUNE_OPTIONS.map((s) => s.key);
  // Kebab-case reads as snake_case to didYouMean, which maps snake_case to camelCase first.
  const guess =
    didYouMean(key.replace(/-/g, '_'), keys) ?? CONFIG_ALIASES[key.replace(/[-_]/g, '').toLowerCase()];
  const where = `unknown option '${key}' in --config ${path}`;
  if (guess === undefined)
    return `${where}; valid keys are ${FINETUNE_OPTIONS.map((s) => s.flag).join(', ')}`;
  const spec = FINETUNE_OPTIONS.find((s) => s.key === guess)!;
  const camelStyle = /[A-Z]/.test(key) && !/[-_]/.test(key);
  return camelStyle && spec.key !== spec.flag
    ? `${where}; did you mean '${spec.key}' (--${spec.flag})?`
    : `${where}; did you mean '${spec.flag}'?`;
}

/**
 * Reads a JSON or YAML config whose keys are the flag names (kebab-case or camelCase); an unknown key is an
 * error naming the file and the option it was probably meant to be.
 */
export async function readConfigFile(path: string): Promise<Partial<FinetuneOptions>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(
      `cannot read --config ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : messageOf(e)}`,
    );
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new CliError(`cannot parse --config ${path}: ${messageOf(e).split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`--config ${path} must hold a mapping of option names to values`);
  }
  const out: Partial<Record<keyof FinetuneOptions, unknown>> = {};
  for (const [key, value] of Object.entries(data)) {
    const spec = FINETUNE_OPTIONS.find((s) => s.flag === key || s.key === key || camel(s.flag) === key);
    if (!spec) throw new CliError(await unknownConfigKeyMessage(key, path));
    out[spec.key] = coerce(spec, value, path);
  }
  return out as Partial<FinetuneOptions>;
}
