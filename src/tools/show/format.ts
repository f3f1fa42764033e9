/**
 * One-line forms of values, in Python's terms: reprs of scalars, short forms of containers (for dict
 * keys, array elements and table cells), sizes, shapes and dtype names.
 */
import {
  ByteArray,
  Complex,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  PyObject,
  PyRange,
  PySlice,
  Tuple,
  isPlainObject,
} from '../../python/values.js';
import {
  Counter,
  DefaultDict,
  Deque,
  OrderedDict,
  PyDecimal,
  PyFraction,
  PyPytzTimezone,
  PySafeUUID,
  PyUUID,
} from '../../python/stdlib.js';
import { PyDate, PyDateTime, PyTime, PyTimedelta, PyTimezone, PyZoneInfo } from '../../python/datetime.js';
import { DType, NDArray, NumpyScalar } from '../../numpy/index.js';
import { DataFrame, PandasExtensionArray, PandasIndex, Series } from '../../pandas/index.js';
import { reprBytes, reprFloat, reprStr } from '../pyrepr.js';

export { formatSize } from './size.js';

/** Characters of a str shown before eliding (unless the width leaves less). */
const STR_CHARS = 80;
/** Bytes of a bytes value shown before eliding. */
const BYTES_SHOWN = 32;

/**
 * A str repr, elided after `max` characters (between 16 and STR_CHARS): `'abc…' (1200 chars)`.
 */
export function truncStr(s: string, max = STR_CHARS): string {
  const limit = Math.max(16, Math.min(max, STR_CHARS));
  if (s.length <= limit) return reprStr(s);
  let cut = limit;
  // Do not split a surrogate pair.
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  const r = reprStr(s.slice(0, cut));
  return `${r.slice(0, -1)}…${r.slice(-1)} (${s.length} chars)`;
}

/** A bytes repr, elided after BYTES_SHOWN bytes. */
export function truncBytes(b: Uint8Array, bytearray: boolean): string {
  const shown = b.length > BYTES_SHOWN ? b.subarray(0, BYTES_SHOWN) : b;
  let r = reprBytes(shown);
  if (b.length > BYTES_SHOWN) r = `${r.slice(0, -1)}…${r.slice(-1)} (${b.length} bytes)`;
  return bytearray ? `bytearray(${r})` : r;
}

/**
 * A JS number as Python prints it: a float (`0.0`, `1e-05`) when decoded losslessly; otherwise
 * integral numbers print as ints (the default decoding turns Python ints into numbers).
 */
export function numText(n: number, lossless: boolean): string {
  if (!lossless && Number.isInteger(n) && !Object.is(n, -0)) return String(n);
  return reprFloat(n);
}

/** Compact number for array previews and tables (6 significant digits, as numpy's summaries). */
export function compactNum(n: number, asFloat: boolean): string {
  if (!Number.isFinite(n)) return reprFloat(n);
  if (Number.isInteger(n) && !asFloat) return String(n);
  const r = Number(n.toPrecision(6));
  return asFloat ? reprFloat(r) : String(r);
}

/** `(3,)`, `(2, 3)`, `()`. */
export function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** numpy's dtype name (`float64`, `<U5` as `str160`…), structured dtypes summarised. */
export function dtypeText(dt: DType): string {
  if (dt.names !== null) {
    const names = dt.names;
    const shown = names.slice(0, 4).join(', ') + (names.length > 4 ? ', …' : '');
    return `structured (${names.length} fields: ${shown})`;
  }
  if (dt.subarray !== null) return dt.toString();
  return dt.name;
}

/** The last part of a dotted name. */
export function shortClass(cls: string): string {
  const dot = cls.lastIndexOf('.');
  return dot < 0 ? cls : cls.slice(dot + 1);
}

/** The class an NDArray shows as: `ndarray`, or the subclass's qualified name. */
export function arrayClassName(a: NDArray): string {
  return a.subclass === 'numpy.ndarray' ? 'ndarray' : a.subclass;
}

const STDLIB_NAMES: readonly [abstract new (...args: never[]) => unknown, string][] = [
  [PyDateTime, 'datetime.datetime'],
  [PyDate, 'datetime.date'],
  [PyTime, 'datetime.time'],
  [PyTimedelta, 'datetime.timedelta'],
  [PyTimezone, 'datetime.timezone'],
  [PyZoneInfo, 'zoneinfo.ZoneInfo'],
  [PyPytzTimezone, 'pytz timezone'],
  [PyDecimal, 'decimal.Decimal'],
  [PyFraction, 'fractions.Fraction'],
  [PyUUID, 'uuid.UUID'],
];

/** The Python name of a stdlib value type (`datetime.datetime`, …), if `v` is one. */
export function stdlibName(v: object): string | undefined {
  if (v instanceof PySafeUUID) return 'uuid.SafeUUID';
  for (const [cls, name] of STDLIB_NAMES) if (v instanceof cls) return name;
  return undefined;
}

/** The Python type name of a container-like value. */
export function containerType(v: object): string {
  if (v instanceof Deque) return 'collections.deque';
  if (v instanceof Tuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof OrderedDict) return 'collections.OrderedDict';
  if (v instanceof DefaultDict) return 'collections.defaultdict';
  if (v instanceof Counter) return 'collections.Counter';
  if (v instanceof Map) return 'dict';
  if (v instanceof FrozenSet) return 'frozenset';
  if (v instanceof Set) return 'set';
  return 'dict';
}

/** How an empty container prints in Python (`[]`, `set()`, `OrderedDict()`…). */
export function emptyForm(v: object): string {
  if (v instanceof Deque) return 'deque([])';
  if (v instanceof Tuple) return '()';
  if (Array.isArray(v)) return '[]';
  if (v instanceof FrozenSet) return 'frozenset()';
  if (v instanceof Set) return 'set()';
  if (v instanceof OrderedDict) return 'OrderedDict()';
  if (v instanceof Counter) return 'Counter()';
  if (v instanceof DefaultDict) return `defaultdict(${String(v.defaultFactory)}, {})`;
  return '{}';
}

/** Items in a container (list, tuple, dict, set; plain objects count their keys). */
export function sizeOf(v: object): number {
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  return Object.keys(v).length;
}

/** Lists, tuples, dicts, sets and plain objects (dicts of the default decoding). */
function isContainer(v: unknown): v is object {
  return Array.isArray(v) || v instanceof Map || v instanceof Set || isPlainObject(v);
}

/** `range(0, 5)`, `range(0, 10, 2)`. */
export function rangeText(r: PyRange): string {
  const step = String(r.step);
  return step === '1'
    ? `range(${String(r.start)}, ${String(r.stop)})`
    : `range(${String(r.start)}, ${String(r.stop)}, ${step})`;
}

/** The repr-like form of a numpy scalar: `numpy.float64(0.5)`. */
function scalarText(s: NumpyScalar, lossless: boolean): string {
  return `numpy.${s.dtype.name}(${scalarValueText(s, lossless)})`;
}

/** The value of a numpy scalar as Python prints it (floats always with a `.0` or exponent). */
export function scalarValueText(s: NumpyScalar, lossless: boolean): string {
  const v = s.value;
  if (s.dtype.kind === 'f' && typeof v === 'number') return reprFloat(v);
  return shortRepr(v, lossless);
}

/** Python's repr of a datetime-like value as `show` prints it (`2024-05-17 09:30:00.123456`). */
export function stdlibText(v: object): string {
  return String(v);
}

/**
 * One-line Python-like form of any value, for places with no room for a subtree (dict keys, array
 * elements, table cells). Containers are cut after a few items and two levels.
 * @example
 * shortRepr(new Map([[1n, 'a']]), true); // "{1: 'a'}"
 */
export function shortRepr(v: unknown, lossless: boolean, level = 0, compact = false): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return compact ? compactNum(v, lossless) : numText(v, lossless);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return truncStr(v);
  if (v instanceof ByteArray) return truncBytes(v, true);
  if (v instanceof Uint8Array) return truncBytes(v, false);
  if (typeof v !== 'object') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'NaT' : v.toISOString();
  if (v instanceof Complex) return v.toString();
  if (v instanceof PyGlobal) return v.qualifiedName;
  if (v instanceof PyRange) return rangeText(v);
  if (v instanceof PySlice)
    return `slice(${[v.start, v.stop, v.step].map((x) => shortRepr(x, lossless, level + 1)).join(', ')})`;
  if (v instanceof PickleBuffer)
    return `PickleBuffer(${v.data.length} bytes${v.readonly ? ', read-only' : ''})`;
  if (v instanceof NumpyScalar) return scalarText(v, lossless);
  if (v instanceof DType) return v.toString();
  if (v instanceof NDArray) return `${arrayClassName(v)}(${dtypeText(v.dtype)}, ${shapeText(v.shape)})`;
  if (v instanceof DataFrame) return 'DataFrame(…)';
  if (v instanceof Series) return 'Series(…)';
  if (v instanceof PandasIndex) return `${shortClass(v.cls)}(…)`;
  if (v instanceof PandasExtensionArray) return `${shortClass(v.cls)}(…)`;
  if (v instanceof PyObject) return `${v.__qualname__}(…)`;
  const std = stdlibName(v);
  if (std !== undefined) return `${std}(${stdlibText(v)})`;
  if (isContainer(v)) return containerRepr(v, lossless, level);
  return Object.prototype.toString.call(v);
}

function containerRepr(v: object, lossless: boolean, level: number): string {
  const n = sizeOf(v);
  if (n === 0) return emptyForm(v);
  if (level >= 2) return `${containerType(v)}(…${n})`;
  const parts: string[] = [];
  const limit = 4;
  let i = 0;
  const add = (s: string): boolean => {
    if (i++ >= limit) return false;
    parts.push(s);
    return true;
  };
  if (v instanceof Map) {
    for (const [k, x] of v)
      if (!add(`${shortRepr(k, lossless, level + 1)}: ${shortRepr(x, lossless, level + 1)}`)) break;
  } else if (v instanceof Set || Array.isArray(v)) {
    for (const x of v as Iterable<unknown>) if (!add(shortRepr(x, lossless, level + 1))) break;
  } else {
    for (const k of Object.keys(v))
      if (!add(`${reprStr(k)}: ${shortRepr((v as Record<string, unknown>)[k], lossless, level + 1)}`)) break;
  }
  if (n > limit) parts.push(`…${n - limit} more`);
  const body = parts.join(', ');
  if (v instanceof Tuple) return n === 1 ? `(${body},)` : `(${body})`;
  if (Array.isArray(v)) return `[${body}]`;
  if (v instanceof FrozenSet) return `frozenset({${body}})`;
  return `{${body}}`;
}

/** Run `f`, or return `fallback` if it throws (a malformed value must not stop the whole view). */
export function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** Visible length (code points), as a terminal counts columns for most text. */
export function visibleLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) i++;
    n++;
  }
  return n;
}
