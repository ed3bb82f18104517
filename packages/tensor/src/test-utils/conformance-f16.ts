// The float16 run of the conformance suite: every golden case with a float input, run with its float
// inputs (and upstream gradients) rounded to float16 and computed in float16 on the device, against the
// reference backend computing the same case in float64 on the same rounded values.
//
// Why not PyTorch's float32 values directly: rounding the inputs to float16 moves the exact answer by
// up to eps16 times the op's condition number (large for exp, pow, tan), which says nothing about the
// kernels. PyTorch's values still anchor the run: the reference backend is the oracle the float32 run
// checks against them (1e-5).
//
// Tolerance (stated once, in float16 ulps, eps16 = 2^-10 = 9.8e-4; the float32 rule's shape with
// eps16 in place of float32's constants): an element passes when
//   |actual - expected| <= 4 eps16 |expected| + 2 eps16 sqrt(L) max(1, rms(expected))
// The relative term covers the output's own rounding (half an ulp) plus up to three float16 stores of
// intermediates in composite ops (softmax, norms, losses: each a kernel writing float16, as PyTorch's
// CUDA kernels do); the absolute term is float16 storage error summed over the L terms behind the element
// (reductions and matmul accumulate in float32, but their inputs and partial results in composite ops
// are float16), scaled by the size of those terms, as the float32 rule scales float32 rounding.

import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { on, reference } from './backends.js';
import { buildInputs, inputDtype, runOp } from './cases.js';
import { compareValues, type DeviceUnderTest, reductionLength } from './conformance.js';
import { fromDesc, type OpCase } from './fixtures.js';

/** float16 machine epsilon (the gap between 1 and the next float16). */
export const EPS16 = 2 ** -10;

/** The comparison device of the float16 run (values are read as float32 from the float16 results). */
export const webgpuFloat16Device: DeviceUnderTest = {
  name: 'webgpu-float16',
  put: (t) => t.to('webgpu'),
  read: (t) => t.float().read(),
  rtol: 4 * EPS16,
  atol: 2 * EPS16,
};

const FLOATS: readonly DType[] = ['float32', 'float64'];

/** Whether the case has a float input to run in float16 (integer-only cases are the float32 run's). */
export function float16Applicable(c: OpCase): boolean {
  return c.inputs.some((s) => FLOATS.includes(inputDtype(s, 'float32')));
}

/** One case in float16 on `dev` against float64 on the reference backend: the problems found. */
export async function checkCaseFloat16(dev: DeviceUnderTest, c: OpCase): Promise<string[]> {
  const problems: string[] = [];
  const rounded = (spec: { shape: number[]; data: OpCase['inputs'][number]['data'] }, dtype: DType) => {
    const t = fromDesc(spec, dtype);
    return FLOATS.includes(dtype) ? t.half() : t;
  };
  const half: Record<string, Tensor> = {};
  const wide: Record<string, Tensor> = {};
  for (const spec of c.inputs) {
    const t = rounded(spec, inputDtype(spec, 'float32'));
    half[spec.name] = dev.put(t);
    wide[spec.name] = on(reference, t.dtype === 'float16' ? t.double() : t);
  }
  const gpu = buildInputs(c, 'float16', half);
  const ref = buildInputs(c, 'float64', wide);
  const outs = runOp(c, gpu.operands);
  const refOuts = runOp(c, ref.operands);
  const compare = async (a: Tensor, e: Tensor, what: string) => {
    const want: DType = e.dtype === 'float64' ? 'float16' : e.dtype;
    if (a.dtype !== want) return `${what}: dtype ${a.dtype}, expected ${want}`;
    if (a.shape.join() !== e.shape.join()) return `${what}: shape [${a.shape}], expected [${e.shape}]`;
    // The float16 answer: the exact one rounded to float16 (beyond 65504 that is inf, as the device's).
    const ev = Array.from(await (e.dtype === 'float64' ? e.half().double() : e).read());
    return compareValues(dev, await dev.read(a), ev, a.dtype, reductionLength(c, ev.length), what);
  };
  for (const [k, e] of refOuts.entries()) {
    const m = outs[k] ? await compare(outs[k], e, `output ${k}`) : `output ${k} missing`;
    if (m) problems.push(m);
  }
  if (!c.upstream || !c.grads) return problems;
  const backward = (results: Tensor[], put: (t: Tensor) => Tensor) => {
    const terms: Tensor[] = [];
    for (const [k, u] of c.upstream!.entries()) {
      if (!u || !results[k].requiresGrad) continue;
      const up = put(rounded({ shape: results[k].shape, data: u }, 'float32'));
      terms.push(results[k].mul(up.to(results[k].dtype)).sum());
    }
    if (terms.length) terms.reduce((x, y) => x.add(y)).backward();
  };
  backward(outs, dev.put);
  backward(refOuts, (t) => on(reference, t.double()));
  for (const spec of c.inputs) {
    if (!(spec.name in c.grads) || c.grads[spec.name] === null) continue;
    const g = gpu.leaves[spec.name].grad;
    const e = ref.leaves[spec.name].grad;
    if (!g || !e) {
      if (g || e) problems.push(`grad of ${spec.name}: ${g ? 'unexpected' : 'missing'}`);
      continue;
    }
    const m = await compare(g, e, `grad of ${spec.name}`);
    if (m) problems.push(m);
  }
  return problems;
}
