import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Tables } from './crc32.js';
import { fixture } from './test-utils/fixtures.js';
import { looksLikeZip, ZipArchive } from './zip-reader.js';
import { writeZip } from './zip-writer.js';

const enc = new TextEncoder();
const entry = (name: string, text: string) => {
  const data = enc.encode(text);
  return { name, data, size: data.length };
};

/** A minimal zip with one deflated entry, written field by field. */
function deflatedZip(
  name: string,
  content: Uint8Array,
  options: { lieSize?: number; crc?: number; method?: number; flags?: number } = {},
): Uint8Array {
  const comp = deflateSync(content);
  const n = enc.encode(name);
  const out = new Uint8Array(30 + n.length + comp.length + 46 + n.length + 22);
  const v = new DataView(out.buffer);
  const method = options.method ?? 8;
  const crc = options.crc ?? crc32(content);
  const size = options.lieSize ?? content.length;
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(6, options.flags ?? 0, true);
  v.setUint16(8, method, true);
  v.setUint32(14, crc, true);
  v.setUint32(18, comp.length, true);
  v.setUint32(22, size, true);
  v.setUint16(26, n.length, true);
  out.set(n, 30);
  out.set(comp, 30 + n.length);
  const cd = 30 + n.length + comp.length;
  v.setUint32(cd, 0x02014b50, true);
  v.setUint16(cd + 8, options.flags ?? 0, true);
  v.setUint16(cd + 10, method, true);
  v.setUint32(cd + 16, crc, true);
  v.setUint32(cd + 20, comp.length, true);
  v.setUint32(cd + 24, size, true);
  v.setUint16(cd + 28, n.length, true);
  out.set(n, cd + 46);
  const eocd = cd + 46 + n.length;
  v.setUint32(eocd, 0x06054b50, true);
  v.setUint16(eocd + 8, 1, true);
  v.setUint16(eocd + 10, 1, true);
  v.setUint32(eocd + 12, 46 + n.length, true);
  v.setUint32(eocd + 16, cd, true);
  return out;
}

describe('zip', () => {
  it('writes 64-byte aligned stored entries that read back as views', () => {
    const bytes = writeZip([
      entry('a/data.pkl', 'x'),
      entry('a/data/0', 'hello'),
      { name: 'a/lazy', data: () => enc.encode('later'), size: 5 },
    ]);
    expect(looksLikeZip(bytes)).toBe(true);
    const zip = new ZipArchive(bytes);
    expect(zip.names).toEqual(['a/data.pkl', 'a/data/0', 'a/lazy']);
    for (const name of zip.names)
      expect(zip.entries.get(name)?.dataOffset, name).toSatisfy((o: number) => o % 64 === 0);
    const data = zip.read('a/data/0', { verifyCrc: true });
    expect(new TextDecoder().decode(data)).toBe('hello');
    expect(data.buffer).toBe(bytes.buffer);
    expect(new TextDecoder().decode(zip.read('a/lazy', { verifyCrc: true }))).toBe('later');
  });

  it('reads and writes ZIP64 fields', () => {
    const bytes = writeZip([entry('z/one', 'abc'), entry('z/two', 'defg')], { forceZip64: true });
    const zip = new ZipArchive(bytes);
    expect(new TextDecoder().decode(zip.read('z/two', { verifyCrc: true }))).toBe('defg');
    expect(zip.entries.get('z/one')?.size).toBe(3);
  });

  it('reads torch.save archives (data descriptors, zip64 end records)', () => {
    const zip = new ZipArchive(fixture('state_dict_zip.pth'));
    expect(zip.names[0]).toBe('state_dict_zip/data.pkl');
    expect(new TextDecoder().decode(zip.read('state_dict_zip/version', { verifyCrc: true }))).toBe('3\n');
  });

  it('inflates deflated entries and checks their CRC', () => {
    const content = enc.encode('deflate me '.repeat(50));
    expect(new ZipArchive(deflatedZip('d', content)).read('d')).toEqual(content);
    expect(() => new ZipArchive(deflatedZip('d', content, { crc: 1234 })).read('d')).toThrow(
      /crc32 0x[0-9a-f]+ does not match the recorded 0x4d2/,
    );
    expect(() =>
      new ZipArchive(deflatedZip('d', content, { lieSize: content.length - 1 })).read('d'),
    ).toThrow(/inflated to \d+ bytes, expected 549/);
    expect(() =>
      new ZipArchive(deflatedZip('d', content, { lieSize: content.length + 1 })).read('d'),
    ).toThrow(/inflated to 550 bytes, expected 551/);
  });

  it('refuses a declared size that deflate could never produce', () => {
    expect(() => new ZipArchive(deflatedZip('d', enc.encode('x'), { lieSize: 2_000_000_000 }))).toThrow(
      /more than deflate can produce/,
    );
  });

  it('refuses other methods and encryption', () => {
    expect(() => new ZipArchive(deflatedZip('d', enc.encode('x'), { method: 12 }))).toThrow(
      /compression method 12; expected 0 \(stored\) or 8 \(deflated\)/,
    );
    expect(() => new ZipArchive(deflatedZip('d', enc.encode('x'), { flags: 1 }))).toThrow(
      /entry d is encrypted/,
    );
  });

  it('fails cleanly on truncation and corruption', () => {
    const bytes = writeZip([entry('a/x', 'hello world')]);
    expect(() => new ZipArchive(bytes.subarray(0, bytes.length - 10))).toThrow(
      /no end of central directory record/,
    );
    expect(() => new ZipArchive(bytes.subarray(0, 10))).toThrow(/no end of central directory record/);
    const badLocal = bytes.slice();
    badLocal[0] = 0;
    expect(() => new ZipArchive(badLocal)).toThrow(/local header of a\/x at 0: bad signature/);
    const corrupt = bytes.slice();
    corrupt[64] ^= 0xff;
    expect(() => new ZipArchive(corrupt).read('a/x', { verifyCrc: true })).toThrow(/crc32/);
    expect(() => writeZip([entry('a', '1'), entry('a', '2')])).toThrow(/duplicate entry name a/);
    expect(() => new ZipArchive(bytes).read('nope')).toThrow(/no entry named nope/);
  });

  it('computes standard CRC-32', () => {
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('Node’s zlib CRC (long inputs) and the tables agree, whole and continued', () => {
    const data = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 2654435761) >>> 24);
    const whole = crc32Tables(data);
    expect(crc32(data)).toBe(whole);
    expect(crc32(data.subarray(50_000), crc32(data.subarray(0, 50_000)))).toBe(whole);
    expect(crc32Tables(enc.encode('123456789'))).toBe(0xcbf43926);
  });
});
