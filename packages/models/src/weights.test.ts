import { createHash } from 'node:crypto';
import { rawImage } from '@graft/data';
import { readSafetensors } from '@graft/serialize';
import { describe, expect, it } from 'vitest';
import { ImageClassification } from './image-classification.js';
import { IMAGENET_CATEGORIES } from './imagenet-categories.js';
import { fixtureBytes, fixtureJson, maxRelativeError } from './test-utils/fixtures.js';
import {
  looksLikeWeightsName,
  ResNet18Weights,
  ResNet34Weights,
  ResNet50Weights,
  resolveWeightsName,
  type Weights,
  weightsByName,
} from './weights.js';

interface MetaGolden {
  url: string;
  file_name: string;
  num_params: number;
  min_size: number[];
  recipe: string;
  docs: string;
  metrics: Record<string, Record<string, number>>;
  num_categories: number;
  transforms_repr: string;
  crop_size: number[];
  resize_size: number[];
  mean: number[];
  std: number[];
  interpolation: string;
}

const golden = fixtureJson<{
  weights: Record<string, Record<string, MetaGolden | string>>;
  categories_first_last: [string, string];
  categories_sha256: string;
}>('weights_meta.json');
const enums: Record<string, Readonly<Record<string, Weights>>> = {
  ResNet18_Weights: ResNet18Weights,
  ResNet34_Weights: ResNet34Weights,
  ResNet50_Weights: ResNet50Weights,
};

describe('weights registry matches torchvision 0.14', () => {
  for (const [enumName, members] of Object.entries(golden.weights)) {
    it(`${enumName}: members, DEFAULT, url, file name, hash prefix, meta, transforms`, () => {
      const registry = enums[enumName];
      const names = Object.keys(members);
      expect(Object.keys(registry).sort()).toEqual(names.sort());
      expect(registry.DEFAULT).toBe(registry[members.DEFAULT as string]);
      for (const [name, value] of Object.entries(members)) {
        if (name === 'DEFAULT') continue;
        const g = value as MetaGolden;
        const w = registry[name];
        expect(String(w)).toBe(`${enumName}.${name}`);
        expect(w.url).toBe(g.url);
        expect(w.fileName).toBe(g.file_name);
        expect(w.hashPrefix).toBe(g.file_name.split('-').pop()!.split('.')[0]);
        expect(w.meta.num_params).toBe(g.num_params);
        expect([...w.meta.min_size]).toEqual(g.min_size);
        expect(w.meta.recipe).toBe(g.recipe);
        expect(w.meta._docs).toBe(g.docs);
        expect(w.meta._metrics).toEqual(g.metrics);
        expect(w.meta.categories.length).toBe(g.num_categories);
        const preset = w.transforms();
        expect(String(preset)).toBe(g.transforms_repr);
        expect(preset.cropSize).toEqual(g.crop_size);
        expect(preset.resizeSize).toEqual(g.resize_size);
        expect(preset.mean).toEqual(g.mean);
        expect(preset.std).toEqual(g.std);
        expect(preset.interpolation).toBe(g.interpolation);
      }
    });
  }

  it('has the issue’s numbers for ResNet18_Weights.IMAGENET1K_V1', () => {
    const w = ResNet18Weights.IMAGENET1K_V1;
    expect(w.url).toBe('https://download.pytorch.org/models/resnet18-f37072fd.pth');
    expect(w.fileName).toBe('resnet18-f37072fd.pth');
    expect(w.hashPrefix).toBe('f37072fd');
    expect(w.meta._metrics['ImageNet-1K']).toEqual({ 'acc@1': 69.758, 'acc@5': 89.078 });
    expect(w.meta.num_params).toBe(11_689_512);
  });

  it('carries the 1000 ImageNet categories in torchvision order', () => {
    expect(IMAGENET_CATEGORIES.length).toBe(1000);
    expect([IMAGENET_CATEGORIES[0], IMAGENET_CATEGORIES[999]]).toEqual(golden.categories_first_last);
    expect(IMAGENET_CATEGORIES[1]).toBe('goldfish');
    expect(createHash('sha256').update(IMAGENET_CATEGORIES.join('\n')).digest('hex')).toBe(
      golden.categories_sha256,
    );
    expect(ResNet50Weights.IMAGENET1K_V2.meta.categories).toBe(IMAGENET_CATEGORIES);
  });

  it('is immutable', () => {
    expect(Object.isFrozen(ResNet18Weights)).toBe(true);
    expect(Object.isFrozen(ResNet18Weights.IMAGENET1K_V1)).toBe(true);
    expect(Object.isFrozen(ResNet18Weights.IMAGENET1K_V1.meta)).toBe(true);
  });

  it('resolves names as torchvision accepts them', () => {
    expect(weightsByName('resnet18', 'IMAGENET1K_V1')).toBe(ResNet18Weights.IMAGENET1K_V1);
    expect(weightsByName('resnet50', 'DEFAULT')).toBe(ResNet50Weights.IMAGENET1K_V2);
    expect(weightsByName('resnet50', 'ResNet50_Weights.IMAGENET1K_V1')).toBe(ResNet50Weights.IMAGENET1K_V1);
    expect(weightsByName('resnet18', 'ResNet50_Weights.IMAGENET1K_V1')).toBeNull();
    expect(weightsByName('resnet18', 'IMAGENET1K_V2')).toBeNull();
    expect(weightsByName('resnet18', 'toString')).toBeNull();
    expect(weightsByName('resnet18', './resnet18.pth')).toBeNull();
  });

  it('tells names from paths: enum spellings are names, anything with a folder or extension is a path', () => {
    for (const name of ['IMAGENET1K_V2', 'DEFAULT', 'ResNet50_Weights.IMAGENET1K_V2', 'V1'])
      expect(looksLikeWeightsName(name), name).toBe(true);
    for (const path of [
      'resnet18-f37072fd.pth',
      './IMAGENET1K_V1',
      'ckpt/IMAGENET1K_V1',
      'C:\\w.pth',
      'legacy',
    ])
      expect(looksLikeWeightsName(path), path).toBe(false);
    expect(resolveWeightsName('resnet50', 'IMAGENET1K_V2')).toBe(ResNet50Weights.IMAGENET1K_V2);
    expect(resolveWeightsName('resnet18', 'resnet18-f37072fd.pth')).toBe('resnet18-f37072fd.pth');
    expect(() => resolveWeightsName('resnet18', 'IMAGENET1K_V2')).toThrow(
      "resnet18: unknown weights 'IMAGENET1K_V2'; ResNet18_Weights has IMAGENET1K_V1, DEFAULT (= IMAGENET1K_V1)",
    );
  });
});

describe('ImageClassification preset', () => {
  const tensors = readSafetensors(fixtureBytes('resnet18_numerics.safetensors')).tensors;
  const expected = [...tensors.preset_output_resize20_crop16.readSync()];
  const preset = new ImageClassification({ cropSize: 16, resizeSize: 20 });

  it("computes torchvision's steps (resize with antialias, center crop, [0, 1], normalize) on a uint8 tensor", () => {
    const out = preset.forward(tensors.preset_input);
    expect(out.shape).toEqual([3, 16, 16]);
    expect(out.dtype).toBe('float32');
    expect(maxRelativeError([...out.readSync()], expected)).toBeLessThan(1e-5);
  });

  it('gives the same on a decoded RawImage (HWC)', () => {
    const chw = tensors.preset_input;
    const [c, h, w] = chw.shape;
    const hwc = new Uint8Array(c * h * w);
    const src = chw.readSync();
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) hwc[i * c + ch] = Number(src[ch * h * w + i]);
    const out = preset.forward(rawImage(hwc, w, h, c));
    expect(maxRelativeError([...out.readSync()], expected)).toBeLessThan(1e-5);
  });

  it('prints like torchvision', () => {
    expect(String(ResNet18Weights.IMAGENET1K_V1.transforms())).toBe(
      'ImageClassification(\n    crop_size=[224]\n    resize_size=[256]\n    mean=[0.485, 0.456, 0.406]\n    std=[0.229, 0.224, 0.225]\n    interpolation=InterpolationMode.BILINEAR\n)',
    );
  });
});
