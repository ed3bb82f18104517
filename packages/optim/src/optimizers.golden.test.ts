// Replays PyTorch 1.13's optimizer trajectories (fixtures/trajectories.json, from scripts/golden/optim.py):
// a two-layer model, two parameter groups (own lr, weight decay), one frozen parameter, every optimizer.

import { type DType, linear, mseLoss, type Tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import {
  Adadelta,
  Adagrad,
  Adam,
  AdamW,
  type Optimizer,
  type OptimizerStateDictInput,
  type ParamGroupInput,
  RMSprop,
  SGD,
} from './index.js';
import { toCamelCase } from './python.js';
import {
  type Data,
  decode,
  expectClose,
  expectSameData,
  fixtureJson,
  makeTensor,
} from './test-utils/fixtures.js';

interface Step {
  loss: number;
  params: number[][];
}

interface Run {
  name: string;
  optimizer: string;
  dtype: DType;
  closure: boolean;
  options: Record<string, Data>;
  head: Record<string, Data>;
  x: number[];
  y: number[];
  init: number[][];
  shapes: number[][];
  steps: Step[];
  midState: Data;
  finalState: Data;
  repr: string;
}

const golden = fixtureJson<{ steps: number; mid: number; runs: Run[] }>('trajectories.json');

// float64 runs must match PyTorch to 1e-6 relative (they land near 1e-14); float32 runs to 1e-5.
const TOLERANCE = {
  float64: { rtol: 1e-6, atol: 1e-12 },
  float32: { rtol: 1e-5, atol: 1e-7 },
} as const;

function camelOptions(options: Record<string, Data>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [toCamelCase(k), v]));
}

type Factory = (params: ParamGroupInput[], options: Record<string, unknown>) => Optimizer;
const FACTORIES: Record<string, Factory> = {
  SGD: (p, o) => new SGD(p, o),
  Adam: (p, o) => new Adam(p, o),
  AdamW: (p, o) => new AdamW(p, o),
  RMSprop: (p, o) => new RMSprop(p, o),
  Adagrad: (p, o) => new Adagrad(p, o),
  Adadelta: (p, o) => new Adadelta(p, o),
};

/** The run's model: parameters at `values` (fc1.bias frozen), data, loss, and its optimizer. */
function setup(run: Run, values: number[][]) {
  const params = values.map((v, i) => makeTensor(v, run.shapes[i], run.dtype));
  params.forEach((p, i) => {
    p.requiresGrad = i !== 1;
  });
  const x = makeTensor(run.x, [8, 4], run.dtype);
  const y = makeTensor(run.y, [8, 3], run.dtype);
  const loss = (): Tensor => mseLoss(linear(linear(x, params[0], params[1]).tanh(), params[2], params[3]), y);
  const groups: ParamGroupInput[] = [
    { params: params.slice(0, 2) },
    { params: params.slice(2), ...camelOptions(run.head) },
  ];
  const optimizer = FACTORIES[run.optimizer](groups, camelOptions(run.options));
  return { params, loss, optimizer };
}

function trainStep(run: Run, optimizer: Optimizer, loss: () => Tensor): number {
  if (run.closure) {
    const l = optimizer.step(() => {
      optimizer.zeroGrad();
      const value = loss();
      value.backward();
      return value;
    });
    return (l as Tensor).itemSync();
  }
  optimizer.zeroGrad();
  const value = loss();
  value.backward();
  optimizer.step();
  return value.itemSync();
}

function expectStep(run: Run, params: Tensor[], loss: number, i: number): void {
  const { rtol, atol } = TOLERANCE[run.dtype as 'float32' | 'float64'];
  const expected = run.steps[i];
  expectClose([loss], [expected.loss], rtol, atol, `${run.name} step ${i + 1} loss`);
  params.forEach((p, j) => {
    expectClose(p.readSync(), expected.params[j], rtol, atol, `${run.name} step ${i + 1} param ${j}`);
  });
}

describe('optimizer trajectories match PyTorch 1.13', () => {
  it('covers every optimizer, in float64 and float32, with closures', () => {
    const kinds = new Set(golden.runs.map((r) => r.optimizer));
    expect([...kinds].sort()).toEqual(['Adadelta', 'Adagrad', 'Adam', 'AdamW', 'RMSprop', 'SGD']);
    expect(golden.runs.filter((r) => r.dtype === 'float32').length).toBeGreaterThanOrEqual(6);
    expect(golden.runs.some((r) => r.closure)).toBe(true);
  });

  for (const run of golden.runs) {
    describe(run.name, () => {
      const { rtol, atol } = TOLERANCE[run.dtype as 'float32' | 'float64'];

      it(`follows PyTorch for ${golden.steps} steps (loss and every parameter)`, () => {
        const { params, loss, optimizer } = setup(run, run.init);
        for (let i = 0; i < golden.steps; i++) expectStep(run, params, trainStep(run, optimizer, loss), i);
        // the frozen parameter never moved and has no state
        expect(params[1].readSync()).toEqual(makeTensor(run.init[1], run.shapes[1], run.dtype).readSync());
        if (run.optimizer !== 'Adagrad') expect(optimizer.state.has(params[1])).toBe(false);
      });

      it("prints PyTorch's repr and writes PyTorch's state dict", () => {
        const { loss, optimizer } = setup(run, run.init);
        for (let i = 0; i < golden.steps; i++) trainStep(run, optimizer, loss);
        expect(String(optimizer)).toBe(run.repr);
        expectSameData(optimizer.stateDict(), run.finalState, rtol, atol, 'state_dict');
      });

      it("resumes from PyTorch's mid-run state dict", () => {
        const { params, loss, optimizer } = setup(run, run.steps[golden.mid - 1].params);
        optimizer.loadStateDict(decode(run.midState) as unknown as OptimizerStateDictInput);
        for (let i = golden.mid; i < golden.steps; i++)
          expectStep(run, params, trainStep(run, optimizer, loss), i);
      });

      it('round-trips its own state dict mid-run', () => {
        const first = setup(run, run.init);
        for (let i = 0; i < golden.mid; i++) trainStep(run, first.optimizer, first.loss);
        const saved = first.optimizer.stateDict();
        const resumed = setup(run, run.steps[golden.mid - 1].params);
        resumed.optimizer.loadStateDict(saved);
        // the loaded state is a copy: training the original further must not touch it
        for (let i = golden.mid; i < golden.steps; i++) trainStep(run, first.optimizer, first.loss);
        for (let i = golden.mid; i < golden.steps; i++) {
          expectStep(run, resumed.params, trainStep(run, resumed.optimizer, resumed.loss), i);
        }
        first.params.forEach((p, j) => {
          expectClose(p.readSync(), run.steps[golden.steps - 1].params[j], rtol, atol, `original param ${j}`);
        });
      });
    });
  }
});
