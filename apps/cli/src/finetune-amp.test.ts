// `graft finetune --amp` on WebGPU (lavapipe in Node): the scaler's state through last.pth and --resume,
// and cached features. The demo under --amp against float32 (the accuracy check) is scripts/amp-demo.mjs:
// 24 minutes on lavapipe, too long for the test suite.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, save } from '@graft/serialize/node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'graft.js');
const webgpuEnabled = process.env.GRAFT_WEBGPU_TESTS !== '0';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function graft(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, GRAFT_HOME: join(root, 'graft-home') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
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

/** A small PNG whose colour depends on its class (cli.test.ts's), so the task is learnable. */
async function png(path: string, cls: number, i: number): Promise<void> {
  const w = 20;
  const px = Buffer.alloc(w * w * 3);
  for (let k = 0; k < w * w; k++) {
    const noise = ((k * 31 + i * 17) % 40) - 20;
    px[k * 3] = cls === 0 ? 200 + noise / 2 : 30 + noise;
    px[k * 3 + 1] = 60 + noise;
    px[k * 3 + 2] = cls === 1 ? 200 + noise / 2 : 40 + noise;
  }
  mkdirSync(dirname(path), { recursive: true });
  await sharp(px, { raw: { width: w, height: w, channels: 3 } })
    .png()
    .toFile(path);
}

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
      for (let i = 0; i < n; i++) await png(join(data, split, name, `${i}.png`), c, i);
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
