/**
 * A plain JSON view of decoded values, for people and for tools such as jq: `toPlainJson` gives its
 * text, `toJSONValue` the same view as a JS value. The view is lossy by design (it cannot be turned
 * back into the pickle); use `toJsonPickle` for a reversible form.
 *
 * Two styles. The default reads as Python's `json.dumps` writes (so `jq .key` works on any dict):
 *
 * | value | default view | `tagged: true` |
 * |---|---|---|
 * | None, bool, str | `null`, `true`/`false`, string | same |
 * | int | number | number |
 * | int beyond ±(2^53 − 1) | `bigInts: 'string'` (default): `"1267650600228229401496703205376"`; `'number'`: the exact digits as a number | `{"$int": "<digits>"}` |
 * | float | number, written as Python's repr (`1.0`, `1e-05`) | same |
 * | nan, inf, -inf | `nonFinite: 'null'` (default): `null`; `'string'`: `"NaN"`, `"Infinity"`, `"-Infinity"`; `'literal'`: bare `NaN`/`Infinity` (json.dumps' default; not JSON); `'error'`: refuse, as `allow_nan=False` | `{"$float": "nan"}`, `{"$float": "inf"}`, `{"$float": "-inf"}` |
 * | dict with only str keys | object | object |
 * | dict with other keys | object, keys as json.dumps writes them: `1` → `"1"`, `1.5` → `"1.5"`, `True` → `"true"`, `None` → `"null"`; other keys (tuples, bytes, …) as their Python repr: `"(1, 2)"` | `{"$map": [[key, value], …]}` |
 *
 * Both styles share the rest:
 *
 * | value | JSON |
 * |---|---|
 * | bytes, bytearray, PickleBuffer | `{"$bytes": "<base64>"}` |
 * | list, tuple, set, frozenset, deque | array (set order = insertion order) |
 * | complex | `{"$complex": [re, im]}` |
 * | class/function reference (PyGlobal) | `{"$global": "module.name"}` |
 * | range, slice | `{"$range": [start, stop, step]}`, `{"$slice": [start, stop, step]}` |
 * | other Python object (PyObject) | `{"$class": "module.name", "$args": […]?, "$kwargs": {…}?, …attributes, "$state": …?, "$items": […]?, "$dictitems": …?}` |
 * | datetime, date, time | `{"$datetime": "<isoformat>"}`, `{"$date": …}`, `{"$time": …}` |
 * | timedelta | `{"$timedelta": <total seconds>}` |
 * | timezone, ZoneInfo | `{"$timezone": "<tzname>"}`, `{"$zoneinfo": "<key>"}` |
 * | Decimal, Fraction, UUID | `{"$decimal": "1.10"}`, `{"$fraction": "3/4"}`, `{"$uuid": "…"}` |
 * | numpy array | `{"$ndarray": {"dtype": "<f8", "shape": […], "data": <nested arrays>}}`; more than `maxArrayItems` elements: `"truncated": true` and `"head"` (the first elements, flat, C order) instead of `data`. Elements follow the dtype: float dtypes give floats, int dtypes ints. |
 * | torch tensor | `{"$tensor": {"dtype": "float32", "shape": […], "data": <nested arrays>}}` (`head`/`truncated` as arrays; `requires_grad`, `class` for parameters, `device`, quantization parameters when set; quantized values dequantized; `data: null` for meta tensors); sparse tensors `{"$tensor": {"layout", "dtype", "shape", "indices"…, "values"}}` |
 * | TorchScript archive, storage | `{"$torchscript": {"module", "constants", "extra"?}}`, `{"$storage": {"dtype", "nbytes"}}` |
 * | torch dtype, device | `{"$global": "torch.float32"}`, `{"$device": "cuda:0"}` |
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
 * Containers nested deeper than `maxDepth` become `{"$truncated": "<kind>", "size": n}`. Indented
 * text indents the first MAX_INDENTED_LEVELS levels only and writes deeper containers on one line, so
 * deep nesting does not multiply the output by its depth.
 *
 * All functions are iterative: nesting depth is limited by memory, not by the JS stack.
 */
import {
  Complex,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  PyObject,
  PyRange,
  PySlice,
  Tuple,
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
import { DataFrame, PandasIndex, Series } from '../pandas/index.js';
import { PicklingError } from '../errors.js';
import { Parameter, QuantizedTensor, SparseTensor, Tensor } from '../torch/tensor.js';
import { Storage } from '../torch/storage.js';
import { StorageType, TorchDType, TorchDevice, TorchEnum } from '../torch/rebuild.js';
import { dtypeInfo } from '../torch/dtypes.js';
import { TorchScriptArchive } from '../containers/torchscript-archive.js';
import { reprBytes, reprFloat, reprStr } from '../tools/pyrepr.js';
import { toBase64 } from './jsonpickle-common.js';
import { pyFloatText } from './json-text.js';

/** A JSON-safe value (numbers may be NaN or ±Infinity only with `nonFinite: 'literal'`). */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export interface JSONViewOptions {
  /** Containers nested deeper than this (the root is depth 0) become `{"$truncated": kind}`. Default: unlimited. */
  readonly maxDepth?: number;
  /** numpy arrays with more elements are cut to their first `maxArrayItems` (flat); `Infinity` for all. Default 1000. */
  readonly maxArrayItems?: number;
  /** The `$`-marker style: non-string keys as `$map`, nan/inf as `$float`, big ints as `$int`. Default false. */
  readonly tagged?: boolean;
  /** Default style: how nan, inf and -inf are written (see the module comment). Default 'null'. */
  readonly nonFinite?: 'null' | 'string' | 'literal' | 'error';
  /** Default style: how ints beyond ±(2^53 − 1) are written. Default 'string'. */
  readonly bigInts?: 'string' | 'number';
  /**
   * The value was decoded with `lossless: true`, so every JS number is a Python float (`1.0` is
   * written `1.0`). Default false: integral numbers are written as ints.
   */
  readonly lossless?: boolean;
}

/** Levels of indented text; deeper containers are written on one line. */
export const MAX_INDENTED_LEVELS = 32;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------------------------------------
// The view as a tree: JSON values plus exact number literals, objects that may repeat a key (as
// json.dumps does for {1: 'a', '1': 'b'}) and numpy data converted only when written.
// ---------------------------------------------------------------------------------------------

/** A number literal, written as is. */
class Num {
  constructor(
    readonly text: string,
    readonly value: number,
  ) {}
}

/** An object with keys in order, repeats allowed. */
class Obj {
  readonly keys: string[] = [];
  readonly values: Node[] = [];
  add(key: string, value: Node): number {
    this.keys.push(key);
    this.values.push(value);
    return this.values.length - 1;
  }
}

/** The elements of a numpy array or a torch tensor, read and converted as they are written. */
interface ElementSource {
  readonly shape: readonly number[];
  readonly size: number;
  get(idx: number[]): unknown;
  /** All elements in C order (faster than `get` one by one), when the source has them. */
  all?(): unknown[];
  node(x: unknown, r: Rules, where: () => string): Node;
}

/** The elements of a non-object numpy array (or a tensor), converted as they are written. */
class ArrayData {
  constructor(
    readonly a: ElementSource,
    /** Elements written: all (nested by shape) or a flat head of this many. */
    readonly head: number | undefined,
  ) {}
}

function ndarraySource(a: NDArray): ElementSource {
  return {
    shape: a.shape,
    size: a.size,
    get: (idx) => a.get(...idx),
    all: () => a.toArray(),
    node: (x, r, where) => elementNode(x, a.dtype, r, where),
  };
}

/** Elements of a tensor: floats for float dtypes (and quantized ones, dequantized), ints, bools, complex. */
function tensorSource(t: Tensor): ElementSource {
  const info = dtypeInfo(t.dtype);
  const k = info?.kind ?? '';
  const quantized = t instanceof QuantizedTensor;
  const float = quantized || k.startsWith('f') || k === 'bf16' || k.startsWith('e');
  const values = quantized ? t.dequantize() : t;
  return {
    shape: t.shape,
    size: t.numel,
    get: (idx) => values.get(...idx),
    node: (x, r, where) =>
      typeof x === 'number' ? (float ? floatNode(x, r, where) : intNode(x, r)) : plainNode(x, r, where),
  };
}

/** A JS number stands for itself, written as `String(n)`; Num where Python spells it otherwise. */
type Node = null | boolean | number | string | Num | Node[] | Obj | ArrayData;

interface Rules {
  readonly tagged: boolean;
  readonly nonFinite: 'null' | 'string' | 'literal' | 'error';
  readonly bigInts: 'string' | 'number';
  readonly lossless: boolean;
}

function rulesOf(o: JSONViewOptions | undefined): Rules {
  return {
    tagged: o?.tagged === true,
    nonFinite: o?.nonFinite ?? 'null',
    bigInts: o?.bigInts ?? 'string',
    lossless: o?.lossless === true,
  };
}

function tagged(key: string, value: Node): Obj {
  const o = new Obj();
  o.add(key, value);
  return o;
}

/** A Python float. */
function floatNode(x: number, r: Rules, where: () => string): Node {
  if (Number.isFinite(x)) {
    // Where JS and Python spell a float alike (a fraction, positional), the number itself will do.
    const ax = Math.abs(x);
    if (ax >= 1e-4 && ax < 1e16 && !Number.isInteger(x)) return x;
    return new Num(reprFloat(x), x);
  }
  if (r.tagged) return tagged('$float', reprFloat(x));
  switch (r.nonFinite) {
    case 'null':
      return null;
    case 'string':
      return pyFloatText(x);
    case 'literal':
      return new Num(pyFloatText(x), x);
    case 'error':
      throw new PicklingError(
        `Out of range float values are not JSON compliant: ${reprFloat(x)}`,
        where(),
        'invalid-value',
      );
  }
}

/** A Python int. */
function intNode(x: bigint | number, r: Rules): Node {
  if (typeof x === 'number' && Number.isSafeInteger(x)) return x === 0 ? 0 : x;
  const big = typeof x === 'bigint' ? x : BigInt(x);
  const text = big.toString();
  if (big >= -MAX_SAFE && big <= MAX_SAFE) return Number(big);
  if (r.tagged) return tagged('$int', text);
  return r.bigInts === 'number' ? new Num(text, Number(big)) : text;
}

/** A JS number of a decoded value: a float when decoded losslessly, else an int when integral. */
function numberNode(x: number, r: Rules, where: () => string): Node {
  if (!r.lossless && Number.isSafeInteger(x) && !Object.is(x, -0)) return x;
  return floatNode(x, r, where);
}

/** Python's repr of a dict key that json.dumps cannot take (tuples, bytes, frozensets, …). */
function keyRepr(k: unknown, r: Rules): string {
  if (k === null || k === undefined) return 'None';
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (typeof k === 'bigint') return k.toString();
  if (typeof k === 'number') return r.lossless || !Number.isInteger(k) ? reprFloat(k) : String(k);
  if (typeof k === 'string') return reprStr(k);
  if (k instanceof Uint8Array) return reprBytes(k);
  if (k instanceof Tuple) {
    const items = k.map((x) => keyRepr(x, r));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (k instanceof FrozenSet)
    return k.size === 0 ? 'frozenset()' : `frozenset({${[...k].map((x) => keyRepr(x, r)).join(', ')}})`;
  if (k instanceof PyGlobal) return `<class '${k.qualifiedName}'>`;
  if (k instanceof NumpyScalar) return keyRepr(k.value, r);
  if (k instanceof PyObject) return `<${k.__qualname__} object>`;
  return String(k);
}

/** A dict key as json.dumps writes it: str as is, int/float/bool/None stringified, others as repr. */
function keyText(k: unknown, r: Rules): string {
  while (k instanceof NumpyScalar) k = k.value;
  if (typeof k === 'string') return k;
  if (k === null || k === undefined) return 'null';
  if (typeof k === 'boolean') return k ? 'true' : 'false';
  if (typeof k === 'bigint') return k.toString();
  if (typeof k === 'number') {
    if (!Number.isFinite(k)) return pyFloatText(k);
    return r.lossless || !Number.isInteger(k) || Object.is(k, -0) ? reprFloat(k) : String(k);
  }
  return keyRepr(k, r);
}

/** `$`-keys of user data get one more `$`, so markers stay unambiguous. */
function escapeKey(k: string): string {
  return k.charCodeAt(0) === 0x24 ? '$' + k : k;
}

/** The view of a value that contains nothing (or undefined when `v` is a container). */
function leaf(v: object, r: Rules, where: () => string): Node | undefined {
  const f = (x: number): Node => floatNode(x, r, where);
  if (v instanceof Uint8Array) return tagged('$bytes', toBase64(v));
  if (v instanceof PickleBuffer) return tagged('$bytes', toBase64(v.data));
  if (v instanceof Complex) return tagged('$complex', [f(v.re), f(v.im)]);
  if (v instanceof PyGlobal) return tagged('$global', v.qualifiedName);
  if (v instanceof PyRange) {
    const n = (x: number | bigint): Node => intNode(x, r);
    return tagged('$range', [n(v.start), n(v.stop), n(v.step)]);
  }
  if (v instanceof PyDateTime) return tagged('$datetime', v.isoformat());
  if (v instanceof PyDate) return tagged('$date', v.isoformat());
  if (v instanceof PyTime) return tagged('$time', v.isoformat());
  if (v instanceof PyTimedelta) return tagged('$timedelta', f(v.totalSeconds()));
  if (v instanceof PyTimezone) return tagged('$timezone', v.tzname());
  if (v instanceof PyZoneInfo) return tagged('$zoneinfo', v.key);
  if (v instanceof PyDecimal) return tagged('$decimal', v.toString());
  if (v instanceof PyFraction) return tagged('$fraction', v.toString());
  if (v instanceof PyUUID) return tagged('$uuid', v.toString());
  if (v instanceof PySafeUUID) return tagged('$global', `uuid.SafeUUID.${v.name}`);
  if (v instanceof DType) return tagged('$dtype', dtypeString(v));
  if (v instanceof TorchDType || v instanceof TorchEnum || v instanceof StorageType)
    return tagged('$global', v.toString());
  if (v instanceof TorchDevice) return tagged('$device', v.toString());
  return undefined;
}

function dtypeString(dt: DType): string {
  return dt.names !== null || dt.subarray !== null ? JSON.stringify(dt.descr) : dt.str;
}

/** One element of a non-object array, by its dtype (float dtypes give floats, int dtypes ints). */
function elementNode(v: unknown, dt: DType, r: Rules, where: () => string): Node {
  if (dt.names !== null && isPlainObject(v)) {
    const o = new Obj();
    for (const name of Object.keys(v)) {
      const f = dt.fields?.get(name);
      o.add(escapeKey(name), f ? elementNode(v[name], f.dtype, r, where) : plainNode(v[name], r, where));
    }
    return o;
  }
  if (dt.subarray !== null && Array.isArray(v)) {
    const base = dt.subarray.base;
    return v.map((x) => elementNode(x, base, r, where));
  }
  const k = dt.kind;
  if (typeof v === 'number') {
    if (k === 'f') return floatNode(v, r, where);
    if (k === 'i' || k === 'u' || k === 'M' || k === 'm') return intNode(v, r);
  }
  return plainNode(v, r, where);
}

/** A value known to hold no shared containers (array elements, fields): converted directly. */
function plainNode(v: unknown, r: Rules, where: () => string): Node {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return numberNode(v, r, where);
  if (typeof v === 'bigint') return intNode(v, r);
  if (typeof v !== 'object') return null;
  if (Array.isArray(v)) return v.map((x) => plainNode(x, r, where));
  return leaf(v, r, where) ?? String(v);
}

/**
 * One value to convert, and where its result goes. A task is also the value's position in the output
 * (parent task + key), rendered as a JSON Pointer only when a `$ref` needs it.
 */
interface Task {
  value: unknown;
  readonly target: Node[] | Obj;
  /** Index in the target (array index, or index into Obj.values). */
  readonly slot: number;
  /** The key for pointers (array index or object key). */
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
  return { value: undefined, target: [], slot: 0, key, parent, depth: parent.depth };
}

function put(t: Task, v: Node): void {
  if (Array.isArray(t.target)) t.target[t.slot] = v;
  else t.target.values[t.slot] = v;
}

/** Add member `key` to `o` (value filled in later) and return the task that fills it. */
function member(o: Obj, key: string, value: unknown, parent: Task, depth: number): Task {
  const slot = o.add(key, null);
  return { value, target: o, slot, key, parent, depth };
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

/** Build the view tree of `value`. */
function view(value: unknown, options: JSONViewOptions | undefined): Node {
  const r = rulesOf(options);
  const maxDepth = options?.maxDepth ?? Infinity;
  const maxItems = options?.maxArrayItems ?? 1000;
  const first = new Map<object, Task>();
  const root: Node[] = [null];
  const stack: Task[] = [{ value, target: root, slot: 0, key: 0, parent: null, depth: 0 }];

  // Where a refusal (nonFinite: 'error') points: the task being converted (one closure for all).
  let current: Task | null = null;
  const where = (): string => pointer(current);
  while (stack.length > 0) {
    const t = stack.pop() as Task;
    current = t;
    const v = t.value;
    // Values that are shown as another value.
    if (v instanceof NumpyScalar) {
      const s = v;
      put(t, elementNode(s.value, s.dtype, r, where));
      continue;
    }
    switch (typeof v) {
      case 'boolean':
      case 'string':
        put(t, v);
        continue;
      case 'number':
        put(t, numberNode(v, r, where));
        continue;
      case 'bigint':
        put(t, intNode(v, r));
        continue;
      case 'object':
        if (v === null) {
          put(t, null);
          continue;
        }
        break;
      default:
        put(t, null);
        continue;
    }
    const isArray = Array.isArray(v);
    if (!isArray) {
      const l = leaf(v, r, where);
      if (l !== undefined) {
        put(t, l);
        continue;
      }
    }
    // Containers: identity first (shared and cyclic references), then depth.
    const seen = first.get(v);
    if (seen !== undefined) {
      put(t, tagged('$ref', pointer(seen)));
      continue;
    }
    first.set(v, t);
    if (t.depth > maxDepth) {
      const o = new Obj();
      o.add('$truncated', kindOf(v));
      const size = sizeOf(v);
      o.add('size', size);
      put(t, o);
      continue;
    }
    const depth = t.depth + 1;
    const tasks: Task[] = [];
    if (isArray || v instanceof Set) {
      // list, tuple, deque, set, frozenset
      const items = isArray ? (v as unknown[]) : [...(v as Set<unknown>)];
      const out: Node[] = new Array<Node>(items.length).fill(null);
      put(t, out);
      for (let i = items.length - 1; i >= 0; i--)
        stack.push({ value: items[i], target: out, slot: i, key: i, parent: t, depth });
      continue;
    }
    if (isPlainObject(v) || (v instanceof Map && (!r.tagged || allStringKeys(v)))) {
      const out = new Obj();
      put(t, out);
      const entries: [unknown, unknown][] = v instanceof Map ? [...v] : Object.entries(v);
      for (const [k, x] of entries) tasks.push(member(out, escapeKey(keyText(k, r)), x, t, depth));
    } else if (v instanceof Map) {
      const pairs: Node[] = [];
      put(t, tagged('$map', pairs));
      const at = marker(t, '$map');
      let i = 0;
      for (const [k, x] of v) {
        const pair: Node[] = [null, null];
        pairs.push(pair);
        const pos = marker(at, i++);
        tasks.push(
          { value: k, target: pair, slot: 0, key: 0, parent: pos, depth },
          { value: x, target: pair, slot: 1, key: 1, parent: pos, depth },
        );
      }
    } else if (v instanceof PyObject) {
      const out = tagged('$class', v.__class__.qualifiedName);
      put(t, out);
      if (v.__args__.length > 0) {
        const args: Node[] = new Array<Node>(v.__args__.length).fill(null);
        out.add('$args', args);
        const at = marker(t, '$args');
        v.__args__.forEach((a, i) =>
          tasks.push({ value: a, target: args, slot: i, key: i, parent: at, depth }),
        );
      }
      if (v.__kwargs__ !== undefined) tasks.push(member(out, '$kwargs', v.__kwargs__, t, depth));
      for (const k of Object.keys(v)) tasks.push(member(out, escapeKey(k), v[k], t, depth));
      if (v.__state__ !== undefined) tasks.push(member(out, '$state', v.__state__, t, depth));
      if (v.__items__ !== undefined) tasks.push(member(out, '$items', v.__items__, t, depth));
      if (v.__dictitems__ !== undefined) tasks.push(member(out, '$dictitems', v.__dictitems__, t, depth));
    } else if (v instanceof NDArray) {
      const a = v;
      const body = new Obj();
      body.add('dtype', dtypeString(a.dtype));
      body.add('shape', [...a.shape]);
      if (a.subclass !== 'numpy.ndarray') body.add('class', a.subclass);
      put(t, tagged('$ndarray', body));
      const truncated = a.size > maxItems;
      if (truncated) body.add('truncated', true);
      const key = truncated ? 'head' : 'data';
      const at = marker(t, '$ndarray');
      if (a.objects) {
        // Object arrays may hold any value (shared ones too): their elements go through the walk.
        const data = truncated ? a.objects.slice(0, maxItems) : reshape(a.toArray(), a.shape);
        tasks.push(member(body, key, data, at, depth));
        // The nested arrays are fresh, so they never count as shared.
      } else {
        const n = truncated ? maxItems : undefined;
        // Refuse before any text is written (array data is converted while it is written).
        const src = ndarraySource(a);
        if (!r.tagged && r.nonFinite === 'error') {
          const at = (): string => `${pointer(t)}/$ndarray/${key}`;
          forEachElement(src, n ?? a.size, (x) => void src.node(x, r, at));
        }
        body.add(key, new ArrayData(src, n));
      }
    } else if (v instanceof DataFrame || v instanceof Series) {
      const body = new Obj();
      const frame = v instanceof DataFrame;
      put(t, tagged(frame ? '$dataframe' : '$series', body));
      const at = marker(t, frame ? '$dataframe' : '$series');
      const members: [string, unknown][] =
        v instanceof DataFrame
          ? [
              ['columns', v.columns],
              ['index', frameIndex(v, v.index)],
              ['data', v.columns.map((c) => v.column(c) ?? [])],
            ]
          : [
              ['name', v.name],
              ['index', frameIndex(v, v.index)],
              ['data', v.values()],
            ];
      for (const [k, x] of members) tasks.push(member(body, k, x, at, depth));
    } else if (v instanceof Tensor) {
      const body = new Obj();
      put(t, tagged('$tensor', body));
      body.add('dtype', v.dtype);
      body.add('shape', [...v.shape]);
      if (v instanceof Parameter) body.add('class', 'torch.nn.parameter.Parameter');
      if (v.requiresGrad) body.add('requires_grad', true);
      if (v.device !== 'cpu') body.add('device', v.device);
      if (v instanceof QuantizedTensor) {
        body.add('qscheme', v.qscheme);
        if (v.scales !== undefined) {
          tasks.push(member(body, 'scales', v.scales, marker(t, '$tensor'), depth));
          tasks.push(member(body, 'zero_points', v.zeroPoints, marker(t, '$tensor'), depth));
          body.add('axis', v.axis ?? null);
        } else {
          body.add('scale', floatNode(v.scale as number, r, where));
          body.add('zero_point', intNode(v.zeroPoint as number, r));
        }
      }
      if (!v.storage) body.add('data', null);
      else {
        const truncated = v.numel > maxItems;
        if (truncated) body.add('truncated', true);
        const src = tensorSource(v);
        const n = truncated ? maxItems : undefined;
        if (!r.tagged && r.nonFinite === 'error') {
          const at = (): string => `${pointer(t)}/$tensor/${truncated ? 'head' : 'data'}`;
          forEachElement(src, n ?? v.numel, (x) => void src.node(x, r, at));
        }
        body.add(truncated ? 'head' : 'data', new ArrayData(src, n));
      }
    } else if (v instanceof SparseTensor) {
      // The stored parts, not the dense tensor (whose size the shape alone decides).
      const body = new Obj();
      put(t, tagged('$tensor', body));
      body.add('layout', v.layout);
      body.add('dtype', v.dtype);
      body.add('shape', [...v.shape]);
      const at = marker(t, '$tensor');
      const parts: [string, Tensor | undefined][] = [
        ['indices', v.indices],
        ['compressed_indices', v.compressedIndices],
        ['plain_indices', v.plainIndices],
        ['values', v.values],
      ];
      for (const [k, x] of parts) if (x !== undefined) tasks.push(member(body, k, x, at, depth));
    } else if (v instanceof TorchScriptArchive) {
      const body = new Obj();
      put(t, tagged('$torchscript', body));
      const at = marker(t, '$torchscript');
      tasks.push(
        member(body, 'module', v.module, at, depth),
        member(body, 'constants', v.constants, at, depth),
      );
      if (v.extra.size > 0) tasks.push(member(body, 'extra', v.extra, at, depth));
    } else if (v instanceof Storage) {
      const body = new Obj();
      body.add('dtype', v.dtype);
      body.add('nbytes', v.nbytes);
      put(t, tagged('$storage', body));
    } else if (v instanceof PySlice) {
      const out: Node[] = [null, null, null];
      put(t, tagged('$slice', out));
      const at = marker(t, '$slice');
      [v.start, v.stop, v.step].forEach((x, i) =>
        tasks.push({ value: x, target: out, slot: i, key: i, parent: at, depth }),
      );
    } else {
      // Anything else: what it says about itself, if it can.
      const toJSON = (v as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') {
        first.delete(v);
        t.value = toJSON.call(v);
        stack.push(t);
      } else put(t, tagged('$unknown', (v as object).constructor?.name ?? 'object'));
      continue;
    }
    for (let i = tasks.length - 1; i >= 0; i--) stack.push(tasks[i] as Task);
  }
  return root[0] as Node;
}

/**
 * The index labels of a DataFrame or Series. A RangeIndex's labels are computed, as JS numbers even
 * in lossless mode, where a JS number means a float: they are ints.
 */
function frameIndex(v: DataFrame | Series, labels: unknown[]): unknown[] {
  const axis = v.manager?.axes[v instanceof DataFrame ? 1 : 0];
  if (!(axis instanceof PandasIndex) || !axis.cls.endsWith('RangeIndex')) return labels;
  return labels.map((x) => (typeof x === 'number' && Number.isSafeInteger(x) ? BigInt(x) : x));
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

/** Calls `f` for the first `n` elements of `a` in C order (all when `n` is undefined). */
function forEachElement(a: ElementSource, n: number, f: (v: unknown) => void): void {
  const shape = a.shape;
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    f(a.get(idx));
    for (let k = shape.length - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (shape[k] as number)) break;
      idx[k] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JS values
// ---------------------------------------------------------------------------------------------

/** The JS value of a view tree (iterative: the tree may be deeper than the JS stack). */
function toValue(tree: Node, r: Rules): JSONValue {
  const where = (): string => '';
  const root: JSONValue[] = [null];
  const stack: [Node, JSONValue[] | Record<string, JSONValue>, string | number][] = [[tree, root, 0]];
  while (stack.length > 0) {
    const [n, target, key] = stack.pop() as [Node, JSONValue[] | Record<string, JSONValue>, string | number];
    let v: JSONValue;
    if (n === null || typeof n === 'boolean' || typeof n === 'string' || typeof n === 'number') v = n;
    else if (n instanceof Num) v = n.value;
    else if (n instanceof ArrayData) {
      const a = n.a;
      const el = (x: unknown): Node => a.node(x, r, where);
      if (n.head !== undefined) {
        const out: Node[] = [];
        forEachElement(a, n.head, (x) => out.push(el(x)));
        stack.push([out, target, key]);
      } else {
        let flat: unknown[];
        if (a.all) flat = a.all();
        else {
          flat = [];
          forEachElement(a, a.size, (x) => flat.push(x));
        }
        stack.push([reshape(flat.map(el), a.shape) as Node, target, key]);
      }
      continue;
    } else if (Array.isArray(n)) {
      const out: JSONValue[] = new Array<JSONValue>(n.length).fill(null);
      for (let i = n.length - 1; i >= 0; i--) stack.push([n[i] as Node, out, i]);
      v = out;
    } else {
      const out: Record<string, JSONValue> = {};
      // Members in place now, so the object keeps the view's key order (a repeated key: the last wins).
      for (const k of n.keys) setOwn(out, k, null);
      for (let i = n.keys.length - 1; i >= 0; i--)
        stack.push([n.values[i] as Node, out, n.keys[i] as string]);
      v = out;
    }
    if (Array.isArray(target)) target[key as number] = v;
    else setOwn(target, key as string, v);
  }
  return root[0] as JSONValue;
}

/**
 * A JSON-safe view of a decoded value (see the module comment for the exact shape).
 * @example
 * toJSONValue(loads(bytes)) // { "$class": "sklearn.linear_model._base.LinearRegression", "coef_": { "$ndarray": … }, … }
 */
export function toJSONValue(value: unknown, options?: JSONViewOptions): JSONValue {
  return toValue(view(value, options), rulesOf(options));
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/** Output in pieces of about this many characters. */
const CHUNK = 1 << 16;

interface Frame {
  readonly node: Node[] | Obj;
  i: number;
  /** Items on their own indented lines (false past MAX_INDENTED_LEVELS: one line). */
  readonly indented: boolean;
  readonly level: number;
}

/**
 * Write the view tree as JSON text, in pieces, to `write`. `indent` spaces per level (0: one line,
 * `,` and `:` without spaces); the first MAX_INDENTED_LEVELS levels are indented.
 */
function writeTree(tree: Node, r: Rules, indent: number, write: (chunk: string) => void): void {
  const pad = indent > 0 ? ' '.repeat(Math.min(10, Math.floor(indent))) : '';
  let buf = '';
  const out = (s: string): void => {
    buf += s;
    if (buf.length >= CHUNK) {
      write(buf);
      buf = '';
    }
  };
  const frames: Frame[] = [];
  /** The elements of a numpy array, laid out as the nested lists they stand for. */
  const arrayData = (d: ArrayData, level: number, indented: boolean): void => {
    const a = d.a;
    const where = (): string => '';
    const el = (x: unknown, lv: number, ind: boolean): void => small(a.node(x, r, where), lv, ind);
    if (a.shape.length === 0 && d.head === undefined) {
      el(a.get([]), level, indented);
      return;
    }
    // A head is flat; whole data nests by shape.
    const shape = d.head !== undefined ? [Math.min(d.head, a.size)] : a.shape;
    const idx = new Array<number>(a.shape.length).fill(0);
    const step = (): void => {
      // Advance the C-order index of `a` (flat heads walk it one element at a time).
      for (let j = a.shape.length - 1; j >= 0; j--) {
        idx[j] = (idx[j] as number) + 1;
        if ((idx[j] as number) < (a.shape[j] as number)) break;
        idx[j] = 0;
      }
    };
    const rec = (dim: number, lv: number): void => {
      const len = shape[dim] as number;
      if (len === 0) {
        out('[]');
        return;
      }
      const ind = indented && pad !== '' && lv < MAX_INDENTED_LEVELS;
      out('[');
      for (let i = 0; i < len; i++) {
        if (i > 0) out(',');
        if (ind) out('\n' + pad.repeat(lv + 1));
        if (dim === shape.length - 1) {
          el(a.get(idx), lv + 1, ind);
          step();
        } else rec(dim + 1, lv + 1);
      }
      if (ind) out('\n' + pad.repeat(lv));
      out(']');
    };
    rec(0, level);
  };
  /** A small node (an array element: records, complex pairs, sub-arrays), written recursively. */
  const small = (v: Node, lv: number, indented: boolean): void => {
    if (scalar(v, lv, indented)) return;
    const isObj = v instanceof Obj;
    const items = isObj ? v.values : (v as Node[]);
    const ind = indented && pad !== '' && lv < MAX_INDENTED_LEVELS;
    out(isObj ? '{' : '[');
    items.forEach((x, i) => {
      if (i > 0) out(',');
      if (ind) out('\n' + pad.repeat(lv + 1));
      if (isObj) out(JSON.stringify(v.keys[i]) + (ind ? ': ' : ':'));
      small(x, lv + 1, ind);
    });
    if (ind) out('\n' + pad.repeat(lv));
    out(isObj ? '}' : ']');
  };
  /** Write a node that opens no frame; returns false for a non-empty array/object. */
  const scalar = (v: Node, level: number, indented: boolean): boolean => {
    if (v === null) out('null');
    else if (typeof v === 'number') out(String(v));
    else if (typeof v === 'boolean') out(v ? 'true' : 'false');
    else if (typeof v === 'string') out(JSON.stringify(v));
    else if (v instanceof Num) out(v.text);
    else if (v instanceof ArrayData) arrayData(v, level, indented);
    else if (Array.isArray(v) ? v.length === 0 : v.keys.length === 0) out(Array.isArray(v) ? '[]' : '{}');
    else return false;
    return true;
  };
  const open = (v: Node, level: number, parentIndented: boolean): void => {
    if (scalar(v, level, parentIndented)) return;
    const node = v as Node[] | Obj;
    out(Array.isArray(node) ? '[' : '{');
    frames.push({ node, i: 0, indented: parentIndented && pad !== '' && level < MAX_INDENTED_LEVELS, level });
  };
  open(tree, 0, true);
  while (frames.length > 0) {
    const f = frames[frames.length - 1] as Frame;
    const isObj = !Array.isArray(f.node);
    const len = isObj ? (f.node as Obj).keys.length : (f.node as Node[]).length;
    if (f.i >= len) {
      frames.pop();
      if (f.indented) out('\n' + pad.repeat(f.level));
      out(isObj ? '}' : ']');
      continue;
    }
    if (f.i > 0) out(',');
    if (f.indented) out('\n' + pad.repeat(f.level + 1));
    const sep = f.indented ? ': ' : ':';
    let x: Node;
    if (isObj) {
      const o = f.node as Obj;
      out(JSON.stringify(o.keys[f.i]) + sep);
      x = o.values[f.i] as Node;
    } else x = (f.node as Node[])[f.i] as Node;
    f.i++;
    open(x, f.level + 1, f.indented);
  }
  if (buf) write(buf);
}

function writeAll(tree: Node, r: Rules, indent: number): string {
  const parts: string[] = [];
  writeTree(tree, r, indent, (c) => parts.push(c));
  return parts.join('');
}

/**
 * `toJSONValue` as JSON text, `indent` spaces per level (0 or none: one line). Floats read as Python
 * writes them (`1.0`, `1e-05`); containers deeper than MAX_INDENTED_LEVELS are written on one line.
 * @example
 * toPlainJson(loads(bytes, { lossless: true }), 2, { lossless: true })
 */
export function toPlainJson(value: unknown, indent?: number, options?: JSONViewOptions): string {
  return writeAll(view(value, options), rulesOf(options), indent ?? 0);
}

/**
 * `toPlainJson`, handed over in pieces of about 64 KiB as they are produced (for output that may not
 * fit one JS string: whole large arrays with `maxArrayItems: Infinity`).
 * @example
 * writePlainJson(value, 2, {}, (chunk) => process.stdout.write(chunk));
 */
export function writePlainJson(
  value: unknown,
  indent: number,
  options: JSONViewOptions | undefined,
  write: (chunk: string) => void,
): void {
  writeTree(view(value, options), rulesOf(options), indent, write);
}
