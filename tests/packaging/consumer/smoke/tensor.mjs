// @graft/tensor alone: a matmul, its gradient, and printing.
import assert from 'node:assert/strict';
import { tensor } from '@graft/tensor';

const a = tensor(
  [
    [1, 2],
    [3, 4],
  ],
  { dtype: 'float32', requiresGrad: true },
);
const b = tensor(
  [
    [5, 6],
    [7, 8],
  ],
  { dtype: 'float32' },
);
const c = a.matmul(b);
c.sum().backward(); // d(sum(a @ b))/da = ones @ b^T: each row is b's row sums
assert.deepEqual(await c.tolist(), [
  [19, 22],
  [43, 50],
]);
assert.deepEqual(await a.grad.tolist(), [
  [11, 15],
  [11, 15],
]);
assert.equal(String(tensor([1, 2])), 'tensor([1, 2])');
console.log('tensor ok');
