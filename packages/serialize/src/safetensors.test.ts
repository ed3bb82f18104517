import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_SIZE,
  parseSafetensors,
  type SafetensorsEntry,
  serializeSafetensors,
} from './safetensors.js';
import { fixture } from './test-utils/fixtures.js';

const enc = new TextEncoder();

/** A safetensors file from a literal header (an object or raw text) and a data length. */
function file(header: unknown, dataLength: number, pad = true): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) while (text.length % 8) text += ' ';
  const h = enc.encode(text);
  const out = new Uint8Array(8 + h.length + dataLength);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  for (let i = 0; i < dataLength; i++) out[8 + h.length + i] = i & 0xff;
  return out;
}

const f32 = (shape: number[], begin: number, end: number) => ({
  dtype: 'F32',
  shape,
  data_offsets: [begin, end],
});

describe('safetensors', () => {
  it('round-trips every dtype with metadata, header padded to 8 bytes', () => {
    const entries = new Map<string, SafetensorsEntry>([
      ['b.f16', { dtype: 'float16', shape: [3], bytes: new Uint8Array([1, 2, 3, 4, 5, 6]) }],
      ['a.f64', { dtype: 'float64', shape: [1], bytes: new Uint8Array(8).fill(9) }],
      ['c.bool', { dtype: 'bool', shape: [2, 1], bytes: new Uint8Array([1, 0]) }],
      ['d.bf16', { dtype: 'bfloat16', shape: [], bytes: new Uint8Array([7, 8]) }],
      ['e.i64', { dtype: 'int64', shape: [1], bytes: new Uint8Array(8).fill(3) }],
      ['f.u8', { dtype: 'uint8', shape: [0, 4], bytes: new Uint8Array(0) }],
      ['g.i8', { dtype: 'int8', shape: [1], bytes: new Uint8Array([250]) }],
      ['h.i16', { dtype: 'int16', shape: [1], bytes: new Uint8Array([1, 2]) }],
      ['i.i32', { dtype: 'int32', shape: [1], bytes: new Uint8Array([1, 2, 3, 4]) }],
      ['j.f32', { dtype: 'float32', shape: [1], bytes: new Uint8Array([1, 2, 3, 4]) }],
    ]);
    const bytes = serializeSafetensors(entries, { format: 'pt' });
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect(headerLength % 8).toBe(0);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    for (const [name, e] of entries) {
      const got = parsed.tensors.get(name);
      expect(got?.dtype, name).toBe(e.dtype);
      expect(got?.shape, name).toEqual(e.shape);
      expect([...(got?.bytes ?? [])], name).toEqual([...e.bytes]);
    }
    // Largest elements first (8-byte types), then by name: aligned data for every dtype.
    expect([...parsed.tensors.keys()].slice(0, 2)).toEqual(['a.f64', 'e.i64']);
  });

  it('reads the PyTorch-side hand-written golden file', () => {
    const parsed = parseSafetensors(fixture('model.safetensors'));
    expect(parsed.tensors.get('float16')?.dtype).toBe('float16');
    expect(parsed.tensors.get('conv')?.shape).toEqual([3, 2, 3, 3]);
  });

  it('accepts an empty file with just {}', () => {
    expect(parseSafetensors(file({}, 0)).tensors.size).toBe(0);
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /shorter than the 8-byte header length/],
    [
      'a header larger than 100 MB',
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setUint32(0, MAX_HEADER_SIZE + 1, true);
        return b;
      })(),
      /header of 100000001 bytes is larger than the 100000000-byte limit/,
    ],
    [
      'a header length past the end (truncated)',
      (() => {
        const b = file({}, 0);
        new DataView(b.buffer).setUint32(0, 64, true);
        return b;
      })(),
      /header length 64 runs past the end of the 16-byte file/,
    ],
    ['bad JSON', file('{"a": ', 0), /header is not valid JSON/],
    ['a header that does not start with {', file('[1, 2]', 0), /header must start with '\{'/],
    ['a header that is JSON but not an object', file('{"a": 1}', 0), /tensor "a" must be an object/],
    [
      'invalid UTF-8',
      file(new TextDecoder('latin1').decode(new Uint8Array([0x7b, 0xff, 0x7d])), 0),
      /invalid UTF-8|not valid JSON/,
    ],
    [
      'unknown dtype',
      file({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 1),
      /unknown dtype "F8_E4M3"/,
    ],
    [
      'a negative shape',
      file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4),
      /shape must be an array of non-negative integers/,
    ],
    [
      'a fractional shape',
      file({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4),
      /shape must be/,
    ],
    [
      'offsets that are not a pair',
      file({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4),
      /data_offsets must be \[begin, end\]/,
    ],
    [
      'size not matching shape and dtype',
      file({ a: f32([2, 2], 0, 12) }, 12),
      /tensor "a" has 12 bytes \(data_offsets \[0, 12\]\) but F32 shape \[2, 2\] needs 16/,
    ],
    [
      'a gap between tensors',
      file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12),
      /tensor "b" .* leaves a gap .* expected it to begin at 4/,
    ],
    [
      'overlapping tensors',
      file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12),
      /tensor "b" .* overlaps the previous tensor/,
    ],
    [
      'offsets that end before they begin',
      file({ a: f32([0], 0, 0), b: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, 4),
      /leaves a gap|end before they begin/,
    ],
    [
      'data missing at the end (truncated)',
      file({ a: f32([4], 0, 16) }, 10),
      /data_offsets end 16 is past the 10 bytes of data/,
    ],
    [
      'extra bytes after the last tensor',
      file({ a: f32([1], 0, 4) }, 8),
      /tensors cover 4 bytes of data but the file holds 8/,
    ],
    [
      '__metadata__ with a non-string value',
      file({ __metadata__: { epoch: 3 } }, 0),
      /__metadata__ value for "epoch" must be a string, got number/,
    ],
    [
      '__metadata__ that is not an object',
      file({ __metadata__: ['x'] }, 0),
      /__metadata__ must be an object of strings/,
    ],
    [
      'a duplicated tensor name leaving a gap',
      file(
        '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
        2,
      ),
      /leaves a gap/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => parseSafetensors(bytes)).toThrow(message);
    });
  }

  it('refuses to write data whose length does not match the shape', () => {
    const entries = new Map<string, SafetensorsEntry>([
      ['x', { dtype: 'float32', shape: [2], bytes: new Uint8Array(4) }],
    ]);
    expect(() => serializeSafetensors(entries)).toThrow(
      /tensor "x" has 4 bytes but float32 shape \[2\] needs 8/,
    );
  });
});
