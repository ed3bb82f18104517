// Module fusion for model forwards (e.g. @graft/models' ResNet), used when nothing could observe the
// intermediate tensors (no hooks): in eval mode without gradients, Conv2d -> BatchNorm -> (+ residual)
// -> ReLU becomes one fusedConv2d call; otherwise BatchNorm -> (+ residual) -> ReLU becomes one
// fusedBatchNorm node. Results equal the module-by-module forward up to float rounding.

import { checkOptions, fromTypedArray, fusedConv2d, isGradEnabled, noGrad, type Tensor } from '@graft/tensor';
import { Conv2d } from './layers/conv.js';
import { BatchNorm } from './layers/normalization.js';
import type { Module } from './module.js';

let fusionEnabled = true;

/**
 * Turns module fusion on or off (default on). Off, models run their modules one by one, as PyTorch's
 * eager mode does; useful to compare the two or to debug.
 */
export function setModuleFusion(enabled: boolean): void {
  fusionEnabled = enabled;
}

export function moduleFusionEnabled(): boolean {
  return fusionEnabled;
}

function hooked(m: Module): boolean {
  return m._forwardHooks.size > 0 || m._forwardPreHooks.size > 0;
}

/**
 * Whether BatchNorm(-add)-ReLU chains over these modules may run as one fused op (`bnAct`), in
 * training or eval: fusion on and no forward hooks on them, so no one can observe the intermediates.
 */
export function canFuse(...mods: Module[]): boolean {
  return fusionEnabled && !mods.some(hooked);
}

/**
 * relu?(bn(x) + residual) as one op: `bn`'s own forward (running statistics, momentum, eval mode)
 * with the add and ReLU fused into it (tensor's fusedBatchNorm). Call where `canFuse` holds.
 */
export function bnAct(
  bn: BatchNorm,
  x: Tensor,
  opts: { residual?: Tensor | null; relu?: boolean } = {},
): Tensor {
  checkOptions('bnAct', opts, ['residual', 'relu']);
  return bn._forwardFused(x, opts.residual ?? null, opts.relu ?? false);
}

/**
 * Whether `mods` (and their submodules) can run as fused eval kernels on input `x`: fusion on, no
 * forward hooks anywhere, every BatchNorm in eval mode with running statistics, Conv2d layers with
 * zero padding, and no gradient needed for `x` or any parameter.
 */
export function canFuseEval(x: Tensor, ...mods: Module[]): boolean {
  if (!fusionEnabled || x.ndim !== 4) return false;
  const grad = isGradEnabled();
  if (grad && x.requiresGrad) return false;
  for (const root of mods) {
    for (const m of root.modules()) {
      if (hooked(m)) return false;
      if (m instanceof BatchNorm && (m.training || !m.running_mean || !m.running_var)) return false;
      if (m instanceof Conv2d && m.paddingMode !== 'zeros') return false;
    }
    if (grad) for (const p of root.parameters()) if (p.requiresGrad) return false;
  }
  return true;
}

/**
 * relu?(bn(conv(x)) + residual) in one fused call, with `bn` folded into a per-channel scale and
 * shift. Call only where `canFuseEval` holds for these modules; `x` must have conv's channels.
 */
export function convBnEval(
  conv: Conv2d,
  bn: BatchNorm | null,
  x: Tensor,
  opts: { residual?: Tensor | null; relu?: boolean } = {},
): Tensor {
  checkOptions('convBnEval', opts, ['residual', 'relu']);
  // A channel mismatch: the module's own forward throws its error.
  if (x.shape[1] !== conv.inChannels) return conv.call(x);
  // The folded scale and shift are temporaries of this call: freed once the kernel has run, so a
  // synchronous inference loop does not pile them up until the garbage collector comes.
  const temps: Tensor[] = [];
  const tmp = (t: Tensor) => {
    temps.push(t);
    return t;
  };
  const folded = bn && foldOnCpu(conv, bn);
  if (folded) temps.push(folded.scale, folded.shift);
  const { scale, shift } = noGrad(() => {
    if (folded) return folded;
    if (!bn) return { scale: null, shift: conv.bias };
    // y = (conv + b - mean) / sqrt(var + eps) * w + beta  =  conv * scale + shift
    const invstd = tmp(tmp((bn.running_var as Tensor).add(bn.eps)).rsqrt());
    const s = bn.weight ? tmp(bn.weight.mul(invstd)) : invstd;
    let t = tmp(tmp((bn.running_mean as Tensor).mul(s)).neg());
    if (conv.bias) t = tmp(t.add(tmp(conv.bias.mul(s))));
    if (bn.bias) t = tmp(t.add(bn.bias));
    return { scale: s, shift: t };
  });
  const y = fusedConv2d(x, conv.weight, {
    stride: conv.stride,
    padding: conv.padding,
    dilation: conv.dilation,
    groups: conv.groups,
    scale,
    shift,
    residual: opts.residual ?? null,
    relu: opts.relu ?? false,
  });
  for (const t of temps) t.dispose();
  return y;
}

/**
 * The eval fold of `bn` (and conv's bias) on CPU float32 tensors as one loop over the channels instead
 * of six tensor ops, each a dispatch and an allocation: the same float32 operations in the same order
 * (var + eps, 1 / sqrt rounded once, weight * invstd, -(mean * scale), + bias * scale, + beta), so the
 * same bits as the composed ops. Null elsewhere (the composed ops run).
 */
function foldOnCpu(conv: Conv2d, bn: BatchNorm): { scale: Tensor; shift: Tensor } | null {
  const mean = bn.running_mean as Tensor;
  const variance = bn.running_var as Tensor;
  const parts = [mean, variance, bn.weight, bn.bias, conv.bias];
  for (const t of parts) if (t && (t.device !== 'cpu' || t.dtype !== 'float32')) return null;
  const [m, v, w, b, cb] = parts.map((t) => t && (t.readSync() as Float32Array));
  const C = m!.length;
  const eps = Math.fround(bn.eps);
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const invstd = Math.fround(1 / Math.sqrt(Math.fround(v![c] + eps)));
    const s = w ? Math.fround(w[c] * invstd) : invstd;
    let t = -Math.fround(m![c] * s);
    if (cb) t = Math.fround(t + Math.fround(cb[c] * s));
    if (b) t = Math.fround(t + b[c]);
    scale[c] = s;
    shift[c] = t;
  }
  return { scale: fromTypedArray(scale, [C]), shift: fromTypedArray(shift, [C]) };
}
