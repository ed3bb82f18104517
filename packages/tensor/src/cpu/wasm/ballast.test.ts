// The collector's pace (ballast.ts): which blocks take a share of ballast, how much, and when the heap
// asks for a collection. Checkpoints run by hand here; the heap's own run as microtasks.

import { describe, expect, it } from 'vitest';
import { randn } from '../../creation.js';
import { BALLAST_CHUNK, BALLAST_WEIGHT, Ballast, LET_GO_ASK, PACED_MIN_BYTES, YOUNG_CAP } from './ballast.js';
import { cpuHeap } from './heap.js';

const MiB = 1024 * 1024;

/** A Ballast whose end-of-job checkpoints wait for `run()`, on a clock the test sets (`clock.ms`). */
function manual(): { b: Ballast; run: () => void; clock: { ms: number } } {
  const pending: (() => void)[] = [];
  const clock = { ms: 0 };
  const b = new Ballast(
    (fn) => pending.push(fn),
    BALLAST_WEIGHT,
    () => clock.ms,
  );
  return {
    b,
    clock,
    run: () => {
      for (const fn of pending.splice(0)) fn();
    },
  };
}

const block = (bytes: number) => new Uint8Array(bytes);

describe('collector pace', () => {
  it('a block disposed within its job takes no share and no chunk', () => {
    const { b, run } = manual();
    const a = block(4 * MiB);
    b.fresh(a);
    expect(b.stats().young).toBe(1);
    b.disposed(a);
    run();
    expect(b.stats()).toMatchObject({ chunks: 0, young: 0, shared: 0, room: 0 });
  });

  it('a block alive at the checkpoint takes WEIGHT times its bytes; disposing it gives them back', () => {
    const { b, run } = manual();
    const a = block(4 * MiB);
    b.fresh(a);
    run();
    expect(b.stats()).toMatchObject({ chunks: 1, shared: 1, room: BALLAST_CHUNK - BALLAST_WEIGHT * 4 * MiB });
    b.disposed(a);
    // Every share back: the chunk stays as a spare for the next blocks.
    expect(b.stats()).toMatchObject({ chunks: 1, room: BALLAST_CHUNK });
    const c = block(4 * MiB);
    b.fresh(c);
    run();
    expect(b.stats().chunks).toBe(1);
  });

  it('blocks surviving their jobs fill chunks of 64 MiB / WEIGHT bytes each', () => {
    const { b, run } = manual();
    const keep: Uint8Array[] = [];
    const each = 3 * MiB;
    for (let i = 0; i < 12; i++) {
      keep.push(block(each));
      b.fresh(keep[i]);
      run();
    }
    // Shares of WEIGHT * 3 MiB; a chunk holds floor(64 MiB / share) of them.
    const perChunk = Math.floor(BALLAST_CHUNK / (BALLAST_WEIGHT * each));
    expect(b.stats().chunks).toBe(Math.ceil(12 / perChunk));
    expect(b.stats().shared).toBe(12);
  });

  it('a block whose share passes a chunk gets its own buffer and takes no chunk', () => {
    const { b, run } = manual();
    b.fresh(block(20 * MiB));
    run();
    expect(b.stats()).toMatchObject({ chunks: 0, shared: 1, room: 0 });
  });

  it('blocks let go with shares give them back and ask for one collection a job, then twice more a little later', () => {
    const { b, run, clock } = manual();
    const grads = Array.from({ length: 8 }, () => block(4 * MiB));
    for (const g of grads) b.fresh(g);
    run();
    const chunks = b.stats().chunks;
    // 4 MiB blocks: the fourth let go reaches LET_GO_ASK (16 MiB) and asks.
    expect(LET_GO_ASK).toBe(16 * MiB);
    for (const g of grads.slice(0, 3)) b.letGo(g);
    expect(b.stats().signals).toBe(0);
    b.letGo(grads[3]);
    expect(b.stats().signals).toBe(1);
    // Another 16 MiB in the same job does not ask again...
    for (const g of grads.slice(4)) b.letGo(g);
    expect(b.stats().signals).toBe(1);
    // ...but the first fresh blocks 30 ms and 90 ms later ask again, and then no more.
    const fresh = (ms: number, n = 1) => {
      clock.ms = ms;
      for (let i = 0; i < n; i++) b.fresh(block(4 * MiB));
    };
    fresh(29, 7);
    expect(b.stats().signals).toBe(1);
    fresh(30);
    expect(b.stats().signals).toBe(2);
    fresh(89, 8);
    expect(b.stats().signals).toBe(2);
    fresh(90);
    expect(b.stats().signals).toBe(3);
    fresh(500, 15);
    expect(b.stats().signals).toBe(3);
    run();
    // The 8 let-go blocks' shares came back (whole chunks, kept as spares up to two): the 32 survivors
    // reuse that room and take new chunks only for the rest.
    const returned = 8 * 4 * MiB * BALLAST_WEIGHT;
    expect(returned).toBeLessThanOrEqual(2 * BALLAST_CHUNK);
    expect(b.stats().chunks).toBe(
      chunks + Math.ceil((32 * 4 * MiB * BALLAST_WEIGHT - returned) / BALLAST_CHUNK),
    );
    // A block without a share (young, or unknown) is ignored.
    b.letGo(block(64 * MiB));
    expect(b.stats().signals).toBe(3);
  });

  it('blocks under PACED_MIN_BYTES are left out: never young, never shared', () => {
    const { b, run } = manual();
    const small = block(PACED_MIN_BYTES - 1);
    b.fresh(small);
    expect(b.stats().young).toBe(0);
    run();
    b.disposed(small);
    expect(b.stats()).toMatchObject({ chunks: 0, shared: 0, young: 0 });
  });

  it(`a job with ${YOUNG_CAP} young blocks checkpoints without waiting for its end`, () => {
    const { b } = manual();
    const keep: Uint8Array[] = [];
    for (let i = 0; i < YOUNG_CAP - 1; i++) {
      keep.push(block(4096));
      b.fresh(keep[i]);
    }
    expect(b.stats()).toMatchObject({ young: YOUNG_CAP - 1, shared: 0 });
    keep.push(block(4096));
    b.fresh(keep[YOUNG_CAP - 1]);
    expect(b.stats()).toMatchObject({ young: 0, shared: YOUNG_CAP });
  });
});

describe.runIf(cpuHeap()?.holdsTensors)('collector pace on the CPU heap', () => {
  const heap = cpuHeap() as NonNullable<ReturnType<typeof cpuHeap>>;

  it('a loop that disposes what it allocates gives nothing a share, even across awaits', async () => {
    const x = randn(64, 64, 64);
    await Promise.resolve();
    const before = heap.ballast.stats();
    for (let i = 0; i < 20; i++) {
      const t = x.mul(2);
      const y = t.add(1);
      t.dispose();
      y.dispose();
      await Promise.resolve();
    }
    const after = heap.ballast.stats();
    expect(after.shared).toBe(before.shared);
    expect(after.chunks).toBe(before.chunks);
    // The same loop dropping its intermediate leaves one block a turn to the collector: 20 shares.
    for (let i = 0; i < 20; i++) {
      x.mul(2).add(1).dispose();
      await Promise.resolve();
    }
    expect(heap.ballast.stats().shared).toBe(after.shared + 20);
  });

  /** A parameter of 4 Mi floats (16 MiB, LET_GO_ASK) whose gradient was alive at a readback. */
  async function gradientAfterReadback() {
    const w = randn([4 * MiB], { requiresGrad: true });
    const loss = w.sum();
    loss.backward();
    await loss.item();
    return w;
  }

  it('a gradient alive at the readback takes a share; let go after being read, it asks for a collection', async () => {
    const w = await gradientAfterReadback();
    const before = heap.ballast.stats();
    expect(before.shared).toBeGreaterThan(0);
    // Read through .grad, the reader may hold it: only the collector can free it.
    expect(w.grad).not.toBeNull();
    w.grad = null;
    expect(heap.ballast.stats().signals).toBe(before.signals + 1);
    await Promise.resolve();
  });

  it('a gradient nobody read is freed when let go: its share comes back and nothing is asked', async () => {
    const w = await gradientAfterReadback();
    const before = heap.ballast.stats();
    const live = heap.live;
    w.grad = null;
    expect(heap.ballast.stats().signals).toBe(before.signals);
    expect(heap.ballast.stats().room).toBeGreaterThan(before.room);
    expect(heap.live).toBeLessThanOrEqual(live - 16 * MiB);
  });
});
