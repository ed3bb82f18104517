// graft against graft: the ResNet-18 workloads W1 (inference) and W2 (a fine-tune step that reads its
// loss) with two checkouts' built packages, each side in its own process, alternating, PAIRS pairs; prints
// absolute figures and the median of the pair ratios. For "no regression against main":
//   git worktree add /tmp/main-tree main && (cd /tmp/main-tree && pnpm install && pnpm build)
//   node packages/models/bench/ab.mjs /tmp/main-tree .
// Env: BENCH_PAIRS (3), BENCH_BATCH (16), BENCH_SIZE (224), BENCH_THREADS (2), BENCH_REPS (3).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, time as timeReps, vmHwmMb } from './timing.mjs';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 16);
const SIZE = Number(process.env.BENCH_SIZE ?? 224);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const time = (fn) => timeReps(fn, REPS);

if (process.argv[2] === '--side') {
  // Child: one tree's packages, by path, so the two sides never share a module.
  const root = pathToFileURL(`${resolve(process.argv[3])}/`).href;
  const T = await import(new URL('packages/tensor/dist/index.js', root).href);
  const { F, Linear } = await import(new URL('packages/nn/dist/index.js', root).href);
  const { SGD } = await import(new URL('packages/optim/dist/index.js', root).href);
  const { resnet18 } = await import(new URL('packages/models/dist/index.js', root).href);
  T.setNumThreads(THREADS);
  T.manualSeed(0);
  const model = await resnet18();
  model.fc = new Linear(512, 10);
  const x = T.randn(BATCH, 3, SIZE, SIZE);
  const y = T.randint(0, 10, [BATCH]);
  model.eval();
  const w1 = await time(() => T.noGrad(() => model.call(x)));
  model.train();
  const body = [...model.namedParameters()].filter(([n]) => !n.startsWith('fc.')).map(([, p]) => p);
  const opt = new SGD([{ params: body }, { params: model.fc.parameters(), lr: 0.1 }], {
    lr: 0.01,
    momentum: 0.9,
    weightDecay: 1e-4,
  });
  const w2 = await time(async () => {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.call(x), y);
    loss.backward();
    opt.step();
    await loss.item();
  });
  const peakMb = vmHwmMb();
  console.log(JSON.stringify({ w1, w2, rssMb: process.memoryUsage().rss / 2 ** 20, peakMb }));
  process.exit(0);
}

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/ab.mjs <tree A (e.g. main)> <tree B (e.g. .)>: both built');
  process.exit(2);
}
const side = (tree) => {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--side', tree], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${tree}: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
};
console.log(
  `ResNet-18, batch ${BATCH}, ${SIZE}x${SIZE}, ${THREADS} threads; A = ${a}, B = ${b}; ${PAIRS} pairs`,
);
const ratios = { w1: [], w2: [], peakMb: [] };
for (let i = 0; i < PAIRS; i++) {
  const ra = side(a);
  const rb = side(b);
  for (const k of ['w1', 'w2', 'peakMb']) ratios[k].push(rb[k] / ra[k]);
  console.log(
    `pair ${i + 1}: W1 A ${ra.w1.toFixed(3)} s, B ${rb.w1.toFixed(3)} s | W2 A ${ra.w2.toFixed(3)} s, B ${rb.w2.toFixed(3)} s | end RSS A ${ra.rssMb.toFixed(0)} MB, B ${rb.rssMb.toFixed(0)} MB | peak RSS A ${ra.peakMb.toFixed(0)} MB, B ${rb.peakMb.toFixed(0)} MB`,
  );
}
for (const k of ['w1', 'w2', 'peakMb']) {
  console.log(
    `${k === 'peakMb' ? 'peak RSS' : `${k.toUpperCase()} time`} B / A: median ${median(ratios[k]).toFixed(2)} (pairs ${ratios[k].map((r) => r.toFixed(2)).join(', ')})`,
  );
}
