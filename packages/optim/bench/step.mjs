// One optimizer step over ResNet-18's 62 parameter tensors (11.7 M floats), graft against PyTorch:
// SGD (momentum, weight decay), Adam (L2 weight decay), AdamW and AdamW with AMSGrad. Each side runs in
// a process of its own, the sides alternate (the order flips every pair), BENCH_PAIRS pairs (default 3),
// each side timing the median of BENCH_REPS steps (default 10) after two warm-up steps; the ratio is the
// median of the pairs' ratios (PyTorch time / graft time: above 1, graft is faster), printed beside the
// absolute times. 2 threads on both sides (BENCH_THREADS).
// Usage: pnpm bench (builds first), or node bench/step.mjs after a build.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const REPS = Number(process.env.BENCH_REPS ?? 10);

/** torchvision's resnet18 parameter shapes, in model.parameters() order (1000-class head). */
function resnet18Shapes() {
  const shapes = [[64, 3, 7, 7], [64], [64]];
  let cin = 64;
  for (const [cout, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ]) {
    for (let b = 0; b < 2; b++) {
      const s = b === 0 ? stride : 1;
      shapes.push([cout, cin, 3, 3], [cout], [cout], [cout, cout, 3, 3], [cout], [cout]);
      if (b === 0 && (s !== 1 || cin !== cout)) shapes.push([cout, cin, 1, 1], [cout], [cout]);
      cin = cout;
    }
  }
  shapes.push([1000, 512], [1000]);
  return shapes;
}

const CASES = [
  ['SGD', 'SGD', { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }, 'lr=0.01, momentum=0.9, weight_decay=1e-4'],
  ['Adam', 'Adam', { lr: 1e-3, weightDecay: 1e-4 }, 'lr=1e-3, weight_decay=1e-4'],
  ['AdamW', 'AdamW', { lr: 1e-3, weightDecay: 1e-2 }, 'lr=1e-3, weight_decay=1e-2'],
  [
    'AdamW amsgrad',
    'AdamW',
    { lr: 1e-3, weightDecay: 1e-2, amsgrad: true },
    'lr=1e-3, weight_decay=1e-2, amsgrad=True',
  ],
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function graftSide() {
  const optim = await import('../dist/index.js');
  const { manualSeed, randn, setNumThreads } = await import('@graft/tensor');
  setNumThreads(THREADS);
  manualSeed(0);
  const out = [];
  for (const [, cls, opts] of CASES) {
    const params = resnet18Shapes().map((s) => randn(...s).requiresGrad_());
    for (const p of params) p.grad = randn(...p.shape).mul(0.01);
    const opt = new optim[cls](params, opts);
    opt.step();
    opt.step();
    const ts = [];
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      opt.step();
      ts.push(performance.now() - t0);
    }
    out.push(median(ts));
  }
  return out;
}

const TORCH = `
import json, sys, time, torch
torch.set_num_threads(${THREADS}); torch.manual_seed(0)
shapes = json.loads(sys.argv[1]); reps = ${REPS}
out = []
for cls, kw in [${CASES.map(([, cls, , kw]) => `(torch.optim.${cls}, dict(${kw}))`).join(', ')}]:
    ps = [torch.randn(*s, requires_grad=True) for s in shapes]
    for p in ps: p.grad = torch.randn(*p.shape) * 0.01
    opt = cls(ps, **kw)
    opt.step(); opt.step()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); opt.step(); ts.append((time.perf_counter() - t0) * 1000)
    out.append(sorted(ts)[len(ts) // 2])
print(json.dumps({"version": torch.__version__, "ms": out}))
`;

function torchHere() {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function runSide(who) {
  const r =
    who === 'graft'
      ? spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--side-graft'], { encoding: 'utf8' })
      : spawnSync('/usr/bin/python3', ['-c', TORCH, JSON.stringify(resnet18Shapes())], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${who} side failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

if (process.argv[2] === '--side-graft') {
  console.log(JSON.stringify({ ms: await graftSide() }));
  process.exit(0);
}

const numel = resnet18Shapes().reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
const torch = torchHere();
console.log(
  `optimizer step over ResNet-18's parameters (62 tensors, ${(numel / 1e6).toFixed(1)} M floats), ${THREADS} threads; ` +
    `each side in its own process, alternating, ${PAIRS} pairs, median of ${REPS} steps per side`,
);
if (!torch) console.log('PyTorch not found (/usr/bin/python3 with torch): graft only');
const runs = { graft: [], torch: [] };
let version = '';
for (let pair = 0; pair < (torch ? PAIRS : 1); pair++) {
  const order = pair % 2 === 0 ? ['graft', 'torch'] : ['torch', 'graft'];
  for (const who of order) {
    if (who === 'torch' && !torch) continue;
    const r = runSide(who);
    if (r.version) version = r.version;
    runs[who].push(r.ms);
  }
}
const W = 16;
const f = (x) => x.toFixed(1).padStart(9);
console.log(
  `${'optimizer'.padEnd(W)}${'graft ms'.padStart(9)}${torch ? `${'torch ms'.padStart(9)}  ratio (pairs)` : ''}`,
);
CASES.forEach(([name], i) => {
  const g = runs.graft.map((r) => r[i]);
  let line = `${name.padEnd(W)}${f(median(g))}`;
  if (torch) {
    const t = runs.torch.map((r) => r[i]);
    const ratios = t.map((x, k) => x / g[k]);
    line += `${f(median(t))}  ${median(ratios).toFixed(2)}x (${ratios.map((x) => x.toFixed(2)).join(', ')})`;
  }
  console.log(line);
});
if (torch) console.log(`PyTorch ${version}; ratio = PyTorch ms / graft ms (above 1: graft is faster)`);
