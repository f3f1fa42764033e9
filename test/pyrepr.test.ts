// Python repr() of str / bytes / bytearray / float / int, checked against the real Python in one
// batched call (expectations are produced live, not written by hand).
import { execaSync } from 'execa';
import { expect, test } from 'vitest';
import {
  reprByteArray,
  reprBytes,
  reprCodePoints,
  reprFloat,
  reprInt,
  reprStr,
  ReprError,
} from '../src/tools/pyrepr.js';
import { describeWithPython } from './helpers/python.js';

type Case =
  | { t: 'str'; v: string }
  | { t: 'cps'; v: number[] }
  | { t: 'bytes'; v: string }
  | { t: 'bytearray'; v: string }
  | { t: 'float'; v: string }
  | { t: 'int'; v: string };

const PY = String.raw`
import json, struct, sys
out = []
for c in json.load(sys.stdin):
    t, v = c['t'], c['v']
    try:
        if t == 'str': x = v
        elif t == 'cps': x = ''.join(map(chr, v))
        elif t == 'bytes': x = bytes.fromhex(v)
        elif t == 'bytearray': x = bytearray.fromhex(v)
        elif t == 'float': x = struct.unpack('>d', bytes.fromhex(v))[0]
        else: x = int(v) if len(v) < 4000 else int(v[:2000]) * 10 ** (len(v) - 2000) + int(v[2000:])
        out.append({'ok': repr(x)})
    except ValueError as e:
        out.append({'error': str(e)})
# ensure_ascii keeps lone surrogates transportable
sys.stdout.write(json.dumps(out))
`;

function floatHex(x: number): string {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x, false);
  return Array.from(new Uint8Array(b.buffer), (v) => v.toString(16).padStart(2, '0')).join('');
}
function hex(b: Uint8Array): string {
  return Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
}

const STRINGS = [
  '',
  'abc',
  "it's",
  'say "hi"',
  'both \' and "',
  '\t\n\r\x0b\x0c',
  '\x00\x01\x1f\x7f',
  '\x80\x85\x9f\xa0\xad\xff',
  'é中文Ω',
  '\u200b\u200e\u2028\u2029\ufeff',
  '\ud800',
  'a\udfffb',
  '\udc80\ud800x',
  '😀',
  '\u{e0001}',
  '\u{10ffff}',
  '\ue000',
  '\u0378',
  '\u3000 \u00a0',
  '\\',
  '\\\'"',
  '\u{1d400}\u{1f1e6}',
  'x'.repeat(10000) + "'",
  '\u0600\u061c\u180e',
];

const CODE_POINTS = [
  [0xd800, 0xdc00],
  [0x27, 0xd83d, 0xde00],
  [0xdbff, 0xdfff, 0x22],
];

const BYTES = [
  new Uint8Array([]),
  new Uint8Array([0x27]),
  new Uint8Array([0x22]),
  new Uint8Array([0x27, 0x22]),
  new Uint8Array([0x00, 0xff, 0x7f, 0x80, 0x20, 0x5c, 0x09, 0x0a, 0x0d]),
  Uint8Array.from({ length: 256 }, (_, i) => i),
];

// Deterministic pseudo-random doubles from raw bit patterns (xorshift), plus hand-picked edges.
function randomDoubles(n: number): number[] {
  let s = 0x9e3779b9;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const out: number[] = [];
  const dv = new DataView(new ArrayBuffer(8));
  while (out.length < n) {
    dv.setUint32(0, next());
    dv.setUint32(4, next());
    const x = dv.getFloat64(0);
    if (Number.isFinite(x)) out.push(x);
    out.push(next() / 1000, next() * 1e10, 1 / (next() + 1));
  }
  return out;
}

const FLOATS = [
  1e16,
  1e15,
  9999999999999998,
  1e-5,
  1e-4,
  0.0001234,
  0.1 + 0.2,
  5e-324,
  1.7976931348623157e308,
  -0,
  0,
  NaN,
  Infinity,
  -Infinity,
  1,
  -1.5,
  123456789012345680,
  1.5e300,
  2.5e-7,
  100,
  0.001,
  1234.5678,
  2 ** 53 + 2,
  1e22,
  1e21,
  1e-7,
  2 ** 53,
  2 ** -1074 * 3,
  ...randomDoubles(400),
];

const INTS = [
  '0',
  '-1',
  '255',
  String(2n ** 64n),
  String(-(2n ** 63n)),
  '9'.repeat(4300),
  '1' + '0'.repeat(4300),
];

const cases: Case[] = [
  ...STRINGS.map((v) => ({ t: 'str' as const, v })),
  ...CODE_POINTS.map((v) => ({ t: 'cps' as const, v })),
  ...BYTES.map((v) => ({ t: 'bytes' as const, v: hex(v) })),
  ...BYTES.map((v) => ({ t: 'bytearray' as const, v: hex(v) })),
  ...FLOATS.map((v) => ({ t: 'float' as const, v: floatHex(v) })),
  ...INTS.map((v) => ({ t: 'int' as const, v })),
];

function ours(c: Case): { ok: string } | { error: string } {
  try {
    switch (c.t) {
      case 'str':
        return { ok: reprStr(c.v) };
      case 'cps':
        return { ok: reprCodePoints(c.v) };
      case 'bytes':
        return { ok: reprBytes(Buffer.from(c.v, 'hex')) };
      case 'bytearray':
        return { ok: reprByteArray(Buffer.from(c.v, 'hex')) };
      case 'float':
        return { ok: reprFloat(Buffer.from(c.v, 'hex').readDoubleBE(0)) };
      case 'int':
        return { ok: reprInt(BigInt(c.v)) };
    }
  } catch (e) {
    if (e instanceof ReprError) return { error: e.message };
    throw e;
  }
}

describeWithPython('Python repr', (python) => {
  const expected: ({ ok: string } | { error: string })[] = JSON.parse(
    execaSync(python, ['-I', '-c', PY], { input: JSON.stringify(cases) }).stdout,
  );
  test('Python answered for every case', () => {
    expect(expected).toHaveLength(cases.length);
  });
  for (const kind of ['str', 'cps', 'bytes', 'bytearray', 'float', 'int'] as const) {
    test(`${kind} reprs match Python`, () => {
      const idx = cases.map((c, i) => [c, i] as const).filter(([c]) => c.t === kind);
      expect(idx.length).toBeGreaterThan(0);
      for (const [c, i] of idx) expect({ case: c.v, ...ours(c) }).toEqual({ case: c.v, ...expected[i] });
    });
  }
  test('a JS string with a surrogate pair is one astral character, as Python sees it', () => {
    expect(reprStr('\ud83d\ude00')).toBe("'😀'");
    expect(reprCodePoints([0xd83d, 0xde00])).toBe("'\\ud83d\\ude00'");
  });
});
