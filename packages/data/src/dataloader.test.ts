// DataLoader: batching, shuffling with seeded generators, dropLast, collation and prefetching.
import { arange, Generator, randperm, type Tensor, tensor } from '@graft/tensor';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defaultCollate } from './collate.js';
import { DataLoader } from './dataloader.js';
import { Dataset } from './dataset.js';
import { TensorDataset } from './tensor-dataset.js';

class Items<T> extends Dataset<T> {
  constructor(readonly items: T[]) {
    super();
  }
  get length(): number {
    return this.items.length;
  }
  get(index: number): T {
    return this.items[index];
  }
}

async function collect<B>(loader: AsyncIterable<B>): Promise<B[]> {
  const out: B[] = [];
  for await (const batch of loader) out.push(batch);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('batching', () => {
  it('batches in order, the last batch smaller', async () => {
    const loader = new DataLoader(new Items(range(10)), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = await collect(loader);
    expect(await Promise.all(batches.map((b) => b.tolist()))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(batches[0].dtype).toBe('int64');
  });

  it('dropLast drops the incomplete batch', async () => {
    const loader = new DataLoader(new Items(range(10)), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect((await collect(loader)).length).toBe(2);
    expect(new DataLoader(new Items(range(8)), { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('yields [x, y] pairs from a TensorDataset, stacked', async () => {
    const x = arange(12, { dtype: 'float32' }).reshape(6, 2);
    const y = tensor([0, 1, 0, 1, 0, 1], { dtype: 'int64' });
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 4 });
    const seen: number[][] = [];
    for await (const [xb, yb] of loader) {
      expectTypeOf(xb).toEqualTypeOf<Tensor>();
      seen.push([...xb.shape, ...yb.shape]);
    }
    expect(seen).toEqual([
      [4, 2, 4],
      [2, 2, 2],
    ]);
  });

  it('an empty dataset yields nothing', async () => {
    const loader = new DataLoader(new Items<number>([]), { batchSize: 3 });
    expect(loader.length).toBe(0);
    expect(await collect(loader)).toEqual([]);
  });

  it('rejects bad batch sizes', () => {
    expect(() => new DataLoader(new Items(range(3)), { batchSize: 0 })).toThrow(
      'DataLoader: batchSize must be an integer >= 1, got 0',
    );
    expect(() => new DataLoader(new Items(range(3)), { prefetch: -1 })).toThrow(
      /prefetch must be an integer >= 0, got -1/,
    );
  });
});

describe('shuffle', () => {
  it("is the generator's randperm, new every epoch, repeatable from the same seed", async () => {
    const data = new Items(range(9));
    const loader = new DataLoader(data, { batchSize: 9, shuffle: true, generator: new Generator(7) });
    const epoch1 = await (await collect(loader))[0].tolist();
    const epoch2 = await (await collect(loader))[0].tolist();
    // Reference: the same generator's randperm, drawn twice.
    const reference = new Generator(7);
    expect(epoch1).toEqual(Array.from(randperm(9, { generator: reference }).readSync()));
    expect(epoch2).toEqual(Array.from(randperm(9, { generator: reference }).readSync()));
    expect(epoch1).not.toEqual(epoch2);
    const again = new DataLoader(data, { batchSize: 9, shuffle: true, generator: new Generator(7) });
    expect(await (await collect(again))[0].tolist()).toEqual(epoch1);
  });

  it('with dropLast keeps only full batches of the shuffled order', () => {
    const loader = new DataLoader(new Items(range(10)), {
      batchSize: 3,
      shuffle: true,
      dropLast: true,
      generator: new Generator(1),
    });
    const batches = loader.batchIndices();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3]);
    expect(new Set(batches.flat()).size).toBe(9);
  });
});

describe('defaultCollate', () => {
  it('collates records, tuples, strings, floats and typed arrays', async () => {
    const batch = defaultCollate([
      { x: new Float32Array([1, 2]), label: 3, name: 'a', w: 0.5, ok: true },
      { x: new Float32Array([3, 4]), label: 4, name: 'b', w: 1, ok: false },
    ]);
    expect(batch.x.shape).toEqual([2, 2]);
    expect(batch.x.dtype).toBe('float32');
    expect(await batch.x.tolist()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(batch.label.dtype).toBe('int64');
    expect(batch.w.dtype).toBe('float64');
    expect(batch.ok.dtype).toBe('bool');
    expect(batch.name).toEqual(['a', 'b']);
  });

  it('names what does not collate', () => {
    expect(() => defaultCollate([arange(3), arange(4)])).toThrow(
      'defaultCollate: stack expects each tensor to be equal size, but got [3] at item 0 and [4] at item 1',
    );
    expect(() => defaultCollate([[1, 2], [1]])).toThrow(/each element in the batch should be of equal size/);
    const image = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 as const };
    expect(() => defaultCollate([[image, 1]])).toThrow(
      /\[0\] of items are RawImages, which do not batch; add ToTensor\(\)/,
    );
    expect(() => defaultCollate([])).toThrow('defaultCollate: expected a non-empty batch, got 0 items');
  });

  it('a custom collateFn sets the batch type', async () => {
    const loader = new DataLoader(new Items(['a', 'b', 'c']), {
      batchSize: 2,
      collateFn: (items) => items.join(''),
    });
    expectTypeOf(loader).toEqualTypeOf<DataLoader<string, string>>();
    expect(await collect(loader)).toEqual(['ab', 'c']);
  });
});

// An async dataset whose items resolve when the test releases them, recording when each started.
class Gated extends Dataset<number> {
  readonly started: number[] = [];
  private readonly waiters = new Map<number, () => void>();
  constructor(readonly length: number) {
    super();
  }
  get(index: number): Promise<number> {
    this.started.push(index);
    return new Promise((resolve) => this.waiters.set(index, () => resolve(index)));
  }
  release(index: number): void {
    this.waiters.get(index)?.();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('prefetch', () => {
  it('keeps `prefetch` batches loading while the consumer holds one', async () => {
    const data = new Gated(10);
    const loader = new DataLoader(data, { batchSize: 2, prefetch: 2, collateFn: (items) => items });
    const it = loader[Symbol.asyncIterator]();
    const first = it.next();
    await tick();
    // Batch 0 plus two batches ahead were requested before anything resolved.
    expect(data.started).toEqual([0, 1, 2, 3, 4, 5]);
    for (const i of range(10)) data.release(i);
    expect((await first).value).toEqual([0, 1]);
    await tick();
    // While the consumer works on batch 0, batches 1-2 are done or loading, batch 3 has not been asked for.
    expect(data.started).toEqual([0, 1, 2, 3, 4, 5]);
    const second = await it.next();
    expect(second.value).toEqual([2, 3]);
    expect(data.started).toEqual(range(8));
    await it.return(undefined);
  });

  it('prefetch 0 loads on demand', async () => {
    const data = new Gated(6);
    const loader = new DataLoader(data, { batchSize: 2, prefetch: 0, collateFn: (items) => items });
    const it = loader[Symbol.asyncIterator]();
    const first = it.next();
    await tick();
    expect(data.started).toEqual([0, 1]);
    data.release(0);
    data.release(1);
    expect((await first).value).toEqual([0, 1]);
    await tick();
    expect(data.started).toEqual([0, 1]);
    await it.return(undefined);
  });

  it('overlaps slow items: every item of the batches in flight starts before the first one finishes', async () => {
    // Each item finishes on a later macrotask and logs when it starts and ends. Loading item by item would
    // alternate start/end; with batchSize 4 and prefetch 3 all 16 items (4 batches) are in flight at once.
    const events: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    class Slow extends Dataset<number> {
      readonly length = 16;
      async get(index: number): Promise<number> {
        events.push(`start ${index}`);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((r) => setTimeout(r, 0));
        inFlight--;
        events.push(`end ${index}`);
        return index;
      }
    }
    const batches = await collect(new DataLoader(new Slow(), { batchSize: 4, prefetch: 3 }));
    expect(await Promise.all(batches.map((b) => b.tolist()))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9, 10, 11],
      [12, 13, 14, 15],
    ]);
    expect(maxInFlight).toBe(16);
    expect(events.slice(0, 16)).toEqual(range(16).map((i) => `start ${i}`));
    expect(events.slice(16).sort()).toEqual(
      range(16)
        .map((i) => `end ${i}`)
        .sort(),
    );
    // Without prefetching, the items of one batch still load together, and batches one after another.
    events.length = 0;
    maxInFlight = 0;
    await collect(new DataLoader(new Slow(), { batchSize: 4, prefetch: 0 }));
    expect(maxInFlight).toBe(4);
    expect(events.slice(0, 8)).toEqual([
      ...[0, 1, 2, 3].map((i) => `start ${i}`),
      ...[0, 1, 2, 3].map((i) => `end ${i}`),
    ]);
  });

  it('a failing item fails its own batch, in order, and stopping early leaves no unhandled rejection', async () => {
    class Failing extends Dataset<number> {
      readonly length = 6;
      get(index: number): number {
        if (index === 3) throw new Error('item 3 is broken');
        return index;
      }
    }
    const loader = new DataLoader(new Failing(), { batchSize: 2, prefetch: 2 });
    const seen: number[][] = [];
    await expect(async () => {
      for await (const batch of loader) seen.push((await batch.tolist()) as number[]);
    }).rejects.toThrow('item 3 is broken');
    expect(seen).toEqual([[0, 1]]);
    for await (const _ of loader) break; // batch 1 fails in the background; nothing should escape
    await tick();
  });
});
