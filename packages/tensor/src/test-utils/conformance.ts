// The conformance suite: every golden case of fixtures/ops.json (PyTorch's values, forward and
// backward), run with its inputs on one device under test and compared with a per-device tolerance
// that grows with the length of the reductions behind each compared tensor. Every backend runs it.

import type { Backend } from '../backend.js';
import type { DType } from '../dtype.js';
import { numelOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { on, reference, wasm } from './backends.js';
import { buildInputs, gradDesc, inputDtype, type OpsFixture, runOp } from './cases.js';
import {
  checkStorage,
  decodeAll,
  fromDesc,
  loadFixture,
  type OpCase,
  rms,
  type TensorDesc,
} from './fixtures.js';

export const golden = loadFixture<OpsFixture>('ops.json');

/** A device the suite runs on. */
export interface DeviceUnderTest {
  name: string;
  /** A leaf on the device holding `t`'s values (t is a CPU tensor). */
  put(t: Tensor): Tensor;
  /** The tensor's values as float64, in row-major order. */
  read(t: Tensor): Promise<ArrayLike<number>>;
  /**
   * An element passes when |actual - expected| <= rtol * |expected| + atol * sqrt(L) * max(1, rms),
   * rms the root-mean-square of the expected tensor (the size of the terms a reduction adds up) and L
   * the reduction length behind the compared tensor (see `reductionLength`).
   */
  rtol: number;
  atol: number;
  /** Golden cases this device does not run, each with the reason. */
  skip?: Readonly<Record<string, string>>;
}

/** A CPU backend as a device under test. */
export function cpuDevice(name: string, backend: Backend, rtol: number, atol: number): DeviceUnderTest {
  return {
    name,
    put: (t) => on(backend, t),
    read: async (t) => {
      const wrong = checkStorage(t, 'result');
      if (wrong) throw new Error(wrong);
      return t.readSync();
    },
    rtol,
    atol,
  };
}

/** The reference backend (the oracle) and the WebAssembly backend: 1e-5 relative plus 1e-6 * sqrt(L) of the rms. */
export const cpuReference = cpuDevice('cpu-reference', reference, 1e-5, 1e-6);
export const cpuWasm = cpuDevice('cpu-wasm', wasm, 1e-5, 1e-6);

/**
 * WebGPU (initialise it first, test-utils/webgpu-adapter.ts). The GPU computes in float32 with its own
 * reduction orders and transcendental functions written in WGSL: 2e-5 relative plus 2e-6 * sqrt(L) of
 * the rms.
 */
export const webgpuDevice: DeviceUnderTest = {
  name: 'webgpu',
  put: (t) => t.to('webgpu'),
  read: (t) => t.read(),
  rtol: 2e-5,
  atol: 2e-6,
};

/**
 * How many terms at most stand behind one element of a compared tensor of `numel` elements: the case's
 * elements (inputs and outputs together) per element of that tensor. It is 1-2 for elementwise ops,
 * the reduced size for a reduction to `numel` values, and bounds what an element of a gradient sums.
 */
export function reductionLength(c: OpCase, numel: number): number {
  const total = [...c.inputs, ...c.outputs].reduce((s, d) => s + numelOf(d.shape), 0);
  return Math.max(1, Math.ceil(total / Math.max(numel, 1)));
}

const EXACT: readonly DType[] = ['int64', 'int32', 'bool', 'uint8', 'int16', 'int8'];

/** The relative rounding of storing a value in a 16-bit float (one ulp at most); 0 for other dtypes. */
const STORAGE_ROUNDING: Partial<Record<DType, number>> = { float16: 2 ** -10, bfloat16: 2 ** -7 };

/**
 * Compares a device's values `a` with the expected `e` of a `dtype` tensor whose elements stand on `L`
 * terms at most: exact for integer and bool dtypes, else the device's tolerance (see DeviceUnderTest),
 * its relative part at least one ulp of a 16-bit float dtype. A description of what differs, or null.
 */
export function compareValues(
  dev: DeviceUnderTest,
  a: ArrayLike<number>,
  e: ArrayLike<number>,
  dtype: DType,
  L: number,
  what: string,
): string | null {
  if (a.length !== e.length) return `${what}: ${a.length} values, expected ${e.length}`;
  const exact = EXACT.includes(dtype);
  const rtol = exact ? 0 : Math.max(dev.rtol, STORAGE_ROUNDING[dtype] ?? 0);
  const atol = exact ? 0 : dev.atol * Math.sqrt(L) * Math.max(1, rms(e));
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < e.length; i++) {
    const ok = Number.isNaN(e[i])
      ? Number.isNaN(a[i])
      : !Number.isFinite(e[i])
        ? a[i] === e[i]
        : Math.abs(a[i] - e[i]) <= rtol * Math.abs(e[i]) + atol;
    if (!ok) {
      count++;
      if (bad.length < 4) bad.push(`[${i}] ${a[i]} vs ${e[i]}`);
    }
  }
  return count ? `${what}: ${count}/${e.length} differ (L ${L}): ${bad.join('; ')}` : null;
}

/** Compares `actual` with the golden `expected`; a description of what differs, or null. */
async function compare(
  dev: DeviceUnderTest,
  c: OpCase,
  actual: Tensor,
  expected: TensorDesc,
  what: string,
): Promise<string | null> {
  if (actual.shape.join() !== expected.shape.join()) {
    return `${what}: shape [${actual.shape}], expected [${expected.shape}]`;
  }
  if (actual.dtype !== expected.dtype) return `${what}: dtype ${actual.dtype}, expected ${expected.dtype}`;
  const e = decodeAll(expected.data);
  return compareValues(dev, await dev.read(actual), e, expected.dtype, reductionLength(c, e.length), what);
}

/** Runs one golden case on `dev`: the problems found (empty when it conforms). */
export async function checkCase(dev: DeviceUnderTest, c: OpCase): Promise<string[]> {
  const problems: string[] = [];
  const values = Object.fromEntries(
    c.inputs.map((spec) => [spec.name, dev.put(fromDesc(spec, inputDtype(spec, 'float32')))]),
  );
  const { leaves, operands } = buildInputs(c, 'float32', values);
  const outs = runOp(c, operands);
  if (outs.length !== c.outputs.length) problems.push(`${outs.length} outputs, expected ${c.outputs.length}`);
  for (const [k, e] of c.outputs.entries()) {
    const m = outs[k] && (await compare(dev, c, outs[k], e, `output ${k}`));
    if (m) problems.push(m);
  }
  if (!c.upstream || !c.grads) return problems;
  const terms: Tensor[] = [];
  for (const [k, u] of c.upstream.entries()) {
    if (!u) continue;
    if (!outs[k].requiresGrad) problems.push(`output ${k} does not require grad`);
    else terms.push(outs[k].mul(dev.put(fromDesc({ shape: outs[k].shape, data: u }, 'float32'))).sum());
  }
  if (terms.length) terms.reduce((x, y) => x.add(y)).backward();
  for (const spec of c.inputs) {
    if (!(spec.name in c.grads)) continue;
    const expected = c.grads[spec.name];
    const g = leaves[spec.name].grad;
    if (expected === null) {
      if (g && Array.from(await dev.read(g)).some((v) => v !== 0))
        problems.push(`grad of ${spec.name}: expected none`);
    } else if (!g) {
      problems.push(`grad of ${spec.name}: missing`);
    } else {
      const m = await compare(dev, c, g, gradDesc(spec, expected), `grad of ${spec.name}`);
      if (m) problems.push(m);
    }
  }
  return problems;
}
