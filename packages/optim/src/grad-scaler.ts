// GradScaler: PyTorch's dynamic loss scaling for mixed precision (torch.cuda.amp.GradScaler). The loss is
// multiplied by a scale before backward so small float16 gradients do not flush to zero; step() unscales
// the gradients, skips the optimizer step when any is inf or NaN, and update() backs the scale off after
// an overflow or grows it after `growthInterval` clean steps.

import { checkOptions, noGrad, type Tensor } from '@graft/tensor';
import { defineSnakeCaseAliases, type Optimizer } from './optimizer.js';

/** Options of `new GradScaler()`, as torch.cuda.amp.GradScaler's keyword arguments. */
export interface GradScalerOptions {
  /** The first scale (default 2^16). */
  initScale?: number;
  /** Multiplies the scale after `growthInterval` steps without inf/NaN gradients (default 2). */
  growthFactor?: number;
  /** Multiplies the scale after a step with inf/NaN gradients (default 0.5). */
  backoffFactor?: number;
  /** Clean steps between two growths (default 2000). */
  growthInterval?: number;
  /** False makes every method a pass-through: scale() returns its input, step() steps (default true). */
  enabled?: boolean;
}

/** `scaler.stateDict()`: PyTorch's keys, so a checkpoint's `scaler` entry loads in either library. */
export interface GradScalerStateDict {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  _growth_tracker: number;
}

/** Where an optimizer is in the current iteration (PyTorch's OptState). */
type Stage = 'ready' | 'unscaled' | 'stepped';

interface OptimizerIteration {
  stage: Stage;
  /** 1 when a gradient was inf or NaN: a device scalar until step() reads it back. */
  foundInf: Tensor | null;
  /** The value read back by step(). */
  foundInfValue: number | null;
}

const OPTIONS = ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled'];

/**
 * Dynamic loss scaling (torch.cuda.amp.GradScaler):
 *
 * ```ts
 * const scaler = new GradScaler();
 * const loss = autocast('webgpu', () => F.crossEntropy(model.forward(x), y));
 * scaler.scale(loss).backward();
 * await scaler.step(opt);   // unscales, skips the step on inf/NaN gradients (one scalar readback)
 * scaler.update();
 * ```
 *
 * The scale and growth tracker live on the host (PyTorch keeps them on the GPU to avoid syncs, but its
 * step() syncs on the inf check all the same); the inf check and the unscaling run on the gradients' device.
 */
export class GradScaler {
  private scaleValue: number;
  private growthFactor: number;
  private backoffFactor: number;
  private growthInterval: number;
  private growthTracker: number;
  /** False until the first scale() (PyTorch creates its scale tensor there). */
  private started = false;
  private readonly enabled: boolean;
  private iterations = new Map<Optimizer, OptimizerIteration>();

  constructor(options: GradScalerOptions = {}) {
    checkOptions('GradScaler', options, OPTIONS);
    this.enabled = options.enabled ?? true;
    this.scaleValue = Math.fround(options.initScale ?? 2 ** 16);
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
    this.growthTracker = 0;
    if (!(this.growthFactor > 1)) throw new Error('The growth factor must be > 1.0.');
    if (!(this.backoffFactor < 1)) throw new Error('The backoff factor must be < 1.0.');
    if (!Number.isInteger(this.growthInterval) || this.growthInterval <= 0) {
      throw new Error(`GradScaler: growthInterval must be a positive integer, got ${this.growthInterval}`);
    }
  }

  /**
   * `outputs` (a loss, or a list of them) multiplied by the scale. A float16 or bfloat16 loss is cast to
   * float32 first, as PyTorch's float32 scale tensor promotes it, so the scaled loss cannot overflow.
   */
  scale(outputs: Tensor): Tensor;
  scale(outputs: Tensor[]): Tensor[];
  scale(outputs: Tensor | Tensor[]): Tensor | Tensor[] {
    if (!this.enabled) return outputs;
    this.started = true;
    const one = (t: Tensor) => {
      const wide = t.dtype === 'float16' || t.dtype === 'bfloat16' ? t.float() : t;
      return wide.mul(this.scaleValue);
    };
    return Array.isArray(outputs) ? outputs.map(one) : one(outputs);
  }

  private iteration(optimizer: Optimizer): OptimizerIteration {
    let it = this.iterations.get(optimizer);
    if (!it) {
      it = { stage: 'ready', foundInf: null, foundInfValue: null };
      this.iterations.set(optimizer, it);
    }
    return it;
  }

  private requireStarted(funcname: string): void {
    if (!this.started) {
      throw new Error(
        `Attempted ${funcname} but _scale is None.  This may indicate your script did not use ` +
          'scaler.scale(loss or outputs) earlier in the iteration.',
      );
    }
  }

  /**
   * Divides the optimizer's gradients by the scale in place (once per iteration, before step), and records
   * whether any is inf or NaN. Call it before clipping gradients; step() then does not unscale again.
   */
  unscale_(optimizer: Optimizer): void {
    if (!this.enabled) return;
    this.requireStarted('unscale_');
    const it = this.iteration(optimizer);
    if (it.stage === 'unscaled') {
      throw new Error('unscale_() has already been called on this optimizer since the last update().');
    }
    if (it.stage === 'stepped') throw new Error('unscale_() is being called after step().');
    // PyTorch: self._scale.double().reciprocal().float()
    const invScale = Math.fround(1 / this.scaleValue);
    let found: Tensor | null = null;
    noGrad(() => {
      for (const group of optimizer.paramGroups) {
        for (const p of group.params) {
          const g = p._peekGrad();
          if (g === null) continue;
          if (g.dtype === 'float16') throw new Error('Attempting to unscale FP16 gradients.');
          const bad = g.isfinite().all().logicalNot();
          found = found === null ? bad : found.logicalOr(bad);
          g.mul_(invScale);
        }
      }
    });
    it.foundInf = found;
    it.stage = 'unscaled';
  }

  /**
   * Unscales the gradients (unless unscale_ did), then runs `optimizer.step()` unless a gradient is inf
   * or NaN. Async: the inf check is read back from the gradients' device. Resolves to what
   * `optimizer.step()` returned, or undefined when the step was skipped.
   */
  async step(optimizer: Optimizer): Promise<unknown> {
    if (!this.enabled) return optimizer.step();
    this.requireStarted('step');
    const it = this.iteration(optimizer);
    if (it.stage === 'stepped') throw new Error('step() has already been called since the last update().');
    if (it.stage === 'ready') this.unscale_(optimizer);
    if (it.foundInf === null) throw new Error('No inf checks were recorded for this optimizer.');
    it.stage = 'stepped';
    it.foundInfValue = Number(await it.foundInf.item());
    return it.foundInfValue ? undefined : optimizer.step();
  }

  /**
   * Ends the iteration: with `newScale`, sets the scale; otherwise multiplies it by backoffFactor if any
   * optimizer stepped over inf/NaN gradients, or by growthFactor after growthInterval clean steps in a row.
   */
  update(newScale?: number): void {
    if (!this.enabled) return;
    this.requireStarted('update');
    if (newScale !== undefined) {
      if (typeof newScale !== 'number') {
        throw new Error(
          `GradScaler.update: newScale must be a number, got ${typeof newScale} (read a tensor back with \`await t.item()\`)`,
        );
      }
      this.scaleValue = Math.fround(newScale);
    } else {
      const checks = [...this.iterations.values()].filter((it) => it.foundInfValue !== null);
      if (checks.length === 0) throw new Error('No inf checks were recorded prior to update.');
      const foundInf = checks.some((it) => it.foundInfValue);
      // torch._amp_update_scale_ (float32 scale, int32 tracker).
      if (foundInf) {
        this.scaleValue = Math.fround(this.scaleValue * this.backoffFactor);
        this.growthTracker = 0;
      } else {
        const successful = this.growthTracker + 1;
        if (successful === this.growthInterval) {
          const grown = Math.fround(this.scaleValue * this.growthFactor);
          if (Number.isFinite(grown)) this.scaleValue = grown;
          this.growthTracker = 0;
        } else {
          this.growthTracker = successful;
        }
      }
    }
    this.iterations = new Map();
  }

  /** The current scale (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }
  getGrowthFactor(): number {
    return this.growthFactor;
  }
  setGrowthFactor(value: number): void {
    this.growthFactor = value;
  }
  getBackoffFactor(): number {
    return this.backoffFactor;
  }
  setBackoffFactor(value: number): void {
    this.backoffFactor = value;
  }
  getGrowthInterval(): number {
    return this.growthInterval;
  }
  setGrowthInterval(value: number): void {
    this.growthInterval = value;
  }
  isEnabled(): boolean {
    return this.enabled;
  }

  /** PyTorch's state_dict: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker ({} when disabled). */
  stateDict(): GradScalerStateDict | Record<string, never> {
    if (!this.enabled) return {};
    return {
      scale: this.getScale(),
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker,
    };
  }

  /** Loads a `stateDict()` (or PyTorch's `scaler.state_dict()`); a no-op when disabled. */
  loadStateDict(stateDict: Partial<GradScalerStateDict>): void {
    if (!this.enabled) return;
    const keys = Object.keys(stateDict ?? {});
    if (keys.length === 0) {
      throw new Error(
        'The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler.',
      );
    }
    const known: (keyof GradScalerStateDict)[] = [
      'scale',
      'growth_factor',
      'backoff_factor',
      'growth_interval',
      '_growth_tracker',
    ];
    const missing = known.filter((k) => typeof stateDict[k] !== 'number');
    if (missing.length) {
      throw new Error(`GradScaler.loadStateDict: missing or non-numeric keys: ${missing.join(', ')}`);
    }
    const sd = stateDict as GradScalerStateDict;
    this.scaleValue = Math.fround(sd.scale);
    this.growthFactor = sd.growth_factor;
    this.backoffFactor = sd.backoff_factor;
    this.growthInterval = sd.growth_interval;
    this.growthTracker = sd._growth_tracker;
  }
}

/** PyTorch's snake_case method names act as the camelCase ones (`scaler.get_scale()`, `state_dict()`). */
const SNAKE_CASE_ALIASES: Record<string, string> = {
  get_scale: 'getScale',
  get_growth_factor: 'getGrowthFactor',
  set_growth_factor: 'setGrowthFactor',
  get_backoff_factor: 'getBackoffFactor',
  set_backoff_factor: 'setBackoffFactor',
  get_growth_interval: 'getGrowthInterval',
  set_growth_interval: 'setGrowthInterval',
  is_enabled: 'isEnabled',
  state_dict: 'stateDict',
  load_state_dict: 'loadStateDict',
};
defineSnakeCaseAliases(GradScaler.prototype, 'GradScaler', SNAKE_CASE_ALIASES);
