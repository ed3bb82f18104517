// safetensors, exactly per its spec: an 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}} plus optional string-only __metadata__, then the data,
// packed with no gaps or overlaps. Validation mirrors the reference implementation's errors.

import { decodeUtf8 } from './byte-reader.js';
import { collect, type Encoded } from './chunks.js';
import { DTYPE_FROM_SAFETENSORS, type DType, ELEMENT_SIZE, SAFETENSORS_NAME } from './dtypes.js';
import { SerializeError } from './errors.js';

/** The reference implementation refuses headers above 100 MB. */
export const MAX_HEADER_SIZE = 100_000_000;

/** One tensor of a safetensors file: contiguous little-endian bytes (a view into the file). */
export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  bytes: Uint8Array;
}

/** A tensor to write: its bytes, or a function giving them when the file is written. */
export interface SafetensorsSource {
  dtype: DType;
  shape: number[];
  bytes: Uint8Array | (() => Uint8Array);
}

export interface ParsedSafetensors {
  /** Tensors in file order. */
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

function fail(message: string): never {
  throw new SerializeError(`safetensors: ${message}`);
}

/** True when the bytes start like a safetensors file (header length, then `{`). */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  return hi === 0 && lo > 0 && lo <= bytes.length - 8 && bytes[8] === 0x7b;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and validates a safetensors file; tensor bytes are views of `bytes`. */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  if (bytes.length < 8) fail(`file of ${bytes.length} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerSize = hi * 0x100000000 + lo;
  if (headerSize > MAX_HEADER_SIZE)
    fail(`header of ${headerSize} bytes is larger than the ${MAX_HEADER_SIZE}-byte limit`);
  if (8 + headerSize > bytes.length) {
    fail(`header length ${headerSize} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  }
  const text = decodeUtf8(bytes.subarray(8, 8 + headerSize), 'safetensors: header');
  if (!text.startsWith('{')) fail(`header must start with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail('header must be a JSON object');

  const metadata: Record<string, string> = {};
  const found: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null) continue;
      if (typeof info !== 'object' || info === null || Array.isArray(info))
        fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string')
          fail(`__metadata__ value for ${JSON.stringify(k)} must be a string, got ${typeof v}`);
        Object.defineProperty(metadata, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info))
      fail(`tensor ${JSON.stringify(name)} must be an object`);
    const { dtype: dtypeName, shape, data_offsets: offsets } = info as Record<string, unknown>;
    const dtype = typeof dtypeName === 'string' ? DTYPE_FROM_SAFETENSORS.get(dtypeName) : undefined;
    if (!dtype) {
      fail(
        `tensor ${JSON.stringify(name)} has unknown dtype ${JSON.stringify(dtypeName)}; expected one of ${[...DTYPE_FROM_SAFETENSORS.keys()].join(', ')}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      fail(
        `tensor ${JSON.stringify(name)} shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(
        `tensor ${JSON.stringify(name)} data_offsets must be [begin, end] integers, got ${JSON.stringify(offsets)}`,
      );
    }
    found.push({
      name,
      dtype,
      shape: shape as number[],
      begin: offsets[0] as number,
      end: offsets[1] as number,
    });
  }

  found.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + headerSize;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, SafetensorsEntry>();
  let expectedBegin = 0;
  for (const t of found) {
    const label = `tensor ${JSON.stringify(t.name)}`;
    if (t.begin !== expectedBegin) {
      const kind =
        t.begin < expectedBegin ? 'overlaps the previous tensor' : 'leaves a gap after the previous tensor';
      fail(`${label} data_offsets [${t.begin}, ${t.end}] ${kind}: expected it to begin at ${expectedBegin}`);
    }
    if (t.end < t.begin) fail(`${label} data_offsets [${t.begin}, ${t.end}] end before they begin`);
    let numel = 1;
    for (const n of t.shape) numel *= n;
    const nbytes = numel * ELEMENT_SIZE[t.dtype];
    if (!Number.isSafeInteger(nbytes)) fail(`${label} shape [${t.shape.join(', ')}] overflows`);
    if (t.end - t.begin !== nbytes) {
      fail(
        `${label} has ${t.end - t.begin} bytes (data_offsets [${t.begin}, ${t.end}]) but ${SAFETENSORS_NAME[t.dtype]} shape [${t.shape.join(', ')}] needs ${nbytes}`,
      );
    }
    if (t.end > dataLength)
      fail(`${label} data_offsets end ${t.end} is past the ${dataLength} bytes of data (truncated file?)`);
    tensors.set(t.name, {
      dtype: t.dtype,
      shape: t.shape,
      bytes: bytes.subarray(dataStart + t.begin, dataStart + t.end),
    });
    expectedBegin = t.end;
  }
  if (expectedBegin !== dataLength) {
    fail(`tensors cover ${expectedBegin} bytes of data but the file holds ${dataLength} after the header`);
  }
  return { tensors, metadata };
}

/** Serializes contiguous tensors (largest element size first, then by name, as the reference does). */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsSource>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  return collect(planSafetensors(tensors, metadata));
}

/** `serializeSafetensors` as chunks: a lazy tensor's bytes are produced as they are written. */
export function planSafetensors(
  tensors: ReadonlyMap<string, SafetensorsSource>,
  metadata: Readonly<Record<string, string>> = {},
): Encoded {
  const sorted = [...tensors.entries()].sort(
    ([an, a], [bn, b]) => ELEMENT_SIZE[b.dtype] - ELEMENT_SIZE[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0),
  );
  const parts: string[] = [];
  const metaEntries = Object.entries(metadata);
  if (metaEntries.length) {
    for (const [k, v] of metaEntries) {
      if (typeof v !== 'string')
        fail(`metadata value for ${JSON.stringify(k)} must be a string, got ${typeof v}`);
    }
    parts.push(
      `"__metadata__":{${metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
    );
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const [name, t] of sorted) {
    if (name === '__metadata__') fail('a tensor cannot be named __metadata__');
    let numel = 1;
    for (const n of t.shape) numel *= n;
    const nbytes = numel * ELEMENT_SIZE[t.dtype];
    if (typeof t.bytes !== 'function') checkLength(name, t, t.bytes, nbytes);
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${SAFETENSORS_NAME[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + nbytes}]}`,
    );
    sizes.push(nbytes);
    offset += nbytes;
  }
  const text = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(text.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8);
  const view = new DataView(head.buffer);
  view.setUint32(0, padded % 0x100000000, true);
  view.setUint32(4, Math.floor(padded / 0x100000000), true);
  head.set(text, 8);
  return {
    size: head.length + offset,
    emit(sink) {
      sink(head);
      sorted.forEach(([name, t], i) => {
        const bytes = typeof t.bytes === 'function' ? t.bytes() : t.bytes;
        checkLength(name, t, bytes, sizes[i]);
        sink(bytes);
      });
    },
  };
}

function checkLength(name: string, t: SafetensorsSource, bytes: Uint8Array, nbytes: number): void {
  if (bytes.length !== nbytes) {
    fail(
      `tensor ${JSON.stringify(name)} has ${bytes.length} bytes but ${t.dtype} shape [${t.shape.join(', ')}] needs ${nbytes}`,
    );
  }
}
