/**
 * numpy family unit tests: malformed and hostile array/dtype/scalar pickles and .npy headers are
 * refused with UnpicklingError (never an allocation sized by an unchecked shape), and the API the
 * joblib family builds on (ndarrayFromBuffer, ndarrayFromState, arrayByteLength, readNpy).
 */
import { describe, expect, it } from 'vitest';
import { loads, UnpicklingError } from '../src/index.js';
import {
  DType,
  NDArray,
  arrayByteLength,
  isDType,
  ndarrayFromBuffer,
  ndarrayFromState,
  readNpy,
  isNpy,
  halfToNumber,
  numberToHalf,
} from '../src/numpy/index.js';
import { Tuple } from '../src/python/values.js';
import type { DecodeContext } from '../src/unpickle/registry.js';

// ---- a tiny protocol-2 pickle builder ---------------------------------------------------------

type Ops = number[];
const enc = new TextEncoder();
const bytesOf = (s: string): number[] => [...enc.encode(s)];
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

const op = {
  global: (m: string, n: string): Ops => [0x63, ...bytesOf(`${m}\n${n}\n`)],
  str: (s: string): Ops => {
    const b = bytesOf(s);
    return [0x58, ...u32(b.length), ...b];
  },
  bytes: (b: number[]): Ops => [0x42, ...u32(b.length), ...b],
  int: (n: number): Ops => [0x4a, ...u32(n >>> 0)],
  long: (n: bigint): Ops => {
    // LONG1, little-endian two's complement
    const out: number[] = [];
    let v = n;
    for (let i = 0; i < 9; i++) {
      out.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return [0x8a, out.length, ...out];
  },
  none: [0x4e],
  true: [0x88],
  false: [0x89],
  mark: [0x28],
  tuple: [0x74],
  list: [0x6c],
  reduce: [0x52],
  build: [0x62],
  stop: [0x2e],
};

function tupleOf(...items: Ops[]): Ops {
  return [...op.mark, ...items.flat(), ...op.tuple];
}

function dtypeOps(typestr: string, state: Ops[]): Ops {
  return [
    ...op.global('numpy', 'dtype'),
    ...tupleOf(op.str(typestr), op.false, op.true),
    ...op.reduce,
    ...tupleOf(...state),
    ...op.build,
  ];
}

const F8: Ops = dtypeOps('f8', [
  op.int(3),
  op.str('<'),
  op.none,
  op.none,
  op.none,
  op.int(-1),
  op.int(-1),
  op.int(0),
]);
const OBJ: Ops = dtypeOps('O8', [
  op.int(3),
  op.str('|'),
  op.none,
  op.none,
  op.none,
  op.int(-1),
  op.int(-1),
  op.int(63),
]);

function arrayPickle(
  shape: Ops[],
  dtype: Ops,
  raw: Ops,
  fortran = false,
  module = 'numpy.core.multiarray',
): Uint8Array {
  return new Uint8Array([
    0x80,
    0x02,
    ...op.global(module, '_reconstruct'),
    ...tupleOf(op.global('numpy', 'ndarray'), tupleOf(op.int(0)), op.bytes([0x62])),
    ...op.reduce,
    ...tupleOf(op.int(1), tupleOf(...shape), dtype, fortran ? op.true : op.false, raw),
    ...op.build,
    ...op.stop,
  ]);
}

function stream(...ops: Ops[]): Uint8Array {
  return new Uint8Array([0x80, 0x02, ...ops.flat(), ...op.stop]);
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function refuses(data: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    loads(data);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'should throw').toBeInstanceOf(UnpicklingError);
  expect((caught as Error).message).toMatch(pattern);
  expect((caught as UnpicklingError).offset).toBeGreaterThanOrEqual(0);
}

describe('array pickles built by hand', () => {
  it('a well-formed one decodes (lossless and default)', () => {
    const data = arrayPickle(
      [op.int(2)],
      F8,
      op.bytes([0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0]),
    );
    for (const lossless of [false, true]) {
      const a = loads(data, { lossless }) as NDArray;
      expect(a.toArray()).toEqual([1.5, -2]);
      expect(a.shape).toEqual([2]);
    }
  });

  it('refuses data whose length does not match the shape', () => {
    refuses(arrayPickle([op.int(3)], F8, op.bytes(zeros(16))), /16 bytes.*needs 24/);
    refuses(arrayPickle([op.int(1)], F8, op.bytes(zeros(9))), /needs 8/);
  });

  it('refuses negative, non-int and overflowing dimensions before allocating anything', () => {
    refuses(arrayPickle([op.int(-1)], F8, op.bytes([])), /negative/);
    refuses(
      arrayPickle([op.int(2 ** 31 - 1), op.int(2 ** 31 - 1), op.int(2 ** 31 - 1)], F8, op.bytes([])),
      /too large/,
    );
    refuses(arrayPickle([op.long(2n ** 62n)], F8, op.bytes([])), /out of range/);
    refuses(arrayPickle([op.str('3')], F8, op.bytes(zeros(24))), /expected an int/);
    refuses(
      arrayPickle(
        Array.from({ length: 65 }, () => op.int(1)),
        F8,
        op.bytes(zeros(8)),
      ),
      /dimensions/,
    );
  });

  it('an empty array with huge other dimensions decodes, but toNested refuses to build it', () => {
    const a = loads(arrayPickle([op.int(2 ** 24), op.int(2 ** 24), op.int(0)], F8, op.bytes([]))) as NDArray;
    expect(a.size).toBe(0);
    expect(a.toArray()).toEqual([]);
    expect(() => a.toNested()).toThrow(RangeError);
  });

  it('object dtypes need a list of the right length; other dtypes refuse lists', () => {
    const ok = loads(
      arrayPickle([op.int(2)], OBJ, [...op.mark, ...op.str('a'), ...op.none, ...op.list]),
    ) as NDArray;
    expect(ok.toArray()).toEqual(['a', null]);
    refuses(
      arrayPickle([op.int(3)], OBJ, [...op.mark, ...op.str('a'), ...op.list]),
      /1 elements, shape needs 3/,
    );
    refuses(arrayPickle([op.int(1)], OBJ, op.bytes(zeros(8))), /need a list/);
    refuses(
      arrayPickle([op.int(1)], F8, [...op.mark, ...op.int(1), ...op.list]),
      /list data for a non-object dtype/,
    );
  });

  it('a str payload (Python 2, encoding latin1) is converted to bytes; chars above U+00FF are refused', () => {
    const latin = arrayPickle([op.int(1)], F8, op.str('\u0000\u0000\u0000\u0000\u0000\u0000\u00f8?'));
    expect((loads(latin) as NDArray).toArray()).toEqual([1.5]);
    refuses(arrayPickle([op.int(1)], F8, op.str('\u0000\u0000\u0000\u0000\u0000\u0000\u0100?')), /U\+00FF/);
  });

  it('refuses a state that is not a 4- or 5-tuple, a bad version, or a dtype that is not a dtype', () => {
    const base = [
      0x80,
      0x02,
      ...op.global('numpy.core.multiarray', '_reconstruct'),
      ...tupleOf(op.global('numpy', 'ndarray'), tupleOf(op.int(0)), op.bytes([0x62])),
      ...op.reduce,
    ];
    refuses(new Uint8Array([...base, ...tupleOf(op.int(1), op.int(2)), ...op.build, ...op.stop]), /2 items/);
    refuses(
      new Uint8Array([
        ...base,
        ...tupleOf(op.int(7), tupleOf(op.int(1)), F8, op.false, op.bytes(zeros(8))),
        ...op.build,
        ...op.stop,
      ]),
      /version 7/,
    );
    refuses(
      new Uint8Array([
        ...base,
        ...tupleOf(op.int(1), tupleOf(op.int(1)), op.str('f8'), op.false, op.bytes(zeros(8))),
        ...op.build,
        ...op.stop,
      ]),
      /not a numpy.dtype/,
    );
  });

  it('numpy 2 names decode the same', () => {
    const data = arrayPickle(
      [op.int(1)],
      F8,
      op.bytes([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]),
      false,
      'numpy._core.multiarray',
    );
    expect((loads(data) as NDArray).toArray()).toEqual([1.5]);
  });
});

describe('dtype pickles built by hand', () => {
  const st = (...items: Ops[]): Ops[] => items;
  it('refuses bad type strings, endians and inconsistent states', () => {
    refuses(
      stream(
        dtypeOps(
          'x9',
          st(op.int(3), op.str('<'), op.none, op.none, op.none, op.int(-1), op.int(-1), op.int(0)),
        ),
      ),
      /invalid dtype string/,
    );
    refuses(
      stream(
        dtypeOps(
          'i3',
          st(op.int(3), op.str('<'), op.none, op.none, op.none, op.int(-1), op.int(-1), op.int(0)),
        ),
      ),
      /unsupported dtype/,
    );
    refuses(
      stream(
        dtypeOps(
          'f8',
          st(op.int(3), op.str('?'), op.none, op.none, op.none, op.int(-1), op.int(-1), op.int(0)),
        ),
      ),
      /endian/,
    );
    refuses(
      stream(
        dtypeOps(
          'f8',
          st(
            op.int(3),
            op.str('<'),
            op.none,
            tupleOf(op.str('a')),
            op.none,
            op.int(-1),
            op.int(-1),
            op.int(0),
          ),
        ),
      ),
      /inconsistent/,
    );
    refuses(
      stream(
        dtypeOps(
          'f8',
          st(op.int(9), op.str('<'), op.none, op.none, op.none, op.int(-1), op.int(-1), op.int(0)),
        ),
      ),
      /version 9/,
    );
    refuses(stream(dtypeOps('f8', st(op.int(3), op.str('<')))), /2 items/);
  });

  it('refuses fields that lie outside the itemsize', () => {
    const field = [...op.mark, ...F8, ...op.int(4), ...op.tuple]; // (f8 dtype, offset 4)
    const fields = [0x7d, ...op.str('a'), ...field, 0x73]; // {'a': (f8, 4)}
    refuses(
      stream(
        dtypeOps(
          'V8',
          st(op.int(3), op.str('|'), op.none, tupleOf(op.str('a')), fields, op.int(8), op.int(1), op.int(16)),
        ),
      ),
      /extends past/,
    );
  });

  it('accepts numpy 2 unsigned flags and numpy 1 signed ones alike', () => {
    for (const flags of [-112, 144]) {
      const field = [...op.mark, ...F8, ...op.int(0), ...op.tuple];
      const fields = [0x7d, ...op.str('a'), ...field, 0x73];
      const d = loads(
        stream(
          dtypeOps(
            'V8',
            st(
              op.int(3),
              op.str('|'),
              op.none,
              tupleOf(op.str('a')),
              fields,
              op.int(8),
              op.int(8),
              op.int(flags),
            ),
          ),
        ),
      ) as DType;
      expect(d.isAlignedStruct).toBe(true);
      expect(d.flags).toBe(0x90);
    }
  });
});

describe('scalar and _frombuffer pickles built by hand', () => {
  it('refuses scalar data of the wrong length', () => {
    refuses(
      stream(op.global('numpy.core.multiarray', 'scalar'), tupleOf(F8, op.bytes(zeros(4))), op.reduce),
      /4 bytes/,
    );
  });

  it('converts a non-native scalar to native as numpy does', () => {
    const be = dtypeOps('f8', [
      op.int(3),
      op.str('>'),
      op.none,
      op.none,
      op.none,
      op.int(-1),
      op.int(-1),
      op.int(0),
    ]);
    const s = loads(
      stream(
        op.global('numpy.core.multiarray', 'scalar'),
        tupleOf(be, op.bytes([0x3f, 0xf8, 0, 0, 0, 0, 0, 0])),
        op.reduce,
      ),
    ) as {
      value: number;
      dtype: DType;
    };
    expect(s.value).toBe(1.5);
    expect(s.dtype.str).toBe('<f8');
  });

  it('refuses _frombuffer with a wrong buffer length, an unknown order or a bad axis order', () => {
    const fb = (buf: Ops, shape: Ops, order: string, extra: Ops[] = []) =>
      stream(
        op.global('numpy.core.numeric', '_frombuffer'),
        tupleOf(buf, F8, shape, op.str(order), ...extra),
        op.reduce,
      );
    expect((loads(fb(op.bytes(zeros(16)), tupleOf(op.int(2)), 'C')) as NDArray).toArray()).toEqual([0, 0]);
    refuses(fb(op.bytes(zeros(15)), tupleOf(op.int(2)), 'C'), /needs 16/);
    refuses(fb(op.bytes(zeros(16)), tupleOf(op.int(2)), 'Z'), /unsupported order/);
    refuses(
      fb(op.bytes(zeros(16)), tupleOf(op.int(1), op.int(2)), 'K', [tupleOf(op.int(0), op.int(0))]),
      /permutation/,
    );
  });
});

describe('the API joblib builds on', () => {
  it('ndarrayFromBuffer keeps the bytes (no copy) and checks the length', () => {
    const raw = new Uint8Array(new Float64Array([0, 3, 1, 4, 2, 5]).buffer);
    const a = ndarrayFromBuffer(DType.parse('<f8'), [2, 3], 'F', raw, 'numpy.matrix');
    expect(a.raw).toBe(raw);
    expect((a.data as Float64Array).buffer).toBe(raw.buffer);
    expect(a.subclass).toBe('numpy.matrix');
    expect(a.toNested()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect([...new Float64Array(a.bytes().slice().buffer)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => ndarrayFromBuffer(DType.parse('<f8'), [2, 3], 'C', raw.subarray(1))).toThrow(
      UnpicklingError,
    );
    expect(() => ndarrayFromBuffer(DType.parse('<f8'), [-1], 'C', raw)).toThrow(UnpicklingError);
  });

  it('arrayByteLength checks shapes', () => {
    expect(arrayByteLength(DType.parse('<U3'), [2, 5])).toBe(120);
    expect(arrayByteLength(DType.parse('<f8'), [])).toBe(8);
    expect(() => arrayByteLength(DType.parse('<f8'), [2 ** 40, 2 ** 20])).toThrow(UnpicklingError);
    expect(() => arrayByteLength(DType.parse('<f8'), [1.5])).toThrow(UnpicklingError);
  });

  it('ndarrayFromState takes the BUILD state tuple', () => {
    const ctx = {
      lossless: false,
      toInt: (v: unknown) => v as number,
      error: (m: string) => new UnpicklingError(m),
    } as unknown as DecodeContext;
    const state = Tuple.from_([1, Tuple.from_([2]), DType.parse('<i2'), false, new Uint8Array([1, 0, 2, 0])]);
    const a = ndarrayFromState(state, ctx);
    expect(a.toArray()).toEqual([1, 2]);
    expect(isDType(a.dtype)).toBe(true);
    expect(() =>
      ndarrayFromState(Tuple.from_([1, Tuple.from_([3]), DType.parse('<i2'), false, new Uint8Array(4)]), ctx),
    ).toThrow(/needs 6/);
  });

  it('float16 conversions round-trip', () => {
    for (const h of [0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00]) {
      expect(numberToHalf(halfToNumber(h))).toBe(h);
    }
    expect(numberToHalf(1e10)).toBe(0x7c00);
    expect(Number.isNaN(halfToNumber(numberToHalf(NaN)))).toBe(true);
  });
});

// ---- .npy -------------------------------------------------------------------------------------

function npy(header: string, data: number[] = [], version: [number, number] = [1, 0]): Uint8Array {
  const h = enc.encode(header);
  const len = version[0] === 1 ? [h.length & 0xff, h.length >> 8] : u32(h.length);
  return new Uint8Array([0x93, ...bytesOf('NUMPY'), version[0], version[1], ...len, ...h, ...data]);
}

const noPickle = (): unknown => {
  throw new Error('no pickle expected');
};

describe('.npy', () => {
  it('reads a hand-made file', () => {
    const f = npy("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 2), }\n", [1, 0, 2, 0, 3, 0, 4, 0]);
    expect(isNpy(f)).toBe(true);
    const a = readNpy(f, noPickle) as NDArray;
    expect(a.toNested()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect((loads(f) as NDArray).order).toBe('F');
  });

  it('reads structured descr lists with titles, padding and sub-arrays, and Python 2 long ints', () => {
    const f = npy(
      "{'descr': [(('T', 'a'), '<u2'), ('', '|V2'), ('b', '>i2', (2,))], 'fortran_order': False, 'shape': (1L,), }",
      [1, 0, 0xff, 0xff, 0, 2, 0, 3],
    );
    const a = readNpy(f, noPickle) as NDArray;
    expect(a.dtype.itemsize).toBe(8);
    expect(a.dtype.fields!.get('a')!.title).toBe('T');
    expect(a.record(0)).toEqual({ a: 1, b: [2, 3] });
  });

  it('hands object payloads to the unpickler', () => {
    const f = npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", [0x80, 0x02, 0x4e, 0x2e]);
    let seen: Uint8Array | undefined;
    expect(readNpy(f, (p) => ((seen = p), 'unpickled'))).toBe('unpickled');
    expect([...seen!]).toEqual([0x80, 0x02, 0x4e, 0x2e]);
  });

  it('reads version 2 and 3 headers (3 is UTF-8)', () => {
    const v2 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0xc0, 0x3f], [2, 0]);
    expect((readNpy(v2, noPickle) as NDArray).toArray()).toEqual([1.5]);
    const v3 = npy("{'descr': [('caf\u00e9', '|u1')], 'fortran_order': False, 'shape': (1,), }", [7], [3, 0]);
    expect((readNpy(v3, noPickle) as NDArray).record(0)).toEqual({ 'caf\u00e9': 7 });
  });

  const hostile: [string, Uint8Array, RegExp][] = [
    [
      'version 4.0',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", [0, 0, 0, 0], [4, 0]),
      /version/,
    ],
    ['header past the end', new Uint8Array([0x93, ...bytesOf('NUMPY'), 1, 0, 0xff, 0xff, 0x7b]), /header of/],
    ['not a dict', npy('[1, 2]'), /not a dict/],
    ['extra key', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}"), /keys/],
    ['missing key', npy("{'descr': '<f4', 'shape': ()}"), /keys/],
    ['deep nesting', npy(`{'descr': ${'['.repeat(200)}`), /nests too deeply/],
    ['unterminated string', npy("{'descr': '<f4"), /unterminated/],
    ['code', npy("{'descr': __import__('os').system('x')}"), /unexpected/],
    ['negative dim', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), /non-negative/],
    [
      'huge dims',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
      /too large/,
    ],
    [
      'huge int',
      npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${'9'.repeat(40)},), }`),
      /integer too long/,
    ],
    ['bad descr', npy("{'descr': 'zz', 'fortran_order': False, 'shape': (1,), }", [0]), /descr/],
    [
      'fortran not bool',
      npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", [0, 0, 0, 0]),
      /fortran_order/,
    ],
    [
      'truncated data',
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", zeros(15)),
      /data has 15 bytes/,
    ],
    [
      'duplicate field',
      npy("{'descr': [('a', '<i2'), ('a', '<i2')], 'fortran_order': False, 'shape': (1,), }", zeros(4)),
      /duplicate/,
    ],
  ];
  for (const [name, data, pattern] of hostile) {
    it(`refuses a hostile header: ${name}`, () => {
      expect(() => readNpy(data, noPickle)).toThrow(UnpicklingError);
      expect(() => readNpy(data, noPickle)).toThrow(pattern);
    });
  }
});
