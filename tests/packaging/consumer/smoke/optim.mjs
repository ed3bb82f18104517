// @graft/optim: one SGD step on a closed-form gradient.
import assert from 'node:assert/strict';
import { SGD } from '@graft/optim';
import { tensor } from '@graft/tensor';

const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
const opt = new SGD([p], { lr: 0.1 });
p.mul(p).sum().backward(); // gradient 2p
opt.step(); // p - 0.1 * 2p = 0.8p
assert.deepEqual(await p.tolist(), [0.8, 1.6]);
assert.deepEqual(opt.stateDict().param_groups[0].params, [0]);
console.log('optim ok');
