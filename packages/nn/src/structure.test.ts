import { describe, expect, it } from 'vitest';
import { Linear, summary } from './index.js';
import { readFixture } from './test-utils/fixtures.js';
import { MODELS, resnetHead2 } from './test-utils/models.js';

interface Structure {
  state_dict: [string, number[], string][];
  named_parameters: [string, number[]][];
  named_buffers: string[];
  named_modules: [string, string][];
  named_children: string[];
  num_parameters: number;
}
const golden = readFixture<
  Record<string, Structure> & { frozen_summary: [string, string, number, number, number][] }
>('structure.json');

describe('module tree structure equals PyTorch', () => {
  for (const name of Object.keys(MODELS)) {
    const expected = golden[name];
    it(`${name}: stateDict keys, shapes and dtypes`, () => {
      const sd = MODELS[name]().stateDict();
      expect(Object.entries(sd).map(([k, t]) => [k, t.shape, t.dtype])).toEqual(expected.state_dict);
    });
    it(`${name}: namedParameters / namedBuffers / namedModules / namedChildren`, () => {
      const m = MODELS[name]();
      expect([...m.namedParameters()].map(([k, p]) => [k, p.shape])).toEqual(expected.named_parameters);
      expect([...m.namedBuffers()].map(([k]) => k)).toEqual(expected.named_buffers);
      expect([...m.namedModules()].map(([k, mod]) => [k, mod._getName()])).toEqual(expected.named_modules);
      expect([...m.namedChildren()].map(([k]) => k)).toEqual(expected.named_children);
      let n = 0;
      for (const p of m.parameters()) n += p.numel();
      expect(n).toBe(expected.num_parameters);
    });
  }

  it('replacing a child keeps its position (net.fc = new Linear(...))', () => {
    const m = resnetHead2();
    const keys = [...m.namedChildren()].map(([k]) => k);
    expect(keys).toEqual(golden.TinyResNet.named_children);
    expect(keys[keys.length - 1]).toBe('fc');
    expect(m.fc).toBeInstanceOf(Linear);
    expect(m.fc.outFeatures).toBe(2);
  });
});

describe('summary', () => {
  it('counts total, trainable and frozen parameters per top-level child after freezing', () => {
    const m = resnetHead2();
    for (const [name, p] of m.namedParameters()) p.requiresGrad = name.startsWith('fc.');
    const s = summary(m);
    expect(s.rows.map((r) => [r.name, r.type, r.total, r.trainable, r.frozen])).toEqual(
      golden.frozen_summary,
    );
    const total = golden.frozen_summary.reduce((a, r) => a + r[2], 0);
    expect(s.total).toBe(total);
    expect(s.trainable).toBe(34);
    expect(s.frozen).toBe(total - 34);
    const text = String(s);
    expect(text.split('\n')[0]).toBe('TinyResNet summary');
    expect(text).toMatch(/^fc\s+Linear\s+34\s+34\s+0$/m);
    expect(text).toMatch(
      new RegExp(
        `^Total\\s+${total.toLocaleString('en-US')}\\s+34\\s+${(total - 34).toLocaleString('en-US')}$`,
        'm',
      ),
    );
  });

  it('lists parameters held by the model itself and counts shared ones once in the totals', () => {
    const m = MODELS.Nested();
    const s = summary(m);
    expect(s.rows[0]).toEqual({ name: '(self)', type: 'Nested', total: 1, trainable: 1, frozen: 0 });
    expect(s.rows.map((r) => r.name)).toEqual(['(self)', 'features', 'heads', 'branches', 'shared', 'tied']);
    expect(s.total).toBe(golden.Nested.num_parameters);
  });
});
