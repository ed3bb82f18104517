// Reads zip archives from memory: central directory, ZIP64, stored and deflated entries, data descriptors.
// Stored entries are returned as views of the input, so aligned tensor data is never copied.

import { inflateSync } from 'fflate';
import { ByteReader, decodeUtf8 } from './byte-reader.js';
import { crc32 } from './crc32.js';
import { SerializeError } from './errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the entry's data in the archive. */
  dataOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
/** Deflate cannot expand data by more than about 1032:1, so a larger declared size is a lie (or a bomb). */
const MAX_DEFLATE_RATIO = 1032;

/** True when the bytes start like a zip archive. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  /** Names in central-directory order. */
  readonly names: string[] = [];

  constructor(readonly bytes: Uint8Array) {
    const r = new ByteReader(bytes, 'zip');
    const eocd = findEndOfCentralDirectory(bytes);
    r.pos = eocd + 4;
    const disk = r.u16('disk number');
    const cdDisk = r.u16('central directory disk');
    let count = r.u16('entries on disk');
    r.u16('total entries');
    let cdSize = r.u32('central directory size');
    let cdOffset = r.u32('central directory offset');
    if (disk !== 0 && disk !== 0xffff)
      throw new SerializeError(`zip: multi-disk archives are not supported (disk ${disk})`);
    if (cdDisk !== 0 && cdDisk !== 0xffff)
      throw new SerializeError(`zip: multi-disk archives are not supported (disk ${cdDisk})`);

    const locatorAt = eocd - 20;
    if (locatorAt >= 0 && readU32(bytes, locatorAt) === SIG_ZIP64_LOCATOR) {
      const lr = new ByteReader(bytes, 'zip64 locator', locatorAt + 8);
      const zip64At = lr.u64('zip64 end of central directory offset');
      const zr = new ByteReader(bytes, 'zip64 end of central directory', zip64At);
      const sig = zr.u32('signature');
      if (sig !== SIG_ZIP64_EOCD) {
        throw new SerializeError(
          `zip: zip64 end of central directory at ${zip64At}: bad signature 0x${sig.toString(16)}`,
        );
      }
      zr.u64('record size');
      zr.u16('version made by');
      zr.u16('version needed');
      zr.u32('disk');
      zr.u32('central directory disk');
      zr.u64('entries on disk');
      count = zr.u64('total entries');
      cdSize = zr.u64('central directory size');
      cdOffset = zr.u64('central directory offset');
    }
    if (cdOffset + cdSize > bytes.length) {
      throw new SerializeError(
        `zip: central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the archive's ${bytes.length} bytes`,
      );
    }
    if (count > cdSize / 46)
      throw new SerializeError(`zip: ${count} entries cannot fit in a central directory of ${cdSize} bytes`);

    const cd = new ByteReader(bytes, 'zip central directory', cdOffset, cdOffset + cdSize);
    for (let i = 0; i < count; i++) {
      const at = cd.pos;
      const sig = cd.u32('entry signature');
      if (sig !== SIG_CENTRAL)
        throw new SerializeError(
          `zip: central directory entry ${i} at ${at}: bad signature 0x${sig.toString(16)}`,
        );
      cd.u16('version made by');
      cd.u16('version needed');
      const flags = cd.u16('flags');
      const method = cd.u16('method');
      cd.u32('time and date');
      const crc = cd.u32('crc32');
      let compressedSize = cd.u32('compressed size');
      let size = cd.u32('size');
      const nameLength = cd.u16('name length');
      const extraLength = cd.u16('extra length');
      const commentLength = cd.u16('comment length');
      cd.u16('disk');
      cd.u16('internal attributes');
      cd.u32('external attributes');
      let localOffset = cd.u32('local header offset');
      const name = decodeUtf8(cd.take(nameLength, 'entry name'), `zip: entry ${i} name`);
      const extra = new ByteReader(cd.take(extraLength, 'extra field'), `zip: entry ${name} extra field`);
      cd.take(commentLength, 'comment');
      while (extra.remaining >= 4) {
        const id = extra.u16('extra id');
        const len = extra.u16('extra length');
        const body = new ByteReader(extra.take(len, 'extra body'), `zip: entry ${name} zip64 field`);
        if (id !== 0x0001) continue;
        if (size === 0xffffffff) size = body.u64('size');
        if (compressedSize === 0xffffffff) compressedSize = body.u64('compressed size');
        if (localOffset === 0xffffffff) localOffset = body.u64('local header offset');
      }
      if (flags & 0x1) throw new SerializeError(`zip: entry ${name} is encrypted`);
      if (method !== 0 && method !== 8) {
        throw new SerializeError(
          `zip: entry ${name} uses compression method ${method}; expected 0 (stored) or 8 (deflated)`,
        );
      }
      if (method === 0 && compressedSize !== size) {
        throw new SerializeError(
          `zip: stored entry ${name} has compressed size ${compressedSize} but size ${size}`,
        );
      }
      if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
        throw new SerializeError(
          `zip: deflated entry ${name} claims ${size} bytes from ${compressedSize}, more than deflate can produce`,
        );
      }
      const local = new ByteReader(bytes, `zip: local header of ${name}`, localOffset);
      const localSig = local.u32('signature');
      if (localSig !== SIG_LOCAL)
        throw new SerializeError(
          `zip: local header of ${name} at ${localOffset}: bad signature 0x${localSig.toString(16)}`,
        );
      local.pos = localOffset + 26;
      const localName = local.u16('name length');
      const localExtra = local.u16('extra length');
      const dataOffset = localOffset + 30 + localName + localExtra;
      if (dataOffset + compressedSize > bytes.length) {
        throw new SerializeError(
          `zip: entry ${name} data [${dataOffset}, ${dataOffset + compressedSize}) runs past the archive's ${bytes.length} bytes`,
        );
      }
      if (this.entries.has(name)) throw new SerializeError(`zip: duplicate entry ${name}`);
      this.entries.set(name, { name, method, compressedSize, size, crc32: crc, dataOffset });
      this.names.push(name);
    }
  }

  /** The entry's contents: a view for stored entries, a new array for deflated ones. */
  read(name: string, options: { verifyCrc?: boolean } = {}): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new SerializeError(`zip: no entry named ${name}`);
    const raw = this.bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else {
      // One spare byte: fflate stops silently at the end of `out`, so a longer stream shows up as size + 1.
      const out = new Uint8Array(entry.size + 1);
      try {
        data = inflateSync(raw, { out });
      } catch (e) {
        throw new SerializeError(`zip: entry ${name}: corrupt deflate data (${(e as Error).message})`);
      }
      if (data.length !== entry.size) {
        throw new SerializeError(
          `zip: entry ${name}: inflated to ${data.length} bytes, expected ${entry.size}`,
        );
      }
    }
    if (options.verifyCrc || entry.method !== 0) {
      const actual = crc32(data);
      if (actual !== entry.crc32) {
        throw new SerializeError(
          `zip: entry ${name}: crc32 0x${actual.toString(16)} does not match the recorded 0x${entry.crc32.toString(16)}`,
        );
      }
    }
    return data;
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function findEndOfCentralDirectory(bytes: Uint8Array): number {
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (readU32(bytes, at) === SIG_EOCD) {
      const commentLength = bytes[at + 20] | (bytes[at + 21] << 8);
      if (at + 22 + commentLength === bytes.length) return at;
    }
  }
  throw new SerializeError(
    `zip: no end of central directory record in ${bytes.length} bytes (truncated file?)`,
  );
}
