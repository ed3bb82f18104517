// CRC-32 (the zip polynomial), table-driven, for writing zip entries and checking the ones we read.

const TABLE = (() => {
  const t = new Uint32Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  // Slicing-by-4 tables: four bytes per step.
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 4; s++)
      t[s * 256 + i] = (t[(s - 1) * 256 + i] >>> 8) ^ t[t[(s - 1) * 256 + i] & 0xff];
  }
  return t;
})();

declare const process: { getBuiltinModule?: (id: string) => unknown } | undefined;

/** Node's zlib.crc32 (Node 20.15 and later; hardware CRC where the CPU has it), else null. */
const native = ((): ((data: Uint8Array, value?: number) => number) | null => {
  try {
    const zlib = typeof process === 'undefined' ? undefined : process.getBuiltinModule?.('node:zlib');
    const f = (zlib as { crc32?: unknown } | undefined)?.crc32;
    return typeof f === 'function' ? (f as (data: Uint8Array, value?: number) => number) : null;
  } catch {
    return null;
  }
})();

/** CRC-32 of `bytes`, continuing from `crc` (start with 0): Node's zlib where it has one, else tables. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (native && bytes.length >= 1024) return native(bytes, crc) >>> 0;
  return crc32Tables(bytes, crc);
}

/** The table-driven CRC-32 (browsers, older Node, short inputs). */
export function crc32Tables(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c =
      TABLE[768 + (c & 0xff)] ^
      TABLE[512 + ((c >>> 8) & 0xff)] ^
      TABLE[256 + ((c >>> 16) & 0xff)] ^
      TABLE[c >>> 24];
  }
  for (; i < n; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
