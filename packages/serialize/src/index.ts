// @graft/serialize: safetensors and PyTorch checkpoints (.pth zip and legacy) on bytes, browser-safe.

import { Tensor, type TypedArray } from '@graft/tensor';
import { collect, type Encoded } from './chunks.js';
import { SerializeError } from './errors.js';
import { readCheckpoint } from './format.js';
import { checkLoadOptions, checkSaveOptions } from './options.js';
import type { TensorSource } from './pickler.js';
import type { PickleDict, PickleKey, PickleValue } from './python-value.js';
import { parseSafetensors, planSafetensors, type SafetensorsSource } from './safetensors.js';
import { prefetchTensors, tensorFactory, tensorSourceOf } from './tensor-bridge.js';
import { contiguousStrides } from './tensor-geometry.js';
import { planTorchZip } from './torch-zip.js';

export { SerializeError } from './errors.js';
export { detectFormat, type FileFormat } from './format.js';
export type { PickleKey } from './python-value.js';
export { isOrderedDict, orderedDict, PyFloat, pyAttributes, pyFloat } from './python-value.js';

/** Any value a checkpoint holds: see the README for how Python values map to these. */
export type PyValue = PickleValue<Tensor>;
/** A Python dict with string keys (a state dict, a checkpoint). */
export type PyDict = PickleDict<Tensor>;
/** A state dict: parameter and buffer names to tensors. */
export type StateDict = Record<string, Tensor>;
export type { PickleDict, PickleValue };
/** A Python dict with a non-string key (an optimizer's `state`, keyed by parameter index). */
export type PyMap = Map<PickleKey, PyValue>;
/**
 * What the writers accept: any PyValue, or an object shaped like one (interfaces such as an optimizer's
 * state dict type are not index-signature types, so they enter here). Values are checked at run time and
 * an error names the path of anything Python cannot hold.
 */
export type SaveInput = PyValue | object;

/** Options of `load` / `loadBytes`; an unknown key throws naming the closest known one. */
export interface LoadOptions {
  /** Also check the CRC-32 of uncompressed tensor data in zip files (slower; PyTorch does not). */
  verifyCrc?: boolean;
  /**
   * Read Python floats as `PyFloat` instead of numbers, so that saving the value again keeps `1.0` a float
   * (default false: floats are plain numbers, and an integral one is written back as an int).
   */
  keepFloats?: boolean;
}

/** Options of `save` / `saveBytes`; an unknown key, or an option of the other format, throws. */
export interface SaveOptions {
  /** `pytorch-zip` (default) or `safetensors`. */
  format?: 'pytorch-zip' | 'safetensors';
  /** safetensors only: the string-to-string `__metadata__`. */
  metadata?: Record<string, string>;
  /** pytorch-zip only: the folder inside the zip (torch uses the file's stem; default `archive`). */
  archiveName?: string;
}

/**
 * Reads a checkpoint from bytes, telling the format (PyTorch zip, legacy PyTorch, safetensors) from
 * the bytes themselves. Tensor data is viewed in place where it is aligned, so keep `bytes` unchanged.
 */
export function loadBytes(bytes: Uint8Array, options: LoadOptions = {}): PyValue {
  checkLoadOptions('loadBytes', options);
  if (!(bytes instanceof Uint8Array)) {
    throw new SerializeError(
      `loadBytes: expected the file's bytes as a Uint8Array, got ${describeJs(bytes)}` +
        (typeof bytes === 'string' ? "; to read a path use load() from '@graft/serialize/node'" : ''),
    );
  }
  return readCheckpoint(bytes, tensorFactory(), options);
}

/** Reads a safetensors file, keeping its `__metadata__`. */
export function readSafetensors(bytes: Uint8Array): { tensors: StateDict; metadata: Record<string, string> } {
  const parsed = parseSafetensors(bytes);
  const make = tensorFactory();
  const tensors: StateDict = {};
  for (const [name, entry] of parsed.tensors) {
    const storage = { key: name, dtype: entry.dtype, bytes: entry.bytes, bigEndian: false };
    const strides = contiguousStrides(entry.shape);
    Object.defineProperty(tensors, name, {
      value: make({
        storage,
        dtype: entry.dtype,
        shape: entry.shape,
        strides,
        storageOffset: 0,
        requiresGrad: false,
      }),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { tensors, metadata: parsed.metadata };
}

function safetensorsEntries(
  value: SaveInput,
  prefetched: ReadonlyMap<Tensor, TypedArray>,
): Map<string, SafetensorsSource> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Tensor ||
    value instanceof Map
  ) {
    throw new SerializeError('safetensors: can only save a flat object of tensors (a state dict)');
  }
  const entries = new Map<string, SafetensorsSource>();
  for (const [name, t] of Object.entries(value)) {
    if (!(t instanceof Tensor)) {
      throw new SerializeError(
        `safetensors: value for ${JSON.stringify(name)} must be a Tensor, got ${describeJs(t)}`,
      );
    }
    const source = tensorSourceOf(t, prefetched);
    entries.set(name, { dtype: t.dtype, shape: [...t.shape], bytes: (source as TensorSource).storage.bytes });
  }
  return entries;
}

function describeJs(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

/** The file's bytes as chunks; tensor data is read (zero-copy for contiguous CPU tensors) as it is emitted. */
function encode(
  value: SaveInput,
  options: SaveOptions,
  prefetched: ReadonlyMap<Tensor, TypedArray>,
): Encoded {
  if (options.format === 'safetensors')
    return planSafetensors(safetensorsEntries(value, prefetched), options.metadata);
  return planTorchZip(value, {
    tensorSource: (v) => tensorSourceOf(v, prefetched),
    archiveName: options.archiveName,
  });
}

/**
 * Writes `value` as a PyTorch zip checkpoint (loadable with `torch.load(f, weights_only=True)`) or,
 * with `{ format: 'safetensors' }`, as safetensors. Works for tensors on any device.
 */
export async function saveBytes(value: SaveInput, options: SaveOptions = {}): Promise<Uint8Array> {
  checkSaveOptions('saveBytes', options);
  const prefetched = await prefetchTensors(value);
  return collect(encode(value, options, prefetched));
}

/**
 * `saveBytes` as chunks for a writer that streams them (Node's `save` writes them to the file one by
 * one): emit them synchronously, since a chunk may view WebAssembly memory. Not part of the public API.
 * @internal
 */
export async function planSave(value: SaveInput, options: SaveOptions): Promise<Encoded> {
  const prefetched = await prefetchTensors(value);
  return encode(value, options, prefetched);
}

/** Synchronous `saveBytes` for CPU tensors. */
export function saveBytesSync(value: SaveInput, options: SaveOptions = {}): Uint8Array {
  checkSaveOptions('saveBytesSync', options);
  return collect(encode(value, options, new Map()));
}

/**
 * Checks that a loaded value is a state dict (string keys, tensor values) and returns it typed;
 * throws naming the first entry that is not a tensor.
 */
export function asStateDict(value: PyValue): StateDict {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Map ||
    value instanceof Tensor
  ) {
    throw new SerializeError(`expected a state dict (an object of tensors), got ${describeJs(value)}`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (!(v instanceof Tensor))
      throw new SerializeError(
        `expected a state dict: entry ${JSON.stringify(key)} is ${describeJs(v)}, not a Tensor`,
      );
  }
  return value as StateDict;
}
