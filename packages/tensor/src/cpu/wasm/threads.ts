// A pool of worker threads running the WebAssembly kernels over the kernels' shared memory:
// worker_threads in Node, Web Workers in browsers (which need cross-origin isolation for shared memory;
// without it everything runs on one thread). The calling thread takes tasks too and then waits for the
// rest: with Atomics.wait where it may block, by spinning on a browser's main thread, which may not.

import { type KernelExports, type Kernels, wasmKernels } from './kernels.js';

interface WorkerLike {
  unref?(): void;
  terminate(): unknown;
}
interface BrowserWorkerApi {
  Worker?: new (url: string) => WorkerLike & { postMessage(data: unknown): void };
  Blob?: new (parts: string[], opts: { type: string }) => unknown;
  URL?: { createObjectURL(blob: unknown): string };
  crossOriginIsolated?: boolean;
}
interface WorkerThreadsModule {
  Worker: new (code: string, opts: { eval: true; workerData: unknown }) => WorkerLike;
}
declare const process:
  | { getBuiltinModule?: (name: string) => unknown; versions?: { node?: string } }
  | undefined;

// Control block layout (Int32 slots): 0 job sequence, 1 ticket, 2 tasks done, 3 task count, 4 workers
// ready, 5 stop flag, 6 job kind, 7 task-table width; then the job's parameters as Float64 from byte 64
// (19 of them, up to byte 216 of the 256).
//
// Tasks are claimed from the ticket: (job tag << 16) | next task index, advanced by compare-exchange.
// A thread only claims under the tag of the job it read its parameters for, and between jobs the
// ticket is closed, so a worker that is late for one job can never take a task of the next one with
// the old job's parameters (a plain shared counter allows exactly that race).
const SEQ = 0;
const TICKET = 1;
const DONE = 2;
const COUNT = 3;
const READY = 4;
const STOP = 5;
const WORKER_TASKS = 9; // tasks run by workers since the pool started (threadPoolStats)
const FAILED = 8; // set by a worker whose task threw; the caller of the job throws
const TAGS = 0x7fff;
const CLOSED = TAGS << 16;
const MAX_TASKS = 0x10000;
const JOB = 6; // -1: the sgemm grid; k >= 0: call CALLS[k] once per row of the task table
const ARGC = 7; // arguments per task-table row
/** Kernels a task table may name (by index). */
const CALLS = [
  'im2col',
  'col2im',
  'epilogue',
  'maxPool',
  'winoInput',
  'winoOutput',
  'winoWeights',
  'regroup',
  'winoInputImages',
  'winoGradOut',
  'winoWeightGemm',
  'winoWeightOut',
  'winoOutputImages',
  'winoConvImages',
  'winoWeightImages',
  'sgdStep',
  'adamStep',
  'reduceF32',
  'unaryF32',
  'binaryF32',
  'maxPoolF64',
  'maxPoolBackward',
  'meanPlanes',
  'meanPlanesBackward',
  'bnStats',
  'bnApply',
  'bnGradSums',
  'bnGradInput',
  'bnForwardChannels',
  'bnBackwardChannels',
  'reluF32',
  'reluBackwardF32',
  'convColumns',
  'convWeightTaps',
  'pointwiseStridedInput',
  'sumParts',
  'scatterTaps',
  'gatherTaps',
  'im2colImages',
  'winoWeightsS2',
  'winoInputS2Images',
  'winoOutputS2Images',
] as const;
export type TableCall = (typeof CALLS)[number];
const TABLE_FLOATS = 8192;

/**
 * Floats below which a memory-bound pass (regroup, an epilogue, batch norm, pooling) runs as one call
 * on the calling thread: waking the pool costs more (measured ~20-35 us per job on 2 threads, and up
 * to ~0.3 ms when a worker has gone to sleep, against ~20 us to move 80 KB).
 */
export const SMALL_PASS_FLOATS = 1 << 15;

/**
 * Ranges [i0, i1) of `count` units (planes, channels) for a pool job: a few per thread, or one range
 * (the calling thread) when the pass moves fewer than SMALL_PASS_FLOATS floats.
 */
export function blockRanges(count: number, floats: number): [number, number][] {
  if (floats < SMALL_PASS_FLOATS) return [[0, count]];
  const step = Math.max(1, Math.ceil(count / (4 * getNumThreads())));
  const out: [number, number][] = [];
  for (let i = 0; i < count; i += step) out.push([i, Math.min(count, i + step)]);
  return out;
}

// The worker: waits for a new job sequence number, claims tasks until none are left. The same body
// runs under Node's worker_threads (workerData) and in a Web Worker (its first message).
const WORKER_BODY = `
function start(workerData) {
const { module, memory, control, table } = workerData;
const inst = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('abort'); } } });
const sgemm = inst.exports.sgemm;
const c = new Int32Array(control);
const p = new Float64Array(control, 64, 19);
const tab = new Float64Array(table);
const calls = ${JSON.stringify(CALLS)}.map((name) => inst.exports[name]);
Atomics.add(c, ${READY}, 1);
Atomics.notify(c, ${READY});
let seen = 0;
// Claims the next task of the job tagged \`tag\` with fewer than \`count\` tasks; -1 when none is left.
function claim(tag, count) {
  for (;;) {
    const v = Atomics.load(c, ${TICKET});
    if (v >>> 16 !== tag) return -1;
    const t = v & 0xffff;
    if (t >= count) return -1;
    if (Atomics.compareExchange(c, ${TICKET}, v, v + 1) === v) return t;
  }
}
for (;;) {
  Atomics.wait(c, ${SEQ}, seen);
  seen = Atomics.load(c, ${SEQ});
  if (Atomics.load(c, ${STOP})) break;
  const tag = seen % ${TAGS};
  const job = Atomics.load(c, ${JOB});
  const count = Atomics.load(c, ${COUNT});
  if (job >= 0) {
    const fn = calls[job], argc = Atomics.load(c, ${ARGC});
    // A per-thread work block, when the job has one, goes after each task's arguments.
    const work = p[0] > 0 ? [p[1] + (workerData.index + 1) * p[0]] : [];
    for (let t = claim(tag, count); t >= 0; t = claim(tag, count)) {
      try {
        fn(...tab.subarray(t * argc, (t + 1) * argc), ...work);
      } catch {
        Atomics.store(c, ${FAILED}, 1);
      }
      Atomics.add(c, ${WORKER_TASKS}, 1);
      Atomics.add(c, ${DONE}, 1);
    }
    Atomics.notify(c, ${DONE});
    continue;
  }
  const scratch = p[13] + (workerData.index + 1) * p[14];
  const rpt = p[12], cpt = p[15], colTasks = Math.ceil(p[1] / cpt);
  const perProduct = Math.ceil(p[0] / rpt) * colTasks;
  for (let t = claim(tag, count); t >= 0; t = claim(tag, count)) {
    const bi = Math.floor(t / perProduct), tb = t - bi * perProduct;
    const ri = Math.floor(tb / colTasks), r0 = ri * rpt, j0 = (tb - ri * colTasks) * cpt;
    try {
      sgemm(Math.min(rpt, p[0] - r0), Math.min(cpt, p[1] - j0), p[2], p[3] + (bi * p[16] + r0 * p[4]) * 4,
        p[4], p[5], p[6] + (bi * p[17] + j0 * p[8]) * 4, p[7], p[8],
        p[9] + (bi * p[18] + r0 * p[10] + j0) * 4, p[10], p[11], scratch);
    } catch {
      Atomics.store(c, ${FAILED}, 1);
    }
    Atomics.add(c, ${WORKER_TASKS}, 1);
    Atomics.add(c, ${DONE}, 1);
  }
  Atomics.notify(c, ${DONE});
}
}
`;
const NODE_WORKER_SOURCE = `${WORKER_BODY}\nstart(require('node:worker_threads').workerData);`;
const WEB_WORKER_SOURCE = `${WORKER_BODY}\nself.onmessage = (e) => start(e.data);`;

interface Pool {
  workers: WorkerLike[];
  control: Int32Array;
  params: Float64Array;
  table: Float64Array;
}

let pool: Pool | null = null;

function workerThreads(): WorkerThreadsModule | null {
  try {
    if (typeof process === 'undefined' || !process?.versions?.node || !process.getBuiltinModule) return null;
    return (process.getBuiltinModule('node:worker_threads') as WorkerThreadsModule) ?? null;
  } catch {
    return null;
  }
}

/** The number of threads the CPU kernels use (1 where threads are unavailable). */
export function getNumThreads(): number {
  return pool ? pool.workers.length + 1 : 1;
}

/**
 * Sets how many threads the CPU kernels use (the calling thread plus n-1 workers) and returns the count
 * in use. Node: worker_threads, ready when this returns. Browsers: Web Workers when the page is
 * cross-origin isolated (COOP/COEP headers, so SharedArrayBuffer exists); they start once the page
 * yields to its event loop, and until then the calling thread runs every task. Elsewhere (no shared
 * memory, no workers) one thread.
 */
export function setNumThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  stopPool();
  const k = wasmKernels();
  if (n === 1 || !k || !k.shared) return getNumThreads();
  const wt = workerThreads();
  const web = globalThis as unknown as BrowserWorkerApi;
  const browser = !wt && !!web.Worker && !!web.Blob && !!web.URL && web.crossOriginIsolated === true;
  if (!wt && !browser) return getNumThreads();
  const control = new Int32Array(new SharedArrayBuffer(256));
  control[TICKET] = CLOSED;
  const table = new Float64Array(new SharedArrayBuffer(TABLE_FLOATS * 8));
  const data = (index: number) => ({
    module: k.module,
    memory: k.memory,
    control: control.buffer,
    table: table.buffer,
    index,
  });
  const workers: WorkerLike[] = [];
  if (wt) {
    for (let i = 0; i < n - 1; i++) {
      const w = new wt.Worker(NODE_WORKER_SOURCE, { eval: true, workerData: data(i) });
      w.unref?.();
      workers.push(w);
    }
    // Workers compile their instance on start; wait (bounded) until all report ready.
    const deadline = Date.now() + 10_000;
    while (Atomics.load(control, READY) < workers.length && Date.now() < deadline) {
      Atomics.wait(control, READY, Atomics.load(control, READY), 50);
    }
    if (Atomics.load(control, READY) < workers.length) {
      for (const w of workers) void w.terminate();
      return getNumThreads();
    }
  } else {
    const Ctor = web.Worker!;
    const url = web.URL!.createObjectURL(new web.Blob!([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
    for (let i = 0; i < n - 1; i++) {
      const w = new Ctor(url);
      w.postMessage(data(i));
      workers.push(w);
    }
  }
  pool = { workers, control, params: new Float64Array(control.buffer, 64, 19), table };
  return getNumThreads();
}

/**
 * The pool's state: threads in use, workers that have started (in browsers they start asynchronously)
 * and tasks the workers have run, e.g. to check that a page really computes on several threads.
 */
export function threadPoolStats(): { threads: number; workersReady: number; workerTasks: number } {
  return {
    threads: getNumThreads(),
    workersReady: pool ? Atomics.load(pool.control, READY) : 0,
    workerTasks: pool ? Atomics.load(pool.control, WORKER_TASKS) : 0,
  };
}

function stopPool(): void {
  if (!pool) return;
  Atomics.store(pool.control, STOP, 1);
  Atomics.add(pool.control, SEQ, 1);
  Atomics.notify(pool.control, SEQ);
  for (const w of pool.workers) void w.terminate();
  pool = null;
}

/**
 * C = A x B (+C) on the pool when it pays. Products of at least 16 columns a thread split by 8-aligned
 * column blocks, so each thread packs only its own columns of B once; narrower ones split by rows.
 * `scratch` must hold `threads * scratchStride` bytes.
 */
export function parallelSgemm(
  k: Kernels,
  M: number,
  N: number,
  K: number,
  a: number,
  ars: number,
  acs: number,
  b: number,
  brs: number,
  bcs: number,
  c: number,
  ldc: number,
  accumulate: number,
  scratch: number,
  scratchStride: number,
): void {
  parallelSgemmBatch(
    k,
    1,
    [0, 0, 0],
    M,
    N,
    K,
    a,
    ars,
    acs,
    b,
    brs,
    bcs,
    c,
    ldc,
    accumulate,
    scratch,
    scratchStride,
  );
}

/**
 * `batch` independent products C_i = A_i x B_i (+C_i), A_i, B_i and C_i `strides` floats after the
 * previous ones, as one pool job: a single wake-up and wait for all of them (the 36 Winograd products
 * of a chunk cost 36 of them one by one). With at least 4 products per thread each task is a whole
 * product; otherwise products split as in parallelSgemm. Every element's sum runs in the same order
 * however the work is split, so results do not depend on the thread count.
 */
export function parallelSgemmBatch(
  k: Kernels,
  batch: number,
  strides: readonly [number, number, number],
  M: number,
  N: number,
  K: number,
  a: number,
  ars: number,
  acs: number,
  b: number,
  brs: number,
  bcs: number,
  c: number,
  ldc: number,
  accumulate: number,
  scratch: number,
  scratchStride: number,
): void {
  const e: KernelExports = k.exports;
  const threads = getNumThreads();
  const [sa, sb, sc] = strides;
  const serial = () => {
    for (let i = 0; i < batch; i++)
      e.sgemm(
        M,
        N,
        K,
        a + i * sa * 4,
        ars,
        acs,
        b + i * sb * 4,
        brs,
        bcs,
        c + i * sc * 4,
        ldc,
        accumulate,
        scratch,
      );
  };
  if (!pool || batch * M * N * K < 1 << 20) {
    serial();
    return;
  }
  let rpt = M;
  let cpt = N;
  if (batch < 4 * threads) {
    if (N >= 256 * threads) cpt = Math.min(256, Math.max(64, Math.ceil(N / (4 * threads) / 8) * 8));
    // Mid-width products (small-map convolutions): one column block per thread, so B is packed once
    // in all rather than once per row block (measured 4-39% faster than 4 row blocks on 2 threads for
    // ResNet-18's 32x32 products, N = 80-320).
    else if (N >= 16 * threads) cpt = Math.ceil(N / threads / 8) * 8;
    else rpt = Math.max(4, Math.ceil(M / (2 * threads) / 4) * 4);
  }
  const colTasks = Math.ceil(N / cpt);
  const perProduct = Math.ceil(M / rpt) * colTasks;
  const tasks = batch * perProduct;
  if (tasks < 2 || tasks >= MAX_TASKS) {
    serial();
    return;
  }
  const { control, params } = pool;
  params.set([
    M,
    N,
    K,
    a,
    ars,
    acs,
    b,
    brs,
    bcs,
    c,
    ldc,
    accumulate,
    rpt,
    scratch,
    scratchStride,
    cpt,
    sa,
    sb,
    sc,
  ]);
  Atomics.store(control, JOB, -1);
  runOnPool(control, tasks, (t) => {
    const bi = Math.floor(t / perProduct);
    const tb = t - bi * perProduct;
    const ri = Math.floor(tb / colTasks);
    const r0 = ri * rpt;
    const j0 = (tb - ri * colTasks) * cpt;
    e.sgemm(
      Math.min(rpt, M - r0),
      Math.min(cpt, N - j0),
      K,
      a + (bi * sa + r0 * ars) * 4,
      ars,
      acs,
      b + (bi * sb + j0 * bcs) * 4,
      brs,
      bcs,
      c + (bi * sc + r0 * ldc + j0) * 4,
      ldc,
      accumulate,
      scratch,
    );
  });
}

/**
 * Calls kernel `fn` once per argument list in `tasks`, spread over the pool (the calling thread takes
 * tasks too). Tasks must write disjoint memory. Runs in order on one thread without a pool. With
 * `work`, each call gets one more argument: a block of `work.bytes` bytes that only its thread uses
 * (thread i's at work.ptr + i * work.bytes; `work.ptr` must hold getNumThreads() of them).
 */
export function parallelCalls(
  k: Kernels,
  fn: TableCall,
  tasks: readonly (readonly number[])[],
  work?: { ptr: number; bytes: number },
): void {
  const f = k.exports[fn] as (...args: number[]) => void;
  const argc = tasks[0]?.length ?? 0;
  const extra = work ? [work.ptr] : [];
  if (!pool || tasks.length < 2 || tasks.length * argc > TABLE_FLOATS) {
    for (const t of tasks) f(...t, ...extra);
    return;
  }
  const { control, table, params } = pool;
  for (let i = 0; i < tasks.length; i++) table.set(tasks[i], i * argc);
  params[0] = work ? work.bytes : 0;
  params[1] = work ? work.ptr : 0;
  Atomics.store(control, JOB, CALLS.indexOf(fn));
  Atomics.store(control, ARGC, argc);
  runOnPool(control, tasks.length, (t) => f(...tasks[t], ...extra));
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
let canBlock = true;

/** Next task of the job tagged `tag` (see TICKET), or -1 when none is left. */
function claim(control: Int32Array, tag: number, count: number): number {
  for (;;) {
    const v = Atomics.load(control, TICKET);
    if (v >>> 16 !== tag) return -1;
    const t = v & 0xffff;
    if (t >= count) return -1;
    if (Atomics.compareExchange(control, TICKET, v, v + 1) === v) return t;
  }
}

/**
 * Runs tasks 0..count-1 of the job whose parameters the caller has just written (the ticket is closed
 * until now): opens the ticket under a new tag, wakes the workers, claims tasks itself, waits for all
 * of them and closes the ticket again.
 */
function runOnPool(control: Int32Array, count: number, runTask: (t: number) => void): void {
  const seq = (Atomics.load(control, SEQ) + 1) & 0x3fffffff;
  const tag = seq % TAGS;
  Atomics.store(control, COUNT, count);
  Atomics.store(control, DONE, 0);
  Atomics.store(control, TICKET, tag << 16);
  Atomics.store(control, SEQ, seq);
  Atomics.notify(control, SEQ);
  let error: unknown = null;
  for (let t = claim(control, tag, count); t >= 0; t = claim(control, tag, count)) {
    try {
      runTask(t);
    } catch (e) {
      error ??= e;
    }
    Atomics.add(control, DONE, 1);
  }
  // Every task counts as done even when it threw, so this wait always ends.
  for (;;) {
    const done = Atomics.load(control, DONE);
    if (done >= count) break;
    if (canBlock) {
      try {
        Atomics.wait(control, DONE, done, 100);
      } catch {
        canBlock = false; // a browser's main thread may not block: spin instead
      }
    }
  }
  Atomics.store(control, TICKET, CLOSED);
  const workerFailed = Atomics.exchange(control, FAILED, 0) !== 0;
  if (error) throw error;
  if (workerFailed) throw new Error('graft: a CPU worker thread failed while running a kernel');
}
