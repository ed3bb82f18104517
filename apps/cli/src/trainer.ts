// The training loop of `graft finetune`: epochs over a DataLoader, validation, per-step schedule,
// progress display, checkpoints after every epoch, Ctrl-C handling and exact resume; with a GradScaler,
// PyTorch's mixed-precision recipe (forward and loss under autocast, scaled backward, unscaled step).

import { DataLoader, type Dataset } from '@graft/data';
import { F, type Linear, type Module } from '@graft/nn';
import type { GradScaler, Optimizer } from '@graft/optim';
import {
  autocast,
  cat,
  type Device,
  type Generator,
  noGrad,
  randperm,
  type Tensor,
  tensor,
} from '@graft/tensor';
import { SingleBar } from 'cli-progress';
import type { EpochMetrics } from './metrics.js';
import type { Scheduler } from './optim-setup.js';

export interface TrainState {
  model: Module;
  head: Linear;
  optimizer: Optimizer;
  scheduler: Scheduler | null;
  /** Mixed precision (--amp): forward passes run under autocast and steps go through this scaler. */
  scaler: GradScaler | null;
  /** Shuffling (and augmentation) stream, saved in checkpoints for exact resume. */
  generator: Generator;
  /** BatchNorm layers kept in eval mode while training (--bn eval on frozen layers). */
  evalBatchNorms: Module[];
  metrics: EpochMetrics[];
  best: { epoch: number; accuracy: number } | null;
}

export interface TrainOptions {
  device: Device;
  epochs: number;
  batchSize: number;
  /** Validation (and validation feature caching) batch size. */
  valBatchSize: number;
  startEpoch: number;
  /** Train the head on cached backbone features (exact when the backbone is frozen and in eval mode). */
  cacheFeatures: boolean;
  tty: boolean;
  label: string;
  log: (line: string) => void;
  /** Called after every completed epoch (checkpoints, metrics files). */
  onEpoch: (row: EpochMetrics, improved: boolean) => Promise<void>;
  shouldStop: () => boolean;
}

type Batch = [Tensor, Tensor];

function setTrainMode(s: TrainState): void {
  s.model.train();
  for (const bn of s.evalBatchNorms) bn.eval();
}

/** `fn` under autocast on `device` when `amp`, else as is: float16 matmuls and convs, float32 losses. */
function maybeAutocast<T>(amp: boolean, device: Device, fn: () => T): T {
  return amp ? autocast(device, fn) : fn();
}

/** Readback is async so the same loop runs on CPU and WebGPU tensors. */
async function correctCount(logits: Tensor, y: Tensor): Promise<number> {
  return noGrad(() => logits.argmax(1).eq(y).sum()).item();
}

/** A dataset of precomputed (feature, label) batches. */
interface FeatureCache {
  train: { x: Tensor; y: Tensor };
  val: { x: Tensor; y: Tensor };
}

/** Runs the frozen backbone once over a dataset, capturing the head's inputs with a forward pre-hook. */
async function computeFeatures(
  s: TrainState,
  data: Dataset<[Tensor, number]>,
  batchSize: number,
  device: Device,
): Promise<{ x: Tensor; y: Tensor }> {
  const amp = s.scaler !== null;
  const feats: Tensor[] = [];
  const labels: Tensor[] = [];
  let captured: Tensor | null = null;
  const handle = s.head.registerForwardPreHook((_m, inputs) => {
    captured = inputs[0] as Tensor;
  });
  s.model.eval();
  try {
    for await (const [x, y] of new DataLoader(data, { batchSize, prefetch: 2 }) as AsyncIterable<Batch>) {
      // Under --amp the head's input is float16, as it is when the backbone runs every step.
      noGrad(() => maybeAutocast(amp, device, () => s.model.call(x.to(device))));
      feats.push(captured!);
      labels.push(y.to(device));
    }
  } finally {
    handle.remove();
  }
  return { x: cat(feats), y: cat(labels) };
}

export async function evaluateModel(
  model: Module,
  data: Dataset<[Tensor, number]>,
  batchSize: number,
  device: Device = 'cpu',
  amp = false,
): Promise<{ loss: number; accuracy: number; predicted: number[]; truth: number[] }> {
  model.eval();
  let loss = 0;
  let n = 0;
  const predicted: number[] = [];
  const truth: number[] = [];
  for await (const [x, y] of new DataLoader(data, { batchSize, prefetch: 2 }) as AsyncIterable<Batch>) {
    const [l, p] = noGrad(() =>
      maybeAutocast(amp, device, () => {
        const logits = model.call(x.to(device)) as Tensor;
        return [F.crossEntropy(logits, y.to(device), { reduction: 'sum' }), logits.argmax(1)];
      }),
    );
    loss += await l.item();
    predicted.push(...Array.from(await p.read()));
    truth.push(...Array.from(await y.read()));
    n += y.shape[0];
  }
  const correct = truth.reduce((c, t, i) => c + (t === predicted[i] ? 1 : 0), 0);
  return { loss: n ? loss / n : 0, accuracy: n ? correct / n : 0, predicted, truth };
}

/** Trains from `startEpoch` to `epochs`; returns false when stopped early (Ctrl-C). */
export async function train(
  s: TrainState,
  data: { train: Dataset<[Tensor, number]>; val: Dataset<[Tensor, number]> },
  o: TrainOptions,
): Promise<boolean> {
  const amp = s.scaler !== null;
  let cache: FeatureCache | null = null;
  if (o.cacheFeatures) {
    const t0 = performance.now();
    cache = {
      train: await computeFeatures(s, data.train, o.batchSize, o.device),
      val: await computeFeatures(s, data.val, o.valBatchSize, o.device),
    };
    o.log(
      `${o.label}cached backbone features of ${data.train.length + data.val.length} images in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
  }
  const steps = Math.ceil(data.train.length / o.batchSize);
  for (let epoch = o.startEpoch + 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    setTrainMode(s);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    const bar = o.tty
      ? new SingleBar({
          format: `${o.label}epoch ${epoch}/${o.epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {speed} img/s | ETA {eta}s`,
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
        })
      : null;
    bar?.start(steps, 0, { loss: '-', acc: '-', speed: '-' });
    const step = async (x: Tensor, y: Tensor, forward: (x: Tensor) => Tensor) => {
      const [logits, loss] = maybeAutocast(amp, o.device, () => {
        const z = forward(x);
        return [z, F.crossEntropy(z, y)] as const;
      });
      s.optimizer.zeroGrad();
      if (s.scaler) {
        // PyTorch's AMP recipe: backward outside autocast on the scaled loss; step() unscales the
        // gradients and skips the step when one is inf/NaN; update() adjusts the scale.
        s.scaler.scale(loss).backward();
        await s.scaler.step(s.optimizer);
        s.scaler.update();
      } else {
        loss.backward();
        s.optimizer.step();
      }
      s.scheduler?.step();
      const b = y.shape[0];
      lossSum += (await loss.item()) * b;
      correct += await correctCount(logits, y);
      seen += b;
      const secs = (performance.now() - t0) / 1000;
      bar?.increment({
        loss: (lossSum / seen).toFixed(4),
        acc: `${((100 * correct) / seen).toFixed(1)}%`,
        speed: (seen / secs).toFixed(1),
      });
    };
    if (cache) {
      // The same draw as DataLoader's shuffle, so cached and uncached runs see identical batches.
      const perm = Array.from(randperm(cache.train.y.shape[0], { generator: s.generator }).readSync());
      for (let i = 0; i < perm.length && !o.shouldStop(); i += o.batchSize) {
        const idx = perm.slice(i, i + o.batchSize);
        const it = tensor(idx);
        await step(
          cache.train.x.indexSelect(0, it.to(o.device)),
          cache.train.y.indexSelect(0, it.to(o.device)),
          (x) => s.head.call(x) as Tensor,
        );
      }
    } else {
      const loader = new DataLoader(data.train, {
        batchSize: o.batchSize,
        shuffle: true,
        generator: s.generator,
        prefetch: 2,
      });
      for await (const [x, y] of loader as AsyncIterable<Batch>) {
        await step(x.to(o.device), y.to(o.device), (xx) => s.model.call(xx) as Tensor);
        if (o.shouldStop()) break;
      }
    }
    bar?.stop();
    if (o.shouldStop()) return false;
    const trainSecs = (performance.now() - t0) / 1000;
    let val: { loss: number; accuracy: number };
    if (cache) {
      const c = cache;
      s.head.eval();
      const [logits, l] = noGrad(() =>
        maybeAutocast(amp, o.device, () => {
          const z = s.head.call(c.val.x) as Tensor;
          return [z, F.crossEntropy(z, c.val.y)];
        }),
      );
      val = { loss: await l.item(), accuracy: (await correctCount(logits, c.val.y)) / c.val.y.shape[0] };
    } else {
      val = await evaluateModel(s.model, data.val, o.valBatchSize, o.device, amp);
    }
    const row: EpochMetrics = {
      epoch,
      trainLoss: lossSum / Math.max(seen, 1),
      trainAccuracy: correct / Math.max(seen, 1),
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      lr: s.optimizer.paramGroups.map((g) => g.lr),
      seconds: (performance.now() - t0) / 1000,
      imagesPerSecond: seen / trainSecs,
    };
    s.metrics.push(row);
    const improved = !s.best || row.valAccuracy > s.best.accuracy;
    if (improved) s.best = { epoch, accuracy: row.valAccuracy };
    o.log(
      `${o.label}epoch ${epoch}/${o.epochs}  train loss ${row.trainLoss.toFixed(4)} acc ${(100 * row.trainAccuracy).toFixed(1)}%  ` +
        `val loss ${row.valLoss.toFixed(4)} acc ${(100 * row.valAccuracy).toFixed(1)}%  ${row.imagesPerSecond.toFixed(1)} img/s  ${row.seconds.toFixed(1)}s`,
    );
    await o.onEpoch(row, improved);
  }
  return true;
}
