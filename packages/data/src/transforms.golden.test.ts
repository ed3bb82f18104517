// Transforms against torchvision 0.14's outputs on the golden images (scripts/golden/data.py).
import { fromTypedArray, type Tensor } from '@graft/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from './node/decode-image-file.js';
import type { RawImage } from './raw-image.js';
import { expectClose, FIXTURES, golden } from './test-utils/golden.js';
import {
  CenterCrop,
  Compose,
  functional as F,
  Grayscale,
  Normalize,
  PILToTensor,
  Resize,
  ToTensor,
} from './transforms/index.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const images: Record<string, RawImage> = {};
const NAMES = ['rgb', 'gray', 'rgba'] as const;

// Float outputs are compared at 1e-5 (the kernels replay torch's float32 rounding, so most agree
// bit for bit). uint8 outputs must be exact unless noted: they are rounded from float32 values,
// and a value within an ulp of .5 could round the other way, which would show up here as one level.
const FLOAT_TOL = 1e-5;

beforeAll(async () => {
  for (const name of [...NAMES, 'photo']) images[name] = await decodeImageFile(`${FIXTURES}${name}.png`);
});

const u8 = (image: RawImage): Tensor => F.pilToTensor(image);

describe('decoding the golden PNGs with sharp', () => {
  it.each([...NAMES, 'photo'])('%s decodes to the pixels PIL reads', (name) => {
    expectClose(images[name], golden(`${name}/pixels`), 0);
  });

  it('a JPEG decodes within one level of PIL (both libjpeg-turbo based)', async () => {
    const jpeg = await decodeImageFile(`${FIXTURES}rgb.jpg`);
    expectClose(jpeg, golden('rgb/jpg_pixels'), 1);
  });
});

describe.each(NAMES)('%s image', (name) => {
  it('ToTensor', () => {
    expectClose(new ToTensor().forward(images[name]), golden(`${name}/to_tensor`), 0);
  });

  it('Resize(8) antialiased, uint8 tensor and RawImage', () => {
    const g = golden(`${name}/resize_aa_uint8_small_edge_8`);
    expectClose(new Resize(8).forward(u8(images[name])), g, 0);
    expectClose(u8(new Resize(8).forward(images[name])), g, 0);
  });

  it('Resize([5, 6]) antialiased', () => {
    expectClose(F.resize(u8(images[name]), [5, 6]), golden(`${name}/resize_aa_uint8_5x6`), 0);
  });

  it('Resize upsampling with antialias', () => {
    expectClose(F.resize(u8(images[name]), [23, 31]), golden(`${name}/resize_aa_uint8_up_23x31`), 0);
  });

  it('Resize on a float tensor', () => {
    const x = F.toTensor(images[name]);
    expectClose(F.resize(x, [9, 7]), golden(`${name}/resize_aa_float_9x7`), FLOAT_TOL);
  });

  it('Resize without antialias (plain bilinear), uint8 and float', () => {
    // torchvision's uint8 tensor (pil_to_tensor) is a channels-last view, and torch's channels-last
    // bilinear kernel sums the four taps with a different fusion than the planar kernel replayed
    // here; its float32 sum differs in the last bit, which moves one or two x.5 values by a level.
    expectClose(
      F.resize(u8(images[name]), [6, 17], { antialias: false }),
      golden(`${name}/resize_bilinear_uint8_6x17`),
      1,
    );
    expectClose(
      F.resize(F.toTensor(images[name]), [20, 25], { antialias: false }),
      golden(`${name}/resize_bilinear_float_up_20x25`),
      FLOAT_TOL,
    );
  });

  it('Resize nearest', () => {
    expectClose(
      F.resize(u8(images[name]), [7, 9], { interpolation: 'nearest' }),
      golden(`${name}/resize_nearest_uint8_7x9`),
      0,
    );
  });

  it('CenterCrop, inside and padded', () => {
    expectClose(new CenterCrop([8, 9]).forward(u8(images[name])), golden(`${name}/center_crop_8x9`), 0);
    expectClose(u8(new CenterCrop([8, 9]).forward(images[name])), golden(`${name}/center_crop_8x9`), 0);
    expectClose(F.centerCrop(u8(images[name]), [20, 24]), golden(`${name}/center_crop_pad_20x24`), 0);
  });

  it('resizedCrop (the deterministic half of RandomResizedCrop)', () => {
    expectClose(
      F.resizedCrop(u8(images[name]), 2, 3, 7, 9, [6, 5]),
      golden(`${name}/resized_crop_2_3_7_9_to_6x5`),
      0,
    );
  });

  it('hflip', () => {
    expectClose(F.hflip(u8(images[name])), golden(`${name}/hflip`), 0);
    expectClose(u8(F.hflip(images[name])), golden(`${name}/hflip`), 0);
  });

  it('Grayscale on a RawImage follows PIL convert("L")', () => {
    expectClose(new Grayscale(1).forward(images[name]), golden(`${name}/pil_gray1`), 0);
    expectClose(
      new Grayscale({ numOutputChannels: 3 }).forward(images[name]),
      golden(`${name}/pil_gray3`),
      0,
    );
  });

  it('mode conversion to RGB follows PIL convert("RGB")', async () => {
    const rgb = await decodeImageFile(`${FIXTURES}${name}.png`, { mode: 'RGB' });
    expectClose(rgb, golden(`${name}/pil_rgb`), 0);
  });
});

describe('tensor-path color transforms on the rgb image', () => {
  it('Normalize', () => {
    expectClose(new Normalize(MEAN, STD).forward(F.toTensor(images.rgb)), golden('rgb/normalize'), FLOAT_TOL);
  });

  it('rgbToGrayscale on tensors (0.2989 R + 0.587 G + 0.114 B)', () => {
    expectClose(F.rgbToGrayscale(u8(images.rgb), 1), golden('rgb/tensor_gray1_uint8'), 0);
    expectClose(F.rgbToGrayscale(F.toTensor(images.rgb), 3), golden('rgb/tensor_gray3_float'), FLOAT_TOL);
  });

  it.each([0.6, 1.3])('brightness, contrast, saturation with factor %s', (factor) => {
    const x8 = u8(images.rgb);
    const xf = F.toTensor(images.rgb);
    expectClose(F.adjustBrightness(x8, factor), golden(`rgb/brightness_${factor}_uint8`), 0);
    expectClose(F.adjustBrightness(xf, factor), golden(`rgb/brightness_${factor}_float`), FLOAT_TOL);
    // The mean gray level is a float32 reduction whose summation order torch does not fix, so a
    // truncated uint8 result may land one level away.
    expectClose(F.adjustContrast(x8, factor), golden(`rgb/contrast_${factor}_uint8`), 1);
    expectClose(F.adjustContrast(xf, factor), golden(`rgb/contrast_${factor}_float`), FLOAT_TOL);
    expectClose(F.adjustSaturation(x8, factor), golden(`rgb/saturation_${factor}_uint8`), 0);
    expectClose(F.adjustSaturation(xf, factor), golden(`rgb/saturation_${factor}_float`), FLOAT_TOL);
    // RawImages take the same uint8 path.
    expectClose(u8(F.adjustBrightness(images.rgb, factor)), golden(`rgb/brightness_${factor}_uint8`), 0);
  });

  it.each([0.1, -0.3, 0.5])('hue with factor %s (through HSV)', (factor) => {
    expectClose(F.adjustHue(u8(images.rgb), factor), golden(`rgb/hue_${factor}_uint8`), 0);
    expectClose(F.adjustHue(F.toTensor(images.rgb), factor), golden(`rgb/hue_${factor}_float`), FLOAT_TOL);
  });

  it('contrast of a one-channel image uses its own mean', () => {
    expectClose(F.adjustContrast(u8(images.gray), 0.6), golden('gray/contrast_0.6_uint8'), 1);
  });
});

describe('ImageNet preset at small sizes (resize 20, center crop 16, normalize)', () => {
  const preset = new Compose([new Resize(20), new CenterCrop(16), new ToTensor(), new Normalize(MEAN, STD)]);

  it('matches torchvision step by step on a RawImage', () => {
    expectClose(u8(new Resize(20).forward(images.photo)), golden('photo/preset_resized'), 0);
    expectClose(preset.forward(images.photo), golden('photo/preset'), FLOAT_TOL);
  });

  it('matches on a uint8 tensor too', () => {
    const tensorPreset = new Compose([
      new PILToTensor(),
      new Resize(20),
      new CenterCrop(16),
      (x: Tensor) => F.convertImageDtype(x),
      new Normalize(MEAN, STD),
    ]);
    expectClose(tensorPreset.forward(images.photo), golden('photo/preset'), FLOAT_TOL);
  });

  it('prints like torchvision', () => {
    expect(String(preset)).toBe(
      [
        'Compose(',
        '    Resize(size=20, interpolation=bilinear, max_size=None, antialias=True)',
        '    CenterCrop(size=(16, 16))',
        '    ToTensor()',
        '    Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])',
        ')',
      ].join('\n'),
    );
  });

  it('batched tensors [N, C, H, W] resize plane by plane', () => {
    const x = u8(images.rgb);
    const data = new Uint8Array(2 * x.numel());
    data.set(x.readSync() as Uint8Array);
    data.set(x.readSync() as Uint8Array, x.numel());
    const batch = fromTypedArray(data, [2, ...x.shape], 'uint8');
    const out = F.resize(batch, [5, 6]);
    expect(out.shape).toEqual([2, 3, 5, 6]);
    const g = golden('rgb/resize_aa_uint8_5x6');
    const values = out.readSync();
    expect(Array.from(values.subarray(g.data.length))).toEqual(Array.from(g.data));
  });
});
