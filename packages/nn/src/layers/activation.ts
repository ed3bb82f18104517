// Activation layers: ReLU, LeakyReLU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax.

import { checkOptions, type Tensor } from '@graft/tensor';
import * as F from '../functional.js';
import { Module } from '../module.js';
import { pyFloat } from '../pyrepr.js';

function inplaceArg(layer: string, v: boolean | { inplace?: boolean } | undefined): boolean {
  if (typeof v === 'boolean') return v;
  checkOptions(layer, v, ['inplace']);
  return v?.inplace ?? false;
}

/** max(0, x). `new ReLU()` or `new ReLU({ inplace: true })` (printed as `ReLU(inplace=True)`). */
export class ReLU extends Module {
  readonly inplace: boolean;

  constructor(opts?: boolean | { inplace?: boolean }) {
    super();
    this.inplace = inplaceArg('ReLU', opts);
  }

  override forward(input: Tensor): Tensor {
    return F.relu(input, { inplace: this.inplace });
  }

  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** max(0, x) + negativeSlope · min(0, x). `new LeakyReLU(0.2)`. */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  readonly inplace: boolean;

  constructor(negativeSlope = 0.01, opts?: boolean | { inplace?: boolean }) {
    super();
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
      throw new Error(`LeakyReLU: negative_slope must be a finite number, got ${String(negativeSlope)}`);
    }
    this.negativeSlope = negativeSlope;
    this.inplace = inplaceArg('LeakyReLU', opts);
  }

  override forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope, { inplace: this.inplace });
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ', inplace=True' : ''}`;
  }
}

/** Gaussian error linear unit, exact (`'none'`) or with the tanh approximation. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(opts: { approximate?: 'none' | 'tanh' } | 'none' | 'tanh' = {}) {
    super();
    if (typeof opts !== 'string') checkOptions('GELU', opts, ['approximate']);
    const approximate = typeof opts === 'string' ? opts : (opts?.approximate ?? 'none');
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new Error(`GELU: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
    }
    this.approximate = approximate;
  }

  override forward(input: Tensor): Tensor {
    return F.gelu(input, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

export class Sigmoid extends Module {
  override forward(input: Tensor): Tensor {
    return input.sigmoid();
  }
}

export class Tanh extends Module {
  override forward(input: Tensor): Tensor {
    return input.tanh();
  }
}

function dimArg(layer: string, v: number | null | { dim?: number | null } | undefined): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return v;
  checkOptions(layer, v, ['dim']);
  return v.dim ?? null;
}

/** Softmax along `dim` (`new Softmax(1)`); without a dim, PyTorch's legacy implicit choice. */
export class Softmax extends Module {
  readonly dim: number | null;

  constructor(dim?: number | null | { dim?: number | null }) {
    super();
    this.dim = dimArg('Softmax', dim);
  }

  override forward(input: Tensor): Tensor {
    return F.softmax(input, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably. */
export class LogSoftmax extends Module {
  readonly dim: number | null;

  constructor(dim?: number | null | { dim?: number | null }) {
    super();
    this.dim = dimArg('LogSoftmax', dim);
  }

  override forward(input: Tensor): Tensor {
    return F.logSoftmax(input, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}
