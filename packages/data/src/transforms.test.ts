// Transform behavior beyond the goldens: random transforms, sizes, errors, reprs and types.
import { arange, fromTypedArray, Generator, manualSeed, type Tensor } from '@graft/tensor';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { convertImage, type RawImage, rawImage } from './raw-image.js';
import {
  CenterCrop,
  ColorJitter,
  Compose,
  functional as F,
  Grayscale,
  Normalize,
  RandomHorizontalFlip,
  RandomResizedCrop,
  Resize,
  randomResizedCropParams,
  ToTensor,
} from './transforms/index.js';

/** A w×h RGB image with pixel (x, y) = (x, y, x + y) · 10 mod 256. */
function image(w: number, h: number): RawImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      data.set([(x * 10) % 256, (y * 10) % 256, ((x + y) * 10) % 256], (y * w + x) * 3);
  }
  return rawImage(data, w, h, 3);
}

describe('RawImage', () => {
  it('checks its byte count and channel count', () => {
    expect(() => rawImage(new Uint8Array(5), 2, 1, 3)).toThrow('rawImage: expected 6 bytes for 2×1×3, got 5');
    expect(() => rawImage(new Uint8Array(10), 2, 1, 5)).toThrow(
      'rawImage: expected 1, 2, 3 or 4 channels, got 5',
    );
    expect(() => rawImage(new Uint8Array(0), 0, 1, 3)).toThrow(
      /expected positive integer width and height, got 0×1/,
    );
  });

  it('converts between L, LA, RGB and RGBA like PIL', () => {
    const la = rawImage(new Uint8Array([10, 128, 200, 255]), 2, 1, 2);
    expect(Array.from(convertImage(la, 'RGBA').data)).toEqual([10, 10, 10, 128, 200, 200, 200, 255]);
    expect(Array.from(convertImage(la, 'RGB').data)).toEqual([10, 10, 10, 200, 200, 200]);
    expect(Array.from(convertImage(la, 'L').data)).toEqual([10, 200]);
    const rgb = rawImage(new Uint8Array([255, 0, 0, 0, 255, 0]), 2, 1, 3);
    // PIL: (255·19595 + 32768) >> 16 = 76, (255·38470 + 32768) >> 16 = 150.
    expect(Array.from(convertImage(rgb, 'L').data)).toEqual([76, 150]);
    expect(Array.from(convertImage(rgb, 'LA').data)).toEqual([76, 255, 150, 255]);
  });
});

describe('Resize and CenterCrop sizes', () => {
  it.each([
    [100, 50, 20, undefined, [40, 20]],
    [30, 37, 20, undefined, [20, 24]],
    [37, 30, 20, undefined, [24, 20]],
    [100, 50, 20, 30, [30, 15]],
    [10, 10, 4, undefined, [4, 4]],
  ])(
    'h=%i w=%i size=%i maxSize=%s -> %j (torchvision _compute_resized_output_size)',
    (h, w, size, maxSize, expected) => {
      expect(F.resizedOutputSize(h, w, size, maxSize)).toEqual(expected);
    },
  );

  it('maxSize must exceed size and needs a single size', () => {
    expect(() => F.resizedOutputSize(10, 10, 20, 20)).toThrow(
      'resize: maxSize = 20 must be strictly greater than the requested smaller edge 20',
    );
    expect(() => F.resizedOutputSize(10, 10, [5, 5], 20)).toThrow(
      /maxSize is only allowed when size is a single number/,
    );
  });

  it('returns the same image when the size already matches', () => {
    const img = image(4, 3);
    expect(new Resize([3, 4]).forward(img)).toBe(img);
    expect(new Resize(3).forward(img)).toBe(img);
  });

  it('center offsets round half to even like Python round()', () => {
    const row = (n: number) =>
      fromTypedArray(new Float32Array(Array.from({ length: n }, (_, i) => i)), [1, 1, n]);
    // (5 - 2) / 2 = 1.5 -> 2; (7 - 2) / 2 = 2.5 -> 2; (6 - 3) / 2 = 1.5 -> 2.
    expect(Array.from(F.centerCrop(row(5), [1, 2]).readSync())).toEqual([2, 3]);
    expect(Array.from(F.centerCrop(row(7), [1, 2]).readSync())).toEqual([2, 3]);
    expect(Array.from(F.centerCrop(row(6), [1, 3]).readSync())).toEqual([2, 3, 4]);
    // Padding puts (6 - 3) // 2 = 1 zero on the left and 2 on the right.
    expect(
      Array.from(F.centerCrop(fromTypedArray(new Float32Array([1, 2, 3]), [1, 1, 3]), [1, 6]).readSync()),
    ).toEqual([0, 1, 2, 3, 0, 0]);
  });
});

describe('RandomResizedCrop', () => {
  it('samples boxes inside the image with area and ratio in range', () => {
    const g = new Generator(5);
    for (let k = 0; k < 200; k++) {
      const [top, left, h, w] = randomResizedCropParams(60, 80, [0.08, 1], [3 / 4, 4 / 3], g);
      expect(top).toBeGreaterThanOrEqual(0);
      expect(left).toBeGreaterThanOrEqual(0);
      expect(top + h).toBeLessThanOrEqual(60);
      expect(left + w).toBeLessThanOrEqual(80);
      // w and h are rounded, so allow a pixel's worth of slack on area and ratio.
      expect((h + 1) * (w + 1)).toBeGreaterThanOrEqual(0.08 * 4800);
      expect((w + 1) / Math.max(h - 1, 1)).toBeGreaterThanOrEqual(3 / 4);
      expect(Math.max(w - 1, 1) / (h + 1)).toBeLessThanOrEqual(4 / 3);
    }
  });

  it('falls back to a center crop with the ratio clamped after 10 failed tries', () => {
    const g = new Generator(1);
    // scale >= 2 never fits. A 40×10 image has ratio 4 > 4/3: h = 10, w = round(10 · 4/3) = 13,
    // top = 0, left = (40 - 13) // 2 = 13 (torchvision's fallback).
    expect(randomResizedCropParams(10, 40, [2, 3], [3 / 4, 4 / 3], g)).toEqual([0, 13, 10, 13]);
    // 10×40 (ratio 1/4 < 3/4): w = 10, h = round(10 / 0.75) = 13.
    expect(randomResizedCropParams(40, 10, [2, 3], [3 / 4, 4 / 3], g)).toEqual([13, 0, 13, 10]);
    // In range: the whole image.
    expect(randomResizedCropParams(30, 30, [2, 3], [3 / 4, 4 / 3], g)).toEqual([0, 0, 30, 30]);
  });

  it('outputs the requested size, repeatably for a seed, differently across draws', () => {
    const img = image(30, 20);
    const a = new RandomResizedCrop(8, { generator: new Generator(3) });
    const b = new RandomResizedCrop(8, { generator: new Generator(3) });
    const first = a.forward(img);
    expect(first).toMatchObject({ width: 8, height: 8, channels: 3 });
    expect(b.forward(img).data).toEqual(first.data);
    expect(a.forward(img).data).not.toEqual(first.data);
  });

  it('prints like torchvision', () => {
    expect(String(new RandomResizedCrop(16))).toBe(
      'RandomResizedCrop(size=(16, 16), scale=(0.08, 1.0), ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)',
    );
  });
});

describe('RandomHorizontalFlip', () => {
  it('flips exactly when the generator draws below p', () => {
    const img = image(5, 2);
    const flipped = F.hflip(img);
    expect(Array.from(flipped.data.subarray(0, 3))).toEqual(Array.from(img.data.subarray(12, 15)));
    const reference = new Generator(11);
    const flip = new RandomHorizontalFlip(0.3, { generator: new Generator(11) });
    for (let k = 0; k < 20; k++) {
      const expected = reference.random() < 0.3 ? flipped : img;
      expect(flip.forward(img).data).toEqual(expected.data);
    }
    expect(new RandomHorizontalFlip(1).forward(img).data).toEqual(flipped.data);
    expect(new RandomHorizontalFlip(0).forward(img)).toBe(img);
    expect(() => new RandomHorizontalFlip(1.5)).toThrow('RandomHorizontalFlip: p must be in [0, 1], got 1.5');
  });

  it('uses the global generator by default, so manualSeed repeats a run', () => {
    const img = image(5, 2);
    const flip = new RandomHorizontalFlip();
    manualSeed(9);
    const a = Array.from({ length: 8 }, () => flip.forward(img) === img);
    manualSeed(9);
    const b = Array.from({ length: 8 }, () => flip.forward(img) === img);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(2);
  });
});

describe('ColorJitter', () => {
  it('a fixed range applies that factor', () => {
    const img = image(6, 4);
    const jitter = new ColorJitter({ brightness: [0.5, 0.5], generator: new Generator(1) });
    expect(jitter.forward(img).data).toEqual(F.adjustBrightness(img, 0.5).data);
  });

  it('draws factors in range, repeatably for a seed', () => {
    const jitter = new ColorJitter({
      brightness: 0.4,
      contrast: 0.4,
      saturation: [0.2, 0.3],
      generator: new Generator(2),
    });
    expect(jitter.brightness).toEqual([0.6, 1.4]);
    for (let k = 0; k < 50; k++) {
      const p = jitter.getParams();
      expect([...p.order].sort()).toEqual([0, 1, 2, 3]);
      expect(p.hue).toBeUndefined();
      expect(p.brightness).toBeGreaterThanOrEqual(0.6);
      expect(p.brightness).toBeLessThan(1.4);
      expect(p.saturation).toBeGreaterThanOrEqual(0.2);
      expect(p.saturation).toBeLessThan(0.3);
    }
    const img = image(6, 4);
    const a = new ColorJitter({ brightness: 0.4, contrast: 0.4, generator: new Generator(8) }).forward(img);
    const b = new ColorJitter({ brightness: 0.4, contrast: 0.4, generator: new Generator(8) }).forward(img);
    expect(a.data).toEqual(b.data);
  });

  it('validates and prints like torchvision', () => {
    expect(new ColorJitter({ brightness: 0 }).brightness).toBeUndefined();
    expect(() => new ColorJitter({ contrast: -1 })).toThrow(
      'ColorJitter: if contrast is a single number, it must be non negative, got -1',
    );
    expect(String(new ColorJitter({ brightness: 0.4, contrast: 0.4 }))).toBe(
      'ColorJitter(brightness=[0.6, 1.4], contrast=[0.6, 1.4], saturation=None, hue=None)',
    );
    expect(new ColorJitter({ hue: 0.2 }).hue).toEqual([-0.2, 0.2]);
    expect(() => new ColorJitter({ hue: 0.7 })).toThrow(
      'ColorJitter: hue values should be between [-0.5, 0.5] with min <= max, got [-0.7, 0.7]',
    );
  });
});

describe('errors name the input', () => {
  it('ToTensor wants a RawImage, Normalize a float tensor', () => {
    const t = arange(12, { dtype: 'float32' }).reshape(3, 2, 2);
    expect(() => F.toTensor(t as unknown as RawImage)).toThrow(
      'toTensor: expected a RawImage (a decoded image), got Tensor float32 [3, 2, 2]',
    );
    const u8 = F.pilToTensor(image(2, 2));
    expect(() => F.normalize(u8, [0.5], [0.5])).toThrow('normalize: expected a float tensor, got uint8');
    expect(() => F.normalize(t, [0.5, 0.5], [0.5])).toThrow(
      'normalize: mean has 2 values, expected 1 or 3 (one per channel)',
    );
    expect(() => F.normalize(t, [0.5], [0, 1, 1])).toThrow(
      'normalize: std[0] is zero after conversion to float32, which divides by zero',
    );
  });

  it('Grayscale and contrast want 1 or 3 channels; resize wants known dtypes', () => {
    const rgba = F.pilToTensor(convertImage(image(2, 2), 'RGBA'));
    expect(() => F.rgbToGrayscale(rgba)).toThrow(
      'rgbToGrayscale: expected a tensor [..., 1 or 3, H, W], got [4, 2, 2]',
    );
    expect(() => F.adjustContrast(convertImage(image(2, 2), 'RGBA'), 0.5)).toThrow(
      "adjustContrast: expected an image with 1 or 3 channels, got 4 (convert RGBA or LA images to 'RGB' or 'L' first)",
    );
    expect(() => F.resize(arange(8).reshape(2, 2, 2), 3)).toThrow(
      'resize: expected a uint8, float32 or float64 tensor, got int64',
    );
    expect(() => new Grayscale(2 as 1)).toThrow('Grayscale: numOutputChannels must be 1 or 3, got 2');
  });

  it('Grayscale on a tensor keeps leading dims', () => {
    const x = F.toTensor(image(3, 2));
    expect(new Grayscale(3).forward(x).shape).toEqual([3, 2, 3]);
    expect(new Grayscale().forward(x).shape).toEqual([1, 2, 3]);
  });
});

describe('Compose', () => {
  it('chains objects and functions, typed from the first input to the last output', () => {
    const pipeline = new Compose([
      new Resize(4),
      new CenterCrop(4),
      new ToTensor(),
      (x: Tensor) => x.mul(2),
      new Normalize([0], [1]),
    ]);
    expectTypeOf(pipeline.forward).returns.toEqualTypeOf<Tensor>();
    const out = pipeline.forward(image(6, 5));
    expect(out.shape).toEqual([3, 4, 4]);
    expect(String(pipeline)).toContain('    <function anonymous>\n');
  });
});
