// Writes fixtures/graft-written/: PyTorch's golden files read by graft and written back, for
// scripts/golden/serialize.py to load in real PyTorch. Run after `pnpm --filter @graft/serialize build`.
// src/graft-written.test.ts checks that today's writer still produces these exact bytes.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Tensor, tensor } from '@graft/tensor';
import { loadBytes, pyFloat, readSafetensors, saveBytesSync } from '../dist/index.js';

const fixtures = new URL('../fixtures/', import.meta.url);
const out = new URL('graft-written/', fixtures);

const read = (name) => new Uint8Array(readFileSync(new URL(name, fixtures)));

/** The files graft writes, by name: a function from the golden fixtures to bytes. */
export const GRAFT_WRITTEN = {
  'state_dict.pth': () => saveBytesSync(loadBytes(read('state_dict_zip.pth')), { archiveName: 'state_dict' }),
  'from_legacy.pth': () =>
    saveBytesSync(loadBytes(read('state_dict_legacy.pth')), { archiveName: 'from_legacy' }),
  'checkpoint.pth': () => {
    const checkpoint = loadBytes(read('checkpoint.pth'));
    // Policy: an integral float reads as a plain number and would be written as an int; pyFloat keeps it a float.
    checkpoint.lr_float_integral = pyFloat(checkpoint.lr_float_integral);
    // @graft/optim's stateDict() keys `state` by '0', '1', ...; the writer must still produce int keys.
    // (`adam` keeps the Map with number keys that loading produced.)
    checkpoint.optimizer.state = Object.fromEntries(checkpoint.optimizer.state);
    return saveBytesSync(checkpoint, { archiveName: 'checkpoint' });
  },
  'views.pth': () => saveBytesSync(loadBytes(read('views.pth')), { archiveName: 'views' }),
  'dtypes.pth': () => saveBytesSync(loadBytes(read('dtypes.pth')), { archiveName: 'dtypes' }),
  'parameter.pth': () => saveBytesSync(loadBytes(read('parameter.pth')), { archiveName: 'parameter' }),
  'parameter_class.pth': () => {
    // @graft/nn's Parameter subclasses Tensor; the writer recognizes it by class name and writes torch.nn.Parameter.
    class Parameter extends Tensor {}
    const weight = Object.setPrototypeOf(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'float32', requiresGrad: true },
      ),
      Parameter.prototype,
    );
    const frozen = Object.setPrototypeOf(tensor([5, 6], { dtype: 'float32' }), Parameter.prototype);
    return saveBytesSync({ weight, frozen }, { archiveName: 'parameter_class' });
  },
  'model.safetensors': () => {
    const { tensors, metadata } = readSafetensors(read('model.safetensors'));
    return saveBytesSync(tensors, { format: 'safetensors', metadata });
  },
  'state_dict.safetensors': () =>
    saveBytesSync(loadBytes(read('state_dict_zip.pth')), { format: 'safetensors' }),
};

if (process.argv[1] && new URL(`file://${process.argv[1]}`).href === import.meta.url) {
  mkdirSync(out, { recursive: true });
  for (const [name, make] of Object.entries(GRAFT_WRITTEN)) {
    writeFileSync(new URL(name, out), make());
    console.log(`wrote fixtures/graft-written/${name}`);
  }
}
