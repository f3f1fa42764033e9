/**
 * jsonpickle interop without Python: exact texts jsonpickle 3.0.0 (Debian python3-jsonpickle,
 * Python 3.11) wrote for the values named in each test, refusals, prototype safety and deep nesting.
 * The live comparison with the real jsonpickle is test/jsonpickle.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fromJsonPickle, toJsonPickle, PicklingError, UnpicklingError } from '../src/index.js';
import { ByteArray, FrozenSet, PyGlobal, PyObject, Tuple, tuple } from '../src/python/values.js';
import { PyDateTime, PyDecimal, PyTimezone } from '../src/python/stdlib.js';
import { NDArray } from '../src/numpy/index.js';

describe('fromJsonPickle reads jsonpickle 3.0 output', () => {
  it('numbers: ints (any size) vs floats, NaN and infinities', () => {
    expect(
      fromJsonPickle('[1, 1.0, 1180591620717411303424, NaN, -Infinity, -0.0]', { lossless: true }),
    ).toEqual([1n, 1, 1180591620717411303424n, NaN, -Infinity, -0]);
    expect(fromJsonPickle('[1, 9007199254740993]')).toEqual([1, 9007199254740993n]);
  });

  it('py/id numbering: lists, dicts and objects in pre-order, json:// keys after plain keys', () => {
    // jsonpickle.encode([l, l]) with l = [1]
    const v = fromJsonPickle('[[1], {"py/id": 1}]') as unknown[][];
    expect(v[0]).toBe(v[1]);
    // d = {}; d['self'] = d
    const d = fromJsonPickle('{"self": {"py/id": 0}}') as Record<string, unknown>;
    expect(d['self']).toBe(d);
    // json:// keys are restored after the plain ones whatever their place in the text, so here the
    // list under "b" is id 1 and the tuple key's value refers to it.
    const m = fromJsonPickle('{"json://{\\"py/tuple\\": [1, 2]}": {"py/id": 1}, "b": [1]}', {
      lossless: true,
    }) as Map<unknown, unknown>;
    expect([...m.keys()]).toEqual(['b', tuple(1n, 2n)]);
    expect(m.get([...m.keys()][1])).toBe(m.get('b'));
  });

  it('dict keys with keys=True, including string keys that look like tags', () => {
    // {1: 7, 'a': 3, (1, 2): 4, None: 5, 1.5: 6, 'json://x': 8}
    const text =
      '{"a": 3, "json://\\"json://x\\"": 8, "json://1": 7, "json://{\\"py/tuple\\": [1, 2]}": 4, "json://null": 5, "json://1.5": 6}';
    const m = fromJsonPickle(text, { lossless: true }) as Map<unknown, unknown>;
    expect([...m.entries()]).toEqual([
      ['a', 3n],
      ['json://x', 8n],
      [1n, 7n],
      [tuple(1n, 2n), 4n],
      [null, 5n],
      [1.5, 6n],
    ]);
    // Default mode: a plain object when every key is a string.
    expect(fromJsonPickle('{"json://\\"py/object\\"": 1, "a": 2}')).toEqual({ a: 2, 'py/object': 1 });
  });

  it('tuples, sets, frozensets, bytes, bytearray, complex', () => {
    expect(fromJsonPickle('{"py/tuple": [1, {"py/set": [2]}]}', { lossless: true })).toEqual(
      tuple<unknown>(1n, new Set([2n])),
    );
    const fs = fromJsonPickle('{"py/reduce": [{"py/type": "builtins.frozenset"}, {"py/tuple": [[1, 2]]}]}');
    expect(fs).toBeInstanceOf(FrozenSet);
    expect([...(fs as Set<unknown>)]).toEqual([1, 2]);
    expect(fromJsonPickle('{"py/b64": "YWJj"}')).toEqual(new Uint8Array([97, 98, 99]));
    expect(fromJsonPickle('{"py/b85": "VPaz"}')).toEqual(new Uint8Array([97, 98, 99]));
    expect(fromJsonPickle('{"py/b85": "Xk~0{Zy<MXa%^NF"}')).toEqual(new TextEncoder().encode('hello world!'));
    const ba = fromJsonPickle(
      '{"py/reduce": [{"py/type": "builtins.bytearray"}, {"py/tuple": [{"py/b64": "YWJj"}]}]}',
    );
    expect(ba).toBeInstanceOf(ByteArray);
    expect(
      fromJsonPickle('{"py/object": "builtins.complex", "py/newargs": {"py/tuple": [1.0, 2.0]}}'),
    ).toMatchObject({ re: 1, im: 2 });
  });

  it('objects: attributes, py/state, py/newargs, dict and list subclasses, enum members', () => {
    const p = fromJsonPickle('{"py/object": "jpmod.Plain", "a": 1, "b": [2]}', {
      lossless: true,
    }) as PyObject;
    expect(p).toBeInstanceOf(PyObject);
    expect(p.__qualname__).toBe('jpmod.Plain');
    expect(p.__kind__).toBe('newobj');
    expect({ ...p }).toEqual({ a: 1n, b: [2n] });
    const g = fromJsonPickle('{"py/object": "jpmod.GetState", "py/state": {"py/tuple": [4]}}', {
      lossless: true,
    }) as PyObject;
    expect(g.__state__).toEqual(tuple(4n));
    const n = fromJsonPickle(
      '{"py/object": "jpmod.NewArgs", "py/newargs": {"py/tuple": [3, "x"]}, "tag": "x"}',
    ) as PyObject;
    expect([...n.__args__]).toEqual([3, 'x']);
    expect(n['tag']).toBe('x');
    const d = fromJsonPickle('{"py/object": "jpmod.MyDict", "a": 1, "__dict__": {"extra": 2}}') as PyObject;
    expect([...(d.__dictitems__ as Map<unknown, unknown>)]).toEqual([['a', 1]]);
    expect(d['extra']).toBe(2);
    const l = fromJsonPickle('{"py/object": "jpmod.MyList", "py/seq": [1, 2]}') as PyObject;
    expect(l.__items__).toEqual([1, 2]);
    const e = fromJsonPickle(
      '{"py/reduce": [{"py/function": "builtins.getattr"}, {"py/tuple": [{"py/type": "jpmod.Color"}, "RED"]}]}',
    );
    expect(e).toEqual(new PyGlobal('jpmod', 'Color.RED'));
    // A cycle through an attribute comes back as the same object.
    const c = fromJsonPickle('{"py/object": "jpmod.Plain", "a": {"x": {"py/id": 0}}, "b": null}') as PyObject;
    expect((c['a'] as Record<string, unknown>)['x']).toBe(c);
  });

  it('stdlib values through the decoder registry (datetime handler form, shared tzinfo)', () => {
    const text =
      '[{"py/object": "datetime.datetime", "__reduce__": [{"py/type": "datetime.datetime"}, ["B+QBAQAAAAAAAA==", {"py/reduce": [{"py/type": "datetime.timezone"}, {"py/tuple": [{"py/reduce": [{"py/type": "datetime.timedelta"}, {"py/tuple": [0, 0, 0]}]}]}]}]]}, ' +
      '{"py/object": "datetime.datetime", "__reduce__": [{"py/type": "datetime.datetime"}, ["B+QBAQAAAAAAAA==", {"py/id": 2}]]}]';
    const [a, b] = fromJsonPickle(text) as PyDateTime[];
    expect(a).toBeInstanceOf(PyDateTime);
    expect(a?.isoformat()).toBe('2020-01-01T00:00:00+00:00');
    expect(a?.tzinfo).toBe(PyTimezone.utc);
    expect(b?.tzinfo).toBe(a?.tzinfo);
    const dec = fromJsonPickle('{"py/reduce": [{"py/type": "decimal.Decimal"}, {"py/tuple": ["1.10"]}]}');
    expect(dec).toEqual(new PyDecimal('1.10'));
  });

  it('numpy arrays: text form, binary form, 0-d values', () => {
    const small = fromJsonPickle(
      '{"py/object": "numpy.ndarray", "dtype": "int64", "values": [0, 1, 2]}',
    ) as NDArray;
    expect(small.dtype.str).toBe('<i8');
    expect(small.toArray()).toEqual([0n, 1n, 2n]);
    // np.arange(20, dtype='>i4'): zlib + base64, big-endian; arrives native, as numpy's unpickling does.
    const big = fromJsonPickle(
      '{"py/object": "numpy.ndarray", "values": "eJwdwwkSgBAAAECpiKLr/3+1Y2c2hGkxurq5m8weFqunl83u7ePr5z8AEt4Avw==", "shape": [20], "dtype": "int32", "byteorder": ">"}',
    ) as NDArray;
    expect(big.dtype.str).toBe('<i4');
    expect(big.toArray()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const zeroD = fromJsonPickle('{"py/object": "numpy.ndarray", "dtype": "int64", "values": 5}') as NDArray;
    expect(zeroD.shape).toEqual([]);
  });
});

describe('fromJsonPickle refuses', () => {
  it('globals that run code, wherever they appear', () => {
    const texts = [
      '{"py/reduce": [{"py/function": "os.system"}, {"py/tuple": ["true"]}]}',
      '{"py/type": "subprocess.Popen"}',
      '{"py/function": "builtins.eval"}',
      '{"py/object": "os.system"}',
      '{"json://{\\"py/function\\": \\"posix.system\\"}": 1}',
      '{"py/reduce": [{"py/function": "__builtin__.exec"}, {"py/tuple": ["1"]}]}',
    ];
    for (const t of texts) expect(() => fromJsonPickle(t), t).toThrow(/refusing global/);
  });

  it('py/repr (eval in Python) and malformed input', () => {
    expect(() => fromJsonPickle('{"py/repr": "os/os.system(\'true\')"}')).toThrow(/py\/repr/);
    expect(() => fromJsonPickle('[1, 2')).toThrow(UnpicklingError);
    expect(() => fromJsonPickle('{"py/id": 3}')).toThrow(/py\/id 3/);
    expect(() => fromJsonPickle('{"py/b64": "YWJ"}')).toThrow(/py\/b64/);
    expect(() => fromJsonPickle('{"py/reduce": 1}')).toThrow(/py\/reduce/);
    expect(() => fromJsonPickle('1' + '0'.repeat(4300))).toThrow(/4300/);
  });

  it('never touches Object.prototype', () => {
    const plain = fromJsonPickle('{"__proto__": {"polluted": 1}, "a": {"__proto__": [1]}}') as Record<
      string,
      unknown
    >;
    expect(Object.keys(plain)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(plain['__proto__']).toEqual({ polluted: 1 });
    const o = fromJsonPickle('{"py/object": "m.C", "__proto__": {"polluted": 1}}') as PyObject;
    expect(Object.getOwnPropertyDescriptor(o, '__proto__')?.value).toEqual({ polluted: 1 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('toJsonPickle writes what jsonpickle 3.0 writes', () => {
  // Each expected text is jsonpickle.encode(python_value, keys=True) for the same Python value.
  it('byte-identical for core values', () => {
    const l = [1n];
    expect(toJsonPickle([l, l])).toBe('[[1], {"py/id": 1}]');
    expect(toJsonPickle(tuple(1n, 2n))).toBe('{"py/tuple": [1, 2]}');
    expect(toJsonPickle(new Set([1n, 2n]))).toBe('{"py/set": [1, 2]}');
    expect(toJsonPickle(new FrozenSet([1n, 2n]))).toBe(
      '{"py/reduce": [{"py/type": "builtins.frozenset"}, {"py/tuple": [[1, 2]]}]}',
    );
    expect(toJsonPickle(new Uint8Array([97, 98, 99]))).toBe('{"py/b64": "YWJj"}');
    expect(toJsonPickle([NaN, Infinity, -0, 1.5, 1e16, 1e-5])).toBe(
      '[NaN, Infinity, -0.0, 1.5, 1e+16, 1e-05]',
    );
    expect(toJsonPickle('a\ud800b\u00e9')).toBe('"a\\ud800b\\u00e9"');
    const m = new Map<unknown, unknown>([
      [1n, 7n],
      ['a', 3n],
      [tuple(1n, 2n), 4n],
      [null, 5n],
      [1.5, 6n],
    ]);
    expect(toJsonPickle(m)).toBe(
      '{"a": 3, "json://1": 7, "json://{\\"py/tuple\\": [1, 2]}": 4, "json://null": 5, "json://1.5": 6}',
    );
    const d = new Map<unknown, unknown>();
    d.set('self', d);
    expect(toJsonPickle(d)).toBe('{"self": {"py/id": 0}}');
    expect(toJsonPickle(new PyGlobal('builtins', 'len'))).toBe('{"py/function": "builtins.len"}');
    expect(toJsonPickle(new PyGlobal('collections', 'OrderedDict'))).toBe(
      '{"py/type": "collections.OrderedDict"}',
    );
    expect(toJsonPickle(new PyDecimal('1.10'))).toBe(
      '{"py/reduce": [{"py/type": "decimal.Decimal"}, {"py/tuple": ["1.10"]}]}',
    );
  });

  it('keeps keys jsonpickle would drop or misread, as encoded keys', () => {
    expect(
      toJsonPickle(
        new Map([
          ['py/object', 1n],
          ['json://x', 2n],
        ]),
      ),
    ).toBe('{"json://\\"py/object\\"": 1, "json://\\"json://x\\"": 2}');
  });

  it('objects: state, arguments, items', () => {
    const o = new PyObject(new PyGlobal('jpmod', 'Plain'), 'newobj', new Tuple());
    o['a'] = 1n;
    o['self'] = o;
    expect(toJsonPickle(o)).toBe('{"py/object": "jpmod.Plain", "py/state": {"a": 1, "self": {"py/id": 0}}}');
    const r = new PyObject(new PyGlobal('jpmod', 'Reduced'), 'reduce', tuple(5n));
    expect(toJsonPickle(r)).toBe('{"py/reduce": [{"py/type": "jpmod.Reduced"}, {"py/tuple": [5]}]}');
    const k = new PyObject(new PyGlobal('m', 'K'), 'newobj_ex', tuple(1n), new Map([['b', 2n]]));
    expect(toJsonPickle(k)).toBe('{"py/object": "m.K", "py/newargsex": [{"py/tuple": [1]}, {"b": 2}]}');
  });

  it('intNumbers writes integral JS numbers as Python ints', () => {
    expect(toJsonPickle({ a: 1, b: 1.5 })).toBe('{"a": 1.0, "b": 1.5}');
    expect(toJsonPickle({ a: 1, b: 1.5 }, { intNumbers: true })).toBe('{"a": 1, "b": 1.5}');
  });

  it('refuses what Python would run or cannot hold', () => {
    expect(() => toJsonPickle([new PyGlobal('os', 'system')])).toThrow(PicklingError);
    expect(() =>
      toJsonPickle(new PyObject(new PyGlobal('subprocess', 'Popen'), 'reduce', tuple('ls'))),
    ).toThrow(/refusing/);
    expect(() => toJsonPickle({ f: () => 1 })).toThrow(/at root\.f/);
    expect(() => toJsonPickle([undefined])).toThrow(/root\[0\]/);
    const t = new Tuple<unknown>();
    t.push(t);
    expect(() => toJsonPickle(t)).toThrow(/contains itself/);
    // A tuple reached again through a list is fine: the list becomes a py/id.
    const u = tuple<unknown>([]);
    (u[0] as unknown[]).push(u);
    expect(toJsonPickle(u)).toBe('{"py/tuple": [[{"py/tuple": [{"py/id": 0}]}]]}');
  });
});

describe('deep nesting (no recursion)', () => {
  it('writes and reads 100000 nested lists and dicts', () => {
    let v: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) v = i % 2 ? [v] : new Map([['k', v]]);
    const text = toJsonPickle(v);
    const back = fromJsonPickle(text, { lossless: true });
    expect(toJsonPickle(back)).toBe(text);
  });

  it('round-trips a datetime with fold through our own reader', () => {
    const dt = new PyDateTime(2020, 11, 1, 1, 30, 0, 0, null, 1);
    const back = fromJsonPickle(toJsonPickle(dt)) as PyDateTime;
    expect(back.fold).toBe(1);
    expect(back.isoformat()).toBe('2020-11-01T01:30:00');
  });
});
