// Batch-norm statistics that a convolution computed in its own output pass (the `conv2dStats` kernel),
// kept beside its output tensor until a training-mode batch norm reads them. They stand for the
// tensor's values only while it still holds the same storage (`set_` and `.data =` swap it, keeping
// the tensor object and, possibly, its shape) and nothing has written to that storage: its version
// counter (bumped by every in-place op on the tensor or a view of it) must still be the one recorded
// with them, and the tensor must still be a contiguous [N, C, ...] of the planes they describe (`set_`
// to a view of its own storage keeps both the storage and the version). Writes that go around the counter, through rawViewSync's zero-copy view, are not seen (as autograd
// does not see them).

import type { PlaneStats } from '../registry.js';
import type { StorageRef, Tensor } from '../tensor.js';

const kept = new WeakMap<Tensor, { stats: PlaneStats; ref: StorageRef; version: number }>();

/** Records `stats` as the per-plane statistics of `t` [N, C, H, W] as it is now. */
export function keepPlaneStats(t: Tensor, stats: PlaneStats): void {
  kept.set(t, { stats, ref: t._ref, version: t._version });
}

/**
 * The per-plane statistics recorded for `t`, or null: none recorded, or `t` given other storage or
 * written since, or no longer the contiguous [N, C, ...] they describe.
 */
export function planeStatsOf(t: Tensor): PlaneStats | null {
  const e = kept.get(t);
  if (!e || e.ref !== t._ref || e.version !== t._version) return null;
  const { N, C, S } = e.stats;
  const [n, c] = t.shape;
  return t.ndim >= 2 && n === N && c === C && t.numel() === N * C * S && t.isContiguous() ? e.stats : null;
}
