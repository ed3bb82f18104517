// `graft finetune --amp` on WebGPU (lavapipe in Node): the scaler's state through last.pth and --resume,
// and cached features. The demo under --amp against float32 (the accuracy check) is scripts/amp-demo.mjs:
// 10-24 minutes on lavapipe, too long for the test suite.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, save } from '@graft/serialize/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { classPng, type GraftRun, runGraft } from './test-utils/run-graft.js';

const webgpuEnabled = process.env.GRAFT_WEBGPU_TESTS !== '0';

function graft(args: string[]): Promise<GraftRun> {
  return runGraft(join(root, 'graft-home'), args);
}

interface EpochRow {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
}

function metricsOf(out: string): EpochRow[] {
  return JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as EpochRow[];
}

interface ScalerState {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  _growth_tracker: number;
}

async function scalerOf(checkpoint: string): Promise<ScalerState> {
  return ((await load(checkpoint)) as unknown as { scaler: ScalerState }).scaler;
}

let root: string;
let data: string;

// Three steps an epoch: 12 training images in batches of 4 (6 validation images).
const TINY = ['--weights', 'none', '--image-size', '16', '--batch-size', '4', '--threads', '1'];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'graft-amp-'));
  data = join(root, 'shapes');
  for (const [split, n] of [
    ['train', 6],
    ['val', 3],
  ] as const) {
    for (const [c, name] of ['red', 'blue'].entries()) {
      for (let i = 0; i < n; i++) await classPng(join(data, split, name, `${i}.png`), c, i);
    }
  }
});

describe.skipIf(!webgpuEnabled)('graft finetune --amp on webgpu', () => {
  // A frozen backbone in eval mode: one float16 backbone pass over the images, then the head in float16.
  const frozen = [
    ...TINY,
    '--epochs',
    '1',
    '--amp',
    '--device',
    'webgpu',
    '--freeze',
    'backbone',
    '--bn',
    'eval',
  ];
  let cachedOut: string;

  it('caches float16 backbone features under --amp: the metrics of running the backbone every step', async () => {
    cachedOut = join(root, 'cached');
    const cached = await graft(['finetune', '--data', data, ...frozen, '--out', cachedOut]);
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.stdout).toContain('training the head on cached features');
    const plainOut = join(root, 'uncached');
    const plain = await graft([
      'finetune',
      '--data',
      data,
      ...frozen,
      '--cache-features',
      'off',
      '--out',
      plainOut,
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain('cached backbone features');
    const [a] = metricsOf(cachedOut);
    const [b] = metricsOf(plainOut);
    // The same float16 features either way; batches of other images may round a last bit differently.
    for (const k of ['trainLoss', 'valLoss'] as const) expect(a[k]).toBeCloseTo(b[k], 3);
    expect(a.trainAccuracy).toBe(b.trainAccuracy);
    expect(a.valAccuracy).toBe(b.valAccuracy);
  }, 300_000);

  it("saves the GradScaler's state in last.pth and --resume restores it", async () => {
    const ckpt = join(cachedOut, 'last.pth');
    const saved = (await load(ckpt)) as unknown as Record<string, unknown> & { scaler: ScalerState };
    expect(Object.keys(saved.scaler).sort()).toEqual([
      '_growth_tracker',
      'backoff_factor',
      'growth_factor',
      'growth_interval',
      'scale',
    ]);
    // Two clean steps short of a growth: the resumed epoch's three steps grow the scale after the second
    // (1024 -> 2048, the tracker back to 0) and count one more. A scaler started afresh would end at
    // 65536 or below with a tracker of at most 3.
    await save({ ...saved, scaler: { ...saved.scaler, scale: 1024, _growth_tracker: 1998 } } as never, ckpt);
    const resumed = await graft(['finetune', '--resume', ckpt, '--epochs', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('GradScaler (scale 1024)');
    expect(await scalerOf(ckpt)).toEqual({
      scale: 2048,
      growth_factor: 2,
      backoff_factor: 0.5,
      growth_interval: 2000,
      _growth_tracker: 1,
    });
  }, 300_000);
});

// On the CPU: what happens to an --amp run's scaler where --amp is not in effect.
describe('an --amp checkpoint without --amp', () => {
  let out: string;
  let ckpt: string;
  const scaler: ScalerState = {
    scale: 4096,
    growth_factor: 2,
    backoff_factor: 0.5,
    growth_interval: 2000,
    _growth_tracker: 7,
  };

  beforeAll(async () => {
    out = join(root, 'cpu-run');
    const run = await graft(['finetune', '--data', data, ...TINY, '--epochs', '1', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    // As an --amp run on WebGPU leaves it: the scaler's state beside the model (and amp in config.json).
    ckpt = join(out, 'last.pth');
    const saved = (await load(ckpt)) as unknown as Record<string, unknown>;
    await save({ ...saved, scaler } as never, ckpt);
  }, 300_000);

  it('--resume says that float32 training drops the scaler, and its checkpoint has none', async () => {
    const resumed = await graft(['finetune', '--resume', ckpt, '--epochs', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(
      `holds the GradScaler of an --amp run (scale 4096); without --amp this run trains in float32`,
    );
    expect(((await load(ckpt)) as unknown as { scaler: unknown }).scaler).toBeNull();
  }, 300_000);

  it('graft export-torch writes AMP = True for an --amp run, and AMP = False otherwise', async () => {
    const exported = await graft(['export-torch', out, '--output', join(root, 'f32.py')]);
    expect(exported.code, exported.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(out, 'config.json'), JSON.stringify({ ...config, amp: true }));
    const ampExport = await graft(['export-torch', out, '--output', join(root, 'amp.py')]);
    expect(ampExport.code, ampExport.stderr).toBe(0);
    const f32 = readFileSync(join(root, 'f32.py'), 'utf8').split('\n');
    const amp = readFileSync(join(root, 'amp.py'), 'utf8').split('\n');
    // The two scripts differ in that one line; how it runs is checked in PyTorch by
    // scripts/golden/continue_in_torch.py (on the CPU the scaler's state passes through unchanged).
    const differing = f32.flatMap((line, i) => (line === amp[i] ? [] : [[line, amp[i]]]));
    expect(amp.length).toBe(f32.length);
    expect(differing.map(([a, b]) => [a.split('  #')[0], b.split('  #')[0]])).toEqual([
      ['AMP = False', 'AMP = True'],
    ]);
  }, 300_000);
});
