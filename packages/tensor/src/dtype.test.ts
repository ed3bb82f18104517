// Dtypes: float16/bfloat16 conversion against PyTorch's bits (fixtures/dtype.json), casts,
// the int64 storage policy and PyTorch's type promotion.

import { describe, expect, it } from 'vitest';
import { fromTypedArray, ones, tensor } from './creation.js';
import {
  bfloat16ToFloat32,
  type DType,
  decodeBfloat16,
  decodeFloat16,
  encodeBfloat16,
  encodeFloat16,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  storageArrayFor,
} from './dtype.js';
import { loadFixture } from './test-utils/fixtures.js';

interface DtypeFixture {
  float32: number[];
  float16Bits: number[];
  float16Values: (number | string)[];
  bfloat16Bits: number[];
  bfloat16Values: (number | string)[];
  casts: { from: number[]; int32: number[]; int64: number[]; bool: boolean[]; float16: number[] };
  int64: { values: number[]; float64: number[]; float32: number[]; sumTimes2: number[] };
  promotion: Record<string, DType>;
  scalarPromotion: Record<string, DType>;
}

const fx = loadFixture<DtypeFixture>('dtype.json');
const f32 = fx.float32.map((v) =>
  Math.fround(
    typeof v === 'string' ? Number(v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : -Infinity) : v,
  ),
);
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const decodeNum = (v: number | string) =>
  typeof v === 'number' ? v : v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : -Infinity;
/**
 * NaN payloads are not part of the contract: PyTorch's own bfloat16 conversion gives 0x7fc0 on its
 * scalar path and 0xffff on its AVX2 path. NaN inputs only need to give some NaN pattern.
 */
const bitsOrNaN = (bits: number[], isNaNBits: (b: number) => boolean) =>
  bits.map((b, i) => (Number.isNaN(f32[i]) ? (isNaNBits(b) ? 'NaN' : b) : b));
/** Indices where decoded values differ from the fixture's (NaN equals NaN, -0 differs from 0). */
const differing = (actual: ArrayLike<number>, expected: (number | string)[]) =>
  expected.flatMap((e, i) => (same(actual[i], decodeNum(e)) ? [] : [i]));
const halfNaN = (b: number) => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;
const bf16NaN = (b: number) => (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;

describe('float16 and bfloat16 match PyTorch bit for bit', () => {
  it('float32 -> float16 bits (round to nearest even, subnormals, overflow, NaN)', () => {
    expect(bitsOrNaN(f32.map(float32ToFloat16), halfNaN)).toEqual(bitsOrNaN(fx.float16Bits, halfNaN));
  });
  it('float16 bits -> float32', () => {
    expect(differing(fx.float16Bits.map(float16ToFloat32), fx.float16Values)).toEqual([]);
  });
  it('float32 -> bfloat16 bits', () => {
    expect(bitsOrNaN(f32.map(float32ToBfloat16), bf16NaN)).toEqual(bitsOrNaN(fx.bfloat16Bits, bf16NaN));
  });
  it('the bulk decoders and encoders give the same bits and values as PyTorch', () => {
    expect(differing(decodeFloat16(Uint16Array.from(fx.float16Bits)), fx.float16Values)).toEqual([]);
    expect(differing(decodeBfloat16(Uint16Array.from(fx.bfloat16Bits)), fx.bfloat16Values)).toEqual([]);
    expect(bitsOrNaN(Array.from(encodeFloat16(f32)), halfNaN)).toEqual(bitsOrNaN(fx.float16Bits, halfNaN));
    expect(bitsOrNaN(Array.from(encodeBfloat16(f32)), bf16NaN)).toEqual(bitsOrNaN(fx.bfloat16Bits, bf16NaN));
    // Every float16 pattern: the table agrees with the scalar decoder (NaN for NaN).
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const table = decodeFloat16(all);
    expect(Array.from(all).filter((b) => !same(table[b], float16ToFloat32(b)))).toEqual([]);
  });
  it('bfloat16 bits -> float32', () => {
    expect(differing(fx.bfloat16Bits.map(bfloat16ToFloat32), fx.bfloat16Values)).toEqual([]);
    expect(Number.isNaN(bfloat16ToFloat32(0xffff))).toBe(true);
    expect(Number.isNaN(bfloat16ToFloat32(0x7fc0))).toBe(true);
  });
  it('tensors convert through .to() with the same results, and data() decodes', () => {
    const x = tensor(Float32Array.from(f32));
    const h = x.to('float16');
    expect(h.dtype).toBe('float16');
    expect(bitsOrNaN(Array.from(h.readRawSync()), halfNaN)).toEqual(bitsOrNaN(fx.float16Bits, halfNaN));
    const back = h.to('float32').readSync();
    expect(differing(back, fx.float16Values)).toEqual([]);
    expect(differing(h.readSync(), fx.float16Values)).toEqual([]);
    const b = x.to('bfloat16');
    expect(bitsOrNaN(Array.from(b.readRawSync()), bf16NaN)).toEqual(bitsOrNaN(fx.bfloat16Bits, bf16NaN));
    expect(differing(b.to('float32').readSync(), fx.bfloat16Values)).toEqual([]);
    // A view at an offset (decoded straight into the result) and a strided one (the general loop).
    const n = fx.float16Values.length;
    const tail = fx.float16Values.slice(3);
    expect(
      differing(
        h
          .narrow(0, 3, n - 3)
          .to('float32')
          .readSync(),
        tail,
      ),
    ).toEqual([]);
    expect(
      differing(
        b
          .narrow(0, 3, n - 3)
          .float()
          .readSync(),
        fx.bfloat16Values.slice(3),
      ),
    ).toEqual([]);
    const even = fx.float16Values.filter((_, i) => i % 2 === 0);
    const strided = h
      .narrow(0, 0, n - (n % 2))
      .reshape([-1, 2])
      .select(1, 0);
    expect(differing(strided.to('float32').readSync(), even.slice(0, strided.numel()))).toEqual([]);
  });
  it('fromTypedArray wraps raw half bits without copying', () => {
    const bits = Uint16Array.from(fx.float16Bits.slice(0, 4));
    const t = fromTypedArray(bits, [4], 'float16');
    expect(Array.from(t.readSync())).toEqual(fx.float16Values.slice(0, 4).map(decodeNum));
    bits[0] = 0x3c00; // 1.0
    expect(t.readSync()[0]).toBe(1);
  });
});

describe('casts', () => {
  const x = tensor(Float32Array.from(fx.casts.from));
  it('float -> int truncates toward zero as PyTorch does', () => {
    expect(Array.from(x.to('int32').readSync())).toEqual(fx.casts.int32);
    expect(Array.from(x.to('int64').readSync())).toEqual(fx.casts.int64);
    expect(x.int().dtype).toBe('int32');
    expect(x.long().dtype).toBe('int64');
  });
  it('float -> bool is "not zero"', () => {
    expect(x.to('bool').tolistSync()).toEqual(fx.casts.bool);
  });
  it('float -> float16 -> float', () => {
    expect(Array.from(x.half().float().readSync())).toEqual(fx.casts.float16);
  });
  it('bool and int -> float', () => {
    expect(Array.from(tensor([true, false]).float().readSync())).toEqual([1, 0]);
    expect(Array.from(tensor([3, -4]).double().readSync())).toEqual([3, -4]);
    expect(tensor([3, -4]).double().dtype).toBe('float64');
  });
  it('a cast to the same dtype is the same tensor', () => {
    expect(x.to('float32')).toBe(x);
  });
});

describe('int64 policy: JS numbers in a Float64Array, exact up to 2^53', () => {
  it('stores int64 in a Float64Array and keeps every integer up to 2^53 exact', () => {
    const t = tensor(fx.int64.values, { dtype: 'int64' });
    expect(storageArrayFor('int64', 0)).toBeInstanceOf(Float64Array);
    expect(t.readRawSync()).toBeInstanceOf(Float64Array);
    expect(Array.from(t.readSync())).toEqual(fx.int64.values);
    expect(Array.from(t.double().readSync())).toEqual(fx.int64.float64);
    expect(Array.from(t.float().readSync())).toEqual(fx.int64.float32);
    expect(Array.from(t.narrow(0, 0, 5).mul(2).readSync())).toEqual(fx.int64.sumTimes2);
    expect(t.mul(2).dtype).toBe('int64');
  });
  it('integer division and remainder follow Python', () => {
    const a = tensor([7, -7, 7, -7]);
    const b = tensor([2, 2, -2, -2]);
    expect(Array.from(a.floorDivide(b).readSync())).toEqual([3, -4, -4, 3]);
    expect(Array.from(a.remainder(b).readSync())).toEqual([1, 1, -1, -1]);
    expect(a.div(b).dtype).toBe('float32');
    expect(Array.from(a.div(b).readSync())).toEqual([3.5, -3.5, -3.5, 3.5]);
  });
  it('fromTypedArray checks the storage class of the policy', () => {
    expect(() => fromTypedArray(new Int32Array(2), [2], 'int64')).toThrow(
      /int64 is stored in a Float64Array, got Int32Array/,
    );
  });
});

describe('type promotion matches PyTorch', () => {
  it('tensor op tensor (and tensor op 0-d tensor)', () => {
    for (const [key, expected] of Object.entries(fx.promotion)) {
      const [a, rest] = key.split(',');
      const [b, zeroDim] = rest.split(':');
      const ta = ones([2], { dtype: a as DType });
      const tb = zeroDim ? ones([], { dtype: b as DType }) : ones([2], { dtype: b as DType });
      expect(`${key} -> ${ta.add(tb).dtype}`).toBe(`${key} -> ${expected}`);
    }
  });
  it('tensor op Python-style scalar', () => {
    const scalars: Record<string, number | boolean> = { int: 2, float: 2.5, bool: true };
    for (const [key, expected] of Object.entries(fx.scalarPromotion)) {
      const [a, kind] = key.split(',');
      const ta = ones([2], { dtype: a as DType });
      const s = scalars[kind];
      expect(`${key} -> ${ta.add(s as number).dtype}`).toBe(`${key} -> ${expected}`);
    }
  });
});
