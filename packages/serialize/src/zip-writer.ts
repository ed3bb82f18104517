// Writes an uncompressed zip whose entry data starts on 64-byte boundaries, the way torch.save lays
// out its archives (padding lives in an "FB" extra field), so readers can view tensors in place.

import { type ByteSink, collect, type Encoded } from './chunks.js';
import { crc32 } from './crc32.js';
import { SerializeError } from './errors.js';

export interface ZipInput {
  name: string;
  /** The contents, or a function returning them (called once, while the archive is written, so big inputs need not all exist at once). */
  data: Uint8Array | (() => Uint8Array);
  /** Byte length of the contents. */
  size: number;
}

const ALIGNMENT = 64;
const U32_LIMIT = 0xffffffff;
const DOS_DATE_1980_01_01 = 0x21;
const utf8 = new TextEncoder();

interface Planned {
  name: Uint8Array;
  input: ZipInput;
  size: number;
  crc: number;
  offset: number;
  localExtra: Uint8Array;
  zip64Size: boolean;
  zip64Offset: boolean;
}

/** Lays out the archive; its bytes come out chunk by chunk. `forceZip64` writes ZIP64 fields even when not needed (for tests). */
export function planZip(inputs: readonly ZipInput[], options: { forceZip64?: boolean } = {}): Encoded {
  const force = options.forceZip64 === true;
  const seen = new Set<string>();
  const planned: Planned[] = [];
  let offset = 0;
  for (const input of inputs) {
    if (seen.has(input.name)) throw new SerializeError(`zip: duplicate entry name ${input.name}`);
    seen.add(input.name);
    const name = utf8.encode(input.name);
    if (name.length > 0xffff)
      throw new SerializeError(`zip: entry name of ${name.length} bytes is longer than 65535`);
    const zip64Size = force || input.size >= U32_LIMIT;
    const zip64Offset = force || offset >= U32_LIMIT;
    const zip64Length = zip64Size ? 20 : 0;
    // Pad with an FB field so the data lands on a 64-byte boundary (always at least its 4-byte header).
    const before = offset + 30 + name.length + zip64Length + 4;
    const pad = (ALIGNMENT - (before % ALIGNMENT)) % ALIGNMENT;
    const localExtra = new Uint8Array(zip64Length + 4 + pad);
    const ev = new DataView(localExtra.buffer);
    if (zip64Size) {
      ev.setUint16(0, 0x0001, true);
      ev.setUint16(2, 16, true);
      setU64(ev, 4, input.size);
      setU64(ev, 12, input.size);
    }
    localExtra[zip64Length] = 0x46; // 'F'
    localExtra[zip64Length + 1] = 0x42; // 'B'
    ev.setUint16(zip64Length + 2, pad, true);
    localExtra.fill(0x5a, zip64Length + 4); // 'Z', as torch pads
    planned.push({ name, input, size: input.size, crc: 0, offset, localExtra, zip64Size, zip64Offset });
    offset += 30 + name.length + localExtra.length + input.size;
  }

  const centralStart = offset;
  let centralSize = 0;
  for (const p of planned) centralSize += 46 + p.name.length + centralZip64Length(p);
  const total = centralStart + centralSize + 56 + 20 + 22;
  if (total > Number.MAX_SAFE_INTEGER) throw new SerializeError('zip: archive larger than 2^53 bytes');

  return {
    size: total,
    emit: (sink) => emitZip(planned, centralStart, centralSize, sink),
  };
}

/** Builds the archive in one buffer; `forceZip64` writes ZIP64 fields even when not needed (for tests). */
export function writeZip(inputs: readonly ZipInput[], options: { forceZip64?: boolean } = {}): Uint8Array {
  return collect(planZip(inputs, options));
}

function emitZip(planned: Planned[], centralStart: number, centralSize: number, sink: ByteSink): void {
  for (const p of planned) {
    const data = typeof p.input.data === 'function' ? p.input.data() : p.input.data;
    if (data.length !== p.size) {
      throw new SerializeError(
        `zip: entry ${p.input.name} produced ${data.length} bytes, expected ${p.size}`,
      );
    }
    p.crc = crc32(data);
    const head = new Uint8Array(30 + p.name.length + p.localExtra.length);
    const view = new DataView(head.buffer);
    view.setUint32(0, 0x04034b50, true);
    view.setUint16(4, p.zip64Size ? 45 : 20, true);
    view.setUint16(6, 0, true);
    view.setUint16(8, 0, true);
    view.setUint16(10, 0, true);
    view.setUint16(12, DOS_DATE_1980_01_01, true);
    view.setUint32(14, p.crc, true);
    view.setUint32(18, p.zip64Size ? U32_LIMIT : p.size, true);
    view.setUint32(22, p.zip64Size ? U32_LIMIT : p.size, true);
    view.setUint16(26, p.name.length, true);
    view.setUint16(28, p.localExtra.length, true);
    head.set(p.name, 30);
    head.set(p.localExtra, 30 + p.name.length);
    sink(head);
    sink(data);
  }

  const out = new Uint8Array(centralSize + 56 + 20 + 22);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of planned) {
    const extraLength = centralZip64Length(p);
    view.setUint32(at, 0x02014b50, true);
    view.setUint16(at + 4, p.zip64Size || p.zip64Offset ? 45 : 20, true);
    view.setUint16(at + 6, p.zip64Size || p.zip64Offset ? 45 : 20, true);
    view.setUint16(at + 8, 0, true);
    view.setUint16(at + 10, 0, true);
    view.setUint16(at + 12, 0, true);
    view.setUint16(at + 14, DOS_DATE_1980_01_01, true);
    view.setUint32(at + 16, p.crc, true);
    view.setUint32(at + 20, p.zip64Size ? U32_LIMIT : p.size, true);
    view.setUint32(at + 24, p.zip64Size ? U32_LIMIT : p.size, true);
    view.setUint16(at + 28, p.name.length, true);
    view.setUint16(at + 30, extraLength, true);
    view.setUint16(at + 32, 0, true);
    view.setUint16(at + 34, 0, true);
    view.setUint16(at + 36, 0, true);
    view.setUint32(at + 38, 0, true);
    view.setUint32(at + 42, p.zip64Offset ? U32_LIMIT : p.offset, true);
    at += 46;
    out.set(p.name, at);
    at += p.name.length;
    if (extraLength) {
      view.setUint16(at, 0x0001, true);
      view.setUint16(at + 2, extraLength - 4, true);
      let f = at + 4;
      if (p.zip64Size) {
        setU64(view, f, p.size);
        setU64(view, f + 8, p.size);
        f += 16;
      }
      if (p.zip64Offset) setU64(view, f, p.offset);
      at += extraLength;
    }
  }

  // ZIP64 end of central directory, its locator, then the classic record (torch writes all three).
  const zip64At = centralStart + at;
  view.setUint32(at, 0x06064b50, true);
  setU64(view, at + 4, 44);
  view.setUint16(at + 12, 45, true);
  view.setUint16(at + 14, 45, true);
  view.setUint32(at + 16, 0, true);
  view.setUint32(at + 20, 0, true);
  setU64(view, at + 24, planned.length);
  setU64(view, at + 32, planned.length);
  setU64(view, at + 40, centralSize);
  setU64(view, at + 48, centralStart);
  at += 56;
  view.setUint32(at, 0x07064b50, true);
  view.setUint32(at + 4, 0, true);
  setU64(view, at + 8, zip64At);
  view.setUint32(at + 16, 1, true);
  at += 20;
  view.setUint32(at, 0x06054b50, true);
  view.setUint16(at + 4, 0, true);
  view.setUint16(at + 6, 0, true);
  view.setUint16(at + 8, Math.min(planned.length, 0xffff), true);
  view.setUint16(at + 10, Math.min(planned.length, 0xffff), true);
  view.setUint32(at + 12, Math.min(centralSize, U32_LIMIT), true);
  view.setUint32(at + 16, Math.min(centralStart, U32_LIMIT), true);
  view.setUint16(at + 20, 0, true);
  sink(out);
}

function centralZip64Length(p: Planned): number {
  const fields = (p.zip64Size ? 2 : 0) + (p.zip64Offset ? 1 : 0);
  return fields ? 4 + 8 * fields : 0;
}

function setU64(view: DataView, at: number, v: number): void {
  view.setUint32(at, v % 0x100000000, true);
  view.setUint32(at + 4, Math.floor(v / 0x100000000), true);
}
