// Builds the network a run trains: architecture, pretrained weights, the new head (replace or cut),
// its initialisation, and which parameters are frozen.

import { type ResNet, resnet18, resnet34, resnet50 } from '@graft/models';
import { BatchNorm, Flatten, init, Linear, type Module, type Parameter, Sequential } from '@graft/nn';
import type { StateDict } from '@graft/serialize';
import { manualSeed } from '@graft/tensor';
import { extractStateDict, readCheckpointFile } from './checkpoint-files.js';
import { CliError, messageOf } from './errors.js';
import type { FinetuneOptions, Model } from './options.js';

const BUILDERS = { resnet18, resnet34, resnet50 } as const;
/** torchvision's top-level children of a ResNet, in order (their indices in a cut model). */
const RESNET_CHILDREN = [
  'conv1',
  'bn1',
  'relu',
  'maxpool',
  'layer1',
  'layer2',
  'layer3',
  'layer4',
  'avgpool',
  'fc',
];

export interface ModelSetup {
  model: Module;
  /** Name prefix of the new head's parameters ('fc.' or e.g. '10.'). */
  headPrefix: string;
  head: Linear;
  /** Human-readable origin of the weights. */
  weightsFrom: string;
}

/** Loads pretrained weights as a state dict: 'imagenet' (registry), a URL, or a file. */
async function loadPretrained(
  _model: Model,
  weights: string,
): Promise<{ sd: StateDict | string; from: string }> {
  if (weights === 'imagenet' || /^https?:\/\//.test(weights))
    return { sd: weights === 'imagenet' ? 'IMAGENET1K_V1' : weights, from: weights };
  const file = await readCheckpointFile(weights, '--weights file');
  return { sd: extractStateDict(file.value, weights), from: weights };
}

/** Output classes of a ResNet state dict (its fc.weight rows), or null. */
function classesOf(sd: StateDict): number | null {
  const w = sd['fc.weight'];
  return w && w.ndim === 2 ? w.shape[0] : null;
}

export async function buildModel(
  opts: Pick<FinetuneOptions, 'model' | 'weights' | 'head' | 'init' | 'seed'>,
  numClasses: number,
): Promise<ModelSetup> {
  manualSeed(opts.seed);
  const build = BUILDERS[opts.model];
  let net: ResNet;
  let weightsFrom = 'random initialisation';
  try {
    if (opts.weights === 'none') {
      net = await build({});
    } else {
      const { sd, from } = await loadPretrained(opts.model, opts.weights);
      const k = typeof sd === 'string' ? undefined : (classesOf(sd) ?? undefined);
      net = await build({ weights: sd, numClasses: k });
      weightsFrom = from;
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--weights ${opts.weights}: ${messageOf(e)}`);
  }
  const inFeatures = net.fc.inFeatures;
  const head = new Linear(inFeatures, numClasses);
  switch (opts.init) {
    case 'xavier-uniform':
      init.xavierUniform_(head.weight);
      init.zeros_(head.bias!);
      break;
    case 'xavier-normal':
      init.xavierNormal_(head.weight);
      init.zeros_(head.bias!);
      break;
    case 'kaiming-normal':
      init.kaimingNormal_(head.weight, { nonlinearity: 'relu' });
      init.zeros_(head.bias!);
      break;
    case 'default':
      break;
  }
  if (opts.head === 'replace') {
    net.fc = head;
    return { model: net, headPrefix: 'fc.', head, weightsFrom };
  }
  const body = [...net.children()].slice(0, -1);
  const model = new Sequential(...body, new Flatten(), head);
  return { model, headPrefix: `${body.length + 1}.`, head, weightsFrom };
}

/**
 * Applies --freeze: 'none', 'backbone' (all but the head) or comma-separated prefixes of parameter
 * names (torchvision's names, e.g. layer1 or layer4.1.bn2; in a cut model they map to child indices).
 * Returns the frozen parameter names.
 */
export function applyFreeze(setup: ModelSetup, spec: string, cut: boolean): string[] {
  const named = [...setup.model.namedParameters()];
  for (const [, p] of named) p.requiresGrad = true;
  if (spec === 'none') return [];
  let match: (name: string) => boolean;
  if (spec === 'backbone') {
    match = (name) => !name.startsWith(setup.headPrefix);
  } else {
    const patterns = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const prefixes = patterns.map((p) => {
      if (!cut) return p;
      const [first, ...rest] = p.split('.');
      const idx = RESNET_CHILDREN.indexOf(first);
      return idx >= 0 ? [String(idx), ...rest].join('.') : p;
    });
    for (let i = 0; i < patterns.length; i++) {
      if (!named.some(([n]) => n === prefixes[i] || n.startsWith(`${prefixes[i]}.`))) {
        throw new CliError(
          `--freeze: '${patterns[i]}' matches no parameter (top-level children: ${RESNET_CHILDREN.slice(0, -1).join(', ')}; or use 'backbone' / 'none')`,
        );
      }
    }
    match = (name) => prefixes.some((p) => name === p || name.startsWith(`${p}.`));
  }
  const frozen: string[] = [];
  for (const [name, p] of named) {
    if (match(name)) {
      p.requiresGrad = false;
      frozen.push(name);
    }
  }
  return frozen;
}

/** BatchNorm layers whose parameters are all frozen: --bn eval puts them in eval mode while training. */
export function frozenBatchNorms(model: Module): Module[] {
  const out: Module[] = [];
  for (const m of model.modules()) {
    if (!(m instanceof BatchNorm)) continue;
    const params: Parameter[] = [...m.parameters()];
    if (params.length > 0 && params.every((p) => !p.requiresGrad)) out.push(m);
  }
  return out;
}
