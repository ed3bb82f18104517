// Flatten and Unflatten: reshaping layers for the seam between convolutional and linear parts.

import type { Tensor } from '@graft/tensor';
import { Module } from '../module.js';
import { pyTuple } from '../pyrepr.js';

/** Flattens dims `startDim`..`endDim` into one (default: all but the batch dim). */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    if (!Number.isInteger(startDim) || !Number.isInteger(endDim)) {
      throw new Error(`Flatten: start_dim and end_dim must be integers, got ${startDim} and ${endDim}`);
    }
    this.startDim = startDim;
    this.endDim = endDim;
  }

  override forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Splits dim `dim` into `unflattenedSize` (one entry may be -1). `new Unflatten(1, [16, 5, 5])`. */
export class Unflatten extends Module {
  readonly dim: number;
  readonly unflattenedSize: number[];

  constructor(dim: number, unflattenedSize: number[]) {
    super();
    if (!Number.isInteger(dim)) throw new Error(`Unflatten: dim must be an integer, got ${dim}`);
    if (
      !Array.isArray(unflattenedSize) ||
      !unflattenedSize.every((s) => Number.isInteger(s) && (s > 0 || s === -1))
    ) {
      throw new Error(
        `Unflatten: unflattened_size must be an array of positive integers (one may be -1), got ${JSON.stringify(unflattenedSize)}`,
      );
    }
    this.dim = dim;
    this.unflattenedSize = [...unflattenedSize];
  }

  override forward(input: Tensor): Tensor {
    return input.unflatten(this.dim, this.unflattenedSize);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyTuple(this.unflattenedSize)}`;
  }
}
