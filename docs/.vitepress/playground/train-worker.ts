// The playground's training worker: loads the shipped network and images, starts the CPU backend's thread
// pool where the page is cross-origin isolated, fine-tunes on request (the shipped classes or your own),
// reports every step to the page, classifies images with the latest models and writes the model files.
// The page never blocks.

import { decodeImage } from '@graft/data';
import type { StateDict } from '@graft/nn';
import { readSafetensors } from '@graft/serialize';
import { type Device, getNumThreads, initWebGpu, setNumThreads, threadPoolStats } from '@graft/tensor';
import { type Example, fineTune, type Normalization, predict, type Recipe } from './fine-tune';
import { modelFiles } from './model-files';
import type { SmallNet } from './small-net';

/** Which model: the one trained on the shipped few-shot set, or the one trained on your own classes. */
export type ModelSet = 'shipped' | 'custom';

/** What the page sends. */
export type TrainRequest =
  | { type: 'init'; base: string }
  | {
      type: 'train';
      recipe: Recipe;
      device: Device;
      /** CPU threads (1 to the pool's maximum); ignored on WebGPU. */
      threads: number;
      steps: number;
      /** The shipped set plus these images, or `custom` alone. */
      extra: Example[];
      custom?: { classes: string[]; examples: Example[] };
    }
  | { type: 'stop' }
  | { type: 'predict'; id: number; set: ModelSet; images: Uint8Array[] }
  | { type: 'export' };

/** What the worker answers. */
export type TrainEvent =
  | {
      type: 'ready';
      classes: string[];
      pretrainedClasses: string[];
      train: number;
      val: number;
      /** Whether this worker is cross-origin isolated (shared memory), and the most CPU threads it can use. */
      isolated: boolean;
      maxThreads: number;
    }
  | { type: 'device'; device: Device; detail: string; threads: number }
  | { type: 'step'; step: number; loss: number; msPerStep: number }
  | { type: 'eval'; step: number; accuracy: number }
  | {
      type: 'done';
      set: ModelSet;
      steps: number;
      stopped: boolean;
      seconds: number;
      /** Threads the run used, tasks the pool's workers ran in it, and the median step time. */
      threads: number;
      workerTasks: number;
      medianMsPerStep: number;
    }
  | { type: 'predictions'; id: number; set: ModelSet; probabilities: number[][] }
  | { type: 'exported'; classes: string[]; safetensors: Uint8Array; pth: Uint8Array }
  | { type: 'error'; message: string };

interface Index {
  classes: string[];
  train: [string, number][];
  val: [string, number][];
  mean: number;
  std: number;
  pretrained: { file: string; classes: string[] };
}

const post = (event: TrainEvent) => (self as unknown as Worker).postMessage(event);

let data: {
  train: Example[];
  val: Example[];
  classes: string[];
  norm: Normalization;
  pretrained: StateDict;
} | null = null;
const trained: Record<ModelSet, { model: SmallNet; device: Device; classes: string[] } | null> = {
  shipped: null,
  custom: null,
};
let stopRequested = false;
let webgpu: Promise<string> | null = null;
/** The pool's size when isolated: every core, at most 8 (a small network gains nothing from more). */
const maxThreads = self.crossOriginIsolated
  ? Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1))
  : 1;

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url.pathname}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function load(base: string): Promise<void> {
  const root = new URL('playground/', base);
  const response = await fetch(new URL('index.json', root));
  if (!response.ok) throw new Error(`cannot fetch the playground's index.json: HTTP ${response.status}`);
  const index = (await response.json()) as Index;
  const decode = async ([path, label]: [string, number]): Promise<Example> => {
    const image = await decodeImage(await fetchBytes(new URL(path, root)), { mode: 'L', name: path });
    return { pixels: image.data, label };
  };
  const [train, val, weights] = await Promise.all([
    Promise.all(index.train.map(decode)),
    Promise.all(index.val.map(decode)),
    fetchBytes(new URL(index.pretrained.file, root)),
  ]);
  data = {
    train,
    val,
    classes: index.classes,
    norm: { mean: index.mean, std: index.std },
    pretrained: readSafetensors(weights).tensors,
  };
  // The pool's workers start once this worker yields, well before the first training step.
  setNumThreads(maxThreads);
  post({
    type: 'ready',
    classes: index.classes,
    pretrainedClasses: index.pretrained.classes,
    train: train.length,
    val: val.length,
    isolated: self.crossOriginIsolated,
    maxThreads: getNumThreads(),
  });
}

async function ensureDevice(device: Device, threads: number): Promise<string> {
  if (device === 'cpu') {
    if (!Number.isInteger(threads) || threads < 1 || threads > maxThreads) {
      throw new Error(`threads: expected an integer from 1 to ${maxThreads}, got ${threads}`);
    }
    if (threads !== getNumThreads()) setNumThreads(threads);
    const n = getNumThreads();
    // New pool workers start once this worker yields; until they are ready it runs every task itself.
    for (let waited = 0; threadPoolStats().workersReady < n - 1 && waited < 3000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return `CPU backend (WebAssembly kernels, ${n === 1 ? 'one thread' : `${n} threads`})`;
  }
  webgpu ??= initWebGpu().then(({ adapterInfo: a }) => {
    const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ');
    return `WebGPU backend${name ? ` (${name})` : ''}`;
  });
  try {
    return await webgpu;
  } catch (e) {
    webgpu = null;
    throw e;
  }
}

async function train(request: Extract<TrainRequest, { type: 'train' }>): Promise<void> {
  if (!data) throw new Error('the playground data is not loaded yet');
  stopRequested = false;
  const detail = await ensureDevice(request.device, request.threads);
  const threads = request.device === 'cpu' ? getNumThreads() : 1;
  post({ type: 'device', device: request.device, detail, threads });
  const set: ModelSet = request.custom ? 'custom' : 'shipped';
  const classes = request.custom ? request.custom.classes : data.classes;
  const tasksBefore = threadPoolStats().workerTasks;
  const stepTimes: number[] = [];
  const started = performance.now();
  const result = await fineTune({
    recipe: request.recipe,
    steps: request.steps,
    device: request.device,
    pretrained: data.pretrained,
    numClasses: classes.length,
    train: request.custom ? request.custom.examples : [...data.train, ...request.extra],
    val: request.custom ? [] : data.val,
    norm: data.norm,
    evalEvery: 2,
    onStep: (step, loss, ms) => {
      stepTimes.push(ms);
      post({ type: 'step', step, loss, msPerStep: ms });
    },
    onEval: (step, accuracy) => post({ type: 'eval', step, accuracy }),
    shouldStop: () => stopRequested,
  });
  trained[set] = { model: result.model, device: request.device, classes };
  post({
    type: 'done',
    set,
    steps: result.steps,
    stopped: result.stopped,
    seconds: (performance.now() - started) / 1000,
    threads,
    workerTasks: threadPoolStats().workerTasks - tasksBefore,
    medianMsPerStep: median(stepTimes),
  });
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function handle(request: TrainRequest): Promise<void> {
  switch (request.type) {
    case 'init':
      return load(request.base);
    case 'train':
      return train(request);
    case 'stop':
      stopRequested = true;
      return;
    case 'predict': {
      const model = trained[request.set];
      if (!model || !data) throw new Error('fine-tune first: predictions come from the trained model');
      const probabilities = await predict(model.model, request.images, data.norm, model.device);
      post({ type: 'predictions', id: request.id, set: request.set, probabilities });
      return;
    }
    case 'export': {
      const model = trained.custom;
      if (!model || !data)
        throw new Error('fine-tune on your own classes first: there is no model to download');
      const files = await modelFiles(model.model, model.classes, data.norm);
      post({ type: 'exported', classes: model.classes, ...files });
      return;
    }
    default: {
      const never: never = request;
      throw new Error(`unknown request ${JSON.stringify(never)}`);
    }
  }
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

self.addEventListener('message', (event: MessageEvent<TrainRequest>) => {
  handle(event.data).catch((e: unknown) => post({ type: 'error', message: describe(e) }));
});
self.addEventListener('unhandledrejection', (event) =>
  post({ type: 'error', message: describe(event.reason) }),
);
