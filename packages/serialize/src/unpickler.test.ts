import { describe, expect, it } from 'vitest';
import { SerializeError } from './errors.js';
import { OP } from './pickle-opcodes.js';
import { pickle } from './pickler.js';
import { isOrderedDict, pyAttributes, pyFloat } from './python-value.js';
import { type StorageRef, type TensorRecord, unpickle } from './unpickler.js';

/** Assembles a pickle from opcodes, raw bytes and ASCII text. */
function asm(...parts: (number | string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const str = (s: string) => {
  const b = new TextEncoder().encode(s);
  return [OP.BINUNICODE, ...u32(b.length), ...b];
};

const load = (bytes: Uint8Array) => unpickle(bytes, { context: 'test' }).toJs(() => null);
const loadTensors = (bytes: Uint8Array) =>
  unpickle<StorageRef>(bytes, { context: 'test', loadStorage: (ref) => ref }).toJs(
    (r: TensorRecord<StorageRef>) => r,
  );

const noTensors = { tensorSource: () => undefined };
const roundTrip = (v: unknown) => load(pickle(v, noTensors).pickle);

describe('unpickler', () => {
  it('reads scalars of every encoding', () => {
    expect(load(asm(OP.PROTO, 2, OP.NONE, OP.STOP))).toBe(null);
    expect(load(asm(OP.NEWTRUE, OP.STOP))).toBe(true);
    expect(load(asm(OP.BININT1, 200, OP.STOP))).toBe(200);
    expect(load(asm(OP.BININT2, 0x34, 0x12, OP.STOP))).toBe(0x1234);
    expect(load(asm(OP.BININT, 0xfe, 0xff, 0xff, 0xff, OP.STOP))).toBe(-2);
    expect(load(asm(OP.LONG1, 2, 0xff, 0x00, OP.STOP))).toBe(255);
    expect(load(asm(OP.LONG1, 1, 0xff, OP.STOP))).toBe(-1);
    expect(load(asm(OP.LONG1, 0, OP.STOP))).toBe(0);
    expect(load(asm(OP.LONG1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, OP.STOP))).toBe(2n ** 64n);
    expect(load(asm(OP.LONG4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, OP.STOP))).toBe(-(2n ** 63n));
    expect(load(asm(OP.INT, '-17\n', OP.STOP))).toBe(-17);
    expect(load(asm(OP.INT, '01\n', OP.STOP))).toBe(true);
    expect(load(asm(OP.LONG, '123456789012345678901234567890L\n', OP.STOP))).toBe(
      123456789012345678901234567890n,
    );
    expect(load(asm(OP.FLOAT, '2.5\n', OP.STOP))).toBe(2.5);
    expect(load(asm(OP.BINFLOAT, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, OP.STOP))).toBe(1.5);
    expect(load(asm(OP.SHORT_BINUNICODE, 2, 'hi', OP.STOP))).toBe('hi');
    expect(load(asm(...str('héllo'), OP.STOP))).toBe('héllo');
    expect(load(asm(OP.SHORT_BINSTRING, 3, 'abc', OP.STOP))).toBe('abc');
    expect(load(asm(OP.SHORT_BINBYTES, 2, [1, 2], OP.STOP))).toEqual(new Uint8Array([1, 2]));
    expect(load(asm(OP.BINBYTES, ...u32(1), [9], OP.STOP))).toEqual(new Uint8Array([9]));
    // Protocol 2 spells bytes as _codecs.encode(latin1 text, 'latin1').
    expect(
      load(
        asm(
          OP.GLOBAL,
          '_codecs\nencode\n',
          OP.SHORT_BINUNICODE,
          2,
          [0xc3, 0xbf],
          OP.SHORT_BINUNICODE,
          6,
          'latin1',
          OP.TUPLE2,
          OP.REDUCE,
          OP.STOP,
        ),
      ),
    ).toEqual(new Uint8Array([255]));
  });

  it('builds containers with protocol 0-4 opcodes, frames and memo', () => {
    expect(
      load(
        asm(
          OP.PROTO,
          4,
          OP.FRAME,
          9,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          OP.EMPTY_LIST,
          OP.MEMOIZE,
          OP.MARK,
          OP.BININT1,
          1,
          OP.BININT1,
          2,
          OP.APPENDS,
          OP.STOP,
        ),
      ),
    ).toEqual([1, 2]);
    expect(load(asm(OP.MARK, OP.BININT1, 1, OP.LIST, OP.STOP))).toEqual([1]);
    expect(load(asm(OP.MARK, ...str('a'), OP.BININT1, 1, OP.DICT, OP.STOP))).toEqual({ a: 1 });
    expect(
      load(
        asm(OP.SHORT_BINUNICODE, 1, 'x', OP.PUT, '7\n', OP.POP, OP.GET, '7\n', OP.DUP, OP.TUPLE2, OP.STOP),
      ),
    ).toEqual(['x', 'x']);
    expect(load(asm(OP.SHORT_BINUNICODE, 1, 'm', OP.SHORT_BINUNICODE, 11, 'OrderedDict', OP.STOP))).toBe(
      'OrderedDict',
    );
    const od = load(
      asm(
        OP.SHORT_BINUNICODE,
        11,
        'collections',
        OP.SHORT_BINUNICODE,
        11,
        'OrderedDict',
        OP.STACK_GLOBAL,
        OP.EMPTY_TUPLE,
        OP.NEWOBJ,
        OP.STOP,
      ),
    );
    expect(isOrderedDict(od as object)).toBe(true);
    expect(load(asm(OP.MARK, OP.BININT1, 1, OP.POP_MARK, OP.NONE, OP.STOP))).toBe(null);
  });

  it('keeps shared objects shared and survives cycles', () => {
    // l = []; l.append(l); [l, l]
    const v = load(
      asm(OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND, OP.BINGET, 0, OP.TUPLE2, OP.STOP),
    ) as unknown[][];
    expect(v[0]).toBe(v[1]);
    expect(v[0][0]).toBe(v[0]);
  });

  it('maps dicts with non-string keys to Maps and tuples to frozen arrays', () => {
    const v = load(
      asm(
        OP.EMPTY_DICT,
        OP.MARK,
        OP.BININT1,
        0,
        ...str('a'),
        OP.BININT1,
        1,
        OP.EMPTY_TUPLE,
        OP.SETITEMS,
        OP.STOP,
      ),
    );
    expect(v).toEqual(
      new Map<number, unknown>([
        [0, 'a'],
        [1, []],
      ]),
    );
    expect(Object.isFrozen((v as Map<number, unknown>).get(1))).toBe(true);
  });

  it('stores OrderedDict attributes set by BUILD apart from the keys', () => {
    const bytes = asm(
      OP.GLOBAL,
      'collections\nOrderedDict\n',
      OP.EMPTY_TUPLE,
      OP.REDUCE,
      ...str('w'),
      OP.BININT1,
      1,
      OP.SETITEM,
      OP.EMPTY_DICT,
      ...str('_metadata'),
      OP.EMPTY_DICT,
      OP.SETITEM,
      OP.BUILD,
      OP.STOP,
    );
    const v = load(bytes) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['w']);
    // A state dict's _metadata comes back as a Map (its order kept) and as the non-enumerable v._metadata.
    expect(pyAttributes(v)).toEqual({ _metadata: new Map() });
    expect(Object.keys(v as object)).not.toContain('_metadata');
    expect((v as { _metadata: unknown })._metadata).toBe(pyAttributes(v)?._metadata);
  });

  it('builds tensor records from _rebuild_tensor_v2 and parameters', () => {
    const pid = [
      OP.MARK,
      ...str('storage'),
      OP.GLOBAL,
      ...'torch\nHalfStorage\n'.split('').map((c) => c.charCodeAt(0)),
      ...str('0'),
      ...str('cpu'),
      OP.BININT1,
      6,
      OP.TUPLE,
      OP.BINPERSID,
    ];
    const tensor = [
      OP.GLOBAL,
      ...'torch._utils\n_rebuild_tensor_v2\n'.split('').map((c) => c.charCodeAt(0)),
      OP.MARK,
      ...pid,
      OP.BININT1,
      1,
      OP.BININT1,
      2,
      OP.BININT1,
      2,
      OP.TUPLE2,
      OP.BININT1,
      1,
      OP.BININT1,
      3,
      OP.TUPLE2,
      OP.NEWFALSE,
      OP.NONE,
      OP.TUPLE,
      OP.REDUCE,
    ];
    const rec = loadTensors(
      asm(
        OP.GLOBAL,
        'torch._utils\n_rebuild_parameter\n',
        ...tensor,
        OP.NEWTRUE,
        OP.NONE,
        OP.TUPLE3,
        OP.REDUCE,
        OP.STOP,
      ),
    ) as unknown as TensorRecord<StorageRef>;
    expect(rec.dtype).toBe('float16');
    expect(rec.shape).toEqual([2, 2]);
    expect(rec.strides).toEqual([1, 3]);
    expect(rec.storageOffset).toBe(1);
    expect(rec.requiresGrad).toBe(true);
    expect(rec.storage.key).toBe('0');
    expect(rec.storage.numel).toBe(6);
    // Offset 1 + (2-1)*1 + (2-1)*3 = 5 < 6 fits; one more element does not.
    const tooFar = asm(
      OP.GLOBAL,
      'torch._utils\n_rebuild_parameter\n',
      ...tensor,
      OP.NEWTRUE,
      OP.NONE,
      OP.TUPLE3,
      OP.REDUCE,
      OP.STOP,
    );
    tooFar[tooFar.indexOf(OP.BINPERSID) + 2] = 2;
    expect(() => loadTensors(tooFar)).toThrow(/reaches element 6, past the storage's 6/);
  });

  const refusals: [string, Uint8Array, RegExp][] = [
    [
      'os.system',
      asm(OP.GLOBAL, 'os\nsystem\n', ...str('echo hi'), OP.TUPLE1, OP.REDUCE, OP.STOP),
      /refusing to load global os\.system/,
    ],
    [
      'builtins.eval',
      asm(
        OP.PROTO,
        4,
        OP.SHORT_BINUNICODE,
        8,
        'builtins',
        OP.SHORT_BINUNICODE,
        4,
        'eval',
        OP.STACK_GLOBAL,
        OP.STOP,
      ),
      /refusing to load global builtins\.eval/,
    ],
    [
      'a class through INST',
      asm(OP.MARK, OP.INST, 'os\nsystem\n', OP.STOP),
      /INST \(0x69\).*instantiating classes is not allowed/,
    ],
    ['an extension code', asm(OP.EXT1, 1, OP.STOP), /extension registry codes are not allowed/],
    ['a set', asm(OP.EMPTY_SET, OP.STOP), /sets are not supported/],
    ['a call of a non-callable', asm(OP.BININT1, 1, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP), /cannot call a int/],
    [
      'a storage called as a function',
      asm(OP.GLOBAL, 'torch\nFloatStorage\n', OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP),
      /calling torch\.FloatStorage is not supported/,
    ],
    [
      'a persistent id without a loader',
      asm(OP.NONE, OP.BINPERSID, OP.STOP),
      /persistent ids are not allowed here/,
    ],
    [
      'BUILD on a list',
      asm(OP.EMPTY_LIST, OP.EMPTY_DICT, OP.BUILD, OP.STOP),
      /BUILD is only supported on dicts and tensors, got list/,
    ],
    ['APPEND to a tuple', asm(OP.EMPTY_TUPLE, OP.NONE, OP.APPEND, OP.STOP), /APPEND needs a list, got tuple/],
    [
      'a list as a dict key',
      asm(OP.EMPTY_DICT, OP.EMPTY_LIST, OP.NONE, OP.SETITEM, OP.STOP),
      /unhashable dict key of type list/,
    ],
    [
      'a bare global as the result',
      asm(OP.GLOBAL, 'collections\nOrderedDict\n', OP.STOP),
      /bare global collections\.OrderedDict/,
    ],
  ];
  for (const [what, bytes, message] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => load(bytes)).toThrow(message);
    });
  }

  const malformed: [string, Uint8Array, RegExp][] = [
    ['an empty input', asm(), /truncated opcode at byte 0/],
    ['a missing STOP', asm(OP.NONE), /truncated opcode at byte 1/],
    ['a stack underflow', asm(OP.APPEND, OP.STOP), /APPEND \(0x61\) at byte 0: stack underflow/],
    ['STOP on an empty stack', asm(OP.STOP), /stack underflow/],
    ['a pop below a MARK', asm(OP.NONE, OP.MARK, OP.TUPLE1, OP.STOP), /stack underflow/],
    ['a MARK left open', asm(OP.MARK, OP.NONE, OP.STOP), /1 MARK\(s\) left open/],
    ['SETITEMS without a MARK', asm(OP.EMPTY_DICT, OP.SETITEMS, OP.STOP), /no MARK on the stack/],
    ['an odd SETITEMS', asm(OP.EMPTY_DICT, OP.MARK, OP.NONE, OP.SETITEMS, OP.STOP), /odd number of items/],
    ['a memo miss', asm(OP.BINGET, 5, OP.STOP), /memo entry 5 was never stored/],
    [
      'a string longer than the input',
      asm(OP.BINUNICODE, ...u32(0xffffffff), 'ab'),
      /truncated BINUNICODE at byte 5: need 4294967295 bytes, 2 left/,
    ],
    ['an 8-byte length past 2^53', asm(OP.BINUNICODE8, 0, 0, 0, 0, 0, 0, 0, 0xff), /larger than 2\^53/],
    ['invalid UTF-8', asm(OP.SHORT_BINUNICODE, 1, [0xff], OP.STOP), /invalid UTF-8/],
    ['a GLOBAL line without newline', asm(OP.GLOBAL, 'os'), /truncated GLOBAL module at byte 1: no newline/],
    ['a huge integer', asm(OP.LONG4, ...u32(5000), OP.STOP), /integer of 5000 bytes is longer than 1024/],
    ['a negative LONG4 length', asm(OP.LONG4, ...u32(0xffffffff), OP.STOP), /negative LONG4 length/],
    ['a bad INT', asm(OP.INT, '12a\n', OP.STOP), /INT '12a' is not a decimal integer/],
    ['an unknown protocol', asm(OP.PROTO, 9, OP.NONE, OP.STOP), /unsupported pickle protocol 9/],
    ['an unknown opcode', asm(0xff), /unknown opcode 0xff/],
    [
      'a non-storage persistent id',
      asm(...str('module'), OP.TUPLE1, OP.BINPERSID, OP.STOP),
      /unsupported persistent id 'module'/,
    ],
  ];
  for (const [what, bytes, message] of malformed) {
    it(`fails cleanly on ${what}`, () => {
      expect(() => loadTensors(bytes)).toThrow(message);
      expect(() => loadTensors(bytes)).toThrow(SerializeError);
    });
  }

  it('caps the stack, the marks and the memo', () => {
    const many = new Uint8Array(2_000_002).fill(OP.NONE);
    many[many.length - 1] = OP.STOP;
    expect(() => load(many)).toThrow(/stack holds more than 1000000 items/);
    const marks = new Uint8Array(200_001).fill(OP.MARK);
    expect(() => load(marks)).toThrow(/more than 100000 nested MARKs/);
    const memo = asm(
      OP.NONE,
      ...Array.from({ length: 20 }, (_, i) => [OP.LONG_BINPUT, ...u32(i)]).flat(),
      OP.STOP,
    );
    expect(() => unpickle(memo, { context: 'test', limits: { maxMemo: 10 } })).toThrow(
      /memo holds more than 10 entries/,
    );
  });

  it('converts deeply nested lists without recursion', () => {
    const depth = 200_000;
    const bytes = new Uint8Array(depth * 2 + 1);
    // [[[...]]]: EMPTY_LIST depth times, then APPEND depth-1 times.
    bytes.fill(OP.EMPTY_LIST, 0, depth);
    bytes.fill(OP.APPEND, depth, 2 * depth - 1);
    bytes[2 * depth - 1] = OP.STOP;
    let v = load(bytes.subarray(0, 2 * depth)) as unknown[];
    let n = 1;
    while (v.length) {
      v = v[0] as unknown[];
      n++;
    }
    expect(n).toBe(depth);
  });
});

describe('pickler', () => {
  it('round-trips ints at every encoding boundary', () => {
    const ints = [
      0,
      1,
      255,
      256,
      65535,
      65536,
      -1,
      -256,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
    ];
    expect(roundTrip(ints)).toEqual(ints);
    const bigs = [2n ** 64n, -(2n ** 64n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n];
    expect(roundTrip(bigs)).toEqual(bigs);
    // A bigint that fits in a safe integer reads back as a number.
    expect(roundTrip(5n)).toBe(5);
  });

  it('writes integral numbers as ints, others and pyFloat as floats', () => {
    const p = pickle([1, 1.5, pyFloat(2), Number.NaN, -0, Number.POSITIVE_INFINITY], noTensors).pickle;
    expect(p.filter((b) => b === OP.BINFLOAT).length).toBe(5);
    const v = load(p) as number[];
    expect(v.slice(0, 3)).toEqual([1, 1.5, 2]);
    expect(v[3]).toBeNaN();
    expect(Object.is(v[4], -0)).toBe(true);
  });

  it('round-trips strings, bytes, null, booleans, lists, tuples, dicts and Maps', () => {
    const value = {
      s: 'ünïcødé 漢字 🎉',
      b: new Uint8Array([0, 255]),
      n: null,
      t: true,
      f: false,
      list: [1, [2, []]],
      tuple: Object.freeze([1, 'x', Object.freeze([])]),
      map: new Map<unknown, unknown>([
        [0, 'a'],
        [-3, 'b'],
        [Object.freeze([1, 2]), 'tuple key'],
        [2n ** 70n, 'big'],
        [null, 'none'],
        [true, 'bool'],
      ]),
      __proto__key: { ['__proto__']: 1 },
      long: Array.from({ length: 2500 }, (_, i) => i),
    };
    const v = roundTrip(value) as Record<string, unknown>;
    expect(v).toEqual(value);
    expect(Object.isFrozen(v.tuple)).toBe(true);
    expect(Object.isFrozen(v.list)).toBe(false);
  });

  it("writes an optimizer state dict's integer-string state keys as ints, and nothing else", () => {
    const opt = { state: { '0': { step: 1 }, '10': { step: 2 } }, param_groups: [{ params: [0, 10] }] };
    const back = roundTrip(opt) as { state: Map<number, unknown> };
    expect(back.state).toEqual(
      new Map([
        [0, { step: 1 }],
        [10, { step: 2 }],
      ]),
    );
    expect(roundTrip({ '0': 1, '1': 2 })).toEqual({ '0': 1, '1': 2 });
    expect(roundTrip({ state: { a: 1 }, param_groups: [] })).toEqual({ state: { a: 1 }, param_groups: [] });
    expect(roundTrip({ state: { '01': 1 }, param_groups: [] })).toEqual({
      state: { '01': 1 },
      param_groups: [],
    });
  });

  it('keeps prototype keys as own data', () => {
    const evil = JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    const v = roundTrip(evil) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('preserves shared references and cycles', () => {
    const shared = { x: 1 };
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const v = roundTrip({ a: shared, b: shared, c: cyclic }) as { a: object; b: object; c: unknown[] };
    expect(v.a).toBe(v.b);
    expect(v.c[0]).toBe(v.c);
  });

  it('round-trips OrderedDict marking and attributes', async () => {
    const { orderedDict } = await import('./python-value.js');
    const sd = orderedDict({ w: 1 }, { _metadata: orderedDict({ '': { version: 1 } }) });
    const v = roundTrip(sd) as object;
    expect(isOrderedDict(v)).toBe(true);
    const meta = pyAttributes(v)?._metadata as object;
    expect(isOrderedDict(meta)).toBe(true);
    expect(meta).toEqual(new Map([['', { version: 1 }]]));
  });

  it("keeps _metadata's order (root '' first, then '0', '1'), which a plain object would lose", () => {
    const metadata = new Map([
      ['', { version: 1 }],
      ['0', { version: 1 }],
      ['1', { version: 2 }],
    ]);
    const sd: Record<string, unknown> = { '0.w': 1 };
    Object.defineProperty(sd, '_metadata', { value: metadata, enumerable: false });
    const v = roundTrip(sd) as { _metadata: Map<string, unknown> };
    expect(isOrderedDict(v)).toBe(true);
    expect([...v._metadata.keys()]).toEqual(['', '0', '1']);
    expect(v._metadata.get('1')).toEqual({ version: 2 });
  });

  it('refuses values Python cannot hold, naming where they are', () => {
    expect(() => pickle({ a: [1, undefined] }, noTensors)).toThrow(
      /at \["a"\]\[1\]: cannot save a value of type undefined/,
    );
    expect(() => pickle({ f: () => 1 }, noTensors)).toThrow(
      /at \["f"\]: cannot save a function \(f\); did you mean to call it/,
    );
    class Net {
      stateDict() {
        return {};
      }
    }
    expect(() => pickle({ model: new Net() }, noTensors)).toThrow(
      /cannot save a Net itself; save its stateDict\(\)/,
    );
    expect(() => pickle({ d: new Date(0) }, noTensors)).toThrow(/cannot save a Date/);
    expect(() => pickle(new Map([[[1], 2]]), noTensors)).toThrow(/dict key must be/);
    const selfTuple: unknown[] = [];
    selfTuple.push(selfTuple);
    Object.freeze(selfTuple);
    expect(() => pickle(selfTuple, noTensors)).toThrow(/contains itself/);
  });
});
