// WebGPU kernel for the registry's conv2dEpilogue (registry.ts): the convolution (conv.ts), then one
// in-place pass over its output applying relu?(out * scale[o] + shift[o] + residual), where composing
// the ops would take four passes and three temporaries.

import type { Conv2dParams, Storage, View } from '../../backend.js';
import type { ConvEpilogueViews } from '../../registry.js';
import { numelOf } from '../../shape.js';
import type { GpuRuntime, WebGpuStorage } from '../runtime/device.js';
import { kernel } from '../runtime/params.js';
import { conv2d } from './conv.js';
import { f32Storage } from './fused-elementwise.js';
import { elementShader } from './wgsl.js';

/** relu?(conv2d(x, weight) * scale + shift + residual); null for dtypes other than float32/float64. */
export function conv2dEpilogue(
  rt: GpuRuntime,
  x: View,
  weight: View,
  p: Conv2dParams,
  outShape: readonly number[],
  ep: ConvEpilogueViews,
): Storage | null {
  if (!f32Storage(x, weight, ep.scale, ep.shift, ep.residual)) return null;
  const out = conv2d(rt, x, weight, p, outShape) as WebGpuStorage;
  const total = numelOf(outShape);
  if (total === 0 || (!ep.scale && !ep.shift && !ep.residual && !ep.relu)) return out;
  const operands = [
    ep.scale && (['SCALE', ep.scale] as const),
    ep.shift && (['SHIFT', ep.shift] as const),
    ep.residual && (['R', ep.residual] as const),
  ].filter((o) => o !== null);
  const k = kernel(
    `fused-conv-epilogue:${ep.scale !== null}:${ep.shift !== null}:${ep.residual !== null}:${ep.relu}`,
    ['total', 'O', 'HW', 'so', 'ho', 'ro'],
    () =>
      elementShader(
        [
          '@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;',
          ...operands.map(
            ([name], j) => `@group(0) @binding(${j + 2}) var<storage, read> ${name}: array<f32>;`,
          ),
        ].join('\n'),
        `  if (i >= u32(p.total)) { return; }
  let c = (i / u32(p.HW)) % u32(p.O);
  var v = OUT[i];
  ${ep.scale ? 'v = v * SCALE[u32(p.so) + c];' : ''}
  ${ep.shift ? 'v = v + SHIFT[u32(p.ho) + c];' : ''}
  ${ep.residual ? 'v = v + R[u32(p.ro) + i];' : ''}
  OUT[i] = ${ep.relu ? 'relu_(v)' : 'v'};`,
      ),
  );
  rt.launch(
    k,
    {
      total,
      O: outShape[1],
      HW: outShape[2] * outShape[3],
      so: ep.scale?.offset ?? 0,
      ho: ep.shift?.offset ?? 0,
      ro: ep.residual?.offset ?? 0,
    },
    [out._buffer!, ...operands.map(([, v]) => rt.buffer(v, 'conv2dEpilogue'))],
    rt.grid1(total),
  );
  return out;
}
