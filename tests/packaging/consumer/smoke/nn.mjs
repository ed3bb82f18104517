// @graft/nn: a module forward with known weights, its state dict keys and PyTorch's printout.
import assert from 'node:assert/strict';
import { init, Linear, ReLU, Sequential } from '@graft/nn';
import { tensor } from '@graft/tensor';

const net = new Sequential(new Linear(3, 2), new ReLU());
init.constant_(net[0].weight, 0.5);
init.zeros_(net[0].bias);
const y = net.call(
  tensor(
    [
      [1, 2, 3],
      [-1, -2, -3],
    ],
    { dtype: 'float32' },
  ),
); // 0.5 * row sums, then ReLU
assert.deepEqual(await y.tolist(), [
  [3, 3],
  [0, 0],
]);
assert.deepEqual(Object.keys(net.stateDict()), ['0.weight', '0.bias']);
assert.equal(
  String(net),
  'Sequential(\n  (0): Linear(in_features=3, out_features=2, bias=True)\n  (1): ReLU()\n)',
);
console.log('nn ok');
