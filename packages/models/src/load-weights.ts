// Turning a `weights` argument (registry entry, name, path, URL, bytes or state dict) into loaded parameters.
import { type Module, StateDictError } from '@graft/nn';
import { loadBytes, type PyValue } from '@graft/serialize';
import { checkOptions, noGrad, Tensor, zeros } from '@graft/tensor';
import { readCheckpointBytes } from '#checkpoint-source';
import type { DownloadProgress } from './checkpoint-source/types.js';
import { hashPrefixFromFileName } from './hash-prefix.js';
import { looksLikeWeightsName, type ResNetArchitecture, resolveWeightsName, Weights } from './weights.js';

/** A state dict: PyTorch's keys to tensors. */
export type StateDict = Record<string, Tensor>;

/**
 * Where pretrained parameters come from: a registry entry (`ResNet18Weights.IMAGENET1K_V1`), its
 * name ('IMAGENET1K_V1', 'DEFAULT'), a URL, a local path (Node), a checkpoint's bytes, or a state dict.
 */
export type WeightsSource = Weights | string | Uint8Array | ArrayBuffer | StateDict;

/** How weights are fetched. */
export interface FetchWeightsOptions {
  /**
   * Announce a download on stderr (`Downloading: "<url>" to <path>`) and draw a progress bar when
   * stderr is a terminal (Node; default true). false: quiet.
   */
  progress?: boolean;
  /** Called as a download proceeds: first with 0 bytes and the destination, last with `done: true`. */
  onProgress?: (progress: DownloadProgress) => void;
}

const FETCH_OPTION_KEYS: readonly string[] = ['progress', 'onProgress', 'architecture'];

function isTensorDict(value: unknown): value is StateDict {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Map ||
    value instanceof Tensor
  ) {
    return false;
  }
  if (ArrayBuffer.isView(value)) return false;
  return Object.values(value).every((v) => v instanceof Tensor);
}

/**
 * The state dict inside a loaded checkpoint: the checkpoint itself when it maps names to tensors
 * (torchvision's files), else its `state_dict` or `model` entry (common training checkpoints).
 */
export function stateDictFromCheckpoint(value: PyValue, what: string): StateDict {
  if (isTensorDict(value)) return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Map) &&
    !(value instanceof Tensor)
  ) {
    const record = value as Record<string, unknown>;
    for (const key of ['state_dict', 'model']) {
      if (isTensorDict(record[key])) return record[key];
    }
    const keys = Object.keys(record)
      .slice(0, 5)
      .map((k) => JSON.stringify(k));
    throw new Error(
      `weights: ${what} holds no state dict: expected an object of tensors (or one under "state_dict" or "model"), got keys ${keys.join(', ')}`,
    );
  }
  throw new Error(`weights: ${what} holds no state dict (an object of tensors)`);
}

function describeSource(source: WeightsSource): string {
  if (source instanceof Weights) return String(source);
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer)
    return `a checkpoint of ${source.byteLength} bytes`;
  return 'the given state dict';
}

/**
 * Reads the state dict that `source` names. Registry entries and URLs go through the caches and
 * are downloaded once (Node) or fetched (browser); downloads are checked against the sha256 prefix
 * in their file name.
 */
export async function fetchStateDict(
  source: WeightsSource,
  options: FetchWeightsOptions & { architecture?: ResNetArchitecture } = {},
): Promise<StateDict> {
  checkOptions('fetchStateDict', options, FETCH_OPTION_KEYS);
  if (typeof source === 'string' && options.architecture) {
    source = resolveWeightsName(options.architecture, source);
  } else if (typeof source === 'string' && looksLikeWeightsName(source)) {
    throw new TypeError(
      `fetchStateDict: '${source}' reads as a weights name, but no architecture was given to look it up in; ` +
        `pass the entry (ResNet18Weights.${source.slice(source.indexOf('.') + 1)}) or { architecture: 'resnet18' }, ` +
        `or a path with a folder or extension ('./${source}')`,
    );
  }
  const what = describeSource(source);
  if (source instanceof Weights) {
    const bytes = await readCheckpointBytes({
      source: source.url,
      fileName: source.fileName,
      hashPrefix: source.hashPrefix,
      progress: options.progress,
      onProgress: options.onProgress,
    });
    return stateDictFromCheckpoint(loadBytes(bytes), what);
  }
  if (typeof source === 'string') {
    const bytes = await readCheckpointBytes({
      source,
      hashPrefix: /^https?:\/\//i.test(source) ? hashPrefixFromFileName(new URL(source).pathname) : null,
      progress: options.progress,
      onProgress: options.onProgress,
    });
    return stateDictFromCheckpoint(loadBytes(bytes), what);
  }
  if (source instanceof Uint8Array) return stateDictFromCheckpoint(loadBytes(source), what);
  if (source instanceof ArrayBuffer) return stateDictFromCheckpoint(loadBytes(new Uint8Array(source)), what);
  if (isTensorDict(source)) return source;
  throw new TypeError(
    `weights: expected a Weights entry, a name, a path, a URL, bytes or a state dict, got ${source === null ? 'null' : typeof source}`,
  );
}

/**
 * Loads `stateDict` into `model` strictly, as torchvision does, with two allowances for real
 * checkpoints: BatchNorm's `num_batches_tracked` may be absent (files saved before PyTorch 0.4.1;
 * filled with 0 as PyTorch does), and floating tensors are cast to the model's dtype (a float16
 * file loads into a float32 model). Anything else that does not fit throws a StateDictError whose
 * message lists every missing, unexpected and wrong-shape key.
 */
export function loadWeightsInto(model: Module, stateDict: StateDict, what = 'checkpoint'): void {
  const own = model.stateDict();
  const prepared: StateDict = {};
  for (const [key, value] of Object.entries(stateDict)) {
    const target = own[key];
    prepared[key] =
      target && value.isFloatingPoint() && target.isFloatingPoint() && value.dtype !== target.dtype
        ? value.to(target.dtype)
        : value;
  }
  for (const key of Object.keys(own)) {
    if (!key.endsWith('.num_batches_tracked') || key in prepared) continue;
    const prefix = key.slice(0, -'num_batches_tracked'.length);
    if (`${prefix}running_mean` in prepared) prepared[key] = zeros([], { dtype: 'int64' });
  }
  try {
    noGrad(() => model.loadStateDict(prepared));
  } catch (e) {
    if (e instanceof StateDictError) {
      throw new StateDictError(
        `${what} does not fit ${model._getName()}: ${e.message}`,
        e.missingKeys,
        e.unexpectedKeys,
        e.errorMessages,
      );
    }
    throw e;
  }
}
