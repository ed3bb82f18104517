// Where file records meet @graft/tensor: storages become typed arrays wrapped without copying,
// tensors become strided views of them; graft tensors become storages for the writers.

import {
  fromTypedArray,
  rawViewSync,
  Tensor,
  type DType as TensorDType,
  type TypedArray,
} from '@graft/tensor';
import { bytesFromStorageArray, type DType, type StorageArray, storageArrayFromBytes } from './dtypes.js';
import { SerializeError } from './errors.js';
import type { StorageSource, TensorSource } from './pickler.js';
import { contiguousStrides } from './tensor-geometry.js';
import type { StorageData } from './torch-zip.js';
import type { TensorRecord } from './unpickler.js';

// The two packages must agree on dtype names; this fails to compile if either list drifts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const dtypesAgree: Same<DType, TensorDType> = true;
const arraysAgree: Same<StorageArray, TypedArray> = true;
void dtypesAgree;
void arraysAgree;

/**
 * Returns a function that turns tensor records into Tensors. Records on the same storage share one
 * base tensor, so views of one storage in the file stay views of one storage in graft.
 */
export function tensorFactory(): (record: TensorRecord<StorageData>) => Tensor {
  const bases = new Map<StorageData, Tensor>();
  return (record) => {
    const storage = record.storage;
    let base = bases.get(storage);
    if (!base) {
      const array = storageArrayFromBytes(
        storage.bytes,
        storage.dtype,
        `storage '${storage.key}'`,
        storage.bigEndian,
      );
      base = fromTypedArray(array, [array.length], storage.dtype);
      bases.set(storage, base);
    }
    const t = base.asStrided(record.shape, record.strides, record.storageOffset);
    if (record.requiresGrad) {
      if (t.dtype !== 'float32' && t.dtype !== 'float64' && t.dtype !== 'float16' && t.dtype !== 'bfloat16') {
        throw new SerializeError(
          `tensor on storage '${storage.key}': only floating-point tensors can require grad, got ${t.dtype}`,
        );
      }
      t.requiresGrad = true;
    }
    return t;
  };
}

/** Tensor values for the writers: each tensor becomes one contiguous storage, read when the file is assembled. */
export function tensorSourceOf(
  value: object,
  prefetched?: ReadonlyMap<Tensor, TypedArray>,
): TensorSource | undefined {
  if (!(value instanceof Tensor)) return undefined;
  const t = value;
  const dtype = t.dtype;
  // Contiguous CPU tensors are viewed, not copied: the writers use each chunk before the next is made.
  const read = (): Uint8Array => {
    const data = prefetched?.get(t) ?? rawViewSync(t);
    return bytesFromStorageArray(data, dtype);
  };
  const storage: StorageSource = { id: t, dtype, numel: t.numel(), bytes: read };
  return {
    storage,
    shape: t.shape,
    strides: contiguousStrides(t.shape),
    storageOffset: 0,
    requiresGrad: t.requiresGrad,
    // @graft/nn's Parameter subclasses Tensor; serialize cannot import nn, so it goes by the class name.
    parameter: t.constructor.name === 'Parameter',
  };
}

/** Reads back every non-CPU tensor in `value` (async), so the writers can then run synchronously. */
export async function prefetchTensors(value: unknown): Promise<Map<Tensor, TypedArray>> {
  const out = new Map<Tensor, TypedArray>();
  const seen = new Set<unknown>();
  const stack: unknown[] = [value];
  const pending: Promise<void>[] = [];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Tensor) {
      if (v.device !== 'cpu') pending.push(v.readRaw().then((d) => void out.set(v, d)));
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v instanceof Map) {
      for (const [k, item] of v) stack.push(k, item);
    } else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
      stack.push(...Object.values(v));
    }
  }
  await Promise.all(pending);
  return out;
}
