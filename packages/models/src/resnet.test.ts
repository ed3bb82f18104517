import { Linear } from '@graft/nn';
import { manualSeed, zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { resnet18, resnet34, resnet50 } from './builders.js';
import { BasicBlock, Bottleneck, type ResNet } from './resnet.js';
import { type ArchitectureGolden, fixtureJson, fixtureText } from './test-utils/fixtures.js';

const golden = fixtureJson<{ models: Record<string, ArchitectureGolden> }>('architectures.json').models;

async function build(name: string): Promise<ResNet> {
  switch (name) {
    case 'resnet18':
      return resnet18();
    case 'resnet34':
      return resnet34();
    case 'resnet50':
      return resnet50();
    case 'resnet18_fc2': {
      const m = await resnet18();
      m.fc = new Linear(512, 2);
      return m;
    }
    case 'resnet18_classes10':
      return resnet18({ numClasses: 10 });
    case 'resnet50_zero_init_residual':
      return resnet50({ zeroInitResidual: true });
    case 'resnet50_dilated':
      return resnet50({ replaceStrideWithDilation: [false, true, true] });
    case 'resnet50_32x4d':
      return resnet50({ groups: 32, widthPerGroup: 4 });
    default:
      throw new Error(`no builder for ${name}`);
  }
}

const countParams = (m: ResNet) => [...m.parameters()].reduce((n, p) => n + p.numel(), 0);

describe.each(Object.keys(golden))('%s matches torchvision', (name) => {
  it('state_dict keys, shapes and dtypes, parameters, buffers, module tree, parameter count', async () => {
    const model = await build(name);
    const g = golden[name];
    expect(Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.shape], t.dtype])).toEqual(
      g.state_dict.map(([k, shape, dtype]) => [k, shape, dtype === 'int64' ? 'int64' : 'float32']),
    );
    expect([...model.namedParameters()].map(([k, p]) => [k, [...p.shape]])).toEqual(g.parameters);
    expect([...model.namedBuffers()].map(([k, b]) => [k, [...b.shape]])).toEqual(g.buffers);
    expect([...model.namedModules()].map(([k, m]) => [k, m.constructor.name])).toEqual(g.modules);
    expect(countParams(model)).toBe(g.num_params);
  });
});

describe('the numbers the issue names', () => {
  it('ResNet-18 has 122 state_dict keys and 11,689,512 parameters', async () => {
    const model = await resnet18();
    expect(Object.keys(model.stateDict()).length).toBe(122);
    expect(Object.keys(model.stateDict()).filter((k) => k.endsWith('num_batches_tracked')).length).toBe(20);
    expect(countParams(model)).toBe(11_689_512);
  });
});

describe('printing', () => {
  it.each(['resnet18', 'resnet34', 'resnet50', 'resnet18_fc2', 'resnet50_dilated', 'resnet50_32x4d'])(
    "String(%s) is torchvision's repr, byte for byte",
    async (name) => {
      expect(String(await build(name))).toBe(fixtureText(`repr_${name}.txt`));
    },
  );
});

/** Mean and (population) standard deviation of a tensor's values. */
function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

describe('default init (closed forms of torchvision init)', () => {
  it('convolutions: kaiming normal, fan_out, relu gain: std = sqrt(2 / (out_channels * kh * kw))', async () => {
    manualSeed(0);
    const model = await resnet50();
    for (const key of [
      'conv1.weight',
      'layer1.0.conv2.weight',
      'layer3.0.downsample.0.weight',
      'layer4.2.conv3.weight',
    ]) {
      const w = model.getParameter(key);
      const [out, , kh, kw] = w.shape;
      const { mean, std } = moments(w.readSync());
      const expected = Math.sqrt(2 / (out * kh * kw));
      // Sampling error of the std of n normals is about std / sqrt(2n); n >= 9408 here.
      expect(Math.abs(std / expected - 1)).toBeLessThan(0.03);
      expect(Math.abs(mean)).toBeLessThan(0.05 * expected);
    }
  });

  it('BatchNorm: weight 1, bias 0, running stats 0 / 1; Linear: U(-1/sqrt(in), 1/sqrt(in))', async () => {
    const model = await resnet18();
    for (const [key, t] of Object.entries(model.stateDict())) {
      const values = [...t.readSync()].map(Number);
      if (/(bn\d|downsample\.1)\.(weight|running_var)$/.test(key) || key === 'bn1.weight')
        expect(new Set(values)).toEqual(new Set([1]));
      if (/(bn\d|downsample\.1)\.(bias|running_mean|num_batches_tracked)$/.test(key))
        expect(new Set(values)).toEqual(new Set([0]));
    }
    const bound = 1 / Math.sqrt(512);
    for (const p of [model.fc.weight, model.fc.bias!]) {
      const values = Array.from(p.readSync(), Number);
      const { mean, std } = moments(values);
      expect(values.reduce((a, b) => Math.max(a, b), -Infinity)).toBeLessThanOrEqual(bound);
      expect(values.reduce((a, b) => Math.min(a, b), Infinity)).toBeGreaterThanOrEqual(-bound);
      if (values.length > 1000) expect(Math.abs(std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
      expect(Math.abs(mean)).toBeLessThan(bound / 5);
    }
  });

  it('zeroInitResidual zeroes the last BatchNorm of every residual branch, and only those', async () => {
    const r18 = await resnet18({ zeroInitResidual: true });
    const r50 = await resnet50({ zeroInitResidual: true });
    const zeroed = (m: ResNet) =>
      Object.entries(m.stateDict())
        .filter(([k, t]) => k.endsWith('.weight') && t.ndim === 1 && [...t.readSync()].every((v) => v === 0))
        .map(([k]) => k);
    expect(zeroed(r18)).toEqual(
      ['layer1.0', 'layer1.1', 'layer2.0', 'layer2.1', 'layer3.0', 'layer3.1', 'layer4.0', 'layer4.1'].map(
        (b) => `${b}.bn2.weight`,
      ),
    );
    expect(zeroed(r50).length).toBe(16);
    expect(zeroed(r50).every((k) => k.endsWith('.bn3.weight'))).toBe(true);
  });
});

describe('forward', () => {
  it('maps [N, 3, H, W] to [N, numClasses] for any input of at least 1x1', async () => {
    const model = await resnet18({ numClasses: 7 });
    model.eval();
    expect(model.call(zeros(2, 3, 32, 32)).shape).toEqual([2, 7]);
    expect(model.call(zeros(1, 3, 1, 1)).shape).toEqual([1, 7]);
  });

  it('exposes the block classes', async () => {
    const model = await resnet50();
    expect(model.layer1.at(0)).toBeInstanceOf(Bottleneck);
    expect((await resnet34()).layer4.at(2)).toBeInstanceOf(BasicBlock);
    expect(BasicBlock.expansion).toBe(1);
    expect(Bottleneck.expansion).toBe(4);
  });
});
