// The playground's training worker: loads the shipped network and images, fine-tunes on request, reports
// every step to the page, and classifies dropped images with the latest model. The page never blocks.

import { decodeImage } from '@graft/data';
import type { StateDict } from '@graft/nn';
import { readSafetensors } from '@graft/serialize';
import { type Device, initWebGpu } from '@graft/tensor';
import { type Example, fineTune, type Normalization, predict, type Recipe } from './fine-tune';
import type { SmallNet } from './small-net';

/** What the page sends. */
export type TrainRequest =
  | { type: 'init'; base: string }
  | { type: 'train'; recipe: Recipe; device: Device; steps: number; extra: Example[] }
  | { type: 'stop' }
  | { type: 'predict'; id: number; images: Uint8Array[] };

/** What the worker answers. */
export type TrainEvent =
  | { type: 'ready'; classes: string[]; pretrainedClasses: string[]; train: number; val: number }
  | { type: 'device'; device: Device; detail: string }
  | { type: 'step'; step: number; loss: number; msPerStep: number }
  | { type: 'eval'; step: number; accuracy: number }
  | { type: 'done'; steps: number; stopped: boolean; seconds: number }
  | { type: 'predictions'; id: number; probabilities: number[][] }
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
let trained: { model: SmallNet; device: Device } | null = null;
let stopRequested = false;
let webgpu: Promise<string> | null = null;

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
  post({
    type: 'ready',
    classes: index.classes,
    pretrainedClasses: index.pretrained.classes,
    train: train.length,
    val: val.length,
  });
}

async function ensureDevice(device: Device): Promise<string> {
  if (device === 'cpu') return 'CPU backend (WebAssembly kernels, one thread)';
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
  post({ type: 'device', device: request.device, detail: await ensureDevice(request.device) });
  const started = performance.now();
  let last = started;
  const result = await fineTune({
    recipe: request.recipe,
    steps: request.steps,
    device: request.device,
    pretrained: data.pretrained,
    numClasses: data.classes.length,
    train: [...data.train, ...request.extra],
    val: data.val,
    norm: data.norm,
    evalEvery: 2,
    onStep: (step, loss) => {
      const now = performance.now();
      post({ type: 'step', step, loss, msPerStep: now - last });
      last = now;
    },
    onEval: (step, accuracy) => post({ type: 'eval', step, accuracy }),
    shouldStop: () => stopRequested,
  });
  trained = { model: result.model, device: request.device };
  post({
    type: 'done',
    steps: result.steps,
    stopped: result.stopped,
    seconds: (performance.now() - started) / 1000,
  });
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
      if (!trained || !data) throw new Error('fine-tune first: predictions come from the trained model');
      const probabilities = await predict(trained.model, request.images, data.norm, trained.device);
      post({ type: 'predictions', id: request.id, probabilities });
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
