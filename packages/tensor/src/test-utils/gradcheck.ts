// Test support: a central finite-difference gradient checker, run in float64.

import { noGrad } from '../autograd.js';
import { fromTypedArray } from '../creation.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { checkStorage } from './fixtures.js';

export interface GradcheckOptions {
  /** Step of the central difference. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the random upstream gradients. */
  seed?: number;
}

/**
 * Tolerances: with float64 and a central difference of step h = 1e-6, the truncation error is
 * about h^2 * |f'''| (~1e-12) and the rounding error about 1e-16 * |f| / h (~1e-10 for |f| ~ 1),
 * so the analytic gradient must agree to 1e-6 absolute plus 1e-5 relative; any real mistake in a
 * backward formula is many orders of magnitude larger.
 */
export const GRADCHECK_DEFAULTS = { eps: 1e-6, atol: 1e-6, rtol: 1e-5, seed: 1 };

/**
 * Checks the gradients of `f` with respect to every input that requires grad: the analytic
 * gradient of L = sum_k sum(out_k * u_k) (u_k random, fixed) against (L(x + h) - L(x - h)) / 2h,
 * one element at a time. Inputs must be contiguous float64 leaves (other dtypes pass through
 * unperturbed); `f` may take views of them. Returns null, or a description of the mismatches.
 */
export function gradcheck(
  f: (inputs: Tensor[]) => Tensor | Tensor[],
  inputs: Tensor[],
  options: GradcheckOptions = {},
): string | null {
  const { eps, atol, rtol, seed } = { ...GRADCHECK_DEFAULTS, ...options };
  const values = inputs.map((t) => (t.requiresGrad ? Float64Array.from(t.readSync()) : null));
  const fresh = (vals: (Float64Array | null)[], grad: boolean): Tensor[] =>
    inputs.map((t, i) => {
      const v = vals[i];
      if (!v) return t;
      const leaf = fromTypedArray(Float64Array.from(v), t.shape, 'float64');
      return grad ? leaf.requiresGrad_(true) : leaf;
    });
  const asList = (o: Tensor | Tensor[]) => (Array.isArray(o) ? o : [o]);

  // Analytic pass; it also fixes the upstream gradients.
  const leaves = fresh(values, true);
  const all = asList(f(leaves));
  const diffIdx = all.flatMap((o, k) => (o.requiresGrad ? [k] : []));
  const outs = diffIdx.map((k) => all[k]);
  if (outs.length === 0) return 'no output requires grad';
  for (const o of outs) if (o.dtype !== 'float64') return `output dtype ${o.dtype}, expected float64`;
  const gen = new Generator(seed);
  const ups = outs.map((o) => {
    const u = new Float64Array(o.numel());
    for (let i = 0; i < u.length; i++) u[i] = gen.normal();
    return fromTypedArray(u, o.shape, 'float64');
  });
  const loss = (os: Tensor[]): Tensor => os.map((o, k) => o.mul(ups[k]).sum()).reduce((a, b) => a.add(b));
  loss(outs).backward();

  const problems: string[] = [];
  inputs.forEach((t, i) => {
    const base = values[i];
    if (!base) return;
    const analytic = leaves[i].grad ? leaves[i].grad!.readSync() : new Float64Array(base.length);
    const g = leaves[i].grad;
    if (g && g.dtype !== 'float64') problems.push(`input ${i}: grad dtype ${g.dtype}`);
    const storageProblem = g && checkStorage(g, `input ${i} grad`);
    if (storageProblem) problems.push(storageProblem);
    const bad: string[] = [];
    let count = 0;
    for (let j = 0; j < base.length; j++) {
      const evalAt = (delta: number): number => {
        const vals = values.map((v) => v && Float64Array.from(v));
        (vals[i] as Float64Array)[j] += delta;
        return noGrad(() => {
          const os = asList(f(fresh(vals, false)));
          return loss(diffIdx.map((k) => os[k])).itemSync();
        });
      };
      const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
      const a = analytic[j];
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        count++;
        if (bad.length < 4) bad.push(`[${j}] analytic ${a}, numeric ${numeric}`);
      }
    }
    if (count)
      problems.push(`input ${i} (shape [${t.shape}]): ${count}/${base.length} differ: ${bad.join('; ')}`);
  });
  return problems.length ? problems.join('\n') : null;
}
