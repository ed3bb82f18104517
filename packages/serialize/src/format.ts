// Tells a checkpoint's format from its first bytes and reads it with the matching reader.

import { SerializeError } from './errors.js';
import { defineKey, type PickleDict, type PickleValue } from './python-value.js';
import { looksLikeSafetensors, parseSafetensors } from './safetensors.js';
import { contiguousStrides } from './tensor-geometry.js';
import { looksLikeLegacy, looksLikeTar, readTorchLegacy } from './torch-legacy.js';
import { type ReadOptions, readTorchZip, type StorageData } from './torch-zip.js';
import type { TensorRecord } from './unpickler.js';
import { looksLikeZip } from './zip-reader.js';

/** The file formats graft reads. */
export type FileFormat = 'pytorch-zip' | 'pytorch-legacy' | 'safetensors';

/** Names the format of a checkpoint from its bytes (never from a file name), or null when unknown. */
export function detectFormat(bytes: Uint8Array): FileFormat | null {
  if (looksLikeZip(bytes)) return 'pytorch-zip';
  if (looksLikeLegacy(bytes)) return 'pytorch-legacy';
  if (looksLikeSafetensors(bytes)) return 'safetensors';
  return null;
}

function hexPrefix(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Reads any supported format; every tensor goes through `makeTensor`. */
export function readCheckpoint<T>(
  bytes: Uint8Array,
  makeTensor: (record: TensorRecord<StorageData>) => T,
  options: ReadOptions = {},
): PickleValue<T> {
  const format = detectFormat(bytes);
  switch (format) {
    case 'pytorch-zip':
      return readTorchZip(bytes, makeTensor, options);
    case 'pytorch-legacy':
      return readTorchLegacy(bytes, makeTensor, options);
    case 'safetensors': {
      const parsed = parseSafetensors(bytes);
      const out: PickleDict<T> = {};
      for (const [name, entry] of parsed.tensors) {
        const storage: StorageData = { key: name, dtype: entry.dtype, bytes: entry.bytes, bigEndian: false };
        defineKey(
          out,
          name,
          makeTensor({
            storage,
            dtype: entry.dtype,
            shape: entry.shape,
            strides: contiguousStrides(entry.shape),
            storageOffset: 0,
            requiresGrad: false,
          }),
        );
      }
      return out;
    }
    case null:
      if (looksLikeTar(bytes)) {
        throw new SerializeError(
          'unsupported file format: a tar archive (torch.save before 0.4); re-save it with a newer PyTorch',
        );
      }
      throw new SerializeError(
        `unrecognized file format (first bytes ${hexPrefix(bytes) || 'none'}): expected a PyTorch zip (PK\\x03\\x04), a legacy PyTorch file (pickled magic number) or safetensors (header length then '{')`,
      );
    default:
      throw new SerializeError(`unreachable format ${String(format)}`);
  }
}
