// Batch-norm statistics from the convolution's output pass (the `conv2dStats` kernel) against batch
// norm's own statistics pass: conv2d (weight requiring grad) + training batch norm forward on each kind
// of convolution ResNet-18 has at 224 x 224 (the stem, the 3x3 stride-1 and stride-2 ones, the 1x1
// stride-2 downsamples), batch 16, 2 threads. Layer4's 7x7 planes are under STATS_MIN_P positions and
// decline on both sides: their rows measure the noise. The "plain" side registers a
// conv2dStats that declines every case, so conv2d runs without statistics and batch norm computes its
// own; the same build, the same work otherwise. Each side runs in a process of its own, alternating,
// BENCH_PAIRS pairs (default 3); printed: each side's median ms per layer and the median of the pair
// ratios (plain / stats, above 1 when the fused statistics are faster).
// Usage: node bench/conv-bn.mjs after a build.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { STATS_MIN_P } from '../dist/cpu/wasm/backend.js';
import {
  batchNorm,
  conv2d,
  getBackend,
  ones,
  randn,
  registerKernel,
  setNumThreads,
  zeros,
} from '../dist/index.js';

// [name, input channels, output channels, input size, kernel, stride, padding]
const LAYERS = [
  ['stem 7x7/2 3->64 224', 3, 64, 224, 7, 2, 3],
  ['layer1 3x3 64ch 56', 64, 64, 56, 3, 1, 1],
  ['layer2.0 3x3/2 64->128', 64, 128, 56, 3, 2, 1],
  ['layer2.0 1x1/2 64->128', 64, 128, 56, 1, 2, 0],
  ['layer2 3x3 128ch 28', 128, 128, 28, 3, 1, 1],
  ['layer3.0 3x3/2 128->256', 128, 256, 28, 3, 2, 1],
  ['layer3.0 1x1/2 128->256', 128, 256, 28, 1, 2, 0],
  ['layer3 3x3 256ch 14', 256, 256, 14, 3, 1, 1],
  ['layer4.0 3x3/2 256->512', 256, 512, 14, 3, 2, 1],
  ['layer4.0 1x1/2 256->512', 256, 512, 14, 1, 2, 0],
  ['layer4 3x3 512ch 7', 512, 512, 7, 3, 1, 1],
];

function side(mode) {
  setNumThreads(2);
  if (mode === 'plain') registerKernel(getBackend('cpu'), 'conv2dStats', () => null);
  const out = [];
  for (const [, C, O, H, K, stride, padding] of LAYERS) {
    const x = randn([16, C, H, H]);
    const w = randn([O, C, K, K], { requiresGrad: true });
    const rm = zeros([O]);
    const rv = ones([O]);
    const f = () => {
      const y = conv2d(x, w, null, { stride, padding });
      batchNorm(y, rm, rv, null, null, { training: true }).dispose();
      y.dispose();
    };
    for (let i = 0; i < 3; i++) f();
    const ts = [];
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      f();
      ts.push(performance.now() - t);
    }
    ts.sort((a, b) => a - b);
    out.push(ts[7]);
  }
  return out;
}

if (process.argv[2] === '--side') {
  console.log(JSON.stringify(side(process.argv[3])));
  process.exit(0);
}

const run = (mode) => {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--side', mode], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`conv-bn side ${mode} failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
};
const pairs = Number(process.env.BENCH_PAIRS ?? 3);
const stats = [];
const plain = [];
for (let i = 0; i < pairs; i++) {
  // The order flips every pair.
  if (i % 2 === 0) {
    stats.push(run('stats'));
    plain.push(run('plain'));
  } else {
    plain.push(run('plain'));
    stats.push(run('stats'));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `conv2d + training batch norm forward, batch 16, 2 threads: ms (median of 15 calls), ${pairs} alternating pairs`,
);
console.log(
  `${'layer'.padEnd(36)}${'stats in conv'.padStart(15)}${'own pass'.padStart(10)}${'ratio'.padStart(8)}`,
);
// Layers whose output planes are under STATS_MIN_P positions decline conv2dStats: both sides run the
// same code there, so their ratios show the noise.
for (const [i, [name, , , H, K, stride, padding]] of LAYERS.entries()) {
  const out = Math.floor((H + 2 * padding - K) / stride) + 1;
  const label = out * out < STATS_MIN_P ? `${name} (declines)` : name;
  const a = median(stats.map((s) => s[i]));
  const b = median(plain.map((s) => s[i]));
  const ratio = median(stats.map((s, j) => plain[j][i] / s[i]));
  console.log(
    `${label.padEnd(36)}${a.toFixed(2).padStart(15)}${b.toFixed(2).padStart(10)}${`${ratio.toFixed(3)}x`.padStart(8)}`,
  );
}
