// Writes fixtures/graft-written/: PyTorch's golden files read by graft and written back, and graft's own
// nn and optim state dicts (nn_*), for scripts/golden/serialize.py to load in real PyTorch. Run after
// `pnpm --filter @graft/serialize build` (and @graft/nn, @graft/optim).
// src/graft-written.test.ts checks that today's writer still produces the same bytes for the files read from
// PyTorch's (the nn_* files hold trained values, which follow the kernels, so only PyTorch checks them).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '@graft/nn';
import { Adadelta, Adagrad, Adam, AdamW, RMSprop, SGD } from '@graft/optim';
import { manualSeed, randn, Tensor, tensor, toCamelCase } from '@graft/tensor';
import { loadBytes, pyFloat, readSafetensors, saveBytesSync } from '../dist/index.js';

const fixtures = new URL('../fixtures/', import.meta.url);
const out = new URL('graft-written/', fixtures);

const read = (name) => new Uint8Array(readFileSync(new URL(name, fixtures)));

// The golden script's small_model() and stepped_optimizer(); src/test-utils/torch-cases.ts has the same in TS.
function smallModel() {
  manualSeed(0);
  return new Sequential(
    new Conv2d(2, 3, 3),
    new BatchNorm2d(3),
    new ReLU(),
    new Flatten(),
    new Linear(12, 4),
  );
}

const OPTIMIZERS = { SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta };
const camel = (kwargs) => Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [toCamelCase(k), v]));

function steppedOptimizer(c) {
  const model = smallModel();
  const [conv, bn, , , head] = [...model.children()];
  const params = c.groups
    ? [
        { params: [...conv.parameters(), ...bn.parameters()], ...camel(c.groups[0]) },
        { params: [...head.parameters()], ...camel(c.groups[1]) },
      ]
    : [...model.parameters()];
  const opt = new OPTIMIZERS[c.class](params, camel(c.kwargs));
  manualSeed(1);
  model
    .call(randn(2, 2, 4, 4))
    .square()
    .mean()
    .backward();
  opt.step();
  return opt;
}

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
  // graft's own: a module's stateDict() (an OrderedDict with _metadata) and every optimizer's stateDict().
  'nn_state_dict.pth': () => saveBytesSync(smallModel().stateDict(), { archiveName: 'nn_state_dict' }),
  'nn_optimizers.pth': () => {
    const { optimizers } = JSON.parse(readFileSync(new URL('torch_structure.json', fixtures), 'utf8'));
    const all = Object.fromEntries(optimizers.map((c) => [c.name, steppedOptimizer(c).stateDict()]));
    return saveBytesSync(all, { archiveName: 'nn_optimizers' });
  },
};

if (process.argv[1] && new URL(`file://${process.argv[1]}`).href === import.meta.url) {
  mkdirSync(out, { recursive: true });
  for (const [name, make] of Object.entries(GRAFT_WRITTEN)) {
    writeFileSync(new URL(name, out), make());
    console.log(`wrote fixtures/graft-written/${name}`);
  }
}
