// The slips people make in a --config file and on the command line: an unknown key or flag is refused with
// the option it was probably meant to be. The torch-side names are PyTorch's keyword arguments
// (DataLoader(batch_size), SGD(weight_decay, nesterov), StepLR(step_size, gamma), torchvision's num_classes).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from './options.js';
import { type GraftRun, runGraft } from './test-utils/run-graft.js';

const dir = mkdtempSync(join(tmpdir(), 'graft-config-slips-'));
let files = 0;

function configFile(text: string, ext = '.yaml'): string {
  const path = join(dir, `run-${files++}${ext}`);
  writeFileSync(path, text);
  return path;
}

function graft(args: string[]): Promise<GraftRun> {
  return runGraft(join(dir, 'graft-home'), args);
}

describe('--config keys', () => {
  // PyTorch keyword (snake_case) -> the config key and flag graft spells it with.
  const torchToFlag: [string, string][] = [
    ['batch_size', 'batch-size'],
    ['val_batch_size', 'val-batch-size'],
    ['weight_decay', 'weight-decay'],
    ['step_size', 'step-size'],
    ['num_classes', 'num-classes'],
    ['image_size', 'image-size'],
    ['val_split', 'val-split'],
    ['head_lr', 'head-lr'],
    ['on_corrupt', 'on-corrupt'],
    ['cache_features', 'cache-features'],
    ['compare_scratch', 'compare-scratch'],
  ];

  it.each(torchToFlag)('%s is answered with %s, naming the file', async (key, flag) => {
    const path = configFile(`${key}: 1\n`);
    await expect(readConfigFile(path)).rejects.toThrow(
      `unknown option '${key}' in --config ${path}; did you mean '${flag}'?`,
    );
  });

  it('near misses, a camelCase key (answered in camelCase with its flag) and other trainers names', async () => {
    const cases: [string, string][] = [
      ['epoch', "did you mean 'epochs'?"],
      ['optimiser', "did you mean 'optimizer'?"],
      ['bach-size', "did you mean 'batch-size'?"],
      ['weightDecy', "did you mean 'weightDecay' (--weight-decay)?"],
      ['batchsize', "did you mean 'batch-size'?"],
      ['learning_rate', "did you mean 'lr'?"],
      ['learning-rate', "did you mean 'lr'?"],
      ['num_epochs', "did you mean 'epochs'?"],
    ];
    for (const [key, hint] of cases) {
      const path = configFile(JSON.stringify({ [key]: 1 }), '.json');
      await expect(readConfigFile(path)).rejects.toThrow(
        `unknown option '${key}' in --config ${path}; ${hint}`,
      );
    }
  });

  it('a key nothing is close to lists the valid keys', async () => {
    const path = configFile('colour: red\n');
    await expect(readConfigFile(path)).rejects.toThrow(
      `unknown option 'colour' in --config ${path}; valid keys are model, weights, data, num-classes,`,
    );
  });

  it('the keys it knows, kebab-case or camelCase, still load', async () => {
    const path = configFile('batch-size: 8\nweightDecay: 0.001\nhead_lr: 0.01\n');
    await expect(readConfigFile(path)).rejects.toThrow("'head_lr'");
    const ok = configFile('batch-size: 8\nweightDecay: 0.001\nheadLr: 0.01\nnesterov: true\n');
    expect(await readConfigFile(ok)).toEqual({
      batchSize: 8,
      weightDecay: 0.001,
      headLr: 0.01,
      nesterov: true,
    });
  });
});

describe('the built graft command', () => {
  it('prints a config slip as one error line and exits non-zero', async () => {
    const path = configFile(JSON.stringify({ epochs: 1, batch_size: 4 }), '.json');
    const r = await graft(['finetune', '--config', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `graft: error: unknown option 'batch_size' in --config ${path}; did you mean 'batch-size'?\n`,
    );
  });

  it('an unknown flag gets a did-you-mean too: snake_case, camelCase and typos', async () => {
    for (const [flag, meant] of [
      ['--batch_size', '--batch-size'],
      ['--weightDecay', '--weight-decay'],
      ['--step_size', '--step-size'],
      ['--epoch', '--epochs'],
    ]) {
      const r = await graft(['finetune', flag, '3']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`unknown option '${flag}'`);
      expect(r.stderr).toContain(`(Did you mean ${meant}?)`);
    }
  });
});
