// The direct convolution kernels' WGSL (conv-direct.ts), checked as text, so it runs without an adapter:
// their entry points use no short-circuit `&&` or `||`. SwiftShader (headless Chromium's adapter) takes
// time exponential in the number of those in one function to compile a shader: the 8-column forward had
// 40 and hung the docs playground's batch-1 prediction (the GPU process compiled for minutes), while
// lavapipe compiles it at once, so the Node WebGPU tests could not see it. Their values against the
// CPU's are in fused.test.ts.

import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype.js';
import { gpuClass } from '../runtime/dtype.js';
import {
  DIRECT_COLUMNS,
  directConvKernel,
  directWeightGradKernel,
  tapWeightGradKernel,
} from './conv-direct.js';

/** The shader from its entry point on (the prelude's helper functions before it are not called). */
function entryPoint(wgsl: string): string {
  const at = wgsl.indexOf('@compute');
  expect(at).toBeGreaterThan(-1);
  return wgsl.slice(at);
}

const shortCircuits = (wgsl: string) => entryPoint(wgsl).match(/&&|\|\|/g)?.length ?? 0;

describe('direct convolution kernels (conv-direct.ts)', () => {
  const dtypes: DType[] = ['float32', 'float16'];
  for (const dtype of dtypes) {
    const classes = [gpuClass(dtype), gpuClass(dtype)];
    for (let cols = 1; cols <= DIRECT_COLUMNS; cols *= 2) {
      for (const kind of ['conv2d', 'conv2dBackwardInput'] as const) {
        it(`${kind} ${dtype}, ${cols} columns: no short-circuit operator in the entry point`, () => {
          expect(shortCircuits(directConvKernel(kind, dtype, classes, cols).wgsl())).toBe(0);
        });
      }
    }
    it(`both weight gradients ${dtype}: no short-circuit operator in the entry point`, () => {
      expect(shortCircuits(directWeightGradKernel(dtype, classes).wgsl())).toBe(0);
      expect(shortCircuits(tapWeightGradKernel(dtype, classes).wgsl())).toBe(0);
    });
  }
});
