// Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d.

import { checkOptions, type IntPair, type Tensor } from '@graft/tensor';
import * as F from '../functional.js';
import { Module } from '../module.js';
import { pyValue } from '../pyrepr.js';
import { toPair } from './conv.js';

export interface MaxPool2dOptions<R extends boolean = boolean> {
  stride?: IntPair | null;
  padding?: IntPair;
  dilation?: IntPair;
  /** Return `[values, indices]` instead of values. */
  returnIndices?: R;
  ceilMode?: boolean;
}

function isOptions(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates an int-or-pair option while keeping the form the user gave (reprs print it as given). */
function keepForm(layer: string, name: string, v: IntPair, min: number): IntPair {
  const [a, b] = toPair(layer, name, v, min);
  return typeof v === 'number' ? a : [a, b];
}

/** Max over sliding windows. `new MaxPool2d(2, 2)` or `new MaxPool2d(3, { stride: 2, padding: 1 })`. */
export class MaxPool2d<R extends boolean = false> extends Module {
  readonly kernelSize: IntPair;
  readonly stride: IntPair;
  readonly padding: IntPair;
  readonly dilation: IntPair;
  readonly returnIndices: R;
  readonly ceilMode: boolean;

  constructor(
    kernelSize: IntPair,
    stride?: IntPair | null | MaxPool2dOptions<R>,
    opts: MaxPool2dOptions<R> = {},
  ) {
    super();
    checkOptions('MaxPool2d', isOptions(stride) ? stride : opts, [
      'stride',
      'padding',
      'dilation',
      'returnIndices',
      'ceilMode',
    ]);
    const o: MaxPool2dOptions<R> = isOptions(stride)
      ? (stride as MaxPool2dOptions<R>)
      : { ...opts, stride: stride ?? opts.stride };
    this.kernelSize = keepForm('MaxPool2d', 'kernel_size', kernelSize, 1);
    this.stride = o.stride == null ? this.kernelSize : keepForm('MaxPool2d', 'stride', o.stride, 1);
    this.padding = keepForm('MaxPool2d', 'padding', o.padding ?? 0, 0);
    this.dilation = keepForm('MaxPool2d', 'dilation', o.dilation ?? 1, 1);
    this.returnIndices = (o.returnIndices ?? false) as R;
    this.ceilMode = o.ceilMode ?? false;
  }

  override forward(input: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    const opts = {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    };
    const out = this.returnIndices
      ? F.maxPool2dWithIndices(input, this.kernelSize, opts)
      : F.maxPool2d(input, this.kernelSize, opts);
    return out as R extends true ? [Tensor, Tensor] : Tensor;
  }

  override extraRepr(): string {
    return (
      `kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}, padding=${pyValue(this.padding)}, ` +
      `dilation=${pyValue(this.dilation)}, ceil_mode=${pyValue(this.ceilMode)}`
    );
  }
}

export interface AvgPool2dModuleOptions {
  stride?: IntPair | null;
  padding?: IntPair;
  ceilMode?: boolean;
  /** Count zero padding in the average's divisor (default true). */
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** Mean over sliding windows. `new AvgPool2d(2)`. */
export class AvgPool2d extends Module {
  readonly kernelSize: IntPair;
  readonly stride: IntPair;
  readonly padding: IntPair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(
    kernelSize: IntPair,
    stride?: IntPair | null | AvgPool2dModuleOptions,
    opts: AvgPool2dModuleOptions = {},
  ) {
    super();
    checkOptions('AvgPool2d', isOptions(stride) ? stride : opts, [
      'stride',
      'padding',
      'ceilMode',
      'countIncludePad',
      'divisorOverride',
    ]);
    const o: AvgPool2dModuleOptions = isOptions(stride)
      ? (stride as AvgPool2dModuleOptions)
      : { ...opts, stride: stride ?? opts.stride };
    this.kernelSize = keepForm('AvgPool2d', 'kernel_size', kernelSize, 1);
    this.stride = o.stride == null ? this.kernelSize : keepForm('AvgPool2d', 'stride', o.stride, 1);
    this.padding = keepForm('AvgPool2d', 'padding', o.padding ?? 0, 0);
    this.ceilMode = o.ceilMode ?? false;
    this.countIncludePad = o.countIncludePad ?? true;
    this.divisorOverride = o.divisorOverride ?? null;
    if (
      this.divisorOverride !== null &&
      !(Number.isInteger(this.divisorOverride) && this.divisorOverride > 0)
    ) {
      throw new Error(`AvgPool2d: divisor_override must be a positive integer, got ${this.divisorOverride}`);
    }
  }

  override forward(input: Tensor): Tensor {
    return F.avgPool2d(input, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}, padding=${pyValue(this.padding)}`;
  }
}

export type AdaptiveSize = number | [number | null, number | null];

/** Averages each channel down to `outputSize` (ResNet's `AdaptiveAvgPool2d((1, 1))` is `[1, 1]`). */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: AdaptiveSize;

  constructor(outputSize: AdaptiveSize) {
    super();
    const parts = typeof outputSize === 'number' ? [outputSize] : Array.isArray(outputSize) ? outputSize : [];
    if (
      (parts.length !== 1 && parts.length !== 2) ||
      !parts.every((v) => v === null || (Number.isInteger(v) && (v as number) > 0))
    ) {
      throw new Error(
        `AdaptiveAvgPool2d: output_size must be a positive integer or a pair of them (null keeps the input size), got ${JSON.stringify(outputSize)}`,
      );
    }
    this.outputSize = typeof outputSize === 'number' ? outputSize : [outputSize[0], outputSize[1]];
  }

  override forward(input: Tensor): Tensor {
    return F.adaptiveAvgPool2d(input, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${pyValue(this.outputSize)}`;
  }
}
