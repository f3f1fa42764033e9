// Category 10 — prototype pollution. Keys such as '__proto__', 'constructor', 'prototype' (and
// members like 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'then') in plain dicts (default
// mode), in BUILD states, in (dict, slots) states, in NEWOBJ_EX kwargs, in stdlib containers, numpy
// dtype field names, pandas columns, joblib containers and wrapper states, and in jsonpickle input:
// Object.prototype (and the other shared prototypes) stay untouched, the values are present as own
// data properties (or Map keys), and every consumer of such values still works.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFrame, dumps, loads, NDArray, PyObject } from '../../src/index.js';
import { fromJsonPickle } from '../../src/interop/jsonpickle-read.js';
import { toJsonPickle } from '../../src/interop/jsonpickle-write.js';
import {
  CaseLog,
  bytes,
  decodes,
  sbu,
  show,
  survives,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';
import { readFixtureBytes } from '../helpers/fixtures.js';

const log = new CaseLog('pollution.test.ts');
afterAll(() => log.print());
watchPrototypes();

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'toJSON',
  'then',
];

type JsonView = { toJSONValue: (v: unknown) => unknown; toPlainJson: (v: unknown) => string };
let jsonview: JsonView | undefined;
beforeAll(async () => {
  const url = new URL('../../src/interop/jsonview.ts', import.meta.url);
  if (existsSync(fileURLToPath(url))) jsonview = (await import(/* @vite-ignore */ url.href)) as JsonView;
});

/** `key` is an own, enumerable data property of `obj` (or a key of a Map), holding `value` if given. */
function expectOwn(obj: unknown, key: string, context: string, value?: unknown): void {
  if (obj instanceof Map) {
    expect(obj.has(key), `${context}: Map key ${key}`).toBe(true);
    if (value !== undefined) expect(obj.get(key), `${context}: ${key}`).toEqual(value);
    return;
  }
  const d = Object.getOwnPropertyDescriptor(obj as object, key);
  expect(d, `${context}: own property ${key}`).toBeDefined();
  expect(d?.get, `${context}: ${key} is not an accessor`).toBeUndefined();
  expect(d?.set).toBeUndefined();
  expect(d?.enumerable, `${context}: ${key} enumerable`).toBe(true);
  if (value !== undefined) expect(d?.value, `${context}: ${key}`).toEqual(value);
}

/** A dict in either mode as a plain object (Map in lossless mode). */
function plain(v: unknown): unknown {
  return v instanceof Map ? Object.fromEntries(v) : v;
}

/** `expectOwn` for an int value that is a number (default mode) or a bigint (lossless). */
function expectOwnNumber(obj: object, key: string, context: string, value: number): void {
  expectOwn(obj, key, context);
  expect(Number((obj as Record<string, unknown>)[key]), `${context}: ${key}`).toBe(value);
}

/** The prototype is the class's own one (a plain object's is Object.prototype). */
function expectPrototype(obj: unknown, proto: object, context: string): void {
  expect(Object.getPrototypeOf(obj) === proto, `${context}: prototype replaced`).toBe(true);
}

/** Every consumer takes the value (output or a PickleError) and nothing leaks into prototypes. */
function consumersSurvive(v: unknown, context: string): void {
  const cases: [string, () => unknown][] = [
    ['dumps', () => dumps(v, { allowGlobals: true })],
    ['dumps p0', () => dumps(v, { protocol: 0, allowGlobals: true })],
    ['toJsonPickle', () => toJsonPickle(v)],
    ['String()', () => Object.prototype.toString.call(v)],
  ];
  if (jsonview) {
    const jv = jsonview;
    cases.push(['toJSONValue', () => jv.toJSONValue(v)], ['toPlainJson', () => jv.toPlainJson(v)]);
  }
  for (const [name, fn] of cases) survives(log, '10 consumers', `${context}: ${name}`, fn);
}

// ---- hand-made pickles

/** A dict literal of KEYS (values 0..n-1) in default-mode-friendly SETITEMS form, protocol 4. */
function keysDict(valueOf: (i: number) => Part[] = (i) => ['K', i]): Part[] {
  const parts: Part[] = ['}', '('];
  KEYS.forEach((k, i) => parts.push(sbu(k), ...valueOf(i)));
  parts.push('u');
  return parts;
}
const POLLUTER: Part[] = ['}', sbu('polluted'), 0x88, 's', sbu('isAdmin'), 0x88, 's'];

describe('10. prototype pollution', () => {
  it('plain dicts (default mode): SETITEM, SETITEMS, DICT, nested __proto__ dicts', () => {
    const forms: [string, Part[]][] = [
      ['SETITEMS', [0x80, 4, ...keysDict(), '.']],
      ['SETITEM each', [0x80, 4, '}', ...KEYS.flatMap((k, i) => [sbu(k), 'K', i, 's']), '.']],
      ['DICT', [0x80, 4, '(', ...KEYS.flatMap((k, i) => [sbu(k), 'K', i]), 'd.']],
      ['protocol 0 DICT', ['(', ...KEYS.flatMap((k, i) => [`V${k}\nI${i}\n`]), 'd.']],
      [
        '__proto__ holding a dict',
        [
          0x80,
          4,
          '}',
          sbu('__proto__'),
          ...POLLUTER,
          's',
          sbu('constructor'),
          '}',
          sbu('prototype'),
          ...POLLUTER,
          's',
          's.',
        ],
      ],
    ];
    for (const [label, parts] of forms) {
      const data = bytes(...parts);
      const v = decodes(log, '10 plain dicts', `${label}: ${show(data, 40)}`, () => loads(data)) as Record<
        string,
        unknown
      >;
      expectPrototype(v, Object.prototype, label);
      if (label.startsWith('__proto__')) {
        expectOwn(v, '__proto__', label, { polluted: true, isAdmin: true });
        expectOwn(v, 'constructor', label, { prototype: { polluted: true, isAdmin: true } });
      } else KEYS.forEach((k, i) => expectOwn(v, k, label, i));
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      consumersSurvive(v, label);
      // Lossless mode: a Map with the same keys.
      const m = decodes(log, '10 plain dicts', `${label} (lossless)`, () => loads(data, { lossless: true }));
      expect(m).toBeInstanceOf(Map);
      if (!label.startsWith('__proto__')) KEYS.forEach((k) => expectOwn(m, k, `${label} lossless`));
    }
  });

  it('a dict that turns into a Map after __proto__ (a non-str key follows), also through the memo', () => {
    // {'__proto__': {...}, 'constructor': 1, 1: 'x'} and the same dict shared by a list and a cycle.
    const data = bytes(
      0x80,
      4,
      ']',
      0x94,
      '}',
      0x94,
      '(',
      sbu('__proto__'),
      ...POLLUTER,
      sbu('constructor'),
      'K',
      1,
      'u',
      '0', // L, D
      'h',
      1,
      'a', // L = [D]
      'h',
      1,
      sbu('self'),
      'h',
      1,
      's',
      '0', // D['self'] = D
      'h',
      1,
      'h',
      1,
      0x86,
      'a', // L = [D, (D, D)]
      'h',
      1,
      '(',
      'K',
      1,
      sbu('x'),
      'u',
      '0', // D[1] = 'x': D becomes a Map
      '.',
    );
    const v = decodes(log, '10 plain dicts', 'upgraded to Map, shared and cyclic', () =>
      loads(data),
    ) as unknown[];
    const d = v[0] as Map<unknown, unknown>;
    expect(d).toBeInstanceOf(Map);
    expectOwn(d, '__proto__', 'upgraded', { polluted: true, isAdmin: true });
    expect(d.get(1)).toBe('x');
    expect(d.get('self')).toBe(d);
    expect((v[1] as unknown[])[0]).toBe(d);
    expect((v[1] as unknown[])[1]).toBe(d);
  });

  it('BUILD states, (dict, slots) states and NEWOBJ_EX kwargs of objects', () => {
    const FOO: Part[] = [0x80, 4, sbu('foo'), sbu('Bar'), 0x93, 0x94];
    const forms: [string, Part[], (o: PyObject) => void][] = [
      [
        'BUILD dict',
        [...FOO, ')', 0x81, ...keysDict(), 'b.'],
        (o) => KEYS.forEach((k, i) => expectOwnNumber(o, k, 'BUILD', i)),
      ],
      [
        'BUILD (None, slots)',
        [...FOO, ')', 0x81, 'N', ...keysDict(), 0x86, 'b.'],
        (o) => KEYS.forEach((k, i) => expectOwnNumber(o, k, 'slots', i)),
      ],
      [
        'BUILD (dict, slots)',
        [
          ...FOO,
          ')',
          0x81,
          '}',
          sbu('__proto__'),
          ...POLLUTER,
          's',
          '}',
          sbu('constructor'),
          ...POLLUTER,
          's',
          0x86,
          'b.',
        ],
        (o) => {
          expectOwn(o, '__proto__', 'dict half');
          expectOwn(o, 'constructor', 'slots half');
          expect(plain(o['__proto__'])).toEqual({ polluted: true, isAdmin: true });
          expect(plain(o['constructor'])).toEqual({ polluted: true, isAdmin: true });
        },
      ],
      [
        'BUILD __proto__ dict',
        [...FOO, ')', 0x81, '}', sbu('__proto__'), ...POLLUTER, 's', 'b.'],
        (o) => {
          expectOwn(o, '__proto__', 'BUILD');
          expect(plain(o['__proto__'])).toEqual({ polluted: true, isAdmin: true });
        },
      ],
      [
        'NEWOBJ_EX kwargs',
        [...FOO, ')', ...keysDict(), 0x92, '.'],
        (o) => {
          expect(o.__kwargs__).toBeInstanceOf(Map);
          KEYS.forEach((k, i) => expect(Number(o.__kwargs__?.get(k))).toBe(i));
          expect(Object.keys(o)).toEqual([]);
        },
      ],
      [
        'dict subclass items (SETITEMS on an object)',
        [...FOO, ')', 0x81, '(', ...KEYS.flatMap((k, i) => [sbu(k), 'K', i]), 'u.'],
        (o) => {
          KEYS.forEach((k, i) => expect(Number(o.__dictitems__?.get(k))).toBe(i));
        },
      ],
    ];
    for (const [label, parts, check] of forms) {
      const data = bytes(...parts);
      for (const lossless of [false, true]) {
        const o = decodes(log, '10 object states', `${label}${lossless ? ' (lossless)' : ''}`, () =>
          loads(data, { lossless }),
        ) as PyObject;
        expect(o).toBeInstanceOf(PyObject);
        expectPrototype(o, PyObject.prototype, label);
        expect(o.__class__.qualifiedName).toBe('foo.Bar');
        check(o);
        consumersSurvive(o, label);
      }
    }
  });

  it('joblib NumpyArrayWrapper states with polluting keys still decode the array', () => {
    const DTYPE: Part[] = [
      'cnumpy\ndtype\nVf8\n',
      0x89,
      0x88,
      0x87,
      'R(K',
      3,
      'V<\nNNNJ',
      [255, 255, 255, 255],
      'J',
      [255, 255, 255, 255],
      'K',
      0,
      'tb',
    ];
    const data = bytes(
      0x80,
      2,
      'cjoblib.numpy_pickle\nNumpyArrayWrapper\n)',
      0x81,
      '}(',
      'V__proto__\n}Vpolluted\n',
      0x88,
      's',
      'Vconstructor\n}Vprototype\n}Vpolluted\n',
      0x88,
      'ss',
      'Vsubclass\ncnumpy\nndarray\n',
      'Vshape\nK',
      2,
      0x85,
      'Vorder\nVC\n',
      'Vdtype\n',
      ...DTYPE,
      'Vallow_mmap\n',
      0x88,
      'Vnumpy_array_alignment_bytes\nN',
      'ub',
      [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40],
      '.',
    );
    for (const lossless of [false, true]) {
      const a = decodes(
        log,
        '10 joblib states',
        `wrapper state with __proto__${lossless ? ' (lossless)' : ''}`,
        () => loads(data, { lossless }),
      );
      expect(a).toBeInstanceOf(NDArray);
      expect((a as NDArray).toArray()).toEqual([1, 2]);
    }
  });

  describe('Python-made values with polluting names (scripts/fixtures_hostile_extra.py)', () => {
    const index = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../fixtures/hostile-extra/index.json', import.meta.url)),
        'utf8',
      ),
    ) as {
      files: { path: string; kind: string; keys: string[]; cls?: string }[];
    };
    it('the fixture set covers dicts, objects, containers, numpy, pandas and joblib', () => {
      expect(new Set(index.files.map((f) => f.kind))).toEqual(
        new Set(['dict', 'dict-shared', 'map', 'object', 'container', 'ndarray', 'dataframe', 'joblib']),
      );
    });
    for (const f of index.files) {
      it(f.path, () => {
        const data = readFixtureBytes(f.path);
        for (const lossless of [false, true]) {
          const ctx = `${f.path}${lossless ? ' (lossless)' : ''}`;
          const v = decodes(log, '10 Python-made', ctx, () => loads(data, { lossless }));
          checkPythonMade(f, v, ctx, lossless);
          consumersSurvive(v, ctx);
          // What the writer makes of it reads back with the same names.
          if (f.kind !== 'dataframe' && f.kind !== 'ndarray') {
            const again = survives(log, '10 Python-made', `${ctx}: loads(dumps)`, () =>
              loads(dumps(v, { allowGlobals: true }), { lossless }),
            );
            if (again.value !== undefined) checkPythonMade(f, again.value, `${ctx} after dumps`, lossless);
          }
        }
      });
    }
  });

  it('jsonpickle input with polluting keys (fromJsonPickle)', () => {
    const texts: [string, (v: unknown) => void][] = [
      [
        '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
        (v) => {
          expectPrototype(v, Object.prototype, 'plain');
          expectOwn(v, '__proto__', 'plain', { polluted: true });
          expectOwn(v, 'constructor', 'plain', { prototype: { polluted: true } });
        },
      ],
      [
        '{"json://\\"__proto__\\"": {"polluted": true}, "json://\\"toString\\"": 1}',
        (v) => {
          expectOwn(v, '__proto__', 'json:// key', { polluted: true });
          expectOwn(v, 'toString', 'json:// key');
        },
      ],
      [
        '{"py/object": "foo.Bar", "__proto__": {"polluted": true}, "toString": 1, "valueOf": 2}',
        (v) => {
          expectPrototype(v, PyObject.prototype, 'py/object');
          expectOwn(v, '__proto__', 'py/object', { polluted: true });
          expectOwn(v, 'toString', 'py/object');
        },
      ],
      [
        '{"py/object": "foo.Bar", "py/state": {"__proto__": {"polluted": true}, "constructor": 1}}',
        (v) => {
          expectOwn(v, '__proto__', 'py/state', { polluted: true });
          expectOwn(v, 'constructor', 'py/state', 1);
        },
      ],
      [
        '{"py/object": "foo.Bar", "py/newargsex": [{"py/tuple": []}, {"__proto__": {"polluted": 1}}]}',
        (v) => {
          expect((v as PyObject).__kwargs__?.has('__proto__')).toBe(true);
        },
      ],
      [
        '{"py/reduce": [{"py/type": "foo.Bar"}, {"py/tuple": []}, {"__proto__": {"polluted": 1}}]}',
        (v) => expectOwn(v, '__proto__', 'py/reduce state'),
      ],
      [
        '{"py/object": "collections.OrderedDict", "__proto__": {"polluted": 1}, "constructor": 2}',
        (v) => {
          expect((v as Map<string, unknown>).get('__proto__')).toEqual({ polluted: 1 });
          expect((v as Map<string, unknown>).get('constructor')).toBe(2);
        },
      ],
      [
        '[{"__proto__": {"polluted": 1}}, {"py/id": 1}, {"py/id": 1}]',
        (v) => {
          const arr = v as Record<string, unknown>[];
          expectOwn(arr[0], '__proto__', 'shared', { polluted: 1 });
          expect(arr[1]).toBe(arr[0]);
        },
      ],
    ];
    for (const [text, check] of texts) {
      const v = decodes(log, '10 jsonpickle input', text.slice(0, 60), () => fromJsonPickle(text));
      check(v);
      consumersSurvive(v, text.slice(0, 40));
    }
  });
});

function checkPythonMade(
  f: { kind: string; keys: string[]; cls?: string },
  v: unknown,
  ctx: string,
  lossless: boolean,
): void {
  switch (f.kind) {
    case 'dict':
    case 'map':
    case 'container':
    case 'joblib': {
      if (f.kind === 'dict' || f.kind === 'joblib') {
        if (!lossless) expectPrototype(v, Object.prototype, ctx);
      }
      for (const k of f.keys) {
        if (v instanceof Map) expect(v.has(k), `${ctx}: key ${k}`).toBe(true);
        else expectOwn(v, k, ctx);
      }
      if (f.kind === 'dict' && !lossless) {
        expect((v as Record<string, unknown>)['__proto__']).toEqual({ polluted: true, isAdmin: true });
      }
      break;
    }
    case 'dict-shared': {
      const arr = v as unknown[];
      expect(arr[1]).toBe(arr[0]);
      const inner =
        arr[2] instanceof Map ? arr[2].get('inner') : (arr[2] as Record<string, unknown>)['inner'];
      expect(inner).toBe(arr[0]);
      for (const k of f.keys) {
        if (arr[0] instanceof Map) expect(arr[0].has(k)).toBe(true);
        else expectOwn(arr[0], k, ctx);
      }
      break;
    }
    case 'object': {
      expect(v).toBeInstanceOf(PyObject);
      expectPrototype(v, PyObject.prototype, ctx);
      expect((v as PyObject).__qualname__).toBe(f.cls);
      for (const k of f.keys) expectOwn(v, k, ctx);
      break;
    }
    case 'ndarray': {
      const a = v as NDArray;
      expect(a).toBeInstanceOf(NDArray);
      expect([...(a.dtype.fields?.keys() ?? [])]).toEqual(f.keys);
      const rec = a.record(0);
      expectPrototype(rec, Object.prototype, `${ctx} record`);
      for (const k of f.keys) expectOwn(rec, k, `${ctx} record`);
      expect(rec['__proto__']).toBe(1.5);
      expect(a.field('constructor').toArray().map(Number)).toEqual([7, 8, 9]);
      break;
    }
    case 'dataframe': {
      const df = v as DataFrame;
      expect(df).toBeInstanceOf(DataFrame);
      expect(df.columns).toEqual(f.keys);
      const cols = df.toColumns();
      expectPrototype(cols, Object.prototype, ctx);
      for (const k of f.keys) expectOwn(cols, k, `${ctx} columns`);
      const rows = df.toRecords();
      for (const k of f.keys) expectOwn(rows[0], k, `${ctx} records`);
      expect(df.column('__proto__')?.map(Number)).toEqual([1, 2]);
      break;
    }
    default:
      throw new Error(`unknown kind ${f.kind}`);
  }
}
