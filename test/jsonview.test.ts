/**
 * The plain JSON view (src/interop/jsonview.ts): values pickled by Python, viewed by toJSONValue,
 * compared with the view scripts/fixtures_jsonpickle.py computes from the Python value itself; plus
 * the structural guarantees (no recursion, linear output for shared references, no prototype pollution).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loads } from '../src/load.js';
import { toJSONValue, toPlainJson, stringifyJSON, type JSONValue } from '../src/interop/jsonview.js';
import { PyGlobal, PyObject, Tuple, tuple } from '../src/python/values.js';
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

describeWithPython('toJSONValue matches the view computed in Python', () => {
  let views: { name: string; pickle: string; view: JSONValue }[] = [];
  beforeAll(async () => {
    const r = await runPython(
      'import fixtures_jsonpickle as M; M.main()',
      [],
      JSON.stringify({ op: 'views' }),
    );
    views = (JSON.parse(r.stdout) as { views: typeof views }).views;
  }, 120_000);

  it('every value, in both decoding modes', () => {
    expect(views.length).toBeGreaterThan(25);
    for (const v of views) {
      const bytes = b64(v.pickle);
      expect(toJSONValue(loads(bytes)), v.name).toEqual(v.view);
      expect(toJSONValue(loads(bytes, { lossless: true })), `${v.name} (lossless)`).toEqual(v.view);
    }
  });

  it('toPlainJson is the JSON text of the view (compact and indented)', () => {
    for (const v of views) {
      const value = loads(b64(v.pickle));
      const view = toJSONValue(value);
      expect(toPlainJson(value)).toBe(JSON.stringify(view));
      expect(toPlainJson(value, 2)).toBe(JSON.stringify(view, null, 2));
    }
  });
});

describe('toJSONValue structure', () => {
  it('maps non-string keys, escapes $-keys and keeps __proto__ as data', () => {
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
    expect(toJSONValue(new Map<unknown, unknown>([[tuple(1n), 'a']]))).toEqual({ $map: [[[1], 'a']] });
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
    const text = stringifyJSON(view);
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

  it('stringifyJSON agrees with JSON.stringify', () => {
    const samples: JSONValue[] = [
      null,
      1,
      -0,
      1e21,
      'a"\u2028\ud800',
      [],
      {},
      [1, [2, {}], { a: [], b: { c: null } }],
    ];
    for (const s of samples) {
      for (const indent of [undefined, 0, 1, 4])
        expect(stringifyJSON(s, indent)).toBe(JSON.stringify(s, null, indent));
    }
  });
});
