/**
 * A plain, human JSON view of decoded values: `toJSONValue` gives a JSON-safe JS value (only null,
 * booleans, finite numbers, strings, arrays and plain objects), `toPlainJson` its text. The view is
 * lossy by design (it cannot be turned back into the pickle); use `toJsonPickle` for a reversible form.
 *
 * The shape is stable:
 *
 * | value | JSON |
 * |---|---|
 * | null/undefined, boolean, string | as is (undefined → null) |
 * | number | as is; NaN, Infinity, -Infinity → the strings "NaN", "Infinity", "-Infinity" |
 * | bigint | a number when it is a safe integer, else its decimal string |
 * | bytes, bytearray, PickleBuffer | `{"$bytes": "<base64>"}` |
 * | list, tuple, set, frozenset, deque | array (set order = insertion order) |
 * | dict (Map or plain object) with only string keys | object |
 * | dict with other keys | `{"$map": [[key, value], …]}` |
 * | complex | `{"$complex": [re, im]}` |
 * | class/function reference (PyGlobal) | `{"$global": "module.name"}` |
 * | range, slice | `{"$range": [start, stop, step]}`, `{"$slice": [start, stop, step]}` |
 * | other Python object (PyObject) | `{"$class": "module.name", "$args": […]?, "$kwargs": {…}?, …attributes, "$state": …?, "$items": […]?, "$dictitems": …?}` |
 * | datetime, date, time | `{"$datetime": "<isoformat>"}`, `{"$date": …}`, `{"$time": …}` |
 * | timedelta | `{"$timedelta": <total seconds>}` |
 * | timezone, ZoneInfo | `{"$timezone": "<tzname>"}`, `{"$zoneinfo": "<key>"}` |
 * | Decimal, Fraction, UUID | `{"$decimal": "1.10"}`, `{"$fraction": "3/4"}`, `{"$uuid": "…"}` |
 * | numpy array | `{"$ndarray": {"dtype": "<f8", "shape": […], "data": <nested arrays>}}`; more than `maxArrayItems` elements: `"truncated": true` and `"head"` (the first elements, flat, C order) instead of `data` |
 * | numpy scalar | its value (by the rules above) |
 * | numpy dtype | `{"$dtype": "<f8"}` |
 * | pandas DataFrame / Series | `{"$dataframe": {"columns", "index", "data": [[column values]…]}}`, `{"$series": {"name", "index", "data"}}` |
 *
 * Object keys that start with `$` (dict keys and attribute names) get one more `$` in front, so a
 * `$`-key in the output is always one of the markers above.
 *
 * References: every list, dict, set, tuple and object is written in full at its first occurrence (in
 * document order, depth first); any later occurrence of the same JS object, shared or cyclic, is
 * `{"$ref": "#/path/to/first"}` (a JSON Pointer into the output, RFC 6901). So the output stays linear
 * in the size of the input graph and never loops.
 *
 * Containers nested deeper than `maxDepth` become `{"$truncated": "<kind>", "size": n}`.
 *
 * Both functions are iterative: nesting depth is limited by memory, not by the JS stack.
 */
import {
  Complex,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  PyObject,
  PyRange,
  PySlice,
  isPlainObject,
  setOwn,
} from '../python/values.js';
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFraction,
  PySafeUUID,
  PyTime,
  PyTimedelta,
  PyTimezone,
  PyUUID,
  PyZoneInfo,
} from '../python/stdlib.js';
import { DType, NDArray, NumpyScalar } from '../numpy/index.js';
import { DataFrame, Series } from '../pandas/index.js';
import { toBase64 } from './jsonpickle-common.js';

/** A JSON-safe value. */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export interface JSONViewOptions {
  /** Containers nested deeper than this (the root is depth 0) become `{"$truncated": kind}`. Default: unlimited. */
  readonly maxDepth?: number;
  /** numpy arrays with more elements are cut to their first `maxArrayItems` (flat). Default 1000. */
  readonly maxArrayItems?: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * One value to convert, and where its result goes. A task is also the value's position in the output
 * (parent task + key), rendered as a JSON Pointer only when a `$ref` needs it.
 */
interface Task {
  value: unknown;
  readonly target: JSONValue[] | Record<string, JSONValue>;
  readonly key: string | number;
  /** The enclosing position; null for the root (whose own key is not part of any path). */
  readonly parent: Task | null;
  readonly depth: number;
}

function pointer(pos: Task | null): string {
  const keys: (string | number)[] = [];
  for (let p = pos; p !== null && p.parent !== null; p = p.parent) keys.push(p.key);
  let out = '#';
  for (let i = keys.length - 1; i >= 0; i--)
    out += '/' + String(keys[i]).replace(/~/g, '~0').replace(/\//g, '~1');
  return out;
}

/** A position that holds no value of its own (`/$map`, `/$ndarray`, ...), for paths below it. */
function marker(parent: Task, key: string | number): Task {
  return { value: undefined, target: [], key, parent, depth: parent.depth };
}

/** `$`-keys of user data get one more `$`, so markers stay unambiguous. */
function escapeKey(k: string): string {
  return k.charCodeAt(0) === 0x24 ? '$' + k : k;
}

function num(x: number): JSONValue {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

function big(x: bigint): JSONValue {
  return x >= -MAX_SAFE && x <= MAX_SAFE ? Number(x) : x.toString();
}

function put(target: JSONValue[] | Record<string, JSONValue>, key: string | number, v: JSONValue): void {
  if (Array.isArray(target)) target[key as number] = v;
  else if (key === '__proto__') setOwn(target, key, v);
  else target[key as string] = v;
}

/** Nested arrays of `flat` (C order) for `shape`. */
function reshape(flat: unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  let level: unknown[] = flat;
  for (let k = shape.length - 1; k >= 1; k--) {
    const len = shape[k] as number;
    const next: unknown[] = [];
    if (len === 0) {
      const outer = shape.slice(0, k).reduce((a, b) => a * b, 1);
      for (let i = 0; i < outer; i++) next.push([]);
    } else for (let i = 0; i < level.length; i += len) next.push(level.slice(i, i + len));
    level = next;
  }
  return level;
}

/** The view of a value that contains nothing (or undefined when `v` is a container). */
function leaf(v: object): JSONValue | undefined {
  if (v instanceof Uint8Array) return { $bytes: toBase64(v) };
  if (v instanceof PickleBuffer) return { $bytes: toBase64(v.data) };
  if (v instanceof Complex) return { $complex: [num(v.re), num(v.im)] };
  if (v instanceof PyGlobal) return { $global: v.qualifiedName };
  if (v instanceof PyRange) {
    const f = (x: number | bigint): JSONValue => (typeof x === 'bigint' ? big(x) : num(x));
    return { $range: [f(v.start), f(v.stop), f(v.step)] };
  }
  if (v instanceof PyDateTime) return { $datetime: v.isoformat() };
  if (v instanceof PyDate) return { $date: v.isoformat() };
  if (v instanceof PyTime) return { $time: v.isoformat() };
  if (v instanceof PyTimedelta) return { $timedelta: num(v.totalSeconds()) };
  if (v instanceof PyTimezone) return { $timezone: v.tzname() };
  if (v instanceof PyZoneInfo) return { $zoneinfo: v.key };
  if (v instanceof PyDecimal) return { $decimal: v.toString() };
  if (v instanceof PyFraction) return { $fraction: v.toString() };
  if (v instanceof PyUUID) return { $uuid: v.toString() };
  if (v instanceof PySafeUUID) return { $global: `uuid.SafeUUID.${v.name}` };
  if (v instanceof DType)
    return { $dtype: v.names !== null || v.subarray !== null ? JSON.stringify(v.descr) : v.str };
  return undefined;
}

/**
 * A JSON-safe view of a decoded value (see the module comment for the exact shape).
 * @example
 * toJSONValue(loads(bytes)) // { "$class": "sklearn.linear_model._base.LinearRegression", "coef_": { "$ndarray": … }, … }
 */
export function toJSONValue(value: unknown, options?: JSONViewOptions): JSONValue {
  const maxDepth = options?.maxDepth ?? Infinity;
  const maxItems = options?.maxArrayItems ?? 1000;
  const first = new Map<object, Task>();
  const root: JSONValue[] = [null];
  const stack: Task[] = [{ value, target: root, key: 0, parent: null, depth: 0 }];

  while (stack.length > 0) {
    const t = stack.pop() as Task;
    let v = t.value;
    // Values that are shown as another value.
    while (v instanceof NumpyScalar) v = v.value;
    switch (typeof v) {
      case 'boolean':
      case 'string':
        put(t.target, t.key, v);
        continue;
      case 'number':
        put(t.target, t.key, num(v));
        continue;
      case 'bigint':
        put(t.target, t.key, big(v));
        continue;
      case 'object':
        if (v === null) {
          put(t.target, t.key, null);
          continue;
        }
        break;
      default:
        put(t.target, t.key, null);
        continue;
    }
    const isArray = Array.isArray(v);
    if (!isArray) {
      const l = leaf(v);
      if (l !== undefined) {
        put(t.target, t.key, l);
        continue;
      }
    }
    // Containers: identity first (shared and cyclic references), then depth.
    const seen = first.get(v);
    if (seen !== undefined) {
      put(t.target, t.key, { $ref: pointer(seen) });
      continue;
    }
    first.set(v, t);
    if (t.depth > maxDepth) {
      put(t.target, t.key, { $truncated: kindOf(v), size: sizeOf(v) });
      continue;
    }
    const depth = t.depth + 1;
    if (isArray || v instanceof Set) {
      // list, tuple, deque, set, frozenset
      const items = isArray ? (v as unknown[]) : [...(v as Set<unknown>)];
      const n = items.length;
      const out: JSONValue[] = new Array<JSONValue>(n).fill(null);
      put(t.target, t.key, out);
      for (let i = n - 1; i >= 0; i--) stack.push({ value: items[i], target: out, key: i, parent: t, depth });
      continue;
    }
    if (isPlainObject(v) || (v instanceof Map && allStringKeys(v))) {
      const out: Record<string, JSONValue> = {};
      put(t.target, t.key, out);
      const entries: [string, unknown][] =
        v instanceof Map ? ([...v] as [string, unknown][]) : Object.entries(v);
      // Members are put in place (null) now, so the output keeps the input's key order.
      for (const [k] of entries) put(out, escapeKey(k), null);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i] as [string, unknown];
        stack.push({ value: x, target: out, key: escapeKey(k), parent: t, depth });
      }
      continue;
    }
    const tasks: Task[] = [];
    if (v instanceof Map) {
      const pairs: JSONValue[] = [];
      put(t.target, t.key, { $map: pairs });
      const at = marker(t, '$map');
      let i = 0;
      for (const [k, x] of v) {
        const pair: JSONValue[] = [null, null];
        pairs.push(pair);
        const pos = marker(at, i++);
        tasks.push(
          { value: k, target: pair, key: 0, parent: pos, depth },
          { value: x, target: pair, key: 1, parent: pos, depth },
        );
      }
    } else if (v instanceof PyObject) {
      const out: Record<string, JSONValue> = { $class: v.__class__.qualifiedName };
      put(t.target, t.key, out);
      const member = (x: unknown, key: string): void => {
        put(out, key, null);
        tasks.push({ value: x, target: out, key, parent: t, depth });
      };
      if (v.__args__.length > 0) {
        const args: JSONValue[] = new Array<JSONValue>(v.__args__.length).fill(null);
        out['$args'] = args;
        const at = marker(t, '$args');
        v.__args__.forEach((a, i) => tasks.push({ value: a, target: args, key: i, parent: at, depth }));
      }
      if (v.__kwargs__ !== undefined) member(v.__kwargs__, '$kwargs');
      for (const k of Object.keys(v)) member(v[k], escapeKey(k));
      if (v.__state__ !== undefined) member(v.__state__, '$state');
      if (v.__items__ !== undefined) member(v.__items__, '$items');
      if (v.__dictitems__ !== undefined) member(v.__dictitems__, '$dictitems');
    } else if (v instanceof NDArray) {
      const a = v;
      const body: Record<string, JSONValue> = {
        dtype:
          a.dtype.names !== null || a.dtype.subarray !== null ? JSON.stringify(a.dtype.descr) : a.dtype.str,
        shape: [...a.shape],
      };
      if (a.subclass !== 'numpy.ndarray') body['class'] = a.subclass;
      put(t.target, t.key, { $ndarray: body });
      const size = a.size;
      let data: unknown;
      let key: string;
      if (size > maxItems) {
        body['truncated'] = true;
        key = 'head';
        data = elementsHead(a, maxItems);
      } else {
        key = 'data';
        data = reshape(a.toArray(), a.shape);
      }
      body[key] = null;
      // Elements go through the same rules (object arrays may hold any value); the nested arrays are
      // fresh, so they never count as shared.
      tasks.push({ value: data, target: body, key, parent: marker(t, '$ndarray'), depth });
    } else if (v instanceof DataFrame || v instanceof Series) {
      const body: Record<string, JSONValue> = {};
      const frame = v instanceof DataFrame;
      put(t.target, t.key, frame ? { $dataframe: body } : { $series: body });
      const at = marker(t, frame ? '$dataframe' : '$series');
      const members: [string, unknown][] =
        v instanceof DataFrame
          ? [
              ['columns', v.columns],
              ['index', v.index],
              ['data', v.columns.map((c) => v.column(c) ?? [])],
            ]
          : [
              ['name', v.name],
              ['index', v.index],
              ['data', v.values()],
            ];
      for (const [k, x] of members) {
        body[k] = null;
        tasks.push({ value: x, target: body, key: k, parent: at, depth });
      }
    } else if (v instanceof PySlice) {
      const out: JSONValue[] = [null, null, null];
      put(t.target, t.key, { $slice: out });
      const at = marker(t, '$slice');
      [v.start, v.stop, v.step].forEach((x, i) =>
        tasks.push({ value: x, target: out, key: i, parent: at, depth }),
      );
    } else {
      // Anything else: what it says about itself, if it can.
      const toJSON = (v as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') {
        first.delete(v);
        t.value = toJSON.call(v);
        stack.push(t);
      } else put(t.target, t.key, { $unknown: (v as object).constructor?.name ?? 'object' });
      continue;
    }
    for (let i = tasks.length - 1; i >= 0; i--) stack.push(tasks[i] as Task);
  }
  return root[0] as JSONValue;
}

function allStringKeys(m: Map<unknown, unknown>): boolean {
  for (const k of m.keys()) if (typeof k !== 'string') return false;
  return true;
}

function kindOf(v: object): string {
  if (v instanceof PyObject) return v.__class__.qualifiedName;
  if (v instanceof NDArray) return 'ndarray';
  if (v instanceof FrozenSet) return 'frozenset';
  if (v instanceof Set) return 'set';
  if (v instanceof Map || isPlainObject(v)) return 'dict';
  if (Array.isArray(v)) return v.constructor === Array ? 'list' : v.constructor.name.toLowerCase();
  return v.constructor?.name ?? 'object';
}

function sizeOf(v: object): number | null {
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (v instanceof NDArray) return v.size;
  if (isPlainObject(v)) return Object.keys(v).length;
  if (v instanceof PyObject) return Object.keys(v).length;
  return null;
}

/** The first `n` elements of an array in C order, without materialising the rest. */
function elementsHead(a: NDArray, n: number): unknown[] {
  const out: unknown[] = [];
  const shape = a.shape;
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out.push(a.get(...idx));
    for (let k = shape.length - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (shape[k] as number)) break;
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * `toJSONValue` as JSON text (`indent` spaces per level, as `JSON.stringify`'s third argument).
 * Written iteratively, so arbitrarily deep values do not overflow the stack.
 * @example
 * toPlainJson(loads(bytes), 2)
 */
export function toPlainJson(value: unknown, indent?: number, options?: JSONViewOptions): string {
  return stringifyJSON(toJSONValue(value, options), indent);
}

interface Frame {
  readonly node: JSONValue[] | Record<string, JSONValue>;
  readonly keys: string[] | null;
  i: number;
}

/** `JSON.stringify(value, null, indent)` for JSON-safe values, without recursion. */
export function stringifyJSON(value: JSONValue, indent?: number): string {
  const pad = indent !== undefined && indent > 0 ? ' '.repeat(Math.min(10, Math.floor(indent))) : '';
  const parts: string[] = [];
  const frames: Frame[] = [];
  const scalar = (v: JSONValue): boolean => {
    if (v === null) parts.push('null');
    else if (typeof v === 'boolean') parts.push(v ? 'true' : 'false');
    else if (typeof v === 'number') parts.push(Number.isFinite(v) ? String(v) : 'null');
    else if (typeof v === 'string') parts.push(JSON.stringify(v));
    else return false;
    return true;
  };
  const newline = (depth: number): void => {
    if (pad) parts.push('\n' + pad.repeat(depth));
  };
  const open = (v: JSONValue): void => {
    if (scalar(v)) return;
    if (Array.isArray(v)) {
      if (v.length === 0) {
        parts.push('[]');
        return;
      }
      parts.push('[');
      frames.push({ node: v, keys: null, i: 0 });
    } else {
      const rec = v as Record<string, JSONValue>;
      const keys = Object.keys(rec);
      if (keys.length === 0) {
        parts.push('{}');
        return;
      }
      parts.push('{');
      frames.push({ node: rec, keys, i: 0 });
    }
  };
  open(value);
  while (frames.length > 0) {
    const f = frames[frames.length - 1] as Frame;
    const len = f.keys ? f.keys.length : (f.node as JSONValue[]).length;
    if (f.i >= len) {
      frames.pop();
      newline(frames.length);
      parts.push(f.keys ? '}' : ']');
      continue;
    }
    if (f.i > 0) parts.push(',');
    newline(frames.length);
    if (f.keys) {
      const k = f.keys[f.i] as string;
      parts.push(JSON.stringify(k) + (pad ? ': ' : ':'));
      f.i++;
      open((f.node as Record<string, JSONValue>)[k] as JSONValue);
    } else {
      const x = (f.node as JSONValue[])[f.i] as JSONValue;
      f.i++;
      open(x);
    }
  }
  return parts.join('');
}
