// ImageFolder and sharp decoding on folders the tests build: ordering, modes, transforms, every error case.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@graft/tensor';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { DataLoader } from './dataloader.js';
import { decodeImage } from './decode-image.js';
import { decodeImageBytes, decodeImageFile } from './node/decode-image-file.js';
import { compareCodePoints, ImageFolder } from './node/image-folder.js';
import { encodePng } from './test-utils/png.js';
import { CenterCrop, Compose, Normalize, Resize, ToTensor } from './transforms/index.js';

const root = mkdtempSync(join(tmpdir(), 'graft-imagefolder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A w×h image with channel c of pixel (x, y) = (x·7 + y·13 + c·50) mod 256. */
function pixels(w: number, h: number, channels: 1 | 2 | 3 | 4): Buffer {
  const out = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++) out[(y * w + x) * channels + c] = (x * 7 + y * 13 + c * 50) % 256;
    }
  }
  return out;
}

async function writeImage(
  path: string,
  format: 'png' | 'jpeg' | 'webp',
  channels: 1 | 2 | 3 | 4 = 3,
  w = 6,
  h = 5,
) {
  mkdirSync(join(path, '..'), { recursive: true });
  if (format === 'png') {
    // Our own encoder, so a gray PNG really is color type 0 (sharp would write raw 1-channel input as RGB).
    writeFileSync(
      path,
      encodePng(w, h, ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[channels], 8, pixels(w, h, channels)),
    );
    return;
  }
  const image = sharp(pixels(w, h, channels), { raw: { width: w, height: h, channels } });
  const encoded = format === 'jpeg' ? image.jpeg({ quality: 95 }) : image.webp({ lossless: true });
  await encoded.toFile(path);
}

function folder(name: string): string {
  const path = join(root, name);
  mkdirSync(path, { recursive: true });
  return path;
}

describe('decoding', () => {
  const dir = folder('decode');
  beforeAll(async () => {
    await writeImage(join(dir, 'gray.png'), 'png', 1);
    await writeImage(join(dir, 'gray-alpha.png'), 'png', 2);
    await writeImage(join(dir, 'rgb.png'), 'png', 3);
    await writeImage(join(dir, 'rgba.png'), 'png', 4);
    await writeImage(join(dir, 'rgb.webp'), 'webp', 3);
    await writeImage(join(dir, 'rgb.jpg'), 'jpeg', 3);
    // 16-bit: value v·257 must come back as v.
    writeFileSync(join(dir, 'gray16.png'), encodePng(2, 2, 0, 16, [0, 257 * 10, 257 * 200, 65535]));
    writeFileSync(
      join(dir, 'rgb16.png'),
      encodePng(1, 2, 2, 16, [257 * 1, 257 * 2, 257 * 3, 65535, 0, 257 * 128]),
    );
    // A palette PNG.
    await sharp(pixels(6, 5, 3), { raw: { width: 6, height: 5, channels: 3 } })
      .png({ palette: true, colours: 256, dither: 0 })
      .toFile(join(dir, 'palette.png'));
  });

  it.each([
    ['gray.png', 1],
    ['gray-alpha.png', 2],
    ['rgb.png', 3],
    ['rgba.png', 4],
    ['rgb.webp', 3],
  ] as const)('%s keeps its %i channels and its exact pixels', async (file, channels) => {
    const image = await decodeImageFile(join(dir, file));
    expect(image).toMatchObject({ width: 6, height: 5, channels });
    expect(Buffer.from(image.data).equals(pixels(6, 5, channels))).toBe(true);
  });

  it('converts modes like PIL: gray to RGB replicates, RGBA to RGB drops alpha, RGB to L uses 601-2 luma', async () => {
    const gray = await decodeImageFile(join(dir, 'gray.png'), { mode: 'RGB' });
    expect(Array.from(gray.data.subarray(0, 6))).toEqual([0, 0, 0, 7, 7, 7]);
    const rgba = await decodeImageFile(join(dir, 'rgba.png'), { mode: 'RGB' });
    expect(Buffer.from(rgba.data).equals(pixels(6, 5, 3))).toBe(true);
    const l = await decodeImageFile(join(dir, 'rgb.png'), { mode: 'L' });
    // Pixel (1, 0) is RGB (7, 57, 107): (7·19595 + 57·38470 + 107·7471 + 32768) >> 16 = 48.
    expect(l.channels).toBe(1);
    expect(l.data[1]).toBe(48);
  });

  it('scales 16-bit images to 8 bits and expands palettes', async () => {
    const deep = await decodeImageFile(join(dir, 'gray16.png'));
    expect(deep.channels).toBe(1);
    expect(Array.from(deep.data)).toEqual([0, 10, 200, 255]);
    const rgb16 = await decodeImageFile(join(dir, 'rgb16.png'));
    expect(rgb16.channels).toBe(3);
    expect(Array.from(rgb16.data)).toEqual([1, 2, 3, 255, 0, 128]);
    const palette = await decodeImageFile(join(dir, 'palette.png'));
    expect(palette.channels).toBe(3);
  });

  it('decodes JPEG close to the source and bytes as well as files', async () => {
    const jpeg = await decodeImageFile(join(dir, 'rgb.jpg'));
    expect(jpeg.channels).toBe(3);
    const fromBytes = await decodeImageBytes(await sharp(join(dir, 'rgb.png')).png().toBuffer());
    expect(Buffer.from(fromBytes.data).equals(pixels(6, 5, 3))).toBe(true);
  });

  it('names the path of a corrupt, truncated or missing file', async () => {
    const bad = join(dir, 'bad.png');
    writeFileSync(bad, 'not an image at all');
    await expect(decodeImageFile(bad)).rejects.toThrow(new RegExp(`^cannot decode image ${bad}: `));
    const full = await sharp(pixels(40, 40, 3), { raw: { width: 40, height: 40, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const cut = join(dir, 'cut.png');
    writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
    await expect(decodeImageFile(cut)).rejects.toThrow(new RegExp(`^cannot decode image ${cut}: `));
    await expect(decodeImageFile(join(dir, 'missing.png'))).rejects.toThrow(
      /^cannot decode image .*missing\.png: /,
    );
  });

  it('the browser decoder says where it runs when called in Node', async () => {
    await expect(decodeImage(new Uint8Array([1, 2, 3]), { name: 'x.png' })).rejects.toThrow(
      "decodeImage: x.png: needs createImageBitmap and OffscreenCanvas (a browser page or worker), which this runtime lacks; in Node use decodeImageFile or decodeImageBytes from '@graft/data/node'",
    );
  });
});

describe('ImageFolder', () => {
  // Class names whose code-point order (Python's sorted) differs from UTF-16 order and from locale order.
  const classes = ['b', 'B', 'a', 'Z', 'é', '😀', '～', '_x', '10', '9'];
  // sorted() in Python 3.11 on the list above.
  const pythonSorted = ['10', '9', 'B', 'Z', '_x', 'a', 'b', 'é', '～', '😀'];
  let dir: string;

  beforeAll(async () => {
    dir = folder('sorted');
    for (const name of classes) await writeImage(join(dir, name, 'img.png'), 'png');
    // Nested folders in class 'a': sorted(os.walk()) visits a, a/sub, a/sub-x, a/sub/deeper ('-' < '/').
    await writeImage(join(dir, 'a', 'z.png'), 'png', 1);
    await writeImage(join(dir, 'a', 'A.PNG'), 'png', 4);
    await writeImage(join(dir, 'a', 'sub', 'b.jpeg'), 'jpeg');
    await writeImage(join(dir, 'a', 'sub-x', 'c.webp'), 'webp');
    await writeImage(join(dir, 'a', 'sub', 'deeper', 'd.jpg'), 'jpeg');
    writeFileSync(join(dir, 'a', 'notes.txt'), 'not an image');
    writeFileSync(join(dir, 'README'), 'a file next to the class folders is ignored');
  });

  it('sorts classes by code point like Python', () => {
    expect([...classes].sort(compareCodePoints)).toEqual(pythonSorted);
    const ds = new ImageFolder(dir);
    expect(ds.classes).toEqual(pythonSorted);
    expect(ds.classToIdx['😀']).toBe(9);
    expect(ds.classToIdx['～']).toBe(8);
  });

  it('lists samples in torchvision order, extensions matched case-insensitively', () => {
    const ds = new ImageFolder(dir);
    const a = ds.classToIdx.a;
    const inA = ds.samples.filter(([, label]) => label === a).map(([path]) => path.slice(dir.length + 1));
    expect(inA).toEqual([
      'a/A.PNG',
      'a/img.png',
      'a/z.png',
      'a/sub/b.jpeg',
      'a/sub-x/c.webp',
      'a/sub/deeper/d.jpg',
    ]);
    expect(ds.length).toBe(classes.length + 5);
    expect(ds.targets.slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('decodes to RGB by default, or the mode asked for, and applies the transforms', async () => {
    const ds = new ImageFolder(dir);
    const index = ds.samples.findIndex(([path]) => path.endsWith('A.PNG'));
    const [image, label] = await ds.get(index);
    expect(image.channels).toBe(3);
    expect(label).toBe(ds.classToIdx.a);
    const gray = new ImageFolder(dir, { mode: 'L' });
    expect((await gray.get(index))[0].channels).toBe(1);

    const transform = new Compose([
      new Resize(4),
      new CenterCrop(4),
      new ToTensor(),
      new Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
    ]);
    const typed = new ImageFolder(dir, { transform, targetTransform: (y: number) => `class ${y}` });
    const [x, y] = await typed.get(0);
    expectTypeOf(x).toEqualTypeOf<Tensor>();
    expect(x.shape).toEqual([3, 4, 4]);
    expect(y).toBe('class 0');
  });

  it('feeds a DataLoader', async () => {
    const ds = new ImageFolder(dir, { transform: new Compose([new Resize([4, 4]), new ToTensor()]) });
    const loader = new DataLoader(ds, { batchSize: 4, shuffle: true });
    const shapes: number[][] = [];
    for await (const [x, y] of loader) shapes.push([...x.shape, ...y.shape]);
    expect(shapes).toEqual([
      [4, 3, 4, 4, 4],
      [4, 3, 4, 4, 4],
      [4, 3, 4, 4, 4],
      [3, 3, 4, 4, 3],
    ]);
  });

  it('follows symlinked class folders', async () => {
    const linked = folder('linked');
    await writeImage(join(root, 'elsewhere', 'x.png'), 'png');
    symlinkSync(join(root, 'elsewhere'), join(linked, 'cls'));
    expect(new ImageFolder(linked).samples.map(([p]) => p)).toEqual([join(linked, 'cls', 'x.png')]);
  });

  it('errors: missing root, a file as root, an empty folder, files but no class folders', () => {
    expect(() => new ImageFolder(join(root, 'nowhere'))).toThrow(
      `ImageFolder: root folder ${join(root, 'nowhere')} does not exist`,
    );
    const file = join(root, 'file.png');
    writeFileSync(file, '');
    expect(() => new ImageFolder(file)).toThrow(`ImageFolder: root ${file} is not a folder`);
    const empty = folder('empty');
    expect(() => new ImageFolder(empty)).toThrow(
      `ImageFolder: no class folders in ${empty}; expected root/<class name>/<image>, found an empty folder`,
    );
    const flat = folder('flat');
    writeFileSync(join(flat, 'a.png'), '');
    writeFileSync(join(flat, 'b.png'), '');
    expect(() => new ImageFolder(flat)).toThrow(/found 2 files and no folders$/);
  });

  it('errors: class folders without images are all named', async () => {
    const partial = folder('partial');
    await writeImage(join(partial, 'cat', 'a.png'), 'png');
    mkdirSync(join(partial, 'dog'));
    mkdirSync(join(partial, 'eel'));
    writeFileSync(join(partial, 'eel', 'x.gif.txt'), '');
    expect(() => new ImageFolder(partial)).toThrow(
      `ImageFolder: no images with extension .jpg, .jpeg, .png, .webp, .tif, .tiff in class folders ${join(partial, 'dog')}, ${join(partial, 'eel')}`,
    );
    expect(
      () => new ImageFolder(partial, { isValidFile: (p) => p.endsWith('.txt') || p.endsWith('.png') }),
    ).toThrow(`ImageFolder: no images accepted by isValidFile in class folder ${join(partial, 'dog')}`);
    writeFileSync(join(partial, 'dog', 'y.gif'), '');
    const withGif = new ImageFolder(partial, { extensions: ['.png', '.gif', '.TXT'] });
    expect(withGif.samples.map(([p]) => p.slice(partial.length + 1))).toEqual([
      'cat/a.png',
      'dog/y.gif',
      'eel/x.gif.txt',
    ]);
  });

  describe('corrupt images', () => {
    let corrupt: string;
    let badPath: string;
    let cutPath: string;

    beforeAll(async () => {
      corrupt = folder('corrupt');
      await writeImage(join(corrupt, 'cat', '1.png'), 'png');
      await writeImage(join(corrupt, 'cat', '3.png'), 'png');
      await writeImage(join(corrupt, 'dog', '1.jpg'), 'jpeg', 3, 32, 32);
      badPath = join(corrupt, 'cat', '2.png');
      writeFileSync(badPath, 'garbage');
      const jpeg = await sharp(pixels(32, 32, 3), { raw: { width: 32, height: 32, channels: 3 } })
        .jpeg()
        .toBuffer();
      cutPath = join(corrupt, 'dog', '2.jpg');
      writeFileSync(cutPath, jpeg.subarray(0, jpeg.length - 40));
    });

    it("'error' (default): loading one fails naming its path", async () => {
      const ds = new ImageFolder(corrupt);
      expect(ds.length).toBe(5);
      await expect(ds.get(1)).rejects.toThrow(new RegExp(`^ImageFolder: cannot decode image ${badPath}: `));
      await expect(ds.get(4)).rejects.toThrow(new RegExp(`^ImageFolder: cannot decode image ${cutPath}: `));
      expect((await ds.get(0))[1]).toBe(0);
    });

    it("'error': verify() lists every corrupt path at once", async () => {
      const ds = new ImageFolder(corrupt);
      const error = await ds.verify().catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(`ImageFolder: 2 corrupt images in ${corrupt}:`);
      expect((error as Error).message).toContain(badPath);
      expect((error as Error).message).toContain(cutPath);
    });

    it("'skip': create() removes corrupt images and lists them in skipped", async () => {
      const ds = await ImageFolder.create(corrupt, { onCorrupt: 'skip' });
      expect(ds.length).toBe(3);
      expect(ds.skipped.map((s) => s.path)).toEqual([badPath, cutPath]);
      expect(ds.skipped[0].reason).toMatch(/^cannot decode image /);
      expect(ds.samples.map(([p, y]) => [p.slice(corrupt.length + 1), y])).toEqual([
        ['cat/1.png', 0],
        ['cat/3.png', 0],
        ['dog/1.jpg', 1],
      ]);
      const loader = new DataLoader(ds, { batchSize: 3, collateFn: (items) => items.map(([, y]) => y) });
      for await (const labels of loader) expect(labels).toEqual([0, 0, 1]);
    });

    it("'skip' without verify() still names the file and says why it was not skipped", async () => {
      const ds = new ImageFolder(corrupt, { onCorrupt: 'skip' });
      await expect(ds.get(1)).rejects.toThrow(/has not run\)$/);
    });
  });
});
