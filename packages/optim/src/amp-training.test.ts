// Mixed precision end to end on WebGPU, on real Fashion-MNIST (Debian's dataset-fashion-mnist): a small
// CNN trained from the same start in float32 and under autocast + GradScaler reaches the same test
// accuracy (within 1 point) and holds about half the activation memory (0.51-0.55 of float32's, see
// the test).
// A reduced version of the fine-tune demo (ResNet-18 at 224x224 is hours on a software adapter).

import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import {
  autocast,
  batchNorm,
  conv2d,
  crossEntropy,
  Generator,
  initWebGpu,
  linear,
  maxPool2d,
  memoryStats,
  noGrad,
  ones,
  randn,
  type Tensor,
  tensor,
  webGpuBackend,
  zeros,
} from '@graft/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { GradScaler, SGD } from './index.js';

const ROOT = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const TRAIN = 2048;
const TEST = 2000;
const BATCH = 32;
const webgpuEnabled = process.env.GRAFT_WEBGPU_TESTS !== '0';

function idx(name: string, count: number): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = gunzipSync(readFileSync(`${ROOT}/${name}`));
  } catch (e) {
    throw new Error(
      `Fashion-MNIST not found at ${ROOT} (${(e as Error).message}): apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR`,
    );
  }
  const dims = bytes[3];
  const header = 4 + 4 * dims;
  const itemSize = dims === 3 ? 28 * 28 : 1;
  return new Uint8Array(bytes.buffer, bytes.byteOffset + header, count * itemSize);
}

/** Images [n, 1, 28, 28] normalised with Fashion-MNIST's mean and std, and int64 labels, on the GPU. */
function split(prefix: 'train' | 't10k', n: number): [Tensor, Tensor] {
  const px = idx(`${prefix}-images-idx3-ubyte.gz`, n);
  const x = tensor(Array.from(px, (v) => (v / 255 - 0.286) / 0.353)).reshape(n, 1, 28, 28);
  const y = tensor(Array.from(idx(`${prefix}-labels-idx1-ubyte.gz`, n)), { dtype: 'int64' });
  return [x.to('webgpu'), y.to('webgpu')];
}

interface Net {
  params: Tensor[];
  forward(x: Tensor, training: boolean): Tensor;
}

/** conv3x3(16)-BN-ReLU-pool, conv3x3(32)-BN-ReLU-pool, linear(10): the same weights for the same seed. */
function net(): Net {
  const g = new Generator(0);
  const conv = (o: number, i: number) =>
    randn([o, i, 3, 3], { generator: g })
      .mul(Math.sqrt(2 / (i * 9)))
      .to('webgpu')
      .requiresGrad_();
  const w1 = conv(16, 1);
  const w2 = conv(32, 16);
  const bn = (c: number) => ({
    w: ones([c], { device: 'webgpu' }).requiresGrad_(),
    b: zeros([c], { device: 'webgpu' }).requiresGrad_(),
    rm: zeros([c], { device: 'webgpu' }),
    rv: ones([c], { device: 'webgpu' }),
  });
  const [bn1, bn2] = [bn(16), bn(32)];
  const fc = randn([10, 32 * 7 * 7], { generator: g })
    .mul(0.02)
    .to('webgpu')
    .requiresGrad_();
  const fcb = zeros([10], { device: 'webgpu' }).requiresGrad_();
  const block = (x: Tensor, w: Tensor, n: typeof bn1, training: boolean) =>
    maxPool2d(batchNorm(conv2d(x, w, null, { padding: 1 }), n.rm, n.rv, n.w, n.b, { training }).relu(), 2);
  return {
    params: [w1, w2, bn1.w, bn1.b, bn2.w, bn2.b, fc, fcb],
    forward: (x, training) =>
      linear(block(block(x, w1, bn1, training), w2, bn2, training).flatten(1), fc, fcb),
  };
}

// Node's collector on demand, so live bytes count what is reachable, not garbage awaiting collection.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Live GPU bytes once unreachable tensors are collected and their buffers returned to the pool. */
async function liveAfterCollection(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 10));
  }
  return memoryStats('webgpu').live;
}

interface Run {
  accuracy: number;
  stepMs: number;
  activationBytes: number;
}

async function train(mixed: boolean, data: { x: Tensor; y: Tensor; tx: Tensor; ty: Tensor }): Promise<Run> {
  // Start from an empty free list: the pool hands a request a free buffer up to twice its size, so float16
  // tensors would otherwise sit in the float32 run's larger buffers.
  await liveAfterCollection();
  webGpuBackend().trimPool();
  const model = net();
  const opt = new SGD(model.params, { lr: 0.05 });
  const scaler = new GradScaler({ enabled: mixed });
  const run = <T>(fn: () => T) => (mixed ? autocast('webgpu', fn) : fn());
  const times: number[] = [];
  let activationBytes = 0;
  for (let s = 0; s < TRAIN / BATCH; s++) {
    const t0 = performance.now();
    const xb = data.x.slice(0, s * BATCH, (s + 1) * BATCH);
    const yb = data.y.slice(0, s * BATCH, (s + 1) * BATCH);
    opt.zeroGrad();
    const before = s === 20 ? await liveAfterCollection() : 0;
    // An empty free list: every buffer of the forward pass is then its own size's (no larger one reused).
    if (s === 20) webGpuBackend().trimPool();
    const loss = run(() => crossEntropy(model.forward(xb, true), yb));
    // What the graph holds for backward (activations, weight casts, saved statistics), garbage collected.
    if (s === 20) activationBytes = (await liveAfterCollection()) - before;
    scaler.scale(loss).backward();
    await scaler.step(opt);
    scaler.update();
    await loss.item();
    times.push(performance.now() - t0);
  }
  let correct = 0;
  for (let s = 0; s < TEST / 200; s++) {
    const logits = noGrad(() => run(() => model.forward(data.tx.slice(0, s * 200, (s + 1) * 200), false)));
    correct += await logits
      .argmax(1)
      .eq(data.ty.slice(0, s * 200, (s + 1) * 200))
      .sum()
      .item();
  }
  times.sort((a, b) => a - b);
  return { accuracy: correct / TEST, stepMs: times[Math.floor(times.length / 2)], activationBytes };
}

describe.skipIf(!webgpuEnabled)('mixed precision training on webgpu (Fashion-MNIST subset)', () => {
  let data: { x: Tensor; y: Tensor; tx: Tensor; ty: Tensor };
  beforeAll(async () => {
    await initWebGpu();
    const [x, y] = split('train', TRAIN);
    const [tx, ty] = split('t10k', TEST);
    data = { x, y, tx, ty };
  }, 60_000);

  it('autocast + GradScaler reaches the float32 accuracy within 1 point with less activation memory', async () => {
    const f32 = await train(false, data);
    const amp = await train(true, data);
    console.log(
      `Fashion-MNIST ${TRAIN} train / ${TEST} test, batch ${BATCH}, 1 epoch: ` +
        `float32 accuracy ${(100 * f32.accuracy).toFixed(1)}%, step ${f32.stepMs.toFixed(0)} ms, activations ${f32.activationBytes} B; ` +
        `autocast ${(100 * amp.accuracy).toFixed(1)}%, step ${amp.stepMs.toFixed(0)} ms, activations ${amp.activationBytes} B ` +
        `(ratio ${(amp.activationBytes / f32.activationBytes).toFixed(3)})`,
    );
    expect(f32.accuracy).toBeGreaterThan(0.7);
    expect(Math.abs(amp.accuracy - f32.accuracy)).toBeLessThanOrEqual(0.01);
    // What the graph keeps for backward, per step of batch 32: each block's convolution output (batch
    // norm's input: in both runs WebGPU's fused batch-norm kernels keep only that, plus C float32
    // statistics), the ReLU output, the max-pool output (the next layer's input) and its indices, and
    // under autocast the float16 casts of the input and weights. All but the indices halve; the indices
    // are int32 in both runs (PyTorch's are int64 in both, so they cannot halve there either), 602,112 B
    // of the float32 run's, which keeps the ratio above 0.5. Measured on lavapipe: 0.74 with float16
    // batch norm on the composite path (which kept the input and the normalised input: float32
    // 5,966,400 B, autocast 4,428,576 B), 0.51 with the fused float16 kernels (autocast 3,052,608 B); the
    // float32 figure varies between runs with the collector's timing (5,507,648 B in one run: 0.55).
    expect(amp.activationBytes / f32.activationBytes).toBeLessThan(0.6);
  }, 600_000);

  it('a float16 copy of the parameters takes half the bytes of a float32 copy', () => {
    const model = net();
    const bytesOf = (copy: () => Tensor[]) => {
      const before = memoryStats('webgpu').live;
      const kept = copy();
      const bytes = memoryStats('webgpu').live - before;
      for (const t of kept) t.dispose();
      return bytes;
    };
    const floatBytes = bytesOf(() => model.params.map((p) => p.detach().clone()));
    const halfBytes = bytesOf(() => model.params.map((p) => p.detach().half()));
    console.log(`parameters: float32 ${floatBytes} B, float16 ${halfBytes} B (pool buckets)`);
    expect(halfBytes / floatBytes).toBeLessThanOrEqual(0.51);
  });
});
