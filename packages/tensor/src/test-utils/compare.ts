// Test support for the kernel tests: the error measure for float32-accumulated kernels against a
// reference, and convolution parameters.

import type { Conv2dParams } from '../backend.js';
import type { Tensor } from '../tensor.js';

/** Max |a - b| relative to the largest |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

/** Max |a - b| over two tensors' elements (read back synchronously); throws when their sizes differ. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  const x = a.readSync();
  const y = b.readSync();
  if (x.length !== y.length) throw new Error(`maxAbsDiff: ${x.length} elements against ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i])));
  return m;
}

/** Padding as conv2d takes it: one value for both sides, or [height, width]. */
export type Pad = number | [number, number];

/** The backend's Conv2dParams for a square stride, no dilation. */
export function conv2dParams(padding: Pad = 0, stride = 1, groups = 1): Conv2dParams {
  return {
    stride: [stride, stride],
    padding: typeof padding === 'number' ? [padding, padding] : padding,
    dilation: [1, 1],
    groups,
  };
}
