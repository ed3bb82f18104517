// DESIGN.md's example as a user writes it against the installed packages: type-checked with --strict, then run.
// Usage: node dist/example.js <pretrained .pth> <output folder>

import { type ResNet18Weights, resnet18 } from '@graft/models';
import { F, Flatten, init, Linear, type Module, Sequential, type StateDict } from '@graft/nn';
import { lrScheduler, type OptimizerStateDictInput, SGD } from '@graft/optim';
import { load, type PyDict, save } from '@graft/serialize/node';
import { manualSeed, noGrad, randn, type Tensor, tensor } from '@graft/tensor';

const [weightsPath, outDir] = process.argv.slice(2);
manualSeed(0);
const x = randn(2, 3, 32, 32);
const y = tensor([0, 1]);

const trained = await resnet18({ weights: weightsPath }); // path, URL or registry entry
// 1.1 cut off the head, flatten, new classifier
const model = new Sequential(...[...trained.children()].slice(0, -1), new Flatten(), new Linear(512, 5));
// 1.2 or replace the head in place
trained.fc = new Linear(trained.fc.inFeatures, 2);
init.xavierUniform_(trained.fc.weight);
const printout = String(trained); // PyTorch's exact printout
// 2.1 freeze everything but the head
for (const [name, p] of trained.namedParameters()) p.requiresGrad = name.startsWith('fc.');
// 2.2 or two parameter groups with their own learning rates
const body = [...trained.namedParameters()].filter(([n]) => !n.startsWith('fc.')).map(([, p]) => p);
const opt = new SGD([{ params: body }, { params: trained.fc.parameters(), lr: 1e-2 }], {
  lr: 1e-3,
  momentum: 0.9,
  weightDecay: 1e-3,
});
const scheduler = new lrScheduler.StepLR(opt, { stepSize: 7, gamma: 0.1 });
const conv1Before = await trained.conv1.weight.read();
const fcBefore = await trained.fc.weight.read();
opt.zeroGrad();
F.crossEntropy(trained.forward(x), y).backward();
opt.step();
scheduler.step();
await save({ model: trained.stateDict(), optimizer: opt.stateDict() }, `${outDir}/ckpt.pth`);

// Load the checkpoint into a fresh model and optimizer, as a resumed run would.
const ckpt = (await load(`${outDir}/ckpt.pth`)) as PyDict;
const restored = await resnet18({ numClasses: 2 });
restored.loadStateDict(ckpt.model as StateDict);
const restoredBody = [...restored.namedParameters()].filter(([n]) => !n.startsWith('fc.')).map(([, p]) => p);
const opt2 = new SGD([{ params: restoredBody }, { params: restored.fc.parameters(), lr: 1e-2 }], {
  lr: 1e-3,
  momentum: 0.9,
});
// A PyValue does not narrow to the optimizer's input type with one cast (see the packaging issue note).
opt2.loadStateDict(ckpt.optimizer as unknown as OptimizerStateDictInput);

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`example: ${what}`);
}
const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => v === b[i]);
check(
  printout.includes('(fc): Linear(in_features=512, out_features=2, bias=True)'),
  'the printout shows the new head',
);
check(same(model.forward(x).shape, [2, 5]), 'the cut model maps [2, 3, 32, 32] to [2, 5]');
check(same(await trained.conv1.weight.read(), conv1Before), 'the frozen body did not move');
check(!same(await trained.fc.weight.read(), fcBefore), 'the head trained');
check(same(await restored.fc.weight.read(), await trained.fc.weight.read()), 'the saved head loads back');
check(
  opt2.paramGroups[1].lr === 1e-2 && opt2.stateDict().param_groups[0].weight_decay === 1e-3,
  'optimizer groups load back',
);
check(
  noGrad(() => restored.forward(x)).requiresGrad === false,
  'noGrad returns what fn returns, without grad',
);
console.log('example ok');

// Compile-time checks that the public types of what the example touches are not `any`.
type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T extends false> = T;
type Element<T> = T extends Iterable<infer E> ? E : never;
export type PublicTypesAreNotAny = [
  NotAny<IsAny<typeof trained>>,
  NotAny<IsAny<typeof trained.fc>>,
  NotAny<IsAny<ReturnType<typeof trained.forward>>>,
  NotAny<IsAny<ReturnType<Tensor['backward']>>>,
  NotAny<IsAny<Awaited<ReturnType<Tensor['read']>>>>,
  NotAny<IsAny<Tensor['data']>>,
  NotAny<IsAny<Tensor['grad']>>,
  NotAny<IsAny<Element<ReturnType<typeof trained.namedParameters>>>>,
  NotAny<IsAny<Element<ReturnType<typeof trained.children>>>>,
  NotAny<IsAny<ConstructorParameters<typeof Sequential>>>,
  NotAny<IsAny<ConstructorParameters<typeof SGD>[0]>>,
  NotAny<IsAny<ConstructorParameters<typeof SGD>[1]>>,
  NotAny<IsAny<ReturnType<typeof opt.stateDict>>>,
  NotAny<IsAny<(typeof opt.paramGroups)[number]>>,
  NotAny<IsAny<ReturnType<typeof F.crossEntropy>>>,
  NotAny<IsAny<ReturnType<typeof init.xavierUniform_>>>,
  NotAny<IsAny<Parameters<typeof save>[0]>>,
  NotAny<IsAny<Awaited<ReturnType<typeof load>>>>,
  NotAny<IsAny<ReturnType<typeof ResNet18Weights.IMAGENET1K_V1.transforms>>>,
  NotAny<IsAny<Parameters<Module['loadStateDict']>[0]>>,
];
