// A cursor over bytes whose every read is checked against the end, so hostile input can only fail cleanly.

import { SerializeError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly, naming `what` when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SerializeError(`${what}: invalid UTF-8`);
  }
}

export class ByteReader {
  pos: number;
  readonly end: number;
  private readonly view: DataView;

  /** `context` prefixes every error message (for example `pickle data.pkl`). */
  constructor(
    readonly bytes: Uint8Array,
    readonly context: string,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (!(n >= 0) || n > this.end - this.pos) {
      throw new SerializeError(
        `${this.context}: truncated ${what} at byte ${this.pos}: need ${n} bytes, ${this.end - this.pos} left`,
      );
    }
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }

  u16(what = 'uint16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what = 'int32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit little-endian; values past 2^53 cannot index anything here, so they are refused. */
  u64(what = 'uint64'): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    if (hi > 0x1fffff) {
      throw new SerializeError(`${this.context}: ${what} at byte ${this.pos} is larger than 2^53`);
    }
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  /** Signed 64-bit little-endian, exact within +-2^53. */
  i64(what = 'int64'): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getInt32(this.pos + 4, true);
    if (hi > 0x1fffff || hi < -0x200000) {
      throw new SerializeError(`${this.context}: ${what} at byte ${this.pos} is outside +-2^53`);
    }
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  f64be(what = 'float64'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** A view of the next `n` bytes (no copy). */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Bytes up to the next newline (consumed, not returned); refuses lines longer than `maxLength`. */
  line(what: string, maxLength = 4096): Uint8Array {
    const start = this.pos;
    const limit = Math.min(this.end, start + maxLength + 1);
    for (let i = start; i < limit; i++) {
      if (this.bytes[i] === 0x0a) {
        this.pos = i + 1;
        return this.bytes.subarray(start, i);
      }
    }
    if (limit === this.end)
      throw new SerializeError(`${this.context}: truncated ${what} at byte ${start}: no newline`);
    throw new SerializeError(`${this.context}: ${what} at byte ${start} is longer than ${maxLength} bytes`);
  }
}

/** A growable byte buffer for writers. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  u64(v: number): void {
    this.reserve(8);
    this.view.setUint32(this.length, v % 0x100000000, true);
    this.view.setUint32(this.length + 4, Math.floor(v / 0x100000000), true);
    this.length += 8;
  }

  f64be(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, false);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** The written bytes (a view; copy it before writing more if you keep it). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
