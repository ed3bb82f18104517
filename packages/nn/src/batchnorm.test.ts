import { describe, expect, it } from 'vitest';
import { BatchNorm1d, BatchNorm2d, type Module } from './index.js';
import { decode, decodeValues, type Encoded, mismatch, readFixture } from './test-utils/fixtures.js';

interface BnCase {
  name: string;
  inputs: Encoded[];
  state_after_each_step: Record<string, Encoded>[];
  eval_input: Encoded;
  eval_output: Encoded;
}
const cases = readFixture<BnCase[]>('batchnorm.json');

const BUILD: Record<string, () => Module> = {
  'bn2d_momentum_0.1': () => new BatchNorm2d(3),
  bn2d_momentum_none: () => new BatchNorm2d(3, { momentum: null }),
  'bn1d_momentum_0.3': () => new BatchNorm1d(4, { momentum: 0.3 }),
  bn2d_notrack: () => new BatchNorm2d(3, { trackRunningStats: false }),
};

describe('BatchNorm running statistics over several training steps match PyTorch', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const bn = BUILD[name]();
    bn.train();
    c.inputs.forEach((input, step) => {
      bn.call(decode(input));
      const sd = bn.stateDict();
      const expected = c.state_after_each_step[step];
      expect(Object.keys(sd)).toEqual(Object.keys(expected));
      for (const [k, e] of Object.entries(expected)) {
        expect(sd[k].dtype, k).toBe(e.i64 ? 'int64' : 'float32');
        expect(mismatch(sd[k].readSync(), decodeValues(e)), `step ${step} ${k}`).toBeNull();
      }
    });
    bn.eval();
    const y = bn.call(decode(c.eval_input)) as ReturnType<typeof decode>;
    expect(mismatch(y.readSync(), decodeValues(c.eval_output)), 'eval output').toBeNull();
  });

  it('eval mode leaves the running statistics alone', () => {
    const bn = new BatchNorm2d(3).eval();
    const before = bn.stateDict();
    const snapshot = Object.fromEntries(Object.entries(before).map(([k, t]) => [k, [...t.readSync()]]));
    bn.call(decode(cases[0].inputs[0]));
    for (const [k, t] of Object.entries(bn.stateDict())) expect([...t.readSync()]).toEqual(snapshot[k]);
  });

  it('rejects inputs of the wrong rank, and single-value batches while training', () => {
    expect(() => new BatchNorm2d(3).call(decode(cases[2].inputs[0]))).toThrow(
      'BatchNorm2d: expected 4D input (got 2D input)',
    );
    expect(() => new BatchNorm1d(4).call(decode(cases[0].inputs[0]))).toThrow(
      'BatchNorm1d: expected 2D or 3D input (got 4D input)',
    );
  });
});
