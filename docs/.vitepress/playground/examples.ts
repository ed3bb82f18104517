// Programs the editor offers. Each uses only the public packages, like the guides' code blocks.

export const EXAMPLES: { title: string; code: string }[] = [
  {
    title: 'Fit a small network',
    code: `import { manualSeed, randn } from '@graft/tensor';
import { F, Linear, ReLU, Sequential } from '@graft/nn';
import { Adam } from '@graft/optim';

manualSeed(0);
// Two classes: inside or outside the unit circle.
const x = randn(256, 2);
const y = x.square().sum(1).lt(1).long();
const model = new Sequential(new Linear(2, 32), new ReLU(), new Linear(32, 2));
const optimizer = new Adam(model.parameters(), { lr: 0.02 });
console.log(String(model));

for (let step = 0; step <= 200; step++) {
  optimizer.zeroGrad();
  const loss = F.crossEntropy(model.forward(x), y);
  loss.backward();
  optimizer.step();
  if (step % 40 === 0) console.log('step', step, 'loss', (await loss.item()).toFixed(4));
}
const accuracy = await model.forward(x).argmax(1).eq(y).float().mean().item();
console.log('training accuracy', accuracy.toFixed(3));
`,
  },
  {
    title: 'ResNet-18: surgery and summary',
    code: `import { Linear, summary } from '@graft/nn';
import { resnet18 } from '@graft/models';

const model = await resnet18();              // random weights: nothing to download
model.fc = new Linear(model.fc.inFeatures, 5);
for (const [name, p] of model.namedParameters()) p.requiresGrad = name.startsWith('fc.');
console.log(String(model.layer1));
console.log(String(summary(model)));
`,
  },
  {
    title: "Fine-tune the playground's network",
    code: `import { noGrad, stack, tensor } from '@graft/tensor';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, F, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@graft/nn';
import { SGD } from '@graft/optim';
import { decodeImage, Normalize, ToTensor } from '@graft/data';
import { asStateDict, loadBytes } from '@graft/serialize';

// The pretrained network, built with the names of the PyTorch model it was trained as.
const stage = (i: number, o: number) => [new Conv2d(i, o, 3, { padding: 1, bias: false }), new BatchNorm2d(o), new ReLU()];
const model = new Sequential({
  features: new Sequential(...stage(1, 16), new MaxPool2d(2), ...stage(16, 32), new MaxPool2d(2), ...stage(32, 64)),
  avgpool: new AdaptiveAvgPool2d(1),
  flatten: new Flatten(),
  fc: new Linear(64, 5),
});
const bytes = async (path: string) => new Uint8Array(await (await fetch(path)).arrayBuffer());
const index = await (await fetch('/playground/index.json')).json();
model.loadStateDict(asStateDict(loadBytes(await bytes('/playground/' + index.pretrained.file))));
console.log('pretrained on', index.pretrained.classes.join(', '));

// The few-shot images of five other classes.
const toTensor = new ToTensor();
const normalize = new Normalize([index.mean], [index.std]);
async function batch(list: [string, number][]) {
  const images = await Promise.all(list.map(async ([p]) => decodeImage(await bytes('/playground/' + p), { mode: 'L' })));
  return { x: stack(images.map((im) => normalize.forward(toTensor.forward(im)))), y: tensor(list.map(([, l]) => l)) };
}
const train = await batch(index.train);
const val = await batch(index.val);

// A new head; the body stays frozen, its BatchNorm in eval mode.
model.registerModule('fc', new Linear(64, index.classes.length));
model.at(0).requiresGrad_(false);
model.eval();
const head = model.at(3);
const optimizer = new SGD(head.parameters(), { lr: 0.1, momentum: 0.9 });
for (let step = 1; step <= 20; step++) {
  optimizer.zeroGrad();
  const loss = F.crossEntropy(model.forward(train.x), train.y);
  loss.backward();
  optimizer.step();
  if (step % 5 === 0) console.log('step', step, 'loss', (await loss.item()).toFixed(3));
}
const acc = await noGrad(() => model.forward(val.x).argmax(1).eq(val.y).float().mean()).item();
console.log('validation accuracy', acc.toFixed(2), 'on', index.classes.join(', '));
`,
  },
];
