// Named kernel parameters (no GPU needed): the generated WGSL struct, packing order and the errors that
// name the kernel and the field.

import { describe, expect, it } from 'vitest';
import { kernel, ParamLayout } from './params.js';

describe('webgpu named parameters', () => {
  it('declares a struct in field order, arrays as array<i32, n>, bound as p at binding 0', () => {
    const layout = new ParamLayout('k', ['n', ['shape', 3], 'XO']);
    expect(layout.words).toBe(5);
    expect(layout.wgsl).toBe(
      'struct Params {\n  n: i32,\n  shape: array<i32, 3>,\n  XO: i32,\n}\n' +
        '@group(0) @binding(0) var<storage, read> p: Params;\n',
    );
  });

  it('packs values by name in declaration order, from the given word', () => {
    const k = kernel('k', ['n', ['shape', 2], 'XO'], () => '');
    const layout = new ParamLayout(k.key, k.params);
    const out = new Int32Array(8).fill(-9);
    // Object key order does not matter: the declaration does.
    layout.pack({ XO: 7, shape: [3, -4], n: 2147483647 }, out, 2);
    expect(Array.from(out)).toEqual([-9, -9, 2147483647, 3, -4, 7, -9, -9]);
  });

  it('names the kernel and the field when a value is missing, misshaped, unknown or not an int32', () => {
    const layout = new ParamLayout('conv2d:float32', ['M', ['S', 2]]);
    const out = new Int32Array(4);
    expect(() => layout.pack({ S: [1, 2] }, out, 0)).toThrow(
      'webgpu: conv2d:float32: parameter M must be a number',
    );
    expect(() => layout.pack({ M: 1, S: [1] }, out, 0)).toThrow(
      'webgpu: conv2d:float32: parameter S must be an array of 2 numbers',
    );
    expect(() => layout.pack({ M: 1, S: [1, 2], Q: 3 }, out, 0)).toThrow(
      'webgpu: conv2d:float32: unknown parameter Q',
    );
    expect(() => layout.pack({ M: 2 ** 31, S: [1, 2] }, out, 0)).toThrow(
      'webgpu: conv2d:float32: parameter M (2147483648) does not fit a 32-bit integer',
    );
    expect(() => layout.pack({ M: 1, S: [1, 0.5] }, out, 0)).toThrow('parameter S[1] (0.5) does not fit');
  });

  it('refuses invalid, repeated and empty declarations', () => {
    expect(() => new ParamLayout('k', ['n', 'n'])).toThrow("parameter name 'n' is invalid or repeated");
    expect(() => new ParamLayout('k', ['2x'])).toThrow("parameter name '2x' is invalid or repeated");
    expect(() => new ParamLayout('k', [['shape', 0]])).toThrow('parameter shape has length 0');
    expect(() => new ParamLayout('k', [])).toThrow('a kernel needs at least one parameter');
  });
});
