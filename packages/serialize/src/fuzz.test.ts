import { Tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { SerializeError } from './errors.js';
import { loadBytes } from './index.js';
import { fixture, seededRandom } from './test-utils/fixtures.js';
import { ZipArchive } from './zip-reader.js';
import { writeZip } from './zip-writer.js';

const FILES = [
  'state_dict_zip.pth',
  'state_dict_legacy.pth',
  'checkpoint.pth',
  'views.pth',
  'views_legacy.pth',
  'dtypes.pth',
  'dtypes_legacy.pth',
  'parameter.pth',
  'deflated_prefix.pth',
  'model.safetensors',
  'graft-written/checkpoint.pth',
];
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x28, 0x2e, 0x4e, 0x71, 0x68];
const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff, 64, 100_000_001];

function mutate(input: Uint8Array, random: () => number, focus: number): Uint8Array {
  let bytes = input.slice();
  const steps = 1 + Math.floor(random() * 4);
  for (let s = 0; s < steps; s++) {
    // Half the mutations land in the first `focus` bytes, where headers and pickles live.
    const span = random() < 0.5 ? Math.min(focus, bytes.length) : bytes.length;
    const at = Math.floor(random() * Math.max(1, span));
    switch (Math.floor(random() * 7)) {
      case 0:
        if (bytes.length) bytes[at] ^= 1 << Math.floor(random() * 8);
        break;
      case 1:
        if (bytes.length) bytes[at] = INTERESTING[Math.floor(random() * INTERESTING.length)];
        break;
      case 2:
        bytes = bytes.slice(0, at);
        break;
      case 3: {
        const insert = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, () =>
          Math.floor(random() * 256),
        );
        const next = new Uint8Array(bytes.length + insert.length);
        next.set(bytes.subarray(0, at));
        next.set(insert, at);
        next.set(bytes.subarray(at), at + insert.length);
        bytes = next;
        break;
      }
      case 4: {
        const n = 1 + Math.floor(random() * 16);
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + n)]);
        break;
      }
      case 5:
        if (at + 4 <= bytes.length) {
          new DataView(bytes.buffer).setUint32(
            at,
            INTERESTING_U32[Math.floor(random() * INTERESTING_U32.length)],
            true,
          );
        }
        break;
      default: {
        const n = 1 + Math.floor(random() * 32);
        const chunk = bytes.slice(at, at + n);
        const next = new Uint8Array(bytes.length + chunk.length);
        next.set(bytes.subarray(0, at));
        next.set(chunk, at);
        next.set(bytes.subarray(at), at + chunk.length);
        bytes = next;
      }
    }
  }
  return bytes;
}

/** Mutates the pickle inside a zip and rebuilds the archive, so the CRC check does not hide the pickle machine. */
function mutatePickleInZip(input: Uint8Array, random: () => number): Uint8Array {
  const zip = new ZipArchive(input);
  return writeZip(
    zip.names.map((name) => {
      const data = zip.read(name).slice();
      const out = name.endsWith('data.pkl') ? mutate(data, random, data.length) : data;
      return { name, data: out, size: out.length };
    }),
  );
}

type Outcome = 'loaded' | 'error';

function tryLoad(bytes: Uint8Array): Outcome {
  let value: unknown;
  try {
    value = loadBytes(bytes);
  } catch (e) {
    if (!(e instanceof SerializeError))
      throw new Error(`non-SerializeError thrown: ${String(e)}`, { cause: e });
    expect(e.message.length).toBeGreaterThan(10);
    return 'error';
  }
  // Whatever loaded must be readable: every tensor stays inside its storage.
  const seen = new Set<unknown>();
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Tensor) {
      if (v.numel() <= 1_000_000) v.readSync();
    } else if (v instanceof Map) stack.push(...v.keys(), ...v.values());
    else if (!(v instanceof Uint8Array)) stack.push(...Object.values(v));
  }
  return 'loaded';
}

describe('fuzzing', () => {
  it('3000 mutated files each load or fail with a SerializeError, quickly', () => {
    const random = seededRandom(20240601);
    const sources = FILES.map((name) => ({ name, bytes: fixture(name) }));
    const counts: Record<Outcome, number> = { loaded: 0, error: 0 };
    const started = performance.now();
    let slowest = 0;
    for (let i = 0; i < 3000; i++) {
      const src = sources[i % sources.length];
      const isZip = src.bytes[0] === 0x50 && src.bytes[1] === 0x4b;
      const bytes =
        isZip && random() < 0.5 ? mutatePickleInZip(src.bytes, random) : mutate(src.bytes, random, 1024);
      const t0 = performance.now();
      let outcome: Outcome;
      try {
        outcome = tryLoad(bytes);
      } catch (e) {
        throw new Error(`mutation ${i} of ${src.name}: ${(e as Error).message}`, { cause: e });
      }
      counts[outcome]++;
      slowest = Math.max(slowest, performance.now() - t0);
    }
    expect(counts.error).toBeGreaterThan(500);
    expect(counts.loaded).toBeGreaterThan(50);
    expect(slowest).toBeLessThan(1000);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
