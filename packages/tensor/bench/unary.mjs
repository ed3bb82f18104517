// float32 unary op timings over 4M floats: the reference backend's JavaScript loop (what the WebAssembly
// backend ran for ops without a kernel code) and the WebAssembly kernel at 1 and 2 threads, median ms.
// Usage: node bench/unary.mjs [op,op,...] after a build (default: sin,expm1,exp).

import { setCpuBackend, setNumThreads, tensor } from '../dist/index.js';

const N = 4 * 1024 * 1024;
const RUNS = 9;
const ops = (process.argv[2] ?? 'sin,expm1,exp').split(',');

const data = new Float32Array(N);
let s = 1;
for (let i = 0; i < N; i++) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  data[i] = (s / 2 ** 32 - 0.5) * 20;
}

/** The median time of `op` on a tensor of `data` made on `backend` with `threads` threads. */
function time(op, backend, threads) {
  setCpuBackend(backend);
  setNumThreads(threads);
  const x = tensor(data);
  const ms = [];
  for (let r = 0; r < RUNS + 2; r++) {
    const t0 = performance.now();
    const y = x[op]();
    const t1 = performance.now();
    y.dispose();
    if (r >= 2) ms.push(t1 - t0);
  }
  x.dispose();
  ms.sort((a, b) => a - b);
  return ms[RUNS >> 1];
}

for (const op of ops) {
  const js = time(op, 'reference', 1);
  const w1 = time(op, 'webassembly', 1);
  const w2 = time(op, 'webassembly', 2);
  console.log(
    `${op.padEnd(8)} js loop ${js.toFixed(1).padStart(6)} ms   wasm 1 thread ${w1.toFixed(1).padStart(6)} ms   2 threads ${w2.toFixed(1).padStart(6)} ms`,
  );
}
process.exit(0);
