import { Generator, type Tensor, zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { BatchNorm2d, Conv2d, init, LayerNorm, Linear, Parameter } from './index.js';

function stats(t: Tensor): { mean: number; std: number; min: number; max: number; n: number } {
  const v = t.readSync();
  let s = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const x of v) {
    s += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (v.length - 1)), min, max, n: v.length };
}

/** Mean within 5 standard errors, std within 2%, of the closed-form values. */
function expectMoments(t: Tensor, mean: number, std: number): void {
  const s = stats(t);
  expect(Math.abs(s.mean - mean)).toBeLessThan((5 * std) / Math.sqrt(s.n));
  expect(Math.abs(s.std - std) / std).toBeLessThan(0.02);
}

/** U(-bound, bound): inside the bound, reaching near it, with the uniform's moments. */
function expectUniform(t: Tensor, bound: number): void {
  const s = stats(t);
  expect(s.min).toBeGreaterThanOrEqual(-bound);
  expect(s.max).toBeLessThanOrEqual(bound);
  expect(s.max).toBeGreaterThan(bound * 0.999);
  expect(s.min).toBeLessThan(-bound * 0.999);
  expectMoments(t, 0, bound / Math.sqrt(3));
}

const big = () => new Parameter(zeros(400, 250)); // fan_in 250, fan_out 400
const conv = () => new Parameter(zeros(64, 32, 3, 3)); // fan_in 288, fan_out 576

describe('fans and gains', () => {
  it('calculateFanInAndFanOut follows PyTorch (receptive field from dims 2+)', () => {
    expect(init.calculateFanInAndFanOut(big())).toEqual([250, 400]);
    expect(init.calculateFanInAndFanOut(conv())).toEqual([288, 576]);
    expect(() => init.calculateFanInAndFanOut(zeros(5))).toThrow('fewer than 2 dimensions');
  });

  it('calculateGain', () => {
    for (const n of [
      'linear',
      'conv1d',
      'conv2d',
      'conv3d',
      'conv_transpose1d',
      'conv_transpose2d',
      'conv_transpose3d',
      'sigmoid',
    ] as const) {
      expect(init.calculateGain(n)).toBe(1);
    }
    expect(init.calculateGain('tanh')).toBe(5 / 3);
    expect(init.calculateGain('relu')).toBe(Math.SQRT2);
    expect(init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(init.calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(init.calculateGain('selu')).toBe(0.75);
    expect(() => init.calculateGain('swish' as 'relu')).toThrow('Unsupported nonlinearity swish');
  });
});

describe('initialisers match their closed-form distributions', () => {
  it('uniform_ and normal_', () => {
    const t = init.uniform_(big(), -0.5, 1.5);
    const s = stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-0.5);
    expect(s.max).toBeLessThan(1.5);
    expectMoments(t, 0.5, 2 / Math.sqrt(12));
    expectMoments(init.normal_(big(), 3, 0.25), 3, 0.25);
  });

  it('constant_, ones_, zeros_, eye_', () => {
    expect([...init.constant_(zeros(3), 0.5).readSync()]).toEqual([0.5, 0.5, 0.5]);
    expect([...init.ones_(zeros(2)).readSync()]).toEqual([1, 1]);
    expect([...init.zeros_(init.ones_(zeros(2))).readSync()]).toEqual([0, 0]);
    expect(init.eye_(zeros(2, 3)).tolistSync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(() => init.eye_(zeros(2, 2, 2))).toThrow('Only tensors with 2 dimensions are supported');
  });

  it('xavierUniform_ bound = gain·√(6/(fan_in+fan_out)); xavierNormal_ std = gain·√(2/(fan_in+fan_out))', () => {
    expectUniform(init.xavierUniform_(big()), Math.sqrt(6 / 650));
    expectUniform(init.xavierUniform_(big(), init.calculateGain('relu')), Math.SQRT2 * Math.sqrt(6 / 650));
    expectUniform(init.xavierUniform_(conv(), { gain: 2 }), 2 * Math.sqrt(6 / (288 + 576)));
    expectMoments(init.xavierNormal_(big()), 0, Math.sqrt(2 / 650));
    expectMoments(init.xavierNormal_(conv(), 0.5), 0, 0.5 * Math.sqrt(2 / 864));
  });

  it('kaimingUniform_ bound = gain·√(3/fan) for every mode and nonlinearity', () => {
    expectUniform(init.kaimingUniform_(big()), Math.SQRT2 * Math.sqrt(3 / 250));
    expectUniform(
      init.kaimingUniform_(big(), { mode: 'fan_out', nonlinearity: 'relu' }),
      Math.SQRT2 * Math.sqrt(3 / 400),
    );
    expectUniform(init.kaimingUniform_(conv(), { a: Math.sqrt(5) }), 1 / Math.sqrt(288));
    expectUniform(
      init.kaimingUniform_(conv(), { nonlinearity: 'tanh', mode: 'fan_out' }),
      (5 / 3) * Math.sqrt(3 / 576),
    );
    expectUniform(init.kaimingUniform_(big(), { a: 0.2 }), Math.sqrt(2 / 1.04) * Math.sqrt(3 / 250));
  });

  it('kaimingNormal_ std = gain/√fan', () => {
    expectMoments(init.kaimingNormal_(big()), 0, Math.SQRT2 / Math.sqrt(250));
    expectMoments(
      init.kaimingNormal_(conv(), { mode: 'fan_out', nonlinearity: 'relu' }),
      0,
      Math.SQRT2 / Math.sqrt(576),
    );
    expectMoments(init.kaimingNormal_(conv(), { nonlinearity: 'linear' }), 0, 1 / Math.sqrt(288));
  });

  it('truncNormal_ stays in [a, b] with the truncated normal mean and variance', () => {
    const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const check = (mean: number, std: number, a: number, b: number) => {
      const t = init.truncNormal_(big(), { mean, std, a, b });
      const s = stats(t);
      expect(s.min).toBeGreaterThanOrEqual(a);
      expect(s.max).toBeLessThanOrEqual(b);
      const al = (a - mean) / std;
      const be = (b - mean) / std;
      const Z = init.normCdf(be) - init.normCdf(al);
      const m = mean + (std * (phi(al) - phi(be))) / Z;
      const v = std * std * (1 + (al * phi(al) - be * phi(be)) / Z - ((phi(al) - phi(be)) / Z) ** 2);
      expectMoments(t, m, Math.sqrt(v));
    };
    check(0, 1, -2, 2);
    check(0, 0.02, -0.04, 0.04);
    check(1, 2, 0, 6); // asymmetric: a one-sided cut
    check(0, 1, 1, 3); // all mass in the tail
  });

  it('orthogonal_ gives orthonormal rows or columns, times gain, for any shape', () => {
    const gram = (t: Tensor, rowsFirst: boolean) => {
      const m = t.reshape(t.shape[0], -1);
      return rowsFirst ? m.matmul(m.t()) : m.t().matmul(m);
    };
    const expectIdentity = (g: Tensor, scale: number) => {
      const n = g.shape[0];
      const v = g.readSync();
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) expect(Math.abs(v[i * n + j] - (i === j ? scale : 0))).toBeLessThan(1e-5);
      }
    };
    expectIdentity(gram(init.orthogonal_(zeros(20, 50)), true), 1); // wide: orthonormal rows
    expectIdentity(gram(init.orthogonal_(zeros(50, 20)), false), 1); // tall: orthonormal columns
    expectIdentity(gram(init.orthogonal_(zeros(16, 4, 3, 3), 2), true), 4);
    expectIdentity(gram(init.orthogonal_(zeros(30, 30), { gain: 0.5 }), true), 0.25);
    expect(() => init.orthogonal_(zeros(4))).toThrow('Only tensors with 2 or more dimensions are supported');
  });

  it('a generator makes draws reproducible and independent of the default stream', () => {
    const a = init.kaimingUniform_(zeros(10, 10), { generator: new Generator(42) });
    const b = init.kaimingUniform_(zeros(10, 10), { generator: new Generator(42) });
    const c = init.kaimingUniform_(zeros(10, 10), { generator: new Generator(43) });
    expect([...a.readSync()]).toEqual([...b.readSync()]);
    expect([...a.readSync()]).not.toEqual([...c.readSync()]);
    const o1 = init.orthogonal_(zeros(5, 5), { generator: new Generator(1) });
    const o2 = init.orthogonal_(zeros(5, 5), undefined, { generator: new Generator(1) });
    expect([...o1.readSync()]).toEqual([...o2.readSync()]);
    const t1 = init.truncNormal_(zeros(8), { generator: new Generator(9) });
    const t2 = init.truncNormal_(zeros(8), { generator: new Generator(9) });
    expect([...t1.readSync()]).toEqual([...t2.readSync()]);
  });

  it('runs under noGrad: parameters that require grad can be initialised and stay leaves', () => {
    const p = new Parameter(zeros(3, 3));
    init.kaimingNormal_(p);
    init.orthogonal_(p);
    init.truncNormal_(p);
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => init.kaimingUniform_(big(), { mode: 'fan_avg' as 'fan_in' })).toThrow(
      'Mode fan_avg not supported, please use one of fan_in, fan_out',
    );
    expect(() => init.kaimingNormal_(big(), { nonlinearity: 'swish' as 'relu' })).toThrow(
      'Unsupported nonlinearity swish',
    );
    expect(() => init.calculateGain('leaky_relu', Number.NaN)).toThrow(
      'negative_slope NaN not a valid number',
    );
    expect(() => init.truncNormal_(big(), { a: 1, b: -1 })).toThrow('expected a < b');
  });
});

describe("layers' default initialisation follows PyTorch", () => {
  it('Linear: kaiming_uniform(a=√5) gives U(±1/√fan_in) for weight and bias', () => {
    const lin = new Linear(250, 400);
    expectUniform(lin.weight, 1 / Math.sqrt(250));
    const b = stats(lin.bias!);
    expect(b.min).toBeGreaterThanOrEqual(-1 / Math.sqrt(250));
    expect(b.max).toBeLessThanOrEqual(1 / Math.sqrt(250));
  });

  it('Conv2d: the same rule with fan_in = in_channels/groups · kh · kw', () => {
    const c = new Conv2d(64, 128, 3, { groups: 2 });
    expectUniform(c.weight, 1 / Math.sqrt(32 * 9));
    const b = stats(c.bias!);
    expect(Math.max(-b.min, b.max)).toBeLessThanOrEqual(1 / Math.sqrt(288));
  });

  it('BatchNorm2d and LayerNorm: weight ones, bias zeros, running stats 0 / 1 / 0', () => {
    const bn = new BatchNorm2d(3);
    expect([...bn.weight!.readSync()]).toEqual([1, 1, 1]);
    expect([...bn.bias!.readSync()]).toEqual([0, 0, 0]);
    expect([...bn.running_mean!.readSync()]).toEqual([0, 0, 0]);
    expect([...bn.running_var!.readSync()]).toEqual([1, 1, 1]);
    expect(bn.num_batches_tracked!.itemSync()).toBe(0);
    const ln = new LayerNorm([2, 2]);
    expect([...ln.weight!.readSync()]).toEqual([1, 1, 1, 1]);
    expect([...ln.bias!.readSync()]).toEqual([0, 0, 0, 0]);
  });
});

describe('special functions behind truncNormal_', () => {
  it('erf matches reference values and erfinv inverts it', () => {
    const ref: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [x, e] of ref) expect(Math.abs(init.erf(x) - e)).toBeLessThan(1e-14);
    for (const y of [-0.999, -0.9, -0.3, 0, 1e-8, 0.25, 0.7, 0.95, 0.99999]) {
      expect(Math.abs(init.erf(init.erfinv(y)) - y)).toBeLessThan(1e-14);
    }
    expect(init.erfinv(1)).toBe(Number.POSITIVE_INFINITY);
    expect(init.normCdf(0)).toBe(0.5);
  });
});
