// Reading and writing checkpoint files for the CLI: format detection, state-dict extraction, atomic saves.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  detectFormat,
  loadBytes,
  orderedDict,
  type PyValue,
  type StateDict,
  save,
  saveInBackground,
} from '@graft/serialize/node';
import { Tensor } from '@graft/tensor';
import { CliError, messageOf } from './errors.js';
import type { PendingWrites } from './run-files.js';

export interface LoadedFile {
  path: string;
  format: string;
  value: PyValue;
  bytes: number;
}

/** Reads a checkpoint, with one-line errors for a missing path or a corrupt file. */
export async function readCheckpointFile(path: string, what = 'checkpoint'): Promise<LoadedFile> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `${what} not found: ${path}` : `cannot read ${what} ${path}: ${messageOf(e)}`,
    );
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const format = detectFormat(bytes);
  if (!format) {
    throw new CliError(
      `${path} is not a checkpoint graft can read (expected a PyTorch .pth/.pt zip or legacy file, or safetensors)`,
    );
  }
  try {
    return { path, format, value: loadBytes(bytes), bytes: bytes.length };
  } catch (e) {
    throw new CliError(`cannot load ${what} ${path} (${format}): ${messageOf(e)}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, PyValue> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    !(v instanceof Tensor) &&
    !(v instanceof Uint8Array)
  );
}

/** Every tensor in a (possibly nested) value, with dotted paths. */
export function* walkTensors(value: PyValue, prefix = ''): Generator<[string, Tensor]> {
  if (value instanceof Tensor) {
    yield [prefix, value];
    return;
  }
  const join = (k: string | number) => (prefix ? `${prefix}.${k}` : String(k));
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* walkTensors(value[i], join(i));
  else if (value instanceof Map) for (const [k, v] of value) yield* walkTensors(v, join(String(k)));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) yield* walkTensors(v, join(k));
}

/**
 * The model weights inside a loaded file: a state dict itself, or the `model` / `state_dict` /
 * `model_state_dict` entry of a training checkpoint.
 */
export function extractStateDict(value: PyValue, path: string): StateDict {
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([, v]) => v instanceof Tensor)) return value as StateDict;
    for (const key of ['model', 'state_dict', 'model_state_dict']) {
      const inner = value[key];
      if (isPlainObject(inner) && Object.values(inner).every((v) => v instanceof Tensor))
        return inner as StateDict;
    }
  }
  throw new CliError(
    `${path} holds no model state dict (expected tensors at the top level, or under 'model' or 'state_dict')`,
  );
}

/**
 * Saves a state dict: safetensors for `.safetensors`, PyTorch's zip (an OrderedDict) otherwise; with
 * `pending`, in the background (added to it).
 */
export async function saveStateDict(
  sd: StateDict,
  path: string,
  metadata?: Record<string, string>,
  pending?: PendingWrites,
): Promise<void> {
  const [value, options] =
    extname(path).toLowerCase() === '.safetensors'
      ? [sd, { metadata: { format: 'pt', ...metadata } }]
      : [orderedDict({ ...sd }), {}];
  if (pending) pending.add(await saveInBackground(value, path, options));
  else await save(value, path, options);
}

/** Is this a running-statistics buffer rather than a learned parameter? */
export function isBufferName(name: string): boolean {
  return /(^|\.)(running_mean|running_var|num_batches_tracked)$/.test(name);
}
