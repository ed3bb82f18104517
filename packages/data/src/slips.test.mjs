// Plain JavaScript, as a PyTorch user without a compiler writes it: every options object of @graft/data
// refuses a key it does not know, and a torch keyword (snake_case) is answered with graft's camelCase name.
// The keyword lists are torch 1.13 / torchvision 0.14's signatures (inspect.signature of each class).
import { fileURLToPath } from 'node:url';
import {
  CenterCrop,
  ColorJitter,
  Compose,
  ConvertImageDtype,
  DataLoader,
  decodeImage,
  functional,
  Grayscale,
  IdxImageDataset,
  Normalize,
  PILToTensor,
  RandomHorizontalFlip,
  RandomResizedCrop,
  Resize,
  randomSplit,
  TensorDataset,
  ToTensor,
} from '@graft/data';
import {
  decodeImageBytes,
  decodeImageFile,
  FashionMNIST,
  ImageFolder,
  KMNIST,
  MNIST,
} from '@graft/data/node';
import { Generator, tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';

const fashionRoot = fileURLToPath(new URL('../fixtures/fashion-mnist-head', import.meta.url));
const pngPath = fileURLToPath(new URL('../fixtures/rgb.png', import.meta.url));
const dataset = new TensorDataset(tensor([1, 2, 3, 4, 5, 6]));
const image = { data: new Uint8Array(4 * 6 * 3).fill(7), width: 6, height: 4, channels: 3 };
const idx = {
  images: { dtype: 'uint8', shape: [2, 2, 2], data: new Uint8Array(8) },
  labels: { dtype: 'uint8', shape: [2], data: new Uint8Array([0, 1]) },
};

/** `fn` throws a TypeError that names `where`, the unknown key and (when given) the suggestion. */
function expectSlip(fn, where, key, suggestion) {
  const tail = suggestion === undefined ? 'valid options are' : `did you mean '${suggestion}'?`;
  expect(fn).toThrow(TypeError);
  expect(fn).toThrow(`${where}: unknown option '${key}'; ${tail}`);
}

async function expectSlipAsync(promise, where, key, suggestion) {
  const tail = suggestion === undefined ? 'valid options are' : `did you mean '${suggestion}'?`;
  await expect(promise).rejects.toThrow(TypeError);
  await expect(promise).rejects.toThrow(`${where}: unknown option '${key}'; ${tail}`);
}

describe('DataLoader', () => {
  // torch.utils.data.DataLoader's keywords that graft has, and graft's names for them.
  const torchToGraft = {
    batch_size: 'batchSize',
    shuffle: 'shuffle',
    drop_last: 'dropLast',
    collate_fn: 'collateFn',
    generator: 'generator',
  };

  it('answers each torch keyword with its camelCase name', () => {
    for (const [torchName, graftName] of Object.entries(torchToGraft)) {
      if (torchName === graftName) continue;
      expectSlip(() => new DataLoader(dataset, { [torchName]: 1 }), 'DataLoader', torchName, graftName);
    }
  });

  it('points worker options at prefetch and refuses the rest of torch keywords graft lacks', () => {
    for (const name of ['num_workers', 'numWorkers', 'prefetch_factor']) {
      expect(() => new DataLoader(dataset, { [name]: 4 })).toThrow(
        `DataLoader: unknown option '${name}'; did you mean 'prefetch'?`,
      );
    }
    for (const name of ['pin_memory', 'persistent_workers', 'worker_init_fn', 'timeout']) {
      expectSlip(() => new DataLoader(dataset, { [name]: true }), 'DataLoader', name);
    }
    expectSlip(() => new DataLoader(dataset, { batchsize: 2 }), 'DataLoader', 'batchsize', 'batchSize');
    expectSlip(() => new DataLoader(dataset, { shufle: true }), 'DataLoader', 'shufle', 'shuffle');
    // A key present with the value undefined is still a slip.
    expectSlip(
      () => new DataLoader(dataset, { drop_last: undefined }),
      'DataLoader',
      'drop_last',
      'dropLast',
    );
  });

  it('still takes every option it knows: 6 items, batches of 4, last dropped = torch len 1', async () => {
    const loader = new DataLoader(dataset, {
      batchSize: 4,
      shuffle: false,
      dropLast: true,
      prefetch: 0,
      generator: new Generator(1),
      collateFn: (items) => items.length,
    });
    expect(loader.length).toBe(1);
    const sizes = [];
    for await (const b of loader) sizes.push(b);
    expect(sizes).toEqual([4]);
  });
});

describe('randomSplit', () => {
  it('takes generator and refuses anything else', () => {
    expect(randomSplit(dataset, [4, 2], { generator: new Generator(0) }).map((s) => s.length)).toEqual([
      4, 2,
    ]);
    expectSlip(
      () => randomSplit(dataset, [4, 2], { generater: new Generator(0) }),
      'randomSplit',
      'generater',
      'generator',
    );
    expectSlip(() => randomSplit(dataset, [4, 2], { seed: 0 }), 'randomSplit', 'seed');
  });
});

describe('datasets', () => {
  it('ImageFolder: target_transform -> targetTransform, is_valid_file -> isValidFile, before touching the disk', () => {
    const root = '/nonexistent/graft-images';
    expectSlip(
      () => new ImageFolder(root, { target_transform: (y) => y }),
      'ImageFolder',
      'target_transform',
      'targetTransform',
    );
    expectSlip(
      () => new ImageFolder(root, { is_valid_file: () => true }),
      'ImageFolder',
      'is_valid_file',
      'isValidFile',
    );
    expectSlip(() => new ImageFolder(root, { on_corrupt: 'skip' }), 'ImageFolder', 'on_corrupt', 'onCorrupt');
    expectSlip(() => new ImageFolder(root, { loader: () => image }), 'ImageFolder', 'loader');
    // The options it knows still reach the scan, which reports the missing root.
    expect(() => new ImageFolder(root, { onCorrupt: 'skip', mode: 'L' })).toThrow('does not exist');
  });

  it('ImageFolder.create refuses the same keys', async () => {
    await expectSlipAsync(
      ImageFolder.create('/nonexistent', { transfrom: null }),
      'ImageFolder',
      'transfrom',
      'transform',
    );
  });

  it('MNIST, FashionMNIST, KMNIST: torchvision keywords map, download is refused', () => {
    for (const [Cls, name] of [
      [MNIST, 'MNIST'],
      [FashionMNIST, 'FashionMNIST'],
      [KMNIST, 'KMNIST'],
    ]) {
      expectSlip(
        () => new Cls(fashionRoot, { target_transform: null }),
        name,
        'target_transform',
        'targetTransform',
      );
      expectSlip(() => new Cls(fashionRoot, { download: true }), name, 'download');
    }
    const test = new FashionMNIST(fashionRoot, { train: false, targetTransform: (y) => y + 100 });
    expect(test.get(0)[1]).toBeGreaterThanOrEqual(100);
  });

  it('IdxImageDataset and fromBytes', () => {
    expectSlip(
      () => new IdxImageDataset(idx.images, idx.labels, { target_transform: null }),
      'IdxImageDataset',
      'target_transform',
      'targetTransform',
    );
    expectSlip(
      () => IdxImageDataset.fromBytes(new Uint8Array(0), new Uint8Array(0), { clases: [] }),
      'IdxImageDataset.fromBytes',
      'clases',
      'classes',
    );
    expect(new IdxImageDataset(idx.images, idx.labels, { classes: ['a', 'b'] }).length).toBe(2);
  });
});

describe('image decoding', () => {
  it('decodeImageFile, decodeImageBytes and decodeImage refuse unknown keys', async () => {
    await expectSlipAsync(decodeImageFile(pngPath, { mdoe: 'L' }), 'decodeImageFile', 'mdoe', 'mode');
    await expectSlipAsync(
      decodeImageBytes(new Uint8Array(0), { nmae: 'x' }),
      'decodeImageBytes',
      'nmae',
      'name',
    );
    await expectSlipAsync(decodeImage(new Uint8Array(0), { mod: 'L' }), 'decodeImage', 'mod', 'mode');
    expect((await decodeImageFile(pngPath, { mode: 'L' })).channels).toBe(1);
  });
});

describe('transforms', () => {
  it('Resize and RandomResizedCrop: torchvision keywords map to camelCase', () => {
    expectSlip(() => new Resize(4, { max_size: 10 }), 'Resize', 'max_size', 'maxSize');
    expectSlip(() => new Resize(4, { antialiasing: true }), 'Resize', 'antialiasing', 'antialias');
    expectSlip(() => new RandomResizedCrop(4, { scales: [0.5, 1] }), 'RandomResizedCrop', 'scales', 'scale');
    expectSlip(
      () => new RandomResizedCrop(4, { interp: 'nearest' }),
      'RandomResizedCrop',
      'interp',
      'interpolation',
    );
    expect(
      new Resize(2, { maxSize: 3, interpolation: 'nearest', antialias: false }).forward(image).height,
    ).toBe(2);
  });

  it("torchvision's positional Resize(size, interpolation) and RandomResizedCrop(size, scale, ratio, interpolation)", () => {
    // torchvision 0.14: T.Resize(3, InterpolationMode.NEAREST) has size 3, interpolation nearest, max_size None.
    for (const resize of [new Resize(3, 'nearest'), new Resize(3, { interpolation: 'nearest' })]) {
      expect([resize.size, resize.interpolation, resize.maxSize]).toEqual([3, 'nearest', undefined]);
    }
    // torchvision 0.14: T.RandomResizedCrop(2, (0.5, 1.0), (0.75, 1.25), InterpolationMode.NEAREST) has
    // size (2, 2), scale (0.5, 1.0), ratio (0.75, 1.25), interpolation nearest.
    const positional = new RandomResizedCrop(2, [0.5, 1], [0.75, 1.25], 'nearest');
    const named = new RandomResizedCrop(2, {
      scale: [0.5, 1],
      ratio: [0.75, 1.25],
      interpolation: 'nearest',
    });
    for (const crop of [positional, named]) {
      expect([crop.size, crop.scale, crop.ratio, crop.interpolation]).toEqual([
        [2, 2],
        [0.5, 1],
        [0.75, 1.25],
        'nearest',
      ]);
    }
    expect(() => new RandomResizedCrop(2, { scale: [0.5, 1] }, [0.75, 1.25])).toThrow('not both');
  });

  it('functional resize and resizedCrop', () => {
    expectSlip(() => functional.resize(image, 2, { max_size: 3 }), 'resize', 'max_size', 'maxSize');
    expectSlip(() => functional.resizedCrop(image, 0, 0, 2, 2, 1, { maxSize: 3 }), 'resizedCrop', 'maxSize');
  });

  it('transforms without options refuse any: CenterCrop, ToTensor, PILToTensor, Normalize (no inplace)', () => {
    const cases = [
      ['CenterCrop', 'padding', () => new CenterCrop(2, { padding: 1 })],
      ['ToTensor', 'scale', () => new ToTensor({ scale: false })],
      ['PILToTensor', 'dtype', () => new PILToTensor({ dtype: 'uint8' })],
      ['Normalize', 'inplace', () => new Normalize([0.5], [0.5], { inplace: true })],
    ];
    for (const [where, key, fn] of cases) {
      expect(fn).toThrow(TypeError);
      expect(fn).toThrow(`${where}: unknown option '${key}'; it takes no options`);
    }
    expect(() => new ConvertImageDtype({ dtype: 'float32' })).toThrow(
      "ConvertImageDtype: dtype must be 'float32' or 'float64', got an object",
    );
    expect(new ToTensor().forward(image).shape).toEqual([3, 4, 6]);
  });

  it('RandomHorizontalFlip: torchvision positional p, or one object with p and generator', () => {
    expectSlip(() => new RandomHorizontalFlip(0.5, { seed: 1 }), 'RandomHorizontalFlip', 'seed');
    expectSlip(() => new RandomHorizontalFlip({ prob: 0.3 }), 'RandomHorizontalFlip', 'prob');
    const a = new RandomHorizontalFlip(0.3, { generator: new Generator(7) });
    const b = new RandomHorizontalFlip({ p: 0.3, generator: new Generator(7) });
    expect(b.p).toBe(0.3);
    expect(String(b)).toBe('RandomHorizontalFlip(p=0.3)'); // torchvision's repr
    expect(Array.from({ length: 20 }, () => b.generator.random())).toEqual(
      Array.from({ length: 20 }, () => a.generator.random()),
    );
  });

  it('Grayscale: num_output_channels -> numOutputChannels', () => {
    expectSlip(
      () => new Grayscale({ num_output_channels: 3 }),
      'Grayscale',
      'num_output_channels',
      'numOutputChannels',
    );
    expect(new Grayscale({ numOutputChannels: 3 }).numOutputChannels).toBe(3);
  });

  it("ColorJitter: torchvision's positional (brightness, contrast, saturation, hue) and the options object agree", () => {
    expectSlip(() => new ColorJitter({ brightnes: 0.4 }), 'ColorJitter', 'brightnes', 'brightness');
    expect(() => new ColorJitter({ brightness: 0.4 }, 0.2)).toThrow('either positionally');
    // torchvision 0.14: T.ColorJitter(0.4, 0.3, 0.2, 0.1) has brightness (0.6, 1.4), contrast (0.7, 1.3),
    // saturation (0.8, 1.2), hue (-0.1, 0.1).
    const positional = new ColorJitter(0.4, 0.3, 0.2, 0.1);
    const named = new ColorJitter({ brightness: 0.4, contrast: 0.3, saturation: 0.2, hue: 0.1 });
    const torch = { brightness: [0.6, 1.4], contrast: [0.7, 1.3], saturation: [0.8, 1.2], hue: [-0.1, 0.1] };
    for (const [key, range] of Object.entries(torch)) {
      for (const jitter of [positional, named]) {
        expect(jitter[key][0]).toBeCloseTo(range[0], 12);
        expect(jitter[key][1]).toBeCloseTo(range[1], 12);
      }
    }
    expect(new ColorJitter([0.5, 1.5]).brightness).toEqual([0.5, 1.5]);
  });

  it('Compose takes a list', () => {
    expect(() => new Compose(new ToTensor())).toThrow('Compose: expected a list of transforms');
  });
});
