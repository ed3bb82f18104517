// Matrix products: one batched kernel, with matmul's broadcasting built from view ops around it.

import { autocastActive, autocastCall } from '../amp/autocast.js';
import { record, relabel } from '../autograd.js';
import { broadcastShapes, fmtShape, numelOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { backendOf, operands, wrap } from './core.js';

/** [B, M, K] x [B, K, N] -> [B, M, N]; both operands already have the same batch size. */
function bmm3(a: Tensor, b: Tensor): Tensor {
  const [, , dtype] = operands(a, b, 'matmul');
  const [B, M] = a.shape;
  const N = b.shape[2];
  const out = wrap(backendOf(a).matmul(a._view, b._view, dtype), [B, M, N], dtype);
  return record(
    'BmmBackward0',
    out,
    [a, b],
    (g) => [
      a.requiresGrad ? bmm3(g, b.transpose(1, 2)) : null,
      b.requiresGrad ? bmm3(a.transpose(1, 2), g) : null,
    ],
    [a, b],
  );
}

function cannotMultiply(a: Tensor, b: Tensor, op: string): Error {
  return new Error(
    `${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied ` +
      `(${a.shape[a.ndim - 1] ?? 'scalar'} != ${b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2]})`,
  );
}

/** torch.matmul: dot, matrix-vector, matrix-matrix and broadcast batched products. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (autocastActive()) return autocastCall('lower', matmul, [a, b]);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(
      `matmul: both arguments need at least 1 dimension, got ${a.ndim}D and ${b.ndim}D tensors`,
    );
  }
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(-1) : b;
  const M = a2.shape[a2.ndim - 2];
  const K = a2.shape[a2.ndim - 1];
  const N = b2.shape[b2.ndim - 1];
  if (b2.shape[b2.ndim - 2] !== K) throw cannotMultiply(a, b, 'matmul');
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2), 'matmul');
  const B = numelOf(batch);
  const a3 = a2.expand([...batch, M, K]).reshape([B, M, K]);
  const b3 = b2.expand([...batch, K, N]).reshape([B, K, N]);
  let out = bmm3(a3, b3).reshape([...batch, M, N]);
  if (a.ndim === 1) out = out.squeeze(-2);
  if (b.ndim === 1) out = out.squeeze(-1);
  // PyTorch's names for the cases it dispatches to dot, mv and mm.
  if (a.ndim === 1 && b.ndim === 1) return relabel(out, 'DotBackward0');
  if (a.ndim === 2 && b.ndim === 1) return relabel(out, 'MvBackward0');
  if (a.ndim === 2 && b.ndim === 2) return relabel(out, 'MmBackward0');
  return out;
}

/** 2-D matrix product. */
export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new Error(`mm: expected 2D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (a.shape[1] !== b.shape[0]) {
    throw new Error(
      `mm: mat1 and mat2 shapes cannot be multiplied (${a.shape[0]}x${a.shape[1]} and ${b.shape[0]}x${b.shape[1]})`,
    );
  }
  return matmul(a, b);
}

/** Batched 3-D matrix product with equal batch sizes. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (autocastActive()) return autocastCall('lower', bmm, [a, b]);
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(
      `bmm: expected [B, M, K] and [B, K, N], got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  return bmm3(a, b);
}
