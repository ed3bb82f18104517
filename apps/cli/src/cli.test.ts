// Drives the built `graft` command as a subprocess on small data the tests make.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'graft.js');
const DEMO_WEIGHTS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'demo',
  'resnet18-fashion-0to4.safetensors',
);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function graft(
  args: string[],
  opts: { onStdout?: (s: string, kill: (sig: NodeJS.Signals) => void) => void } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, GRAFT_HOME: join(root, 'graft-home') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(stdout, (sig) => child.kill(sig));
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let root: string;
let data: string;

/** A small PNG whose colour depends on its class, so the task is learnable. */
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

const COMMON = ['--weights', 'none', '--image-size', '16', '--batch-size', '4', '--threads', '1'];

function oneErrorLine(r: Run): string {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'graft-cli-'));
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

describe('graft CLI', () => {
  it('prints help with examples for every command', async () => {
    const r = await graft(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['finetune', 'evaluate', 'predict', 'inspect', 'convert', 'summary', 'weights'])
      expect(r.stdout).toContain(c);
    const f = await graft(['finetune', '--help']);
    expect(f.stdout).toContain('--head-lr');
    expect(f.stdout).toContain('Examples:');
  });

  let out: string;
  it('fine-tunes on an ImageFolder, with two parameter groups, and writes every output file', async () => {
    out = join(root, 'run1');
    const r = await graft([
      'finetune',
      '--data',
      data,
      ...COMMON,
      '--epochs',
      '2',
      '--head-lr',
      '0.05',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Parameter Group 0');
    expect(r.stdout).toContain('Parameter Group 1');
    for (const f of [
      'best.safetensors',
      'last.pth',
      'metrics.csv',
      'metrics.json',
      'config.json',
      'plot.svg',
      'run.json',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const plot = readFileSync(join(out, 'plot.svg'), 'utf8');
    expect(plot.length).toBeGreaterThan(1000);
    expect(plot).toContain('<svg');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
      epoch: number;
      lr: number[];
    }[];
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(metrics[0].lr).toHaveLength(2);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8').split('\n')[0]).toContain('val_accuracy');
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('complete');
  });

  it('resumes after Ctrl-C with metrics equal to an uninterrupted run', async () => {
    const args = ['finetune', '--data', data, ...COMMON, '--epochs', '3', '--lr', '0.02'];
    const straight = join(root, 'straight');
    expect((await graft([...args, '--out', straight])).code).toBe(0);
    const cut = join(root, 'cut');
    let sent = false;
    const first = await graft([...args, '--out', cut], {
      onStdout: (s, kill) => {
        if (!sent && /epoch 1\/3 +train/.test(s)) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(first.code).toBe(130);
    expect(JSON.parse(readFileSync(join(cut, 'run.json'), 'utf8')).status).toBe('interrupted');
    const resumed = await graft(['finetune', '--resume', join(cut, 'last.pth')]);
    expect(resumed.code).toBe(0);
    const a = JSON.parse(readFileSync(join(straight, 'metrics.json'), 'utf8')) as Record<string, number>[];
    const b = JSON.parse(readFileSync(join(cut, 'metrics.json'), 'utf8')) as Record<string, number>[];
    expect(b.map((m) => m.epoch)).toEqual([1, 2, 3]);
    for (const k of ['trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy']) {
      expect(b.map((m) => m[k])).toEqual(a.map((m) => m[k]));
    }
  });

  it('caches frozen-backbone features: same metrics as running the backbone every epoch', async () => {
    const args = [
      'finetune',
      '--data',
      data,
      ...COMMON,
      '--epochs',
      '2',
      '--freeze',
      'backbone',
      '--bn',
      'eval',
      '--lr',
      '0.05',
    ];
    const cached = await graft([...args, '--out', join(root, 'cached')]);
    expect(cached.code).toBe(0);
    expect(cached.stdout).toContain('cached backbone features of 18 images');
    const plain = await graft([...args, '--cache-features', 'off', '--out', join(root, 'uncached')]);
    expect(plain.stdout).not.toContain('cached backbone features');
    const a = JSON.parse(readFileSync(join(root, 'cached', 'metrics.json'), 'utf8')) as Record<
      string,
      number
    >[];
    const b = JSON.parse(readFileSync(join(root, 'uncached', 'metrics.json'), 'utf8')) as Record<
      string,
      number
    >[];
    for (const k of ['trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy']) {
      a.forEach((row, i) => {
        expect(row[k]).toBeCloseTo(b[i][k], 5);
      });
    }
  });

  it('reads a YAML --config whose keys are the flags; flags override it; unknown keys are refused', async () => {
    const cfg = join(root, 'run.yaml');
    writeFileSync(
      cfg,
      `data: ${data}\nweights: none\nimage-size: 16\nbatch-size: 4\nthreads: 1\nepochs: 2\naugment: true\noptimizer: adamw\nlr: 0.001\n`,
    );
    const out2 = join(root, 'from-config');
    const r = await graft(['finetune', '--config', cfg, '--epochs', '1', '--out', out2]);
    expect(r.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(out2, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ optimizer: 'adamw', lr: 0.001, epochs: 1, augment: true, imageSize: 16 });
    expect(r.stdout).toContain('AdamW (');
    writeFileSync(cfg, 'learning-rate: 0.1\n');
    expect(oneErrorLine(await graft(['finetune', '--config', cfg]))).toContain(
      "unknown option 'learning-rate'",
    );
  });

  it('fine-tunes on the WebGPU backend (--device webgpu)', async () => {
    const r = await graft([
      'finetune',
      '--data',
      data,
      ...COMMON,
      '--epochs',
      '1',
      '--device',
      'webgpu',
      '--out',
      join(root, 'gpu'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('WebGPU adapter:');
    const [row] = JSON.parse(readFileSync(join(root, 'gpu', 'metrics.json'), 'utf8')) as {
      trainLoss: number;
    }[];
    expect(Number.isFinite(row.trainLoss)).toBe(true);
    expect(existsSync(join(root, 'gpu', 'best.safetensors'))).toBe(true);
  });

  it('evaluates a run: accuracy, per-class precision/recall, confusion matrix', async () => {
    const r = await graft(['evaluate', '--run', out, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      accuracy: number;
      perClass: { name: string }[];
      confusion: number[][];
    };
    expect(report.perClass.map((c) => c.name)).toEqual(['blue', 'red']);
    expect(report.confusion.flat().reduce((s, v) => s + v, 0)).toBe(6);
    const text = await graft(['evaluate', '--run', out]);
    expect(text.stdout).toContain('confusion matrix');
  });

  it('predicts top-k labels for images', async () => {
    const r = await graft([
      'predict',
      '--run',
      out,
      '--top',
      '2',
      '--json',
      join(data, 'val', 'red', '0.png'),
    ]);
    expect(r.code).toBe(0);
    const [p] = JSON.parse(r.stdout) as { top: { label: string; probability: number }[] }[];
    expect(p.top).toHaveLength(2);
    expect(p.top[0].probability + p.top[1].probability).toBeCloseTo(1, 5);
  });

  it('inspects and converts checkpoints both ways', async () => {
    const st = join(root, 'model.safetensors');
    const conv = await graft(['convert', join(out, 'last.pth'), st]);
    expect(conv.code).toBe(0);
    const ins = await graft(['inspect', st, '--json']);
    const info = JSON.parse(ins.stdout) as {
      format: string;
      parameters: number;
      tensors: { name: string }[];
    };
    expect(info.format).toBe('safetensors');
    expect(info.tensors).toHaveLength(122);
    expect(info.parameters).toBe(11_689_512 - 513 * 1000 + 513 * 2);
    const back = join(root, 'model.pth');
    expect((await graft(['convert', st, back])).code).toBe(0);
    const ins2 = JSON.parse((await graft(['inspect', back, '--json'])).stdout) as {
      format: string;
      parameters: number;
    };
    expect(ins2).toMatchObject({ format: 'pytorch-zip', parameters: info.parameters });
  });

  it('prints the module tree and trainable/frozen counts', async () => {
    const r = await graft(['summary', 'resnet18', '--num-classes', '5', '--freeze', 'backbone']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(fc): Linear(in_features=512, out_features=5, bias=True)');
    expect(r.stdout).toMatch(/Total\s+11,179,077\s+2,565\s+11,176,512/);
  });

  describe('errors: one line, non-zero exit, no stack trace', () => {
    it('unknown flag and bad value name the flag and the allowed values', async () => {
      expect(oneErrorLine(await graft(['finetune', '--bogus']))).toContain("'--bogus'");
      const bad = oneErrorLine(await graft(['finetune', '--optimizer', 'lbfgs']));
      expect(bad).toContain('--optimizer');
      expect(bad).toContain('sgd, adam, adamw');
      expect(oneErrorLine(await graft(['finetune', '--data', data, '--lr', 'fast']))).toContain('--lr');
    });

    it('missing data folder', async () => {
      expect(
        oneErrorLine(
          await graft(['finetune', '--data', join(root, 'nope'), ...COMMON, '--out', join(root, 'nope-out')]),
        ),
      ).toContain('nope');
    });

    it('a class with no images', async () => {
      const d = join(root, 'empty-class');
      for (let i = 0; i < 2; i++) await png(join(d, 'train', 'red', `${i}.png`), 0, i);
      mkdirSync(join(d, 'train', 'blue'), { recursive: true });
      for (let i = 0; i < 2; i++) await png(join(d, 'val', 'red', `${i}.png`), 0, i);
      expect(
        oneErrorLine(await graft(['finetune', '--data', d, ...COMMON, '--out', join(root, 'empty-out')])),
      ).toContain('blue');
    });

    it('a corrupt image is reported by path', async () => {
      const d = join(root, 'corrupt');
      for (const s of ['train', 'val'])
        for (const c of ['red', 'blue']) await png(join(d, s, c, '0.png'), 0, 0);
      writeFileSync(join(d, 'train', 'red', 'broken.png'), 'not a png');
      expect(
        oneErrorLine(await graft(['finetune', '--data', d, ...COMMON, '--out', join(root, 'corrupt-out')])),
      ).toContain('broken.png');
      expect(existsSync(join(root, 'corrupt-out'))).toBe(false);
    });

    it('--num-classes disagreeing with the data', async () => {
      const line = oneErrorLine(
        await graft(['finetune', '--data', data, ...COMMON, '--num-classes', '7', '--out', join(root, 'nc')]),
      );
      expect(line).toContain('--num-classes 7');
      expect(line).toContain('2 classes');
      expect(existsSync(join(root, 'nc', 'run.json'))).toBe(false);
    });

    it('a checkpoint for another architecture gets the load report', async () => {
      const line = oneErrorLine(
        await graft([
          'finetune',
          '--data',
          data,
          ...COMMON,
          '--model',
          'resnet50',
          '--weights',
          DEMO_WEIGHTS,
          '--out',
          join(root, 'arch'),
        ]),
      );
      expect(line).toMatch(/Missing key\(s\)|size mismatch/);
      expect(existsSync(join(root, 'arch'))).toBe(false);
    });

    it('an unwritable --out', async () => {
      const file = join(root, 'a-file');
      writeFileSync(file, 'x');
      expect(
        oneErrorLine(await graft(['finetune', '--data', data, ...COMMON, '--out', join(file, 'sub')])),
      ).toContain('--out');
    });

    it('a missing checkpoint for inspect', async () => {
      expect(oneErrorLine(await graft(['inspect', join(root, 'missing.pth')]))).toContain('missing.pth');
    });
  });
});
