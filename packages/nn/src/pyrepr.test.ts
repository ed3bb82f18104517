import { describe, expect, it } from 'vitest';
import { addIndent, pyFloat, pyTuple, pyValue, torchSize } from './pyrepr.js';

describe("Python's spelling of values", () => {
  it('pyFloat equals repr(float) (reference strings from CPython)', () => {
    const ref: [number, string][] = [
      [1e-5, '1e-05'],
      [0.1, '0.1'],
      [1.0, '1.0'],
      [1e16, '1e+16'],
      [123456789012345.6, '123456789012345.6'],
      [0.0001, '0.0001'],
      [0.00012, '0.00012'],
      [1.5e-7, '1.5e-07'],
      [-2.5, '-2.5'],
      [1e22, '1e+22'],
      [5e-324, '5e-324'],
      [0.3, '0.3'],
      [100.0, '100.0'],
      [1234567890123456.0, '1234567890123456.0'],
      [1.2345678901234568e16, '1.2345678901234568e+16'],
      [-0, '-0.0'],
      [0, '0.0'],
      [9.5367431640625e-7, '9.5367431640625e-07'],
      [1 / 3, '0.3333333333333333'],
      [0.001, '0.001'],
      [0.00015000000000000001, '0.00015000000000000001'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [Number.NaN, 'nan'],
    ];
    for (const [v, s] of ref) expect(pyFloat(v), String(v)).toBe(s);
  });

  it('tuples, None, booleans, torch.Size and indentation', () => {
    expect(pyTuple([5, 5])).toBe('(5, 5)');
    expect(pyTuple([10])).toBe('(10,)');
    expect(pyTuple([null, 7])).toBe('(None, 7)');
    expect(pyValue(true)).toBe('True');
    expect(pyValue(null)).toBe('None');
    expect(pyValue([1, 2])).toBe('(1, 2)');
    expect(torchSize([1000, 512])).toBe('torch.Size([1000, 512])');
    expect(torchSize([])).toBe('torch.Size([])');
    expect(addIndent('A(\n  (x): B()\n)', 2)).toBe('A(\n    (x): B()\n  )');
    expect(addIndent('B()', 2)).toBe('B()');
  });
});
