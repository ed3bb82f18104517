// The convolutions of ResNet-18 at 32x32, batch 20 (the CLI fine-tune demo) one geometry at a time on
// the WebAssembly backend: forward, input gradient and weight gradient, ms per call (median of REPS)
// and GFLOP/s (2 * multiply-adds of the full kernel / time). Env: B (20), THREADS (2), REPS (15),
// ONLY (substring of a geometry label), WINOGRAD=0 to turn the Winograd paths off.
//   cd packages/tensor && node bench/small-conv.mjs
import { getBackend, manualSeed, randn, setNumThreads } from '../dist/index.js';

setNumThreads(Number(process.env.THREADS ?? 2));
manualSeed(0);
const B = Number(process.env.B ?? 20);
const REPS = Number(process.env.REPS ?? 15);
const be = getBackend('cpu');
if (process.env.WINOGRAD === '0') be.winograd = false;
// [C, H, O, K, stride, padding]
const GEOMETRIES = [
  [3, 32, 64, 7, 2, 3],
  [64, 8, 64, 3, 1, 1],
  [64, 8, 128, 3, 2, 1],
  [128, 4, 128, 3, 1, 1],
  [128, 4, 256, 3, 2, 1],
  [256, 2, 256, 3, 1, 1],
  [256, 2, 512, 3, 2, 1],
  [512, 1, 512, 3, 1, 1],
  [64, 8, 128, 1, 2, 0],
  [256, 2, 512, 1, 2, 0],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(fn) {
  for (let i = 0; i < 2; i++) fn().dispose();
  const ts = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const r = fn();
    ts.push(performance.now() - t0);
    r.dispose();
  }
  return median(ts);
}
for (const [C, H, O, K, s, pad] of GEOMETRIES) {
  const label = `${O}x${C}x${K}x${K} in ${H}x${H} s${s}`;
  if (process.env.ONLY && !label.includes(process.env.ONLY)) continue;
  const OH = Math.floor((H + 2 * pad - K) / s) + 1;
  const x = randn(B, C, H, H);
  const w = randn(O, C, K, K);
  const g = randn(B, O, OH, OH);
  const p = { stride: [s, s], padding: [pad, pad], dilation: [1, 1], groups: 1 };
  const out = [B, O, OH, OH];
  const gflop = (2 * B * O * C * K * K * OH * OH) / 1e9;
  const t = [
    time(() => be.conv2d(x._view, w._view, p, out)),
    time(() => be.conv2dBackwardInput(g._view, w._view, p, x.shape)),
    time(() => be.conv2dBackwardWeight(x._view, g._view, p, w.shape)),
  ];
  const cell = (ms) => `${ms.toFixed(3).padStart(7)} ms ${((gflop / ms) * 1e3).toFixed(1).padStart(5)} GF/s`;
  console.log(`${label.padEnd(24)} fwd ${cell(t[0])}  dx ${cell(t[1])}  dw ${cell(t[2])}`);
}
