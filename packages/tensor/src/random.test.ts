// The bulk fills of Generator against its one-draw-at-a-time methods (the reference): the same values
// and the same state afterwards, whatever the length, the pending Box-Muller spare and exact zeros.
import { describe, expect, it } from 'vitest';
import { Generator } from './random.js';

function oneByOne(g: Generator, n: number, draw: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = draw.call(g);
  return out;
}

describe('Generator bulk fills', () => {
  it('fillUniform equals a + (b - a) * random() draw by draw, float64 and float32', () => {
    for (const n of [0, 1, 2, 7, 5000]) {
      const a = new Generator(11);
      const b = new Generator(11);
      const bulk = new Float64Array(n);
      a.fillUniform(bulk, -2, 3);
      const ref = oneByOne(b, n, () => -2 + 5 * b.random());
      expect(Array.from(bulk)).toEqual(Array.from(ref));
      expect(a.getState()).toEqual(b.getState());
      const f32 = new Float32Array(n);
      new Generator(11).fillUniform(f32, -2, 3);
      expect(Array.from(f32)).toEqual(Array.from(Float32Array.from(ref)));
    }
  });

  it('fillNormal equals mean + std * normal() call by call, spare included, across chunk boundaries', () => {
    for (const n of [1, 2, 3, 4095, 4096, 4097, 9001]) {
      const a = new Generator(3);
      const b = new Generator(3);
      // Leave a spare pending first (an odd number of normal() draws), then fill, then draw again.
      a.normal();
      b.normal();
      a.normal();
      b.normal();
      a.normal();
      b.normal();
      const bulk = new Float64Array(n);
      a.fillNormal(bulk, 0.5, 2);
      const ref = oneByOne(b, n, () => 0.5 + 2 * b.normal());
      expect(Array.from(bulk)).toEqual(Array.from(ref));
      expect(a.getState()).toEqual(b.getState());
      expect(a.normal()).toBe(b.normal());
    }
  });

  it('fillNormal redraws an exact 0 as normal() does', () => {
    // State [s0, 0, s0, s3] makes the next two 32-bit outputs 0, so random() returns exactly 0.
    const start = [1, 0, 1, 2, Number.NaN];
    expect(new Generator().setState(start).random()).toBe(0);
    const a = new Generator().setState(start);
    const b = new Generator().setState(start);
    const bulk = new Float64Array(6);
    a.fillNormal(bulk, 0, 1);
    const ref = oneByOne(b, 6, () => b.normal());
    expect(bulk.every(Number.isFinite)).toBe(true);
    expect(Array.from(bulk)).toEqual(Array.from(ref));
    expect(a.getState()).toEqual(b.getState());
  });
});
