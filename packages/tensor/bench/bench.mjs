// CPU backend throughput: matmul and ResNet-18 conv2d shapes in GFLOP/s, next to PyTorch on the same
// shapes when /usr/bin/python3 has torch (run in a child process with torch.set_num_threads(2)).
// Usage: pnpm bench (builds first), or node bench/bench.mjs after a build. BENCH_BATCH sets the convolutions'
// batch (default 16, the ResNet workloads' batch).
// `--threads`: the heavy kernels of a ResNet-18 training step at 1 thread and at 2 (or BENCH_MAX_THREADS),
// each timed in a process of its own per thread count, alternating, 3 pairs, the median of the pairs'
// speed-up printed beside the absolute times.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  add,
  batchNorm,
  conv2d,
  matmul,
  maxPool2d,
  noGrad,
  ones,
  randn,
  setCpuBackend,
  setNumThreads,
  sgdUpdate_,
  zeros,
} from '../dist/index.js';

const THREADS = 2;
const BUDGET_MS = 700; // per shape and implementation, after warm-up

const BATCH = Number(process.env.BENCH_BATCH ?? 16);

/** Every distinct convolution of ResNet-18 at 224x224: [name, C, O, k, stride, input size]. */
const RESNET18_CONVS = [
  ['conv1         7x7/2    3->64 ', 3, 64, 7, 2, 224],
  ['layer1        3x3     64->64 ', 64, 64, 3, 1, 56],
  ['layer2.0.conv1 3x3/2  64->128', 64, 128, 3, 2, 56],
  ['layer2.0.down 1x1/2   64->128', 64, 128, 1, 2, 56],
  ['layer2        3x3    128->128', 128, 128, 3, 1, 28],
  ['layer3.0.conv1 3x3/2 128->256', 128, 256, 3, 2, 28],
  ['layer3.0.down 1x1/2  128->256', 128, 256, 1, 2, 28],
  ['layer3        3x3    256->256', 256, 256, 3, 1, 14],
  ['layer4.0.conv1 3x3/2 256->512', 256, 512, 3, 2, 14],
  ['layer4.0.down 1x1/2  256->512', 256, 512, 1, 2, 14],
  ['layer4        3x3    512->512', 512, 512, 3, 1, 7],
];

/** Matmul [M, K] x [K, N], then the ResNet-18 convolutions at the workloads' batch size. */
const CASES = [
  { kind: 'matmul', name: 'matmul 256x256x256', m: 256, k: 256, n: 256 },
  { kind: 'matmul', name: 'matmul 512x512x512', m: 512, k: 512, n: 512 },
  ...RESNET18_CONVS.map(([name, cin, cout, k, stride, size]) => ({
    kind: 'conv',
    name: `${name} b${BATCH}`,
    x: [BATCH, cin, size, size],
    w: [cout, cin, k, k],
    stride,
    padding: k === 1 ? 0 : Math.floor(k / 2),
  })),
];

function flops(c) {
  if (c.kind === 'matmul') return 2 * c.m * c.k * c.n;
  const [n, , h, w] = c.x;
  const [o, cin, kh, kw] = c.w;
  const oh = Math.floor((h + 2 * c.padding - kh) / c.stride) + 1;
  const ow = Math.floor((w + 2 * c.padding - kw) / c.stride) + 1;
  return 2 * n * o * oh * ow * cin * kh * kw;
}

/** Median seconds per call: two warm-up calls, then repeats until the time budget is spent. */
function time(fn) {
  fn();
  fn();
  const times = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < BUDGET_MS && times.length < 50)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function graftRun(c) {
  return noGrad(() => {
    if (c.kind === 'matmul') {
      const a = randn(c.m, c.k);
      const b = randn(c.k, c.n);
      return time(() => matmul(a, b));
    }
    const x = randn(c.x);
    const w = randn(c.w);
    return time(() => conv2d(x, w, null, { stride: c.stride, padding: c.padding }));
  });
}

const TORCH_SCRIPT = `
import json, sys, time
import torch
import torch.nn.functional as F
torch.set_num_threads(${THREADS})
budget = ${BUDGET_MS} / 1000
def timeit(fn):
    fn(); fn()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 50):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]
out = []
with torch.no_grad():
    for c in json.load(sys.stdin):
        if c["kind"] == "matmul":
            a = torch.randn(c["m"], c["k"]); b = torch.randn(c["k"], c["n"])
            out.append(timeit(lambda: torch.matmul(a, b)))
        else:
            x = torch.randn(*c["x"]); w = torch.randn(*c["w"])
            out.append(timeit(lambda: F.conv2d(x, w, stride=c["stride"], padding=c["padding"])))
print(json.dumps({"version": torch.__version__, "seconds": out}))
`;

function torchRun() {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return null;
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH_SCRIPT], {
    input: JSON.stringify(CASES),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) {
    console.log(`(PyTorch run failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const gflops = (c, s) => flops(c) / s / 1e9;
const col = (s, n) => String(s).padStart(n);

// ---- thread scaling (`--threads`) ----

/** The heavy kernels of a ResNet-18 training step at 224x224, batch 16: [name, setup returning a call]. */
const SCALING = [
  [
    'matmul 512x512x512',
    () => {
      const a = randn(512, 512);
      const b = randn(512, 512);
      return () => matmul(a, b).dispose();
    },
  ],
  ...[
    ['conv1 7x7/2 3->64, 224', 3, 64, 7, 2, 224],
    ['layer1 3x3 64->64, 56 (Winograd)', 64, 64, 3, 1, 56],
    ['layer2.0.conv1 3x3/2 64->128, 56', 64, 128, 3, 2, 56],
    ['layer3.0.down 1x1/2 128->256, 28', 128, 256, 1, 2, 28],
    ['layer4 3x3 512->512, 7 (Winograd)', 512, 512, 3, 1, 7],
  ].flatMap(([name, cin, cout, k, stride, size]) => {
    const opts = { stride, padding: k === 1 ? 0 : Math.floor(k / 2) };
    return [
      [
        `conv forward ${name}`,
        () => {
          const x = randn(BATCH, cin, size, size);
          const w = randn(cout, cin, k, k);
          return () => noGrad(() => conv2d(x, w, null, opts)).dispose();
        },
      ],
      [
        `conv backward (input + weight grads) ${name}`,
        () => {
          const x = randn([BATCH, cin, size, size], { requiresGrad: true });
          const w = randn([cout, cin, k, k], { requiresGrad: true });
          const y = conv2d(x, w, null, opts);
          const g = randn(y.shape);
          // The gradients are disposed after each call, as batch norm's below: in one synchronous loop
          // the heap cannot get dropped blocks back, and fresh pages would make this a page-fault figure.
          return () => {
            x.grad = null;
            w.grad = null;
            y.backward(g, { retainGraph: true });
            x.grad?.dispose();
            w.grad?.dispose();
          };
        },
      ],
    ];
  }),
  [
    'batch norm forward + backward, train, [16, 64, 112, 112]',
    () => {
      const x = randn([BATCH, 64, 112, 112], { requiresGrad: true });
      const w = ones([64], { requiresGrad: true });
      const b = zeros([64], { requiresGrad: true });
      const g = randn(x.shape);
      // Outputs and gradients are disposed, as the add below is: `time` is one synchronous loop, in
      // which the heap cannot get dropped blocks back (a training loop gets them at its readback), so
      // without it every call writes fresh pages and the figure is the kernel's page faults.
      return () => {
        x.grad = w.grad = b.grad = null;
        const y = batchNorm(x, zeros([64]), ones([64]), w, b, { training: true });
        y.backward(g);
        y.dispose();
        x.grad?.dispose();
      };
    },
  ],
  [
    'max pool 3x3/2 forward + backward, [16, 64, 112, 112]',
    () => {
      const x = randn([BATCH, 64, 112, 112], { requiresGrad: true });
      const g = randn([BATCH, 64, 56, 56]);
      return () => {
        x.grad = null;
        const y = maxPool2d(x, 3, { stride: 2, padding: 1 });
        y.backward(g);
        y.dispose();
        x.grad?.dispose();
      };
    },
  ],
  [
    'add, 12.8 M floats (a residual of layer1)',
    () => {
      const a = randn(BATCH * 64 * 112 * 112);
      const b = randn(BATCH * 64 * 112 * 112);
      return () => noGrad(() => add(a, b)).dispose();
    },
  ],
  [
    'SGD update (momentum, weight decay), 11.7 M parameters',
    () => {
      const p = randn(11_700_000);
      const g = randn(11_700_000);
      const buf = zeros([11_700_000]);
      const o = {
        lr: 0.01,
        momentum: 0.9,
        dampening: 0,
        nesterov: false,
        maximize: false,
        weightDecay: 1e-4,
      };
      return () => {
        sgdUpdate_(p, g, buf, o);
      };
    },
  ],
];

/** One side of the scaling bench: every SCALING kernel at `n` threads, median ms each. */
async function scalingSide(n) {
  setNumThreads(n);
  const out = [];
  for (const [, setup] of SCALING) {
    out.push(1000 * time(setup()));
    // Let the collector and the heap's finalizers return this kernel's tensors before the next one: a
    // synchronous run of them all would pass the heap's limit and spill to copied JavaScript arrays.
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

if (process.argv[2] === '--scaling-side') {
  console.log(JSON.stringify(await scalingSide(Number(process.argv[3]))));
  process.exit(0);
}

if (process.argv[2] === '--threads') {
  const most = Number(process.env.BENCH_MAX_THREADS ?? 2);
  const side = (n) => {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--scaling-side', String(n)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    if (r.status !== 0)
      throw new Error(`scaling side (${n} threads) failed: ${r.stderr.trim().split('\n').pop()}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const pairs = [];
  for (let i = 0; i < 3; i++) {
    // The order flips every pair.
    if (i % 2 === 0) {
      const one = side(1);
      pairs.push({ one, many: side(most) });
    } else {
      const many = side(most);
      pairs.push({ one: side(1), many });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const W = 76;
  console.log(
    `thread scaling, batch ${BATCH}: ms per call at 1 and ${most} threads (median of 3 alternating pairs)`,
  );
  const head = `${'kernel'.padEnd(W)}${col('1 thread', 10)}${col(`${most} threads`, 11)}${col('speed-up', 10)}`;
  console.log(head);
  console.log('-'.repeat(head.length));
  SCALING.forEach(([name], k) => {
    const one = median(pairs.map((p) => p.one[k]));
    const many = median(pairs.map((p) => p.many[k]));
    const up = median(pairs.map((p) => p.one[k] / p.many[k]));
    console.log(
      `${name.padEnd(W)}${col(one.toFixed(1), 10)}${col(many.toFixed(1), 11)}${col(`${up.toFixed(2)}x`, 10)}`,
    );
  });
  process.exit(0);
}

const threads = setNumThreads(THREADS);
const graft = CASES.map(graftRun);
// The plain TypeScript reference backend on the two matmuls, for scale.
const wasmBackend = setCpuBackend('reference');
const reference = CASES.filter((c) => c.kind === 'matmul').map(graftRun);
setCpuBackend(wasmBackend);
setNumThreads(1);
const torch = torchRun();

console.log(`@graft/tensor CPU backend, float32, ${threads} thread(s); GFLOP/s (median of repeats)`);
if (torch)
  console.log(
    `PyTorch ${torch.version} on the same shapes with torch.set_num_threads(${THREADS}) (child process)`,
  );
else console.log('PyTorch not available (/usr/bin/python3 -c "import torch" failed): graft figures only');
console.log('');
const header = `${'shape'.padEnd(40)}${col('graft', 10)}${col('per core', 10)}${torch ? col('PyTorch', 10) + col('graft/PyTorch', 15) : ''}`;
console.log(header);
console.log('-'.repeat(header.length));
CASES.forEach((c, i) => {
  const g = gflops(c, graft[i]);
  let line = `${c.name.padEnd(40)}${col(g.toFixed(2), 10)}${col((g / threads).toFixed(2), 10)}`;
  if (torch) {
    const t = gflops(c, torch.seconds[i]);
    line += col(t.toFixed(2), 10) + col(`${(g / t).toFixed(2)}x`, 15);
  }
  console.log(line);
});
console.log('');
CASES.filter((c) => c.kind === 'matmul').forEach((c, i) => {
  console.log(
    `${`${c.name} (TypeScript reference kernel, 1 thread)`.padEnd(60)}${col(gflops(c, reference[i]).toFixed(2), 8)}`,
  );
});
