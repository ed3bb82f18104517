// torchvision.transforms.functional for RawImage and CPU Tensor inputs: the operations the transform classes run.
import { checkOptions, fromTypedArray, Tensor } from '@graft/tensor';
import {
  cropPlanar,
  flipPlanarHorizontal,
  type Interpolation,
  interleavedToPlanar,
  type Planar,
  type PlaneArray,
  type Precision,
  planarToInterleaved,
  resizePlanar,
  roundHalfEven,
  toUint8,
} from '../planar.js';
import { convertImage, isRawImage, type RawImage } from '../raw-image.js';

/** What image transforms accept: a decoded image or a CPU tensor [..., C, H, W] of dtype uint8, float32 or float64. */
export type ImageLike = RawImage | Tensor;

/** Size arguments as torchvision takes them: one number or [height, width]. */
export type SizeArg = number | readonly [number] | readonly [number, number];

type ImageDType = 'uint8' | 'float32' | 'float64';

interface Unpacked {
  planar: Planar;
  dtype: ImageDType;
  /** Tensor dims before H and W (channels and batch), or [channels] for a RawImage. */
  lead: number[];
  raw: boolean;
}

function describe(value: unknown): string {
  if (value instanceof Tensor) return `Tensor ${value.dtype} [${value.shape.join(', ')}]`;
  if (value === null) return 'null';
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}

function unpack(image: ImageLike, owner: string): Unpacked {
  if (isRawImage(image)) {
    return {
      planar: interleavedToPlanar(image.data, image.height, image.width, image.channels),
      dtype: 'uint8',
      lead: [image.channels],
      raw: true,
    };
  }
  if (!(image instanceof Tensor))
    throw new TypeError(`${owner}: expected a RawImage or a Tensor, got ${describe(image)}`);
  if (image.dim() < 2) {
    throw new RangeError(`${owner}: expected a tensor of shape [..., H, W], got [${image.shape.join(', ')}]`);
  }
  const dtype = image.dtype;
  if (dtype !== 'uint8' && dtype !== 'float32' && dtype !== 'float64') {
    throw new TypeError(`${owner}: expected a uint8, float32 or float64 tensor, got ${dtype}`);
  }
  if (image.device !== 'cpu') {
    throw new TypeError(
      `${owner}: transforms run on CPU tensors, got a tensor on ${image.device}; call .to('cpu') first`,
    );
  }
  const height = image.shape[image.dim() - 2];
  const width = image.shape[image.dim() - 1];
  const lead = image.shape.slice(0, -2);
  const planes = lead.reduce((a, b) => a * b, 1);
  return { planar: { data: image.readSync() as PlaneArray, planes, height, width }, dtype, lead, raw: false };
}

// uint8 images come back rounded half to even (torch.round before the cast), floats as computed.
function repack(result: Planar, from: Unpacked): ImageLike {
  const { height, width } = result;
  let data = result.data;
  if (from.dtype === 'uint8' && !(data instanceof Uint8Array)) data = toUint8(data, 'halfEven');
  if (from.raw) {
    const bytes = planarToInterleaved({ ...result, data: data as Uint8Array });
    return { data: bytes, width, height, channels: from.lead[0] as RawImage['channels'] };
  }
  return fromTypedArray(data, [...from.lead, height, width], from.dtype);
}

function mapPlanar<T extends ImageLike>(
  image: T,
  owner: string,
  fn: (planar: Planar, precision: Precision) => Planar,
): T {
  const unpacked = unpack(image, owner);
  const precision: Precision = unpacked.dtype === 'float64' ? 'float64' : 'float32';
  return repack(fn(unpacked.planar, precision), unpacked) as T;
}

/** [channels, height, width] of an image (torchvision's get_dimensions). */
export function getDimensions(image: ImageLike): [number, number, number] {
  if (isRawImage(image)) return [image.channels, image.height, image.width];
  if (!(image instanceof Tensor))
    throw new TypeError(`getDimensions: expected a RawImage or a Tensor, got ${describe(image)}`);
  const s = image.shape;
  if (s.length < 2)
    throw new RangeError(`getDimensions: expected a tensor of shape [..., H, W], got [${s.join(', ')}]`);
  return [s.length === 2 ? 1 : s[s.length - 3], s[s.length - 2], s[s.length - 1]];
}

function checkSize(owner: string, value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0)
    throw new RangeError(`${owner}: ${name} must be a positive integer, got ${value}`);
}

/**
 * Output [height, width] of a resize (torchvision's _compute_resized_output_size): a single
 * number sets the smaller edge and keeps the aspect ratio (the longer edge truncated), capped by maxSize.
 */
export function resizedOutputSize(
  height: number,
  width: number,
  size: SizeArg,
  maxSize?: number,
): [number, number] {
  const sizes = typeof size === 'number' ? [size] : [...size];
  for (const s of sizes) checkSize('resize', s, 'size');
  if (sizes.length === 2) {
    if (maxSize !== undefined) {
      throw new RangeError('resize: maxSize is only allowed when size is a single number (the smaller edge)');
    }
    return [sizes[0], sizes[1]];
  }
  if (sizes.length !== 1)
    throw new RangeError(`resize: size must be a number or 1 or 2 numbers, got ${sizes.length}`);
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = sizes[0];
  let newLong = Math.trunc((newShort * long) / short);
  if (maxSize !== undefined) {
    if (maxSize <= newShort) {
      throw new RangeError(
        `resize: maxSize = ${maxSize} must be strictly greater than the requested smaller edge ${newShort}`,
      );
    }
    if (newLong > maxSize) [newShort, newLong] = [Math.trunc((maxSize * newShort) / newLong), maxSize];
  }
  return width <= height ? [newLong, newShort] : [newShort, newLong];
}

/** Options of {@link resize}. */
export interface ResizeOptions {
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** Cap on the longer edge when size is one number. */
  maxSize?: number;
  /** Low-pass filter when downsampling, as torch's antialiased bilinear (default true; ignored for nearest). */
  antialias?: boolean;
}

/** The keys of {@link ResizeOptions}. */
export const RESIZE_OPTIONS = ['interpolation', 'maxSize', 'antialias'] as const;

/**
 * Resizes with torchvision's tensor semantics (F.resize on a tensor, antialias as given):
 * uint8 inputs and RawImages are computed in float32 and rounded half to even, float inputs
 * are returned unrounded. An image already of the output size comes back unchanged.
 */
export function resize<T extends ImageLike>(image: T, size: SizeArg, options: ResizeOptions = {}): T {
  checkOptions('resize', options, RESIZE_OPTIONS);
  const [, height, width] = getDimensions(image);
  const [outH, outW] = resizedOutputSize(height, width, size, options.maxSize);
  if (outH === height && outW === width) return image;
  const interpolation = options.interpolation ?? 'bilinear';
  if (interpolation !== 'bilinear' && interpolation !== 'nearest') {
    throw new TypeError(
      `resize: interpolation must be 'bilinear' or 'nearest', got ${String(interpolation)}`,
    );
  }
  const antialias = interpolation === 'bilinear' && (options.antialias ?? true);
  return mapPlanar(image, 'resize', (planar, precision) =>
    resizePlanar(planar, outH, outW, { interpolation, antialias, precision }),
  );
}

/** The window [top, top+height) × [left, left+width); pixels outside the image are 0 (torchvision's F.crop). */
export function crop<T extends ImageLike>(
  image: T,
  top: number,
  left: number,
  height: number,
  width: number,
): T {
  [top, left].forEach((v, i) => {
    if (!Number.isInteger(v))
      throw new RangeError(`crop: ${i === 0 ? 'top' : 'left'} must be an integer, got ${v}`);
  });
  checkSize('crop', height, 'height');
  checkSize('crop', width, 'width');
  return mapPlanar(image, 'crop', (planar) => cropPlanar(planar, top, left, height, width));
}

function pairOf(owner: string, size: SizeArg): [number, number] {
  const pair: [number, number] =
    typeof size === 'number' ? [size, size] : size.length === 1 ? [size[0], size[0]] : [size[0], size[1]];
  for (const s of pair) checkSize(owner, s, 'size');
  return pair;
}

/**
 * Crops the center (torchvision's F.center_crop): the offset is round((H - h) / 2) with Python's
 * round half to even, and a crop larger than the image pads it with zeros, more on the bottom/right.
 */
export function centerCrop<T extends ImageLike>(image: T, size: SizeArg): T {
  const [cropH, cropW] = pairOf('centerCrop', size);
  const [, height, width] = getDimensions(image);
  if (cropH === height && cropW === width) return image;
  // torchvision pads by (crop - size) // 2 on the top/left, then crops at round((padded - crop) / 2) = 0.
  const top = cropH > height ? -Math.floor((cropH - height) / 2) : roundHalfEven((height - cropH) / 2);
  const left = cropW > width ? -Math.floor((cropW - width) / 2) : roundHalfEven((width - cropW) / 2);
  return crop(image, top, left, cropH, cropW);
}

/** crop followed by resize (torchvision's F.resized_crop). */
export function resizedCrop<T extends ImageLike>(
  image: T,
  top: number,
  left: number,
  height: number,
  width: number,
  size: SizeArg,
  options: Omit<ResizeOptions, 'maxSize'> = {},
): T {
  checkOptions('resizedCrop', options, ['interpolation', 'antialias']);
  return resize(crop(image, top, left, height, width), pairOf('resizedCrop', size), options);
}

/** Mirrors left to right. */
export function hflip<T extends ImageLike>(image: T): T {
  return mapPlanar(image, 'hflip', (planar) => flipPlanarHorizontal(planar));
}

/** HWC uint8 RawImage -> float32 Tensor [C, H, W] in [0, 1] (torchvision's F.to_tensor: x / 255 in float32). */
export function toTensor(image: RawImage): Tensor {
  if (!isRawImage(image)) {
    throw new TypeError(`toTensor: expected a RawImage (a decoded image), got ${describe(image)}`);
  }
  const { planar } = unpack(image, 'toTensor');
  const out = new Float32Array(planar.data.length);
  for (let i = 0; i < out.length; i++) out[i] = planar.data[i] / 255;
  return fromTypedArray(out, [image.channels, image.height, image.width], 'float32');
}

/** HWC uint8 RawImage -> uint8 Tensor [C, H, W] without scaling (torchvision's F.pil_to_tensor). */
export function pilToTensor(image: RawImage): Tensor {
  if (!isRawImage(image)) {
    throw new TypeError(`pilToTensor: expected a RawImage (a decoded image), got ${describe(image)}`);
  }
  const { planar } = unpack(image, 'pilToTensor');
  return fromTypedArray(planar.data, [image.channels, image.height, image.width], 'uint8');
}

/** uint8 tensor -> float32 in [0, 1], or float -> float (torchvision's F.convert_image_dtype to a float dtype). */
export function convertImageDtype(image: Tensor, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  if (!(image instanceof Tensor))
    throw new TypeError(`convertImageDtype: expected a Tensor, got ${describe(image)}`);
  if (image.dtype === dtype) return image;
  const values = image.readSync();
  const out = dtype === 'float32' ? new Float32Array(values.length) : new Float64Array(values.length);
  const scale = image.dtype === 'uint8' ? 255 : 1;
  if (image.dtype !== 'uint8' && image.dtype !== 'float32' && image.dtype !== 'float64') {
    throw new TypeError(`convertImageDtype: expected a uint8, float32 or float64 tensor, got ${image.dtype}`);
  }
  for (let i = 0; i < out.length; i++) out[i] = values[i] / scale;
  return fromTypedArray(out, [...image.shape], dtype);
}

function channelValues(
  owner: string,
  name: string,
  values: number | readonly number[],
  channels: number,
): number[] {
  const list = typeof values === 'number' ? [values] : [...values];
  if (list.length !== 1 && list.length !== channels) {
    throw new RangeError(
      `${owner}: ${name} has ${list.length} values, expected 1 or ${channels} (one per channel)`,
    );
  }
  return list.length === 1 ? new Array<number>(channels).fill(list[0]) : list;
}

/**
 * (x - mean[c]) / std[c] per channel of a float tensor [..., C, H, W] (torchvision's F.normalize),
 * in the tensor's precision with mean and std cast to it first.
 */
export function normalize(
  image: Tensor,
  mean: number | readonly number[],
  std: number | readonly number[],
): Tensor {
  if (!(image instanceof Tensor)) {
    throw new TypeError(`normalize: expected a float Tensor, got ${describe(image)}; apply ToTensor() first`);
  }
  if (image.dtype !== 'float32' && image.dtype !== 'float64') {
    throw new TypeError(`normalize: expected a float tensor, got ${image.dtype}`);
  }
  if (image.dim() < 3) {
    throw new RangeError(
      `normalize: expected a tensor of shape [..., C, H, W], got [${image.shape.join(', ')}]`,
    );
  }
  const fr = image.dtype === 'float32' ? Math.fround : (x: number) => x;
  const [channels, height, width] = getDimensions(image);
  const m = channelValues('normalize', 'mean', mean, channels).map(fr);
  const s = channelValues('normalize', 'std', std, channels).map(fr);
  const zero = s.indexOf(0);
  if (zero >= 0)
    throw new RangeError(
      `normalize: std[${zero}] is zero after conversion to ${image.dtype}, which divides by zero`,
    );
  const src = image.readSync();
  const out = image.dtype === 'float32' ? new Float32Array(src.length) : new Float64Array(src.length);
  const plane = height * width;
  for (let i = 0; i < src.length; i++) {
    const c = Math.floor(i / plane) % channels;
    out[i] = fr(src[i] - m[c]) / s[c];
  }
  return fromTypedArray(out, [...image.shape], image.dtype);
}

/**
 * Grayscale with num_output_channels 1 or 3. A RawImage follows torchvision's PIL path
 * (Image.convert('L'): L = R·299/1000 + G·587/1000 + B·114/1000 in PIL's fixed point, alpha
 * dropped); a tensor [..., 3, H, W] follows its tensor path (0.2989 R + 0.587 G + 0.114 B in float32,
 * truncated for uint8).
 */
export function rgbToGrayscale<T extends ImageLike>(image: T, numOutputChannels: 1 | 3 = 1): T {
  if (numOutputChannels !== 1 && numOutputChannels !== 3) {
    throw new RangeError(
      `rgbToGrayscale: numOutputChannels must be 1 or 3, got ${String(numOutputChannels)}`,
    );
  }
  if (isRawImage(image)) {
    const gray = convertImage(image, 'L');
    return (numOutputChannels === 3 ? convertImage(gray, 'RGB') : gray) as T;
  }
  const { planar, dtype, lead } = unpack(image, 'rgbToGrayscale');
  const channels = lead[lead.length - 1];
  if (lead.length === 0 || (channels !== 1 && channels !== 3)) {
    throw new RangeError(
      `rgbToGrayscale: expected a tensor [..., 1 or 3, H, W], got [${(image as Tensor).shape.join(', ')}]`,
    );
  }
  const gray = channels === 3 ? lumaPlanes(planar, dtype) : planar.data;
  const plane = planar.height * planar.width;
  const images = planar.planes / channels;
  const out = allocateLike(dtype, images * numOutputChannels * plane);
  for (let n = 0; n < images; n++) {
    for (let c = 0; c < numOutputChannels; c++)
      out.set(gray.subarray(n * plane, (n + 1) * plane), (n * numOutputChannels + c) * plane);
  }
  return fromTypedArray(
    out,
    [...lead.slice(0, -1), numOutputChannels, planar.height, planar.width],
    dtype,
  ) as T;
}

function allocateLike(dtype: ImageDType, length: number): PlaneArray {
  return dtype === 'uint8'
    ? new Uint8Array(length)
    : dtype === 'float32'
      ? new Float32Array(length)
      : new Float64Array(length);
}

// torchvision's tensor rgb_to_grayscale on planes grouped in threes; returns one plane per image in `dtype`.
function lumaPlanes(planar: Planar, dtype: ImageDType): PlaneArray {
  const fr = dtype === 'float64' ? (x: number) => x : Math.fround;
  const [wr, wg, wb] = [0.2989, 0.587, 0.114].map(fr);
  const plane = planar.height * planar.width;
  const images = planar.planes / 3;
  const out = allocateLike(dtype, images * plane);
  const s = planar.data;
  for (let n = 0; n < images; n++) {
    const base = n * 3 * plane;
    for (let p = 0; p < plane; p++) {
      const l = fr(
        fr(fr(wr * s[base + p]) + fr(wg * s[base + plane + p])) + fr(wb * s[base + 2 * plane + p]),
      );
      out[n * plane + p] = dtype === 'uint8' ? Math.trunc(l) : l;
    }
  }
  return out;
}

// torchvision's _blend: ratio·a + (1 − ratio)·b clamped to [0, bound], cast back (truncating for uint8).
// `other(n, c, p)` is b at image n, channel c, pixel p.
function blend<T extends ImageLike>(
  image: T,
  owner: string,
  ratio: number,
  other: (planar: Planar, dtype: ImageDType) => (n: number, c: number, p: number) => number,
): T {
  const unpacked = unpack(image, owner);
  const { planar, dtype, lead } = unpacked;
  const channels = lead.length === 0 ? 1 : lead[lead.length - 1];
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(
      `${owner}: expected an image with 1 or 3 channels, got ${channels} (convert RGBA or LA images to 'RGB' or 'L' first)`,
    );
  }
  const fr = dtype === 'float64' ? (x: number) => x : Math.fround;
  const bound = dtype === 'uint8' ? 255 : 1;
  const a = fr(ratio);
  const b = fr(1 - ratio);
  const otherAt = other(planar, dtype);
  const plane = planar.height * planar.width;
  const out = allocateLike(dtype, planar.data.length);
  for (let i = 0; i < out.length; i++) {
    const p = i % plane;
    const c = Math.floor(i / plane) % channels;
    const n = Math.floor(i / (plane * channels));
    let v = fr(fr(a * planar.data[i]) + fr(b * otherAt(n, c, p)));
    v = Math.min(Math.max(v, 0), bound);
    out[i] = dtype === 'uint8' ? Math.trunc(v) : v;
  }
  return repack({ ...planar, data: out }, unpacked) as T;
}

function grayscalePlanes(planar: Planar, dtype: ImageDType, channels: number): PlaneArray {
  return channels === 3 ? lumaPlanes(planar, dtype) : planar.data;
}

function checkFactor(owner: string, factor: number): void {
  if (!(factor >= 0)) throw new RangeError(`${owner}: factor must be non-negative, got ${factor}`);
}

/** Scales intensities by `factor` (torchvision's tensor F.adjust_brightness: blend with black). */
export function adjustBrightness<T extends ImageLike>(image: T, factor: number): T {
  checkFactor('adjustBrightness', factor);
  return blend(image, 'adjustBrightness', factor, () => () => 0);
}

/** Blends with the mean gray level (torchvision's tensor F.adjust_contrast; uint8 gray is truncated before the mean). */
export function adjustContrast<T extends ImageLike>(image: T, factor: number): T {
  checkFactor('adjustContrast', factor);
  const channels = getDimensions(image)[0];
  return blend(image, 'adjustContrast', factor, (planar, dtype) => {
    const gray = grayscalePlanes(planar, dtype, channels);
    const plane = planar.height * planar.width;
    const fr = dtype === 'float64' ? (x: number) => x : Math.fround;
    const means: number[] = [];
    for (let n = 0; n < planar.planes / channels; n++) {
      let sum = 0;
      for (let p = 0; p < plane; p++) sum += gray[n * plane + p];
      means.push(fr(sum / plane));
    }
    return (n) => means[n];
  });
}

/** Blends with the grayscale image (torchvision's tensor F.adjust_saturation; 1-channel images are returned as is). */
export function adjustSaturation<T extends ImageLike>(image: T, factor: number): T {
  checkFactor('adjustSaturation', factor);
  if (getDimensions(image)[0] === 1) return image;
  return blend(image, 'adjustSaturation', factor, (planar, dtype) => {
    const gray = lumaPlanes(planar, dtype);
    const plane = planar.height * planar.width;
    return (n, _c, p) => gray[n * plane + p];
  });
}

// torchvision's _rgb2hsv → shift → _hsv2rgb for one pixel, with torch's float32 roundings.
function shiftHue(
  r: number,
  g: number,
  b: number,
  hue: number,
  fr: (x: number) => number,
): [number, number, number] {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  const eqc = maxc === minc;
  const cr = fr(maxc - minc);
  const s = fr(cr / (eqc ? 1 : maxc));
  const divisor = eqc ? 1 : cr;
  const rc = fr(fr(maxc - r) / divisor);
  const gc = fr(fr(maxc - g) / divisor);
  const bc = fr(fr(maxc - b) / divisor);
  const hr = maxc === r ? fr(bc - gc) : 0;
  const hg = maxc === g && maxc !== r ? fr(fr(2 + rc) - bc) : 0;
  const hb = maxc !== g && maxc !== r ? fr(fr(4 + gc) - rc) : 0;
  let h = fr(fr(fr(fr(hr + hg) + hb) / 6) + 1) % 1; // torch.fmod: exact
  h = fr(h + hue) % 1;
  if (h < 0) h = fr(h + 1); // torch.remainder takes the divisor's sign
  const v = maxc;
  const h6 = fr(h * 6);
  const sector = Math.floor(h6);
  const f = fr(h6 - sector);
  const clamp = (x: number) => Math.min(Math.max(x, 0), 1);
  const p = clamp(fr(v * fr(1 - s)));
  const q = clamp(fr(v * fr(1 - fr(s * f))));
  const t = clamp(fr(v * fr(1 - fr(s * fr(1 - f)))));
  switch (((sector % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/**
 * Rotates hue by `factor` turns in [-0.5, 0.5] (torchvision's tensor F.adjust_hue: through HSV;
 * uint8 images are scaled to [0, 1] and back, truncating). 1-channel images are returned as is.
 */
export function adjustHue<T extends ImageLike>(image: T, factor: number): T {
  if (!(factor >= -0.5 && factor <= 0.5))
    throw new RangeError(`adjustHue: factor must be in [-0.5, 0.5], got ${factor}`);
  const channels = getDimensions(image)[0];
  if (channels === 1) return image;
  const unpacked = unpack(image, 'adjustHue');
  const { planar, dtype } = unpacked;
  if (channels !== 3) {
    throw new RangeError(
      `adjustHue: expected an image with 1 or 3 channels, got ${channels} (convert RGBA or LA images to 'RGB' first)`,
    );
  }
  const fr = dtype === 'float64' ? (x: number) => x : Math.fround;
  const hue = fr(factor);
  const plane = planar.height * planar.width;
  const out = allocateLike(dtype, planar.data.length);
  const s = planar.data;
  const scale = dtype === 'uint8' ? 255 : 1;
  for (let base = 0; base < s.length; base += 3 * plane) {
    for (let p = 0; p < plane; p++) {
      const rgb = shiftHue(
        fr(s[base + p] / scale),
        fr(s[base + plane + p] / scale),
        fr(s[base + 2 * plane + p] / scale),
        hue,
        fr,
      );
      for (let c = 0; c < 3; c++)
        out[base + c * plane + p] = dtype === 'uint8' ? Math.trunc(fr(rgb[c] * 255)) : rgb[c];
    }
  }
  return repack({ ...planar, data: out }, unpacked) as T;
}
