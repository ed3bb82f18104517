// Plain JavaScript, as a torchvision user writes it: `pretrained: true/false` behaves as in
// torchvision 0.14 (default weights or random init, with a deprecation warning naming `weights`),
// and passing it together with `weights` is refused as torchvision refuses it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ResNet18Weights, resnet18, resnet34, resnet50 } from '@graft/models';
import { torchHubCheckpointDir } from '@graft/models/node';
import { manualSeed } from '@graft/tensor';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { imagenetShapedCheckpoint } from './test-utils/demo-checkpoint.ts';
import { useTempHomes } from './test-utils/temp-homes.ts';

// An ImageNet-shaped ResNet-18 checkpoint (the demo checkpoint's float16 body with a deterministic
// 1000-class head, built at test time) stands in for torchvision's file: it is put in PyTorch's cache
// under the name of ResNet18_Weights.IMAGENET1K_V1, so the builder finds it there without a network.
const { bytes: weightsBytes, tensors: fileTensors } = imagenetShapedCheckpoint();

let homes;
beforeEach(async () => {
  homes = await useTempHomes();
});
afterEach(async () => {
  vi.unstubAllGlobals();
  await homes.restore();
});

/** Runs `build` and returns its value with the process warnings it emitted. */
async function withWarnings(build) {
  const warnings = [];
  const listener = (w) => warnings.push(w);
  process.on('warning', listener);
  try {
    const value = await build();
    // process.emitWarning delivers on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    return { value, warnings };
  } finally {
    process.off('warning', listener);
  }
}

/** A tensor's values as bytes (float32 for floating tensors), for exact comparison of big tensors. */
function bytesOf(t) {
  const v = t.isFloatingPoint() ? t.float().readSync() : t.readSync();
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function expectSameValues(a, b, key) {
  expect(a.shape, key).toEqual(b.shape);
  expect(bytesOf(a).equals(bytesOf(b)), key).toBe(true);
}

function expectSameStateDict(a, b) {
  const sa = a.stateDict();
  const sb = b.stateDict();
  expect(Object.keys(sa)).toEqual(Object.keys(sb));
  for (const key of Object.keys(sa)) expectSameValues(sa[key], sb[key], key);
}

/** undici's error when the host cannot be reached: a TypeError 'fetch failed' with the reason as cause. */
function offlineFetch() {
  const cause = Object.assign(new Error('getaddrinfo ENOTFOUND download.pytorch.org'), { code: 'ENOTFOUND' });
  return vi.fn(async () => {
    throw new TypeError('fetch failed', { cause });
  });
}

describe('pretrained (deprecated, as in torchvision 0.14)', () => {
  it('pretrained: true loads IMAGENET1K_V1, warns with the weights to write instead, and equals the explicit load', async () => {
    await mkdir(torchHubCheckpointDir(), { recursive: true });
    await writeFile(join(torchHubCheckpointDir(), ResNet18Weights.IMAGENET1K_V1.fileName), weightsBytes);

    const { value: legacy, warnings } = await withWarnings(() => resnet18({ pretrained: true }));
    expect(warnings.length).toBe(1);
    expect(warnings[0].name).toBe('DeprecationWarning');
    expect(warnings[0].code).toBe('GRAFT_DEP_PRETRAINED');
    expect(warnings[0].message).toContain("resnet18: the option 'pretrained' is deprecated");
    expect(warnings[0].message).toContain("use 'weights' instead");
    expect(warnings[0].message).toContain(
      "pretrained: true is the same as weights: 'IMAGENET1K_V1' (ResNet18Weights.IMAGENET1K_V1)",
    );
    expect(warnings[0].message).toContain("weights: 'DEFAULT' (ResNet18Weights.DEFAULT)");

    // The reference: the file itself, and the same weights asked for by name.
    const loaded = legacy.stateDict();
    for (const [key, value] of Object.entries(fileTensors)) expectSameValues(loaded[key], value, key);
    const explicit = await withWarnings(() => resnet18({ weights: ResNet18Weights.IMAGENET1K_V1 }));
    expect(explicit.warnings).toEqual([]);
    expectSameStateDict(legacy, explicit.value);
  }, 240_000);

  it('pretrained: false is random init, warns that it means weights: null, and draws what resnet18() draws', async () => {
    manualSeed(7);
    const { value: legacy, warnings } = await withWarnings(() =>
      resnet18({ pretrained: false, progress: false }),
    );
    expect(warnings.map((w) => w.message)).toEqual([
      "resnet18: the option 'pretrained' is deprecated (since torchvision 0.13); use 'weights' instead. " +
        'pretrained: false is the same as weights: null (or leaving weights out): random initialization.',
    ]);
    manualSeed(7);
    const plain = await resnet18();
    expectSameStateDict(legacy, plain);
  }, 120_000);

  it("resnet50's pretrained: true means IMAGENET1K_V1 (torchvision's legacy default), not DEFAULT (V2)", async () => {
    vi.stubGlobal('fetch', offlineFetch());
    const { value: error, warnings } = await withWarnings(() =>
      resnet50({ pretrained: true, progress: false }).catch((e) => e),
    );
    expect(warnings.map((w) => w.message).join('\n')).toContain(
      "pretrained: true is the same as weights: 'IMAGENET1K_V1' (ResNet50Weights.IMAGENET1K_V1)",
    );
    expect(error.message).toContain('https://download.pytorch.org/models/resnet50-0676ba61.pth');
    expect(error.message).not.toContain('resnet50-11ad3fa6.pth');
  });

  it('refuses pretrained together with weights, as torchvision does, before building anything', async () => {
    await expect(resnet18({ pretrained: true, weights: 'IMAGENET1K_V1' })).rejects.toThrow(
      "resnet18: got both pretrained: true and weights: 'IMAGENET1K_V1'; pass only weights",
    );
    await expect(resnet34({ pretrained: false, weights: null })).rejects.toThrow(
      'resnet34: got both pretrained: false and weights: null; pass only weights',
    );
    await expect(resnet18({ pretrained: true, weights: ResNet18Weights.DEFAULT })).rejects.toThrow(
      /got both pretrained: true and weights: ResNet18_Weights.IMAGENET1K_V1/,
    );
  });

  it('refuses a pretrained that is not a boolean, pointing at weights', async () => {
    await expect(resnet18({ pretrained: 'IMAGENET1K_V1' })).rejects.toThrow(
      "resnet18: pretrained must be true or false, got 'IMAGENET1K_V1'; to choose weights by name, write weights: 'IMAGENET1K_V1'",
    );
    await expect(resnet18({ pretrained: 1 })).rejects.toThrow(
      /resnet18: pretrained must be true or false, got 1; write weights: 'IMAGENET1K_V1'/,
    );
    await expect(resnet18({ weights: true })).rejects.toThrow(
      "resnet18: weights: true is not a weights value; write weights: 'DEFAULT' or weights: 'IMAGENET1K_V1'",
    );
  });
});

describe('weights names', () => {
  it("lists the architecture's valid names for an unknown one (torchvision 0.14: resnet18 has only V1)", async () => {
    await expect(resnet18({ weights: 'IMAGENET1K_V2' })).rejects.toThrow(
      "resnet18: unknown weights 'IMAGENET1K_V2'; ResNet18_Weights has IMAGENET1K_V1, DEFAULT (= IMAGENET1K_V1)",
    );
    await expect(resnet34({ weights: 'IMAGENET1K_V2' })).rejects.toThrow(
      "resnet34: unknown weights 'IMAGENET1K_V2'; ResNet34_Weights has IMAGENET1K_V1, DEFAULT (= IMAGENET1K_V1)",
    );
    await expect(resnet50({ weights: 'IMAGENET1K_V3' })).rejects.toThrow(
      "resnet50: unknown weights 'IMAGENET1K_V3'; ResNet50_Weights has IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT (= IMAGENET1K_V2)",
    );
    await expect(resnet18({ weights: 'ResNet18_Weights.IMAGENET1K_V2' })).rejects.toThrow(
      "resnet18: unknown weights 'ResNet18_Weights.IMAGENET1K_V2'; ResNet18_Weights has IMAGENET1K_V1",
    );
  });

  it("names the architecture another enum's weights belong to, and a case slip", async () => {
    await expect(resnet18({ weights: 'ResNet50_Weights.IMAGENET1K_V2' })).rejects.toThrow(
      "resnet18: weights 'ResNet50_Weights.IMAGENET1K_V2' are resnet50's; ResNet18_Weights has IMAGENET1K_V1, DEFAULT (= IMAGENET1K_V1). Use resnet50() for them",
    );
    await expect(resnet18({ weights: 'imagenet1k_v1' })).rejects.toThrow(
      "resnet18: unknown weights 'imagenet1k_v1'; did you mean 'IMAGENET1K_V1'?",
    );
    await expect(resnet50({ weights: 'default' })).rejects.toThrow(
      "resnet50: unknown weights 'default'; did you mean 'DEFAULT'?",
    );
  });

  it('still reads a path as a path', async () => {
    const missing = join(homes.root, 'IMAGENET1K_V2.pth');
    await expect(resnet18({ weights: missing })).rejects.toThrow(`weights: no checkpoint file at ${missing}`);
    await expect(resnet18({ weights: 'models/resnet18' })).rejects.toThrow(
      /weights: no checkpoint file at models\/resnet18$/,
    );
  });
});
