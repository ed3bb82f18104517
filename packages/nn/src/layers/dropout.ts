// Dropout: random zeroing in training mode, the identity in eval mode.

import { checkOptions, type Generator, type Tensor } from '@graft/tensor';
import * as F from '../functional.js';
import { Module } from '../module.js';
import { pyFloat, pyValue } from '../pyrepr.js';

export interface DropoutModuleOptions {
  p?: number;
  inplace?: boolean;
  /** Draw masks from this generator instead of the default one. */
  generator?: Generator;
}

/** Zeroes each element with probability `p` while training and scales the rest by 1/(1-p). `new Dropout(0.5)`. */
export class Dropout extends Module {
  readonly p: number;
  readonly inplace: boolean;
  generator: Generator | undefined;

  constructor(p: number | DropoutModuleOptions = 0.5, opts: DropoutModuleOptions = {}) {
    super();
    checkOptions('Dropout', typeof p === 'number' ? opts : p, ['p', 'inplace', 'generator']);
    const o = typeof p === 'number' ? { ...opts, p } : (p ?? {});
    const prob = o.p ?? 0.5;
    if (typeof prob !== 'number' || !(prob >= 0 && prob <= 1)) {
      throw new Error(`Dropout: dropout probability has to be between 0 and 1, but got ${String(prob)}`);
    }
    this.p = prob;
    this.inplace = o.inplace ?? false;
    this.generator = o.generator;
  }

  override forward(input: Tensor): Tensor {
    return F.dropout(input, {
      p: this.p,
      training: this.training,
      inplace: this.inplace,
      generator: this.generator,
    });
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyValue(this.inplace)}`;
  }
}
