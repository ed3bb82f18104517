// Comparing CPU and WebGPU value lists in tests: NaN matches NaN, Inf matches Inf.

export interface Tolerance {
  rtol: number;
  atol: number;
}

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
