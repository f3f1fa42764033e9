/**
 * The plain JSON view (src/interop/jsonview.ts): values pickled by Python, written by toPlainJson,
 * compared byte for byte with json.dumps of the view computed in Python from the value itself (both
 * styles, every number policy); plus the structural guarantees (no recursion, linear output for shared
 * references, bounded indentation, no prototype pollution).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loads } from '../src/load.js';
import { PicklingError } from '../src/errors.js';
import {
  MAX_INDENTED_LEVELS,
  toJSONValue,
  toPlainJson,
  writePlainJson,
  type JSONValue,
  type JSONViewOptions,
} from '../src/interop/jsonview.js';
import { PyGlobal, PyObject, Tuple, tuple } from '../src/python/values.js';
import { DType, ndarrayFromBuffer } from '../src/numpy/index.js';
import { describeWithPython, runPython } from './helpers/python.js';

function b64(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A pickle of `depth` nested lists, `[[[...]]]`, built opcode by opcode (EMPTY_LIST ×n, APPEND ×n-1). */
function nestedListPickle(depth: number): Uint8Array {
  const out = new Uint8Array(2 + depth + (depth - 1) + 1);
  out[0] = 0x80;
  out[1] = 4;
  out.fill(0x5d, 2, 2 + depth);
  out.fill(0x61, 2 + depth, 2 + depth + depth - 1);
  out[out.length - 1] = 0x2e;
  return out;
}

/**
 * The view in Python, from the Python value itself: the $-markers of src/interop/jsonview.ts, and
 * for the number and key rules what json.dumps does (its own key stringification, float repr).
 */
const PY_VIEW = String.raw`
import base64, collections, datetime, decimal, enum, fractions, json, math, pickle, sys, uuid
import numpy as np
import fixtures_jsonpickle as M

def ptr(keys):
    return '#' + ''.join('/' + str(k).replace('~', '~0').replace('/', '~1') for k in keys)

def esc(k):
    return '$' + k if k.startswith('$') else k

def keytext(k):
    # json.dumps' own stringification, for the keys it accepts
    if isinstance(k, str):
        return k
    if isinstance(k, (bool, int, float)) or k is None:
        return json.dumps({k: 0}, allow_nan=True)[1:-4][1:-1]
    return repr(k)

def view(value, tagged=False, nan='null', big='string', max_items=1000):
    first = {}
    keep = []

    def flt(x):
        if math.isfinite(x):
            return x
        if tagged:
            return {'$float': repr(x)}
        if nan == 'null':
            return None
        if nan == 'string':
            return 'NaN' if x != x else ('Infinity' if x > 0 else '-Infinity')
        return x

    def integer(x):
        if -(2**53 - 1) <= x <= 2**53 - 1:
            return x
        if tagged:
            return {'$int': str(x)}
        return str(x) if big == 'string' else x

    def walk(v, path):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and not isinstance(v, enum.Enum):
            return integer(v)
        if isinstance(v, float):
            return flt(v)
        if isinstance(v, (bytes, bytearray)):
            return {'$bytes': base64.b64encode(bytes(v)).decode('ascii')}
        if isinstance(v, complex):
            return {'$complex': [flt(v.real), flt(v.imag)]}
        if isinstance(v, datetime.datetime):
            return {'$datetime': v.isoformat()}
        if isinstance(v, datetime.date):
            return {'$date': v.isoformat()}
        if isinstance(v, datetime.time):
            return {'$time': v.isoformat()}
        if isinstance(v, datetime.timedelta):
            return {'$timedelta': flt(v.total_seconds())}
        if isinstance(v, decimal.Decimal):
            return {'$decimal': str(v)}
        if isinstance(v, fractions.Fraction):
            return {'$fraction': str(v)}
        if isinstance(v, uuid.UUID):
            return {'$uuid': str(v)}
        if isinstance(v, np.dtype):
            return {'$dtype': json.dumps(v.descr, separators=(',', ':')) if v.names or v.subdtype else v.str}
        if isinstance(v, np.generic):
            return walk(v.item(), path)
        if isinstance(v, type) or callable(v):
            return {'$global': f'{v.__module__}.{v.__qualname__}'}
        if id(v) in first:
            return {'$ref': ptr(first[id(v)])}
        first[id(v)] = path
        keep.append(v)
        if isinstance(v, np.ndarray):
            body = {'dtype': json.dumps(v.dtype.descr, separators=(',', ':')) if v.dtype.names else v.dtype.str,
                    'shape': list(v.shape)}
            data = v.view('i8') if v.dtype.kind in 'Mm' else v
            if v.dtype.names:
                flat = [dict(zip(v.dtype.names, r)) for r in data.ravel().tolist()]
            else:
                flat = data.ravel().tolist()
            if v.size > max_items:
                body['truncated'] = True
                body['head'] = walk(flat[:max_items], path + ['$ndarray', 'head'])
            else:
                nested = np.empty(v.shape, dtype=object)
                for i, x in enumerate(flat):
                    nested.flat[i] = x
                body['data'] = walk(nested.tolist() if v.ndim else flat[0], path + ['$ndarray', 'data'])
            return {'$ndarray': body}
        if isinstance(v, (list, tuple, set, frozenset, collections.deque)):
            return [walk(x, path + [i]) for i, x in enumerate(v)]
        if isinstance(v, dict):
            if tagged and not all(isinstance(k, str) for k in v):
                return {'$map': [[walk(k, path + ['$map', i, 0]), walk(x, path + ['$map', i, 1])]
                                 for i, (k, x) in enumerate(v.items())]}
            # Keys json.dumps accepts stay keys (it stringifies them itself); others become their repr.
            out = {}
            for k, x in v.items():
                kk = esc(k) if isinstance(k, str) else k if isinstance(k, (bool, int, float)) or k is None else repr(k)
                out[kk] = walk(x, path + [esc(keytext(k))])
            return out
        if hasattr(v, '__dict__'):
            out = {'$class': f'{type(v).__module__}.{type(v).__qualname__}'}
            for k, x in vars(v).items():
                out[esc(k)] = walk(x, path + [esc(k)])
            return out
        raise TypeError(f'view: {type(v)}')

    return walk(value, [])

def values():
    vs = M._view_values()
    vs['dict_keys'] = {2: 'a', '2': 'b', 1.5: 'c', True: 'd', None: 'e', b'k': 'f', (1, 'x'): 'g',
                       float('nan'): 'h', 1e16: 'i', frozenset({1}): 'j', '$k': 'l'}
    vs['floats'] = [0.0, 1e-05, 1e16, 1.5e-300, 123456789.125, -2.5, float('inf'), float('nan')]
    return vs

STYLES = [
    {'indent': 2},
    {'indent': 0},
    {'indent': 2, 'nan': 'string', 'big': 'number'},
    {'indent': 0, 'nan': 'literal'},
    {'indent': 2, 'tagged': True},
]
out = []
for name, v in values().items():
    texts = []
    for st in STYLES:
        st = dict(st)
        indent = st.pop('indent')
        doc = view(v, **st)
        texts.append(json.dumps(doc, indent=indent or None, separators=(',', ': ') if indent else (',', ':'),
                                ensure_ascii=False, allow_nan=True))
    out.append({'name': name, 'pickle': base64.b64encode(pickle.dumps(v, 4)).decode('ascii'), 'texts': texts})
print(json.dumps({'styles': STYLES, 'values': out}))
`;

interface PyStyle {
  indent: number;
  tagged?: boolean;
  nan?: 'null' | 'string' | 'literal';
  big?: 'string' | 'number';
}

describeWithPython('toPlainJson writes what json.dumps writes for the same view in Python', () => {
  let styles: PyStyle[] = [];
  let values: { name: string; pickle: string; texts: string[] }[] = [];
  beforeAll(async () => {
    const r = JSON.parse((await runPython(PY_VIEW)).stdout) as { styles: PyStyle[]; values: typeof values };
    styles = r.styles;
    values = r.values;
  }, 120_000);

  const optionsOf = (st: PyStyle): JSONViewOptions => ({
    lossless: true,
    ...(st.tagged ? { tagged: true } : {}),
    ...(st.nan ? { nonFinite: st.nan } : {}),
    ...(st.big ? { bigInts: st.big } : {}),
  });

  it('every value, every style: the same text, byte for byte', () => {
    expect(values.length).toBeGreaterThan(25);
    for (const v of values) {
      const value = loads(b64(v.pickle), { lossless: true });
      styles.forEach((st, i) => {
        const ours = toPlainJson(value, st.indent, optionsOf(st));
        expect(ours, `${v.name} ${JSON.stringify(st)}`).toBe(v.texts[i]);
      });
    }
  });

  it('toJSONValue is the parsed text, in both decoding modes', () => {
    for (const v of values) {
      styles.forEach((st, i) => {
        if (st.nan === 'literal' || st.big === 'number') return; // not JSON / not exact in JS
        const want = JSON.parse(v.texts[i] as string) as JSONValue;
        const lossless = loads(b64(v.pickle), { lossless: true });
        expect(toJSONValue(lossless, optionsOf(st)), `${v.name} ${JSON.stringify(st)}`).toEqual(want);
        // The default decoding turns Python ints into numbers; parsed, 1 and 1.0 are the same, except
        // as dict keys ('1e+16' vs '10000000000000000'), which is why the CLI decodes losslessly.
        if (v.name === 'dict_keys') return;
        expect(toJSONValue(loads(b64(v.pickle)), { ...optionsOf(st), lossless: false }), v.name).toEqual(
          want,
        );
      });
    }
  });

  it("nonFinite: 'error' refuses, naming where, before any text is produced", () => {
    const floats = values.find((v) => v.name === 'floats');
    const arr = values.find((v) => v.name === 'np_float');
    for (const v of [floats, arr]) {
      const value = loads(b64((v as { pickle: string }).pickle), { lossless: true });
      const chunks: string[] = [];
      expect(() =>
        writePlainJson(value, 2, { lossless: true, nonFinite: 'error' }, (c) => chunks.push(c)),
      ).toThrow(PicklingError);
      expect(chunks).toEqual([]);
    }
    expect(() => toPlainJson([1.5, [NaN]], 0, { nonFinite: 'error' })).toThrow(
      /Out of range float values are not JSON compliant: nan \(at #\/1\/0\)/,
    );
  });
});

describe('toJSONValue structure', () => {
  it('stringifies non-string keys (tagged: $map), escapes $-keys and keeps __proto__ as data', () => {
    const v = toJSONValue(
      new Map<unknown, unknown>([
        ['__proto__', 1n],
        ['$x', 2n],
      ]),
    ) as Record<string, JSONValue>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', '$$x']);
    expect(v['__proto__']).toBe(1);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    expect(toJSONValue(new Map<unknown, unknown>([[tuple(1n), 'a']]), { tagged: true })).toEqual({
      $map: [[[1], 'a']],
    });
    expect(toJSONValue(new Map<unknown, unknown>([[tuple(1n), 'a']]))).toEqual({ '(1,)': 'a' });
    // A repeated key (1 and '1') is written twice, as json.dumps does; parsers keep the last.
    expect(
      toPlainJson(
        new Map<unknown, unknown>([
          [1n, 'a'],
          ['1', 'b'],
        ]),
      ),
    ).toBe('{"1":"a","1":"b"}');
  });

  it('writes PyObject members in the documented order', () => {
    const o = new PyObject(new PyGlobal('m', 'C'), 'reduce', Tuple.from_([1n]));
    o['attr'] = 'x';
    o.__state__ = tuple(null, new Map([['attr', 'x']]));
    o.__items__ = [2n];
    o.__dictitems__ = new Map([['k', 3n]]);
    const v = toJSONValue(o) as Record<string, JSONValue>;
    expect(Object.keys(v)).toEqual(['$class', '$args', 'attr', '$state', '$items', '$dictitems']);
    expect(v).toEqual({
      $class: 'm.C',
      $args: [1],
      attr: 'x',
      $state: [null, { attr: 'x' }],
      $items: [2],
      $dictitems: { k: 3 },
    });
  });

  it('marks cycles and shared references with JSON pointers to the first occurrence', () => {
    const a: unknown[] = [];
    const m = new Map<unknown, unknown>([['a/b~c', a]]);
    a.push(m, a);
    expect(toJSONValue([m, a])).toEqual([
      { 'a/b~c': [{ $ref: '#/0' }, { $ref: '#/0/a~1b~0c' }] },
      { $ref: '#/0/a~1b~0c' },
    ]);
  });

  it('stays linear for 60 levels of [x, x] fan-out', () => {
    let x: unknown = 'leaf';
    for (let i = 0; i < 60; i++) x = [x, x];
    const text = toPlainJson(x);
    // One full path down, then one $ref per level.
    expect(text.length).toBeLessThan(60 * 200);
    expect((text.match(/\$ref/g) ?? []).length).toBe(59);
    let v = toJSONValue(x) as JSONValue[];
    for (let i = 0; i < 59; i++) {
      expect((v[1] as Record<string, string>)['$ref']).toBe('#' + '/0'.repeat(i + 1));
      v = v[0] as JSONValue[];
    }
  });

  it('handles 10^6 nested lists decoded from a real pickle without recursion', () => {
    const depth = 1_000_000;
    const value = loads(nestedListPickle(depth));
    const view = toJSONValue(value);
    let d = 0;
    let cur: JSONValue = view;
    while (Array.isArray(cur) && cur.length > 0) {
      cur = cur[0] as JSONValue;
      d++;
    }
    expect(d).toBe(depth - 1);
    const text = toPlainJson(value);
    expect(text.length).toBe(2 * depth);
    expect(text.startsWith('[[[')).toBe(true);
    expect(text.endsWith(']]]')).toBe(true);
  });

  it('truncates below maxDepth and cuts large arrays at maxArrayItems', () => {
    expect(toJSONValue([[[1n]], 'x'], { maxDepth: 1 })).toEqual([[{ $truncated: 'list', size: 1 }], 'x']);
    expect(toJSONValue(new Map([['k', [1n, 2n]]]), { maxDepth: 0 })).toEqual({
      k: { $truncated: 'list', size: 2 },
    });
  });

  it('indents the first MAX_INDENTED_LEVELS levels only: a 5000-deep list stays small', () => {
    const value = loads(nestedListPickle(5000));
    const compact = toPlainJson(value, 0);
    const text = toPlainJson(value, 2);
    // Indentation costs at most the first levels' lines: 2 * 32 lines of up to 66 characters.
    expect(text.length).toBeLessThan(
      compact.length + 2 * MAX_INDENTED_LEVELS * (2 * MAX_INDENTED_LEVELS + 2),
    );
    // The same document: only whitespace differs (the list holds no strings).
    expect(text.replace(/\s/g, '')).toBe(compact);
    const lines = text.split('\n');
    expect(lines[1]).toBe('  [');
    expect(lines[MAX_INDENTED_LEVELS]).toBe(
      ' '.repeat(2 * MAX_INDENTED_LEVELS) +
        '['.repeat(5000 - MAX_INDENTED_LEVELS) +
        ']'.repeat(5000 - MAX_INDENTED_LEVELS),
    );
  });

  it('writes whole arrays with maxArrayItems: Infinity, in pieces of about 64 KiB', () => {
    const n = 100_000;
    const a = ndarrayFromBuffer(
      DType.parse('<f8'),
      [n],
      'C',
      new Uint8Array(new Float64Array(n).map((_, i) => i / 4).buffer),
    );
    const chunks: string[] = [];
    writePlainJson(a, 0, { maxArrayItems: Infinity }, (c) => chunks.push(c));
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeLessThan(70_000);
    const text = chunks.join('');
    expect(
      text.startsWith('{"$ndarray":{"dtype":"<f8","shape":[100000],"data":[0.0,0.25,0.5,0.75,1.0,'),
    ).toBe(true);
    const data = (JSON.parse(text) as { $ndarray: { data: number[] } }).$ndarray.data;
    expect(data).toHaveLength(n);
    expect(data[n - 1]).toBe((n - 1) / 4);
    const cut = JSON.parse(toPlainJson(a, 0)) as { $ndarray: { truncated: boolean; head: number[] } };
    expect(cut.$ndarray.truncated).toBe(true);
    expect(cut.$ndarray.head).toHaveLength(1000);
  });
});
