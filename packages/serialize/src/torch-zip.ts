// PyTorch's zip checkpoint format (torch.save since 1.6): <prefix>/data.pkl holds the pickle,
// <prefix>/data/<key> each storage's raw bytes, plus version and byteorder records.

import { collect, type Encoded } from './chunks.js';
import { type DType, ELEMENT_SIZE } from './dtypes.js';
import { SerializeError } from './errors.js';
import { type PickleWriteOptions, pickle } from './pickler.js';
import type { PickleValue } from './python-value.js';
import { type TensorRecord, unpickle } from './unpickler.js';
import { ZipArchive } from './zip-reader.js';
import { planZip } from './zip-writer.js';

/** A storage's bytes as found in the file (a view where possible), in the file's byte order. */
export interface StorageData {
  key: string;
  dtype: DType;
  bytes: Uint8Array;
  bigEndian: boolean;
}

export interface ReadOptions {
  /** Check the CRC-32 of stored tensor data too (deflated entries and the pickle are always checked). */
  verifyCrc?: boolean;
  /** Read Python floats as `PyFloat` rather than numbers. */
  keepFloats?: boolean;
}

/** Reads a zip-format checkpoint; `makeTensor` turns each tensor record into the caller's tensor type. */
export function readTorchZip<T>(
  bytes: Uint8Array,
  makeTensor: (record: TensorRecord<StorageData>) => T,
  options: ReadOptions = {},
): PickleValue<T> {
  const zip = new ZipArchive(bytes);
  const pickles = zip.names.filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pickles.length) {
    throw new SerializeError(
      `pytorch zip: no data.pkl record among ${zip.names.length} entries (${zip.names.slice(0, 5).join(', ')})`,
    );
  }
  // The shallowest data.pkl is the checkpoint's; its folder is the archive prefix, whatever it is named.
  const pklName = pickles.reduce((a, b) => (b.split('/').length < a.split('/').length ? b : a));
  const prefix = pklName.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}constants.pkl`)) {
    throw new SerializeError(
      'pytorch zip: this is a TorchScript archive (torch.jit.save); save a state_dict with torch.save instead',
    );
  }
  let bigEndian = false;
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`, { verifyCrc: true })).trim();
    if (order !== 'little' && order !== 'big') {
      throw new SerializeError(
        `pytorch zip: ${prefix}byteorder is ${JSON.stringify(order.slice(0, 20))}, expected "little" or "big"`,
      );
    }
    bigEndian = order === 'big';
  }
  const storages = new Map<string, StorageData>();
  const result = unpickle<StorageData>(zip.read(pklName, { verifyCrc: true }), {
    context: `pytorch zip ${pklName}`,
    loadStorage: (ref) => {
      const known = storages.get(ref.key);
      if (known) {
        if (known.dtype !== ref.dtype) {
          throw new SerializeError(
            `pytorch zip: storage '${ref.key}' is used as ${known.dtype} and as ${ref.dtype}`,
          );
        }
        if (known.bytes.length !== ref.numel * ELEMENT_SIZE[ref.dtype]) {
          throw new SerializeError(
            `pytorch zip: storage '${ref.key}' is declared with ${ref.numel} and ${known.bytes.length / ELEMENT_SIZE[ref.dtype]} elements`,
          );
        }
        return known;
      }
      const name = `${prefix}data/${ref.key}`;
      if (!zip.entries.has(name))
        throw new SerializeError(`pytorch zip: storage '${ref.key}' has no record ${name}`);
      const data = zip.read(name, { verifyCrc: options.verifyCrc === true });
      const expected = ref.numel * ELEMENT_SIZE[ref.dtype];
      if (data.length !== expected) {
        throw new SerializeError(
          `pytorch zip: storage record ${name} has ${data.length} bytes, expected ${expected} (${ref.numel} ${ref.dtype} elements)`,
        );
      }
      const storage: StorageData = { key: ref.key, dtype: ref.dtype, bytes: data, bigEndian };
      storages.set(ref.key, storage);
      return storage;
    },
  });
  return result.toJs(makeTensor, { keepFloats: options.keepFloats });
}

export interface WriteZipOptions extends PickleWriteOptions {
  /** Folder name inside the zip (torch uses the file's stem; default `archive`). */
  archiveName?: string;
  forceZip64?: boolean;
}

/** Writes a zip-format checkpoint that `torch.load(path, weights_only=True)` accepts. */
export function writeTorchZip(value: unknown, options: WriteZipOptions): Uint8Array {
  return collect(planTorchZip(value, options));
}

/** `writeTorchZip` as chunks: tensor data is read as it is written. */
export function planTorchZip(value: unknown, options: WriteZipOptions): Encoded {
  const archive = options.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_.-]+$/.test(archive) || archive === '.' || archive === '..') {
    throw new SerializeError(
      `pytorch zip: archive name ${JSON.stringify(archive)} must be letters, digits, '_', '-' or '.'`,
    );
  }
  const { pickle: pkl, storages } = pickle(value, options);
  const text = new TextEncoder();
  const little = text.encode('little');
  const version = text.encode('3\n');
  return planZip(
    [
      { name: `${archive}/data.pkl`, data: pkl, size: pkl.length },
      { name: `${archive}/byteorder`, data: little, size: little.length },
      ...storages.map((s, i) => ({
        name: `${archive}/data/${i}`,
        data: s.bytes,
        size: s.numel * ELEMENT_SIZE[s.dtype],
      })),
      { name: `${archive}/version`, data: version, size: version.length },
    ],
    { forceZip64: options.forceZip64 },
  );
}
