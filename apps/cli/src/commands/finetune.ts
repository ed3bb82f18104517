// graft finetune: resolves options (defaults <- --config <- flags, or a checkpoint's config on --resume),
// builds data, model, optimizer and schedule, trains, and writes the run's files. With no --data it
// runs the offline demo: a Fashion-MNIST-pretrained ResNet-18 fine-tuned on a few-shot split of
// unseen classes, next to the same recipe from scratch.

import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summary } from '@graft/nn';
import { GradScaler, type GradScalerStateDict } from '@graft/optim';
import { orderedDict, type PyValue, saveInBackground } from '@graft/serialize/node';
import { defaultGenerator, Generator, initWebGpu, manualSeed, setNumThreads } from '@graft/tensor';
import { extractStateDict, readCheckpointFile, saveStateDict } from '../checkpoint-files.js';
import { type DataSetup, setupData } from '../data-setup.js';
import { CliError, messageOf } from '../errors.js';
import { applyFreeze, buildModel, frozenBatchNorms } from '../model-setup.js';
import { buildOptimizer, buildScheduler } from '../optim-setup.js';
import { coerce, FINETUNE_OPTIONS, type FinetuneOptions, readConfigFile } from '../options.js';
import { PendingWrites, prepareOut, writeMetrics, writeStatus, writeText } from '../run-files.js';
import { type TrainState, train } from '../trainer.js';

export const DEMO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../demo');
export const DEMO_WEIGHTS = join(DEMO_DIR, 'resnet18-fashion-0to4.safetensors');

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

const DEFAULTS: Omit<FinetuneOptions, 'data' | 'out' | 'imageSize'> = {
  model: 'resnet18',
  weights: 'imagenet',
  numClasses: null,
  head: 'replace',
  init: 'default',
  freeze: 'none',
  bn: 'train',
  optimizer: 'sgd',
  lr: 0.01,
  headLr: null,
  momentum: 0.9,
  nesterov: false,
  weightDecay: 1e-4,
  scheduler: 'cosine',
  warmup: 0,
  stepSize: 7,
  gamma: 0.1,
  epochs: 5,
  batchSize: 32,
  valBatchSize: null,
  valSplit: 0.2,
  augment: false,
  onCorrupt: 'error',
  cacheFeatures: 'auto',
  device: 'cpu',
  amp: false,
  threads: Math.min(4, availableParallelism()),
  seed: 0,
  resume: null,
  compareScratch: false,
  json: false,
};

/** The demo's recipe: every layer trains, the new head at 10x the body's learning rate. */
const DEMO: Partial<FinetuneOptions> = {
  weights: DEMO_WEIGHTS,
  data: `fashion-mnist:${DEMO_DIR}`,
  imageSize: 32,
  init: 'xavier-uniform',
  epochs: 6,
  batchSize: 20,
  // Validation in batches of 100: a third less time per image at 32x32 than in batches of 20.
  valBatchSize: 100,
  lr: 0.005,
  headLr: 0.05,
  weightDecay: 5e-4,
  compareScratch: true,
};

type Given = Partial<Record<keyof FinetuneOptions | 'config', unknown>>;

function fromFlags(given: Given): Partial<FinetuneOptions> {
  const out: Partial<Record<keyof FinetuneOptions, unknown>> = {};
  for (const spec of FINETUNE_OPTIONS)
    if (given[spec.key] !== undefined) out[spec.key] = coerce(spec, given[spec.key], 'command line');
  return out as Partial<FinetuneOptions>;
}

interface Resolved {
  options: FinetuneOptions;
  demo: boolean;
  resume: PyValue | null;
}

async function resolveOptions(given: Given): Promise<Resolved> {
  const flags = fromFlags(given);
  const file = typeof given.config === 'string' ? await readConfigFile(given.config) : {};
  let base: Partial<FinetuneOptions> = { ...DEFAULTS };
  let resume: PyValue | null = null;
  const resumePath = flags.resume ?? file.resume ?? null;
  if (resumePath) {
    const ckpt = await readCheckpointFile(resumePath, '--resume checkpoint');
    const cfg = (ckpt.value as { config?: unknown }).config;
    if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) {
      throw new CliError(
        `--resume ${resumePath} is not a graft training checkpoint (it has no 'config' entry)`,
      );
    }
    base = { ...base, ...(cfg as Partial<FinetuneOptions>), out: dirname(resumePath) };
    resume = ckpt.value;
  }
  const merged = { ...base, ...file, ...flags } as Partial<FinetuneOptions>;
  const demo = !resume && merged.data === undefined;
  const options = { ...(demo ? { ...merged, ...DEMO, ...file, ...flags } : merged) } as FinetuneOptions;
  options.resume = resumePath;
  if (!options.out) options.out = join('runs', `${demo ? 'demo' : 'finetune'}-${timestamp()}`);
  return { options, demo, resume };
}

interface RunResult {
  out: string;
  bestAccuracy: number;
  bestEpoch: number;
  finalAccuracy: number;
  seconds: number;
  completed: boolean;
  parameterGroups: number;
}

async function runOne(
  o: FinetuneOptions,
  data: DataSetup,
  out: string,
  label: string,
  resume: PyValue | null,
  log: (s: string) => void,
): Promise<RunResult> {
  const t0 = performance.now();
  const numClasses = o.numClasses ?? data.classes.length;
  if (o.numClasses !== null && o.numClasses !== data.classes.length) {
    throw new CliError(
      `--num-classes ${o.numClasses} disagrees with the data, which has ${data.classes.length} classes (${data.classes.join(', ')})`,
    );
  }
  const setup = await buildModel(o, numClasses);
  // Before the optimizer exists: moving replaces the parameter tensors.
  if (o.device !== 'cpu') setup.model.to(o.device);
  const frozen = applyFreeze(setup, o.freeze, o.head === 'cut');
  const evalBatchNorms = o.bn === 'eval' ? frozenBatchNorms(setup.model) : [];
  const backboneFrozen = [...setup.model.namedParameters()].every(
    ([n, p]) => n.startsWith(setup.headPrefix) || !p.requiresGrad,
  );
  const backboneEvalOnly = frozenBatchNorms(setup.model).length === evalBatchNorms.length || o.bn === 'eval';
  const cacheable = backboneFrozen && backboneEvalOnly && !data.randomTrain && o.bn === 'eval';
  if (o.cacheFeatures === 'on' && !cacheable) {
    throw new CliError(
      '--cache-features on needs --freeze backbone, --bn eval and no --augment (so the backbone output never changes)',
    );
  }
  const cacheFeatures = o.cacheFeatures === 'on' || (o.cacheFeatures === 'auto' && cacheable);
  const optimizer = buildOptimizer(setup.model, setup.headPrefix, o);
  const stepsPerEpoch = Math.ceil(data.train.length / o.batchSize);
  const scheduler = buildScheduler(optimizer, o, stepsPerEpoch);
  const generator = new Generator(o.seed + 1);
  const scaler = o.amp ? new GradScaler() : null;
  const state: TrainState = {
    model: setup.model,
    head: setup.head,
    optimizer,
    scheduler,
    scaler,
    generator,
    evalBatchNorms,
    metrics: [],
    best: null,
  };
  let startEpoch = 0;
  if (resume) {
    const r = resume as Record<string, PyValue>;
    setup.model.loadStateDict(extractStateDict(r, o.resume ?? 'checkpoint'));
    optimizer.loadStateDict(r.optimizer as never);
    if (scheduler && r.scheduler) scheduler.loadStateDict(r.scheduler as never);
    // A checkpoint of a float32 run (or one PyTorch wrote) has no scaler state: the scaler starts afresh.
    const scalerState = r.scaler as Partial<GradScalerStateDict> | null | undefined;
    const hasScaler = !!scalerState && Object.keys(scalerState).length > 0;
    if (scaler && hasScaler) {
      try {
        scaler.loadStateDict(scalerState);
      } catch (e) {
        throw new CliError(`--resume ${o.resume}: cannot restore the GradScaler of --amp: ${messageOf(e)}`);
      }
    } else if (hasScaler) {
      log(
        `${label}note: ${o.resume} holds the GradScaler of an --amp run (scale ${scalerState.scale}); without --amp this run trains in float32 and its checkpoints do not keep that scaler`,
      );
    }
    const rng = r.rng as { loader: number[]; global: number[] };
    generator.setState(rng.loader);
    defaultGenerator.setState(rng.global);
    startEpoch = r.epoch as number;
    state.metrics = (r.metrics as unknown as TrainState['metrics']) ?? [];
    state.best = (r.best as TrainState['best']) ?? null;
    log(`${label}resuming from ${o.resume} after epoch ${startEpoch}`);
  }
  await prepareOut(out, resume !== null);
  const config = { ...o, out, resume: null, numClasses, classes: data.classes } as Record<string, unknown>;
  await writeText(join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await writeStatus(out, 'running', { epoch: startEpoch });
  log(
    `${label}${o.model} from ${setup.weightsFrom}; head ${o.head} -> ${numClasses} classes; ${frozen.length} frozen tensors; ${data.train.length} train / ${data.val.length} val images`,
  );
  if (!o.json) log(`${label}${String(optimizer).split('\n').join(`\n${label}`)}`);
  if (scaler) {
    log(
      `${label}mixed precision (--amp): forward and loss under autocast (float16 on ${o.device}), backward through a GradScaler (scale ${scaler.getScale()})`,
    );
  }
  if (cacheFeatures) log(`${label}backbone frozen in eval mode: training the head on cached features`);
  // Checkpoints and run files are staged at each epoch's end and made durable while the next trains.
  const pending = new PendingWrites();
  const saveLast = async (epoch: number) => {
    const ckpt = {
      epoch,
      model: orderedDict({ ...setup.model.stateDict() }),
      optimizer: optimizer.stateDict(),
      scheduler: scheduler ? scheduler.stateDict() : null,
      scaler: scaler ? scaler.stateDict() : null,
      rng: { loader: generator.getState(), global: defaultGenerator.getState() },
      config,
      metrics: state.metrics,
      best: state.best,
    };
    pending.add(await saveInBackground(ckpt as never, join(out, 'last.pth')));
  };
  if (!resume) await saveLast(0);
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write(`\n${label}stopping after this batch (Ctrl-C again to quit now)...\n`);
  };
  process.on('SIGINT', onSigint);
  let completed: boolean;
  try {
    completed = await train(state, data, {
      device: o.device,
      epochs: o.epochs,
      batchSize: o.batchSize,
      valBatchSize: o.valBatchSize ?? o.batchSize,
      startEpoch,
      cacheFeatures,
      tty: Boolean(process.stderr.isTTY) && !o.json,
      label,
      log,
      shouldStop: () => stop,
      onEpoch: async (row, improved) => {
        await pending.settle();
        if (improved) {
          const metadata = {
            classes: JSON.stringify(data.classes),
            model: o.model,
            head: o.head,
            epoch: String(row.epoch),
            val_accuracy: String(row.valAccuracy),
          };
          await saveStateDict(setup.model.stateDict(), join(out, 'best.safetensors'), metadata, pending);
        }
        await saveLast(row.epoch);
        await writeMetrics(out, state.metrics, `${o.model} ${label.trim() || 'finetune'}`, pending);
        await writeStatus(out, 'running', { epoch: row.epoch }, pending);
      },
    });
    await pending.settle();
  } catch (e) {
    // The training error is the one to report; a background write that also failed is settled first.
    await pending.settle().catch(() => undefined);
    await writeStatus(out, 'failed', { error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const last = state.metrics[state.metrics.length - 1];
  await writeStatus(out, completed ? 'complete' : 'interrupted', {
    epoch: last?.epoch ?? startEpoch,
    best: state.best,
  });
  if (!completed) {
    log(`${label}interrupted; resume with: graft finetune --resume ${join(out, 'last.pth')}`);
    process.exitCode = 130;
  }
  void summary;
  return {
    out,
    bestAccuracy: state.best?.accuracy ?? 0,
    bestEpoch: state.best?.epoch ?? 0,
    finalAccuracy: last?.valAccuracy ?? 0,
    seconds: (performance.now() - t0) / 1000,
    completed,
    parameterGroups: optimizer.paramGroups.length,
  };
}

export async function runFinetuneCommand(given: Given): Promise<void> {
  const { options: o, demo, resume } = await resolveOptions(given);
  const log = (s: string) => (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  if (o.amp && o.device !== 'webgpu') {
    throw new CliError(
      `--amp runs the forward pass in float16 on a GPU, and --device is ${o.device}: autocast on the CPU would compute in bfloat16, which graft's CPU convolutions do not take; use --device webgpu (an adapter with 'shader-f16'), or leave --amp out`,
    );
  }
  if (o.device === 'webgpu') {
    let backend: Awaited<ReturnType<typeof initWebGpu>>;
    try {
      backend = await initWebGpu();
    } catch (e) {
      throw new CliError(`--device webgpu: ${messageOf(e)}`);
    }
    const adapter =
      backend.adapterInfo.description || backend.adapterInfo.device || backend.adapterInfo.vendor;
    log(`WebGPU adapter: ${adapter}`);
    if (o.amp && !backend.shaderF16) {
      throw new CliError(
        `--amp needs float16, and the WebGPU adapter ${adapter} does not offer the 'shader-f16' feature: leave --amp out (float32), or run on an adapter that has it`,
      );
    }
  }
  setNumThreads(o.threads);
  manualSeed(o.seed);
  const generator = new Generator(o.seed);
  const isIdx = o.data.startsWith('fashion-mnist');
  const imageSize = o.imageSize ?? (isIdx ? 32 : 224);
  o.imageSize = imageSize;
  const data = await setupData(o.data, {
    imageSize,
    augment: o.augment,
    valSplit: o.valSplit,
    generator,
    onCorrupt: o.onCorrupt,
  });
  for (const path of data.skipped) log(`skipped corrupt image ${path}`);
  if (demo) {
    log(
      'graft demo: a ResNet-18 pretrained on Fashion-MNIST classes 0-4 (T-shirt, trouser, pullover, dress, coat),',
    );
    log(
      `fine-tuned on ${data.train.length} images of five classes it never saw (${data.classes.join(', ')}),`,
    );
    log(
      `validated on ${data.val.length}${o.compareScratch ? '; then the same recipe from random weights' : ''}. Outputs in ${o.out}/`,
    );
  }
  const results: { label: string; r: RunResult }[] = [];
  if (o.compareScratch && !resume) {
    results.push({
      label: 'pretrained',
      r: await runOne(o, data, join(o.out, 'pretrained'), '[pretrained] ', null, log),
    });
    if (results[0].r.completed) {
      manualSeed(o.seed);
      results.push({
        label: 'from scratch',
        r: await runOne({ ...o, weights: 'none' }, data, join(o.out, 'scratch'), '[scratch] ', null, log),
      });
    }
  } else {
    results.push({ label: 'finetune', r: await runOne(o, data, o.out, '', resume, log) });
  }
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ options: o, runs: results.map(({ label, r }) => ({ label, ...r })) }, null, 2)}\n`,
    );
    return;
  }
  log('');
  const w = Math.max(...results.map((x) => x.label.length), 12);
  log(`${''.padEnd(24)}${results.map((x) => x.label.padStart(w + 2)).join('')}`);
  log(
    `${'best val accuracy'.padEnd(24)}${results.map((x) => `${(100 * x.r.bestAccuracy).toFixed(1)}%`.padStart(w + 2)).join('')}`,
  );
  log(
    `${'final val accuracy'.padEnd(24)}${results.map((x) => `${(100 * x.r.finalAccuracy).toFixed(1)}%`.padStart(w + 2)).join('')}`,
  );
  log(`${'time'.padEnd(24)}${results.map((x) => `${x.r.seconds.toFixed(0)}s`.padStart(w + 2)).join('')}`);
  for (const { r } of results)
    log(`files: ${r.out}/{best.safetensors,last.pth,metrics.csv,metrics.json,plot.svg,config.json}`);
}
