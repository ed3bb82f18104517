// Loading pretrained weights end to end in Node: paths, URLs (local server), registry entries through
// the graft and PyTorch caches, old checkpoints without num_batches_tracked, and wrong architectures.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateDictError } from '@graft/nn';
import { readSafetensors, save } from '@graft/serialize/node';
import { noGrad, type Tensor } from '@graft/tensor';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resnet18, resnet34, resnet50 } from './builders.js';
import type { DownloadProgress } from './checkpoint-source/types.js';
import { graftCheckpointDir, torchHubCheckpointDir } from './node/cache-dirs.js';
import type { ResNet } from './resnet.js';
import {
  demoCheckpoint,
  demoCheckpointBytes,
  demoCheckpointPath,
  imagenetShapedCheckpoint,
  sha256,
} from './test-utils/demo-checkpoint.js';
import { fixtureBytes, fixtureJson, maxRelativeError } from './test-utils/fixtures.js';
import { startServer, type TestServer } from './test-utils/http-server.js';
import { type TempHomes, useTempHomes } from './test-utils/temp-homes.js';
import { ResNet18Weights, Weights } from './weights.js';

// The demo checkpoint (float16, 5 classes) where any ResNet-18 file will do; where 1000 classes are
// needed (registry entries, the caches), its body with a deterministic ImageNet-shaped head.
const weightsPath = demoCheckpointPath;
const weightsBytes = demoCheckpointBytes();
const numClasses = 5;
const hashedName = `resnet18-fashion-0to4-${sha256(weightsBytes).slice(0, 8)}.safetensors`;
const checkpoint = demoCheckpoint();
const imagenetShaped = imagenetShapedCheckpoint();
const evalInput = readSafetensors(fixtureBytes('resnet18_numerics.safetensors')).tensors.eval_input;
const golden = fixtureJson<{ eval: { logits: number[][]; imagenet_head_logits: number[][] } }>(
  'resnet18_numerics.json',
).eval;

let server: TestServer;
let homes: TempHomes;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  homes = await useTempHomes();
  server.routes.clear();
  server.requests.clear();
});
afterEach(async () => {
  await homes.restore();
});

/** Relative error of the model's eval logits against PyTorch's for the same weights (by head size). */
function logitsError(model: ResNet): number {
  model.eval();
  const logits = noGrad(() => model.call(evalInput));
  const expected = model.fc.outFeatures === 1000 ? golden.imagenet_head_logits : golden.logits;
  return maxRelativeError([...logits.readSync()], expected.flat());
}

function sameValues(a: Tensor, b: Tensor): boolean {
  const x = a.float().readSync();
  const y = b.float().readSync();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

describe('weights from a path or bytes', () => {
  it('loads a float16 .safetensors path into a float32 model', async () => {
    const model = await resnet18({ weights: weightsPath, numClasses });
    expect(model.conv1.weight.dtype).toBe('float32');
    expect(sameValues(model.conv1.weight, checkpoint['conv1.weight'])).toBe(true);
    expect(sameValues(model.layer4.at(1).getParameter('bn2.weight'), checkpoint['layer4.1.bn2.weight'])).toBe(
      true,
    );
    expect(logitsError(model)).toBeLessThan(1e-4);
  });

  it('loads a .pth (PyTorch zip) state dict, a checkpoint under "state_dict", bytes and a state dict object', async () => {
    const pth = join(homes.root, 'resnet18.pth');
    await save(checkpoint, pth);
    expect(logitsError(await resnet18({ weights: pth, numClasses }))).toBeLessThan(1e-4);
    const nested = join(homes.root, 'training.pth');
    await save({ epoch: 3, state_dict: checkpoint }, nested);
    expect(logitsError(await resnet18({ weights: nested, numClasses }))).toBeLessThan(1e-4);
    expect(logitsError(await resnet18({ weights: weightsBytes, numClasses }))).toBeLessThan(1e-4);
    expect(logitsError(await resnet18({ weights: checkpoint, numClasses }))).toBeLessThan(1e-4);
    // Four loads and forwards: give a loaded machine time.
  }, 240_000);

  it('loads an older checkpoint without num_batches_tracked, filling them with 0', async () => {
    const old: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(checkpoint)) if (!k.endsWith('num_batches_tracked')) old[k] = v;
    expect(Object.keys(old).length).toBe(102);
    const path = join(homes.root, 'old.pth');
    await save(old, path);
    const model = await resnet18({ weights: path, numClasses });
    const sd = model.stateDict();
    expect(Object.keys(sd).length).toBe(122);
    expect(Number(sd['layer2.0.downsample.1.num_batches_tracked'].itemSync())).toBe(0);
    expect(logitsError(model)).toBeLessThan(1e-4);
  });

  it('refuses a checkpoint of another architecture with the full load report', async () => {
    const err = await resnet34({ weights: weightsPath, numClasses }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDictError);
    const report = err as StateDictError;
    expect(report.message).toContain('does not fit ResNet: Error(s) in loading state_dict for ResNet:');
    expect(report.message).toContain('Missing key(s) in state_dict: "layer1.2.conv1.weight"');
    // As in PyTorch, a plain dict (no _metadata version) gets num_batches_tracked filled, so only
    // the 16 extra blocks' other 80 keys are reported.
    expect(report.missingKeys.length).toBe(80);
    expect(report.missingKeys).toContain('layer3.5.bn2.running_var');
    expect(report.unexpectedKeys).toEqual([]);

    const err50 = (await resnet50({ weights: weightsPath }).catch((e: unknown) => e)) as StateDictError;
    expect(err50).toBeInstanceOf(StateDictError);
    expect(err50.message).toContain(
      'size mismatch for layer1.0.conv1.weight: copying a param with shape torch.Size([64, 64, 3, 3]) from checkpoint, the shape in current model is torch.Size([64, 64, 1, 1]).',
    );
    expect(err50.message).toContain(
      'size mismatch for fc.weight: copying a param with shape torch.Size([5, 512]) from checkpoint, the shape in current model is torch.Size([1000, 2048]).',
    );
    expect(err50.missingKeys).toContain('layer1.0.conv3.weight');
  });

  it('refuses a head of the wrong size, naming both shapes', async () => {
    await expect(resnet18({ weights: weightsPath, numClasses: 10 })).rejects.toThrow(
      'size mismatch for fc.weight: copying a param with shape torch.Size([5, 512]) from checkpoint, the shape in current model is torch.Size([10, 512]).',
    );
  });

  it('names a missing file and a file that is no checkpoint', async () => {
    const missing = join(homes.root, 'missing.pth');
    await expect(resnet18({ weights: missing })).rejects.toThrow(`weights: no checkpoint file at ${missing}`);
    const junk = join(homes.root, 'junk.pth');
    await writeFile(junk, 'not a checkpoint at all');
    await expect(resnet18({ weights: junk })).rejects.toThrow(/unrecognized file format/);
  });
});

describe('weights from a URL (local server on 127.0.0.1)', () => {
  it('downloads once with progress, checks the hash in the name, then uses the cache', async () => {
    server.routes.set(`/models/${hashedName}`, weightsBytes);
    const url = `${server.origin}/models/${hashedName}`;
    const events: DownloadProgress[] = [];
    const model = await resnet18({
      weights: url,
      numClasses,
      progress: false,
      onProgress: (p) => events.push(p),
    });
    expect(logitsError(model)).toBeLessThan(1e-4);
    expect(events[events.length - 1]).toMatchObject({
      done: true,
      receivedBytes: weightsBytes.byteLength,
      totalBytes: weightsBytes.byteLength,
    });
    await resnet18({ weights: url, numClasses, progress: false });
    expect(server.requests.get(`/models/${hashedName}`)).toBe(1);
  });

  it('refuses a download whose hash does not match its name', async () => {
    const badName = 'resnet18-fashion-0to4-00000000.safetensors';
    server.routes.set(`/models/${badName}`, weightsBytes);
    await expect(
      resnet18({ weights: `${server.origin}/models/${badName}`, progress: false }),
    ).rejects.toThrow(/invalid hash value .*expected sha256 starting with "00000000"/);
  });

  it('loads a registry entry: URL, file name and hash prefix from the entry', async () => {
    const name = `resnet18-imagenet-shaped-${sha256(imagenetShaped.bytes).slice(0, 8)}.safetensors`;
    server.routes.set(`/models/${name}`, imagenetShaped.bytes);
    const entry = new Weights(
      'ResNet18_Weights',
      'TEST',
      'resnet18',
      `${server.origin}/models/${name}`,
      { cropSize: 224 },
      ResNet18Weights.IMAGENET1K_V1.meta,
    );
    const model = await resnet18({ weights: entry, progress: false });
    expect(model.fc.outFeatures).toBe(1000);
    expect(logitsError(model)).toBeLessThan(1e-4);
    await expect(resnet18({ weights: entry, numClasses: 5 })).rejects.toThrow(
      'resnet18: numClasses 5 does not match ResNet18_Weights.TEST (1000 categories)',
    );
    await expect(resnet34({ weights: entry })).rejects.toThrow(
      'resnet34: invalid weights ResNet18_Weights.TEST; expected one of ResNet34_Weights',
    );
  });
});

describe('registry weights through the caches (no network)', () => {
  it("finds torchvision's file in PyTorch's cache", async () => {
    await mkdir(torchHubCheckpointDir(), { recursive: true });
    await writeFile(join(torchHubCheckpointDir(), 'resnet18-f37072fd.pth'), imagenetShaped.bytes);
    const model = await resnet18({ weights: ResNet18Weights.IMAGENET1K_V1 });
    expect(logitsError(model)).toBeLessThan(1e-4);
  });

  it("finds it in graft's cache, by name ('DEFAULT')", async () => {
    await mkdir(graftCheckpointDir(), { recursive: true });
    await writeFile(join(graftCheckpointDir(), 'resnet18-f37072fd.pth'), imagenetShaped.bytes);
    expect(logitsError(await resnet18({ weights: 'DEFAULT' }))).toBeLessThan(1e-4);
  });
});
