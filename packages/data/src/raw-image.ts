// RawImage: decoded 8-bit pixels in HWC order, the role PIL images play in torchvision.

/** PIL-style mode names for the channel layouts a RawImage can hold. */
export type ImageMode = 'L' | 'LA' | 'RGB' | 'RGBA';

/** Decoded 8-bit pixels, row-major, channels interleaved (HWC): `data[(y * width + x) * channels + c]`. */
export interface RawImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** 1 grayscale (L), 2 grayscale + alpha (LA), 3 RGB, 4 RGBA. */
  readonly channels: 1 | 2 | 3 | 4;
}

const MODE_CHANNELS: Record<ImageMode, 1 | 2 | 3 | 4> = { L: 1, LA: 2, RGB: 3, RGBA: 4 };
const CHANNEL_MODES: Record<number, ImageMode> = { 1: 'L', 2: 'LA', 3: 'RGB', 4: 'RGBA' };

/** The PIL mode name of an image's channel layout. */
export function imageMode(image: RawImage): ImageMode {
  return CHANNEL_MODES[image.channels];
}

/** Number of channels of a PIL mode name. */
export function modeChannels(mode: ImageMode): 1 | 2 | 3 | 4 {
  const channels = MODE_CHANNELS[mode];
  if (channels === undefined)
    throw new TypeError(`image mode: expected 'L', 'LA', 'RGB' or 'RGBA', got ${String(mode)}`);
  return channels;
}

/** Builds a RawImage after checking that `data` holds exactly width × height × channels bytes. */
export function rawImage(data: Uint8Array, width: number, height: number, channels: number): RawImage {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(`rawImage: expected positive integer width and height, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new RangeError(`rawImage: expected 1, 2, 3 or 4 channels, got ${channels}`);
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    throw new RangeError(
      `rawImage: expected ${expected} bytes for ${width}×${height}×${channels}, got ${data.length}`,
    );
  }
  return { data, width, height, channels };
}

/** True for objects shaped like a RawImage (duck-typed, so images from other realms pass). */
export function isRawImage(value: unknown): value is RawImage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<RawImage>;
  return (
    v.data instanceof Uint8Array &&
    typeof v.width === 'number' &&
    typeof v.height === 'number' &&
    (v.channels === 1 || v.channels === 2 || v.channels === 3 || v.channels === 4)
  );
}

// PIL's fixed-point ITU-R 601-2 luma (Convert.c: L24), so 'L' conversions match Image.convert('L') bit for bit.
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/**
 * Converts between channel layouts with PIL's `Image.convert(mode)` rules: RGB -> L uses
 * L = R·299/1000 + G·587/1000 + B·114/1000 (PIL's fixed point), alpha is dropped without
 * compositing, and added alpha is opaque (255).
 */
export function convertImage(image: RawImage, mode: ImageMode): RawImage {
  const outChannels = modeChannels(mode);
  const inChannels = image.channels;
  if (outChannels === inChannels) return image;
  const pixels = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(pixels * outChannels);
  const inColor = inChannels >= 3;
  const outColor = outChannels >= 3;
  const inAlpha = inChannels === 2 || inChannels === 4;
  const outAlpha = outChannels === 2 || outChannels === 4;
  for (let p = 0; p < pixels; p++) {
    const s = p * inChannels;
    const d = p * outChannels;
    if (outColor) {
      if (inColor) {
        out[d] = src[s];
        out[d + 1] = src[s + 1];
        out[d + 2] = src[s + 2];
      } else {
        out[d] = out[d + 1] = out[d + 2] = src[s];
      }
    } else {
      out[d] = inColor ? luma(src[s], src[s + 1], src[s + 2]) : src[s];
    }
    if (outAlpha) out[d + outChannels - 1] = inAlpha ? src[s + inChannels - 1] : 255;
  }
  return { data: out, width: image.width, height: image.height, channels: outChannels };
}
