/**
 * Writer rules, checked against bytes CPython 3.11's C pickler produced for the same values (the hex
 * literals below were printed by `pickle.dumps`), plus refusals, options and `dump`.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ByteArray,
  Complex,
  FrozenSet,
  PickleBuffer,
  PicklingError,
  PyGlobal,
  PyName,
  PyObject,
  PyFloat,
  Reduced,
  Tuple,
  dump,
  dumps,
  loads,
  tuple,
} from '../src/index.js';
import type { Reducer } from '../src/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** The opcodes of a pickle (names), via the decoder-independent opcode walk of pickletools' rules. */
function countOf(data: Uint8Array, opcode: number): number {
  // Good enough for streams of small ints and containers: count top-level opcode bytes by walking.
  let n = 0;
  let i = 0;
  while (i < data.length) {
    const op = data[i] as number;
    if (op === opcode) n++;
    i += 1 + argLength(data, i);
  }
  return n;
}

function argLength(d: Uint8Array, i: number): number {
  const op = d[i] as number;
  const u32 = (at: number): number => new DataView(d.buffer, d.byteOffset + at, 4).getUint32(0, true);
  switch (op) {
    case 0x80:
    case 0x4b:
    case 0x71:
    case 0x68:
      return 1; // PROTO BININT1 BINPUT BINGET
    case 0x4d:
      return 2; // BININT2
    case 0x4a:
    case 0x72:
    case 0x6a:
      return 4; // BININT LONG_BINPUT LONG_BINGET
    case 0x95:
    case 0x47:
      return 8; // FRAME BINFLOAT
    case 0x8c:
    case 0x43:
    case 0x8a:
      return 1 + (d[i + 1] as number);
    case 0x58:
    case 0x42:
      return 4 + u32(i + 1);
    default:
      return 0;
  }
}

describe('framing (docs/FORMATS.md §3.1)', () => {
  it('writes no FRAME for content under 4 bytes', () => {
    expect(hex(dumps([], { protocol: 4 }))).toBe('80045d942e');
    expect(hex(dumps(1, { protocol: 4 }))).toBe('80044b012e');
    expect(hex(dumps(300, { protocol: 4 }))).toBe('80049504000000000000004d2c012e');
  });

  it('closes frames at object boundaries past 64 KiB', () => {
    const out = dumps(
      Array.from({ length: 30000 }, (_, i) => i),
      { protocol: 4 },
    );
    expect(hex(out.subarray(0, 20))).toBe('80049501000100000000005d94284b004b014b02');
    expect(out.length).toBe(89827);
  });

  it('writes large payloads unframed', () => {
    const out = dumps(tuple<unknown>('a'.repeat(70000), 1), { protocol: 4 });
    expect(hex(out.subarray(0, 15))).toBe('800458701101006161616161616161');
    expect(hex(out.subarray(out.length - 20))).toBe('6161616161950600000000000000944b0186942e');
    const b = dumps([new Uint8Array(70000).fill(0x78)], { protocol: 4 });
    expect(hex(b.subarray(0, 30))).toBe('80045d944270110100787878787878787878787878787878787878787878');
  });

  it('writes no frames below protocol 4', () => {
    const out = dumps(
      Array.from({ length: 30000 }, (_, i) => i),
      { protocol: 3 },
    );
    expect(countOf(out, 0x95)).toBe(0);
  });
});

describe('scalars (docs/FORMATS.md §3.2)', () => {
  it('uses the smallest int opcode', () => {
    expect(hex(dumps(2n ** 31n, { protocol: 2 }))).toBe('80028a0500000080002e');
    expect(hex(dumps(-(2n ** 31n) - 1n, { protocol: 2 }))).toBe('80028a05ffffff7fff2e');
    expect(hex(dumps(-(2n ** 63n), { protocol: 2 }))).toBe('80028a0800000000000000802e');
    expect(hex(dumps(-128, { protocol: 2 }))).toBe('80024a80ffffff2e');
    expect(hex(dumps(-129, { protocol: 2 }))).toBe('80024a7fffffff2e');
    expect(hex(dumps(255, { protocol: 2 }))).toBe('80024bff2e');
  });

  it('maps numbers by mode', () => {
    // default: integral numbers are ints; lossless: every number is a float
    expect(hex(dumps(3, { protocol: 2 }))).toBe('80024b032e');
    expect(hex(dumps(3, { protocol: 2, lossless: true }))).toBe('80024740080000000000002e');
    expect(hex(dumps(3n, { protocol: 2, lossless: true }))).toBe('80024b032e');
    expect(loads(dumps(1e20))).toBe(1e20); // integral but past 2**53: a float, as the number was
    expect(Object.is(loads(dumps(-0)), -0)).toBe(true);
    expect(Object.is(loads(dumps(-0, { lossless: true })), -0)).toBe(true);
  });

  it('writes protocol 0 text forms', () => {
    const t = (v: unknown, o = {}): string => Buffer.from(dumps(v, { protocol: 0, ...o })).toString('latin1');
    expect(t(true)).toBe('I01\n.');
    expect(t(-5)).toBe('I-5\n.');
    expect(t(2n ** 40n)).toBe('L1099511627776L\n.');
    expect(t(1.5)).toBe('F1.5\n.');
    expect(t(1e100, { lossless: true })).toBe('F1e+100\n.');
    expect(t(NaN)).toBe('Fnan\n.');
    expect(t('a\\b\n\u20ac\u{1F600}\ud800')).toBe('Va\\u005cb\\u000a\\u20ac\\U0001f600\\ud800\np0\n.');
  });

  it('refuses ints Python could not read back at protocols 0-1', () => {
    expect(() => dumps(10n ** 5000n, { protocol: 0 })).toThrow(PicklingError);
    expect(loads(dumps(10n ** 5000n, { protocol: 2 }))).toBe(10n ** 5000n);
  });
});

describe('memo (docs/FORMATS.md §3.6)', () => {
  it("shares b'' and one-byte bytes like CPython singletons", () => {
    const v = [new Uint8Array([0x61]), new Uint8Array([0x61]), new Uint8Array(0), new Uint8Array(0)];
    expect(hex(dumps(v, { protocol: 4 }))).toBe('80049510000000000000005d94284301619468014300946802652e');
  });

  it('shares empty and one-character strings below U+0100 but not others', () => {
    const out = dumps(['é', 'é', 'Ā', 'Ā', 'ab', 'ab'], { protocol: 2 });
    // 'é' → BINPUT then BINGET; 'Ā' and 'ab' written twice
    expect(countOf(out, 0x68)).toBe(1);
    expect(countOf(out, 0x58)).toBe(5);
    expect(countOf(dumps(['ab', 'ab'], { protocol: 2, shareStrings: true }), 0x58)).toBe(1);
  });

  it('keeps shared references and cycles', () => {
    const s = [1];
    expect(hex(dumps([s, s], { protocol: 2 }))).toBe('80025d7100285d71014b01616801652e');
    const a: unknown[] = [];
    a.push(a);
    const back = loads(dumps(a, { protocol: 4 })) as unknown[];
    expect(back[0]).toBe(back);
  });

  it('writes recursive tuples as CPython does', () => {
    const mk = (): Tuple => {
      const l: unknown[] = [];
      const t = tuple(l);
      l.push(t);
      return t;
    };
    expect(hex(dumps(mk(), { protocol: 2 }))).toBe('80025d71006800857101613068012e');
    expect(hex(dumps(mk(), { protocol: 1 }))).toBe('285d7100286800747101613168012e');
    expect(hex(dumps(mk(), { protocol: 0 }))).toBe('28286c70300a2867300a7470310a61303067310a2e');
    const l4: unknown[] = [];
    const t4 = tuple<unknown>(l4, 1, 2, 3);
    l4.push(t4);
    expect(hex(dumps(t4, { protocol: 4 }))).toBe(
      '8004951900000000000000285d942868004b014b024b037494614b014b024b033168012e',
    );
    const l0: unknown[] = [];
    const t0 = tuple<unknown>(l0, 1, 2, 3);
    l0.push(t0);
    expect(hex(dumps(t0, { protocol: 0 }))).toBe(
      '28286c70300a2867300a49310a49320a49330a7470310a6149310a49320a49330a303030303067310a2e',
    );
  });

  it('refuses a tuple that contains itself with no mutable container in between', () => {
    const t = new Tuple();
    t.push(t);
    expect(() => dumps(t)).toThrow(/contains itself/);
  });

  it('is linear in memo fan-out', () => {
    let x: unknown = [1.5];
    for (let i = 0; i < 60; i++) x = [x, x];
    const out = dumps(x, { protocol: 4 });
    expect(out.length).toBeLessThan(60 * 8 + 64);
  });
});

describe('batching (docs/FORMATS.md §3.5)', () => {
  const list = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  it('uses the C pickler rules for lists, dicts and sets', () => {
    expect(countOf(dumps(list(1000), { protocol: 4 }), 0x65)).toBe(1);
    expect(countOf(dumps(list(1001), { protocol: 4 }), 0x65)).toBe(2);
    expect(countOf(dumps(list(2000), { protocol: 4 }), 0x65)).toBe(2);
    const dict = (n: number): Map<number, number> => new Map(list(n).map((i) => [i, i]));
    expect(countOf(dumps(dict(1000), { protocol: 4 }), 0x75)).toBe(2); // trailing empty batch
    expect(countOf(dumps(dict(1001), { protocol: 4 }), 0x75)).toBe(2);
    expect(countOf(dumps(dict(1), { protocol: 4 }), 0x73)).toBe(1);
    expect(countOf(dumps(new Set(list(1000)), { protocol: 4 }), 0x90)).toBe(2);
    expect(countOf(dumps(new Set([1]), { protocol: 4 }), 0x90)).toBe(1);
    expect(countOf(dumps(dict(3), { protocol: 0 }), 0x73)).toBe(3);
  });
});

describe('persistent ids and buffers', () => {
  const persistentId = (v: unknown): unknown =>
    typeof v === 'string' && v.startsWith('ext:') ? v.slice(4) : undefined;
  it('writes BINPERSID / PERSID like CPython', () => {
    const v = ['ext:abc', 1, 'ext:abc'];
    expect(hex(dumps(v, { protocol: 0, persistentId }))).toBe('286c70300a506162630a6149310a61506162630a612e');
    expect(hex(dumps(v, { protocol: 2, persistentId }))).toBe(
      '80025d71002858030000006162637101514b015803000000616263710251652e',
    );
    expect(hex(dumps(v, { protocol: 4, persistentId }))).toBe(
      '80049515000000000000005d94288c0361626394514b018c036162639451652e',
    );
    expect(() => dumps([1.5], { protocol: 0, persistentId: () => 1 })).toThrow(/ASCII strings/);
  });

  it('writes PickleBuffers in and out of band (protocol 5)', () => {
    const v = [
      new PickleBuffer(new Uint8Array([0x61, 0x62]), false),
      new PickleBuffer(new Uint8Array([0x63, 0x64]), true),
    ];
    expect(hex(dumps(v, { protocol: 5 }))).toBe(
      '80059516000000000000005d94289602000000000000006162944302636494652e',
    );
    const seen: PickleBuffer[] = [];
    const oob = dumps(v, { protocol: 5, bufferCallback: (b) => void seen.push(b) });
    expect(hex(oob)).toBe('80059508000000000000005d9428979798652e');
    expect(seen).toEqual(v);
    expect(() => dumps(v, { protocol: 4 })).toThrow(/protocol >= 5/);
  });
});

describe('refusals name the path', () => {
  const pathOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(PicklingError);
      return (e as PicklingError).path;
    }
    throw new Error('no error');
  };
  it('for containers of every kind', () => {
    expect(pathOf(() => dumps({ items: [1, 2, 3, { owner: () => 1 }] }))).toBe('root.items[3].owner');
    expect(pathOf(() => dumps(new Map([['key', Symbol('s')]])))).toBe('root.get("key")');
    expect(pathOf(() => dumps(new Map([[[1], 2]])))).toBe('root.keys()[0]');
    expect(pathOf(() => dumps([new Set([1, undefined])]))).toBe('root[0].values()[1]');
    expect(pathOf(() => dumps({ 'a b': [undefined] }))).toBe('root["a b"][0]');
    expect(pathOf(() => dumps(tuple<unknown>(1, new Float64Array(2))))).toBe('root[1]');
    class Foo {}
    expect(pathOf(() => dumps([new Foo()]))).toBe('root[0]');
    expect(pathOf(() => dumps(new PyGlobal('os', 'system')))).toBe('root');
    const o = new PyObject(new PyGlobal('m', 'C'), 'newobj', new Tuple());
    expect(pathOf(() => dumps({ x: o }))).toBe('root.x');
    o['attr'] = [undefined];
    expect(pathOf(() => dumps({ x: o }, { allowGlobals: true }))).toBe('root.x.attr[0]');
  });

  it('never overflows the JS stack on deep nesting', () => {
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    const out = dumps(deep, { protocol: 4 });
    expect(out.length).toBeGreaterThan(2_000_000);
    let bad: unknown = [undefined];
    for (let i = 0; i < 100_000; i++) bad = { k: bad };
    expect(() => dumps(bad)).toThrow(PicklingError);
  });
});

describe('objects', () => {
  it('re-emits decoded objects only with allowGlobals', () => {
    const o = new PyObject(new PyGlobal('fixture_classes', 'Point'), 'newobj', new Tuple());
    o['x'] = 1n;
    o['y'] = 2n;
    expect(() => dumps(o)).toThrow(/allowGlobals/);
    // CPython: pickle.dumps(fixture_classes.Point(1, 2), 2)
    expect(hex(dumps(o, { protocol: 2, allowGlobals: true }))).toBe(
      '800263666978747572655f636c61737365730a506f696e740a7100298171017d71022858010000007871034b0158010000007971044b0275622e',
    );
  });

  it('re-emits a slotted object from its current attributes', () => {
    // CPython: pickle.dumps(fixture_classes.Slotted(1, 2), 2) and Slotted(1, 5)
    const two = fromHex(
      '800263666978747572655f636c61737365730a536c6f747465640a7100298171014e7d71022858010000006171034b0158010000006271044b0275867105622e',
    );
    const o = loads(two, { lossless: true }) as PyObject;
    expect(hex(dumps(o, { protocol: 2, allowGlobals: true, lossless: true }))).toBe(hex(two));
    o['b'] = 5n;
    expect(hex(dumps(o, { protocol: 2, allowGlobals: true, lossless: true }))).toBe(
      '800263666978747572655f636c61737365730a536c6f747465640a7100298171014e7d71022858010000006171034b0158010000006271044b0575867105622e',
    );
  });

  it('runs user reducers and trusts their callables', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const reducer: Reducer = (v) =>
      v instanceof Point
        ? {
            callable: new PyGlobal('fixture_classes', 'Point'),
            kind: 'reduce',
            args: [BigInt(v.x), BigInt(v.y)],
          }
        : undefined;
    const p = new Point(1, 2);
    const back = loads(dumps([p, p], { reducers: [reducer] })) as PyObject[];
    expect(back[0]).toBe(back[1]);
    expect(back[0]?.__class__.qualifiedName).toBe('fixture_classes.Point');
    expect([...(back[0]?.__args__ ?? [])]).toEqual([1, 2]);
  });

  it('writes helper values', () => {
    expect(loads(dumps([new PyFloat(2), new PyName('ab'), new PyName('ab')], { protocol: 2 }))).toEqual([
      2,
      'ab',
      'ab',
    ]);
    expect(countOf(dumps([new PyName('ab'), new PyName('ab')], { protocol: 2 }), 0x68)).toBe(1);
    const r = new Reduced({
      callable: new PyGlobal('builtins', 'complex'),
      kind: 'reduce',
      args: [new PyFloat(1), new PyFloat(2)],
    });
    expect(loads(dumps([r, r]))).toEqual([new Complex(1, 2), new Complex(1, 2)]);
  });

  it('maps Date to an aware datetime in UTC', () => {
    const d = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678));
    // CPython: pickle.dumps(datetime(2020,1,2,3,4,5,678000,tzinfo=timezone.utc), 2)
    expect(hex(dumps(d, { protocol: 2 }))).toBe(
      '8002636461746574696d650a6461746574696d650a7100635f636f646563730a656e636f64650a7101580b00000007c3a401020304050a5870710258060000006c6174696e317103867104527105636461746574696d650a74696d657a6f6e650a7106636461746574696d650a74696d6564656c74610a71074b004b004b0087710852710985710a52710b86710c52710d2e',
    );
    expect(() => dumps(new Date(NaN))).toThrow(PicklingError);
  });

  it('writes sets and frozensets per protocol', () => {
    expect(hex(dumps(new FrozenSet(), { protocol: 4 }))).toBe('80049504000000000000002891942e');
    expect(loads(dumps([new Set([1, 2]), new FrozenSet([3])], { protocol: 2 }))).toEqual([
      new Set([1, 2]),
      new FrozenSet([3]),
    ]);
    expect(() => dumps(new Set([[1]]))).toThrow(/hashable/);
  });

  it('writes bytearrays per protocol', () => {
    for (let p = 0; p <= 5; p++) {
      const v = [ByteArray.from([1, 2]), new ByteArray(0), ByteArray.from([7])];
      expect(loads(dumps(v, { protocol: p }))).toEqual(v);
    }
  });
});

describe('options', () => {
  it('rejects unknown protocols and maps negative ones to 5', () => {
    expect(() => dumps(1, { protocol: 6 })).toThrow(PicklingError);
    expect(dumps(1, { protocol: -1 })[1]).toBe(5);
  });

  it('writes Python 2 names at protocol <= 2 unless fixImports is off', () => {
    const g = new PyGlobal('builtins', 'range');
    expect(Buffer.from(dumps(g, { protocol: 2 })).toString('latin1')).toContain('c__builtin__\nxrange\n');
    expect(Buffer.from(dumps(g, { protocol: 2, fixImports: false })).toString('latin1')).toContain(
      'cbuiltins\nrange\n',
    );
    expect(Buffer.from(dumps(g, { protocol: 3 })).toString('latin1')).toContain('cbuiltins\nrange\n');
  });
});

describe('dump', () => {
  it('writes atomically and leaves no temporary file on failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-dump-'));
    const target = join(dir, 'out.pkl');
    await dump(target, { a: [1, 2] });
    expect(loads(new Uint8Array(readFileSync(target)))).toEqual({ a: [1, 2] });
    writeFileSync(target, 'old');
    await expect(dump(target, { a: undefined })).rejects.toThrow(PicklingError);
    expect(readFileSync(target, 'utf8')).toBe('old');
    await expect(dump(join(dir, 'missing', 'x.pkl'), 1)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['out.pkl']);
  });
});
