/**
 * numpy `dtype` as an inert, mutable JS object.
 *
 * A pickled dtype is `numpy.dtype(typestr, align, copy)` (REDUCE) followed by a BUILD whose state
 * tuple carries the byte order, fields, sizes and datetime unit (docs/FORMATS.md §4.4). The pickle memoizes
 * the dtype *between* the two, so BUILD must complete the very object REDUCE returned: `DType`
 * therefore implements `[SET_STATE]` and mutates itself.
 */
import { UnpicklingError } from '../errors.js';
import { ByteArray, PyGlobal, Tuple, isPlainObject } from '../python/values.js';
import { SET_STATE, type DecodeContext } from '../unpickle/registry.js';

/** numpy's kind letters: bool, signed/unsigned int, float, complex, str (UCS-4), bytes, void, object, datetime, timedelta. */
export type DTypeKind = 'b' | 'i' | 'u' | 'f' | 'c' | 'U' | 'S' | 'V' | 'O' | 'M' | 'm';
/** `<` little-endian, `>` big-endian, `|` not applicable (one-byte and flexible byte kinds). */
export type ByteOrder = '<' | '>' | '|';

/** One field of a structured dtype. */
export interface DTypeField {
  readonly name: string;
  readonly dtype: DType;
  /** Byte offset inside the record. */
  readonly offset: number;
  /** The field's title (numpy allows one extra key per field), or null. */
  readonly title: unknown;
}

/** A sub-array dtype: each element is an array of `shape` items of `base`. */
export interface DTypeSubarray {
  readonly base: DType;
  readonly shape: readonly number[];
}

/** numpy's `dtype.descr` entries: `[name, typestr | nested descr]` or `[name, descr, shape]`; a titled name is `[title, name]`. */
export type DescrEntry =
  | [name: string | [title: unknown, name: string], type: string | DescrEntry[]]
  | [name: string | [title: unknown, name: string], type: string | DescrEntry[], shape: number[]];

/** Flag bits numpy keeps on a dtype (only these matter to a reader/writer). */
const DTYPE_FLAGS = {
  ITEM_HASOBJECT: 0x01,
  LIST_PICKLE: 0x02,
  ITEM_IS_POINTER: 0x04,
  NEEDS_INIT: 0x08,
  NEEDS_PYAPI: 0x10,
  USE_GETITEM: 0x20,
  USE_SETITEM: 0x40,
  ALIGNED_STRUCT: 0x80,
} as const;

/** Datetime units numpy knows, coarse to fine, plus `generic` (no unit). */
const DATETIME_UNITS = [
  'Y',
  'M',
  'W',
  'D',
  'h',
  'm',
  's',
  'ms',
  'us',
  'ns',
  'ps',
  'fs',
  'as',
  'generic',
] as const;
const UNIT_SET = new Set<string>(DATETIME_UNITS);

/** One-character typecodes numpy accepts (`np.dtype('d')`), as kind + itemsize. */
const CHAR_CODES: Record<string, [DTypeKind, number]> = {
  '?': ['b', 1],
  b: ['i', 1],
  B: ['u', 1],
  h: ['i', 2],
  H: ['u', 2],
  i: ['i', 4],
  I: ['u', 4],
  l: ['i', 8],
  L: ['u', 8],
  q: ['i', 8],
  Q: ['u', 8],
  p: ['i', 8],
  P: ['u', 8],
  e: ['f', 2],
  f: ['f', 4],
  d: ['f', 8],
  g: ['f', 16],
  F: ['c', 8],
  D: ['c', 16],
  G: ['c', 32],
  O: ['O', 8],
  S: ['S', 0],
  a: ['S', 0],
  U: ['U', 0],
  V: ['V', 0],
  M: ['M', 8],
  m: ['m', 8],
};

/** numpy scalar-type names (as `numpy.<name>` globals or dtype names) → kind + itemsize. */
const TYPE_NAMES: Record<string, [DTypeKind, number]> = {
  bool: ['b', 1],
  bool_: ['b', 1],
  bool8: ['b', 1],
  int8: ['i', 1],
  byte: ['i', 1],
  int16: ['i', 2],
  short: ['i', 2],
  int32: ['i', 4],
  intc: ['i', 4],
  int64: ['i', 8],
  int_: ['i', 8],
  intp: ['i', 8],
  longlong: ['i', 8],
  uint8: ['u', 1],
  ubyte: ['u', 1],
  uint16: ['u', 2],
  ushort: ['u', 2],
  uint32: ['u', 4],
  uintc: ['u', 4],
  uint64: ['u', 8],
  uint: ['u', 8],
  uintp: ['u', 8],
  ulonglong: ['u', 8],
  float16: ['f', 2],
  half: ['f', 2],
  float32: ['f', 4],
  single: ['f', 4],
  float64: ['f', 8],
  double: ['f', 8],
  float_: ['f', 8],
  float128: ['f', 16],
  longdouble: ['f', 16],
  longfloat: ['f', 16],
  complex64: ['c', 8],
  csingle: ['c', 8],
  singlecomplex: ['c', 8],
  complex128: ['c', 16],
  cdouble: ['c', 16],
  complex_: ['c', 16],
  cfloat: ['c', 16],
  complex256: ['c', 32],
  clongdouble: ['c', 32],
  clongfloat: ['c', 32],
  object: ['O', 8],
  object_: ['O', 8],
  str: ['U', 0],
  str_: ['U', 0],
  unicode: ['U', 0],
  unicode_: ['U', 0],
  bytes: ['S', 0],
  bytes_: ['S', 0],
  string_: ['S', 0],
  void: ['V', 0],
  record: ['V', 0],
  datetime64: ['M', 8],
  timedelta64: ['m', 8],
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The byte order of this machine, as numpy writes it. */
export const NATIVE_ORDER: '<' | '>' = LITTLE_ENDIAN_HOST ? '<' : '>';

/** Kinds whose data has no byte order (numpy shows `|`). */
function orderless(kind: DTypeKind, itemsize: number): boolean {
  return (
    kind === 'b' ||
    kind === 'S' ||
    kind === 'V' ||
    kind === 'O' ||
    ((kind === 'i' || kind === 'u') && itemsize === 1)
  );
}

/** numpy's default alignment of a non-structured dtype. */
function naturalAlignment(kind: DTypeKind, itemsize: number): number {
  switch (kind) {
    case 'b':
    case 'S':
    case 'V':
      return 1;
    case 'U':
      return 4;
    case 'O':
    case 'M':
    case 'm':
      return 8;
    case 'c':
      return Math.max(1, Math.min(16, itemsize / 2));
    default:
      return Math.max(1, Math.min(16, itemsize));
  }
}

function fail(message: string, ctx?: DecodeContext): Error {
  return ctx ? ctx.error(message) : new UnpicklingError(message);
}

/** A Python `str`, or ASCII `bytes` (Python 2 pickles loaded with encoding='bytes'), as a JS string. */
function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) {
    let s = '';
    for (let i = 0; i < v.length; i++) {
      const c = v[i] as number;
      if (c > 0x7f) return undefined;
      s += String.fromCharCode(c);
    }
    return s;
  }
  return undefined;
}

function toSmallInt(v: unknown, what: string, ctx?: DecodeContext): number {
  let n: number | bigint;
  if (ctx) n = ctx.toInt(v);
  else if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  else if (typeof v === 'boolean') n = v ? 1 : 0;
  else throw fail(`${what} must be an int`, ctx);
  if (typeof n === 'bigint' || !Number.isSafeInteger(n))
    throw fail(`${what} out of range: ${String(n)}`, ctx);
  return n;
}

/** Entries of a decoded Python dict (Map in lossless mode, plain object in default mode). */
function dictEntries(v: unknown): [unknown, unknown][] | undefined {
  if (v instanceof Map) return [...v.entries()];
  if (isPlainObject(v)) return Object.entries(v);
  return undefined;
}

function isIntLike(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Shape tuple (or a bare int, as numpy accepts for sub-arrays) → number[]. */
function shapeOf(v: unknown, what: string, ctx?: DecodeContext): number[] {
  const items = Array.isArray(v) ? v : isIntLike(v) ? [v] : undefined;
  if (!items) throw fail(`${what} must be a tuple of ints`, ctx);
  if (items.length > 64) throw fail(`${what} has more than 64 dimensions`, ctx);
  return items.map((x) => {
    const n = toSmallInt(x, what, ctx);
    if (n < 0) throw fail(`${what} has a negative dimension`, ctx);
    return n;
  });
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A numpy dtype. Simple dtypes have `kind` + `itemsize` + `byteorder`; structured dtypes have
 * `names`/`fields` (kind `V`); sub-array dtypes have `subarray`; datetime kinds (`M`, `m`) have
 * `unit` and `count` (`<m8[5ms]` is unit `ms`, count 5).
 */
export class DType {
  kind: DTypeKind;
  /** Bytes per element (`<U3` is 12). */
  itemsize: number;
  byteorder: ByteOrder;
  alignment: number;
  /** Field names in field order (structured dtypes), else null. */
  names: string[] | null = null;
  /** Fields by name, in `names` order (titles are not keys here), else null. */
  fields: Map<string, DTypeField> | null = null;
  subarray: DTypeSubarray | null = null;
  /** Datetime/timedelta unit (`D`, `ms`, `ns`, …, `generic`), else null. */
  unit: string | null = null;
  /** Datetime/timedelta multiplier (`m8[5ms]` → 5); 1 otherwise. */
  count = 1;
  /** The dtype's `metadata` dict as decoded (Map or plain object), or null. */
  metadata: unknown = null;
  /** numpy's dtype flags (normalized to 0..255; numpy 1.x pickles them as a signed char). */
  flags: number;
  /**
   * When the pickle named a scalar class instead of a type string (`numpy.dtype(numpy.record, …)`),
   * that class as `module.name` if it is not the kind's default (e.g. `numpy.record`); else null.
   */
  scalarType: string | null = null;

  constructor(kind: DTypeKind, itemsize: number, byteorder?: ByteOrder | '=') {
    this.kind = kind;
    this.itemsize = itemsize;
    const bo = byteorder === '=' || byteorder === undefined ? NATIVE_ORDER : byteorder;
    this.byteorder = orderless(kind, itemsize) ? '|' : bo === '|' ? NATIVE_ORDER : bo;
    this.alignment = naturalAlignment(kind, itemsize);
    this.flags = kind === 'O' ? 0x3f : kind === 'U' ? DTYPE_FLAGS.NEEDS_INIT : 0;
    if (kind === 'M' || kind === 'm') this.unit = 'generic';
  }

  /**
   * Parse a numpy type string: `'<f8'`, `'|S3'`, `'U5'`, `'>M8[ns]'`, `'m8[5ms]'`, `'O'`, `'b1'`,
   * one-character codes (`'d'`, `'?'`) and type names (`'float64'`). Throws on anything else.
   */
  static parse(typestr: string, ctx?: DecodeContext): DType {
    let s = typestr;
    let bo: ByteOrder | '=' | undefined;
    const first = s[0];
    if (first === '<' || first === '>' || first === '|' || first === '=') {
      bo = first;
      s = s.slice(1);
    }
    let unitPart: string | undefined;
    const br = s.indexOf('[');
    if (br >= 0) {
      if (!s.endsWith(']')) throw fail(`invalid dtype string ${JSON.stringify(typestr)}`, ctx);
      unitPart = s.slice(br + 1, -1);
      s = s.slice(0, br);
    }
    let kind: DTypeKind;
    let size: number;
    const m = /^([a-zA-Z?])(\d*)$/.exec(s);
    const named = Object.prototype.hasOwnProperty.call(TYPE_NAMES, s) ? TYPE_NAMES[s] : undefined;
    if (m && m[2] !== '') {
      const letter = m[1] as string;
      const n = Number(m[2]);
      if (!Number.isSafeInteger(n) || m[2].length > 12)
        throw fail(`invalid dtype string ${JSON.stringify(typestr)}`, ctx);
      if ('biufcUSVOMma'.includes(letter)) {
        kind = (letter === 'a' ? 'S' : letter) as DTypeKind;
        size = kind === 'U' ? n * 4 : n;
      } else {
        const code = CHAR_CODES[letter];
        if (!code) throw fail(`invalid dtype string ${JSON.stringify(typestr)}`, ctx);
        // 'S5'-style lengths only exist for flexible kinds; other letters with digits are invalid.
        throw fail(`invalid dtype string ${JSON.stringify(typestr)}`, ctx);
      }
    } else if (m && Object.prototype.hasOwnProperty.call(CHAR_CODES, m[1] as string)) {
      [kind, size] = CHAR_CODES[m[1] as string] as [DTypeKind, number];
    } else if (named) {
      [kind, size] = named;
    } else {
      throw fail(`invalid dtype string ${JSON.stringify(typestr)}`, ctx);
    }
    validSize(kind, size, typestr, ctx);
    const dt = new DType(kind, size, bo);
    if (unitPart !== undefined) {
      if (kind !== 'M' && kind !== 'm') throw fail(`invalid dtype string ${JSON.stringify(typestr)}`, ctx);
      const um = /^(\d*)([A-Za-z]+)$/.exec(unitPart);
      if (!um || !UNIT_SET.has(um[2] as string))
        throw fail(`invalid datetime unit in ${JSON.stringify(typestr)}`, ctx);
      dt.unit = um[2] as string;
      dt.count = um[1] ? Number(um[1]) : 1;
      if (!Number.isSafeInteger(dt.count) || dt.count < 1)
        throw fail(`invalid datetime multiplier in ${JSON.stringify(typestr)}`, ctx);
    }
    return dt;
  }

  /**
   * A structured dtype from fields. Offsets default to packed (or, with `align`, C-struct aligned)
   * layout; `itemsize` defaults to the end of the last field (rounded up to the alignment when aligned).
   */
  static struct(
    fields: readonly { name: string; dtype: DType; offset?: number; title?: unknown }[],
    options: { align?: boolean; itemsize?: number } = {},
  ): DType {
    const dt = new DType('V', 0, '|');
    const map = new Map<string, DTypeField>();
    const names: string[] = [];
    let end = 0;
    let maxAlign = 1;
    for (const f of fields) {
      if (map.has(f.name)) throw new RangeError(`duplicate field name ${JSON.stringify(f.name)}`);
      const a = options.align ? f.dtype.alignment : 1;
      maxAlign = Math.max(maxAlign, a);
      const offset = f.offset ?? Math.ceil(end / a) * a;
      map.set(f.name, { name: f.name, dtype: f.dtype, offset, title: f.title ?? null });
      names.push(f.name);
      end = Math.max(end, offset + f.dtype.itemsize);
    }
    if (options.align) end = Math.ceil(end / maxAlign) * maxAlign;
    dt.names = names;
    dt.fields = map;
    dt.itemsize = options.itemsize ?? end;
    dt.alignment = options.align ? maxAlign : 1;
    let flags = DTYPE_FLAGS.NEEDS_PYAPI as number;
    for (const f of map.values()) flags |= f.dtype.flags & FROM_FIELDS;
    if (options.align) flags |= DTYPE_FLAGS.ALIGNED_STRUCT;
    dt.flags = flags;
    return dt;
  }

  /** A sub-array dtype (`np.dtype((base, shape))`). */
  static subarrayOf(base: DType, shape: readonly number[]): DType {
    const dt = new DType('V', base.itemsize * product(shape), '|');
    dt.subarray = { base, shape: [...shape] };
    dt.alignment = base.alignment;
    dt.flags = base.flags;
    return dt;
  }

  /**
   * The shared instance of a builtin dtype (`'<f8'`, `'|b1'`, `'<i4'`, `'|O'`, `'<c16'`…): numpy keeps
   * one object per native-order builtin type, and pickles share it between arrays (one dtype pickle,
   * then memo references). Other strings give a fresh DType as `parse` does. Shared instances are
   * frozen; do not mutate them.
   */
  static builtin(typestr: string): DType {
    const cached = BUILTIN.get(typestr);
    if (cached) return cached;
    const dt = DType.parse(typestr);
    if (!isSingletonKind(dt)) return dt;
    const key = dt.str;
    const existing = BUILTIN.get(key);
    if (existing) {
      BUILTIN.set(typestr, existing);
      return existing;
    }
    Object.freeze(dt);
    BUILTIN.set(key, dt);
    BUILTIN.set(typestr, dt);
    return dt;
  }

  /**
   * A dtype from a `.npy` header `descr` (numpy's `dtype.descr` form): a type string, a list of
   * `(name, type[, shape])` fields (empty-named `|V` entries are padding), or `(type, shape)`.
   */
  static fromDescr(descr: unknown): DType {
    if (typeof descr === 'string') return DType.parse(descr);
    if (descr instanceof Tuple && descr.length === 2 && !Array.isArray(descr[0])) {
      return DType.subarrayOf(DType.fromDescr(descr[0]), shapeOf(descr[1], 'sub-array shape'));
    }
    if (!Array.isArray(descr)) throw new UnpicklingError('descr must be a type string or a list of fields');
    const fields: { name: string; dtype: DType; offset: number; title: unknown }[] = [];
    let offset = 0;
    for (const entry of descr) {
      if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3)) {
        throw new UnpicklingError('descr fields must be (name, type) or (name, type, shape) tuples');
      }
      let dt = DType.fromDescr(entry[1]);
      if (entry.length === 3) dt = DType.subarrayOf(dt, shapeOf(entry[2], 'field shape'));
      let name: unknown = entry[0];
      let title: unknown = null;
      if (Array.isArray(name)) {
        if (name.length !== 2) throw new UnpicklingError('a titled field name must be (title, name)');
        title = name[0];
        name = name[1];
      }
      if (typeof name !== 'string') throw new UnpicklingError('field names must be strings');
      const padding = name === '' && dt.kind === 'V' && dt.names === null && dt.subarray === null;
      if (!padding) {
        if (fields.some((f) => f.name === name))
          throw new UnpicklingError(`duplicate field name ${JSON.stringify(name)}`);
        fields.push({ name, dtype: dt, offset, title });
      }
      offset += dt.itemsize;
      if (!Number.isSafeInteger(offset)) throw new UnpicklingError('structured dtype too large');
    }
    return DType.struct(fields, { itemsize: offset });
  }

  /** True for dtypes that hold Python objects anywhere (kind `O`, or in a field or sub-array). */
  get hasObject(): boolean {
    if (this.kind === 'O') return true;
    if (this.subarray) return this.subarray.base.hasObject;
    if (this.fields) for (const f of this.fields.values()) if (f.dtype.hasObject) return true;
    return false;
  }

  /** True for structured dtypes created with `align=True` (numpy's `isalignedstruct`). */
  get isAlignedStruct(): boolean {
    return (this.flags & DTYPE_FLAGS.ALIGNED_STRUCT) !== 0;
  }

  /** True when the dtype has named fields. */
  get isStructured(): boolean {
    return this.names !== null;
  }

  /** numpy's `dtype.str`: `'<f8'`, `'|b1'`, `'<U3'`, `'|S2'`, `'|V12'`, `'|O'`, `'<M8[ms]'`, `'<m8[5ms]'`. */
  get str(): string {
    const bo = this.byteorder;
    switch (this.kind) {
      case 'O':
        return '|O';
      case 'U':
        return `${bo}U${this.itemsize / 4}`;
      case 'M':
      case 'm':
        return `${bo}${this.kind}8${this.unit && this.unit !== 'generic' ? `[${this.count !== 1 ? this.count : ''}${this.unit}]` : ''}`;
      default:
        return `${bo}${this.kind}${this.itemsize}`;
    }
  }

  /** numpy's `dtype.name`: `float64`, `bool`, `str96`, `bytes16`, `void96`, `datetime64[ns]`, `object`. */
  get name(): string {
    const bits = this.itemsize * 8;
    switch (this.kind) {
      case 'b':
        return 'bool';
      case 'i':
        return `int${bits}`;
      case 'u':
        return `uint${bits}`;
      case 'f':
        return `float${bits}`;
      case 'c':
        return `complex${bits}`;
      case 'U':
        return this.itemsize === 0 ? 'str' : `str${bits}`;
      case 'S':
        return this.itemsize === 0 ? 'bytes' : `bytes${bits}`;
      case 'V':
        return this.itemsize === 0 ? 'void' : `void${bits}`;
      case 'O':
        return 'object';
      case 'M':
      case 'm': {
        const base = this.kind === 'M' ? 'datetime64' : 'timedelta64';
        return this.unit && this.unit !== 'generic'
          ? `${base}[${this.count !== 1 ? this.count : ''}${this.unit}]`
          : base;
      }
    }
  }

  /**
   * numpy's `dtype.descr`: for structured dtypes the field list with `['', '|Vn']` padding entries
   * (titled names as `[title, name]`, sub-array fields with a third `shape` item); otherwise `[['', str]]`.
   */
  get descr(): DescrEntry[] {
    if (this.names === null) {
      const d = arrayDescr(this);
      return [typeof d === 'string' ? ['', d] : ['', d as DescrEntry[]]];
    }
    return arrayDescr(this) as DescrEntry[];
  }

  /** True when the data needs no byte swapping on this machine (`|`, or the native order). */
  get isNativeOrder(): boolean {
    return this.byteorder === '|' || this.byteorder === NATIVE_ORDER;
  }

  /** A copy with another byte order (kinds without one keep `|`; fields are not changed, as in numpy). */
  withByteOrder(order: '<' | '>'): DType {
    const dt = copyDType(this);
    if (!orderless(dt.kind, dt.itemsize)) dt.byteorder = order;
    return dt;
  }

  /** The fields in `names` order (empty for non-structured dtypes). */
  fieldList(): DTypeField[] {
    return this.fields ? [...this.fields.values()] : [];
  }

  /** Structural equality: kind, size, byte order, fields (names, offsets, titles, dtypes), sub-array, datetime unit. Metadata and flags other than alignment are ignored, as numpy does. */
  equals(other: DType): boolean {
    if (this === other) return true;
    if (this.kind !== other.kind || this.itemsize !== other.itemsize) return false;
    if (this.byteorder !== other.byteorder && this.itemsize > 1 && this.kind !== 'V' && this.kind !== 'S')
      return false;
    if (this.unit !== other.unit || this.count !== other.count) return false;
    if ((this.subarray === null) !== (other.subarray === null)) return false;
    if (this.subarray && other.subarray) {
      if (!this.subarray.base.equals(other.subarray.base)) return false;
      if (this.subarray.shape.join(',') !== other.subarray.shape.join(',')) return false;
    }
    if ((this.names === null) !== (other.names === null)) return false;
    if (this.names && other.names && this.fields && other.fields) {
      if (this.names.length !== other.names.length) return false;
      for (let i = 0; i < this.names.length; i++) {
        const a = this.fields.get(this.names[i] as string);
        const b = other.fields.get(other.names[i] as string);
        if (!a || !b || a.name !== b.name || a.offset !== b.offset || a.title !== b.title) return false;
        if (!a.dtype.equals(b.dtype)) return false;
      }
    }
    return true;
  }

  toString(): string {
    return this.names !== null || this.subarray !== null
      ? `dtype(${JSON.stringify(this.descr)})`
      : `dtype('${this.str}')`;
  }

  /** BUILD: apply numpy's dtype state tuple (versions 0–4). Mutates this dtype. */
  [SET_STATE](state: unknown, ctx: DecodeContext): undefined {
    applyDTypeState(this, state, ctx);
    return undefined;
  }
}

const BUILTIN = new Map<string, DType>();

/** Kinds numpy keeps one shared dtype object for (native order, fixed size, no unit, no metadata). */
export function isSingletonKind(dt: DType): boolean {
  return (
    'biufcO'.includes(dt.kind) &&
    dt.names === null &&
    dt.subarray === null &&
    dt.metadata === null &&
    dt.scalarType === null &&
    dt.isNativeOrder
  );
}

/** Flags a structured dtype inherits from its fields (numpy's NPY_FROM_FIELDS). */
const FROM_FIELDS = 0x01 | 0x02 | 0x08 | 0x10;

function validSize(kind: DTypeKind, size: number, typestr: string, ctx?: DecodeContext): void {
  const ok: Partial<Record<DTypeKind, number[]>> = {
    b: [1],
    i: [1, 2, 4, 8],
    u: [1, 2, 4, 8],
    f: [2, 4, 8, 12, 16],
    c: [8, 16, 24, 32],
    O: [4, 8],
    M: [8],
    m: [8],
  };
  const allowed = ok[kind];
  if (allowed && !allowed.includes(size)) throw fail(`unsupported dtype ${JSON.stringify(typestr)}`, ctx);
  if (!Number.isSafeInteger(size) || size < 0)
    throw fail(`invalid dtype size in ${JSON.stringify(typestr)}`, ctx);
}

/** numpy's `_array_descr`: a type string, `[descr, shape]` for sub-arrays, or a field list. */
function arrayDescr(dt: DType): string | DescrEntry[] | [string | DescrEntry[], number[]] {
  if (dt.names === null || dt.fields === null) {
    if (dt.subarray) return [arrayDescr(dt.subarray.base) as string | DescrEntry[], [...dt.subarray.shape]];
    return dt.str;
  }
  const out: DescrEntry[] = [];
  let offset = 0;
  for (const name of dt.names) {
    const f = dt.fields.get(name) as DTypeField;
    if (f.offset > offset) {
      out.push(['', `|V${f.offset - offset}`]);
      offset = f.offset;
    } else if (f.offset < offset) {
      throw new RangeError('dtype.descr is not defined for types with overlapping or out-of-order fields');
    }
    const label: string | [unknown, string] =
      f.title !== null && f.title !== undefined ? [f.title, name] : name;
    if (f.dtype.subarray) {
      out.push([
        label,
        arrayDescr(f.dtype.subarray.base) as string | DescrEntry[],
        [...f.dtype.subarray.shape],
      ]);
    } else {
      out.push([label, arrayDescr(f.dtype) as string | DescrEntry[]]);
    }
    offset += f.dtype.itemsize;
  }
  if (dt.itemsize > offset) out.push(['', `|V${dt.itemsize - offset}`]);
  return out;
}

/** Is `x` a DType? */
export function isDType(x: unknown): x is DType {
  return x instanceof DType;
}

/**
 * `numpy.dtype(obj, align, copy)` as pickles call it: `obj` is a kind+size string (`'f8'`, `'U2'`,
 * `'V15'`, `'M8'`), or a scalar class global (`numpy.record`, `numpy.float64`, a user void subclass).
 */
export function dtypeFromReduce(args: Tuple, ctx: DecodeContext): DType {
  if (args.length < 1 || args.length > 3)
    throw ctx.error(`numpy.dtype expects 1 to 3 arguments, got ${args.length}`);
  const obj = args[0];
  const text = asText(obj);
  if (text !== undefined) return DType.parse(text, ctx);
  if (obj instanceof DType) return copyDType(obj);
  if (obj instanceof PyGlobal) {
    const known =
      obj.module === 'numpy' && Object.prototype.hasOwnProperty.call(TYPE_NAMES, obj.name)
        ? TYPE_NAMES[obj.name]
        : undefined;
    if (known) {
      const dt = new DType(known[0], known[1]);
      if (obj.name === 'record') dt.scalarType = 'numpy.record';
      return dt;
    }
    // Another class: numpy accepts subclasses of its scalar types; a void subclass is the common case.
    const dt = new DType('V', 0, '|');
    dt.scalarType = obj.qualifiedName;
    return dt;
  }
  throw ctx.error('numpy.dtype: unsupported first argument');
}

function copyDType(src: DType): DType {
  const dt = new DType(src.kind, src.itemsize, src.byteorder);
  Object.assign(dt, src);
  return dt;
}

/** Look a field name up in a decoded fields dict (keys may be str, or bytes in Python 2 pickles). */
function lookupField(entries: [unknown, unknown][], name: string): unknown {
  for (const [k, v] of entries) {
    if (k === name) return v;
  }
  for (const [k, v] of entries) {
    if (k instanceof Uint8Array && asText(k) === name) return v;
  }
  return undefined;
}

/** numpy's dtype `__setstate__`, inert. */
export function applyDTypeState(dt: DType, state: unknown, ctx: DecodeContext): void {
  if (!(state instanceof Tuple)) throw ctx.error('numpy dtype state must be a tuple');
  let version: number;
  let endian: unknown;
  let subarray: unknown;
  let names: unknown;
  let fields: unknown;
  let elsize: unknown;
  let alignment: unknown;
  let flags: unknown = 0;
  let metadata: unknown = null;
  const s = state;
  switch (s.length) {
    case 9:
      [, endian, subarray, names, fields, elsize, alignment, flags, metadata] = s;
      version = toSmallInt(s[0], 'dtype state version', ctx);
      break;
    case 8:
      [, endian, subarray, names, fields, elsize, alignment, flags] = s;
      version = toSmallInt(s[0], 'dtype state version', ctx);
      break;
    case 7:
      [, endian, subarray, names, fields, elsize, alignment] = s;
      version = toSmallInt(s[0], 'dtype state version', ctx);
      break;
    case 6:
      [, endian, subarray, fields, elsize, alignment] = s;
      version = toSmallInt(s[0], 'dtype state version', ctx);
      names = undefined;
      break;
    case 5:
      version = 0;
      [endian, subarray, fields, elsize, alignment] = s;
      names = undefined;
      break;
    default:
      throw ctx.error(`numpy dtype state has ${s.length} items (expected 5 to 9)`);
  }
  if (version < 0 || version > 4) throw ctx.error(`can't handle version ${version} of numpy.dtype pickle`);

  // Versions 0/1 keep the names list inside `fields` under the key -1.
  if (version <= 1 || names === undefined) {
    if (fields !== null) {
      const entries = dictEntries(fields);
      if (!entries) throw ctx.error('non-dict fields in numpy dtype state');
      const found = entries.find(([k]) => isIntLike(k) && Number(k) === -1);
      if (!found) throw ctx.error('numpy dtype state: fields lack the names entry');
      names = found[1];
      const rest = entries.filter((e) => e !== found);
      fields = new Map(rest);
    } else {
      names = null;
    }
  }

  const e = asText(endian);
  if (e === undefined || e.length !== 1 || !'<>|='.includes(e)) {
    throw ctx.error('numpy dtype state: endian must be one of < > | =');
  }
  if ((fields === null) !== (names === null))
    throw ctx.error('inconsistent fields and names in numpy dtype state');
  if (names !== null && !Array.isArray(names)) throw ctx.error('non-tuple names in numpy dtype state');

  const isFlexible = dt.kind === 'S' || dt.kind === 'U' || dt.kind === 'V';
  // '=' is the writer's native order; we assume little-endian writers, as numpy pickles spell it out anyway.
  dt.byteorder = orderless(dt.kind, dt.itemsize) ? '|' : e === '<' || e === '>' ? e : NATIVE_ORDER;

  dt.subarray = null;
  if (subarray !== null) {
    if (!(subarray instanceof Tuple) || subarray.length !== 2 || !(subarray[0] instanceof DType)) {
      throw ctx.error('incorrect subarray in numpy dtype state');
    }
    dt.subarray = { base: subarray[0], shape: shapeOf(subarray[1], 'subarray shape', ctx) };
  }

  dt.names = null;
  dt.fields = null;
  if (names !== null) {
    const entries = dictEntries(fields);
    if (!entries) throw ctx.error('non-dict fields in numpy dtype state');
    const nameList: string[] = [];
    const map = new Map<string, DTypeField>();
    for (const n of names as unknown[]) {
      const name = asText(n);
      if (name === undefined) throw ctx.error('numpy dtype field names must be str');
      if (map.has(name)) throw ctx.error(`duplicate field name ${JSON.stringify(name)} in numpy dtype state`);
      const info = lookupField(entries, name);
      if (!(info instanceof Tuple) || info.length < 2 || info.length > 3 || !(info[0] instanceof DType)) {
        throw ctx.error(`numpy dtype state: bad field ${JSON.stringify(name)}`);
      }
      const offset = toSmallInt(info[1], 'field offset', ctx);
      if (offset < 0) throw ctx.error('negative field offset in numpy dtype state');
      const rawTitle = info.length === 3 ? info[2] : null;
      const title =
        rawTitle instanceof Uint8Array && !(rawTitle instanceof ByteArray)
          ? (asText(rawTitle) ?? rawTitle)
          : rawTitle;
      map.set(name, { name, dtype: info[0], offset, title });
      nameList.push(name);
    }
    dt.names = nameList;
    dt.fields = map;
  }

  if (isFlexible) {
    const size = toSmallInt(elsize, 'elsize', ctx);
    const align = toSmallInt(alignment, 'alignment', ctx);
    if (size < 0) throw ctx.error('negative elsize in numpy dtype state');
    if (dt.kind === 'U' && size % 4 !== 0) throw ctx.error('elsize of a str dtype must be a multiple of 4');
    dt.itemsize = size;
    dt.alignment = align > 0 ? align : 1;
  }
  if (dt.fields) {
    for (const f of dt.fields.values()) {
      if (f.offset + f.dtype.itemsize > dt.itemsize)
        throw ctx.error(`field ${JSON.stringify(f.name)} extends past the dtype's itemsize`);
    }
  }
  if (dt.subarray) {
    const need = dt.subarray.base.itemsize * product(dt.subarray.shape);
    if (need !== dt.itemsize) throw ctx.error('subarray size does not match the dtype itemsize');
  }

  // Flags: numpy 1.x wrote a signed char (-112 for aligned structs), numpy 2 an unsigned value.
  let f = toSmallInt(flags, 'dtype flags', ctx);
  if (f < 0 && f >= -128) f += 256;
  if (version < 3) f = dt.hasObject ? 0x3f : 0;
  dt.flags = f & 0xff;

  dt.metadata = null;
  if (metadata !== null && metadata !== undefined) {
    if (dt.kind === 'M' || dt.kind === 'm') {
      if (!(metadata instanceof Tuple) || metadata.length !== 2)
        throw ctx.error('invalid datetime dtype metadata in numpy dtype state');
      dt.metadata = metadata[0];
      applyDatetimeMeta(dt, metadata[1], ctx);
    } else {
      dt.metadata = metadata;
    }
  }
}

function applyDatetimeMeta(dt: DType, meta: unknown, ctx: DecodeContext): void {
  if (!(meta instanceof Tuple) || (meta.length !== 2 && meta.length !== 4)) {
    throw ctx.error('datetime metadata must be (unit, num) or (unit, num, den, events)');
  }
  const unit = asText(meta[0]);
  if (unit === undefined || !UNIT_SET.has(unit))
    throw ctx.error(`invalid datetime unit ${JSON.stringify(unit ?? String(meta[0]))}`);
  const num = toSmallInt(meta[1], 'datetime multiplier', ctx);
  if (num < 1) throw ctx.error('datetime multiplier must be positive');
  if (meta.length === 4) {
    const den = toSmallInt(meta[2], 'datetime divisor', ctx);
    if (den !== 1) throw ctx.error('datetime metadata with a divisor other than 1 is not supported');
  }
  dt.unit = unit;
  dt.count = unit === 'generic' ? 1 : num;
}
