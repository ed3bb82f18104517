// Batch-norm statistics that a convolution computed in its own output pass (the `conv2dStats` kernel),
// kept beside its output tensor until a training-mode batch norm reads them. They stand for the
// tensor's values only while nothing has written to it: the tensor's version counter (bumped by every
// in-place op on it or a view of it) must still be the one recorded with them. Writes that go around
// the counter, through rawViewSync's zero-copy view, are not seen (as autograd does not see them).

import type { PlaneStats } from '../registry.js';
import type { Tensor } from '../tensor.js';

const kept = new WeakMap<Tensor, { stats: PlaneStats; version: number }>();

/** Records `stats` as the per-plane statistics of `t` [N, C, H, W] as it is now. */
export function keepPlaneStats(t: Tensor, stats: PlaneStats): void {
  kept.set(t, { stats, version: t._version });
}

/**
 * The per-plane statistics recorded for `t`, or null: none recorded, or `t` written since, or its
 * shape no longer the one they describe.
 */
export function planeStatsOf(t: Tensor): PlaneStats | null {
  const e = kept.get(t);
  if (!e || e.version !== t._version) return null;
  const { N, C, S } = e.stats;
  const [n, c] = t.shape;
  return t.ndim >= 2 && n === N && c === C && t.numel() === N * C * S && t.isContiguous() ? e.stats : null;
}
