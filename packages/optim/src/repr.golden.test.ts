// String(optimizer) against PyTorch 1.13's repr (fixtures/reprs.json, from scripts/golden/optim.py).

import { zeros } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import {
  Adadelta,
  Adagrad,
  Adam,
  AdamW,
  lrScheduler,
  type Optimizer,
  type ParamsInput,
  RMSprop,
  SGD,
} from './index.js';
import { toCamelCase } from './python.js';
import { type Data, expectReprClose, fixtureJson } from './test-utils/fixtures.js';

interface Case {
  optimizer: string;
  options: Record<string, Data>;
  groups: Record<string, Data>[] | null;
  scheduler: { kind: string; options: Record<string, Data>; steps: number } | null;
  repr: string;
}

const golden = fixtureJson<{ torch: string; cases: Case[] }>('reprs.json');

function camel(options: Record<string, Data>): Record<string, unknown> {
  const names: Record<string, string> = { T_max: 'tMax' };
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [names[k] ?? toCamelCase(k), v]));
}

const FACTORIES: Record<string, (p: ParamsInput, o: never) => Optimizer> = {
  SGD: (p, o) => new SGD(p, o),
  Adam: (p, o) => new Adam(p, o),
  AdamW: (p, o) => new AdamW(p, o),
  RMSprop: (p, o) => new RMSprop(p, o),
  Adagrad: (p, o) => new Adagrad(p, o),
  Adadelta: (p, o) => new Adadelta(p, o),
};

describe("String(optimizer) prints PyTorch's repr", () => {
  for (const c of golden.cases) {
    const label = `${c.optimizer} ${JSON.stringify(c.options)}${c.groups ? ' with two groups' : ''}${
      c.scheduler ? ` after ${c.scheduler.steps} ${c.scheduler.kind} steps` : ''
    }`;
    it(label, () => {
      const p0 = zeros(2, { requiresGrad: true });
      const p1 = zeros(3, { requiresGrad: true });
      const params: ParamsInput = c.groups
        ? [
            { params: [p0], ...camel(c.groups[0]) },
            { params: [p1], ...camel(c.groups[1]) },
          ]
        : [p0, p1];
      const optimizer = FACTORIES[c.optimizer](params, camel(c.options) as never);
      if (c.scheduler) {
        const o = camel(c.scheduler.options) as never;
        const scheduler =
          c.scheduler.kind === 'StepLR'
            ? new lrScheduler.StepLR(optimizer, o)
            : c.scheduler.kind === 'OneCycleLR'
              ? new lrScheduler.OneCycleLR(optimizer, o)
              : new lrScheduler.CosineAnnealingLR(optimizer, o);
        for (let i = 0; i < c.scheduler.steps; i++) {
          optimizer.step();
          scheduler.step();
        }
        expectReprClose(String(optimizer), c.repr);
      } else {
        // Without a scheduler nothing went through cos(): the printout must be identical.
        expect(String(optimizer)).toBe(c.repr);
      }
    });
  }
});
