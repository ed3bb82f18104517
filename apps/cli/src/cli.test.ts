// Drives the built `graft` command as a subprocess on small data the tests make.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resnet18 } from '@graft/models';
import { save } from '@graft/serialize/node';
import { type Tensor, tensor } from '@graft/tensor';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { classPng, type GraftRun, runGraft } from './test-utils/run-graft.js';

const DEMO_WEIGHTS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'demo',
  'resnet18-fashion-0to4.safetensors',
);

function graft(
  args: string[],
  opts: { onStdout?: (s: string, kill: (sig: NodeJS.Signals) => void) => void } = {},
): Promise<GraftRun> {
  return runGraft(join(root, 'graft-home'), args, opts);
}

let root: string;
let data: string;

const png = classPng;

/** A 20×20 PNG of one colour. */
async function solidPng(path: string, [r, g, b]: readonly [number, number, number]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await sharp({ create: { width: 20, height: 20, channels: 3, background: { r, g, b } } })
    .png()
    .toFile(path);
}

const RED = [200, 60, 40] as const;
const BLUE = [30, 60, 200] as const;

/**
 * A ResNet-18 checkpoint whose answer is known by construction: conv1 copies the red channel to feature
 * map 0 and the blue channel to map 1 (centre tap), every residual branch is zero (conv weights 0, batch
 * norms the identity), the downsample convs copy channel c to channel c, so after ReLU, pooling and the
 * blocks the 512 features are [relu(red), relu(blue), 0, ...] of the normalised image, averaged. The head
 * gives logit 'blue' = feature 1 and logit 'red' = feature 0 (classes sort as blue, red).
 */
async function colourCheckpoint(path: string): Promise<void> {
  const net = await resnet18({ numClasses: 2 });
  const sd: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(net.stateDict())) {
    if (t.dtype !== 'float32') {
      sd[name] = t; // num_batches_tracked
      continue;
    }
    const v = new Float32Array(t.numel());
    const [, i, kh, kw] = t.shape;
    if (name.endsWith('running_var') || (t.ndim === 1 && name.endsWith('.weight') && !name.startsWith('fc')))
      v.fill(1);
    if (name === 'conv1.weight') {
      v[((0 * i + 0) * kh + 3) * kw + 3] = 1; // red -> map 0
      v[((1 * i + 2) * kh + 3) * kw + 3] = 1; // blue -> map 1
    }
    if (name.endsWith('downsample.0.weight')) for (let c = 0; c < i; c++) v[c * i + c] = 1;
    if (name === 'fc.weight') {
      v[0 * 512 + 1] = 1; // blue <- map 1
      v[1 * 512 + 0] = 1; // red <- map 0
    }
    sd[name] = tensor(v).reshape(t.shape);
  }
  await save(sd, path);
}

/** What the colour checkpoint computes for a solid image, in float64: the softmax over [blue, red]. */
function colourProbabilities([r, , b]: readonly [number, number, number]): { blue: number; red: number } {
  // Four batch norms (bn1 and the three downsample norms) each divide by sqrt(1 + eps).
  const bnScale = (1 + 1e-5) ** -2;
  const red = Math.max(0, (r / 255 - 0.485) / 0.229) * bnScale;
  const blue = Math.max(0, (b / 255 - 0.406) / 0.225) * bnScale;
  const z = Math.exp(red) + Math.exp(blue);
  return { blue: Math.exp(blue) / z, red: Math.exp(red) / z };
}

const COMMON = ['--weights', 'none', '--image-size', '16', '--batch-size', '4', '--threads', '1'];

function oneErrorLine(r: GraftRun): string {
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

  it('--val-batch-size batches validation differently and measures the same', async () => {
    const args = ['finetune', '--data', data, ...COMMON, '--epochs', '1'];
    const [a, b] = [join(root, 'val-default'), join(root, 'val-batch-5')];
    expect((await graft([...args, '--out', a])).code).toBe(0);
    // 6 validation images: batches of 4 + 2 against 5 + 1.
    expect((await graft([...args, '--val-batch-size', '5', '--out', b])).code).toBe(0);
    const metrics = (dir: string) =>
      JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'))[0] as Record<string, number>;
    const [ma, mb] = [metrics(a), metrics(b)];
    expect(mb.trainLoss).toBe(ma.trainLoss);
    expect(mb.valAccuracy).toBe(ma.valAccuracy);
    expect(Math.abs(mb.valLoss - ma.valLoss)).toBeLessThanOrEqual(1e-6 * Math.abs(ma.valLoss));
    const config = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config(a).valBatchSize).toBeNull();
    expect(config(b).valBatchSize).toBe(5);
    const zero = await graft([...args, '--val-batch-size', '0']);
    expect(oneErrorLine(zero)).toContain(
      'invalid value for --val-batch-size (command line): expected a number >= 1, got "0"',
    );
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
  }, 300_000); // lavapipe runs the shaders on the CPU

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
    expect(report.accuracy).toBe((report.confusion[0][0] + report.confusion[1][1]) / 6);
    // best.safetensors is the epoch with the best validation accuracy that training measured.
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { valAccuracy: number }[];
    expect(report.accuracy).toBe(Math.max(...metrics.map((m) => m.valAccuracy)));
    const text = await graft(['evaluate', '--run', out]);
    expect(text.stdout).toContain('confusion matrix');
  });

  describe('predict and evaluate on a checkpoint whose answers are known by construction', () => {
    let colourRun: string;
    let solid: string;
    beforeAll(async () => {
      // Solid colours: val holds three blue images, two red ones and one blue image filed under red.
      solid = join(root, 'solid');
      for (const split of ['train', 'val']) {
        for (let i = 0; i < 3; i++) await solidPng(join(solid, split, 'blue', `${i}.png`), BLUE);
        for (let i = 0; i < 2; i++) await solidPng(join(solid, split, 'red', `${i}.png`), RED);
        await solidPng(join(solid, split, 'red', 'mislabelled.png'), BLUE);
      }
      colourRun = join(root, 'colour-run');
      mkdirSync(colourRun);
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(config).toMatchObject({
        model: 'resnet18',
        head: 'replace',
        imageSize: 16,
        classes: ['blue', 'red'],
      });
      writeFileSync(
        join(colourRun, 'config.json'),
        JSON.stringify({ ...config, data: solid, out: colourRun }),
      );
      await colourCheckpoint(join(colourRun, 'best.safetensors'));
    });

    it('predict gives the right label and the closed-form probabilities', async () => {
      const r = await graft([
        'predict',
        '--run',
        colourRun,
        '--top',
        '2',
        '--json',
        join(solid, 'val', 'red', '0.png'),
        join(solid, 'val', 'blue', '0.png'),
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const results = JSON.parse(r.stdout) as { top: { label: string; probability: number }[] }[];
      const red = colourProbabilities(RED);
      const blue = colourProbabilities(BLUE);
      expect(red.red).toBeGreaterThan(0.7); // the reference itself is decisive
      expect(blue.blue).toBeGreaterThan(0.8);
      expect(results.map((p) => p.top.map((t) => t.label))).toEqual([
        ['red', 'blue'],
        ['blue', 'red'],
      ]);
      expect(results[0].top[0].probability).toBeCloseTo(red.red, 5);
      expect(results[0].top[1].probability).toBeCloseTo(red.blue, 5);
      expect(results[1].top[0].probability).toBeCloseTo(blue.blue, 5);
      expect(results[1].top[1].probability).toBeCloseTo(blue.red, 5);
      // A fine-tuned run's prediction is a distribution over its two classes.
      const trained = await graft(['predict', '--run', out, '--json', join(data, 'val', 'red', '0.png')]);
      const [p] = JSON.parse(trained.stdout) as { top: { label: string; probability: number }[] }[];
      expect(p.top.map((t) => t.label).sort()).toEqual(['blue', 'red']);
      expect(p.top[0].probability + p.top[1].probability).toBeCloseTo(1, 5);
    });

    it('evaluate reports the known accuracy, loss, precision/recall and confusion matrix', async () => {
      const r = await graft(['evaluate', '--run', colourRun, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as {
        accuracy: number;
        loss: number;
        perClass: { name: string; precision: number; recall: number; support: number }[];
        confusion: number[][];
      };
      // Rows: true class (blue, red); columns: predicted. The blue image filed under red is called blue.
      expect(report.confusion).toEqual([
        [3, 0],
        [1, 2],
      ]);
      expect(report.accuracy).toBeCloseTo(5 / 6, 10);
      expect(report.perClass).toEqual([
        { name: 'blue', precision: 3 / 4, recall: 1, support: 3 },
        { name: 'red', precision: 1, recall: 2 / 3, support: 3 },
      ]);
      const red = colourProbabilities(RED);
      const blue = colourProbabilities(BLUE);
      const loss = -(3 * Math.log(blue.blue) + 2 * Math.log(red.red) + Math.log(blue.red)) / 6;
      expect(report.loss).toBeCloseTo(loss, 4);
      const text = await graft(['evaluate', '--run', colourRun]);
      expect(text.stdout).toContain('accuracy 83.33%');
      expect(text.stdout).toContain('confusion matrix');
    });
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
