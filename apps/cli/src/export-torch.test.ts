// `graft export-torch` against PyTorch: a run continued for 3 steps in graft matches the same 3 steps taken
// by the generated script in PyTorch 1.13 (fixtures from scripts/golden/continue_in_torch.py), for an SGD run
// (two groups, warm-up then StepLR, replaced head) and an AdamW run (cut head, frozen BatchNorm in eval mode).

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { F } from '@graft/nn';
import { load, type PyValue } from '@graft/serialize/node';
import { type Tensor, tensor } from '@graft/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpointFile } from './checkpoint-files.js';
import { frozenPrefixes, rebuildTraining, restoreTraining } from './commands/export-torch.js';
import { type RunConfig, readRunConfig } from './run-model.js';
import { pyLiteral } from './torch-script.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, '..', 'bin', 'graft.js');
const FIXTURES = join(HERE, '..', 'fixtures', 'continue-in-torch');
const REGENERATE = 'regenerate with /usr/bin/python3 scripts/golden/continue_in_torch.py';
const STEPS_PER_EPOCH = 2;
const BATCH = 8;
const IMAGE_SIZE = 64;

type Named = Record<string, Tensor>;
interface Snapshot {
  params: Named;
  /** Optimizer state per parameter: momentum_buffer, or step / exp_avg / exp_avg_sq. */
  state: Record<string, Named>;
  buffers: Named;
}
interface Golden {
  steps: number;
  start: Snapshot;
  end: Snapshot;
  losses: Tensor;
  lrs: Tensor;
  nextLrs: Tensor;
  optimizer: PyValue;
  scheduler: PyValue;
}

function graft(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The golden generator's fixed batch of a step: float64 values rounded to float32. */
function batch(step: number): [Tensor, Tensor] {
  const n = BATCH * 3 * IMAGE_SIZE * IMAGE_SIZE;
  const x = new Float32Array(n);
  for (let k = 0; k < n; k++) x[k] = 1.5 * Math.sin(0.37 * k + 1.3 * step + 1);
  const y = Array.from({ length: BATCH }, (_, i) => (i + step) % 3);
  return [tensor(x).reshape(BATCH, 3, IMAGE_SIZE, IMAGE_SIZE), tensor(y, { dtype: 'int64' })];
}

const values = (t: unknown): number[] =>
  typeof t === 'number' ? [t] : Array.from((t as Tensor).readSync() as ArrayLike<number | bigint>, Number);

/** Every element within `tol`, relative to the reference where it exceeds 1. */
function expectClose(actual: number[], expected: number[], what: string, tol = 1e-4): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst, `${what}: largest difference from PyTorch`).toBeLessThanOrEqual(tol);
}

interface Case {
  name: string;
  /** Lines of the generated script that carry this run's recipe. */
  lines: string[];
}

const CASES: Case[] = [
  {
    name: 'sgd-warmup-step',
    lines: [
      'FROZEN_PREFIXES = ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4.0", "layer4.1.conv1", "layer4.1.bn1", "layer4.1.conv2"]',
      'HEAD_PREFIX = "fc."',
      'GROUP_SIZES = [2, 2]',
      'HEAD_LR = 0.01',
      'SCHEDULER = "step"',
      'CHECKPOINT = os.path.join(HERE, "last.pth")',
      'DATA = "fashion-mnist:data"',
    ],
  },
  {
    name: 'adamw-cut',
    lines: [
      'FROZEN_PREFIXES = ["0", "1", "4", "5", "6", "7.0", "7.1.conv1", "7.1.bn1", "7.1.conv2"]',
      'HEAD = "cut"',
      'HEAD_PREFIX = "10."',
      'GROUP_SIZES = [4]',
      'OPTIMIZER = "adamw"',
      'BN = "eval"',
    ],
  },
];

/** A temporary folder holding the fixture data and `run/`, made by the fixture's finetune arguments. */
async function makeRun(fixture: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'graft-export-torch-'));
  cpSync(join(FIXTURES, 'data'), join(work, 'data'), { recursive: true });
  const args = JSON.parse(readFileSync(join(fixture, 'args.json'), 'utf8')) as string[];
  const run = await graft(args, work);
  if (run.code !== 0) throw new Error(`graft ${args.join(' ')} failed:\n${run.out}`);
  const exported = await graft(['export-torch', 'run'], work);
  if (exported.code !== 0) throw new Error(`graft export-torch failed:\n${exported.out}`);
  return work;
}

describe.each(CASES)('graft export-torch: $name', ({ name, lines }) => {
  const fixture = join(FIXTURES, name);
  let work: string;
  let golden: Golden;

  beforeAll(async () => {
    work = await makeRun(fixture);
    const raw = (await load(join(fixture, 'continued.pth'))) as Record<string, PyValue>;
    golden = { ...raw, nextLrs: raw.next_lrs } as unknown as Golden;
  }, 300_000);

  it('writes the script that the PyTorch golden run exercised, byte for byte', () => {
    const script = readFileSync(join(work, 'run', 'train_torch.py'), 'utf8');
    expect(script, `the generated script changed: ${REGENERATE}`).toBe(
      readFileSync(join(fixture, 'train_torch.py'), 'utf8'),
    );
    for (const line of lines) expect(script).toContain(`\n${line}`);
  });

  it('continues the run in graft as PyTorch continues it from the same last.pth (3 steps, within 1e-4)', async () => {
    const runDir = join(work, 'run');
    const cfg = await readRunConfig(runDir);
    const ckpt = await readCheckpointFile(join(runDir, 'last.pth'));
    const t = await rebuildTraining(cfg, STEPS_PER_EPOCH);
    restoreTraining(t, ckpt.value, ckpt.path);
    const params = Object.fromEntries(t.model.namedParameters());
    const buffers = Object.fromEntries(t.model.namedBuffers());
    const snapshot = (s: Snapshot, when: string) => {
      for (const [param, ref] of Object.entries(s.params)) {
        expectClose(values(params[param]), values(ref), `${when}: ${param}`);
        const state = t.optimizer.state.get(params[param]) ?? {};
        expect(Object.keys(state).sort(), `${when}: optimizer state of ${param}`).toEqual(
          Object.keys(s.state[param]).sort(),
        );
        for (const [key, value] of Object.entries(s.state[param]))
          expectClose(values(state[key]), values(value), `${when}: ${key} of ${param}`);
      }
      for (const [buffer, ref] of Object.entries(s.buffers))
        expectClose(values(buffers[buffer]), values(ref), `${when}: ${buffer}`);
    };
    // Same starting point: this run's checkpoint is the one the golden run started from.
    snapshot(golden.start, `start (${REGENERATE} if graft's training changed)`);
    t.model.train();
    for (const bn of t.evalBatchNorms) bn.eval();
    const losses: number[] = [];
    const lrs: number[] = [];
    for (let step = 0; step < golden.steps; step++) {
      const [x, y] = batch(step);
      const loss = F.crossEntropy(t.model.call(x) as Tensor, y);
      t.optimizer.zeroGrad();
      loss.backward();
      t.optimizer.step();
      t.scheduler?.step();
      losses.push(await loss.item());
      lrs.push(...t.optimizer.paramGroups.map((g) => g.lr));
    }
    expectClose(losses, values(golden.losses), 'losses');
    expectClose(lrs, values(golden.lrs), 'learning rates', 1e-12);
    snapshot(golden.end, `after ${golden.steps} steps`);
  });

  it("loads the optimizer and scheduler state the PyTorch script saves, and goes on as PyTorch's", async () => {
    const cfg = await readRunConfig(join(work, 'run'));
    const t = await rebuildTraining(cfg, STEPS_PER_EPOCH);
    t.optimizer.loadStateDict(golden.optimizer as never);
    expect(t.scheduler === null).toBe(golden.scheduler === null);
    if (t.scheduler) t.scheduler.loadStateDict(golden.scheduler as never);
    const params = Object.fromEntries(t.model.namedParameters());
    for (const [param, ref] of Object.entries(golden.end.state)) {
      const state = t.optimizer.state.get(params[param]) ?? {};
      for (const [key, value] of Object.entries(ref))
        expectClose(values(state[key]), values(value), `loaded ${key} of ${param}`, 0);
    }
    const groups = t.optimizer.paramGroups.length;
    const last = values(golden.lrs).slice(-groups);
    expect(t.optimizer.paramGroups.map((g) => g.lr)).toEqual(last);
    if (t.scheduler) expect(t.scheduler.getLastLr()).toEqual(last);
    const next: number[] = [];
    for (let k = 0; k < 4; k++) {
      t.scheduler?.step();
      next.push(...t.optimizer.paramGroups.map((g) => g.lr));
    }
    expectClose(next, values(golden.nextLrs), 'learning rates after loading', 1e-12);
  });
});

describe('graft export-torch', () => {
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'graft-export-torch-'));
    cpSync(join(FIXTURES, 'data'), join(work, 'data'), { recursive: true });
  });

  it("names the frozen parameters by torchvision's module names, also for a cut head", async () => {
    const cfg = {
      model: 'resnet18',
      weights: 'none',
      head: 'replace',
      init: 'default',
      seed: 0,
      numClasses: 3,
      classes: ['a', 'b', 'c'],
      freeze: 'layer1.0,layer2',
      bn: 'train',
      optimizer: 'sgd',
      lr: 0.01,
      headLr: null,
      momentum: 0.9,
      nesterov: false,
      weightDecay: 0,
      scheduler: 'none',
      warmup: 0,
    } as unknown as RunConfig;
    expect(frozenPrefixes((await rebuildTraining(cfg, 2)).model)).toEqual(['layer1.0', 'layer2']);
    const cut = await rebuildTraining({ ...cfg, head: 'cut', freeze: 'backbone' }, 2);
    // Sequential(conv1, bn1, relu, maxpool, layer1..layer4, avgpool, Flatten, Linear): 2, 3, 8, 9 hold no parameters.
    expect(frozenPrefixes(cut.model)).toEqual(['0', '1', '4', '5', '6', '7']);
    expect(cut.headPrefix).toBe('10.');
    expect(cut.optimizer.paramGroups.map((g) => g.params.length)).toEqual([2]);
  });

  it('writes Python literals as Python reads them', () => {
    expect(pyLiteral([null, true, false, 0.001, 'a"b', ['x']])).toBe(
      '[None, True, False, 0.001, "a\\"b", ["x"]]',
    );
    expect(() => pyLiteral(Number.NaN)).toThrow(/cannot write NaN/);
  });

  it('refuses a folder that is not a run, naming it', async () => {
    const r = await graft(['export-torch', join(work, 'data')], work);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /graft: error: --run .*data: cannot read .*config\.json \(not a finetune output folder\)/,
    );
  });
});
