// default_collate: merges a list of items into batched tensors, recursing into tuples and records.
import { type DType, fromTypedArray, stack, Tensor, type TypedArray, tensor } from '@graft/tensor';
import { isRawImage } from './raw-image.js';

/** Typed arrays the collate function batches (as numpy arrays are in torch). */
export type CollatableArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/**
 * What {@link defaultCollate} makes of a batch of `T`: tensors, numbers and typed arrays become one
 * tensor with a leading batch dimension, strings a string list, tuples and records are collated
 * field by field.
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends CollatableArray
        ? Tensor
        : T extends readonly unknown[]
          ? { -readonly [K in keyof T]: Collated<T[K]> }
          : T extends object
            ? { [K in keyof T]: Collated<T[K]> }
            : never;

const ARRAY_DTYPES: [new (n: number) => CollatableArray, DType][] = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int32Array, 'int32'],
  [Int16Array, 'int16'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
];

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Tensor) return `Tensor [${value.shape.join(', ')}] ${value.dtype}`;
  if (isRawImage(value)) return 'RawImage';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

function collateTensors(batch: readonly unknown[], path: string): Tensor {
  const first = batch[0] as Tensor;
  batch.forEach((item, i) => {
    if (!(item instanceof Tensor)) {
      throw new TypeError(`defaultCollate: ${path}item 0 is a Tensor but item ${i} is ${describe(item)}`);
    }
    if (item.shape.length !== first.shape.length || item.shape.some((d, k) => d !== first.shape[k])) {
      throw new RangeError(
        `defaultCollate: stack expects each tensor to be equal size, but got [${first.shape.join(', ')}] ` +
          `at ${path}item 0 and [${item.shape.join(', ')}] at ${path}item ${i}`,
      );
    }
  });
  return stack(batch as Tensor[], 0);
}

function collateNumbers(batch: readonly unknown[], path: string): Tensor {
  const kind = typeof batch[0];
  batch.forEach((item, i) => {
    if (typeof item !== kind) {
      throw new TypeError(`defaultCollate: ${path}item 0 is a ${kind} but item ${i} is ${describe(item)}`);
    }
  });
  if (kind === 'boolean')
    return tensor(
      batch.map((b) => (b ? 1 : 0)),
      { dtype: 'bool' },
    );
  // torch.tensor on Python ints gives int64, on floats float64.
  const values = batch as number[];
  return tensor(values, { dtype: values.every(Number.isInteger) ? 'int64' : 'float64' });
}

function collateArrays(batch: readonly unknown[], path: string): Tensor {
  const first = batch[0] as CollatableArray;
  const entry = ARRAY_DTYPES.find(([ctor]) => first instanceof ctor)!;
  const out = new entry[0](batch.length * first.length);
  batch.forEach((item, i) => {
    if (!(item instanceof entry[0]) || item.length !== first.length) {
      throw new RangeError(
        `defaultCollate: ${path}item 0 is a ${entry[0].name} of length ${first.length} but item ${i} is ` +
          (item instanceof entry[0] ? `of length ${item.length}` : describe(item)),
      );
    }
    out.set(item, i * first.length);
  });
  return fromTypedArray(out as TypedArray, [batch.length, first.length], entry[1]);
}

function collateAt(batch: readonly unknown[], path: string): unknown {
  const first = batch[0];
  if (first instanceof Tensor) return collateTensors(batch, path);
  if (typeof first === 'number' || typeof first === 'boolean') return collateNumbers(batch, path);
  if (typeof first === 'string') return batch.map((s) => String(s));
  if (ARRAY_DTYPES.some(([ctor]) => first instanceof ctor)) return collateArrays(batch, path);
  if (isRawImage(first)) {
    throw new TypeError(
      `defaultCollate: ${path}items are RawImages, which do not batch; add ToTensor() (or PILToTensor()) to the transform`,
    );
  }
  if (Array.isArray(first)) {
    batch.forEach((item, i) => {
      if (!Array.isArray(item) || item.length !== first.length) {
        throw new RangeError(
          `defaultCollate: each element in the batch should be of equal size: ${path}item 0 has ${first.length} ` +
            `fields, item ${i} has ${Array.isArray(item) ? item.length : describe(item)}`,
        );
      }
    });
    return first.map((_, k) =>
      collateAt(
        batch.map((item) => (item as unknown[])[k]),
        `${path}[${k}] of `,
      ),
    );
  }
  if (typeof first === 'object' && first !== null && Object.getPrototypeOf(first) === Object.prototype) {
    const record = first as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record).map((key) => [
        key,
        collateAt(
          batch.map((item) => (item as Record<string, unknown>)[key]),
          `.${key} of `,
        ),
      ]),
    );
  }
  throw new TypeError(
    `defaultCollate: ${path}batch must contain tensors, numbers, booleans, strings, typed arrays, arrays or plain ` +
      `objects; found ${describe(first)}`,
  );
}

/**
 * torch's default_collate: stacks tensors along a new first dimension, turns integers into an
 * int64 tensor (other numbers float64, booleans bool), typed arrays into a [B, length] tensor,
 * and collates tuples and plain objects field by field.
 */
export function defaultCollate<T>(batch: readonly T[]): Collated<T> {
  if (batch.length === 0) throw new RangeError('defaultCollate: expected a non-empty batch, got 0 items');
  return collateAt(batch, '') as Collated<T>;
}
