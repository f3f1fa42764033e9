/**
 * Byte-for-byte equality with CPython: for every pickle that `pickle.dumps` wrote under fixtures/
 * (hand-made `raw` streams excluded), `dumps(loads(bytes, {lossless: true}), {protocol, lossless:
 * true, allowGlobals: true})` must give the same bytes, except the explained cases below. Every
 * re-encoded pickle must also decode to the fixture's description.
 */
import { describe, expect, it } from 'vitest';
import { dumps, loads, PicklingError, PyGlobal, PyObject } from '../src/index.js';
import { canonicalJson, describe as describeValue } from './helpers/describe.js';
import {
  expectedDesc,
  loadIndex,
  loadOptionsFor,
  pickleFiles,
  readFixtureBytes,
  readMeta,
  type FixtureEntry,
} from './helpers/fixtures.js';

/**
 * Fixtures whose bytes we cannot reproduce, and why. `semantic: false` marks the ones that also
 * decode differently (the JS value itself cannot hold what Python had).
 */
const EXCEPTIONS: Record<
  string,
  { reason: string; protocols?: number[]; semantic?: false; shareStrings?: true }
> = {
  'core/dict_negzero_key': {
    reason: 'a JS Map normalizes the key -0.0 to 0.0, so the decoded value already lost the sign',
    semantic: false,
  },
  'core/str_split_pair': {
    reason:
      "Python's '\\ud800\\udc00' (two code points) and '\\U00010000' are the same JS string; we write the 4-byte form",
    semantic: false,
  },
  'core/obj_dict_subclass': {
    reason:
      'the decoder keeps copyreg._reconstructor(cls, dict, state) as a PyObject of cls with args (dict, state); the writer emits cls(dict, state)',
    protocols: [0, 1],
  },
  'core/obj_list_subclass': {
    reason: 'same as obj_dict_subclass, for a list subclass',
    protocols: [0, 1],
  },
  'core/obj_enum': {
    reason:
      "the decoder resolves getattr(Color, 'RED') to the global 'Color.RED'; at protocol >= 4 the writer emits it as a dotted STACK_GLOBAL",
    protocols: [4, 5],
  },
  'core/obj_enum_list': { reason: 'same as obj_enum', protocols: [4, 5] },
  'core/obj_newargs_ex': {
    reason:
      "Python shared one str object ('bee') between the kwargs and the state; JS strings have no identity",
    protocols: [2, 3, 4, 5],
    shareStrings: true,
  },
};

/** Families whose every class has a reducer today (others are counted, not required). */
const REQUIRED = new Set(['core', 'stdlib']);

interface Outcome {
  family: string;
  name: string;
  path: string;
  protocol: number;
  status: 'identical' | 'differs' | 'undecodable' | 'unsupported';
  /** Identical when written with shareStrings: true. */
  shared?: boolean;
  semantic?: boolean;
  detail?: string;
}

function run(entry: FixtureEntry): Outcome[] {
  const meta = readMeta(entry);
  if (meta.raw) return [];
  const out: Outcome[] = [];
  for (const f of pickleFiles(entry)) {
    const base = { family: entry.family, name: entry.name, path: f.path, protocol: f.protocol };
    const data = readFixtureBytes(f.path);
    let value: unknown;
    try {
      value = loads(data, loadOptionsFor(meta).options);
    } catch (e) {
      out.push({ ...base, status: 'undecodable', detail: (e as Error).message });
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = dumps(value, { protocol: f.protocol, lossless: true, allowGlobals: true });
    } catch (e) {
      if (e instanceof PicklingError && !REQUIRED.has(entry.family)) {
        out.push({ ...base, status: 'unsupported', detail: e.message });
        continue;
      }
      throw e;
    }
    const same = Buffer.compare(Buffer.from(bytes), Buffer.from(data)) === 0;
    let shared: boolean | undefined;
    if (!same) {
      const alt = dumps(value, {
        protocol: f.protocol,
        lossless: true,
        allowGlobals: true,
        shareStrings: true,
      });
      shared = Buffer.compare(Buffer.from(alt), Buffer.from(data)) === 0;
    }
    let semantic: boolean | undefined;
    const want = expectedDesc(meta, f.protocol);
    if (want !== null && want !== undefined && !meta.persistent && !meta.buffers) {
      try {
        semantic = canonicalJson(describeValue(loads(bytes, { lossless: true }))) === canonicalJson(want);
      } catch {
        semantic = false;
      }
    }
    out.push({ ...base, status: same ? 'identical' : 'differs', semantic, shared });
  }
  return out;
}

const entries = loadIndex();
const outcomes = entries.flatMap(run);

describe('re-encoding CPython fixtures gives the same bytes', () => {
  it('covers the fixtures', () => {
    expect(outcomes.filter((o) => REQUIRED.has(o.family)).length).toBeGreaterThan(1000);
  });

  it('is byte-identical for core and stdlib, except the explained cases', () => {
    const unexplained = outcomes.filter((o) => {
      if (!REQUIRED.has(o.family) || o.status === 'identical') return false;
      const ex = EXCEPTIONS[`${o.family}/${o.name}`];
      return !(ex && (ex.protocols === undefined || ex.protocols.includes(o.protocol)));
    });
    expect(unexplained.map((o) => `${o.path}: ${o.status} ${o.detail ?? ''}`)).toEqual([]);
  });

  it('matches with shareStrings where Python shared a str object', () => {
    const shared = outcomes.filter(
      (o) => EXCEPTIONS[`${o.family}/${o.name}`]?.shareStrings && o.status === 'differs',
    );
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.filter((o) => !o.shared).map((o) => o.path)).toEqual([]);
  });

  it('decodes back to the fixture description', () => {
    const wrong = outcomes.filter((o) => {
      if (o.semantic !== false) return false;
      return EXCEPTIONS[`${o.family}/${o.name}`]?.semantic !== false;
    });
    expect(wrong.map((o) => o.path)).toEqual([]);
  });

  it('reports the byte-identical counts per family and protocol', () => {
    const table: Record<string, Record<number, string>> = {};
    for (const o of outcomes) {
      const row = (table[o.family] ??= {});
      const [ok, all] = (row[o.protocol] ?? '0/0').split('/').map(Number) as [number, number];
      row[o.protocol] = `${ok + (o.status === 'identical' ? 1 : 0)}/${all + 1}`;
    }
    if (process.env['PICKLEJAR_REPORT']) console.log(JSON.stringify(table, null, 1));
    // Floors, so that a growing exception list cannot hide a regression: today core is 828/850 and
    // stdlib 618/618 (CPython 3.11 fixtures).
    const share = (fam: string): number =>
      outcomes.filter((o) => o.family === fam && o.status === 'identical').length /
      outcomes.filter((o) => o.family === fam).length;
    expect(share('core')).toBeGreaterThan(0.97);
    expect(share('stdlib')).toBe(1);
  });
});

describe('decoder markers the writer honours', () => {
  // The decoder marks how it rebuilt these values (copyreg._reconstructor of a builtin subclass,
  // getattr(cls, name)); the writer then reproduces CPython's bytes exactly. The test marks nothing
  // itself, except checking that the markers are there.
  const cases: [string, 'reconstructor' | 'getattr'][] = [
    ['core/obj_dict_subclass.p0.pkl', 'reconstructor'],
    ['core/obj_dict_subclass.p1.pkl', 'reconstructor'],
    ['core/obj_list_subclass.p0.pkl', 'reconstructor'],
    ['core/obj_list_subclass.p1.pkl', 'reconstructor'],
    ['core/obj_enum.p4.pkl', 'getattr'],
    ['core/obj_enum.p5.pkl', 'getattr'],
    ['core/obj_enum_list.p4.pkl', 'getattr'],
    ['core/obj_enum_list.p5.pkl', 'getattr'],
    ['core/obj_enum.p2.pkl', 'getattr'],
  ];
  it.each(cases)('%s with the %s marker', (path, marker) => {
    const data = readFixtureBytes(path);
    const protocol = Number(path.slice(-5, -4));
    const value = loads(data, { lossless: true });
    let marked = 0;
    const count = (x: unknown): void => {
      if (
        marker === 'reconstructor' &&
        x instanceof PyObject &&
        (x as unknown as Record<string, unknown>)['__reconstructor__'] === true
      )
        marked++;
      if (
        marker === 'getattr' &&
        x instanceof PyGlobal &&
        (x as unknown as Record<string, unknown>)['viaGetattr'] === true
      )
        marked++;
      if (x instanceof PyObject) [...x.__args__].forEach(count);
      if (Array.isArray(x)) x.forEach(count);
    };
    count(value);
    expect(marked).toBeGreaterThan(0);
    const out = dumps(value, { protocol, lossless: true, allowGlobals: true });
    expect(Buffer.from(out).toString('hex')).toBe(Buffer.from(data).toString('hex'));
  });
});
