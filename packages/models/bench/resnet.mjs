// ResNet-18 workloads of the CPU-speed issue, graft beside PyTorch in the same invocation:
//   W1 inference (eval), W2 one full fine-tune step (train mode, SGD momentum, two parameter groups),
//   W3 frozen-backbone fine-tune: 10 epochs over 256 images (graft caches the frozen backbone's
//   features; PyTorch runs the usual loop), and peak RSS of W2 in a process of its own.
// Env: BENCH_SIZE (default 224), BENCH_BATCH (16), BENCH_THREADS (2), BENCH_W3_IMAGES (256), BENCH_REPS (3).
// `--memory`: 200 fine-tune steps (BENCH_MEMORY_STEPS) printing the CPU heap's live and reserved bytes.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { F, Linear } from '@graft/nn';
import { SGD } from '@graft/optim';
import {
  cat,
  findKernel,
  getBackend,
  KERNEL_NAMES,
  manualSeed,
  memoryStats,
  noGrad,
  ReferenceCpuBackend,
  randint,
  randn,
  registerKernel,
  setNumThreads,
  tensor,
  WasmCpuBackend,
} from '@graft/tensor';
import { resnet18 } from '../dist/index.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 224);
const BATCH = Number(process.env.BENCH_BATCH ?? 16);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const W3_IMAGES = Number(process.env.BENCH_W3_IMAGES ?? 256);
const REPS = Number(process.env.BENCH_REPS ?? 3);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(fn, reps = REPS) {
  await fn(); // warm-up
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}

async function graftWorkloads() {
  setNumThreads(THREADS);
  manualSeed(0);
  const model = await resnet18();
  model.fc = new Linear(512, 10);
  const x = randn(BATCH, 3, SIZE, SIZE);
  const y = randint(0, 10, [BATCH]);
  model.eval();
  const w1 = await time(() => noGrad(() => model.call(x)));
  model.train();
  const body = [...model.namedParameters()].filter(([n]) => !n.startsWith('fc.')).map(([, p]) => p);
  const opt = new SGD([{ params: body }, { params: model.fc.parameters(), lr: 0.1 }], {
    lr: 0.01,
    momentum: 0.9,
    weightDecay: 1e-4,
  });
  // A training step reads its loss, as a training loop does (both sides): on the CPU that readback is
  // also where dropped tensors' WebAssembly blocks come back (see @graft/tensor's memory notes).
  const copied0 = memoryStats().copiedBytes;
  const w2 = await time(async () => {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.call(x), y);
    loss.backward();
    opt.step();
    await loss.item();
  });
  const copiedPerStep = (memoryStats().copiedBytes - copied0) / (REPS + 1);
  // W3: frozen backbone in eval mode; its features are computed once and the head trains on them.
  const t0 = performance.now();
  for (const p of body) p.requiresGrad = false;
  model.eval();
  const head = model.fc;
  let captured = null;
  const h = head.registerForwardPreHook((_m, inputs) => {
    captured = inputs[0];
  });
  const feats = [];
  const labels = [];
  for (let i = 0; i < W3_IMAGES; i += BATCH) {
    const n = Math.min(BATCH, W3_IMAGES - i);
    noGrad(() => model.call(randn(n, 3, SIZE, SIZE)));
    feats.push(captured);
    labels.push(randint(0, 10, [n]));
  }
  h.remove();
  const fx = cat(feats);
  const fy = cat(labels);
  const hopt = new SGD(head.parameters(), { lr: 0.1, momentum: 0.9 });
  for (let epoch = 0; epoch < 10; epoch++) {
    for (let i = 0; i < W3_IMAGES; i += BATCH) {
      const idx = tensor(Array.from({ length: Math.min(BATCH, W3_IMAGES - i) }, (_, k) => i + k));
      hopt.zeroGrad();
      F.crossEntropy(head.call(fx.indexSelect(0, idx)), fy.indexSelect(0, idx)).backward();
      hopt.step();
    }
  }
  const w3 = (performance.now() - t0) / 1000;
  return { w1, w2, w3, copiedPerStep };
}

const PYTORCH = `
import json, os, resource, sys, time, torch, torchvision
torch.set_num_threads(int(sys.argv[1])); torch.manual_seed(0)
size, batch, n3, reps, only_w2 = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == '1'
m = torchvision.models.resnet18(); m.fc = torch.nn.Linear(512, 10)
x = torch.randn(batch, 3, size, size); y = torch.randint(0, 10, (batch,))
def timed(fn):
    fn(); ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]
body = [p for n, p in m.named_parameters() if not n.startswith('fc.')]
opt = torch.optim.SGD([{'params': body}, {'params': m.fc.parameters(), 'lr': 0.1}], lr=0.01, momentum=0.9, weight_decay=1e-4)
def step():
    opt.zero_grad(); loss = torch.nn.functional.cross_entropy(m(x), y); loss.backward(); opt.step(); loss.item()
if only_w2:
    m.train(); timed(step)
    print(json.dumps({'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})); sys.exit()
m.eval()
with torch.no_grad(): w1 = timed(lambda: m(x))
m.train(); w2 = timed(step)
for p in body: p.requires_grad = False
m.eval(); hopt = torch.optim.SGD(m.fc.parameters(), lr=0.1, momentum=0.9)
data = [(torch.randn(min(batch, n3 - i), 3, size, size), torch.randint(0, 10, (min(batch, n3 - i),))) for i in range(0, n3, batch)]
t0 = time.perf_counter()
for epoch in range(10):
    for xb, yb in data:
        hopt.zero_grad(); torch.nn.functional.cross_entropy(m(xb), yb).backward(); hopt.step()
w3 = time.perf_counter() - t0
print(json.dumps({'w1': w1, 'w2': w2, 'w3': w3, 'version': torch.__version__}))
`;

function pytorch(onlyW2) {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const out = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      PYTORCH,
      String(THREADS),
      String(SIZE),
      String(BATCH),
      String(W3_IMAGES),
      String(REPS),
      onlyW2 ? '1' : '0',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop());
}

if (process.argv[2] === '--w2-rss') {
  // Child mode: run W2 alone and report this process's peak RSS.
  setNumThreads(THREADS);
  const model = await resnet18();
  model.fc = new Linear(512, 10);
  model.train();
  const x = randn(BATCH, 3, SIZE, SIZE);
  const y = randint(0, 10, [BATCH]);
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  let peak = 0;
  for (let i = 0; i < REPS + 1; i++) {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.call(x), y);
    loss.backward();
    opt.step();
    await loss.item();
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  console.log(JSON.stringify({ rss_mb: peak / 2 ** 20 }));
  process.exit(0);
}

if (process.argv[2] === '--memory') {
  // 200 fine-tune steps (BENCH_MEMORY_STEPS): the CPU heap's live and reserved bytes must level off.
  const steps = Number(process.env.BENCH_MEMORY_STEPS ?? 200);
  setNumThreads(THREADS);
  const model = await resnet18();
  model.fc = new Linear(512, 10);
  model.train();
  const x = randn(BATCH, 3, SIZE, SIZE);
  const y = randint(0, 10, [BATCH]);
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const mb = (b) => (b / 2 ** 20).toFixed(0);
  const at = [];
  for (let i = 1; i <= steps; i++) {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.call(x), y);
    loss.backward();
    opt.step();
    await loss.item();
    if (i % 20 === 0 || i === 1) {
      const m = memoryStats();
      at.push([i, m.reserved]);
      console.log(
        `step ${String(i).padStart(4)}: live ${mb(m.live)} MB, pooled ${mb(m.pooled)} MB, reserved ${mb(m.reserved)} MB, peak ${mb(m.peak)} MB, RSS ${mb(process.memoryUsage().rss)} MB, copied ${mb(m.copiedBytes)} MB`,
      );
    }
  }
  const half = at.find(([i]) => i >= steps / 2)[1];
  const end = at[at.length - 1][1];
  console.log(
    `reserved at step ${steps / 2}: ${mb(half)} MB, at step ${steps}: ${mb(end)} MB (${end > half ? 'grew' : 'flat'})`,
  );
  process.exit(0);
}

/** Wraps every CPU kernel with a timer: where one W2 step spends its time, per kernel. */
async function profileW2() {
  const totals = new Map();
  const timed = (name, fn) =>
    function (...args) {
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        const key = name === 'unary' || name === 'binary' || name === 'reduce' ? `${name}:${args[0]}` : name;
        totals.set(key, (totals.get(key) ?? 0) + performance.now() - t0);
      }
    };
  // The core methods of both CPU backend classes (the WebAssembly one extends the reference) ...
  for (const proto of [WasmCpuBackend.prototype, ReferenceCpuBackend.prototype]) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = proto[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      proto[name] = timed(name, fn);
    }
  }
  // ... and the named kernels the default backend registered (fused conv, batch norm, SGD).
  const backend = getBackend('cpu');
  for (const name of KERNEL_NAMES) {
    const fn = findKernel(backend, name);
    if (fn) registerKernel(backend, name, timed(name, fn));
  }
  setNumThreads(THREADS);
  const model = await resnet18();
  model.fc = new Linear(512, 10);
  model.train();
  const x = randn(BATCH, 3, SIZE, SIZE);
  const y = randint(0, 10, [BATCH]);
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const step = () => {
    opt.zeroGrad();
    F.crossEntropy(model.call(x), y).backward();
    opt.step();
  };
  step();
  totals.clear();
  const t0 = performance.now();
  step();
  const total = performance.now() - t0;
  const kernels = [...totals.values()].reduce((a, b) => a + b, 0);
  console.log(
    `W2 step profile: ${total.toFixed(0)} ms, of which kernels ${kernels.toFixed(0)} ms (rest: autograd, op dispatch, allocation)`,
  );
  for (const [k, ms] of [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14)) {
    console.log(
      `  ${k.padEnd(28)} ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`,
    );
  }
}

if (process.argv[2] === '--profile') {
  await profileW2();
  process.exit(0);
}

console.log(`ResNet-18, batch ${BATCH}, ${SIZE}x${SIZE}, ${THREADS} threads (median of ${REPS})`);
const g = await graftWorkloads();
const t = pytorch(false);
const rssG = JSON.parse(
  spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--w2-rss'], {
    encoding: 'utf8',
    env: process.env,
  })
    .stdout.trim()
    .split('\n')
    .pop(),
);
const rssT = t ? pytorch(true) : null;
const row = (name, graftSec, torchSec, unit = 's') => {
  const ratio = torchSec ? (torchSec / graftSec).toFixed(2) : '-';
  console.log(
    `${name.padEnd(46)} ${graftSec.toFixed(3).padStart(9)}${unit} ${torchSec ? `${torchSec.toFixed(3).padStart(9)}${unit}` : '        -'}  ${ratio.padStart(6)}x`,
  );
};
console.log(
  `${'workload'.padEnd(46)} ${'graft'.padStart(10)} ${'PyTorch'.padStart(10)}  speed ratio (PyTorch time / graft time)`,
);
row('W1 inference (eval), per batch', g.w1, t?.w1);
row('W2 fine-tune step (train, SGD, 2 groups)', g.w2, t?.w2);
row(`W3 frozen backbone, 10 epochs x ${W3_IMAGES} images`, g.w3, t?.w3);
console.log(
  `${'W2 peak RSS (MB, own process)'.padEnd(46)} ${rssG.rss_mb.toFixed(0).padStart(10)} ${rssT ? rssT.rss_mb.toFixed(0).padStart(10) : '         -'}  ${rssT ? (rssG.rss_mb / rssT.rss_mb).toFixed(2).padStart(6) : '     -'}x (graft / PyTorch)`,
);
console.log(
  `W2 bytes copied between JavaScript and WebAssembly per step: ${g.copiedPerStep.toFixed(0)} (float32 tensors live in WebAssembly memory)`,
);
spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--profile'], {
  stdio: 'inherit',
  env: process.env,
});
console.log(
  `throughput: graft W1 ${(BATCH / g.w1).toFixed(1)} img/s, W2 ${(BATCH / g.w2).toFixed(1)} img/s${t ? `; PyTorch ${t.version} W1 ${(BATCH / t.w1).toFixed(1)} img/s, W2 ${(BATCH / t.w2).toFixed(1)} img/s` : ' (PyTorch not found: graft only)'}`,
);
