// @graft/serialize/node: writes a small .pth (PyTorch's zip format) and a .safetensors, and loads them back.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { detectFormat, load, save } from '@graft/serialize/node';
import { tensor } from '@graft/tensor';

const dir = process.argv[2];
const weight = tensor(
  [
    [1.5, -2],
    [0.25, 4],
  ],
  { dtype: 'float32' },
);
await save({ 'fc.weight': weight, epoch: 3 }, `${dir}/small.pth`);
const bytes = new Uint8Array(await readFile(`${dir}/small.pth`));
assert.equal(detectFormat(bytes), 'pytorch-zip');
const loaded = await load(`${dir}/small.pth`);
assert.equal(loaded.epoch, 3);
assert.deepEqual(await loaded['fc.weight'].tolist(), [
  [1.5, -2],
  [0.25, 4],
]);
await save({ 'fc.weight': weight }, `${dir}/small.safetensors`);
const st = await load(`${dir}/small.safetensors`);
assert.deepEqual(st['fc.weight'].shape, [2, 2]);
console.log('serialize ok');
