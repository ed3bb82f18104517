// Plain JavaScript, as a user without a compiler writes it: every options object of @graft/models refuses
// keys it does not know, and suggests the camelCase spelling of a Python keyword (torchvision raises a
// TypeError for an unknown keyword too: `ResNet.__init__() got an unexpected keyword argument`).
import {
  BasicBlock,
  Bottleneck,
  fetchStateDict,
  ImageClassification,
  ResNet,
  resnet18,
  resnet34,
  resnet50,
} from '@graft/models';
import { downloadCheckpoint, ensureCheckpoint, readCheckpointBytes } from '@graft/models/node';
import { describe, expect, it } from 'vitest';

const didYouMean = (where, key, suggestion) =>
  new RegExp(`${where}: unknown option '${key}'; did you mean '${suggestion}'\\?`);

describe('builders', () => {
  it('suggest camelCase for snake_case keys and the right spelling for typos', async () => {
    await expect(resnet18({ num_classes: 10 })).rejects.toThrow(
      didYouMean('resnet18', 'num_classes', 'numClasses'),
    );
    await expect(resnet34({ zero_init_residual: true })).rejects.toThrow(
      didYouMean('resnet34', 'zero_init_residual', 'zeroInitResidual'),
    );
    await expect(resnet50({ replace_stride_with_dilation: [false, true, true] })).rejects.toThrow(
      didYouMean('resnet50', 'replace_stride_with_dilation', 'replaceStrideWithDilation'),
    );
    await expect(resnet50({ width_per_group: 128 })).rejects.toThrow(
      didYouMean('resnet50', 'width_per_group', 'widthPerGroup'),
    );
    await expect(resnet18({ weigths: 'DEFAULT' })).rejects.toThrow(
      didYouMean('resnet18', 'weigths', 'weights'),
    );
    await expect(resnet18({ on_progress: () => {} })).rejects.toThrow(
      didYouMean('resnet18', 'on_progress', 'onProgress'),
    );
    await expect(resnet18({ numclasses: 10 })).rejects.toThrow(
      didYouMean('resnet18', 'numclasses', 'numClasses'),
    );
  });

  it('name the known options when nothing is close', async () => {
    const err = await resnet18({ norm_layer: null }).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/^resnet18: unknown option 'norm_layer'/);
    expect(err.message).not.toContain('did you mean');
    for (const known of ['weights', 'pretrained', 'progress', 'onProgress', 'numClasses'])
      expect(err.message).toContain(known);
  });

  it("refuse a bare value where the options object goes (torchvision's resnet18(True))", async () => {
    await expect(resnet18(true)).rejects.toThrow(
      "resnet18: expected an options object, got true; write resnet18({ weights: 'IMAGENET1K_V1' }) for pretrained weights",
    );
    await expect(resnet50('IMAGENET1K_V2')).rejects.toThrow(
      "resnet50: expected an options object, got 'IMAGENET1K_V2'",
    );
  });

  it("accept torchvision's own keywords in camelCase, progress included", async () => {
    const model = await resnet18({ numClasses: 7, progress: false, weights: null, onProgress: undefined });
    expect(model.fc.outFeatures).toBe(7);
  }, 120_000);
});

describe('constructors', () => {
  it('ResNet, BasicBlock, Bottleneck and ImageClassification check their options', () => {
    expect(() => new ResNet(BasicBlock, [2, 2, 2, 2], { num_classes: 10 })).toThrow(
      didYouMean('ResNet', 'num_classes', 'numClasses'),
    );
    expect(() => new BasicBlock(64, 64, { base_width: 64 })).toThrow(
      didYouMean('BasicBlock', 'base_width', 'baseWidth'),
    );
    expect(() => new Bottleneck(256, 64, { strid: 2 })).toThrow(didYouMean('Bottleneck', 'strid', 'stride'));
    expect(() => new ImageClassification({ crop_size: 224 })).toThrow(
      didYouMean('ImageClassification', 'crop_size', 'cropSize'),
    );
    expect(() => new ImageClassification({ cropSize: 224, resize_size: 232 })).toThrow(
      didYouMean('ImageClassification', 'resize_size', 'resizeSize'),
    );
    expect(() => new ImageClassification({ resizeSize: 232 })).toThrow(
      'ImageClassification: cropSize is required: the side of the center crop, e.g. { cropSize: 224 }; got undefined',
    );
    // The reference values are torchvision's defaults (resize 256, ImageNet mean and std).
    const preset = new ImageClassification({ cropSize: 224 });
    expect(preset.resizeSize).toEqual([256]);
    expect(preset.mean).toEqual([0.485, 0.456, 0.406]);
  });
});

describe('weights loading and download options', () => {
  const url = 'http://127.0.0.1:9/resnet18-f37072fd.pth';

  it('are checked before anything is fetched', async () => {
    await expect(fetchStateDict(new Uint8Array(8), { on_progress: () => {} })).rejects.toThrow(
      didYouMean('fetchStateDict', 'on_progress', 'onProgress'),
    );
    await expect(ensureCheckpoint(url, { file_name: 'x.pth' })).rejects.toThrow(
      didYouMean('ensureCheckpoint', 'file_name', 'fileName'),
    );
    await expect(ensureCheckpoint(url, { hash_prefix: null })).rejects.toThrow(
      didYouMean('ensureCheckpoint', 'hash_prefix', 'hashPrefix'),
    );
    await expect(downloadCheckpoint(url, '/tmp/never-written.pth', { progres: false })).rejects.toThrow(
      didYouMean('downloadCheckpoint', 'progres', 'progress'),
    );
    await expect(readCheckpointBytes({ source: url, check_hash: false })).rejects.toThrow(
      /readCheckpointBytes: unknown option 'check_hash'/,
    );
    await expect(readCheckpointBytes({ url })).rejects.toThrow(/readCheckpointBytes: unknown option 'url'/);
  });

  it('refuse a weights name with no architecture to look it up in (fetchStateDict)', async () => {
    await expect(fetchStateDict('IMAGENET1K_V1')).rejects.toThrow(
      "fetchStateDict: 'IMAGENET1K_V1' reads as a weights name, but no architecture was given to look it up in",
    );
    await expect(fetchStateDict('IMAGENET1K_V2', { architecture: 'resnet18' })).rejects.toThrow(
      "resnet18: unknown weights 'IMAGENET1K_V2'; ResNet18_Weights has IMAGENET1K_V1, DEFAULT (= IMAGENET1K_V1)",
    );
  });
});
