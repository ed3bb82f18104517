// Phase breakdown of the Winograd convolutions of a ResNet-18 training step (layer1 and layer4, batch
// 16) at 1 and 2 threads: wall time of every pool job (parallelCalls by kernel name, parallelSgemm as
// "sgemm") and of the whole Winograd call ("other" is what is left: frame copies, serial kernels, JS).
// Usage: node --expose-gc bench/winograd-phases.mjs [threads...] after a build (medians of BENCH_REPS calls). It copies dist/ to a temporary
// folder and wraps the pool entry points there with timers, so the library itself carries no probes.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'graft-phases-'));
cpSync(dist, dir, { recursive: true });

/** Renames `export function name(` to an inner function and exports a timed wrapper under its name. */
function wrap(file, name, label) {
  const path = join(dir, file);
  let src = readFileSync(path, 'utf8');
  const head = `export function ${name}(`;
  if (!src.includes(head)) return false;
  src = src.replace(head, `function ${name}Inner(`);
  src += `
export function ${name}(...args) {
  const t0 = performance.now();
  try {
    return ${name}Inner(...args);
  } finally {
    const p = (globalThis.__phases ??= new Map());
    const key = ${label};
    p.set(key, (p.get(key) ?? 0) + performance.now() - t0);
  }
}
`;
  writeFileSync(path, src);
  return true;
}
wrap('cpu/wasm/threads.js', 'parallelCalls', 'args[1]');
// parallelSgemm calls parallelSgemmBatch where that exists: time only the one that does the work.
if (!wrap('cpu/wasm/threads.js', 'parallelSgemmBatch', "'sgemm'")) {
  wrap('cpu/wasm/threads.js', 'parallelSgemm', "'sgemm'");
}
wrap('cpu/wasm/winograd.js', 'winogradConv2d', "'TOTAL forward'");
wrap('cpu/wasm/winograd.js', 'winogradConv2dBackwardInput', "'TOTAL input grad'");
wrap('cpu/wasm/winograd-weight.js', 'winogradConv2dBackwardWeight', "'TOTAL weight grad'");

const T = await import(join(dir, 'index.js'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const BATCH = Number(process.env.BENCH_BATCH ?? 16);
const REPS = Number(process.env.BENCH_REPS ?? 9);
const DISPOSE = process.env.BENCH_KEEP_GRADS !== '1';
const CASES = [
  ['layer1 3x3 64->64, 56', 64, 64, 56],
  ['layer4 3x3 512->512, 7', 512, 512, 7],
];

/** Median wall time per call and median time of each phase over REPS calls, after two warm-ups. */
function profile(fn) {
  fn();
  fn();
  const walls = [];
  const runs = [];
  for (let i = 0; i < REPS; i++) {
    globalThis.__phases = new Map();
    const t0 = performance.now();
    fn();
    walls.push(performance.now() - t0);
    runs.push(globalThis.__phases);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const phases = [...runs[0].keys()].map((k) => [k, median(runs.map((r) => r.get(k) ?? 0))]);
  return { wall: median(walls), phases };
}

const threadCounts = process.argv.slice(2).map(Number);
for (const n of threadCounts.length ? threadCounts : [1, 2]) {
  T.setNumThreads(n);
  for (const [name, C, O, S] of CASES) {
    const opts = { padding: 1 };
    const x = T.randn([BATCH, C, S, S], { requiresGrad: true });
    const w = T.randn([O, C, 3, 3], { requiresGrad: true });
    const y = T.conv2d(x, w, null, opts);
    const g = T.randn(y.shape);
    const runs = {
      forward: () => T.noGrad(() => T.conv2d(x, w, null, opts)).dispose(),
      backward: () => {
        x.grad = null;
        w.grad = null;
        y.backward(g, { retainGraph: true });
        // Disposed as in a training loop that reads back: otherwise each call writes fresh pages.
        if (DISPOSE) {
          x.grad?.dispose();
          w.grad?.dispose();
        }
      },
    };
    for (const [kind, fn] of Object.entries(runs)) {
      const { wall, phases } = profile(fn);
      console.log(`${n} thread(s) ${name} ${kind}: ${wall.toFixed(1)} ms per call`);
      const totals = phases.filter(([k]) => k.startsWith('TOTAL'));
      const parts = phases.filter(([k]) => !k.startsWith('TOTAL'));
      const inner = parts.reduce((s, [, v]) => s + v, 0);
      const outer = totals.reduce((s, [, v]) => s + v, 0);
      for (const [k, v] of parts) console.log(`  ${k.padEnd(22)}${v.toFixed(2).padStart(8)} ms`);
      console.log(`  ${'other (in Winograd)'.padEnd(22)}${(outer - inner).toFixed(2).padStart(8)} ms`);
      for (const [k, v] of totals) console.log(`  ${k.padEnd(22)}${v.toFixed(2).padStart(8)} ms`);
      console.log(`  ${'outside Winograd'.padEnd(22)}${(wall - outer).toFixed(2).padStart(8)} ms`);
    }
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
}
process.exit(0);
