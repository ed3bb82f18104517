// Comparing CPU and WebGPU results in tests: both read back in full, NaN matches NaN, Inf matches Inf.

import type { Storage } from '../backend.js';
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export const DEFAULT_TOL: Tolerance = { rtol: 1e-4, atol: 1e-6 };

/** The first few mismatches between two value lists, or null when they agree. */
export function mismatches(cpu: ArrayLike<number>, gpu: ArrayLike<number>, tol: Tolerance): string | null {
  if (cpu.length !== gpu.length) return `length ${gpu.length}, expected ${cpu.length}`;
  const bad: string[] = [];
  for (let i = 0; i < cpu.length; i++) {
    const c = cpu[i];
    const g = gpu[i];
    const ok = Number.isNaN(c)
      ? Number.isNaN(g)
      : !Number.isFinite(c)
        ? c === g
        : Number.isFinite(g) && Math.abs(c - g) <= tol.atol + tol.rtol * Math.abs(c);
    if (!ok && bad.push(`[${i}] cpu ${c} webgpu ${g}`) >= 6) break;
  }
  return bad.length ? bad.join(', ') : null;
}

/** Reads a tensor on either device. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.read());
}

/** Compares two tensors (shape, dtype, values); returns a problem description or null. */
export async function compareTensors(
  cpu: Tensor,
  gpu: Tensor,
  label: string,
  tol = DEFAULT_TOL,
): Promise<string | null> {
  if (gpu.device !== 'webgpu') return `${label}: result is on ${gpu.device}, expected webgpu`;
  if (cpu.shape.join() !== gpu.shape.join()) return `${label}: shape [${gpu.shape}] expected [${cpu.shape}]`;
  if (cpu.dtype !== gpu.dtype) return `${label}: dtype ${gpu.dtype} expected ${cpu.dtype}`;
  const m = mismatches(await values(cpu), await values(gpu), tol);
  return m ? `${label}: ${m}` : null;
}

/** Compares two kernel output storages read as `shape` / `dtype`. */
export function compareStorages(
  cpu: Storage,
  gpu: Storage,
  shape: readonly number[],
  dtype: DType,
  label: string,
  tol = DEFAULT_TOL,
): Promise<string | null> {
  return compareTensors(
    Tensor._fromStorage(cpu, shape, dtype),
    Tensor._fromStorage(gpu, shape, dtype),
    label,
    tol,
  );
}
