/**
 * scikit-learn and pandas artifacts (fixtures/ml, written by scripts/fixtures_ml.py from live Python
 * objects): what a JS user reads from a decoded DataFrame, Series or fitted estimator equals what
 * Python reports for the same object.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumps, loads, load, PyObject, Tuple } from '../src/index.js';
import { describeWithPython, runPython } from './helpers/python.js';
import { DataFrame, Series } from '../src/pandas/index.js';
import { MaskedArray, NDArray } from '../src/numpy/index.js';

const ROOT = join(__dirname, '..', 'fixtures');
interface Entry {
  family: string;
  name: string;
  json: string;
  files: { path: string; kind: string; protocol?: number }[];
}
const index = JSON.parse(readFileSync(join(ROOT, 'index.json'), 'utf8')).fixtures as Entry[];
const ml = index.filter((e) => e.family === 'ml');

/** Normalise a decoded cell to the JSON form scripts/fixtures_ml.py writes. */
function cell(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number')
    return Number.isFinite(v) ? v : { float: Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf' };
  if (v instanceof Date)
    return {
      datetime: v
        .toISOString()
        .replace(/\.000Z$/, '')
        .replace('Z', ''),
    };
  if (Array.isArray(v)) return v.map(cell);
  return v;
}

function arr(a: unknown): { shape: number[]; values: unknown[] } {
  expect(a).toBeInstanceOf(NDArray);
  const n = a as NDArray;
  return { shape: [...n.shape], values: n.toArray().map(cell) };
}

function attr(o: unknown, name: string): unknown {
  expect(o).toBeInstanceOf(PyObject);
  return (o as PyObject)[name];
}

function check(value: unknown, expected: Record<string, unknown>): void {
  switch (expected['kind']) {
    case 'DataFrame': {
      expect(value).toBeInstanceOf(DataFrame);
      const df = value as DataFrame;
      expect(df.columns.map(cell)).toEqual(expected['columns']);
      expect(df.index.map(cell)).toEqual(expected['index']);
      const data = expected['data'] as Record<string, unknown[]>;
      for (const [label, values] of Object.entries(data)) {
        const column = df.column(df.columns.find((c) => String(c) === label));
        expect(column?.map(cell), label).toEqual(values);
      }
      expect(Object.keys(df.toColumns()).sort()).toEqual(Object.keys(data).sort());
      expect(df.toRecords().length).toBe((expected['index'] as unknown[]).length);
      break;
    }
    case 'Series': {
      expect(value).toBeInstanceOf(Series);
      const s = value as Series;
      expect(cell(s.name)).toEqual(expected['name']);
      expect(s.index.map(cell)).toEqual(expected['index']);
      expect(s.values().map(cell)).toEqual(expected['values']);
      break;
    }
    case 'LinearRegression':
      expect((value as PyObject).__qualname__).toBe(expected['cls']);
      expect(arr(attr(value, 'coef_'))).toEqual(expected['coef_']);
      expect(Number(attr(value, 'intercept_')?.valueOf())).toBeCloseTo(expected['intercept_'] as number, 12);
      expect(Number(attr(value, 'n_features_in_'))).toBe(expected['n_features_in_']);
      break;
    case 'Pipeline': {
      expect((value as PyObject).__qualname__).toBe(expected['cls']);
      const steps = attr(value, 'steps') as Tuple[];
      expect(steps.map((s) => s[0])).toEqual(expected['steps']);
      const [scaler, clf] = steps.map((s) => s[1]);
      const es = expected['scaler'] as Record<string, unknown>;
      expect(arr(attr(scaler, 'mean_'))).toEqual(es['mean_']);
      expect(arr(attr(scaler, 'scale_'))).toEqual(es['scale_']);
      expect(Number(attr(scaler, 'n_samples_seen_')?.valueOf())).toBe(es['n_samples_seen_']);
      const ec = expected['clf'] as Record<string, unknown>;
      expect(arr(attr(clf, 'coef_'))).toEqual(ec['coef_']);
      expect(arr(attr(clf, 'intercept_'))).toEqual(ec['intercept_']);
      expect(arr(attr(clf, 'classes_'))).toEqual(ec['classes_']);
      break;
    }
    case 'DecisionTreeClassifier': {
      expect((value as PyObject).__qualname__).toBe(expected['cls']);
      expect(arr(attr(value, 'classes_'))).toEqual(expected['classes_']);
      const tree = attr(value, 'tree_');
      expect(Number(attr(tree, 'node_count'))).toBe(expected['node_count']);
      expect(Number(attr(tree, 'max_depth'))).toBe(expected['max_depth']);
      const nodes = attr(tree, 'nodes') as NDArray;
      expect(nodes.field('left_child').toArray().map(cell)).toEqual(expected['left_child']);
      expect(nodes.field('right_child').toArray().map(cell)).toEqual(expected['right_child']);
      expect(nodes.field('feature').toArray().map(cell)).toEqual(expected['feature']);
      expect(nodes.field('threshold').toArray().map(cell)).toEqual(expected['threshold']);
      expect(arr(attr(tree, 'values'))).toEqual(expected['value']);
      break;
    }
    case 'GridSearchCV': {
      expect((value as PyObject).__qualname__).toBe(expected['cls']);
      const best = attr(value, 'best_params_') as Record<string, unknown>;
      expect(Object.fromEntries(Object.entries(best).map(([k, v]) => [k, cell(v)]))).toEqual(
        expected['best_params_'],
      );
      const results = attr(value, 'cv_results_') as Record<string, unknown>;
      expect(arr(results['mean_test_score'])).toEqual(expected['mean_test_score']);
      for (const [key, want] of Object.entries(
        expected['params'] as Record<string, Record<string, unknown>>,
      )) {
        const m = results[key];
        expect(m, key).toBeInstanceOf(MaskedArray);
        const masked = m as MaskedArray;
        expect(masked.dtype.hasObject).toBe(true);
        expect(masked.toArray().map(cell), key).toEqual(want['data']);
        expect(masked.mask?.toArray(), key).toEqual(want['mask']);
        // numpy keeps the fill value as a 0-d array of the dtype.
        expect(cell((masked.fillValue as NDArray).toArray()[0]), key).toEqual(want['fill_value']);
      }
      break;
    }
    default:
      throw new Error(`unknown expectation kind ${String(expected['kind'])}`);
  }
}

describe('scikit-learn and pandas artifacts', () => {
  it('has the ml fixtures', () => {
    expect(ml.length).toBeGreaterThanOrEqual(9);
  });
  for (const entry of ml) {
    const meta = JSON.parse(readFileSync(join(ROOT, entry.json), 'utf8'));
    for (const file of entry.files) {
      it(`${entry.name} (${file.path})`, async () => {
        const bytes = new Uint8Array(readFileSync(join(ROOT, file.path)));
        check(loads(bytes), meta.expect);
        if (file.kind === 'joblib') check(await load(join(ROOT, file.path)), meta.expect);
      });
    }
  }
});

describeWithPython('scikit-learn and pandas written back (live)', () => {
  it('dumps(loads(x)) of every ml fixture loads in Python equal to the original', async () => {
    // One Python process: for each fixture, load the original pickle and our re-encoding (lossless,
    // allowGlobals: the recipes name pandas/sklearn classes) and compare them.
    const cases: { name: string; original: string; ours: string }[] = [];
    for (const entry of ml) {
      const file = entry.files.find((f) => f.kind === 'pickle' && f.protocol === 4);
      if (!file) continue;
      const bytes = new Uint8Array(readFileSync(join(ROOT, file.path)));
      for (const protocol of [2, 4, 5] as const) {
        const ours = dumps(loads(bytes, { lossless: true }), {
          protocol,
          lossless: true,
          allowGlobals: true,
        });
        cases.push({
          name: `${entry.name} p${protocol}`,
          original: Buffer.from(bytes).toString('hex'),
          ours: Buffer.from(ours).toString('hex'),
        });
      }
    }
    const code = `
import json, pickle, sys
import numpy as np, pandas as pd
def same(a, b):
    if isinstance(a, np.ma.MaskedArray):
        return (type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a.data, b.data)
                and np.array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b)) and a.fill_value == b.fill_value)
    if isinstance(a, np.ndarray):
        return type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == 'f')
    if isinstance(a, dict) and not hasattr(a, 'get_params'):
        return type(a) is type(b) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return a.equals(b) and list(a.index) == list(b.index) and type(a) is type(b)
    if hasattr(a, 'get_params'):
        da, db = a.__dict__, b.__dict__
        if set(da) != set(db): return False
        for k in da:
            x, y = da[k], db[k]
            if isinstance(x, (np.ndarray, dict)):
                if not same(x, y): return False
            elif hasattr(x, 'get_params') or k == 'steps' or k == 'tree_':
                if k == 'steps':
                    if [n for n, _ in x] != [n for n, _ in y] or not all(same(p, q) for (_, p), (_, q) in zip(x, y)): return False
                elif k == 'tree_':
                    if x.node_count != y.node_count or not np.array_equal(x.threshold, y.threshold) or not np.array_equal(x.value, y.value): return False
                elif not same(x, y): return False
            elif isinstance(x, float) and x != x:
                if not (isinstance(y, float) and y != y): return False
            elif x != y: return False
        return type(a) is type(b)
    return a == b
out = {}
for c in json.load(sys.stdin):
    a = pickle.loads(bytes.fromhex(c['original']))
    try:
        b = pickle.loads(bytes.fromhex(c['ours']))
        out[c['name']] = bool(same(a, b))
    except Exception as e:
        out[c['name']] = repr(e)
print(json.dumps(out))
`;
    const { stdout } = await runPython(code, [], JSON.stringify(cases));
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(result).length).toBe(cases.length);
    for (const [name, ok] of Object.entries(result)) expect(ok, name).toBe(true);
  });
});
