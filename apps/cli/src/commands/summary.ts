// graft summary MODEL: the printed module tree and trainable/frozen parameter counts for a freeze choice.

import { summary } from '@graft/nn';
import { CliError } from '../errors.js';
import { applyFreeze, buildModel } from '../model-setup.js';

export async function runSummary(
  model: string,
  opts: { numClasses: string; head: string; freeze: string; json?: boolean },
): Promise<void> {
  if (!['resnet18', 'resnet34', 'resnet50'].includes(model)) {
    throw new CliError(`summary: unknown model '${model}' (expected resnet18, resnet34 or resnet50)`);
  }
  if (opts.head !== 'replace' && opts.head !== 'cut')
    throw new CliError(`invalid value for --head: expected replace or cut, got '${opts.head}'`);
  const numClasses = Number(opts.numClasses);
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new CliError(
      `invalid value for --num-classes: expected a positive integer, got '${opts.numClasses}'`,
    );
  const setup = await buildModel(
    { model: model as 'resnet18', weights: 'none', head: opts.head, init: 'default', seed: 0 },
    numClasses,
  );
  applyFreeze(setup, opts.freeze, opts.head === 'cut');
  const s = summary(setup.model);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ tree: String(setup.model), summary: { rows: s.rows, total: s.total, trainable: s.trainable, frozen: s.frozen } }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(`${String(setup.model)}\n\n${String(s)}\n`);
}
