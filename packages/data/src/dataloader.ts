// DataLoader: batches of a dataset in order or shuffled, collated, with batches loaded ahead of use.
import { checkOptions, defaultGenerator, type Generator, randperm } from '@graft/tensor';
import { type Collated, defaultCollate } from './collate.js';
import type { Dataset } from './dataset.js';

/** Options of {@link DataLoader}; names follow torch.utils.data.DataLoader in camelCase. */
export interface DataLoaderOptions<T, B> {
  /** Items per batch (default 1). */
  batchSize?: number;
  /** Draw a new random order every epoch (default false). */
  shuffle?: boolean;
  /** Source of the shuffle order (default: the global generator that manualSeed seeds). */
  generator?: Generator;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Merges a list of items into a batch (default {@link defaultCollate}). */
  collateFn?: (batch: T[]) => B | Promise<B>;
  /**
   * Batches loaded ahead of the one being consumed (default 2), so that asynchronous decoding
   * (sharp runs on libuv's thread pool) proceeds while the training step computes. 0 loads on demand.
   */
  prefetch?: number;
}

const DATALOADER_OPTIONS = [
  'batchSize',
  'shuffle',
  'generator',
  'dropLast',
  'collateFn',
  'prefetch',
] as const;

// torch's worker-process options: graft has no worker processes; `prefetch` is what overlaps loading with training.
const WORKER_OPTIONS = ['num_workers', 'numWorkers', 'prefetch_factor', 'prefetchFactor'];

function checkDataLoaderOptions(options: object | undefined): void {
  for (const key of Object.keys(options ?? {})) {
    if (WORKER_OPTIONS.includes(key)) {
      throw new TypeError(
        `DataLoader: unknown option '${key}'; did you mean 'prefetch'? (graft loads items concurrently ` +
          'in one process and keeps `prefetch` batches in flight instead of worker processes)',
      );
    }
  }
  checkOptions('DataLoader', options, DATALOADER_OPTIONS);
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`DataLoader: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Iterates a dataset in batches: `for await (const [x, y] of loader)`. Each epoch (each
 * iteration) draws a new order when `shuffle` is set; items of a batch are fetched concurrently
 * and `prefetch` batches are kept in flight.
 */
export class DataLoader<T, B = Collated<T>> implements AsyncIterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly generator: Generator;
  readonly collateFn: (batch: T[]) => B | Promise<B>;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    checkDataLoaderOptions(options);
    this.dataset = dataset;
    this.batchSize = options.batchSize ?? 1;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.prefetch = options.prefetch ?? 2;
    this.generator = options.generator ?? defaultGenerator;
    this.collateFn = options.collateFn ?? ((batch: T[]) => defaultCollate(batch) as B);
    checkCount('batchSize', this.batchSize, 1);
    checkCount('prefetch', this.prefetch, 0);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The item indices of each batch for one epoch; draws from the generator when shuffling. */
  batchIndices(): number[][] {
    const n = this.dataset.length;
    const order = this.shuffle
      ? Array.from(randperm(n, { generator: this.generator }).readSync())
      : Array.from({ length: n }, (_, i) => i);
    const batches: number[][] = [];
    for (let start = 0; start < n; start += this.batchSize) {
      const batch = order.slice(start, start + this.batchSize);
      if (batch.length < this.batchSize && this.dropLast) break;
      batches.push(batch);
    }
    return batches;
  }

  private async loadBatch(indices: number[]): Promise<B> {
    const items = await Promise.all(indices.map((i) => this.dataset.get(i)));
    return this.collateFn(items);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<B, void, undefined> {
    const batches = this.batchIndices();
    const inFlight: Promise<B>[] = [];
    let launched = 0;
    for (let k = 0; k < batches.length; k++) {
      // Keep batch k and the `prefetch` batches after it loading while the consumer works on k.
      while (launched < Math.min(batches.length, k + 1 + this.prefetch)) {
        const pending = this.loadBatch(batches[launched++]);
        // A prefetched batch that fails is reported when its turn comes (or never, if the loop stops early).
        pending.catch(() => undefined);
        inFlight.push(pending);
      }
      yield await inFlight.shift()!;
    }
  }
}
