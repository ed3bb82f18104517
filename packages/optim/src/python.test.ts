import { describe, expect, it } from 'vitest';
import { formatPythonFloat, formatPythonValue, toCamelCase, toSnakeCase } from './python.js';

describe('formatPythonFloat prints like repr(float) in CPython', () => {
  // Reference: CPython 3.11's repr() of each value.
  const cases: [number, string][] = [
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-5, '1.5e-05'],
    [123456.789, '123456.789'],
    [2.5e-300, '2.5e-300'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [5e-324, '5e-324'],
    [0.1 + 0.2, '0.30000000000000004'],
    [-0.5, '-0.5'],
    [1, '1.0'],
    [100, '100.0'],
    [4e-7, '4e-07'],
    [12345678901234568, '1.2345678901234568e+16'],
    [0.000123, '0.000123'],
    [0, '0.0'],
    [-0, '-0.0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
  ];
  for (const [x, text] of cases) it(`${text}`, () => expect(formatPythonFloat(x)).toBe(text));
});

describe('formatPythonValue', () => {
  it('prints None, True, False, tuples and the int-valued defaults', () => {
    expect(formatPythonValue(null)).toBe('None');
    expect(formatPythonValue(true)).toBe('True');
    expect(formatPythonValue(false)).toBe('False');
    expect(formatPythonValue([0.9, 0.999], 'betas')).toBe('(0.9, 0.999)');
    expect(formatPythonValue([1], 'x')).toBe('(1.0,)');
    expect(formatPythonValue(0, 'weight_decay')).toBe('0');
    expect(formatPythonValue(0, 'momentum')).toBe('0');
    expect(formatPythonValue(1, 'lr')).toBe('1.0');
    expect(formatPythonValue(0.05, 'weight_decay')).toBe('0.05');
    expect(formatPythonValue('head', 'name')).toBe('head');
  });
});

describe('key spelling', () => {
  it('converts between camelCase and snake_case', () => {
    expect(toSnakeCase('weightDecay')).toBe('weight_decay');
    expect(toSnakeCase('initialAccumulatorValue')).toBe('initial_accumulator_value');
    expect(toSnakeCase('lr')).toBe('lr');
    expect(toCamelCase('weight_decay')).toBe('weightDecay');
    expect(toCamelCase('max_momentum')).toBe('maxMomentum');
    expect(toCamelCase(toSnakeCase('lrDecay'))).toBe('lrDecay');
  });
});
