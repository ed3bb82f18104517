// Image decoding in Node with sharp (libvips): PNG, JPEG, WebP, TIFF, GIF into RawImage.
import { checkOptions } from '@graft/tensor';
import sharp from 'sharp';
import { convertImage, type ImageMode, type RawImage } from '../raw-image.js';

/** Options of {@link decodeImageFile} and {@link decodeImageBytes}. */
export interface DecodeFileOptions {
  /** Channel layout of the result; default: the file's own (L, LA, RGB or RGBA). */
  mode?: ImageMode;
}

function firstChannel(image: RawImage): RawImage {
  const alpha = image.channels === 4;
  const channels = alpha ? 2 : 1;
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    out[p * channels] = image.data[p * image.channels];
    if (alpha) out[p * channels + 1] = image.data[p * image.channels + 3];
  }
  return { data: out, width: image.width, height: image.height, channels };
}

async function decode(
  input: string | Uint8Array,
  name: string,
  mode: ImageMode | undefined,
): Promise<RawImage> {
  try {
    // failOn 'warning' (sharp's default, spelled out) makes truncated and damaged files errors, not gray pixels.
    const pipeline = sharp(input, { failOn: 'warning' });
    const { space } = await pipeline.metadata();
    // sharp's raw output is 8-bit sRGB(A): 16-bit samples are scaled, palettes and CMYK expanded.
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let image: RawImage = { data: bytes, width: info.width, height: info.height, channels: info.channels };
    // A grayscale source comes out with R = G = B; keep one of them (and alpha), as PIL's L / LA modes do.
    // (sharp's own 'b-w' conversion would drop the alpha channel.)
    if ((space === 'b-w' || space === 'grey16') && image.channels >= 3) image = firstChannel(image);
    return mode === undefined ? image : convertImage(image, mode);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot decode image ${name}: ${reason}`);
  }
}

/** Decodes an image file into a RawImage (HWC uint8); a corrupt or unreadable file is an error naming its path. */
export async function decodeImageFile(path: string, options: DecodeFileOptions = {}): Promise<RawImage> {
  checkOptions('decodeImageFile', options, ['mode']);
  return decode(path, path, options.mode);
}

/** Decodes encoded image bytes (PNG, JPEG, WebP, ...) into a RawImage. */
export async function decodeImageBytes(
  bytes: Uint8Array,
  options: DecodeFileOptions & { name?: string } = {},
): Promise<RawImage> {
  checkOptions('decodeImageBytes', options, ['mode', 'name']);
  return decode(bytes, options.name ?? 'from bytes', options.mode);
}
