// Rebuilding a fine-tuned run's model from OUT/config.json and a weights file, for evaluate and predict.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Module } from '@graft/nn';
import { extractStateDict, readCheckpointFile } from './checkpoint-files.js';
import { CliError, messageOf } from './errors.js';
import { buildModel } from './model-setup.js';
import type { FinetuneOptions } from './options.js';

export type RunConfig = FinetuneOptions & { classes: string[]; numClasses: number };

export async function readRunConfig(run: string): Promise<RunConfig> {
  const path = join(run, 'config.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunConfig;
  } catch (e) {
    throw new CliError(
      `--run ${run}: cannot read ${path} (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not a finetune output folder' : messageOf(e)})`,
    );
  }
}

/** The run's architecture and head, with weights from `checkpoint` (default: RUN/best.safetensors). */
export async function loadRunModel(run: string, cfg: RunConfig, checkpoint?: string): Promise<Module> {
  const setup = await buildModel({ ...cfg, weights: 'none' }, cfg.numClasses);
  const path = checkpoint ?? join(run, 'best.safetensors');
  const file = await readCheckpointFile(path, 'weights');
  try {
    setup.model.loadStateDict(extractStateDict(file.value, path));
  } catch (e) {
    throw new CliError(
      `${path} does not fit the run's ${cfg.model} (${cfg.head} head, ${cfg.numClasses} classes): ${messageOf(e)}`,
    );
  }
  setup.model.eval();
  return setup.model;
}
