// Map-style datasets: Dataset, Subset and ConcatDataset (torch.utils.data semantics).

/**
 * A map-style dataset: `length` items, item `i` from `get(i)`, synchronously or as a promise
 * (decoding an image file is asynchronous). Subclass it and implement both.
 */
export abstract class Dataset<T> {
  /** Number of items (a field or a getter in subclasses). */
  abstract readonly length: number;
  /** Item `index` for 0 <= index < length. */
  abstract get(index: number): T | Promise<T>;
}

/** Throws a RangeError naming `owner` unless `index` is an integer in [0, length). */
export function checkIndex(owner: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`${owner}: index ${index} is out of range for a dataset of length ${length}`);
  }
}

/** The items of `dataset` at `indices`, in that order (torch.utils.data.Subset). */
export class Subset<T> extends Dataset<T> {
  readonly dataset: Dataset<T>;
  readonly indices: readonly number[];

  constructor(dataset: Dataset<T>, indices: Iterable<number>) {
    super();
    this.dataset = dataset;
    this.indices = Array.from(indices);
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): T | Promise<T> {
    checkIndex('Subset', index, this.indices.length);
    return this.dataset.get(this.indices[index]);
  }
}

/** Several datasets one after another (torch.utils.data.ConcatDataset). */
export class ConcatDataset<T> extends Dataset<T> {
  readonly datasets: readonly Dataset<T>[];
  /** cumulativeSizes[k] is the number of items in datasets[0..k]. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: Iterable<Dataset<T>>) {
    super();
    this.datasets = Array.from(datasets);
    if (this.datasets.length === 0)
      throw new RangeError('ConcatDataset: expected at least one dataset, got none');
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => (total += d.length));
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1];
  }

  get(index: number): T | Promise<T> {
    checkIndex('ConcatDataset', index, this.length);
    let k = 0;
    while (index >= this.cumulativeSizes[k]) k++;
    const before = k === 0 ? 0 : this.cumulativeSizes[k - 1];
    return this.datasets[k].get(index - before);
  }
}
