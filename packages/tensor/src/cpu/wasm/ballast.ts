// How the CPU heap makes the garbage collector keep pace with tensor blocks it cannot see.
//
// A tensor's storage is a block of WebAssembly memory behind a small JavaScript array; the block comes
// back when the array is disposed, or when the collector frees the array (a FinalizationRegistry). The
// collector sizes its work by the JavaScript heap and by external memory, so it would not run for a
// loop that drops big tensors. Untouched ArrayBuffers standing for blocks ("ballast") are that external
// memory: V8 collects when it grows about 64 MiB past where it stood after the last collection.
//
// Only blocks that need the collector should carry ballast. A block gets its share when it is still
// undisposed at a checkpoint: a microtask after the synchronous job that allocated it (the `await` of a
// training step's readback), or a job's 16,384th young block. So a training step's activations, which
// the step disposes itself, and a loop that disposes everything it allocates, carry none and set off no
// collections; the weight gradients `zeroGrad` leaves behind, and everything of a loop that disposes
// nothing, do. A share is WEIGHT times the block's bytes (4 in Node, 1 in browsers), so the collector
// runs after about 16 MiB (64 MiB) of such blocks. A block disposed after its checkpoint gives its
// share back to its chunk for the next blocks; one the collector frees gives nothing back, and its
// chunk goes once no block holds it.
//
// Blocks come back from the collector only at a readback's yield (finalizers need the event loop), so
// gradients that `zeroGrad` lets go must be collected within the step that drops them, or they are
// still held at the next step's peak. Most never get here: a gradient nobody has read through `.grad`
// is freed when let go (tensor.ts, `_gradPrivate`), so a training loop whose optimizer alone reads its
// gradients asks for nothing. For one that was read, `.grad` set to null tells the heap (`letGo`): the
// gradient's share goes back as if disposed, and the heap asks for a collection at once, and twice more
// a little later in case a collection already under way had marked them live.

/**
 * Ballast comes in chunks of 64 MiB, above glibc's largest dynamic mmap threshold (32 MiB): such an
 * allocation is always a fresh mapping that calloc need not clear, so it costs address space only.
 * (Per-block ballast of a few MiB came from malloc's recycled heap and was cleared, which doubled the
 * resident memory of a training step.)
 */
export const BALLAST_CHUNK = 64 * 1024 * 1024;
declare const process: { versions?: { node?: string } } | undefined;

/**
 * Bytes of ballast per byte of block: the collector runs after about 64 MiB / WEIGHT of them. 4 in
 * Node; 1 elsewhere, as the ballast has always been there: in Chromium a weight of 4 failed the docs
 * playground's training on its thread pool with "Array buffer allocation failed" (2 passed).
 */
export const BALLAST_WEIGHT = typeof process !== 'undefined' && process?.versions?.node ? 4 : 1;
/** Bytes of gradients let go after which the heap asks for a collection. */
export const LET_GO_ASK = 16 * 1024 * 1024;
/** The largest ballast buffer of one block (a 1 GiB tensor gets 256 MiB, not 4 GiB of address space). */
const MAX_OWN = 4 * BALLAST_CHUNK;
/** Blocks from this size (4 KiB) pace the collector; smaller ones are left out. */
export const PACED_MIN_BYTES = 4096;
/** Young blocks from which a job checkpoints without waiting for its end. */
export const YOUNG_CAP = 16384;
/**
 * After a request for let-go blocks the heap asks again at its first fresh block AGAIN_MS[i]
 * milliseconds later: a collection under way at the first request may have marked them live already,
 * and they would then wait a step longer (a job cannot see whether a collection has run, since WeakRefs
 * hold until its end). V8's marking of a few MB of JavaScript heap takes 5-95 ms of wall time here.
 */
const AGAIN_MS = [30, 90];
/** A request's size: past V8's 64 MiB allowance for external memory between collections. */
const ASK_BYTES = BALLAST_CHUNK + 1024 * 1024;
/** Chunks that every share has come back to, kept for later blocks (the rest go to the collector). */
const SPARE = 2;

export interface BallastStats {
  /** Chunks taken so far. */
  chunks: number;
  /** Bytes of room in chunks still in use or spare. */
  room: number;
  /** Blocks waiting for the next checkpoint. */
  young: number;
  /** Blocks given a share so far. */
  shared: number;
  /** Collections asked for by blocks let go. */
  signals: number;
}

export class Ballast {
  /** Block array -> its ballast (a chunk it has a share of, or its own buffer). */
  private readonly share = new WeakMap<object, ArrayBuffer>();
  /** Chunks with room: chunk -> bytes standing for no block. */
  private readonly room = new Map<ArrayBuffer, number>();
  /** Blocks allocated since the last checkpoint and not disposed. */
  private readonly young = new Set<ArrayBufferView>();
  private scheduled = false;
  private chunks = 0;
  private shared = 0;
  private letGoBytes = 0;
  /** When let-go blocks last asked, and how many of the later requests (AGAIN_MS) were made. */
  private askedAt = 0;
  private again = AGAIN_MS.length;
  /** Whether let-go blocks asked for a collection in this job already. */
  private asked = false;
  private signals = 0;

  constructor(
    private readonly schedule: (fn: () => void) => void = (fn) => void Promise.resolve().then(fn),
    private readonly weight = BALLAST_WEIGHT,
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh block's array: it gets a share at the next checkpoint if still undisposed then. */
  fresh(a: ArrayBufferView): void {
    if (a.byteLength < PACED_MIN_BYTES) return;
    if (this.again < AGAIN_MS.length && this.now() - this.askedAt >= AGAIN_MS[this.again]) {
      this.ask();
      this.again++;
    }
    this.young.add(a);
    if (this.young.size >= YOUNG_CAP) this.checkpoint();
    else this.later();
  }

  /** A block freed by `dispose`: young, it is forgotten; else its share goes back to its chunk. */
  disposed(a: ArrayBufferView): void {
    if (a.byteLength < PACED_MIN_BYTES || this.young.delete(a)) return;
    const chunk = this.share.get(a);
    if (!chunk) return;
    this.share.delete(a);
    if (chunk.byteLength !== BALLAST_CHUNK) return;
    const room = (this.room.get(chunk) ?? 0) + this.weight * a.byteLength;
    if (room < BALLAST_CHUNK) {
      this.room.set(chunk, room);
      return;
    }
    let spare = 0;
    for (const r of this.room.values()) if (r === BALLAST_CHUNK) spare++;
    if (spare < SPARE) this.room.set(chunk, BALLAST_CHUNK);
    else this.room.delete(chunk);
  }

  /**
   * A holder let go of `a` (a parameter's old gradient, at `zeroGrad`), which is likely garbage now.
   * If it carries a share, the share goes back to its chunk as at `dispose` (so the next gradients
   * reuse the room instead of taking chunks, which would start a collection before these are
   * garbage), and each 16 MiB of such blocks asks for a collection at once, at most once a job (a
   * fresh buffer that nothing holds): they come back at this step's readback, not a step later.
   */
  letGo(a: ArrayBufferView): void {
    if (!this.share.has(a)) return;
    this.disposed(a);
    this.letGoBytes += a.byteLength;
    if (this.letGoBytes < LET_GO_ASK || this.asked) return;
    this.letGoBytes = 0;
    this.asked = true;
    this.later();
    this.ask();
    this.askedAt = this.now();
    this.again = 0;
  }

  /**
   * Asks for a collection: a fresh buffer that nothing holds, which is external memory until then. V8
   * collects once external memory passes 64 MiB above where the last collection left it, so the
   * request is a little more than that (exactly 64 MiB may land on the mark and ask for nothing).
   */
  private ask(): void {
    new ArrayBuffer(ASK_BYTES);
    this.signals++;
  }

  /** Schedules the checkpoint at the end of this job. */
  private later(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.checkpoint());
  }

  /** Gives every young block still undisposed its share. */
  checkpoint(): void {
    this.scheduled = false;
    this.asked = false;
    for (const a of this.young) this.share.set(a, this.take(this.weight * a.byteLength));
    this.shared += this.young.size;
    this.young.clear();
  }

  /** A ballast buffer standing for `bytes`: a share of a chunk with room, or its own buffer. */
  private take(bytes: number): ArrayBuffer {
    if (bytes > BALLAST_CHUNK) return new ArrayBuffer(Math.min(bytes, MAX_OWN));
    for (const [chunk, room] of this.room) {
      if (room < bytes) continue;
      if (room === bytes) this.room.delete(chunk);
      else this.room.set(chunk, room - bytes);
      return chunk;
    }
    const chunk = new ArrayBuffer(BALLAST_CHUNK);
    this.chunks++;
    this.room.set(chunk, BALLAST_CHUNK - bytes);
    return chunk;
  }

  stats(): BallastStats {
    let room = 0;
    for (const r of this.room.values()) room += r;
    return { chunks: this.chunks, room, young: this.young.size, shared: this.shared, signals: this.signals };
  }
}
