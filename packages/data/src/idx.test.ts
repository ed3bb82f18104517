// IDX parsing and the MNIST-family datasets, on files the tests write and on the head of Debian's Fashion-MNIST.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeIdx, parseIdx } from './idx.js';
import { IdxImageDataset } from './idx-dataset.js';
import { readIdxFile, readIdxFileSync } from './node/idx-file.js';
import { FashionMNIST, MNIST } from './node/mnist.js';
import { ToTensor } from './transforms/index.js';

const dir = mkdtempSync(join(tmpdir(), 'graft-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX file: magic 0 0 type ndim, big-endian u32 dims, big-endian elements. */
function idxBytes(type: number, dims: number[], values: number[], elementBytes = 1): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length * elementBytes);
  const view = new DataView(out.buffer);
  out.set([0, 0, type, dims.length]);
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  values.forEach((v, i) => {
    const at = header + i * elementBytes;
    if (type === 0x08) view.setUint8(at, v);
    else if (type === 0x09) view.setInt8(at, v);
    else if (type === 0x0b) view.setInt16(at, v, false);
    else if (type === 0x0c) view.setInt32(at, v, false);
    else if (type === 0x0d) view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  });
  return out;
}

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

// Three 2×3 images with pixel value 10·n + k, labels 2, 0, 1.
const imageValues = [0, 1, 2].flatMap((n) => [0, 1, 2, 3, 4, 5].map((k) => 10 * n + k));
const images = idxBytes(0x08, [3, 2, 3], imageValues);
const labels = idxBytes(0x08, [3], [2, 0, 1]);

describe('parseIdx', () => {
  it('reads every element type, big-endian', () => {
    expect(Array.from(parseIdx(idxBytes(0x09, [3], [-1, 0, 5])).data)).toEqual([-1, 0, 5]);
    expect(Array.from(parseIdx(idxBytes(0x0b, [2], [-300, 300], 2)).data)).toEqual([-300, 300]);
    expect(Array.from(parseIdx(idxBytes(0x0c, [2], [-70000, 70000], 4)).data)).toEqual([-70000, 70000]);
    expect(Array.from(parseIdx(idxBytes(0x0d, [2], [1.5, -2.25], 4)).data)).toEqual([1.5, -2.25]);
    const f64 = parseIdx(idxBytes(0x0e, [1, 2], [Math.PI, 1e-300], 8));
    expect(f64).toMatchObject({ dtype: 'float64', shape: [1, 2] });
    expect(Array.from(f64.data)).toEqual([Math.PI, 1e-300]);
    const u8 = parseIdx(images);
    expect(u8.dtype).toBe('uint8');
    expect(u8.shape).toEqual([3, 2, 3]);
    expect(Array.from(u8.data)).toEqual(imageValues);
  });

  it('decodeIdx inflates gzip told from the magic number', () => {
    expect(Array.from(decodeIdx(gzipSync(labels)).data)).toEqual([2, 0, 1]);
  });

  it('names the file, the expected and the actual size when truncated', () => {
    expect(() => parseIdx(images.subarray(0, images.length - 5), 'train-images')).toThrow(
      'train-images: truncated IDX data: expected 34 bytes (16-byte header + 3×2×3 uint8), got 29',
    );
    const longer = new Uint8Array(images.length + 2);
    longer.set(images);
    expect(() => parseIdx(longer, 'x.idx')).toThrow(
      'x.idx: IDX data has trailing bytes: expected 34 bytes (16-byte header + 3×2×3 uint8), got 36',
    );
    expect(() => parseIdx(images.subarray(0, 10), 'x.idx')).toThrow(
      'x.idx: truncated IDX header: expected 16 bytes for 3 dimensions, got 10',
    );
    expect(() => parseIdx(images.subarray(0, 3), 'x.idx')).toThrow(
      'x.idx: IDX header needs at least 4 bytes, got 3',
    );
  });

  it('rejects a bad magic number and an unknown type code', () => {
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), 'y')).toThrow(
      'y: not an IDX file: expected magic bytes 0x00 0x00, got 0x01 0x00',
    );
    expect(() => parseIdx(gzipSync(labels), 'y')).toThrow(
      /this is gzip data; decompress it first or use decodeIdx/,
    );
    expect(() => parseIdx(new Uint8Array([0, 0, 7, 0]), 'y')).toThrow(
      /y: unknown IDX element type 0x07, expected one of 0x08 uint8/,
    );
  });

  it('reports corrupt gzip with the name', () => {
    const gz = gzipSync(images);
    expect(() => decodeIdx(gz.subarray(0, gz.length - 12), 'images.gz')).toThrow(
      /^images\.gz: gzip data is corrupt or truncated/,
    );
  });
});

describe('readIdxFile', () => {
  it('reads raw and gzip files', async () => {
    const raw = write('raw-idx1-ubyte', labels);
    const gz = write('gz-idx1-ubyte.gz', gzipSync(labels));
    expect(Array.from(readIdxFileSync(raw).data)).toEqual([2, 0, 1]);
    expect(Array.from((await readIdxFile(gz)).data)).toEqual([2, 0, 1]);
  });

  it('names the path of a truncated gzip file, a truncated raw file and a missing file', async () => {
    const gz = gzipSync(images);
    const cut = write('cut-images.gz', gz.subarray(0, gz.length - 20));
    expect(() => readIdxFileSync(cut)).toThrow(
      new RegExp(`^${cut}: gzip data is corrupt or truncated \\(${gz.length - 20} compressed bytes\\)`),
    );
    const short = write('short-images', images.subarray(0, 30));
    await expect(readIdxFile(short)).rejects.toThrow(
      `${short}: truncated IDX data: expected 34 bytes (16-byte header + 3×2×3 uint8), got 30`,
    );
    expect(() => readIdxFileSync(join(dir, 'nope'))).toThrow(
      `readIdxFile: ${join(dir, 'nope')} does not exist`,
    );
  });
});

describe('MNIST-family datasets', () => {
  it('IdxImageDataset gives 1-channel RawImages and labels', () => {
    const ds = IdxImageDataset.fromBytes(gzipSync(images), labels, { classes: ['a', 'b', 'c'] });
    expect(ds.length).toBe(3);
    const [image, label] = ds.get(1);
    expect(image).toMatchObject({ width: 3, height: 2, channels: 1 });
    expect(Array.from(image.data)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(label).toBe(0);
    expect(ds.classToIdx).toEqual({ a: 0, b: 1, c: 2 });
    expect(ds.data.shape).toEqual([3, 2, 3]);
    expect(ds.data.dtype).toBe('uint8');
    expect(Array.from(ds.targets.readSync())).toEqual([2, 0, 1]);
    expect(ds.targets.dtype).toBe('int64');
  });

  it('reads the Debian layout (files in root) and the torchvision layout (root/MNIST/raw)', () => {
    const debian = join(dir, 'debian');
    mkdirSync(debian);
    writeFileSync(join(debian, 'train-images-idx3-ubyte.gz'), gzipSync(images));
    writeFileSync(join(debian, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
    const torchvision = join(dir, 'tv');
    mkdirSync(join(torchvision, 'MNIST', 'raw'), { recursive: true });
    writeFileSync(join(torchvision, 'MNIST', 'raw', 't10k-images-idx3-ubyte'), images);
    writeFileSync(join(torchvision, 'MNIST', 'raw', 't10k-labels-idx1-ubyte'), labels);
    const train = new MNIST(debian, { transform: new ToTensor() });
    const [x, y] = train.get(2);
    expect(x.shape).toEqual([1, 2, 3]);
    expect(y).toBe(1);
    expect(train.classes[1]).toBe('1 - one');
    const test = new MNIST(torchvision, { train: false });
    expect(Array.from(test.get(0)[0].data)).toEqual([0, 1, 2, 3, 4, 5]);
    // The whole split as one uint8 tensor, from a raw file and from a gzip file.
    expect(Array.from(test.data.readSync())).toEqual(imageValues);
    expect(Array.from(train.data.readSync())).toEqual(imageValues);
  });

  it('names missing files, missing roots and mismatched counts', () => {
    const partial = join(dir, 'partial');
    mkdirSync(partial);
    writeFileSync(join(partial, 'train-images-idx3-ubyte'), images);
    expect(() => new FashionMNIST(partial)).toThrow(
      `FashionMNIST: train-labels-idx1-ubyte (or train-labels-idx1-ubyte.gz) not found; looked in ${partial} and ${join(partial, 'FashionMNIST', 'raw')}`,
    );
    expect(() => new FashionMNIST(join(dir, 'absent'))).toThrow(
      `FashionMNIST: root folder ${join(dir, 'absent')} does not exist`,
    );
    writeFileSync(join(partial, 'train-labels-idx1-ubyte'), idxBytes(0x08, [2], [0, 1]));
    expect(() => new FashionMNIST(partial)).toThrow(
      `${join(partial, 'train-images-idx3-ubyte')} holds 3 images but ${join(partial, 'train-labels-idx1-ubyte')} holds 2 labels`,
    );
    writeFileSync(join(partial, 'train-labels-idx1-ubyte'), idxBytes(0x08, [3], [0, 1, 10]));
    expect(() => new FashionMNIST(partial)).toThrow(/label 10 at index 2 is outside the 10 classes/);
  });

  // The first records of Debian's dataset-fashion-mnist, cut into valid IDX gzip files in Debian's layout;
  // reference values read with Python's gzip module (packages/data/scripts/fashion-mnist-head.py).
  const fashionRoot = fileURLToPath(new URL('../fixtures/fashion-mnist-head', import.meta.url));
  const reference = JSON.parse(readFileSync(join(fashionRoot, 'reference.json'), 'utf8')) as {
    splits: Record<
      'train' | 't10k',
      {
        length: number;
        height: number;
        width: number;
        labels: number[];
        pixelSums: number[];
        sha256: string[];
      }
    >;
  };
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

  it("reads the head of Debian's Fashion-MNIST files: every image and label as Python reads them", () => {
    for (const [split, train] of [
      ['train', true],
      ['t10k', false],
    ] as const) {
      const want = reference.splits[split];
      const ds = new FashionMNIST(fashionRoot, { train });
      expect(ds.length).toBe(want.length);
      expect(Array.from(ds.labels)).toEqual(want.labels);
      expect(ds.data.shape).toEqual([want.length, want.height, want.width]);
      const images = Array.from({ length: ds.length }, (_, i) => ds.image(i));
      for (const image of images) expect(image).toMatchObject({ width: 28, height: 28, channels: 1 });
      expect(images.map((im) => im.data.reduce((a, b) => a + b, 0))).toEqual(want.pixelSums);
      expect(images.map((im) => sha256(im.data))).toEqual(want.sha256);
    }
    // Values from the full files, as the test on Debian's package had them.
    const train = new FashionMNIST(fashionRoot);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    const [first, label] = train.get(0);
    expect(first.data.reduce((a, b) => a + b, 0)).toBe(76247);
    expect(train.classes[label]).toBe('Ankle boot');
    const test = new FashionMNIST(fashionRoot, { train: false });
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  });

  it('ToTensor scales the Fashion-MNIST pixels to [0, 1] with shape [1, 28, 28]', () => {
    const ds = new FashionMNIST(fashionRoot, { transform: new ToTensor() });
    const [x, y] = ds.get(0);
    expect(x.shape).toEqual([1, 28, 28]);
    expect(x.dtype).toBe('float32');
    expect(y).toBe(9);
    const values = Array.from(x.readSync(), Number);
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(reference.splits.train.pixelSums[0] / 255, 2);
  });
});
