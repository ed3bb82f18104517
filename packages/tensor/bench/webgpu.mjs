// WebGPU benchmark: a ResNet-18 conv stack (inference, and one SGD training step) on graft's WebGPU
// backend in float32 and under autocast (float16 matmul/conv, float32 softmax/loss, a static loss scale),
// and, on the same adapter in the same run, on @tensorflow/tfjs-backend-webgpu (float32); prints img/s,
// the adapter and the ratios.
//
//   node --expose-gc bench/webgpu.mjs          (after `pnpm build`; sizes shrink on software adapters)
//   node --expose-gc bench/webgpu.mjs --full   (batch 16 at 224x224 on any adapter: the reference setting)
//   BENCH_SIZE=224 BENCH_BATCH=8 BENCH_ITERS=5 node bench/webgpu.mjs
//
// graft runs the model the way @graft/models' ResNet and @graft/optim's SGD do: BatchNorm(-add)-ReLU
// as one fusedBatchNorm in training (nn's bnAct), Conv-BatchNorm(-add)-ReLU as one fusedConv2d with the
// BatchNorm folded per call in eval (nn's convBnEval), one sgdUpdate_ per parameter; it prints its kernel
// launches and queue submits per inference and per training step. BENCH_UNFUSED=1 runs graft op by op.
//
// On a software adapter (lavapipe, SwiftShader) the defaults are 32x32 images, batch 2: such runs say
// how the two libraries compare in dispatch overhead and kernel quality, not what a GPU does.

import { create, globals } from 'webgpu';
import {
  adaptiveAvgPool2d,
  autocast,
  batchNorm,
  conv2d,
  crossEntropy,
  fusedBatchNorm,
  fusedConv2d,
  initWebGpu,
  linear,
  manualSeed,
  maxPool2d,
  noGrad,
  ones,
  randn,
  sgdUpdate_,
  tensor,
  zeros,
} from '../dist/index.js';

const gpu = create([]);
const backend = await initWebGpu({ gpu });
const info = backend.adapterInfo;
const software = /software|swiftshader|llvmpipe|lavapipe/i.test(
  `${info.architecture} ${info.description} ${info.device}`,
);
const full = process.argv.includes('--full');
const SIZE = Number(process.env.BENCH_SIZE ?? (software && !full ? 32 : 224));
const BATCH = Number(process.env.BENCH_BATCH ?? (software && !full ? 2 : 16));
const ITERS = Number(process.env.BENCH_ITERS ?? 3);
const FUSED = process.env.BENCH_UNFUSED !== '1';
const CLASSES = 10;
const WIDTHS = [64, 128, 256, 512];

console.log(
  `adapter: ${info.vendor} / ${info.architecture} / ${info.description || info.device}` +
    ` (shader-f16: ${backend.shaderF16 ? 'yes' : 'no'})`,
);
console.log(
  `ResNet-18 conv stack, input [${BATCH}, 3, ${SIZE}, ${SIZE}], ${CLASSES} classes, median of ${ITERS} after a warm-up`,
);

async function median(fn) {
  await fn();
  const times = [];
  for (let i = 0; i < ITERS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// ---- graft ----

function graftModel() {
  manualSeed(0);
  const params = new Map();
  const buffers = new Map();
  const conv = (name, o, i, k) =>
    params.set(
      name,
      randn([o, i, k, k])
        .mul(Math.sqrt(2 / (i * k * k)))
        .to('webgpu')
        .requiresGrad_(),
    );
  const bn = (name, c) => {
    params.set(`${name}.w`, ones([c], { device: 'webgpu' }).requiresGrad_());
    params.set(`${name}.b`, zeros([c], { device: 'webgpu' }).requiresGrad_());
    buffers.set(`${name}.rm`, zeros([c], { device: 'webgpu' }));
    buffers.set(`${name}.rv`, ones([c], { device: 'webgpu' }));
  };
  conv('conv1', 64, 3, 7);
  bn('bn1', 64);
  let inC = 64;
  WIDTHS.forEach((w, s) => {
    for (let b = 0; b < 2; b++) {
      const p = `l${s}.${b}`;
      conv(`${p}.c1`, w, b === 0 ? inC : w, 3);
      bn(`${p}.n1`, w);
      conv(`${p}.c2`, w, w, 3);
      bn(`${p}.n2`, w);
      if (b === 0 && s > 0) {
        conv(`${p}.down`, w, inC, 1);
        bn(`${p}.nd`, w);
      }
    }
    inC = w;
  });
  params.set('fc.w', randn([CLASSES, 512]).mul(0.05).to('webgpu').requiresGrad_());
  params.set('fc.b', zeros([CLASSES], { device: 'webgpu' }).requiresGrad_());
  return { params, buffers };
}

/** The forward as @graft/models' ResNet runs it with module fusion on (bnAct, convBnEval). */
function graftForwardFused(m, x, training) {
  const p = (n) => m.params.get(n);
  const rm = (n) => m.buffers.get(`${n}.rm`);
  const rv = (n) => m.buffers.get(`${n}.rv`);
  const block = (input, conv, n, convOpts, epilogue = {}) => {
    if (training) {
      return fusedBatchNorm(conv2d(input, p(conv), null, convOpts), rm(n), rv(n), p(`${n}.w`), p(`${n}.b`), {
        training,
        ...epilogue,
      });
    }
    // convBnEval: the BatchNorm folded into a per-channel scale and shift on every call.
    const scale = p(`${n}.w`).mul(rv(n).add(1e-5).rsqrt());
    const shift = p(`${n}.b`).sub(rm(n).mul(scale));
    return fusedConv2d(input, p(conv), { ...convOpts, scale, shift, ...epilogue });
  };
  let h = block(x, 'conv1', 'bn1', { stride: 2, padding: 3 }, { relu: true });
  h = maxPool2d(h, 3, { stride: 2, padding: 1 });
  WIDTHS.forEach((_, s) => {
    for (let b = 0; b < 2; b++) {
      const q = `l${s}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      const r = block(h, `${q}.c1`, `${q}.n1`, { stride, padding: 1 }, { relu: true });
      const skip = m.params.has(`${q}.down`) ? block(h, `${q}.down`, `${q}.nd`, { stride: 2 }) : h;
      h = block(r, `${q}.c2`, `${q}.n2`, { padding: 1 }, { residual: skip, relu: true });
    }
  });
  return linear(adaptiveAvgPool2d(h, 1).flatten(1), p('fc.w'), p('fc.b'));
}

function graftForward(m, x, training) {
  if (FUSED) return graftForwardFused(m, x, training);
  const p = (n) => m.params.get(n);
  const norm = (n, t) =>
    batchNorm(t, m.buffers.get(`${n}.rm`), m.buffers.get(`${n}.rv`), p(`${n}.w`), p(`${n}.b`), { training });
  let h = norm('bn1', conv2d(x, p('conv1'), null, { stride: 2, padding: 3 })).relu();
  h = maxPool2d(h, 3, { stride: 2, padding: 1 });
  WIDTHS.forEach((_, s) => {
    for (let b = 0; b < 2; b++) {
      const q = `l${s}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      let r = norm(`${q}.n1`, conv2d(h, p(`${q}.c1`), null, { stride, padding: 1 })).relu();
      r = norm(`${q}.n2`, conv2d(r, p(`${q}.c2`), null, { padding: 1 }));
      const skip = m.params.has(`${q}.down`)
        ? norm(`${q}.nd`, conv2d(h, p(`${q}.down`), null, { stride: 2 }))
        : h;
      h = r.add(skip).relu();
    }
  });
  return linear(adaptiveAvgPool2d(h, 1).flatten(1), p('fc.w'), p('fc.b'));
}

const model = graftModel();
const x = randn([BATCH, 3, SIZE, SIZE]).to('webgpu');
const labels = Array.from({ length: BATCH }, (_, i) => i % CLASSES);
const y = tensor(labels, { dtype: 'int64' }).to('webgpu');
const momentum = new Map();
const SGD = { lr: 0.01, momentum: 0.9, dampening: 0, nesterov: false, maximize: false, weightDecay: 0 };

// Under autocast the loss is scaled by a fixed 1024 and the gradients unscaled in the update: the
// arithmetic of @graft/optim's GradScaler without its one-scalar readback per step.
const LOSS_SCALE = 1024;
const maybeAutocast = (amp, fn) => (amp ? autocast('webgpu', fn) : fn());
const graftInfer = (amp) => () =>
  noGrad(() => maybeAutocast(amp, () => graftForward(model, x, false))).read();
const graftTrain = (amp) => async () => {
  const loss = maybeAutocast(amp, () => crossEntropy(graftForward(model, x, true), y));
  (amp ? loss.mul(LOSS_SCALE) : loss).backward();
  const unscale = amp ? 1 / LOSS_SCALE : 1;
  noGrad(() => {
    for (const [name, p] of model.params) {
      const g = unscale === 1 ? p.grad : p.grad.mul(unscale);
      const buf = momentum.get(name);
      if (FUSED) momentum.set(name, sgdUpdate_(p, g, buf ?? null, SGD));
      else if (buf) buf.mul_(0.9).add_(g);
      else momentum.set(name, g.clone());
      if (!FUSED) p.sub_(momentum.get(name).mul(0.01));
      p.grad = null;
    }
  });
  return loss.item();
};

const perSecond = (ms) => (BATCH / (ms / 1000)).toFixed(1);
const graft = { infer: await median(graftInfer(false)), train: await median(graftTrain(false)) };
console.log(
  `graft float32:  inference ${graft.infer.toFixed(1)} ms (${perSecond(graft.infer)} img/s), ` +
    `training step ${graft.train.toFixed(1)} ms (${perSecond(graft.train)} img/s)`,
);
/** Kernel launches and queue submits of one call of `fn` (the backend's counters around it). */
async function counted(fn) {
  const a = backend.launchStats();
  await fn();
  const b = backend.launchStats();
  return `${b.launches - a.launches} launches, ${b.submits - a.submits} submits`;
}
console.log(
  `graft float32:  per inference ${await counted(graftInfer(false))}; ` +
    `per training step ${await counted(graftTrain(false))}${FUSED ? '' : ' (unfused)'}`,
);
if (backend.shaderF16) {
  const amp = { infer: await median(graftInfer(true)), train: await median(graftTrain(true)) };
  console.log(
    `graft autocast: inference ${amp.infer.toFixed(1)} ms (${perSecond(amp.infer)} img/s), ` +
      `training step ${amp.train.toFixed(1)} ms (${perSecond(amp.train)} img/s); ` +
      `float32/autocast ${(graft.infer / amp.infer).toFixed(2)}x, ${(graft.train / amp.train).toFixed(2)}x`,
  );
} else {
  console.log("graft autocast: not measured (the adapter has no 'shader-f16')");
}
console.log(
  `graft pool: ${(backend.memory().allocatedBytes / 2 ** 20).toFixed(1)} MiB allocated` +
    (typeof globalThis.gc === 'function'
      ? ' (collections requested under --expose-gc)'
      : ' (run with node --expose-gc to let the pool request collections)'),
);

// ---- tfjs-backend-webgpu on the same adapter ----

async function loadTfjs() {
  try {
    Object.assign(globalThis, globals);
    if (!globalThis.navigator?.gpu) {
      Object.defineProperty(globalThis, 'navigator', {
        value: { gpu, userAgent: 'node' },
        configurable: true,
      });
    }
    const tf = await import('@tensorflow/tfjs-core');
    // tfjs-core's Node bundle registers no gradients; its ESM gradient files use extensionless
    // imports, which a small resolve hook completes (the @tensorflow/tfjs union would do the same).
    const { register } = await import('node:module');
    register(
      `data:text/javascript,${encodeURIComponent(`export async function resolve(s, c, next) {
        try { return await next(s, c); } catch (e) {
          if (!s.startsWith('.') || !c.parentURL?.includes('tfjs-core')) throw e;
          try { return await next(s + '.js', c); } catch { return next(s + '/index.js', c); }
        }
      }`)}`,
    );
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return { why: 'tf.setBackend("webgpu") returned false' };
    await tf.ready();
    return { tf };
  } catch (e) {
    return { why: `could not load @tensorflow/tfjs-core + @tensorflow/tfjs-backend-webgpu: ${e.message}` };
  }
}

const { tf, why } = await loadTfjs();
if (!tf) {
  console.log(`tfjs-backend-webgpu not measured: ${why}`);
  process.exit(0);
}

function tfModel() {
  tf.setBackend('webgpu');
  const v = new Map();
  const conv = (name, o, i, k) =>
    v.set(
      name,
      tf.variable(tf.mul(tf.randomNormal([k, k, i, o], 0, 1, 'float32', 1), Math.sqrt(2 / (i * k * k)))),
    );
  const bn = (name, c) => {
    v.set(`${name}.w`, tf.variable(tf.ones([c])));
    v.set(`${name}.b`, tf.variable(tf.zeros([c])));
  };
  conv('conv1', 64, 3, 7);
  bn('bn1', 64);
  let inC = 64;
  WIDTHS.forEach((w, s) => {
    for (let b = 0; b < 2; b++) {
      const p = `l${s}.${b}`;
      conv(`${p}.c1`, w, b === 0 ? inC : w, 3);
      bn(`${p}.n1`, w);
      conv(`${p}.c2`, w, w, 3);
      bn(`${p}.n2`, w);
      if (b === 0 && s > 0) {
        conv(`${p}.down`, w, inC, 1);
        bn(`${p}.nd`, w);
      }
    }
    inC = w;
  });
  v.set('fc.w', tf.variable(tf.mul(tf.randomNormal([512, CLASSES], 0, 1, 'float32', 2), 0.05)));
  v.set('fc.b', tf.variable(tf.zeros([CLASSES])));
  return v;
}

function tfForward(v, xs) {
  const norm = (n, t) => {
    const { mean, variance } = tf.moments(t, [0, 1, 2]);
    return tf.batchNorm(t, mean, variance, v.get(`${n}.b`), v.get(`${n}.w`), 1e-5);
  };
  let h = tf.relu(norm('bn1', tf.conv2d(xs, v.get('conv1'), 2, 3)));
  h = tf.maxPool(
    tf.pad(
      h,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      Number.NEGATIVE_INFINITY,
    ),
    3,
    2,
    'valid',
  );
  WIDTHS.forEach((_, s) => {
    for (let b = 0; b < 2; b++) {
      const q = `l${s}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      let r = tf.relu(norm(`${q}.n1`, tf.conv2d(h, v.get(`${q}.c1`), stride, 1)));
      r = norm(`${q}.n2`, tf.conv2d(r, v.get(`${q}.c2`), 1, 1));
      const skip = v.has(`${q}.down`) ? norm(`${q}.nd`, tf.conv2d(h, v.get(`${q}.down`), 2, 0)) : h;
      h = tf.relu(tf.add(r, skip));
    }
  });
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), v.get('fc.w')), v.get('fc.b'));
}

const tv = tfModel();
const txs = tf.randomNormal([BATCH, SIZE, SIZE, 3]);
const tys = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);
const opt = tf.train.momentum(0.01, 0.9);
const tfInfer = async () => {
  const out = tf.tidy(() => tfForward(tv, txs));
  await out.data();
  out.dispose();
};
const tfTrain = async () => {
  const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(tys, tfForward(tv, txs)), true);
  await cost.data();
  cost.dispose();
};
const tfjs = { infer: await median(tfInfer), train: await median(tfTrain) };
console.log(
  `tfjs float32:   inference ${tfjs.infer.toFixed(1)} ms (${perSecond(tfjs.infer)} img/s), ` +
    `training step ${tfjs.train.toFixed(1)} ms (${perSecond(tfjs.train)} img/s)`,
);
console.log(
  `ratio tfjs/graft (above 1: graft faster): inference ${(tfjs.infer / graft.infer).toFixed(2)}x, training step ${(tfjs.train / graft.train).toFixed(2)}x`,
);
process.exit(0);
