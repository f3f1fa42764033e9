/**
 * Every core fixture at every protocol: the lossless decode must describe exactly as Python's value
 * did (fixtures/core/<name>.json, written by scripts/gen_fixtures.py from CPython's own pickles).
 */
import { describe, expect, it } from 'vitest';
import { loads, loadsAll, UnpicklingError } from '../src/index.js';
import { ByteArray, PyGlobal, PyObject, Tuple } from '../src/python/values.js';
import { describe as describeValue } from './helpers/describe.js';
import {
  expectedDesc,
  fixturesOf,
  loadOptionsFor,
  pickleFiles,
  readFixtureBytes,
  readMeta,
  type Encoding,
  type FixtureEntry,
  type FixtureMeta,
} from './helpers/fixtures.js';

const entries = fixturesOf('core');

/**
 * Values JS cannot hold exactly (README, "Known limitations"): the decoded value is the nearest JS
 * value, and the test says which. Each maps Python's description to the one picklejar must produce.
 */
const LIMITATIONS: Record<string, { why: string; nearest: (want: unknown) => unknown }> = {
  dict_negzero_key: {
    why: 'a JS Map stores the key -0.0 as +0 (SameValueZero), so {-0.0: x} decodes as {0.0: x}',
    nearest: (want) =>
      JSON.parse(JSON.stringify(want).replaceAll('{"t":"float","v":"-0.0"}', '{"t":"float","v":"0.0"}')),
  },
};

function decodeDesc(meta: FixtureMeta, data: Uint8Array, encoding?: Encoding) {
  const { options, pids } = loadOptionsFor(meta, encoding === undefined ? {} : { encoding });
  const desc = meta.multi
    ? loadsAll(data, options).map((v) => describeValue(v))
    : describeValue(loads(data, options));
  return { desc, pids: pids.map((p) => describeValue(p)) };
}

describe('core fixtures', () => {
  it('exist', () => {
    expect(entries.length).toBeGreaterThan(150);
  });

  for (const entry of entries) {
    const meta = readMeta(entry);
    describe(entry.name, () => {
      const limitation = LIMITATIONS[entry.name];
      const suffix = limitation === undefined ? '' : ` [JS limitation: ${limitation.why}]`;
      for (const file of pickleFiles(entry)) {
        it(`protocol ${file.protocol}${suffix}`, () => {
          const data = readFixtureBytes(file.path);
          const exact = expectedDesc(meta, file.protocol);
          const want = limitation === undefined || exact === null ? exact : limitation.nearest(exact);
          if (want === null) {
            // Python refuses this stream with the default (ascii) encoding; so must we.
            expect(() => decodeDesc(meta, data)).toThrow(UnpicklingError);
            return;
          }
          const got = decodeDesc(meta, data);
          expect(got.desc).toEqual(want);
          if (meta.persistent) expect(got.pids).toEqual(meta.persistent.pids);
        });
      }
      for (const [encoding, result] of Object.entries(meta.encodings ?? {})) {
        it(`encoding ${encoding}`, () => {
          const data = readFixtureBytes(pickleFiles(entry)[0]!.path);
          if (result.error !== undefined) {
            expect(() => decodeDesc(meta, data, encoding as Encoding)).toThrow(UnpicklingError);
          } else {
            expect(decodeDesc(meta, data, encoding as Encoding).desc).toEqual(result.desc);
          }
        });
      }
    });
  }
});

function file(name: string, protocol: number): Uint8Array {
  const entry = entries.find((e) => e.name === name) as FixtureEntry;
  expect(entry, name).toBeDefined();
  const f = pickleFiles(entry).find((x) => x.protocol === protocol);
  expect(f, `${name} p${protocol}`).toBeDefined();
  return readFixtureBytes(f!.path);
}

describe('default mode (no lossless) on core fixtures', () => {
  for (const p of [0, 2, 5]) {
    it(`protocol ${p}: safe ints are numbers, others bigint`, () => {
      expect(loads(file('int_1', p))).toBe(1);
      expect(loads(file('int_neg2p31', p))).toBe(-(2 ** 31));
      expect(loads(file('int_2p53_plus1', p))).toBe(2n ** 53n + 1n);
      expect(loads(file('int_2p63', p))).toBe(2n ** 63n);
      expect(loads(file('float_1_5', p))).toBe(1.5);
      expect(Object.is(loads(file('float_neg0', p)), -0)).toBe(true);
    });

    it(`protocol ${p}: string-keyed dicts are plain objects, others Maps`, () => {
      const d = loads(file('dict_str_keys', p)) as Record<string, unknown>;
      expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
      expect(d).toEqual({ a: 1, b: [2, 3], c: { d: null } });
      const m = loads(file('dict_int_keys', p));
      expect(m).toBeInstanceOf(Map);
      expect((m as Map<unknown, unknown>).get(-5)).toBe('minus five');
      expect((m as Map<unknown, unknown>).get(2n ** 70n)).toBe('big');
    });

    it(`protocol ${p}: "__proto__" is an own key, nothing is polluted`, () => {
      const d = loads(file('dict_js_names', p)) as Record<string, unknown>;
      expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
      expect(Object.keys(d)).toEqual([
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'valueOf',
        'prototype',
      ]);
      expect(Object.getOwnPropertyDescriptor(d, '__proto__')?.value).toEqual({ polluted: true });
      expect(d['constructor']).toBe(1);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it(`protocol ${p}: tuples, bytes, bytearrays, objects keep their classes`, () => {
      const t = loads(file('tuple_3', p));
      expect(t).toBeInstanceOf(Tuple);
      expect([...(t as Tuple)]).toEqual([1, 'b', null]);
      expect(loads(file('bytes_short', p))).toEqual(new Uint8Array([0x61, 0x62, 0x63]));
      expect(loads(file('bytearray_small', p))).toBeInstanceOf(ByteArray);
      const pt = loads(file('obj_point', p)) as PyObject;
      expect(pt).toBeInstanceOf(PyObject);
      expect(pt.__class__.qualifiedName).toBe('fixture_classes.Point');
      expect({ ...pt }).toEqual({ x: 1, y: 'two' });
      const g = loads(file('global_class', p));
      expect(g).toBeInstanceOf(PyGlobal);
      expect(String(g)).toBe('fixture_classes.Point');
    });
  }

  it('a self-containing list is the same JS array', () => {
    for (const p of [0, 1, 2, 3, 4, 5]) {
      const l = loads(file('list_self', p)) as unknown[];
      expect(l[0]).toBe(l);
    }
  });
});
