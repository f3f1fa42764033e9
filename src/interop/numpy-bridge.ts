/**
 * numpy values in jsonpickle (`jsonpickle.ext.numpy`, jsonpickle 3.0):
 *
 * - arrays: `{"py/object": "numpy.ndarray", "dtype": "int64", "values": [...]}` for at most 16 elements
 *   (nested lists, restored by jsonpickle's unpickler, so each list takes a `py/id`; `"shape"` only when
 *   a dimension is 0; `"order": "F"` for Fortran-ordered arrays), else
 *   `{"values": base64(zlib(bytes)), "shape": [...], "dtype": ..., "byteorder": "<"|">", "order"?}`;
 *   views are `{"base": <array>, "offset"?, "strides"?, "shape", "dtype", "byteorder"?: "S"}`.
 *   The dtype text is `str(dtype.newbyteorder('N'))`: `int64`, `<U2`, `|S3`, `datetime64[ns]`, or a
 *   Python literal for structured dtypes.
 * - scalars: `{"py/object": "numpy.float32", "dtype": "float32", "value": 1.5}` (`type(value)` on decode).
 * - dtypes: `{"py/object": "numpy.dtype[float32]", "dtype": "float32"}`.
 *
 * jsonpickle 3.0 gets some of these wrong on decode (0-d arrays, most dtype objects, big-endian
 * structured arrays, datetime and long-double scalars); the writer below uses the forms that decode
 * correctly (binary form for 0-d and non-native arrays, `numpy.dtype` as the dtype class,
 * `numpy.core.multiarray.scalar` for scalars whose value JSON cannot carry).
 */
// node:zlib in Node, fflate in a browser bundle (package.json "browser" map), not through the codec
// registry: jsonpickle's numpy form needs zlib even in a page that never called ready().
import { zlibCodec } from '../codecs/zlib.node.js';
import { Tuple } from '../python/values.js';
import { PyDate, PyDateTime, PyTimedelta } from '../python/stdlib.js';
import { DType, NATIVE_ORDER, NDArray, MaskedArray, NumpyScalar } from '../numpy/index.js';
import { writeElement } from '../numpy/elements.js';
import { JFloat, JInt, JObject, parseJson, type JNode } from './json-text.js';
import { pyLiteralText, parsePyLiteral } from './pyliteral.js';
import { fromBase64, toBase64 } from './jsonpickle-common.js';
import type { Reader } from './jsonpickle-read.js';

/** Raw JSON text, or a value for the writer to encode (it registers ids as jsonpickle would). */
export type NumpyPart = string | { readonly value: unknown };

/** A numpy value's jsonpickle JSON, as parts; the value itself takes one id. */
export interface NumpyJsonPickle {
  readonly parts: readonly NumpyPart[];
}

/** jsonpickle writes arrays of at most this many elements as nested lists. */
const TEXT_THRESHOLD = 16;

// ---------------------------------------------------------------------------------------------
// dtype text

/** Are the fields of a structured dtype packed in order (so numpy's list form describes it)? */
function packedFields(dt: DType): boolean {
  let end = 0;
  for (const f of dt.fieldList()) {
    if (f.offset !== end) return false;
    end += f.dtype.itemsize;
  }
  return end === dt.itemsize && !dt.isAlignedStruct;
}

/** A Python literal numpy's `np.dtype()` accepts for `dt` (what `ast.literal_eval` of the text gives). */
function dtypeLiteral(dt: DType, native: boolean): unknown {
  if (dt.subarray)
    return Tuple.from_([dtypeLiteral(dt.subarray.base, native), Tuple.from_([...dt.subarray.shape])]);
  if (dt.names === null) return simpleDtypeText(dt, native);
  const fields = dt.fieldList();
  const label = (f: { name: string; title: unknown }): unknown =>
    f.title !== null && f.title !== undefined ? Tuple.from_([f.title, f.name]) : f.name;
  if (packedFields(dt)) {
    return fields.map((f) =>
      f.dtype.subarray
        ? Tuple.from_([
            label(f),
            dtypeLiteral(f.dtype.subarray.base, false),
            Tuple.from_([...f.dtype.subarray.shape]),
          ])
        : Tuple.from_([label(f), dtypeLiteral(f.dtype, false)]),
    );
  }
  const m = new Map<unknown, unknown>([
    ['names', fields.map((f) => f.name)],
    ['formats', fields.map((f) => dtypeLiteral(f.dtype, false))],
    ['offsets', fields.map((f) => f.offset)],
    ['itemsize', dt.itemsize],
  ]);
  if (fields.some((f) => f.title !== null && f.title !== undefined))
    m.set(
      'titles',
      fields.map((f) => f.title ?? null),
    );
  if (dt.isAlignedStruct) m.set('aligned', true);
  return m;
}

/** `int64`-style names for native arrays (as jsonpickle writes), `<f8`-style type strings otherwise. */
function simpleDtypeText(dt: DType, native: boolean): string {
  if (!native) return dt.str;
  switch (dt.kind) {
    case 'U':
      return `${NATIVE_ORDER}U${dt.itemsize / 4}`;
    case 'S':
    case 'V':
      return `|${dt.kind}${dt.itemsize}`;
    default:
      return dt.name;
  }
}

/**
 * The dtype text jsonpickle stores. `native`: the array/scalar form, where the byte order travels
 * separately (`"byteorder"`), so simple dtypes are named in native order.
 */
function dtypeText(dt: DType, native: boolean): string {
  const lit = dtypeLiteral(dt, native);
  return typeof lit === 'string' ? lit : pyLiteralText(lit);
}

/** Parse jsonpickle's dtype text (`np.dtype(text)`, or `ast.literal_eval` for `[`/`{` forms). */
function parseDtypeText(text: string, reader: Reader): DType {
  try {
    const t = text.trim();
    if (t.startsWith('[') || t.startsWith('{') || t.startsWith('('))
      return dtypeFromLiteral(parsePyLiteral(t));
    return DType.parse(t);
  } catch (e) {
    throw reader.error(`unsupported numpy dtype ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
}

function dtypeFromLiteral(v: unknown): DType {
  if (typeof v === 'string') return DType.parse(v);
  if (v instanceof Map) {
    const names = v.get('names');
    const formats = v.get('formats');
    if (!Array.isArray(names) || !Array.isArray(formats) || names.length !== formats.length) {
      throw new RangeError('a dtype dict needs names and formats of the same length');
    }
    const offsets = v.get('offsets');
    const titles = v.get('titles');
    const fields = names.map((name, i) => {
      if (typeof name !== 'string') throw new RangeError('field names must be strings');
      const f: { name: string; dtype: DType; offset?: number; title?: unknown } = {
        name,
        dtype: dtypeFromLiteral(formats[i]),
      };
      if (Array.isArray(offsets)) f.offset = Number(offsets[i]);
      if (Array.isArray(titles) && titles[i] !== null && titles[i] !== undefined) f.title = titles[i];
      return f;
    });
    const itemsize = v.get('itemsize');
    const opts: { align?: boolean; itemsize?: number } = { align: v.get('aligned') === true };
    if (typeof itemsize === 'number') opts.itemsize = itemsize;
    return DType.struct(fields, opts);
  }
  return DType.fromDescr(v);
}

/** The same dtype with its byte order set (simple dtypes only). */
function withOrder(dt: DType, order: '<' | '>'): DType {
  if (dt.byteorder === '|' || dt.byteorder === order || dt.names !== null || dt.subarray) return dt;
  const out = DType.parse(order + dt.str.slice(1));
  return out;
}

// ---------------------------------------------------------------------------------------------
// element encoding (JSON values → bytes), for text-form arrays and scalars

const US_PER: Record<string, bigint> = {
  W: 604_800_000_000n,
  D: 86_400_000_000n,
  h: 3_600_000_000n,
  m: 60_000_000n,
  s: 1_000_000n,
  ms: 1_000n,
  us: 1n,
};

/** Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** A datetime64/timedelta64 element from what `ndarray.tolist()` gives (date, datetime, timedelta, int, None). */
function timeCount(dt: DType, v: unknown): bigint {
  if (v === null || v === undefined) return -(2n ** 63n); // NaT
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  const unit = dt.unit ?? 'generic';
  const count = BigInt(dt.count);
  let us: bigint | undefined;
  if (dt.kind === 'M' && (v instanceof PyDate || v instanceof PyDateTime)) {
    if (unit === 'Y') return floorDiv(BigInt(v.year - 1970), count);
    if (unit === 'M') return floorDiv(BigInt((v.year - 1970) * 12 + v.month - 1), count);
    const days = BigInt(daysFromCivil(v.year, v.month, v.day));
    us = days * 86_400_000_000n;
    if (v instanceof PyDateTime) {
      if (v.tzinfo !== null)
        throw new RangeError('numpy datetime64 values are naive; got a tz-aware datetime');
      us += BigInt(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond);
    }
  } else if (dt.kind === 'm' && v instanceof PyTimedelta) {
    us = v.totalMicroseconds();
  }
  const per = US_PER[unit];
  if (us === undefined || per === undefined) throw new RangeError(`cannot convert this value to ${dt.str}`);
  return floorDiv(us, per * count);
}

/**
 * A value as `ndarray.tolist()` gave it to jsonpickle, in the form numpy/elements.ts's writeElement
 * takes (one element encoder for the whole library): datetimes and timedeltas become counts of the
 * dtype's unit, records and sub-arrays are mapped field by field.
 */
function prepare(dt: DType, v: unknown): unknown {
  if (dt.subarray) {
    const base = dt.subarray.base;
    const map = (x: unknown, depth: number): unknown =>
      depth === 0 ? prepare(base, x) : Array.isArray(x) ? x.map((y) => map(y, depth - 1)) : x;
    return map(v, dt.subarray.shape.length);
  }
  if (dt.names !== null) {
    const fields = dt.fieldList();
    if (!Array.isArray(v) || v.length !== fields.length)
      throw new RangeError('a record needs one value per field');
    return fields.map((f, i) => prepare(f.dtype, v[i]));
  }
  if (dt.kind === 'M' || dt.kind === 'm') return timeCount(dt, v);
  return v;
}

/** Write element `v` of dtype `dt` at `off` (numpy's conversion rules for JSON-borne values). */
function encodeElement(dt: DType, v: unknown, view: DataView, raw: Uint8Array, off: number): void {
  writeElement(dt, prepare(dt, v), raw, view, off);
}

function flattenInto(v: unknown, depth: number, out: unknown[]): void {
  if (depth === 0) {
    out.push(v);
    return;
  }
  if (!Array.isArray(v)) throw new RangeError('array values are not nested as deep as the shape');
  for (const x of v) flattenInto(x, depth - 1, out);
}

/** `np.array(values)`'s shape discovery: descend while every item is a sequence of the same length. */
function discoverShape(values: unknown, seqTuples: boolean): number[] {
  const isSeq = (x: unknown): x is unknown[] => Array.isArray(x) && (seqTuples || !(x instanceof Tuple));
  const shape: number[] = [];
  let level: unknown[] = [values];
  while (level.length > 0 && level.every(isSeq)) {
    const len = (level[0] as unknown[]).length;
    if (!level.every((x) => (x as unknown[]).length === len)) break;
    shape.push(len);
    if (len === 0 || shape.length >= 32) break;
    const next: unknown[] = [];
    for (const x of level) for (const y of x as unknown[]) next.push(y);
    level = next;
  }
  return shape;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** C-ordered element bytes → Fortran-ordered. */
function cToF(raw: Uint8Array, shape: readonly number[], itemsize: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  const fstr = new Array<number>(nd);
  let acc = 1;
  for (let k = 0; k < nd; k++) {
    fstr[k] = acc;
    acc *= shape[k] as number;
  }
  const n = product(shape);
  for (let i = 0; i < n; i++) {
    let p = 0;
    for (let k = 0; k < nd; k++) p += (idx[k] as number) * (fstr[k] as number);
    out.set(raw.subarray(i * itemsize, (i + 1) * itemsize), p * itemsize);
    for (let k = nd - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (shape[k] as number)) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Is an array with this shape laid out differently in C and Fortran order? */
function orderMatters(shape: readonly number[]): boolean {
  return shape.filter((d) => d > 1).length > 1;
}

// ---------------------------------------------------------------------------------------------
// writer

const NUMPY_SCALAR_NAMES: Record<string, string> = {
  b: 'bool_',
  U: 'str_',
  S: 'bytes_',
  V: 'void',
  M: 'datetime64',
  m: 'timedelta64',
  O: 'object_',
};

function scalarClassName(dt: DType): string {
  if (dt.names !== null) return 'numpy.void';
  return 'numpy.' + (NUMPY_SCALAR_NAMES[dt.kind] ?? dt.name);
}

/** Element values `ndarray.tolist()` gives, as our writer should write them (ints as Python ints). */
function jsonElement(dt: DType, v: unknown): unknown {
  if (dt.kind === 'i' || dt.kind === 'u') return typeof v === 'number' ? BigInt(v) : v;
  return v;
}

/** Can `tolist()`-style JSON carry every element of this dtype exactly? */
function textFriendly(dt: DType): boolean {
  if (dt.names !== null || dt.subarray) return false;
  if (dt.byteorder !== '|' && dt.byteorder !== NATIVE_ORDER) return false;
  switch (dt.kind) {
    case 'b':
    case 'i':
    case 'u':
    case 'U':
    case 'S':
      return true;
    case 'f':
      return dt.itemsize <= 8;
    case 'c':
      return dt.itemsize <= 16;
    default:
      return false;
  }
}

function nestedValues(a: NDArray, map: (v: unknown) => unknown): unknown {
  const flat = a.toArray().map(map);
  const shape = a.shape;
  if (shape.length === 0) return flat[0];
  let level: unknown[] = flat;
  for (let k = shape.length - 1; k >= 1; k--) {
    const len = shape[k] as number;
    const next: unknown[] = [];
    for (let i = 0; i < level.length; i += len) next.push(level.slice(i, i + len));
    level = next;
  }
  return level;
}

function arrayParts(a: NDArray): NumpyPart[] | undefined {
  if (a instanceof MaskedArray) return undefined; // jsonpickle would drop the mask
  const dt = a.dtype;
  const cls = JSON.stringify(a.subclass === 'numpy.ndarray' ? 'numpy.ndarray' : a.subclass);
  const parts: NumpyPart[] = [`{"py/object": ${cls}`];
  const size = a.size;
  const fOrder = a.order === 'F' && orderMatters(a.shape);
  if (dt.hasObject) {
    if (dt.kind !== 'O' || a.shape.length === 0) return undefined;
    // numpy would turn sequence elements into extra dimensions on decode.
    if ((a.objects ?? []).some((x) => Array.isArray(x) || x instanceof NDArray)) return undefined;
    parts.push(`, "dtype": "object", "values": `, { value: nestedValues(a, (v) => v) });
    if (a.shape.includes(0)) parts.push(`, "shape": [${a.shape.join(', ')}]`);
    if (fOrder) parts.push(`, "order": "F"`);
    parts.push('}');
    return parts;
  }
  if (size <= TEXT_THRESHOLD && a.shape.length > 0 && textFriendly(dt)) {
    parts.push(`, "dtype": ${JSON.stringify(dtypeText(dt, true))}, "values": `, {
      value: nestedValues(a, (v) => jsonElement(dt, v)),
    });
    if (a.shape.includes(0)) parts.push(`, "shape": [${a.shape.join(', ')}]`);
    if (fOrder) parts.push(`, "order": "F"`);
    parts.push('}');
    return parts;
  }
  if (fOrder) {
    // jsonpickle's binary form copies to C order on decode; a view on a 1-d base keeps Fortran order.
    const base = new NDArray({ dtype: dt, shape: [size], raw: a.raw });
    const strides: number[] = [];
    let acc = dt.itemsize;
    for (const d of a.shape) {
      strides.push(acc);
      acc *= d;
    }
    parts.push(
      ', "base": ',
      { value: base },
      `, "strides": [${strides.join(', ')}], "shape": [${a.shape.join(', ')}]`,
    );
    parts.push(`, "dtype": ${JSON.stringify(dtypeText(dt, true))}`);
    if (dt.byteorder !== '|' && dt.byteorder !== NATIVE_ORDER && dt.names === null)
      parts.push(', "byteorder": "S"');
    parts.push('}');
    return parts;
  }
  const payload = toBase64(zlibCodec.encode(a.raw, 6)); // zlib's default level, as Python's zlib.compress
  parts.push(
    `, "values": "${payload}", "shape": [${a.shape.join(', ')}], "dtype": ${JSON.stringify(dtypeText(dt, true))}`,
  );
  if (dt.byteorder !== '|' && dt.names === null && !dt.subarray)
    parts.push(`, "byteorder": "${dt.byteorder}"`);
  if (fOrder) parts.push(`, "order": "F"`);
  parts.push('}');
  return parts;
}

function scalarParts(s: NumpyScalar): NumpyPart[] | undefined {
  const dt = s.dtype;
  if (dt.kind === 'O') return undefined;
  if (textFriendly(dt)) {
    const value = jsonElement(dt, s.value);
    return [
      `{"py/object": "${scalarClassName(dt)}", "dtype": ${JSON.stringify(dtypeText(dt, true))}, "value": `,
      { value },
      '}',
    ];
  }
  // numpy's own pickling recipe, replayed by jsonpickle's py/reduce: exact for every dtype.
  return [
    '{"py/reduce": [{"py/function": "numpy.core.multiarray.scalar"}, {"py/tuple": [',
    { value: dt },
    `, {"py/b64": "${toBase64(s.raw)}"}]}]}`,
  ];
}

/**
 * jsonpickle's own parts for a numpy value (array, scalar, dtype), or undefined when `value` is not
 * one or has no faithful jsonpickle form (object arrays holding sequences, subclasses, masked
 * arrays, dtypes with metadata): the writer then replays numpy's pickle recipe as a `py/reduce`.
 */
export function numpyForJsonPickle(value: object): NumpyJsonPickle | undefined {
  let parts: NumpyPart[] | undefined;
  if (value instanceof NDArray) {
    if (value.subclass !== 'numpy.ndarray') return undefined;
    parts = arrayParts(value);
  } else if (value instanceof NumpyScalar) {
    parts = scalarParts(value);
  } else if (value instanceof DType) {
    if (value.metadata !== null || value.scalarType !== null || value.subarray !== null) return undefined;
    parts = [`{"py/object": "numpy.dtype", "dtype": ${JSON.stringify(dtypeText(value, false))}}`];
  }
  return parts === undefined ? undefined : { parts };
}

// ---------------------------------------------------------------------------------------------
// reader

const ARRAY_CLASSES = new Set([
  'numpy.ndarray',
  'numpy.matrix',
  'numpy.memmap',
  'numpy.recarray',
  'numpy.ma.core.MaskedArray',
]);

/** Is this `py/object` one of jsonpickle's numpy forms (array, scalar, dtype)? */
export function isNumpyJsonPickle(name: string, o: JObject): boolean {
  if (!name.startsWith('numpy.')) return false;
  if (ARRAY_CLASSES.has(name)) return o.has('values') || o.has('base');
  if (name === 'numpy.dtype' || name.startsWith('numpy.dtype[') || name.startsWith('numpy.dtypes.'))
    return o.has('dtype');
  return o.has('dtype') && o.has('value');
}

function stringField(o: JObject, key: string, reader: Reader): string {
  const v = o.get(key);
  if (typeof v !== 'string') throw reader.error(`numpy ${key} must be a string`);
  return v;
}

function intList(n: JNode | undefined, what: string, reader: Reader): number[] {
  if (!Array.isArray(n)) throw reader.error(`numpy ${what} must be a list of ints`);
  return n.map((x) => {
    if (!(x instanceof JInt)) throw reader.error(`numpy ${what} must be a list of ints`);
    const v = Number(x.text);
    if (!Number.isSafeInteger(v)) throw reader.error(`numpy ${what} out of range`);
    return v;
  });
}

function intField(o: JObject, key: string, fallback: number, reader: Reader): number {
  const v = o.get(key);
  if (v === undefined) return fallback;
  if (!(v instanceof JInt)) throw reader.error(`numpy ${key} must be an int`);
  return Number(v.text);
}

/** Bytes of the binary form: base64, zlib-compressed by default (jsonpickle's `compression=zlib`). */
function payloadBytes(text: string, expected: number | undefined, reader: Reader): Uint8Array {
  const b = fromBase64(text);
  if (b === undefined) throw reader.error('numpy values: invalid base64');
  if (b.length >= 2 && b[0] === 0x78 && ((b[0] << 8) | (b[1] as number)) % 31 === 0) {
    try {
      const limit = expected ?? 2 ** 30;
      return zlibCodec.decode(b, Math.max(1, limit));
    } catch (e) {
      // Uncompressed data (compression=None) that merely looks like a zlib header.
      if (expected !== undefined && b.length === expected) return b;
      throw reader.error(`numpy values: cannot inflate the zlib payload (${(e as Error).message})`);
    }
  }
  return b; // written with compression=None
}

/** Plain JSON (what `json.loads` gives: no jsonpickle tags) in the reader's int mode. */
function plainJson(n: JNode, lossless: boolean): unknown {
  if (n instanceof JInt) {
    const b = BigInt(n.text);
    return lossless || b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)
      ? b
      : Number(b);
  }
  if (n instanceof JFloat) return n.value;
  if (Array.isArray(n)) return n.map((x) => plainJson(x, lossless));
  if (n instanceof JObject) {
    const m = new Map<unknown, unknown>();
    n.keys.forEach((k, i) => m.set(k, plainJson(n.values[i] as JNode, lossless)));
    return m;
  }
  return n;
}

function buildArray(dt: DType, shape: number[], flat: unknown[], order: 'C' | 'F', reader: Reader): NDArray {
  if (dt.hasObject)
    return new NDArray({
      dtype: dt,
      shape,
      objects: flat,
      order: order === 'F' && orderMatters(shape) ? 'F' : 'C',
    });
  const s = dt.itemsize;
  const raw = new Uint8Array(flat.length * s);
  const view = new DataView(raw.buffer);
  try {
    flat.forEach((v, i) => encodeElement(dt, v, view, raw, i * s));
  } catch (e) {
    throw reader.error(`numpy values do not fit dtype ${dt.str}: ${(e as Error).message}`);
  }
  const storage = order === 'F' && orderMatters(shape) ? cToF(raw, shape, s) : raw;
  return new NDArray({
    dtype: dt,
    shape,
    order: order === 'F' && orderMatters(shape) ? 'F' : 'C',
    raw: storage,
  });
}

function* readArray(o: JObject, reader: Reader): Generator<JNode, unknown, unknown> {
  const orderText = o.has('order') ? stringField(o, 'order', reader) : 'C';
  const order: 'C' | 'F' = orderText === 'F' ? 'F' : 'C';
  if (o.has('base')) {
    // A view on another array: gather its elements from the base's memory.
    const base = yield o.get('base') as JNode;
    if (!(base instanceof NDArray)) throw reader.error('numpy view: base is not an array');
    let dt = parseDtypeText(stringField(o, 'dtype', reader), reader);
    const shape = intList(o.get('shape'), 'shape', reader);
    const swap = o.get('byteorder') === 'S';
    if (dt.byteorder !== '|' && dt.names === null) {
      const same =
        base.dtype.kind === dt.kind && base.dtype.itemsize === dt.itemsize && base.dtype.byteorder !== '|';
      let bo: '<' | '>' = same ? (base.dtype.byteorder as '<' | '>') : NATIVE_ORDER;
      if (swap) bo = bo === '<' ? '>' : '<';
      dt = withOrder(dt, bo);
    }
    const s = dt.itemsize;
    const offset = intField(o, 'offset', 0, reader);
    let strides: number[];
    if (o.has('strides')) strides = intList(o.get('strides'), 'strides', reader);
    else {
      strides = new Array<number>(shape.length);
      let acc = s;
      for (let k = shape.length - 1; k >= 0; k--) {
        strides[k] = acc;
        acc *= shape[k] as number;
      }
    }
    if (strides.length !== shape.length) throw reader.error('numpy view: strides and shape differ in length');
    const n = product(shape);
    const idx = new Array<number>(shape.length).fill(0);
    const positions: number[] = [];
    for (let i = 0; i < n; i++) {
      let p = offset;
      for (let k = 0; k < shape.length; k++) p += (idx[k] as number) * (strides[k] as number);
      positions.push(p);
      for (let k = shape.length - 1; k >= 0; k--) {
        idx[k] = (idx[k] as number) + 1;
        if ((idx[k] as number) < (shape[k] as number)) break;
        idx[k] = 0;
      }
    }
    if (base.objects !== null) {
      if (!dt.hasObject) throw reader.error('numpy view: object base with a non-object dtype');
      const objs = base.objects;
      const items = positions.map((p) => {
        if (p % 8 !== 0 || p < 0 || p / 8 >= objs.length) throw reader.error('numpy view outside its base');
        return objs[p / 8];
      });
      return new NDArray({ dtype: dt, shape, objects: items });
    }
    const mem = base.raw;
    const raw = new Uint8Array(n * s);
    positions.forEach((p, i) => {
      if (p < 0 || p + s > mem.length) throw reader.error('numpy view outside its base');
      raw.set(mem.subarray(p, p + s), i * s);
    });
    // A Fortran-contiguous view (a transposed array) is Fortran-ordered in Python too.
    let acc = s;
    const fContiguous = shape.every((d, k) => {
      const ok = d <= 1 || strides[k] === acc;
      acc *= d;
      return ok;
    });
    if (fContiguous && orderMatters(shape)) {
      return new NDArray({ dtype: dt, shape, order: 'F', raw: cToF(raw, shape, s) });
    }
    return new NDArray({ dtype: dt, shape, raw });
  }
  let dt = parseDtypeText(stringField(o, 'dtype', reader), reader);
  const valuesNode = o.get('values') as JNode;
  const explicitShape = o.has('shape') ? intList(o.get('shape'), 'shape', reader) : undefined;
  if (typeof valuesNode === 'string' && explicitShape !== undefined) {
    // Binary form.
    const bo = o.get('byteorder');
    if (bo === '<' || bo === '>') dt = withOrder(dt, bo);
    const n = product(explicitShape);
    if (dt.hasObject) {
      const raw = payloadBytes(valuesNode, undefined, reader);
      const text = new TextDecoder().decode(raw);
      const values = plainJson(parseJson(text), reader.lossless);
      const flat: unknown[] = [];
      const shape = discoverShape(values, true);
      flattenInto(values, shape.length, flat);
      if (flat.length !== n) throw reader.error('numpy object values do not match the shape');
      return new NDArray({ dtype: dt, shape: explicitShape, objects: flat });
    }
    const raw = payloadBytes(valuesNode, n * dt.itemsize, reader);
    if (raw.length !== n * dt.itemsize) {
      throw reader.error(
        `numpy values: ${raw.length} bytes, shape ${JSON.stringify(explicitShape)} of ${dt.str} needs ${n * dt.itemsize}`,
      );
    }
    return new NDArray({
      dtype: dt,
      shape: explicitShape,
      order: order === 'F' && orderMatters(explicitShape) ? 'F' : 'C',
      raw,
    });
  }
  // Text form: nested lists restored by the unpickler (they take ids), or one bare value (0-d).
  const values = yield valuesNode;
  const flat: unknown[] = [];
  let shape: number[];
  if (!Array.isArray(values) || (values instanceof Tuple && dt.names !== null)) {
    shape = [];
    flat.push(values);
  } else {
    shape = discoverShape(values, dt.names === null);
    flattenInto(values, shape.length, flat);
  }
  if (explicitShape !== undefined) {
    if (product(explicitShape) !== flat.length) throw reader.error('numpy values do not match the shape');
    shape = explicitShape;
  }
  return buildArray(dt, shape, flat, order, reader);
}

function* readScalar(o: JObject, reader: Reader): Generator<JNode, unknown, unknown> {
  const dt = parseDtypeText(stringField(o, 'dtype', reader), reader);
  const value = yield o.get('value') as JNode;
  if (dt.hasObject) throw reader.error('numpy object scalars are not supported');
  const raw = new Uint8Array(dt.itemsize);
  try {
    encodeElement(dt, value, new DataView(raw.buffer), raw, 0);
  } catch (e) {
    throw reader.error(`numpy scalar value does not fit dtype ${dt.str}: ${(e as Error).message}`);
  }
  return reader.callGlobal('numpy.core.multiarray.scalar', [dt, raw]);
}

/** Restore a numpy `py/object` (the caller has registered its id). */
export function* readNumpyJsonPickle(
  name: string,
  o: JObject,
  reader: Reader,
): Generator<JNode, unknown, unknown> {
  if (ARRAY_CLASSES.has(name)) {
    // Like numpy's unpickling (protocols 0-4), arrays arrive in native byte order.
    const a = ((yield* readArray(o, reader)) as NDArray).toNative();
    if (name !== 'numpy.ndarray' && name !== 'numpy.ma.core.MaskedArray') a.subclass = name;
    return a;
  }
  if (name === 'numpy.dtype' || name.startsWith('numpy.dtype[') || name.startsWith('numpy.dtypes.')) {
    return parseDtypeText(stringField(o, 'dtype', reader), reader);
  }
  return yield* readScalar(o, reader);
}
