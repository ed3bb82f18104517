// ResNet with module fusion (the default) against the same model run module by module
// (setModuleFusion(false), PyTorch's eager order): eval logits, and a training step's loss, gradients
// and running statistics.
import { AdaptiveAvgPool2d, F, Module, setModuleFusion } from '@graft/nn';
import { manualSeed, memoryStats, noGrad, randint, randn, type Tensor } from '@graft/tensor';
import { afterEach, describe, expect, it } from 'vitest';
import { resnet18, resnet50 } from './index.js';
import type { BasicBlock, Bottleneck } from './resnet.js';

function maxRel(a: Tensor, b: Tensor): number {
  const x = a.readSync();
  const y = b.readSync();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(Number(x[i]) - Number(y[i])));
    scale = Math.max(scale, Math.abs(Number(y[i])));
  }
  return err / scale;
}

describe.each([
  ['resnet18 (BasicBlock)', resnet18],
  ['resnet50 (Bottleneck)', resnet50],
])('%s module fusion', (_name, build) => {
  afterEach(() => setModuleFusion(true));

  it('eval: fused logits equal the module-by-module forward', async () => {
    manualSeed(1);
    const model = await build({ numClasses: 7 });
    // Non-trivial BatchNorm statistics: a few training-mode forwards.
    noGrad(() => {
      for (let i = 0; i < 2; i++) model.call(randn(4, 3, 40, 40));
    });
    model.eval();
    const x = randn(2, 3, 40, 40);
    const fused = noGrad(() => model.call(x));
    setModuleFusion(false);
    const plain = noGrad(() => model.call(x));
    expect(maxRel(fused, plain)).toBeLessThan(1e-5);
  });

  it('train: loss, every gradient and the running statistics equal the module-by-module step', async () => {
    const step = async (fused: boolean) => {
      setModuleFusion(fused);
      manualSeed(2);
      const model = await build({ numClasses: 5 });
      const x = randn(4, 3, 40, 40);
      const y = randint(0, 5, [4]);
      const loss = F.crossEntropy(model.call(x), y);
      loss.backward();
      return { loss, model };
    };
    const f = await step(true);
    const p = await step(false);
    expect(maxRel(f.loss, p.loss)).toBeLessThan(1e-6);
    const pg = new Map(p.model.namedParameters());
    for (const [name, param] of f.model.namedParameters()) {
      expect(maxRel(param.grad!, pg.get(name)!.grad!), name).toBeLessThan(1e-4);
    }
    const pb = new Map(p.model.namedBuffers());
    for (const [name, buf] of f.model.namedBuffers())
      expect(maxRel(buf, pb.get(name)!), name).toBeLessThan(1e-6);
  });

  it('a hook on a layer inside a block sees its own output: fusion steps aside for that block', async () => {
    manualSeed(3);
    const model = await build({ numClasses: 3 });
    model.eval();
    const x = randn(1, 3, 40, 40);
    const first = [...model.layer1.children()][0] as BasicBlock | Bottleneck;
    let seen: Tensor | null = null;
    const h = first.bn1.registerForwardHook((_m, _i, o) => {
      seen = o as Tensor;
    });
    const withHook = noGrad(() => model.call(x));
    h.remove();
    expect(seen).not.toBeNull();
    const fused = noGrad(() => model.call(x));
    expect(maxRel(withHook, fused)).toBeLessThan(1e-5);
  });

  it("train: the backward frees the downsample's own conv output, as it frees the block's others", async () => {
    manualSeed(6);
    const model = await build({ numClasses: 5 });
    model.train();
    const block = model.layer2[0] as BasicBlock | Bottleneck;
    const conv = (block.downsample as Module).children().next().value as Module;
    // An instance-level wrapper, not a hook (a hook would make fusion step aside): it sees the output.
    const forward = conv.forward.bind(conv);
    let seen: Tensor | null = null;
    conv.forward = (x: Tensor) => {
      seen = forward(x) as Tensor;
      return seen;
    };
    const loss = F.crossEntropy(model.call(randn(2, 3, 40, 40)), randint(0, 5, [2]));
    const storage = (seen as unknown as Tensor)._ref.storage;
    let freed = 0;
    const dispose = storage.dispose.bind(storage);
    storage.dispose = () => {
      freed++;
      dispose();
    };
    expect(freed).toBe(0);
    loss.backward();
    // Freed once, when the downsample's BatchNorm has run its backward (not left to the collector).
    expect(freed).toBe(1);
    expect(model.conv1.weight.grad).not.toBeNull();
  });

  it('eval: a synchronous inference loop frees each temporary once consumed (heap stays flat)', async () => {
    manualSeed(4);
    const model = await build({ numClasses: 6 });
    model.eval();
    const x = randn(2, 3, 48, 48);
    const first = noGrad(() => model.call(x));
    const before = memoryStats('cpu').live;
    const outs: Tensor[] = [];
    // No await in the loop: the garbage collector's finalizers cannot run, only the forward's own frees.
    for (let i = 0; i < 12; i++) outs.push(noGrad(() => model.call(x)));
    const grown = memoryStats('cpu').live - before;
    // The 12 logits tensors (64-byte blocks) and nothing else stay.
    expect(grown).toBeLessThanOrEqual(12 * 64);
    for (const o of outs) expect(maxRel(o, first)).toBe(0);
    setModuleFusion(false);
    expect(
      maxRel(
        first,
        noGrad(() => model.call(x)),
      ),
    ).toBeLessThan(1e-5);
  });

  it.each(['a replacement layer that keeps its input', 'a forward hook'])(
    'eval: a tensor held by %s stays valid while later forwards reuse freed blocks',
    async (how) => {
      manualSeed(5);
      const model = await build({ numClasses: 4 });
      model.eval();
      let held: Tensor | null = null;
      if (how === 'a forward hook') {
        model.layer2.registerForwardHook((_m, _i, o) => {
          held = o as Tensor;
        });
      } else {
        const pool = new AdaptiveAvgPool2d([1, 1]);
        class KeepInput extends Module {
          override forward(x: Tensor): Tensor {
            held = x;
            return pool.call(x) as Tensor;
          }
        }
        model.avgpool = new KeepInput() as unknown as AdaptiveAvgPool2d; // a replacement of another class
      }
      const x1 = randn(2, 3, 48, 48);
      const x2 = randn(2, 3, 48, 48);
      noGrad(() => model.call(x1));
      const kept = held as unknown as Tensor;
      for (let i = 0; i < 3; i++) noGrad(() => model.call(x2));
      setModuleFusion(false);
      noGrad(() => model.call(x1));
      expect(maxRel(kept, held as unknown as Tensor)).toBeLessThan(1e-5);
    },
  );
});
