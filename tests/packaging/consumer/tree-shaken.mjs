// A small program that imports a few names from each browser entry; the test bundles it for the browser with
// tree shaking, so a module whose side effects were needed but dropped (sideEffects: false) would show here.
import { Compose, Normalize, rawImage, ToTensor } from '@graft/data';
import { resnet18 } from '@graft/models';
import { F, init, Linear } from '@graft/nn';
import { SGD } from '@graft/optim';
import { loadBytes, saveBytes } from '@graft/serialize';
import { tensor } from '@graft/tensor';

function check(ok, what) {
  if (!ok) throw new Error(`tree-shaken bundle: ${what}`);
}
const lin = new Linear(2, 1);
init.constant_(lin.weight, 1);
init.zeros_(lin.bias);
const opt = new SGD(lin.parameters(), { lr: 0.5 });
F.mseLoss(lin.call(tensor([[1, 2]], { dtype: 'float32' })), tensor([[1]], { dtype: 'float32' })).backward();
opt.step(); // grad of (w.x - 1)^2 at w = [1, 1]: 2 * 2 * [1, 2] = [4, 8]; w - 0.5 * grad = [-1, -3]
check(String(lin) === 'Linear(in_features=2, out_features=1, bias=True)', String(lin));
check(JSON.stringify(await lin.weight.tolist()) === '[[-1,-3]]', 'one SGD step');
const bytes = await saveBytes({ w: lin.weight.detach() });
check(JSON.stringify(await loadBytes(bytes).w.tolist()) === '[[-1,-3]]', 'save and load bytes');
const x = new Compose([new ToTensor(), new Normalize([0.5], [0.5])]).forward(
  rawImage(new Uint8Array(4).fill(255), 2, 2, 1),
);
check(JSON.stringify(await x.tolist()) === '[[[1,1],[1,1]]]', 'transforms');
const model = await resnet18({ numClasses: 3 });
check(
  model.eval().call(tensor(new Array(3 * 32 * 32).fill(0.5), { dtype: 'float32' }).reshape(1, 3, 32, 32))
    .shape[1] === 3,
  'resnet18',
);
console.log('tree-shaken ok');
