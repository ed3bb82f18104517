// The options of load and save, checked up front: unknown keys, torch.load / torch.save keywords, wrong types.

import { checkOptions, didYouMean } from '@graft/tensor';
import { SerializeError } from './errors.js';

export const LOAD_OPTIONS = ['verifyCrc', 'keepFloats'] as const;
export const SAVE_OPTIONS = ['format', 'metadata', 'archiveName'] as const;
const FORMATS = ['pytorch-zip', 'safetensors'] as const;

/** Keywords of torch.load / torch.save that graft has no option for, and why. */
const TORCH_KEYWORDS: Record<string, string> = {
  weights_only:
    'graft always loads weights only (a restricted unpickler that never runs code); drop the option',
  map_location:
    'tensors load on the CPU; move them with `.to(device)`, or let module.loadStateDict copy them to the module',
  pickle_protocol: 'graft writes pickle protocol 2, as torch.save does by default; drop the option',
  _use_new_zipfile_serialization:
    "graft writes torch.save's zip format (legacy files are read, not written); drop the option",
  pickle_module: 'graft has its own restricted pickle machine; drop the option',
};

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** Throws for a torch keyword in either spelling (`weights_only`, `weightsOnly`) with what to do instead. */
function refuseTorchKeywords(where: string, options: object): void {
  for (const key of Object.keys(options)) {
    const torchName = Object.keys(TORCH_KEYWORDS).find(
      (k) => k === key || k.replace(/^_/, '').replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) === key,
    );
    if (torchName)
      throw new TypeError(
        `${where}: unknown option '${key}' (torch's ${torchName}): ${TORCH_KEYWORDS[torchName]}`,
      );
  }
}

function checkBoolean(where: string, options: Record<string, unknown>, key: string): void {
  const v = options[key];
  if (v !== undefined && typeof v !== 'boolean')
    throw new TypeError(
      `${where}: option '${key}' must be true or false, got ${typeOf(v)} ${String(v).slice(0, 20)}`,
    );
}

/** Checks the options of `load` / `loadBytes`. */
export function checkLoadOptions(where: string, options: unknown): void {
  if (options === undefined || options === null) return;
  if (typeof options === 'string') {
    throw new TypeError(
      `${where}: the second argument is an options object, got the string ${JSON.stringify(options.slice(0, 40))}; ` +
        "the format is told from the bytes, so pass no format (for torch.load's map_location, use '.to(device)' after loading)",
    );
  }
  if (typeof options === 'object') refuseTorchKeywords(where, options);
  checkOptions(where, options as object, LOAD_OPTIONS);
  const o = options as Record<string, unknown>;
  for (const key of LOAD_OPTIONS) checkBoolean(where, o, key);
}

/**
 * Checks the options of `save` / `saveBytes`. `format` is the format that will be written (for `save`, told
 * from the path when not given), so options of the other format are refused rather than silently dropped.
 */
export function checkSaveOptions(where: string, options: unknown, path?: string): void {
  if (options === undefined || options === null) return;
  if (typeof options === 'object') refuseTorchKeywords(where, options);
  checkOptions(where, options as object, SAVE_OPTIONS);
  const o = options as Record<string, unknown>;
  if (o.format !== undefined && !FORMATS.includes(o.format as (typeof FORMATS)[number])) {
    const guess = typeof o.format === 'string' ? didYouMean(o.format, FORMATS) : undefined;
    throw new SerializeError(
      `${where}: unknown save format ${JSON.stringify(o.format)}; ` +
        (guess ? `did you mean '${guess}'?` : "expected 'pytorch-zip' or 'safetensors'"),
    );
  }
  const format = o.format ?? (path?.toLowerCase().endsWith('.safetensors') ? 'safetensors' : 'pytorch-zip');
  const target = path === undefined ? `format '${format}'` : `${JSON.stringify(path)} (format '${format}')`;
  if (o.metadata !== undefined) {
    if (format !== 'safetensors') {
      throw new SerializeError(
        `${where}: option 'metadata' is safetensors' __metadata__ and would be lost writing ${target}; ` +
          "save to a .safetensors path or pass { format: 'safetensors' }, or put the values into the saved object",
      );
    }
    if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata))
      throw new SerializeError(
        `${where}: option 'metadata' must be an object of strings, got ${typeOf(o.metadata)}`,
      );
    for (const [k, v] of Object.entries(o.metadata)) {
      if (typeof v !== 'string')
        throw new SerializeError(
          `${where}: metadata value for ${JSON.stringify(k)} must be a string, got ${typeOf(v)}; safetensors metadata holds strings only (use String(v) or JSON.stringify(v))`,
        );
    }
  }
  if (o.archiveName !== undefined) {
    if (format === 'safetensors')
      throw new SerializeError(
        `${where}: option 'archiveName' names the folder inside a PyTorch zip and would be lost writing ${target}; drop it`,
      );
    if (typeof o.archiveName !== 'string')
      throw new SerializeError(
        `${where}: option 'archiveName' must be a string, got ${typeOf(o.archiveName)}`,
      );
  }
}
