// torchvision's file-name convention: `resnet18-f37072fd.pth` carries the first hex digits of the file's sha256.

/** Shortest run of hex digits accepted as a hash prefix; shorter runs are ordinary name parts. */
export const MIN_HASH_PREFIX_LENGTH = 8;

/**
 * The sha256 prefix a checkpoint's file name carries after its last '-' (torchvision's
 * convention: `resnet18-f37072fd.pth` -> `f37072fd`), or null when the name carries none.
 */
export function hashPrefixFromFileName(fileName: string): string | null {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dash = base.lastIndexOf('-');
  if (dash < 0) return null;
  const tail = base.slice(dash + 1);
  const dot = tail.indexOf('.');
  const candidate = dot < 0 ? tail : tail.slice(0, dot);
  return candidate.length >= MIN_HASH_PREFIX_LENGTH && /^[0-9a-f]+$/.test(candidate) ? candidate : null;
}

/** The last path segment of a URL (without query or fragment): the name its file is cached under. */
export function fileNameFromUrl(url: string): string {
  const path = new URL(url).pathname;
  const name = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
    throw new Error(
      `weights: cannot take a file name from the URL ${url}; give one with the fileName option`,
    );
  }
  return name;
}

/** True for http(s):// and file:// URLs; anything else is a local path. */
export function isUrl(source: string): boolean {
  return /^(https?|file):\/\//i.test(source);
}

/** Lower-case hex of a digest. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** The error a download or file whose sha256 does not start with the expected prefix gets. */
export function hashMismatchError(what: string, expectedPrefix: string, actual: string): Error {
  return new Error(
    `invalid hash value for ${what}: expected sha256 starting with "${expectedPrefix}", got "${actual}"; the file was not kept`,
  );
}
