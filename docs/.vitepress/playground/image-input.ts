// Turns an image the user dropped, chose or filmed into what the playground's network reads: 28x28
// grayscale, a light object on a dark background (Fashion-MNIST's look), centred.

import { IMAGE_SIZE } from './fine-tune';

export interface PreparedImage {
  pixels: Uint8Array;
  /** A data: URL of the 28x28 result, to show what the network sees. */
  preview: string;
}

/** A dropped or chosen image file, as the network sees it. */
export async function prepareImage(file: Blob): Promise<PreparedImage> {
  const bitmap = await createImageBitmap(file);
  try {
    return prepareSource(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/**
 * A picture already in the page (a webcam's `<video>`, an image, a canvas) of `width` x `height` pixels:
 * fitted inside a margin, or with `crop` its centred square filling the frame (as for webcam frames).
 * `autoInvert` (default true) inverts a picture with a light border, as product photos have; webcam
 * frames turn it off so that a class's frames never flip between the two looks.
 */
export function prepareSource(
  source: CanvasImageSource,
  width: number,
  height: number,
  { crop = false, autoInvert = true }: { crop?: boolean; autoInvert?: boolean } = {},
): PreparedImage {
  if (!(width > 0 && height > 0)) {
    throw new Error(`prepareSource: expected an image with pixels, got ${width}x${height}`);
  }
  const canvas = document.createElement('canvas');
  canvas.width = IMAGE_SIZE;
  canvas.height = IMAGE_SIZE;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas');
  // White behind transparent pixels, then the image scaled to fit inside a 2-pixel margin.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, IMAGE_SIZE, IMAGE_SIZE);
  ctx.imageSmoothingQuality = 'high';
  if (crop) {
    const side = Math.min(width, height);
    ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, IMAGE_SIZE, IMAGE_SIZE);
  } else {
    const inner = IMAGE_SIZE - 4;
    const scale = Math.min(inner / width, inner / height);
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    ctx.drawImage(source, (IMAGE_SIZE - w) / 2, (IMAGE_SIZE - h) / 2, w, h);
  }
  const rgba = ctx.getImageData(0, 0, IMAGE_SIZE, IMAGE_SIZE).data;
  const gray = new Uint8Array(IMAGE_SIZE * IMAGE_SIZE);
  for (let i = 0; i < gray.length; i++) {
    gray[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  }
  // Photos of products are usually dark on light; the training images are light on black.
  let border = 0;
  let count = 0;
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      if (x > 0 && y > 0 && x < IMAGE_SIZE - 1 && y < IMAGE_SIZE - 1) continue;
      border += gray[y * IMAGE_SIZE + x];
      count++;
    }
  }
  if (autoInvert && border / count > 127) for (let i = 0; i < gray.length; i++) gray[i] = 255 - gray[i];
  const out = ctx.createImageData(IMAGE_SIZE, IMAGE_SIZE);
  for (let i = 0; i < gray.length; i++) out.data.set([gray[i], gray[i], gray[i], 255], 4 * i);
  ctx.putImageData(out, 0, 0);
  return { pixels: gray, preview: canvas.toDataURL('image/png') };
}
