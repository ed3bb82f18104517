// graft export-torch: writes a PyTorch script beside a run's checkpoint that rebuilds its model, parameter
// groups, optimizer and schedule, restores them from last.pth and continues training (python or torchrun).

import { dirname, join, relative, resolve } from 'node:path';
import type { Linear, Module } from '@graft/nn';
import type { Optimizer } from '@graft/optim';
import type { PyValue } from '@graft/serialize';
import { extractStateDict, readCheckpointFile } from '../checkpoint-files.js';
import { CliError, messageOf } from '../errors.js';
import { applyFreeze, buildModel, frozenBatchNorms } from '../model-setup.js';
import { buildOptimizer, buildScheduler, type Scheduler } from '../optim-setup.js';
import { writeText } from '../run-files.js';
import { type RunConfig, readRunConfig } from '../run-model.js';
import { type TorchScriptRecipe, torchScript } from '../torch-script.js';

export interface TrainingRebuild {
  model: Module;
  head: Linear;
  headPrefix: string;
  optimizer: Optimizer;
  scheduler: Scheduler | null;
  /** BatchNorm layers kept in eval mode while training (--bn eval). */
  evalBatchNorms: Module[];
}

/** A run's model, freezing, optimizer and schedule as `graft finetune` builds them (random weights). */
export async function rebuildTraining(cfg: RunConfig, stepsPerEpoch: number): Promise<TrainingRebuild> {
  const setup = await buildModel({ ...cfg, weights: 'none' }, cfg.numClasses);
  applyFreeze(setup, cfg.freeze, cfg.head === 'cut');
  const optimizer = buildOptimizer(setup.model, setup.headPrefix, cfg);
  const scheduler = buildScheduler(optimizer, cfg, stepsPerEpoch);
  return {
    model: setup.model,
    head: setup.head,
    headPrefix: setup.headPrefix,
    optimizer,
    scheduler,
    evalBatchNorms: cfg.bn === 'eval' ? frozenBatchNorms(setup.model) : [],
  };
}

/** Loads a graft training checkpoint into a rebuild, as `graft finetune --resume` does. */
export function restoreTraining(t: TrainingRebuild, ckpt: PyValue, path: string): void {
  const r = ckpt as Record<string, PyValue>;
  t.model.loadStateDict(extractStateDict(r, path));
  t.optimizer.loadStateDict(r.optimizer as never);
  if (t.scheduler && r.scheduler) t.scheduler.loadStateDict(r.scheduler as never);
}

/** The shortest name prefixes that cover exactly the frozen parameters (`layer1`, not its 15 tensors). */
export function frozenPrefixes(model: Module): string[] {
  const named = [...model.namedParameters()];
  const out: string[] = [];
  const under = (p: string, n: string) => n === p || n.startsWith(`${p}.`);
  for (const [name, param] of named) {
    if (param.requiresGrad || out.some((p) => under(p, name))) continue;
    const parts = name.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      if (named.every(([n, p]) => !under(prefix, n) || !p.requiresGrad)) {
        out.push(prefix);
        break;
      }
    }
  }
  return out;
}

function groupSizesOf(ckpt: PyValue, path: string): number[] {
  const groups = (ckpt as { optimizer?: { param_groups?: unknown } }).optimizer?.param_groups;
  if (!Array.isArray(groups) || !groups.every((g) => Array.isArray((g as { params?: unknown }).params))) {
    throw new CliError(`${path} is not a graft training checkpoint (it has no optimizer state)`);
  }
  return groups.map((g) => (g as { params: unknown[] }).params.length);
}

/** Builds the script's recipe from a run folder and its checkpoint, checking that they agree. */
export async function torchRecipe(
  run: string,
  checkpoint: string,
  scriptDir: string,
): Promise<TorchScriptRecipe> {
  const cfg = await readRunConfig(run);
  const file = await readCheckpointFile(checkpoint, 'checkpoint');
  const groupSizes = groupSizesOf(file.value, checkpoint);
  let t: TrainingRebuild;
  try {
    t = await rebuildTraining(cfg, 1);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--run ${run}: cannot rebuild the run from its config.json: ${messageOf(e)}`);
  }
  const sizes = t.optimizer.paramGroups.map((g) => g.params.length);
  if (sizes.join(',') !== groupSizes.join(',')) {
    throw new CliError(
      `${checkpoint} does not fit ${join(run, 'config.json')}: parameter groups of [${groupSizes.join(', ')}] parameters, the config gives [${sizes.join(', ')}]`,
    );
  }
  return {
    model: cfg.model,
    head: cfg.head,
    numClasses: cfg.numClasses,
    classes: cfg.classes,
    headPrefix: t.headPrefix,
    frozenPrefixes: frozenPrefixes(t.model),
    bn: cfg.bn,
    optimizer: cfg.optimizer,
    lr: cfg.lr,
    headLr: cfg.headLr,
    momentum: cfg.momentum,
    nesterov: cfg.nesterov,
    weightDecay: cfg.weightDecay,
    scheduler: cfg.scheduler,
    warmup: cfg.warmup,
    stepSize: cfg.stepSize,
    gamma: cfg.gamma,
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    imageSize: cfg.imageSize,
    augment: cfg.augment,
    valSplit: cfg.valSplit,
    seed: cfg.seed,
    amp: cfg.amp ?? false,
    data: cfg.data,
    checkpoint: relative(resolve(scriptDir), resolve(checkpoint)).split('\\').join('/'),
    groupSizes,
  };
}

/** Writes RUN/train_torch.py (or `output`); returns its path. */
export async function runExportTorch(
  run: string,
  opts: { checkpoint?: string; output?: string },
): Promise<string> {
  const checkpoint = opts.checkpoint ?? join(run, 'last.pth');
  const output = opts.output ?? join(run, 'train_torch.py');
  const recipe = await torchRecipe(run, checkpoint, dirname(output));
  await writeText(output, torchScript(recipe));
  return output;
}
