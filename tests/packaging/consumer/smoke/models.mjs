// @graft/models: torchvision's resnet18 (parameter count, printout, a forward pass).
import assert from 'node:assert/strict';
import { resnet18 } from '@graft/models';
import { randn } from '@graft/tensor';

const model = await resnet18();
const count = [...model.parameters()].reduce((n, p) => n + p.numel(), 0);
assert.equal(count, 11_689_512); // torchvision's resnet18
assert.ok(
  String(model).startsWith(
    'ResNet(\n  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)',
  ),
);
model.eval();
assert.deepEqual(model.call(randn(1, 3, 32, 32)).shape, [1, 1000]);
console.log('models ok');
