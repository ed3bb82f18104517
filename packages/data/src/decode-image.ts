// Image decoding with the browser's own decoders (createImageBitmap + OffscreenCanvas); browser-safe.
import { checkOptions } from '@graft/tensor';
import { convertImage, type ImageMode, type RawImage } from './raw-image.js';

// The few DOM shapes used here, declared locally so the package needs no DOM type library.
interface BitmapLike {
  readonly width: number;
  readonly height: number;
  close(): void;
}
interface Context2DLike {
  drawImage(image: BitmapLike, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
interface CanvasLike {
  getContext(kind: '2d', options?: { willReadFrequently?: boolean }): Context2DLike | null;
}
interface DecoderGlobals {
  createImageBitmap?: (image: unknown, options?: Record<string, string>) => Promise<BitmapLike>;
  OffscreenCanvas?: new (width: number, height: number) => CanvasLike;
  Blob?: new (parts: unknown[]) => unknown;
}

/** Options of {@link decodeImage}. */
export interface DecodeImageOptions {
  /** Channel layout of the result (default 'RGB', like torchvision's loader). */
  mode?: ImageMode;
  /** Names the image in error messages (a URL or file name). */
  name?: string;
}

/** True where {@link decodeImage} can run (a browser page or worker). */
export function canDecodeImagesInBrowser(): boolean {
  const g = globalThis as DecoderGlobals;
  return typeof g.createImageBitmap === 'function' && typeof g.OffscreenCanvas === 'function';
}

/**
 * Decodes PNG, JPEG, WebP (whatever the browser decodes) from bytes or a Blob into a RawImage,
 * without color-space conversion or alpha premultiplication. Browser only; in Node use
 * `decodeImageFile` / `decodeImageBytes` from '@graft/data/node'.
 */
export async function decodeImage(
  source: Uint8Array | ArrayBuffer | object,
  options: DecodeImageOptions = {},
): Promise<RawImage> {
  checkOptions('decodeImage', options, ['mode', 'name']);
  const g = globalThis as DecoderGlobals;
  const name = options.name ?? 'image';
  if (!canDecodeImagesInBrowser() || g.Blob === undefined) {
    throw new Error(
      `decodeImage: ${name}: needs createImageBitmap and OffscreenCanvas (a browser page or worker), which this ` +
        `runtime lacks; in Node use decodeImageFile or decodeImageBytes from '@graft/data/node'`,
    );
  }
  const blob = source instanceof Uint8Array || source instanceof ArrayBuffer ? new g.Blob([source]) : source;
  let bitmap: BitmapLike;
  try {
    bitmap = await g.createImageBitmap!(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`decodeImage: cannot decode ${name}: ${reason}`);
  }
  try {
    const canvas = new g.OffscreenCanvas!(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (context === null) throw new Error(`decodeImage: ${name}: OffscreenCanvas has no 2d context`);
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const image: RawImage = {
      data: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength),
      width: bitmap.width,
      height: bitmap.height,
      channels: 4,
    };
    return convertImage(image, options.mode ?? 'RGB');
  } finally {
    bitmap.close();
  }
}
