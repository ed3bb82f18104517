// Test support for the cross-device cases: behaviours the golden fixtures cannot express, run on a
// device under test and compared with the reference backend's result under that device's tolerance.

import { tensor } from '../creation.js';
import { Generator } from '../random.js';
import { numelOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { compareValues, cpuReference, type DeviceUnderTest } from './conformance.js';

/**
 * One case: its CPU inputs (made once per run and put on each device), the names among them that become
 * leaves requiring grad, and the ops to run.
 */
export interface CrossDeviceCase {
  name: string;
  inputs: () => Record<string, Tensor>;
  grad?: readonly string[];
  run: (x: Record<string, Tensor>) => Tensor | Tensor[];
}

interface Outcome {
  outs: Tensor[];
  grads: Record<string, Tensor | null>;
  inputNumel: number;
}

/**
 * Runs a case on `dev`: its inputs put there, its outputs, and (when an output requires grad) the
 * gradients of every leaf for the same upstream gradients on every device.
 */
function execute(dev: DeviceUnderTest, c: CrossDeviceCase, inputs: Record<string, Tensor>): Outcome {
  const grad = c.grad ?? [];
  const x: Record<string, Tensor> = {};
  let inputNumel = 0;
  for (const [name, t] of Object.entries(inputs)) {
    x[name] = dev.put(t);
    if (grad.includes(name)) x[name].requiresGrad_(true);
    inputNumel += t.numel();
  }
  const outs = [c.run(x)].flat();
  const upstream = new Generator(99);
  const terms: Tensor[] = [];
  for (const o of outs) {
    const u = tensor(
      Array.from({ length: o.numel() }, () => upstream.normal()),
      { dtype: 'float32' },
    ).reshape(o.shape);
    if (o.requiresGrad) terms.push(o.mul(dev.put(u)).sum());
  }
  if (terms.length) terms.reduce((a, b) => a.add(b)).backward();
  const grads = Object.fromEntries(grad.map((name) => [name, x[name].grad]));
  return { outs, grads, inputNumel };
}

/** Runs `c` on `dev` and on the reference backend; the differences found (empty when they agree). */
export async function crossDeviceProblems(dev: DeviceUnderTest, c: CrossDeviceCase): Promise<string[]> {
  const inputs = c.inputs();
  const want = execute(cpuReference, c, inputs);
  const got = execute(dev, c, inputs);
  if (got.outs.length !== want.outs.length)
    return [`${got.outs.length} outputs, expected ${want.outs.length}`];
  // As in the golden suite: the case's elements per element of the compared tensor bound its terms.
  const total = want.inputNumel + want.outs.reduce((s, o) => s + o.numel(), 0);
  const problems: string[] = [];
  const compare = async (a: Tensor, e: Tensor, what: string) => {
    if (a.shape.join() !== e.shape.join()) return `${what}: shape [${a.shape}], expected [${e.shape}]`;
    if (a.dtype !== e.dtype) return `${what}: dtype ${a.dtype}, expected ${e.dtype}`;
    const L = Math.max(1, Math.ceil(total / Math.max(numelOf(e.shape), 1)));
    return compareValues(dev, await dev.read(a), await cpuReference.read(e), e.dtype, L, what);
  };
  for (const [k, e] of want.outs.entries()) {
    const a = got.outs[k];
    if (a.requiresGrad !== e.requiresGrad) problems.push(`output ${k}: requiresGrad ${a.requiresGrad}`);
    const m = await compare(a, e, `output ${k}`);
    if (m) problems.push(m);
  }
  for (const [name, e] of Object.entries(want.grads)) {
    const a = got.grads[name];
    if (!a || !e) {
      if (a || e)
        problems.push(`grad of ${name}: ${a ? 'present' : 'missing'}, expected ${e ? 'present' : 'none'}`);
      continue;
    }
    const m = await compare(a, e, `grad of ${name}`);
    if (m) problems.push(m);
  }
  return problems;
}
