// The reference backend's named kernels: fused batch norm (+ residual + ReLU) forward and backward, the
// ReLU gradient and the SGD and Adam updates, over the float loops of cpu/norm.ts and cpu/optim.ts.

import type { AdamOperands, AdamStepOptions, SgdStepOptions, Storage, View } from '../../backend.js';
import { numelOf } from '../../shape.js';
import type { FloatArray } from '../gemm.js';
import { batchDims, batchNormBackwardLoop, batchNormForwardLoop, reluBackwardLoop } from '../norm.js';
import { adamStepLoop, sgdStepLoop } from '../optim.js';
import { type ArrayAllocator, CpuStorage, floats, floatsLike } from '../storage.js';

/** Training-mode batch norm over [N, C, ...] with batch statistics, then residual and ReLU when asked. */
export function referenceBatchNormForward(
  cpu: ArrayAllocator,
  x: View,
  weight: View | null,
  bias: View | null,
  eps: number,
  residual: View | null = null,
  relu = false,
): { out: Storage; mean: Storage; variance: Storage; invstd: Storage } {
  const X = floats(x, 'batchNorm');
  const [N, C, S] = batchDims(x.shape);
  const st = (a: FloatArray) => new CpuStorage(a, cpu);
  const out = floatsLike(cpu, X, N * C * S);
  const mean = floatsLike(cpu, X, C);
  const variance = floatsLike(cpu, X, C);
  const invstd = floatsLike(cpu, X, C);
  batchNormForwardLoop(
    X,
    x.offset,
    N,
    C,
    S,
    weight && floats(weight, 'batchNorm'),
    weight?.offset ?? 0,
    bias && floats(bias, 'batchNorm'),
    bias?.offset ?? 0,
    eps,
    residual && floats(residual, 'batchNorm'),
    residual?.offset ?? 0,
    relu,
    out,
    mean,
    variance,
    invstd,
  );
  return { out: st(out), mean: st(mean), variance: st(variance), invstd: st(invstd) };
}

/** Batch-norm gradients (through the ReLU mask when `reluOut` is given); gx only when `needInput`. */
export function referenceBatchNormBackward(
  cpu: ArrayAllocator,
  g: View,
  x: View,
  mean: View,
  invstd: View,
  weight: View | null,
  needInput: boolean,
  reluOut: View | null = null,
): { gx: Storage | null; gw: Storage; gb: Storage; gm: Storage | null } {
  const G = floats(g, 'batchNorm backward');
  const X = floats(x, 'batchNorm backward');
  const [N, C, S] = batchDims(x.shape);
  const st = (a: FloatArray | null) => a && new CpuStorage(a, cpu);
  const gx = needInput ? floatsLike(cpu, G, N * C * S) : null;
  const gm = reluOut ? floatsLike(cpu, G, N * C * S) : null;
  const gw = floatsLike(cpu, G, C);
  const gb = floatsLike(cpu, G, C);
  const vec = (v: View) => floats(v, 'batchNorm backward').subarray(v.offset, v.offset + C);
  batchNormBackwardLoop(
    G,
    g.offset,
    X,
    x.offset,
    N,
    C,
    S,
    vec(mean),
    vec(invstd),
    weight && floats(weight, 'batchNorm backward'),
    weight?.offset ?? 0,
    reluOut && floats(reluOut, 'batchNorm backward'),
    reluOut?.offset ?? 0,
    gm,
    gx,
    gw,
    gb,
  );
  return { gx: st(gx), gw: new CpuStorage(gw, cpu), gb: new CpuStorage(gb, cpu), gm: st(gm) };
}

/** One SGD update of `param` in place (and of the momentum buffer `buf`), as torch.optim.SGD does it. */
export function referenceSgdStep(param: View, grad: View, buf: View | null, o: SgdStepOptions): void {
  sgdStepLoop(
    floats(param, 'sgdStep'),
    param.offset,
    floats(grad, 'sgdStep'),
    grad.offset,
    buf && floats(buf, 'sgdStep'),
    buf?.offset ?? 0,
    numelOf(param.shape),
    o.lr,
    o.momentum,
    o.dampening,
    o.nesterov,
    o.maximize,
    o.weightDecay,
    o.first,
  );
}

/** One Adam / AdamW update of `param` and its moments in place, as torch.optim.Adam does it. */
export function referenceAdamStep(t: AdamOperands, o: AdamStepOptions): void {
  const { param, grad, expAvg, expAvgSq, maxExpAvgSq } = t;
  const f = (v: View) => floats(v, 'adamStep');
  adamStepLoop(
    f(param),
    param.offset,
    f(grad),
    grad.offset,
    f(expAvg),
    expAvg.offset,
    f(expAvgSq),
    expAvgSq.offset,
    maxExpAvgSq && f(maxExpAvgSq),
    maxExpAvgSq?.offset ?? 0,
    numelOf(param.shape),
    o,
  );
}

/** The ReLU gradient: `g` where the ReLU output is positive, else 0. */
export function referenceReluBackward(cpu: ArrayAllocator, g: View, out: View): Storage {
  const G = floats(g, 'relu backward');
  const n = numelOf(g.shape);
  const gx = floatsLike(cpu, G, n);
  reluBackwardLoop(G, g.offset, floats(out, 'relu backward'), out.offset, n, gx);
  return new CpuStorage(gx, cpu);
}
