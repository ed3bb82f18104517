// @graft/data: torchvision-style transforms on an image, and a DataLoader over a TensorDataset.
import assert from 'node:assert/strict';
import { Compose, DataLoader, Normalize, Resize, rawImage, TensorDataset, ToTensor } from '@graft/data';
import { arange } from '@graft/tensor';

const image = rawImage(new Uint8Array(4 * 4 * 3).fill(51), 4, 4, 3); // 51 / 255 = 0.2 everywhere
const transform = new Compose([
  new Resize(2),
  new ToTensor(),
  new Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
]);
const x = transform.forward(image);
assert.deepEqual(x.shape, [3, 2, 2]);
for (const v of await x.read())
  assert.ok(Math.abs(v - -1.2) < 1e-6, `expected (0.2 - 0.5) / 0.25 = -1.2, got ${v}`);
const loader = new DataLoader(new TensorDataset(arange(10), arange(10).mul(2)), { batchSize: 4 });
const batches = [];
for await (const [a, b] of loader) batches.push([a.shape[0], await b.sum().item()]);
assert.deepEqual(batches, [
  [4, 12],
  [4, 44],
  [2, 34],
]);
console.log('data ok');
