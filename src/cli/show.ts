/**
 * `picklejar show`: a readable tree of a decoded value, in Python's terms.
 *
 * The walk is iterative (an explicit task stack) and depth- and item-limited, so a million levels of
 * nesting or a list of ten million items cost only what is printed. Every container is rendered once:
 * a second path to the same object prints a `*N` back-reference and the first occurrence gets the
 * matching `&N` anchor (patched into its line afterwards), so shared DAGs such as 60 levels of `[x, x]`
 * stay linear. `count()` walks everything once (with a visited set) for the summary line.
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
} from '../python/values.js';
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
} from '../python/stdlib.js';
import { PyDate, PyDateTime, PyTime, PyTimedelta, PyTimezone, PyZoneInfo } from '../python/datetime.js';
import { DType, MaskedArray, NDArray, NumpyScalar } from '../numpy/index.js';
import { DataFrame, PandasExtensionArray, PandasIndex, Series } from '../pandas/index.js';
import { reprBytes, reprFloat, reprStr } from '../tools/pyrepr.js';
import type { Style } from './style.js';

export interface ShowOptions {
  /** Levels below the root that are expanded (deeper containers are summarised on one line). */
  readonly depth: number;
  /** Items shown per list/tuple/set/dict (object attributes: max(items, 100)). */
  readonly items: number;
  /** The value was decoded losslessly: bigint is a Python int, number a Python float. */
  readonly lossless: boolean;
  readonly style: Style;
}

const INDENT = '  ';
/** Characters of a str / bytes shown before eliding. */
const STR_CHARS = 80;
const BYTES_SHOWN = 32;
/** Edge items per axis in array previews (numpy's own summary uses 3). */
const EDGE = 3;
const ATTRIBUTE_MIN = 100;

// ---------------------------------------------------------------------------------------------
// Scalars and one-line forms
// ---------------------------------------------------------------------------------------------

function truncStr(s: string): string {
  if (s.length <= STR_CHARS) return reprStr(s);
  let cut = STR_CHARS;
  // Do not split a surrogate pair.
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  const r = reprStr(s.slice(0, cut));
  return `${r.slice(0, -1)}…${r.slice(-1)} (${s.length} chars)`;
}

function truncBytes(b: Uint8Array, bytearray: boolean): string {
  const shown = b.length > BYTES_SHOWN ? b.subarray(0, BYTES_SHOWN) : b;
  let r = reprBytes(shown);
  if (b.length > BYTES_SHOWN) r = `${r.slice(0, -1)}…${r.slice(-1)} (${b.length} bytes)`;
  return bytearray ? `bytearray(${r})` : r;
}

/** A JS number as Python would print it: a float in lossless mode; in default mode ints print as ints. */
function numText(n: number, lossless: boolean): string {
  if (!lossless && Number.isInteger(n) && !Object.is(n, -0)) return String(n);
  return reprFloat(n);
}

/** Compact number for array previews and tables (6 significant digits). */
function compactNum(n: number, asFloat: boolean): string {
  if (!Number.isFinite(n)) return reprFloat(n);
  if (Number.isInteger(n) && !asFloat) return String(n);
  const r = Number(n.toPrecision(6));
  return asFloat ? reprFloat(r) : String(r);
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

function stdlibName(v: object): string | undefined {
  if (v instanceof PySafeUUID) return 'uuid.SafeUUID';
  for (const [cls, name] of STDLIB_NAMES) if (v instanceof cls) return name;
  return undefined;
}

/** The Python type name of a container-like value. */
function containerType(v: object): string {
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

function emptyForm(v: object): string {
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

function sizeOf(v: object): number {
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  return Object.keys(v).length;
}

function isContainer(v: unknown): v is object {
  return Array.isArray(v) || v instanceof Map || v instanceof Set || isPlainObject(v);
}

function arrayTypeName(a: NDArray): string {
  return a.subclass === 'numpy.ndarray' ? 'ndarray' : a.subclass;
}

function dtypeText(dt: DType): string {
  if (dt.names !== null) {
    const names = dt.names;
    const shown = names.slice(0, 4).join(', ') + (names.length > 4 ? ', …' : '');
    return `structured (${names.length} fields: ${shown})`;
  }
  if (dt.subarray !== null) return dt.toString();
  return dt.name;
}

function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/**
 * One-line Python-like form of any value, for places with no room for a subtree (dict keys, array
 * elements, table cells). Containers are cut after a few items and two levels.
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
  if (v instanceof NDArray) return `${arrayTypeName(v)}(${dtypeText(v.dtype)}, ${shapeText(v.shape)})`;
  if (v instanceof DataFrame) return 'DataFrame(…)';
  if (v instanceof Series) return 'Series(…)';
  if (v instanceof PandasIndex) return `${shortClass(v.cls)}(…)`;
  if (v instanceof PandasExtensionArray) return `${shortClass(v.cls)}(…)`;
  if (v instanceof PyObject) return `${v.__qualname__}(…)`;
  const std = stdlibName(v);
  if (std !== undefined) return `${std}(${String(v)})`;
  if (isContainer(v)) {
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
        if (!add(`${reprStr(k)}: ${shortRepr((v as Record<string, unknown>)[k], lossless, level + 1)}`))
          break;
    }
    if (n > limit) parts.push(`…${n - limit} more`);
    const body = parts.join(', ');
    if (v instanceof Tuple) return n === 1 ? `(${body},)` : `(${body})`;
    if (Array.isArray(v)) return `[${body}]`;
    if (v instanceof FrozenSet) return `frozenset({${body}})`;
    return `{${body}}`;
  }
  return Object.prototype.toString.call(v);
}

function rangeText(r: PyRange): string {
  const step = String(r.step);
  return step === '1'
    ? `range(${String(r.start)}, ${String(r.stop)})`
    : `range(${String(r.start)}, ${String(r.stop)}, ${step})`;
}

function scalarText(s: NumpyScalar, lossless: boolean): string {
  const v = s.value;
  let inner: string;
  if (s.dtype.kind === 'f' && typeof v === 'number') inner = reprFloat(v);
  else inner = shortRepr(v, lossless);
  return `numpy.${s.dtype.name}(${inner})`;
}

function shortClass(cls: string): string {
  const dot = cls.lastIndexOf('.');
  return dot < 0 ? cls : cls.slice(dot + 1);
}

// ---------------------------------------------------------------------------------------------
// numpy previews
// ---------------------------------------------------------------------------------------------

const NAT = -(2n ** 63n);
const UNIT_MS: Record<string, number> = { W: 7 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000 };
/** Sub-second units: digits after the decimal point. */
const SUBSECOND: Record<string, number> = { s: 0, ms: 3, us: 6, ns: 9, ps: 12, fs: 15, as: 18 };

/** numpy datetime64 / timedelta64 elements as numpy prints them (ISO dates, `NaT`, `5 ms`). */
function timeText(v: unknown, dt: DType): string | undefined {
  if (typeof v !== 'bigint' && typeof v !== 'number') return undefined;
  const n = BigInt(v);
  if (n === NAT) return 'NaT';
  const unit = dt.unit ?? 'generic';
  if (dt.kind === 'm') return `${n * BigInt(dt.count)} ${unit === 'generic' ? '' : unit}`.trim();
  const k = Number(n) * dt.count;
  if (unit === 'Y') return String(1970 + k);
  if (unit === 'M') {
    const y = 1970 + Math.floor(k / 12);
    return `${y}-${String((((k % 12) + 12) % 12) + 1).padStart(2, '0')}`;
  }
  const sub = SUBSECOND[unit];
  if (sub !== undefined) {
    // Exact: whole seconds plus the fraction in the unit's own digits.
    const total = n * BigInt(dt.count);
    const per = 10n ** BigInt(sub);
    let sec = total / per;
    let frac = total % per;
    if (frac < 0n) {
      frac += per;
      sec -= 1n;
    }
    const d = new Date(Number(sec) * 1000);
    if (Number.isNaN(d.getTime())) return undefined;
    const base = d.toISOString().slice(0, 19);
    return sub === 0 ? base : `${base}.${frac.toString().padStart(sub, '0')}`;
  }
  const per = UNIT_MS[unit];
  if (per === undefined) return undefined;
  const ms = k * per;
  const d = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) return undefined;
  const iso = d.toISOString();
  if (unit === 'D' || unit === 'W') return iso.slice(0, 10);
  if (unit === 'h') return iso.slice(0, 13);
  return iso.slice(0, 16);
}

function elementText(a: NDArray, idx: number[], lossless: boolean): string {
  let v: unknown;
  try {
    if (a instanceof MaskedArray && a.mask && a.mask.dtype.names === null && a.mask.size === a.size) {
      if (a.mask.get(...idx) === true) return '--';
    }
    v = a.get(...idx);
  } catch {
    return '?';
  }
  const kind = a.dtype.kind;
  if (kind === 'M' || kind === 'm') {
    const t = timeText(v, a.dtype);
    if (t !== undefined) return t;
  }
  if (typeof v === 'number') return compactNum(v, kind === 'f' || kind === 'c');
  if (v instanceof Complex)
    return `${compactNum(v.re, false)}${v.im < 0 ? '-' : '+'}${compactNum(Math.abs(v.im), false)}j`;
  if (isPlainObject(v) && a.dtype.names !== null) {
    const keys = Object.keys(v);
    const parts = keys.slice(0, 3).map((k) => `${k}=${shortRepr(v[k], lossless, 1, true)}`);
    if (keys.length > 3) parts.push('…');
    return `(${parts.join(', ')})`;
  }
  return shortRepr(v, lossless, 1, true);
}

/** numpy-like preview: `[[1.5, 2.0, …, 9.0], …]`, first and last EDGE items per axis. */
export function arrayPreview(a: NDArray, lossless: boolean): string {
  const shape = a.shape;
  if (shape.length === 0) return elementText(a, [], lossless);
  if (a.size === 0) return '[]';
  if (shape.length > 3) {
    // High-dimensional: the first few elements in C order.
    const out: string[] = [];
    const idx = shape.map(() => 0);
    for (let n = 0; n < Math.min(a.size, 2 * EDGE); n++) {
      out.push(elementText(a, idx, lossless));
      for (let k = shape.length - 1; k >= 0; k--) {
        if (++(idx[k] as number) < (shape[k] as number)) break;
        idx[k] = 0;
      }
    }
    return `flat [${out.join(', ')}${a.size > 2 * EDGE ? ', …' : ''}]`;
  }
  const rec = (dim: number, prefix: number[]): string => {
    const len = shape[dim] as number;
    const picks: (number | null)[] = [];
    if (len <= 2 * EDGE + 1) for (let i = 0; i < len; i++) picks.push(i);
    else {
      for (let i = 0; i < EDGE; i++) picks.push(i);
      picks.push(null);
      for (let i = len - EDGE; i < len; i++) picks.push(i);
    }
    const parts = picks.map((i) =>
      i === null
        ? '…'
        : dim === shape.length - 1
          ? elementText(a, [...prefix, i], lossless)
          : rec(dim + 1, [...prefix, i]),
    );
    return `[${parts.join(', ')}]`;
  };
  return rec(0, []);
}

function arrayLine(a: NDArray, lossless: boolean, style: Style): string {
  let head = `${arrayTypeName(a)} ${dtypeText(a.dtype)} ${shapeText(a.shape)}`;
  if (a instanceof MaskedArray) head += ' masked';
  if (a.dtype.kind !== 'O' && a.nbytes >= 10_000) head += ` ${Math.round(a.nbytes / 1000)} kB`;
  let preview: string;
  try {
    preview = arrayPreview(a, lossless);
  } catch (e) {
    preview = `<cannot preview: ${(e as Error).message}>`;
  }
  return `${style.type(head)} ${preview}`;
}

// ---------------------------------------------------------------------------------------------
// pandas
// ---------------------------------------------------------------------------------------------

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

function cellText(v: unknown, lossless: boolean, asFloat = false): string {
  let s: string;
  // eslint-disable-next-line no-control-regex -- control characters would break the table layout
  if (typeof v === 'string') s = v.replace(/[\x00-\x1f\x7f]/g, '·');
  else if (typeof v === 'number') s = compactNum(v, asFloat);
  else if (v instanceof Date)
    s = Number.isNaN(v.getTime())
      ? 'NaT'
      : v
          .toISOString()
          .replace('T', ' ')
          .replace(/\.000Z$|Z$/, '');
  else s = shortRepr(v, lossless, 1, true);
  return s.length > 24 ? s.slice(0, 23) + '…' : s;
}

function labelsPreview(labels: readonly unknown[], limit: number): string {
  const shown = labels.slice(0, limit).map((l) => shortRepr(l, false, 1, true));
  if (labels.length > limit) shown.push(`…${labels.length - limit} more`);
  return `[${shown.join(', ')}]`;
}

function indexLine(idx: unknown, labels: readonly unknown[], lossless: boolean): string {
  const cls = idx instanceof PandasIndex ? shortClass(idx.cls) : 'Index';
  const name =
    idx instanceof PandasIndex && idx.name !== null ? ` name=${shortRepr(idx.name, lossless, 1)}` : '';
  return `${cls}${name} ${labelsPreview(labels, 6)}`;
}

interface ColumnInfo {
  label: unknown;
  dtype: string;
}

function frameColumnTypes(df: DataFrame | Series): Map<number, string> {
  const out = new Map<number, string>();
  for (const block of df.manager?.blocks ?? []) {
    const v = block.values;
    const t =
      v instanceof NDArray
        ? v.dtype.name
        : v instanceof PandasExtensionArray
          ? shortClass(v.cls)
          : v instanceof PyObject
            ? shortClass(v.__qualname__)
            : 'object';
    block.placement.forEach((p) => out.set(p, t));
  }
  return out;
}

function frameLines(
  df: DataFrame,
  rowsShown: number,
  lossless: boolean,
  style: Style,
): { header: string; lines: string[] } {
  const columns = safe(() => df.columns, [] as unknown[]);
  const index = safe(() => df.index, [] as unknown[]);
  const types = frameColumnTypes(df);
  const cols: ColumnInfo[] = columns.map((label, i) => ({ label, dtype: types.get(i) ?? '?' }));
  const header = `${style.type('pandas DataFrame')} ${style.note(`(${index.length} rows × ${columns.length} columns)`)}`;
  const lines: string[] = [];
  const colList = cols
    .slice(0, 20)
    .map((c) => `${shortRepr(c.label, lossless, 1)} ${style.type(c.dtype)}`)
    .join(', ');
  lines.push(`columns: ${colList}${cols.length > 20 ? style.note(`, …${cols.length - 20} more`) : ''}`);
  lines.push(`index: ${indexLine(df.manager?.axes[1], index, lossless)}`);
  const maxCols = 8;
  const shownCols = cols.slice(0, maxCols);
  const nRows = Math.min(index.length, rowsShown);
  if (shownCols.length > 0 && nRows > 0) {
    const table: string[][] = [['', ...shownCols.map((c) => cellText(c.label, lossless))]];
    const data = shownCols.map((c) => safe(() => df.column(c.label) ?? [], [] as unknown[]));
    for (let r = 0; r < nRows; r++) {
      table.push([
        cellText(index[r], lossless),
        ...data.map((col, k) => cellText(col[r], lossless, shownCols[k]?.dtype.startsWith('float'))),
      ]);
    }
    const widths = (table[0] as string[]).map((_, k) =>
      Math.max(...table.map((row) => [...(row[k] as string)].length)),
    );
    for (const row of table) {
      const cells = row.map((c, k) => c.padStart(widths[k] as number));
      let text = cells.join('  ');
      if (cols.length > maxCols) text += '  …';
      lines.push(text);
    }
    if (index.length > nRows) lines.push(style.note(`… ${index.length - nRows} more rows`));
  }
  return { header, lines };
}

function seriesLines(
  s: Series,
  rowsShown: number,
  lossless: boolean,
  style: Style,
): { header: string; lines: string[] } {
  const index = safe(() => s.index, [] as unknown[]);
  const values = safe(() => s.values(), [] as unknown[]);
  const dtype = frameColumnTypes(s).get(0) ?? '?';
  const name = s.name === null ? '' : ` ${shortRepr(s.name, lossless, 1)}`;
  const header = `${style.type('pandas Series')}${name} ${style.note(`(${values.length} values, ${dtype})`)}`;
  const lines = [`index: ${indexLine(s.manager?.axes[0], index, lossless)}`];
  const n = Math.min(values.length, rowsShown);
  const rows = [];
  for (let r = 0; r < n; r++)
    rows.push([cellText(index[r], lossless), cellText(values[r], lossless, dtype.startsWith('float'))]);
  const w0 = Math.max(0, ...rows.map((r) => [...(r[0] as string)].length));
  const w1 = Math.max(0, ...rows.map((r) => [...(r[1] as string)].length));
  for (const r of rows) lines.push(`${(r[0] as string).padStart(w0)}  ${(r[1] as string).padStart(w1)}`);
  if (values.length > n) lines.push(style.note(`… ${values.length - n} more values`));
  return { header, lines };
}

// ---------------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------------

interface Child {
  readonly label: string;
  readonly value: unknown;
}

interface Expansion {
  header: string;
  children: Child[];
  /** Plain text lines shown under the header before the children. */
  lines: string[];
  /** Items not shown because of the item limit. */
  more: number;
  /** The noun for `more` (items, attributes, rows…). */
  moreNoun: string;
  /** True when the node has anything to expand (governs the depth-limit marker). */
  expandable: boolean;
}

function attrLabel(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : reprStr(k);
}

function take<T>(it: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const x of it) {
    out.push(x);
    if (out.length >= n) break;
  }
  return out;
}

/** Header line and (limited) children of a tracked, non-atomic value. */
function expand(v: object, opts: ShowOptions): Expansion {
  const { style, lossless, items } = opts;
  const note = style.note;
  if (v instanceof NDArray) {
    // Object arrays expand into their elements; others are one line.
    if (v.objects && v.dtype.names === null && v.size > 0) {
      const head = `${style.type(`${arrayTypeName(v)} object ${shapeText(v.shape)}`)}`;
      const flat = v.shape.length === 1;
      const idx = take(v.objects.keys(), items);
      const children = idx.map((i) => ({
        label: flat ? `[${i}]` : `flat[${i}]`,
        value: (v.objects as unknown[])[i],
      }));
      return {
        header: head,
        children,
        lines: [],
        more: v.size - children.length,
        moreNoun: 'items',
        expandable: true,
      };
    }
    return {
      header: arrayLine(v, lossless, style),
      children: [],
      lines: [],
      more: 0,
      moreNoun: '',
      expandable: false,
    };
  }
  if (v instanceof DataFrame) {
    const { header, lines } = frameLines(v, Math.min(items, 10), lossless, style);
    return { header, children: [], lines, more: 0, moreNoun: '', expandable: true };
  }
  if (v instanceof Series) {
    const { header, lines } = seriesLines(v, Math.min(items, 10), lossless, style);
    return { header, children: [], lines, more: 0, moreNoun: '', expandable: true };
  }
  if (v instanceof PandasIndex) {
    const labels = safe(() => v.values(), [] as unknown[]);
    return {
      header: `${style.type(`pandas ${shortClass(v.cls)}`)} ${note(`(${labels.length} labels)`)} ${labelsPreview(labels, items)}`,
      children: [],
      lines: [],
      more: 0,
      moreNoun: '',
      expandable: false,
    };
  }
  if (v instanceof PandasExtensionArray) {
    const values = safe(() => v.toArray(), [] as unknown[]);
    return {
      header: `${style.type(v.cls)} ${note(`(${values.length} values)`)} ${labelsPreview(values, items)}`,
      children: [],
      lines: [],
      more: 0,
      moreNoun: '',
      expandable: false,
    };
  }
  if (v instanceof PyObject) {
    const children: Child[] = [];
    if (v.__args__ && v.__args__.length > 0) children.push({ label: '(args)', value: v.__args__ });
    if (v.__kwargs__ && v.__kwargs__.size > 0) children.push({ label: '(kwargs)', value: v.__kwargs__ });
    const keys = Object.keys(v);
    const limit = Math.max(items, ATTRIBUTE_MIN);
    for (const k of keys.slice(0, limit)) children.push({ label: attrLabel(k), value: v[k] });
    if (v.__state__ !== undefined) children.push({ label: '(state)', value: v.__state__ });
    if (v.__items__ && v.__items__.length > 0) children.push({ label: '(items)', value: v.__items__ });
    if (v.__dictitems__ && v.__dictitems__.size > 0)
      children.push({ label: '(dictitems)', value: v.__dictitems__ });
    return {
      header: style.type(v.__qualname__),
      children,
      lines: [],
      more: Math.max(0, keys.length - limit),
      moreNoun: 'attributes',
      expandable: children.length > 0,
    };
  }
  // Containers.
  const n = sizeOf(v);
  let type = containerType(v);
  if (v instanceof DefaultDict) type += `(${shortRepr(v.defaultFactory, lossless, 1)})`;
  if (v instanceof Deque && v.maxlen !== null) type += `(maxlen=${v.maxlen})`;
  const header = `${style.type(type)} ${note(`(${n} ${n === 1 ? 'item' : 'items'})`)}`;
  let children: Child[];
  if (Array.isArray(v)) {
    const shown = Math.min(n, items);
    children = [];
    for (let i = 0; i < shown; i++) children.push({ label: `[${i}]`, value: v[i] });
  } else if (v instanceof Map) {
    children = take(v, items).map(([k, x]) => ({ label: shortRepr(k, lossless, 1), value: x }));
  } else if (v instanceof Set) {
    children = take(v, items).map((x) => ({ label: '-', value: x }));
  } else {
    children = Object.keys(v)
      .slice(0, items)
      .map((k) => ({ label: reprStr(k), value: (v as Record<string, unknown>)[k] }));
  }
  return { header, children, lines: [], more: n - children.length, moreNoun: 'more', expandable: true };
}

/** Non-container, non-object values (and empty containers): their one-line form. */
function atomText(v: unknown, opts: ShowOptions): string | undefined {
  const { style, lossless } = opts;
  if (v === null || v === undefined) return style.num('None');
  if (typeof v === 'boolean') return style.num(v ? 'True' : 'False');
  if (typeof v === 'number') return style.num(numText(v, lossless));
  if (typeof v === 'bigint') return style.num(v.toString());
  if (typeof v === 'string') return style.str(truncStr(v));
  if (typeof v !== 'object') return String(v);
  if (v instanceof ByteArray) return style.str(truncBytes(v, true));
  if (v instanceof Uint8Array) return style.str(truncBytes(v, false));
  if (v instanceof Complex) return style.num(v.toString());
  if (v instanceof PyGlobal) return `${style.type('global')} ${v.qualifiedName}`;
  if (v instanceof PyRange) return style.num(rangeText(v));
  if (v instanceof PySlice) return shortRepr(v, lossless);
  if (v instanceof PickleBuffer) return shortRepr(v, lossless);
  if (v instanceof NumpyScalar)
    return `${style.type(`numpy.${v.dtype.name}`)} ${style.num(shortRepr(v, lossless).replace(/^numpy\.[^(]*\((.*)\)$/, '$1'))}`;
  if (v instanceof DType)
    return `${style.type('numpy.dtype')} ${v.toString().replace(/^dtype\((.*)\)$/, '$1')}`;
  if (v instanceof Date) return style.num(shortRepr(v, lossless));
  const std = stdlibName(v);
  if (std !== undefined) return `${style.type(std)} ${style.num(String(v))}`;
  if (isContainer(v) && sizeOf(v) === 0) return style.type(emptyForm(v));
  return undefined;
}

type Task =
  | { readonly t: 'node'; readonly label: string; readonly value: unknown; readonly depth: number }
  | { readonly t: 'line'; readonly text: string; readonly depth: number }
  | { readonly t: 'leave'; readonly obj: object };

/** Render `value` as tree lines (no trailing newline). */
export function renderTree(value: unknown, opts: ShowOptions): string[] {
  const { style } = opts;
  const out: string[] = [];
  /** First line of each expanded object, and its anchor number once a second path reaches it. */
  const seen = new Map<object, { line: number; at: number; anchor: number }>();
  const onPath = new Set<object>();
  let anchors = 0;
  const stack: Task[] = [{ t: 'node', label: '', value, depth: 0 }];
  const prefix = (label: string, depth: number): string =>
    INDENT.repeat(depth) + (label === '' ? '' : label === '-' ? '- ' : `${style.key(label)}: `);

  while (stack.length > 0) {
    const task = stack.pop() as Task;
    if (task.t === 'leave') {
      onPath.delete(task.obj);
      continue;
    }
    if (task.t === 'line') {
      out.push(INDENT.repeat(task.depth) + task.text);
      continue;
    }
    const { label, value: v, depth } = task;
    const atom = atomText(v, opts);
    if (atom !== undefined) {
      out.push(prefix(label, depth) + atom);
      continue;
    }
    const obj = v as object;
    const prev = seen.get(obj);
    if (prev) {
      if (prev.anchor === 0) {
        prev.anchor = ++anchors;
        const text = out[prev.line] as string;
        out[prev.line] = text.slice(0, prev.at) + ' ' + style.note(`&${prev.anchor}`) + text.slice(prev.at);
      }
      const what = onPath.has(obj) ? 'cycle: contains itself' : 'same object as above';
      out.push(prefix(label, depth) + style.note(`*${prev.anchor} (${what})`));
      continue;
    }
    let e: Expansion;
    try {
      e = expand(obj, opts);
    } catch (err) {
      out.push(prefix(label, depth) + style.bad(`<cannot show: ${(err as Error).message}>`));
      continue;
    }
    const head = prefix(label, depth) + e.header;
    seen.set(obj, { line: out.length, at: head.length, anchor: 0 });
    if (depth >= opts.depth && e.expandable) {
      out.push(head + ' ' + style.note('[…]'));
      continue;
    }
    out.push(head);
    onPath.add(obj);
    stack.push({ t: 'leave', obj });
    if (e.more > 0) {
      const text = e.moreNoun === 'more' ? `… ${e.more} more` : `… ${e.more} more ${e.moreNoun}`;
      stack.push({ t: 'line', text: style.note(text), depth: depth + 1 });
    }
    for (let i = e.children.length - 1; i >= 0; i--) {
      const c = e.children[i] as Child;
      stack.push({ t: 'node', label: c.label, value: c.value, depth: depth + 1 });
    }
    for (let i = e.lines.length - 1; i >= 0; i--)
      stack.push({ t: 'line', text: e.lines[i] as string, depth: depth + 1 });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Counting (summary line)
// ---------------------------------------------------------------------------------------------

export interface Counts {
  objects: number;
  classes: Set<string>;
  arrays: number;
  arrayBytes: number;
  frames: number;
  containers: number;
}

/** Walk everything reachable from the roots once (visited set, explicit stack) and count what is there. */
export function count(...roots: unknown[]): Counts {
  const c: Counts = { objects: 0, classes: new Set(), arrays: 0, arrayBytes: 0, frames: 0, containers: 0 };
  const visited = new Set<object>();
  const stack: unknown[] = [...roots].reverse();
  const push = (x: unknown): void => {
    if (x !== null && typeof x === 'object' && !visited.has(x)) stack.push(x);
  };
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || visited.has(v)) continue;
    visited.add(v);
    if (v instanceof NDArray) {
      c.arrays++;
      if (v.objects) for (const x of v.objects) push(x);
      else c.arrayBytes += v.nbytes;
      continue;
    }
    if (v instanceof DataFrame || v instanceof Series) {
      c.frames++;
      continue;
    }
    if (v instanceof PyObject) {
      c.objects++;
      c.classes.add(v.__qualname__);
      for (const x of v.__args__ ?? []) push(x);
      if (v.__kwargs__)
        for (const [k, x] of v.__kwargs__) {
          push(k);
          push(x);
        }
      for (const k of Object.keys(v)) push(v[k]);
      push(v.__state__);
      for (const x of v.__items__ ?? []) push(x);
      if (v.__dictitems__)
        for (const [k, x] of v.__dictitems__) {
          push(k);
          push(x);
        }
      continue;
    }
    if (Array.isArray(v)) {
      c.containers++;
      for (let i = 0; i < v.length; i++) push(v[i]);
    } else if (v instanceof Map) {
      c.containers++;
      for (const [k, x] of v) {
        push(k);
        push(x);
      }
    } else if (v instanceof Set) {
      c.containers++;
      for (const x of v) push(x);
    } else if (isPlainObject(v)) {
      c.containers++;
      for (const k of Object.keys(v)) push(v[k]);
    }
  }
  return c;
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function countsText(c: Counts): string {
  const parts: string[] = [];
  if (c.objects > 0)
    parts.push(`${plural(c.objects, 'object')} of ${plural(c.classes.size, 'class', 'classes')}`);
  if (c.arrays > 0) parts.push(plural(c.arrays, 'array'));
  if (c.frames > 0) parts.push(plural(c.frames, 'DataFrame/Series', 'DataFrames/Series'));
  if (c.containers > 0 || parts.length === 0) parts.push(plural(c.containers, 'container'));
  return parts.join(', ');
}
