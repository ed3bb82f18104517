// graft evaluate: accuracy, per-class precision/recall and the confusion matrix of a run's model.

import { Generator, setNumThreads } from '@graft/tensor';
import { setupData } from '../data-setup.js';
import { CliError } from '../errors.js';
import { classificationReport, formatReport } from '../metrics.js';
import { loadRunModel, readRunConfig } from '../run-model.js';
import { evaluateModel } from '../trainer.js';

export async function runEvaluate(opts: {
  run: string;
  data?: string;
  checkpoint?: string;
  batchSize: string;
  json?: boolean;
}): Promise<void> {
  const cfg = await readRunConfig(opts.run);
  const batchSize = Number(opts.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new CliError(
      `invalid value for --batch-size: expected a positive integer, got '${opts.batchSize}'`,
    );
  setNumThreads(cfg.threads ?? 2);
  const data = await setupData(opts.data ?? cfg.data, {
    imageSize: cfg.imageSize,
    augment: false,
    valSplit: cfg.valSplit,
    generator: new Generator(cfg.seed),
  });
  if (data.classes.length !== cfg.numClasses) {
    throw new CliError(
      `--data has ${data.classes.length} classes but the run was trained on ${cfg.numClasses} (${cfg.classes.join(', ')})`,
    );
  }
  const model = await loadRunModel(opts.run, cfg, opts.checkpoint);
  const r = await evaluateModel(model, data.val, batchSize);
  const report = classificationReport(r.truth, r.predicted, cfg.classes, r.loss);
  process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
}
