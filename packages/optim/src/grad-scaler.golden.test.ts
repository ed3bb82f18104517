// GradScaler against PyTorch 1.13's torch.cuda.amp.GradScaler (fixtures/grad_scaler.json, written by
// scripts/golden/grad_scaler.py): scale, step skipping on inf/NaN, backoff, growth, the float32 ceiling,
// update(newScale), unscale_ before step, state dicts and resuming from one. Errors and options follow.

import { tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { GradScaler, type GradScalerOptions, type GradScalerStateDict, SGD } from './index.js';
import { toCamelCase } from './python.js';
import { expectClose, fixtureJson, num } from './test-utils/fixtures.js';

type N = number | string;
interface Step {
  x: number[];
  factor: N;
  newScale: number | null;
  loss: N;
  scaledLoss: N;
  scaledGrads: N[];
  unscaledGrads: N[];
  skipped: boolean;
  w: N[];
  b: N[];
  scale: number;
  growthTracker: number;
  stateDict: GradScalerStateDict;
}
interface Scenario {
  name: string;
  options: Record<string, number>;
  unscaleFirst: boolean;
  momentum: number;
  loadAfter: number | null;
  steps: Step[];
}
interface Fixture {
  scenarios: Scenario[];
  disabled: { stateDict: Record<string, never>; scale: number };
  fresh: GradScalerStateDict;
}

const golden = fixtureJson<Fixture>('grad_scaler.json');
const nums = (a: N[]) => a.map(num);

function options(o: Record<string, number>): GradScalerOptions {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [toCamelCase(k), v]));
}

describe('GradScaler matches torch.cuda.amp.GradScaler', () => {
  for (const s of golden.scenarios) {
    it(s.name, async () => {
      const w = tensor([0.5, -1.25, 2.0], { requiresGrad: true });
      const b = tensor([0.25], { requiresGrad: true });
      const opt = new SGD([w, b], { lr: 0.1, momentum: s.momentum });
      let scaler = new GradScaler(options(s.options));
      for (const [i, st] of s.steps.entries()) {
        const at = `${s.name} step ${i}`;
        if (s.loadAfter === i) {
          const sd = scaler.stateDict();
          scaler = new GradScaler();
          scaler.loadStateDict(sd);
        }
        opt.zeroGrad();
        const loss = w.mul(tensor(st.x)).sum().add(b.sum()).pow(2).mul(num(st.factor));
        const scaled = scaler.scale(loss);
        scaled.backward();
        expectClose([await loss.item()], [num(st.loss)], 1e-6, 0, `${at} loss`);
        expectClose([await scaled.item()], [num(st.scaledLoss)], 1e-6, 0, `${at} scaled loss`);
        const grads = async () => [...(await w.grad!.read()), ...(await b.grad!.read())];
        expectClose(await grads(), nums(st.scaledGrads), 1e-6, 0, `${at} scaled grads`);
        if (s.unscaleFirst) scaler.unscale_(opt);
        await scaler.step(opt);
        expectClose(await grads(), nums(st.unscaledGrads), 1e-6, 0, `${at} unscaled grads`);
        scaler.update(st.newScale ?? undefined);
        expectClose(
          [...(await w.read()), ...(await b.read())],
          [...nums(st.w), ...nums(st.b)],
          // float32 rounding of the loss and momentum compounds over 12 steps (a few ulps of the updates)
          2e-5,
          1e-6,
          `${at} params`,
        );
        expect(scaler.getScale(), `${at} scale`).toBe(st.scale);
        expect(scaler.stateDict(), `${at} state dict`).toEqual(st.stateDict);
        expect(st.stateDict._growth_tracker).toBe(st.growthTracker);
      }
    });
  }

  it('a fresh scaler reports its options before the first scale(), and a disabled one reports {} and scale 1', () => {
    expect(new GradScaler({ initScale: 512 }).stateDict()).toEqual(golden.fresh);
    const off = new GradScaler({ enabled: false });
    expect(off.stateDict()).toEqual(golden.disabled.stateDict);
    expect(off.getScale()).toBe(golden.disabled.scale);
  });
});

describe('GradScaler semantics', () => {
  const setup = () => {
    const w = tensor([1.5, 2.5], { requiresGrad: true });
    const opt = new SGD([w], { lr: 1 });
    return { w, opt };
  };

  it("defaults are PyTorch's: 2^16, x2, x0.5, every 2000 steps", () => {
    const s = new GradScaler();
    expect(s.stateDict()).toEqual({
      scale: 65536,
      growth_factor: 2,
      backoff_factor: 0.5,
      growth_interval: 2000,
      _growth_tracker: 0,
    });
  });

  it("refuses unknown options with a suggestion, and bad factors with PyTorch's messages", () => {
    expect(() => new GradScaler({ init_scale: 2 } as never)).toThrow(
      "GradScaler: unknown option 'init_scale'; did you mean 'initScale'?",
    );
    expect(() => new GradScaler({ growthFactor: 1 })).toThrow('The growth factor must be > 1.0.');
    expect(() => new GradScaler({ backoffFactor: 1 })).toThrow('The backoff factor must be < 1.0.');
  });

  it("raises PyTorch's errors for out-of-order calls", async () => {
    const { w, opt } = setup();
    const s = new GradScaler();
    expect(() => s.unscale_(opt)).toThrow('Attempted unscale_ but _scale is None.');
    s.scale(w.sum()).backward();
    s.unscale_(opt);
    expect(() => s.unscale_(opt)).toThrow(
      'unscale_() has already been called on this optimizer since the last update().',
    );
    await s.step(opt);
    await expect(s.step(opt)).rejects.toThrow('step() has already been called since the last update().');
    expect(() => s.unscale_(opt)).toThrow('unscale_() is being called after step().');
    s.update();
    expect(() => s.update()).toThrow('No inf checks were recorded prior to update.');
    const h = tensor([1], { requiresGrad: true, dtype: 'float16' });
    const opt16 = new SGD([h], { lr: 1 });
    s.scale(h.sum().float()).backward();
    expect(() => s.unscale_(opt16)).toThrow('Attempting to unscale FP16 gradients.');
    expect(() => s.loadStateDict({})).toThrow(
      'The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler.',
    );
  });

  it('scales a float16 loss in float32, so the scaled loss cannot overflow', async () => {
    const s = new GradScaler();
    const loss = tensor(2, { dtype: 'float16' });
    const scaled = s.scale(loss);
    expect(scaled.dtype).toBe('float32');
    expect(await scaled.item()).toBe(131072);
  });

  it('disabled: scale returns its input, step steps, update does nothing', async () => {
    const { w, opt } = setup();
    const s = new GradScaler({ enabled: false });
    const loss = w.sum();
    expect(s.scale(loss)).toBe(loss);
    loss.backward();
    await s.step(opt);
    s.update();
    expect(Array.from(await w.read())).toEqual([0.5, 1.5]);
  });

  it("answers to PyTorch's snake_case method names", () => {
    const s = new GradScaler({ initScale: 8 }) as GradScaler & Record<string, (...a: unknown[]) => unknown>;
    expect(s.get_scale()).toBe(8);
    expect(s.state_dict()).toEqual(s.stateDict());
    s.load_state_dict({ ...s.stateDict(), scale: 4 });
    expect(s.getScale()).toBe(4);
    s.set_growth_interval(7);
    expect(s.get_growth_interval()).toBe(7);
    expect(s.is_enabled()).toBe(true);
  });
});
