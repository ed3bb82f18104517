// PyTorch's legacy checkpoint format (before 1.6): pickled magic number, protocol version and
// sys_info, the main pickle, a pickled list of storage keys, then each storage as an 8-byte
// element count followed by its raw bytes.

import { ByteReader } from './byte-reader.js';
import { ELEMENT_SIZE } from './dtypes.js';
import { SerializeError } from './errors.js';
import type { PickleValue } from './python-value.js';
import type { ReadOptions, StorageData } from './torch-zip.js';
import { type TensorRecord, unpickle } from './unpickler.js';

export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** 0x1950a86a20f9469cfc6c as LONG1 bytes, which protocol-2 files start with after PROTO. */
const MAGIC_LONG1 = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const MAGIC_TEXT = 'L119547037146038801333356';

/** True when the bytes start with the legacy format's pickled magic number. */
export function looksLikeLegacy(bytes: Uint8Array): boolean {
  if (bytes.length >= 14 && bytes[0] === 0x80) {
    // Protocol 4+ puts an 8-byte FRAME before the first value.
    const at = bytes[2] === 0x95 ? 11 : 2;
    return MAGIC_LONG1.every((b, i) => bytes[at + i] === b);
  }
  return MAGIC_TEXT.split('').every((c, i) => bytes[i] === c.charCodeAt(0));
}

/** True for a tar archive (torch's even older format, which graft does not read). */
export function looksLikeTar(bytes: Uint8Array): boolean {
  return bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar';
}

interface LegacyStorage extends StorageData {
  numel: number;
  loaded: boolean;
  views: { storage: StorageData; offset: number; numel: number }[];
}

/** Reads a legacy-format checkpoint. */
export function readTorchLegacy<T>(
  bytes: Uint8Array,
  makeTensor: (record: TensorRecord<StorageData>) => T,
  options: ReadOptions = {},
): PickleValue<T> {
  const magic = unpickle(bytes, { context: 'legacy torch magic number' });
  if (magic.root !== LEGACY_MAGIC) throw new SerializeError('legacy torch: bad magic number; corrupt file?');
  const protocol = unpickle(bytes, { context: 'legacy torch protocol version' }, magic.end);
  if (protocol.root !== LEGACY_PROTOCOL) {
    throw new SerializeError(
      `legacy torch: protocol version ${String(protocol.root)}, expected ${LEGACY_PROTOCOL}`,
    );
  }
  const sysInfoPickle = unpickle(bytes, { context: 'legacy torch sys_info' }, protocol.end);
  const sysInfo = sysInfoPickle.toJs(() => null);
  let bigEndian = false;
  if (
    sysInfo !== null &&
    typeof sysInfo === 'object' &&
    !Array.isArray(sysInfo) &&
    !(sysInfo instanceof Map)
  ) {
    const little = (sysInfo as Record<string, unknown>).little_endian;
    if (little === false) bigEndian = true;
  }

  const roots = new Map<string, LegacyStorage>();
  const main = unpickle<StorageData>(
    bytes,
    {
      context: 'legacy torch pickle',
      loadStorage: (ref) => {
        let root = roots.get(ref.key);
        if (!root) {
          root = {
            key: ref.key,
            dtype: ref.dtype,
            bytes: new Uint8Array(0),
            bigEndian,
            numel: ref.numel,
            loaded: false,
            views: [],
          };
          roots.set(ref.key, root);
        } else if (root.dtype !== ref.dtype || root.numel !== ref.numel) {
          throw new SerializeError(
            `legacy torch: storage '${ref.key}' is declared as ${root.numel} ${root.dtype} and as ${ref.numel} ${ref.dtype}`,
          );
        }
        if (!ref.view) return root;
        const view: StorageData = {
          key: ref.view.key,
          dtype: ref.dtype,
          bytes: new Uint8Array(0),
          bigEndian,
        };
        root.views.push({ storage: view, offset: ref.view.offset, numel: ref.view.numel });
        return view;
      },
    },
    sysInfoPickle.end,
  );

  const keyList = unpickle(bytes, { context: 'legacy torch storage keys' }, main.end);
  const keys = keyList.toJs(() => null);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw new SerializeError('legacy torch: storage key list must be a list of strings');
  }
  const r = new ByteReader(bytes, 'legacy torch storages', keyList.end);
  for (const key of keys as string[]) {
    const storage = roots.get(key);
    if (!storage)
      throw new SerializeError(`legacy torch: storage '${key}' has data but no tensor refers to it`);
    if (storage.loaded)
      throw new SerializeError(`legacy torch: storage '${key}' appears twice in the key list`);
    const count = r.i64(`element count of storage '${key}'`);
    if (count !== storage.numel) {
      throw new SerializeError(
        `legacy torch: storage '${key}' holds ${count} elements, the pickle declares ${storage.numel}`,
      );
    }
    storage.bytes = r.take(count * ELEMENT_SIZE[storage.dtype], `data of storage '${key}'`);
    storage.loaded = true;
    const size = ELEMENT_SIZE[storage.dtype];
    for (const v of storage.views)
      v.storage.bytes = storage.bytes.subarray(v.offset * size, (v.offset + v.numel) * size);
  }
  for (const [key, storage] of roots) {
    if (!storage.loaded)
      throw new SerializeError(`legacy torch: storage '${key}' is used by a tensor but its data is missing`);
  }
  return main.toJs(makeTensor, { keepFloats: options.keepFloats });
}
