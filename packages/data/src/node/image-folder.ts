// ImageFolder: root/<class>/<image> on disk, scanned and ordered exactly as torchvision's ImageFolder.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkOptions } from '@graft/tensor';
import { checkIndex, Dataset } from '../dataset.js';
import type { ImageMode, RawImage } from '../raw-image.js';
import { applyTransform, type TransformLike } from '../transforms/transform.js';
import { decodeImageFile } from './decode-image-file.js';

/** File extensions ImageFolder loads by default (those sharp decodes from torchvision's list). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

/** Options of {@link ImageFolder}. */
export interface ImageFolderOptions<X, Y> {
  /** Applied to each decoded image. */
  transform?: TransformLike<RawImage, X>;
  /** Applied to each class index. */
  targetTransform?: TransformLike<number, Y>;
  /**
   * What a corrupt image does: 'error' (default) fails when it is loaded, naming its path;
   * 'skip' removes it during {@link ImageFolder.verify} (run by {@link ImageFolder.create}) and lists it in `skipped`.
   */
  onCorrupt?: 'error' | 'skip';
  /** Channel layout images are converted to (default 'RGB', as torchvision's loader does). */
  mode?: ImageMode;
  /** Accepted extensions, matched case-insensitively (default {@link IMAGE_EXTENSIONS}). */
  extensions?: readonly string[];
  /** Decides which files are images instead of `extensions` (torchvision's is_valid_file). */
  isValidFile?: (path: string) => boolean;
  /** Images decoded at once by verify() (default 8). */
  verifyConcurrency?: number;
}

const IMAGE_FOLDER_OPTIONS = [
  'transform',
  'targetTransform',
  'onCorrupt',
  'mode',
  'extensions',
  'isValidFile',
  'verifyConcurrency',
] as const;

/** An image verify() removed: its path and why it failed to decode. */
export interface SkippedImage {
  path: string;
  reason: string;
}

/** Python's sorted() order on str: by code point (JS's < compares UTF-16 units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory(); // follows symlinks, like DirEntry.is_dir()
  } catch {
    return false;
  }
}

// os.walk(top, followlinks=True) flattened to [folder, file names]; sorted like sorted(os.walk(...)).
function walk(top: string): [string, string[]][] {
  const out: [string, string[]][] = [];
  const seen = new Set<string>();
  const visit = (dir: string) => {
    const real = realpathSync(dir);
    if (seen.has(real)) return; // a symlink cycle would make os.walk loop forever
    seen.add(real);
    const files: string[] = [];
    const dirs: string[] = [];
    for (const name of readdirSync(dir)) (isDirectory(join(dir, name)) ? dirs : files).push(name);
    out.push([dir, files.sort(compareCodePoints)]);
    for (const name of dirs) visit(join(dir, name));
  };
  visit(top);
  return out.sort((a, b) => compareCodePoints(a[0], b[0]));
}

/**
 * A dataset of images in `root/<class name>/**\/<image>`: classes are the subfolder names sorted
 * by code point (Python's sorted), `classToIdx` maps them to labels, and `samples` lists
 * [path, label] in torchvision's order. Item i is `[image, label]` after the transforms.
 */
export class ImageFolder<X = RawImage, Y = number> extends Dataset<[X, Y]> {
  readonly root: string;
  readonly classes: readonly string[];
  readonly classToIdx: Readonly<Record<string, number>>;
  /** [path, class index] of every image, in load order; verify() removes corrupt ones when onCorrupt is 'skip'. */
  samples: [string, number][];
  /** Images verify() removed. */
  readonly skipped: SkippedImage[] = [];
  readonly transform: TransformLike<RawImage, X> | undefined;
  readonly targetTransform: TransformLike<number, Y> | undefined;
  readonly onCorrupt: 'error' | 'skip';
  readonly mode: ImageMode;
  private verified = false;
  private readonly verifyConcurrency: number;

  /** Scans `root` synchronously; no image is decoded until get() (or verify()). */
  constructor(root: string, options: ImageFolderOptions<X, Y> = {}) {
    super();
    checkOptions('ImageFolder', options, IMAGE_FOLDER_OPTIONS);
    this.root = root;
    this.transform = options.transform;
    this.targetTransform = options.targetTransform;
    this.onCorrupt = options.onCorrupt ?? 'error';
    if (this.onCorrupt !== 'error' && this.onCorrupt !== 'skip') {
      throw new TypeError(`ImageFolder: onCorrupt must be 'error' or 'skip', got ${String(this.onCorrupt)}`);
    }
    this.mode = options.mode ?? 'RGB';
    this.verifyConcurrency = options.verifyConcurrency ?? 8;
    let rootStat: ReturnType<typeof statSync>;
    try {
      rootStat = statSync(root);
    } catch {
      throw new Error(`ImageFolder: root folder ${root} does not exist`);
    }
    if (!rootStat.isDirectory()) throw new Error(`ImageFolder: root ${root} is not a folder`);

    const entries = readdirSync(root);
    this.classes = entries.filter((name) => isDirectory(join(root, name))).sort(compareCodePoints);
    if (this.classes.length === 0) {
      const files = entries.length;
      throw new Error(
        `ImageFolder: no class folders in ${root}; expected root/<class name>/<image>, found ` +
          (files === 0 ? 'an empty folder' : `${files} file${files === 1 ? '' : 's'} and no folders`),
      );
    }
    this.classToIdx = Object.fromEntries(this.classes.map((name, i) => [name, i]));

    const extensions = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
    const isValid =
      options.isValidFile ?? ((path: string) => extensions.some((e) => path.toLowerCase().endsWith(e)));
    this.samples = [];
    const empty: string[] = [];
    this.classes.forEach((name, label) => {
      const before = this.samples.length;
      for (const [dir, files] of walk(join(root, name))) {
        for (const file of files) {
          const path = join(dir, file);
          if (isValid(path)) this.samples.push([path, label]);
        }
      }
      if (this.samples.length === before) empty.push(join(root, name));
    });
    if (empty.length > 0) {
      const accepted = options.isValidFile
        ? 'accepted by isValidFile'
        : `with extension ${extensions.join(', ')}`;
      throw new Error(
        `ImageFolder: no images ${accepted} in class folder${empty.length > 1 ? 's' : ''} ${empty.join(', ')}`,
      );
    }
  }

  /** Scans `root` and, when onCorrupt is 'skip', runs {@link verify} so corrupt images are gone before training. */
  static async create<X = RawImage, Y = number>(
    root: string,
    options: ImageFolderOptions<X, Y> = {},
  ): Promise<ImageFolder<X, Y>> {
    const folder = new ImageFolder(root, options);
    if (folder.onCorrupt === 'skip') await folder.verify();
    return folder;
  }

  get length(): number {
    return this.samples.length;
  }

  /** Class index of every sample (torchvision's `targets`). */
  get targets(): number[] {
    return this.samples.map(([, label]) => label);
  }

  /**
   * Decodes every image once. With onCorrupt 'skip' the corrupt ones leave `samples` and join
   * `skipped` (returned); with 'error' one error lists every corrupt path.
   */
  async verify(): Promise<readonly SkippedImage[]> {
    const failures = new Map<number, string>();
    let next = 0;
    const worker = async () => {
      while (next < this.samples.length) {
        const i = next++;
        try {
          await decodeImageFile(this.samples[i][0]);
        } catch (error) {
          failures.set(i, error instanceof Error ? error.message : String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.verifyConcurrency) }, worker));
    const bad = [...failures.keys()].sort((a, b) => a - b);
    if (bad.length > 0 && this.onCorrupt === 'error') {
      throw new Error(
        `ImageFolder: ${bad.length} corrupt image${bad.length > 1 ? 's' : ''} in ${this.root}:\n` +
          bad.map((i) => `  ${failures.get(i)}`).join('\n'),
      );
    }
    const removed = bad.map((i) => ({ path: this.samples[i][0], reason: failures.get(i)! }));
    this.skipped.push(...removed);
    const drop = new Set(bad);
    this.samples = this.samples.filter((_, i) => !drop.has(i));
    this.verified = true;
    return removed;
  }

  /** Decodes sample i (no transform), in this folder's mode. */
  async loadImage(index: number): Promise<RawImage> {
    checkIndex('ImageFolder', index, this.samples.length);
    const [path] = this.samples[index];
    try {
      return await decodeImageFile(path, { mode: this.mode });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const hint =
        this.onCorrupt === 'skip' && !this.verified
          ? " (onCorrupt 'skip' removes corrupt images in verify(), which ImageFolder.create() runs; it has not run)"
          : '';
      throw new Error(`ImageFolder: ${reason}${hint}`);
    }
  }

  async get(index: number): Promise<[X, Y]> {
    const image = await this.loadImage(index);
    const label = this.samples[index][1];
    const x = this.transform ? applyTransform(this.transform, image) : (image as X);
    const y = this.targetTransform ? applyTransform(this.targetTransform, label) : (label as Y);
    return [x, y];
  }
}
