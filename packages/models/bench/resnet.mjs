// ResNet-18 workloads of the CPU-speed issue, graft against PyTorch (and onnxruntime-node for inference
// when it is installed beside the bench:
//   npm i --prefix packages/models/bench/.cache/ort --ignore-scripts onnxruntime-node
// --ignore-scripts skips its install script, which fetches GPU providers; the CPU one is in the package):
//   W1 inference (eval, no grad), W2 one full fine-tune step (train mode, SGD momentum, weight decay,
//   two parameter groups, the loss read back), W3 frozen-backbone fine-tune: 10 epochs over 256 images
//   (graft caches the frozen backbone's features; PyTorch runs the usual loop), and the peak RSS of a
//   process that has run W1 and W2 (VmHWM / ru_maxrss, read before W3).
// Method: every side runs in a process of its own, the sides alternate (the order flips every pair),
// BENCH_PAIRS pairs (default 3), each side timing the median of BENCH_REPS runs after a warm-up; the
// ratio reported is the median of the pairs' ratios, printed beside every absolute figure.
// Env: BENCH_SIZE (default 224), BENCH_BATCH (16), BENCH_THREADS (2), BENCH_W3_IMAGES (256),
// BENCH_REPS (3), BENCH_PAIRS (3).
// `--memory`: 200 fine-tune steps (BENCH_MEMORY_STEPS) printing the CPU heap's live and reserved bytes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { F, Identity, Linear } from '@graft/nn';
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
import { median, time as timeReps, vmHwmMb } from './timing.mjs';

const SIZE = Number(process.env.BENCH_SIZE ?? 224);
const BATCH = Number(process.env.BENCH_BATCH ?? 16);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const W3_IMAGES = Number(process.env.BENCH_W3_IMAGES ?? 256);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const time = (fn) => timeReps(fn, REPS);

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
  const peakRssMb = vmHwmMb();
  // W3: frozen backbone in eval mode; its features are computed once and the head trains on them. The
  // images and labels are drawn before the clock starts, as the PyTorch side builds its data first.
  const batches = [];
  for (let i = 0; i < W3_IMAGES; i += BATCH) {
    const n = Math.min(BATCH, W3_IMAGES - i);
    batches.push([randn(n, 3, SIZE, SIZE), randint(0, 10, [n])]);
  }
  const t0 = performance.now();
  for (const p of body) p.requiresGrad = false;
  model.eval();
  // The frozen backbone's features: the head swapped for Identity, as `model.fc = nn.Identity()`.
  const head = model.fc;
  model.fc = new Identity();
  const feats = [];
  const labels = [];
  for (const [xb, yb] of batches) {
    feats.push(noGrad(() => model.call(xb)));
    labels.push(yb);
  }
  model.fc = head;
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
  return { w1, w2, w3, copiedPerStep, peakRssMb };
}

const PYTORCH = `
import json, os, resource, sys, time, torch, torchvision
torch.set_num_threads(int(sys.argv[1])); torch.manual_seed(0)
size, batch, n3, reps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
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
m.eval()
with torch.no_grad(): w1 = timed(lambda: m(x))
m.train(); w2 = timed(step)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
for p in body: p.requires_grad = False
m.eval(); hopt = torch.optim.SGD(m.fc.parameters(), lr=0.1, momentum=0.9)
data = [(torch.randn(min(batch, n3 - i), 3, size, size), torch.randint(0, 10, (min(batch, n3 - i),))) for i in range(0, n3, batch)]
t0 = time.perf_counter()
for epoch in range(10):
    for xb, yb in data:
        hopt.zero_grad(); torch.nn.functional.cross_entropy(m(xb), yb).backward(); hopt.step()
w3 = time.perf_counter() - t0
print(json.dumps({'w1': w1, 'w2': w2, 'w3': w3, 'peakRssMb': peak, 'version': torch.__version__}))
`;

function hasPyTorch() {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One PyTorch side, in a Python process of its own. */
function pytorchSide() {
  const args = ['-c', PYTORCH, String(THREADS), String(SIZE), String(BATCH), String(W3_IMAGES), String(REPS)];
  const out = execFileSync('/usr/bin/python3', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

/** One graft (or onnxruntime) side: this script again, in a Node process of its own. */
function nodeSide(flag) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), flag], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${flag} failed: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

if (process.argv[2] === '--side-graft') {
  console.log(JSON.stringify(await graftWorkloads()));
  process.exit(0);
}

// onnxruntime-node, inference only: ResNet-18 (fc 512 -> 10) exported by torch.onnx at batch BATCH.
const ONNX = fileURLToPath(new URL(`./.cache/resnet18-fc10-b${BATCH}-${SIZE}.onnx`, import.meta.url));

async function loadOrt() {
  for (const at of [
    'onnxruntime-node',
    new URL('./.cache/ort/node_modules/onnxruntime-node/dist/index.js', import.meta.url).href,
  ]) {
    try {
      return await import(at);
    } catch {}
  }
  return null;
}

if (process.argv[2] === '--side-ort') {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(ONNX, {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const data = Float32Array.from({ length: BATCH * 3 * SIZE * SIZE }, () => Math.random() * 2 - 1);
  const feeds = { x: new ort.Tensor('float32', data, [BATCH, 3, SIZE, SIZE]) };
  const w1 = await time(() => session.run(feeds));
  console.log(JSON.stringify({ w1, version: ort.env?.versions?.common ?? '' }));
  process.exit(0);
}

function exportOnnx() {
  if (existsSync(ONNX)) return true;
  mkdirSync(fileURLToPath(new URL('./.cache/', import.meta.url)), { recursive: true });
  const py = `import sys, torch, torchvision
m = torchvision.models.resnet18(); m.fc = torch.nn.Linear(512, 10); m.eval()
torch.onnx.export(m, torch.randn(${BATCH}, 3, ${SIZE}, ${SIZE}), sys.argv[1], input_names=['x'], output_names=['y'], opset_version=13)`;
  try {
    execFileSync('/usr/bin/python3', ['-c', py, ONNX], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
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
  // Self time per kernel: a call's time less the time of the kernels it calls (the WebAssembly
  // backend's methods call the reference's and the registered kernels call core methods).
  const totals = new Map();
  const stack = [];
  const timed = (name, fn) =>
    function (...args) {
      const t0 = performance.now();
      stack.push(0);
      try {
        return fn.apply(this, args);
      } finally {
        const spent = performance.now() - t0;
        const nested = stack.pop();
        if (stack.length) stack[stack.length - 1] += spent;
        const key = name === 'unary' || name === 'binary' || name === 'reduce' ? `${name}:${args[0]}` : name;
        totals.set(key, (totals.get(key) ?? 0) + spent - nested);
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
  // As W2: the step reads its loss (where dropped tensors' heap blocks come back on the CPU).
  const step = async () => {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.call(x), y);
    loss.backward();
    opt.step();
    await loss.item();
  };
  await step();
  await step();
  totals.clear();
  const t0 = performance.now();
  await step();
  const total = performance.now() - t0;
  const kernels = [...totals.values()].reduce((a, b) => a + b, 0);
  console.log(
    `W2 step profile: ${total.toFixed(0)} ms, of which kernels ${kernels.toFixed(0)} ms (self time each; rest: autograd, op dispatch)`,
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

const torchHere = hasPyTorch();
const ortHere = torchHere && (await loadOrt()) !== null && exportOnnx();
console.log(
  `ResNet-18, batch ${BATCH}, ${SIZE}x${SIZE}, ${THREADS} threads; each side in its own process, alternating, ${PAIRS} pairs, median of ${REPS} runs per side`,
);
if (!torchHere) console.log('PyTorch not found (/usr/bin/python3 with torch, torchvision): graft only');
if (torchHere && !ortHere)
  console.log('onnxruntime-node not installed beside this package: no onnxruntime column');
const runs = { graft: [], torch: [], ort: [] };
for (let i = 0; i < PAIRS; i++) {
  // The order flips every pair, so drift in the machine's speed does not favour one side.
  const order = i % 2 === 0 ? ['graft', 'torch', 'ort'] : ['ort', 'torch', 'graft'];
  for (const who of order) {
    if (who === 'graft') runs.graft.push(nodeSide('--side-graft'));
    if (who === 'torch' && torchHere) runs.torch.push(pytorchSide());
    if (who === 'ort' && ortHere) runs.ort.push(nodeSide('--side-ort'));
  }
  const g = runs.graft[i];
  const t = runs.torch[i];
  const o = runs.ort[i];
  console.log(
    `pair ${i + 1}: W1 graft ${g.w1.toFixed(3)} s${t ? `, PyTorch ${t.w1.toFixed(3)} s` : ''}${o ? `, onnxruntime ${o.w1.toFixed(3)} s` : ''} | W2 graft ${g.w2.toFixed(3)} s${t ? `, PyTorch ${t.w2.toFixed(3)} s` : ''} | W3 graft ${g.w3.toFixed(2)} s${t ? `, PyTorch ${t.w3.toFixed(2)} s` : ''} | peak RSS graft ${g.peakRssMb.toFixed(0)} MB${t ? `, PyTorch ${t.peakRssMb.toFixed(0)} MB` : ''}`,
  );
}
const pairRatio = (other, key, invert = false) =>
  median(runs.graft.map((g, i) => (invert ? g[key] / other[i][key] : other[i][key] / g[key])));
const col = (xs, key, digits = 3) => median(xs.map((r) => r[key])).toFixed(digits);
console.log(
  `\n${'workload (medians)'.padEnd(44)} ${'graft'.padStart(9)} ${'PyTorch'.padStart(9)}  speed ratio (PyTorch time / graft time, median of pairs)`,
);
const line = (name, key, unit) =>
  console.log(
    `${name.padEnd(44)} ${`${col(runs.graft, key)}${unit}`.padStart(9)} ${runs.torch.length ? `${col(runs.torch, key)}${unit}`.padStart(9) : '        -'}  ${runs.torch.length ? `${pairRatio(runs.torch, key).toFixed(2)}x` : '-'}`,
  );
line('W1 inference (eval), per batch', 'w1', 's');
line('W2 fine-tune step (train, SGD, 2 groups)', 'w2', 's');
line(`W3 frozen backbone, 10 epochs x ${W3_IMAGES} images`, 'w3', 's');
console.log(
  `${'peak RSS after W1+W2 (MB)'.padEnd(44)} ${col(runs.graft, 'peakRssMb', 0).padStart(9)} ${runs.torch.length ? col(runs.torch, 'peakRssMb', 0).padStart(9) : '        -'}  ${runs.torch.length ? `${pairRatio(runs.torch, 'peakRssMb', true).toFixed(2)}x (graft / PyTorch)` : '-'}`,
);
if (runs.ort.length) {
  console.log(
    `${'W1 against onnxruntime-node'.padEnd(44)} ${col(runs.graft, 'w1').padStart(8)}s ${col(runs.ort, 'w1').padStart(8)}s  ${pairRatio(runs.ort, 'w1').toFixed(2)}x (onnxruntime ${runs.ort[0].version} time / graft time)`,
  );
}
const img = (key, xs) => (BATCH / Number(col(xs, key))).toFixed(1);
console.log(
  `throughput (img/s): graft W1 ${img('w1', runs.graft)}, W2 ${img('w2', runs.graft)}${runs.torch.length ? `; PyTorch ${runs.torch[0].version} W1 ${img('w1', runs.torch)}, W2 ${img('w2', runs.torch)}` : ''}${runs.ort.length ? `; onnxruntime W1 ${img('w1', runs.ort)}` : ''}`,
);
console.log(
  `W2 bytes copied between JavaScript and WebAssembly per step: ${col(runs.graft, 'copiedPerStep', 0)} (float32 tensors live in WebAssembly memory)`,
);
spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--profile'], {
  stdio: 'inherit',
  env: process.env,
});
