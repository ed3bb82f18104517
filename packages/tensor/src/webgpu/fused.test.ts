// The WebGPU backend's registered fused kernels (webgpu/fused.ts) against the composed fallback of
// their op on the same device (the kernel taken out of the registry), forward and backward, with the
// conformance suite's WebGPU tolerance (compareValues in test-utils/conformance.ts); the float16 batch
// norm against the float32 kernels on the same float16-rounded data, with the float16 run's tolerance
// (test-utils/conformance-f16.ts); and the launch counts and bytes they save.

import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../autograd.js';
import type { Backend } from '../backend.js';
import { randn, tensor, zeros } from '../creation.js';
import type { DType } from '../dtype.js';
import { memoryStats } from '../memory.js';
import { batchNorm, conv2d, fusedBatchNorm, fusedConv2d } from '../ops/nn.js';
import { adamUpdate_, sgdUpdate_ } from '../ops/optim.js';
import { manualSeed } from '../random.js';
import { findKernel, type KernelName, kernelDtypes, registeredKernels, registerKernel } from '../registry.js';
import type { Tensor } from '../tensor.js';
import { compareValues, webgpuDevice } from '../test-utils/conformance.js';
import { webgpuFloat16Device } from '../test-utils/conformance-f16.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test-utils/webgpu-adapter.js';
import type { WebGpuBackend } from './backend.js';

let gpu: WebGpuBackend;

/** Runs `fn` with `backend`'s kernel `name` out of the registry, so the op takes its composed fallback. */
async function withoutKernel<T>(backend: Backend, name: KernelName, fn: () => Promise<T>): Promise<T> {
  const impl = findKernel(backend, name);
  const dtypes = kernelDtypes(backend, name);
  registerKernel(backend, name, undefined as never);
  try {
    return await fn();
  } finally {
    if (impl) registerKernel(backend, name, impl, dtypes);
  }
}

/** Values of the named tensors, read back (null stays null). */
async function values(ts: Record<string, Tensor | null>): Promise<Record<string, Float64Array | null>> {
  const out: Record<string, Float64Array | null> = {};
  for (const [k, t] of Object.entries(ts)) out[k] = t ? Float64Array.from(await t.read()) : null;
  return out;
}

/**
 * Compares the fused run's values with the fallback's: the WebGPU tolerance of the conformance suite
 * for tensors each of whose elements stands on at most `L` terms.
 */
function problems(
  fused: Record<string, Float64Array | null>,
  composed: Record<string, Float64Array | null>,
  L: number,
  dtype: DType = 'float32',
): string[] {
  const out: string[] = [];
  for (const k of Object.keys(composed)) {
    const a = fused[k];
    const e = composed[k];
    if (!a || !e) {
      if (a !== e) out.push(`${k}: ${a ? 'value' : 'null'} vs ${e ? 'value' : 'null'}`);
      continue;
    }
    const p = compareValues(dtype === 'float16' ? webgpuFloat16Device : webgpuDevice, a, e, dtype, L, k);
    if (p) out.push(p);
  }
  return out;
}

const gpuT = (t: Tensor) => t.to('webgpu');

describe.skipIf(!webGpuTestsEnabled)('webgpu fused kernels equal their composed fallbacks', () => {
  beforeAll(async () => {
    gpu = await requireWebGpu();
  }, 60_000);

  it('registers every named kernel', () => {
    expect(registeredKernels(gpu)).toEqual([
      'conv2dEpilogue',
      'batchNormForward',
      'batchNormBackward',
      'sgdStep',
      'adamStep',
      'reluBackward',
      'binaryInto',
    ]);
  });

  for (const [residual, relu, affine] of [
    [false, false, true],
    [false, true, true],
    [true, true, true],
    [true, false, false],
  ] as const) {
    it(`batch norm in training (residual ${residual}, relu ${relu}, affine ${affine}): output, running stats, gradients`, async () => {
      manualSeed(5);
      const shape = [3, 6, 5, 7];
      const [N, , H, W] = shape;
      const x0 = randn(shape);
      const r0 = randn(shape);
      const w0 = randn(6);
      const b0 = randn(6);
      const u = gpuT(randn(shape));
      const run = async () => {
        const x = gpuT(x0).requiresGrad_();
        const r = gpuT(r0).requiresGrad_();
        const w = affine ? gpuT(w0).requiresGrad_() : null;
        const b = affine ? gpuT(b0).requiresGrad_() : null;
        const rm = zeros(6, { device: 'webgpu' });
        const rv = zeros(6, { device: 'webgpu' }).add(1);
        const opts = { training: true, momentum: 0.1, eps: 1e-5 };
        const y =
          residual || relu
            ? fusedBatchNorm(x, rm, rv, w, b, { ...opts, residual: residual ? r : null, relu })
            : batchNorm(x, rm, rv, w, b, opts);
        y.mul(u).sum().backward();
        return values({ y, rm, rv, gx: x.grad, gw: w?.grad ?? null, gb: b?.grad ?? null, gr: r.grad });
      };
      const fused = await run();
      const composed = await withoutKernel(gpu, 'batchNormForward', () =>
        withoutKernel(gpu, 'batchNormBackward', run),
      );
      // Each element stands on the channel's statistics: sums over N * H * W values.
      expect(problems(fused, composed, N * H * W)).toEqual([]);
    });
  }

  it('training batch norm takes 2 launches forward and 2 backward', async () => {
    manualSeed(6);
    const x = gpuT(randn([2, 4, 3, 3])).requiresGrad_();
    const w = gpuT(randn(4)).requiresGrad_();
    const b = gpuT(randn(4)).requiresGrad_();
    const count = (fn: () => void) => {
      const before = gpu.launchStats().launches;
      fn();
      return gpu.launchStats().launches - before;
    };
    let y: Tensor | null = null;
    const forward = count(() => {
      y = batchNorm(x, null, null, w, b, { training: true });
    });
    const g = gpuT(randn([2, 4, 3, 3]));
    const backward = count(() => (y as unknown as Tensor).backward(g));
    expect(forward).toBe(2);
    // The two kernels; the leaves' .grad take their outputs without a copy.
    expect(backward).toBe(2);
    await (y as unknown as Tensor).sum().item();
  });

  const sgdCombos = [
    { momentum: 0, dampening: 0, nesterov: false, maximize: false, weightDecay: 0 },
    { momentum: 0, dampening: 0, nesterov: false, maximize: true, weightDecay: 0.01 },
    { momentum: 0.9, dampening: 0, nesterov: false, maximize: false, weightDecay: 0 },
    { momentum: 0.9, dampening: 0.1, nesterov: false, maximize: false, weightDecay: 1e-4 },
    { momentum: 0.9, dampening: 0, nesterov: true, maximize: false, weightDecay: 1e-2 },
    { momentum: 0.5, dampening: 0, nesterov: true, maximize: true, weightDecay: 0 },
  ];
  for (const c of sgdCombos) {
    it(`sgdStep over three steps ${JSON.stringify(c)}`, async () => {
      manualSeed(3);
      const p0 = randn(6, 5);
      const grads = [randn(6, 5), randn(6, 5), randn(6, 5)].map(gpuT);
      const run = async () => {
        const p = gpuT(p0);
        let buf: Tensor | null = null;
        for (const g of grads) buf = sgdUpdate_(p, g, buf, { lr: 0.1, ...c });
        return values({ p, buf });
      };
      const fused = await run();
      const composed = await withoutKernel(gpu, 'sgdStep', run);
      expect(problems(fused, composed, 4)).toEqual([]);
    });
  }

  it('sgdStep is one launch per parameter, momentum buffer included', () => {
    const p = zeros(10, { device: 'webgpu' });
    const g = zeros(10, { device: 'webgpu' }).add(1);
    const buf = zeros(10, { device: 'webgpu' });
    const before = gpu.launchStats().launches;
    sgdUpdate_(p, g, buf, {
      lr: 0.1,
      momentum: 0.9,
      dampening: 0,
      nesterov: false,
      maximize: false,
      weightDecay: 1e-4,
    });
    expect(gpu.launchStats().launches - before).toBe(1);
  });

  const adamCombos = [
    { decoupled: false, weightDecay: 0, amsgrad: false, maximize: false },
    { decoupled: false, weightDecay: 1e-2, amsgrad: true, maximize: true },
    { decoupled: true, weightDecay: 1e-2, amsgrad: false, maximize: false },
    { decoupled: true, weightDecay: 0, amsgrad: true, maximize: true },
  ];
  for (const c of adamCombos) {
    // [6, 5]: one element a thread; [8, 4]: four.
    for (const shape of [
      [6, 5],
      [8, 4],
    ]) {
      it(`adamStep over three steps ${JSON.stringify(c)} [${shape}]`, async () => {
        manualSeed(4);
        const p0 = randn(...shape);
        const grads = [randn(...shape), randn(...shape), randn(...shape)].map(gpuT);
        const run = async () => {
          const p = gpuT(p0);
          const m = zeros(shape, { device: 'webgpu' });
          const v = zeros(shape, { device: 'webgpu' });
          const vmax = c.amsgrad ? zeros(shape, { device: 'webgpu' }) : null;
          grads.forEach((g, i) => {
            adamUpdate_(p, g, m, v, vmax, {
              lr: 0.01,
              beta1: 0.9,
              beta2: 0.999,
              eps: 1e-8,
              weightDecay: c.weightDecay,
              decoupled: c.decoupled,
              maximize: c.maximize,
              stepSize: 0.01 / (1 - 0.9 ** (i + 1)),
              biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** (i + 1)),
            });
          });
          return values({ p, m, v, vmax });
        };
        const fused = await run();
        const composed = await withoutKernel(gpu, 'adamStep', run);
        expect(problems(fused, composed, 4)).toEqual([]);
      });
    }
  }

  it('adamStep is one launch per parameter, AMSGrad included', () => {
    const [p, m, v, vmax] = [0, 1, 2, 3].map(() => zeros(10, { device: 'webgpu' }));
    const g = zeros(10, { device: 'webgpu' }).add(1);
    const before = gpu.launchStats().launches;
    adamUpdate_(p, g, m, v, vmax, {
      lr: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 1e-2,
      decoupled: true,
      maximize: false,
      stepSize: 0.1,
      biasCorrection2Sqrt: Math.sqrt(0.001),
    });
    expect(gpu.launchStats().launches - before).toBe(1);
  });

  it('reluBackward: the gradient of relu from its output, zeros and NaN included', async () => {
    // Zeros get gradient 0. A NaN output passes its gradient, as PyTorch's threshold_backward and the
    // CPU kernels do (the composed fallback gives 0 there, so that element is checked on its own).
    const nanAt = 10;
    const data = Array.from({ length: 36 }, (_, i) =>
      i % 7 === 0 ? 0 : i === nanAt ? Number.NaN : Math.sin(i * 1.7),
    );
    const x0 = tensor(data).reshape(4, 9);
    const g0 = randn(4, 9);
    const run = async () => {
      const x = gpuT(x0).requiresGrad_();
      const g = gpuT(g0);
      x.relu().backward(g);
      return values({ gx: x.grad });
    };
    const fused = await run();
    const composed = await withoutKernel(gpu, 'reluBackward', run);
    const gNan = g0.readSync()[nanAt];
    expect(fused.gx![nanAt]).toBeCloseTo(gNan, 6);
    fused.gx![nanAt] = composed.gx![nanAt];
    expect(problems(fused, composed, 1)).toEqual([]);
  });

  it('binaryInto: in-place ops on contiguous, strided and broadcast operands', async () => {
    manualSeed(9);
    const a0 = randn(5, 6);
    const b0 = randn(6);
    const c0 = randn(6, 5);
    const i0 = randn(5, 6).mul(10).to('int32');
    const run = async () =>
      noGrad(() => {
        const a = gpuT(a0);
        a.add_(gpuT(b0)); // broadcast operand
        a.mul_(gpuT(c0).t()); // strided operand
        a.sub_(2.5); // scalar
        const t = gpuT(c0).t(); // strided destination
        t.div_(gpuT(a0));
        const i = gpuT(i0);
        i.add_(3);
        return values({ a, t: t.contiguous(), i: i.to('float32') });
      });
    const fused = await run();
    const composed = await withoutKernel(gpu, 'binaryInto', run);
    expect(problems(fused, composed, 1)).toEqual([]);
  });

  it('conv2dEpilogue: relu(conv2d(x, w) * scale + shift + residual) without gradients', async () => {
    manualSeed(10);
    const x0 = randn(2, 3, 7, 6);
    const w0 = randn(4, 3, 3, 3);
    const s0 = randn(4);
    const h0 = randn(4);
    const r0 = randn(2, 4, 4, 3);
    const run = async () =>
      noGrad(() =>
        values({
          full: fusedConv2d(gpuT(x0), gpuT(w0), {
            stride: 2,
            padding: 1,
            scale: gpuT(s0),
            shift: gpuT(h0),
            residual: gpuT(r0),
            relu: true,
          }),
          affine: fusedConv2d(gpuT(x0), gpuT(w0), {
            stride: 2,
            padding: 1,
            scale: gpuT(s0),
            shift: gpuT(h0),
          }),
        }),
      );
    const fused = await run();
    const composed = await withoutKernel(gpu, 'conv2dEpilogue', run);
    // A convolution output sums C * KH * KW = 27 products; the epilogue adds three more terms.
    expect(problems(fused, composed, 30)).toEqual([]);
  });
});

describe.skipIf(!webGpuTestsEnabled)('webgpu fused batch norm in float16 (autocast training)', () => {
  beforeAll(async () => {
    gpu = await requireWebGpu();
  }, 60_000);

  it('registers the batch-norm kernels for float16', () => {
    for (const name of ['batchNormForward', 'batchNormBackward'] as const) {
      expect(kernelDtypes(gpu, name)).toContain('float16');
      expect(findKernel(gpu, name, 'bfloat16')).toBeUndefined();
    }
  });

  // [residual, relu, affine, dtype of weight and bias]: float32 parameters are what autocast passes
  // (PyTorch keeps them float32 and cuDNN takes them with a float16 input).
  for (const [residual, relu, affine, paramDtype] of [
    [false, false, true, 'float32'],
    [false, true, true, 'float32'],
    [true, true, true, 'float32'],
    [false, false, true, 'float16'],
    [true, true, true, 'float16'],
    [true, false, false, 'float16'],
  ] as const) {
    it(`training (residual ${residual}, relu ${relu}, affine ${affine}, ${paramDtype} parameters) equals the float32 kernels on the same data`, async () => {
      manualSeed(15);
      const shape = [4, 5, 6, 7];
      const [N, , H, W] = shape;
      // float16-rounded data, so both runs see the same values and differ by float16 storage only.
      const x0 = randn(shape).mul(3).add(1).half();
      const r0 = randn(shape).half();
      const w0 = randn(5).half();
      const b0 = randn(5).half();
      const u0 = randn(shape).half();
      const run = (dtype: 'float16' | 'float32') => {
        const act = (t: Tensor) => gpuT(t).to(dtype);
        const par = (t: Tensor) =>
          gpuT(t)
            .to(dtype === 'float16' ? paramDtype : 'float32')
            .requiresGrad_();
        const x = act(x0).requiresGrad_();
        const r = act(r0).requiresGrad_();
        const w = affine ? par(w0) : null;
        const b = affine ? par(b0) : null;
        const rm = zeros(5, { device: 'webgpu' });
        const rv = zeros(5, { device: 'webgpu' }).add(1);
        const opts = { training: true, momentum: 0.1, eps: 1e-5 };
        const y =
          residual || relu
            ? fusedBatchNorm(x, rm, rv, w, b, { ...opts, residual: residual ? r : null, relu })
            : batchNorm(x, rm, rv, w, b, opts);
        y.backward(act(u0));
        return { y, rm, rv, gx: x.grad, gw: w?.grad ?? null, gb: b?.grad ?? null, gr: r.grad };
      };
      const half = run('float16');
      expect(half.y.dtype).toBe('float16');
      expect(half.y.gradFn?.name).toBe(
        residual || relu ? 'FusedBatchNormBackward0' : 'NativeBatchNormBackward0',
      );
      const want = run('float32');
      const found: string[] = [];
      for (const [k, a] of Object.entries(half)) {
        const e = want[k as keyof typeof want];
        if (!a || !e) {
          if (a !== e) found.push(`${k}: ${a ? 'value' : 'null'} vs ${e ? 'value' : 'null'}`);
          continue;
        }
        // Activations and their gradients in float16, running statistics and parameter gradients in
        // the dtypes of the tensors they belong to; the float32 answer rounded to that dtype.
        const dtype = a.dtype;
        expect(dtype).toBe(
          k === 'y' || k === 'gx' || k === 'gr'
            ? 'float16'
            : k === 'rm' || k === 'rv'
              ? 'float32'
              : paramDtype,
        );
        const expected = Float64Array.from(await e.to(dtype).float().read());
        const actual = Float64Array.from(await a.float().read());
        // Both runs compute in f32 from the same values (the float16 run reads its float16 operands
        // exactly), so a float16 result differs from the float32 one by its own rounding only: the
        // float16 tolerance for one term (L = 1). The float32 results (statistics, float32 parameter
        // gradients) meet the float32 tolerance for the N * H * W terms of a channel.
        const p =
          dtype === 'float16'
            ? compareValues(webgpuFloat16Device, actual, expected, dtype, 1, k)
            : compareValues(webgpuDevice, actual, expected, dtype, N * H * W, k);
        if (p) found.push(p);
      }
      expect(found).toEqual([]);
    });
  }

  it('takes 2 launches forward and 2 backward, and allocates the float16 output and float32 statistics only', async () => {
    manualSeed(16);
    const shape = [8, 4, 16, 16];
    const x = gpuT(randn(shape)).half().requiresGrad_();
    const w = gpuT(randn(4)).requiresGrad_();
    const b = gpuT(randn(4)).requiresGrad_();
    const g = gpuT(randn(shape)).half();
    await g.sum().item();
    // An empty free list: every buffer is then its own size's (no larger free one reused).
    gpu.trimPool();
    const before = { launches: gpu.launchStats().launches, live: memoryStats('webgpu').live };
    const y = batchNorm(x, null, null, w, b, { training: true });
    const forward = {
      launches: gpu.launchStats().launches - before.launches,
      bytes: memoryStats('webgpu').live - before.live,
    };
    expect(forward.launches).toBe(2);
    // The output (2 bytes an element) and mean, variance, invstd (C float32s each, one small bucket
    // each): no float16 copy of x, no normalised x, no float32 activation.
    const out = x.numel() * 2;
    expect(forward.bytes).toBeGreaterThanOrEqual(out);
    expect(forward.bytes).toBeLessThanOrEqual(out + 3 * 256);
    const launches = gpu.launchStats().launches;
    y.backward(g);
    expect(gpu.launchStats().launches - launches).toBe(2);
    expect(x.grad!.dtype).toBe('float16');
    expect(w.grad!.dtype).toBe('float32');
    expect(b.grad!.dtype).toBe('float32');
    await y.float().sum().item();
  });
});

describe.skipIf(!webGpuTestsEnabled)(
  'webgpu convolutions over few positions (conv-direct.ts, gemm-skinny.ts)',
  () => {
    beforeAll(async () => {
      gpu = await requireWebGpu();
    }, 60_000);

    // [x shape, weight shape, stride, padding]: 1x1 and 2x2 output maps (N of 1 to 8 GEMM columns) and
    // weight gradients over 2 to 8 positions (K of 2 to 8), the shapes of a ResNet's last stages, then
    // shapes for the direct kernels' edges.
    const cases: [number[], number[], number, number][] = [
      [[2, 40, 1, 1], [24, 40, 3, 3], 1, 1],
      [[1, 40, 1, 1], [300, 40, 3, 3], 1, 1],
      [[2, 24, 2, 2], [36, 24, 3, 3], 1, 1],
      [[1, 20, 4, 4], [70, 20, 3, 3], 2, 1],
      [[3, 16, 3, 3], [5, 16, 1, 1], 2, 0],
      // Direct kernels: 18 columns (a partial chunk of 8), a strided input gradient, weight gradients
      // over 18 and 108 positions with output channels not a multiple of 8.
      [[2, 12, 5, 5], [20, 12, 3, 3], 2, 1],
      [[3, 10, 6, 6], [70, 10, 3, 3], 1, 1],
      [[1, 6, 9, 9], [9, 6, 5, 5], 2, 2],
      // The docs playground's last stage at batch 1: 49 columns, 8 a thread (conv-direct.test.ts has
      // why it hung on SwiftShader).
      [[1, 32, 7, 7], [64, 32, 3, 3], 1, 1],
    ];
    for (const [xs, ws, stride, padding] of cases) {
      it(`conv2d x [${xs}] w [${ws}] stride ${stride}: forward and both gradients equal the CPU's`, async () => {
        manualSeed(12);
        const x0 = randn(xs);
        const w0 = randn(ws);
        const run = async (device: 'cpu' | 'webgpu') => {
          const x = x0.to(device).requiresGrad_();
          const w = w0.to(device).requiresGrad_();
          const y = conv2d(x, w, null, { stride, padding });
          y.mul(y).sum().backward();
          return values({ y, gx: x.grad, gw: w.grad });
        };
        const gpuValues = await run('webgpu');
        const cpuValues = await run('cpu');
        // The conformance suite's reduction length: the case's elements per element of each tensor.
        const total = x0.numel() + w0.numel() + cpuValues.y!.length;
        for (const k of ['y', 'gx', 'gw']) {
          const L = Math.ceil(total / cpuValues[k]!.length);
          expect(problems({ [k]: gpuValues[k] }, { [k]: cpuValues[k] }, L)).toEqual([]);
        }
      });
    }
  },
);
