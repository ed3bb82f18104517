// autocast against torch.autocast's rules (https://pytorch.org/docs/stable/amp.html, CUDA op lists): the
// lower precision list runs in float16, the float32 list in float32, the rest in the widest input type;
// float64 and tensors on another device are left alone; casts of parameters are cached per region;
// gradients reach float32 parameters as float32; backward is not autocast again.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../autograd.js';
import { ones, randn, tensor, zeros } from '../creation.js';
import { batchNorm, conv2d, crossEntropy, linear, logSoftmax, softmax } from '../ops/nn.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { requireWebGpu, webGpuTestsEnabled } from '../test-utils/webgpu-adapter.js';
import { autocast, getAutocastDtype, isAutocastEnabled } from './autocast.js';

/** ToCopyBackward0 nodes (casts) in the graph behind `t`. */
function castNodes(t: Tensor): number {
  const seen = new Set<Node>();
  const stack = [t.gradFn];
  while (stack.length) {
    const n = stack.pop();
    if (!n || seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.next);
  }
  return [...seen].filter((n) => n.name === 'ToCopyBackward0').length;
}

const gen = () => new Generator(7);
const gpu = (shape: number[], g = gen()) => randn(shape, { generator: g }).to('webgpu');

describe.skipIf(!webGpuTestsEnabled)("autocast('webgpu')", () => {
  beforeAll(async () => {
    await requireWebGpu();
  }, 60_000);

  it('runs the lower precision list in float16 and the float32 list in float32', () => {
    const x = gpu([4, 6]);
    const w = gpu([3, 6]).requiresGrad_();
    const b = gpu([3]).requiresGrad_();
    const img = gpu([1, 2, 5, 5]);
    const k = gpu([3, 2, 3, 3]);
    autocast('webgpu', () => {
      expect(isAutocastEnabled('webgpu')).toBe(true);
      expect(isAutocastEnabled('cpu')).toBe(false);
      expect(getAutocastDtype('webgpu')).toBe('float16');
      const y = linear(x, w, b);
      expect(y.dtype).toBe('float16');
      expect(x.matmul(w.t()).dtype).toBe('float16');
      expect(conv2d(img, k).dtype).toBe('float16');
      // float32 list: float16 inputs come back as float32
      expect(softmax(y, 1).dtype).toBe('float32');
      expect(logSoftmax(y, 1).dtype).toBe('float32');
      expect(y.exp().dtype).toBe('float32');
      expect(y.sum().dtype).toBe('float32');
      expect(crossEntropy(y, tensor([0, 1, 2, 0]).to('webgpu')).dtype).toBe('float32');
      // other ops: the types they get (widest input type)
      expect(y.relu().dtype).toBe('float16');
      expect(y.add(gpu([4, 3])).dtype).toBe('float32');
      // float64 is never cast, nor are tensors on another device
      expect(x.double().matmul(w.t().double()).dtype).toBe('float64');
      expect(randn([2, 2]).matmul(randn([2, 2])).dtype).toBe('float32');
    });
    expect(isAutocastEnabled('webgpu')).toBe(false);
    expect(linear(x, w, b).dtype).toBe('float32');
  });

  it('autocast(..., { enabled: false }) inside a region runs in float32', () => {
    const x = gpu([2, 3]);
    autocast('webgpu', () => {
      expect(x.matmul(x.t()).dtype).toBe('float16');
      const inner = autocast('webgpu', () => x.matmul(x.t()), { enabled: false });
      expect(inner.dtype).toBe('float32');
      expect(x.matmul(x.t()).dtype).toBe('float16');
    });
  });

  it("casts a parameter once per region (PyTorch's weight cache) and sends float32 gradients to it", async () => {
    const x = gpu([5, 4]);
    const w = gpu([4, 4], new Generator(3)).requiresGrad_();
    const loss = autocast('webgpu', () => {
      const h = x.matmul(w).relu();
      const out = h.matmul(w);
      // both products read one cast of w: one ToCopyBackward0 node in the graph (two without the cache)
      expect(castNodes(out)).toBe(1);
      return out.float().pow(2).mean();
    });
    expect(
      autocast('webgpu', () => x.matmul(w).relu().matmul(w), { cacheEnabled: false }).gradFn,
    ).not.toBeNull();
    expect(castNodes(autocast('webgpu', () => x.matmul(w).relu().matmul(w), { cacheEnabled: false }))).toBe(
      2,
    );
    loss.backward();
    expect(w.grad!.dtype).toBe('float32');
    // the same computation in float32, with inputs rounded to float16 where autocast rounds them
    const w2 = w.detach().clone().requiresGrad_();
    const h2 = x.half().float().matmul(w2.half().float()).half().float().relu();
    h2.matmul(w2.half().float()).half().float().pow(2).mean().backward();
    const [g, g2] = [await w.grad!.read(), await w2.grad!.read()];
    for (let i = 0; i < g.length; i++)
      expect(Math.abs(g[i] - g2[i])).toBeLessThan(2e-3 * Math.max(1, Math.abs(g2[i])));
  });

  it('backward inside a region is not autocast again: gradients keep the forward dtypes', () => {
    const w = gpu([3, 3]).requiresGrad_();
    autocast('webgpu', () => {
      const y = w.matmul(w);
      y.float().sum().backward();
    });
    expect(w.grad!.dtype).toBe('float32');
  });

  it('batch norm keeps a float16 activation in float16 and updates float32 running statistics', async () => {
    const x = gpu([4, 3, 2, 2]).half();
    const rm = zeros([3], { device: 'webgpu' });
    const rv = ones([3], { device: 'webgpu' });
    const w = ones([3], { device: 'webgpu' }).requiresGrad_();
    const b = zeros([3], { device: 'webgpu' }).requiresGrad_();
    const y = autocast('webgpu', () => batchNorm(x, rm, rv, w, b, { training: true }));
    expect(y.dtype).toBe('float16');
    expect(rm.dtype).toBe('float32');
    const want = await x.float().mean([0, 2, 3]).mul(0.1).read();
    const got = await rm.read();
    for (let i = 0; i < 3; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-3);
    y.float().sum().backward();
    expect(w.grad!.dtype).toBe('float32');
  });

  it('refuses async callbacks, other devices and unknown options', () => {
    expect(() => autocast('webgpu', async () => 1)).toThrow(/synchronous code only/);
    expect(() => autocast('cuda' as never, () => 1)).toThrow(
      "autocast: expected device 'webgpu' or 'cpu', got 'cuda'",
    );
    expect(() => autocast('webgpu', () => 1, { dtype: 'float32' as never })).toThrow(/dtype must be/);
    expect(() => autocast('webgpu', () => 1, { cache: true } as never)).toThrow(/unknown option 'cache'/);
    expect(isAutocastEnabled('webgpu')).toBe(false);
  });
});

describe("autocast('cpu')", () => {
  it('defaults to bfloat16; options are camelCase (a snake_case slip is named)', () => {
    const x: Tensor = randn([2, 2]);
    autocast(
      'cpu',
      () => {
        expect(getAutocastDtype('cpu')).toBe('bfloat16');
        expect(x.matmul(x).dtype).toBe('bfloat16');
      },
      { cacheEnabled: false },
    );
    expect(() => autocast('cpu', () => 1, { cache_enabled: false } as never)).toThrow(
      "autocast: unknown option 'cache_enabled'; did you mean 'cacheEnabled'?",
    );
  });
});
