// ResNet-18 at small inputs (the CLI fine-tune demo: 32x32, batch 20, 2 threads): ms per eval batch and
// per training step (SGD momentum, cross entropy, backward), and the convolutions' time by geometry
// and direction. Env: B (20), S (32), REPS (10), MODE (eval,train).
//   cd packages/models && node bench/small-convs.mjs
import { F, Linear } from '@graft/nn';
import { SGD } from '@graft/optim';
import {
  findKernel,
  getBackend,
  manualSeed,
  noGrad,
  randint,
  randn,
  registerKernel,
  setNumThreads,
  WasmCpuBackend,
} from '@graft/tensor';
import { resnet18 } from '../dist/index.js';
import { median } from './timing.mjs';

setNumThreads(Number(process.env.THREADS ?? 2));
manualSeed(0);
const B = Number(process.env.B ?? 20);
const S = Number(process.env.S ?? 32);
const REPS = Number(process.env.REPS ?? 10);
const MODES = (process.env.MODE ?? 'eval,train').split(',');
const totals = new Map();
let depth = 0;
const key = (dir, w, inShape, p) => `${dir} ${w.join('x')} in ${inShape.slice(2).join('x')} s${p.stride[0]}`;
function timed(k, f) {
  if (depth > 0) return f();
  depth++;
  const t0 = performance.now();
  try {
    return f();
  } finally {
    depth--;
    totals.set(k, (totals.get(k) ?? 0) + performance.now() - t0);
  }
}
const be = getBackend('cpu');
const ep = findKernel(be, 'conv2dEpilogue');
registerKernel(be, 'conv2dEpilogue', function (x, w, p, os, e) {
  return timed(key('fwd', w.shape, x.shape, p), () => ep.call(this, x, w, p, os, e));
});
const proto = WasmCpuBackend.prototype;
const wrap = (name, k) => {
  const f = proto[name];
  proto[name] = function (...a) {
    return timed(k(...a), () => f.apply(this, a));
  };
};
wrap('conv2d', (x, w, p) => key('fwd', w.shape, x.shape, p));
wrap('conv2dBackwardInput', (_g, w, p, inShape) => key('dx ', w.shape, inShape, p));
wrap('conv2dBackwardWeight', (x, _g, p, wShape) => key('dw ', wShape, x.shape, p));

// PROF=path: a CPU profile of the timed runs only (main thread), written to path.<mode>.cpuprofile.
let session = null;
async function profile(what, file) {
  const { Session } = await import('node:inspector/promises');
  if (!session) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
  }
  if (what === 'start') return session.post('Profiler.start');
  const { profile: p } = await session.post('Profiler.stop');
  (await import('node:fs')).writeFileSync(file, JSON.stringify(p));
}

const model = await resnet18();
model.fc = new Linear(512, 5);
const x = randn(B, 3, S, S);
const y = randint(0, 5, [B]);
const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const runs = {
  eval: async () => {
    const out = noGrad(() => model.call(x));
    await out.sum().item();
  },
  train: async () => {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.call(x), y);
    loss.backward();
    opt.step();
    await loss.item();
  },
};
for (const mode of MODES) {
  if (mode === 'eval') model.eval();
  else model.train();
  for (let i = 0; i < 3; i++) await runs[mode]();
  totals.clear();
  if (process.env.PROF) await profile('start');
  const ts = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    await runs[mode]();
    ts.push(performance.now() - t0);
  }
  if (process.env.PROF) await profile('stop', `${process.env.PROF}.${mode}.cpuprofile`);
  console.log(
    `${mode} batch ${B} ${S}x${S}: median ${median(ts).toFixed(1)} ms (min ${Math.min(...ts).toFixed(1)})`,
  );
  let sum = 0;
  for (const [k, v] of [...totals].sort((a, b) => b[1] - a[1])) {
    sum += v / REPS;
    console.log(`${(v / REPS).toFixed(2).padStart(8)} ms  ${k}`);
  }
  console.log(`${sum.toFixed(1).padStart(8)} ms  all convolutions`);
}
