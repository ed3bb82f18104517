// The README's "Adding a backend" path, followed by a test: a backend that implements the core and
// registers no fast kernel passes the whole conformance suite, every op using its composed fallback.

import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { ReferenceCpuBackend } from './cpu/reference/backend.js';
import { randn } from './creation.js';
import { batchNorm, fusedConv2d } from './ops/nn.js';
import { findKernel, KERNEL_NAMES, registeredKernels } from './registry.js';
import { backendName, on } from './test-utils/backends.js';
import { checkCase, cpuDevice, golden } from './test-utils/conformance.js';

/**
 * The core kernels of the reference backend under a new identity: its storages name it, so ops come
 * back to it, and the registry holds nothing for it.
 */
const coreOnly = Object.create(new ReferenceCpuBackend(), { name: { value: 'core-only' } }) as Backend;

describe('a backend with the core only', () => {
  it('registers no fast kernel, while the built-in CPU backends do', () => {
    expect(registeredKernels(coreOnly)).toEqual([]);
    for (const name of KERNEL_NAMES) expect(findKernel(coreOnly, name)).toBeUndefined();
  });

  it('runs the fused ops through their fallbacks, on itself', () => {
    const x = on(coreOnly, randn(2, 4, 6, 6)).requiresGrad_();
    const w = on(coreOnly, randn(4, 4, 3, 3));
    const y = fusedConv2d(x, w, { padding: 1, relu: true });
    const z = batchNorm(y, null, null, null, null, { training: true });
    z.square().sum().backward();
    expect(backendName(z)).toBe('core-only');
    expect(x.grad?.shape).toEqual([2, 4, 6, 6]);
  });

  const dev = cpuDevice('core-only', coreOnly, 1e-5, 1e-6);
  describe('passes the conformance suite', () => {
    for (const c of golden.cases) {
      it(c.name, async () => {
        expect(await checkCase(dev, c)).toEqual([]);
      });
    }
  });
});
