// Conv2d: 2-D convolution over [N, C, H, W] with stride, padding (incl. 'same'), dilation and groups.

import { checkOptions, type IntPair, type Tensor, zeros } from '@graft/tensor';
import * as F from '../functional.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { pyTuple } from '../pyrepr.js';
import { checkPositive, resetWeightAndBias } from './linear.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

const CONV2D_OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode'];
export type Conv2dPadding = IntPair | 'same' | 'valid';

export interface Conv2dModuleOptions {
  stride?: IntPair;
  padding?: Conv2dPadding;
  dilation?: IntPair;
  groups?: number;
  bias?: boolean;
  /** Only 'zeros' is implemented. */
  paddingMode?: PaddingMode;
}

/** Expands an int or pair to a pair of non-negative (or positive) integers. */
export function toPair(layer: string, name: string, v: IntPair, min = 0): [number, number] {
  const p: number[] = typeof v === 'number' ? [v, v] : Array.isArray(v) ? [...v] : [];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(
      `${layer}: ${name} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return [p[0], p[1]];
}

/**
 * 2-D convolution layer, as torch.nn.Conv2d. `new Conv2d(3, 6, 5)`,
 * `new Conv2d(64, 64, 3, { stride: 1, padding: 1, bias: false })` or `new Conv2d(3, 64, 7, 2, 3)`.
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  declare weight: Parameter;
  declare bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: IntPair, opts?: Conv2dModuleOptions);
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntPair,
    stride: IntPair,
    padding?: Conv2dPadding,
    opts?: Conv2dModuleOptions,
  );
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntPair,
    strideOrOpts: IntPair | Conv2dModuleOptions = {},
    padding?: Conv2dPadding,
    moreOpts: Conv2dModuleOptions = {},
  ) {
    super();
    const positional = typeof strideOrOpts === 'number' || Array.isArray(strideOrOpts);
    checkOptions('Conv2d', positional ? moreOpts : (strideOrOpts as object), CONV2D_OPTIONS);
    const opts: Conv2dModuleOptions = positional
      ? { ...moreOpts, stride: strideOrOpts as IntPair, padding: padding ?? moreOpts.padding }
      : (strideOrOpts as Conv2dModuleOptions);
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0)
      throw new Error('Conv2d: groups must be a positive integer');
    this.inChannels = checkPositive('Conv2d', 'in_channels', inChannels);
    this.outChannels = checkPositive('Conv2d', 'out_channels', outChannels);
    if (inChannels % groups !== 0)
      throw new Error(`Conv2d: in_channels (${inChannels}) must be divisible by groups (${groups})`);
    if (outChannels % groups !== 0)
      throw new Error(`Conv2d: out_channels (${outChannels}) must be divisible by groups (${groups})`);
    this.kernelSize = toPair('Conv2d', 'kernel_size', kernelSize, 1);
    this.stride = toPair('Conv2d', 'stride', opts.stride ?? 1, 1);
    this.dilation = toPair('Conv2d', 'dilation', opts.dilation ?? 1, 1);
    const pad = opts.padding ?? 0;
    if (typeof pad === 'string') {
      if (pad !== 'same' && pad !== 'valid') {
        throw new Error(`Conv2d: Invalid padding string '${pad}', should be one of {'valid', 'same'}`);
      }
      if (pad === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
        throw new Error("Conv2d: padding='same' is not supported for strided convolutions");
      }
      this.padding = pad;
    } else {
      this.padding = toPair('Conv2d', 'padding', pad);
    }
    const mode = opts.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(mode)) {
      throw new Error(
        `Conv2d: padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular'], but got padding_mode='${mode}'`,
      );
    }
    if (mode !== 'zeros')
      throw new Error(`Conv2d: padding_mode='${mode}' is not supported yet; only 'zeros' is`);
    this.paddingMode = mode;
    this.groups = groups;
    this.weight = new Parameter(
      zeros(outChannels, inChannels / groups, this.kernelSize[0], this.kernelSize[1]),
    );
    this.registerParameter('bias', (opts.bias ?? true) ? new Parameter(zeros(outChannels)) : null);
    this.resetParameters();
  }

  /** Re-draws the weights with PyTorch's default initialisation. */
  resetParameters(): void {
    resetWeightAndBias(this.weight, this.bias);
  }

  override forward(input: Tensor): Tensor {
    if (input.ndim !== 3 && input.ndim !== 4) {
      throw new Error(
        `${this.toString()}: expected a 3D (unbatched) or 4D (batched) input, got shape [${input.shape.join(', ')}]`,
      );
    }
    const c = input.shape[input.ndim - 3];
    if (c !== this.inChannels) {
      throw new Error(
        `${this.toString()}: expected input with ${this.inChannels} channels, got shape [${input.shape.join(', ')}] (${c} channels)`,
      );
    }
    return F.conv2d(input, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding[0] !== 0 || this.padding[1] !== 0) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}
