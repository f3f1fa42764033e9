/**
 * The Python standard-library value family: JS classes for `decimal`, `fractions`, `uuid` and
 * `collections` values (the `datetime`/`zoneinfo` ones live in ./datetime.ts and are re-exported
 * here), the decoder handlers that rebuild them (`registerStdlib`), and the table of how CPython
 * pickles each of them (`stdlibReduce`, for the encoder).
 */
import { SET_STATE, handlerTable, type DecodeContext, type GlobalHandler } from '../unpickle/registry.js';
import { PyGlobal, Tuple, isPlainObject } from './values.js';
import { defineFamily } from '../family.js';
import { PyName, type Reducer, type Reduction } from '../pickle/reducers.js';
import { PyDate, PyDateTime, PyTime, PyTimedelta, PyTimezone, PyZoneInfo } from './datetime.js';

export { PyDate, PyDateTime, PyTime, PyTimedelta, PyTimezone, PyZoneInfo } from './datetime.js';
export type { TzInfo } from './datetime.js';

// ---------------------------------------------------------------------------------------------
// decimal.Decimal

// Python's Decimal string grammar (ASCII digits), case-insensitive, surrounding whitespace allowed.
const DIGITS = String.raw`\d+(?:_\d+)*`;
const DECIMAL_RE = new RegExp(
  String.raw`^\s*[+-]?(?:(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:e[+-]?${DIGITS})?|inf(?:inity)?|s?nan(?:\d*))\s*$`,
  'i',
);

/** Python `decimal.Decimal`, kept as the exact string Python pickled (`str(d)`). */
export class PyDecimal {
  constructor(readonly value: string) {
    if (!DECIMAL_RE.test(value)) throw new RangeError(`invalid Decimal literal: ${JSON.stringify(value)}`);
    Object.freeze(this);
  }

  /** The exact decimal text, e.g. `1.10`, `-0`, `1E+10`, `NaN`, `Infinity`. */
  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }

  /**
   * The nearest JS number: NaN for NaNs (also for signalling NaNs, where Python's `float()` raises),
   * ±Infinity for infinities and out-of-range exponents.
   */
  toNumber(): number {
    const s = this.value.trim().replace(/_/g, '').toLowerCase();
    const neg = s.startsWith('-');
    const body = s.replace(/^[+-]/, '');
    if (body.startsWith('inf')) return neg ? -Infinity : Infinity;
    if (body.includes('nan')) return NaN;
    return Number(s);
  }

  isNaN(): boolean {
    return /nan/i.test(this.value);
  }

  isFinite(): boolean {
    return !/nan|inf/i.test(this.value);
  }
}

// ---------------------------------------------------------------------------------------------
// fractions.Fraction

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

const MAX_EXPONENT = 100_000n;

// Python's Fraction string grammar: `[sign] num [/ den]` or a decimal with optional exponent.
const FRACTION_RE = new RegExp(
  String.raw`^\s*([+-]?)(?=\d|\.\d)(\d*(?:_\d+)*)(?:/(${DIGITS})|(?:\.(\d*(?:_\d+)*))?(?:e([+-]?${DIGITS}))?)\s*$`,
  'i',
);

/** Python `fractions.Fraction`, normalized as Python keeps it (lowest terms, denominator > 0). */
export class PyFraction {
  readonly numerator: bigint;
  readonly denominator: bigint;

  constructor(numerator: bigint | number, denominator: bigint | number = 1n) {
    let n = BigInt(numerator);
    let d = BigInt(denominator);
    if (d === 0n) throw new RangeError(`Fraction(${n}, 0)`);
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n, d);
    this.numerator = g > 1n ? n / g : n;
    this.denominator = g > 1n ? d / g : d;
    Object.freeze(this);
  }

  /** Parse Python's Fraction literal forms: `3/4`, `-7`, `1.25`, `2e-3`. */
  static parse(text: string): PyFraction {
    const m = FRACTION_RE.exec(text);
    if (!m) throw new RangeError(`invalid Fraction literal: ${JSON.stringify(text)}`);
    const [, sign, numText, denText, decText, expText] = m;
    let num = BigInt((numText || '0').replace(/_/g, ''));
    let den = 1n;
    if (denText !== undefined) {
      den = BigInt(denText.replace(/_/g, ''));
    } else {
      if (decText) {
        const digits = decText.replace(/_/g, '');
        num = num * 10n ** BigInt(digits.length) + BigInt(digits || '0');
        den = 10n ** BigInt(digits.length);
      }
      if (expText !== undefined) {
        const e = BigInt(expText.replace(/_/g, ''));
        // A hostile pickle could ask for 10**(10**9): refuse exponents no real value needs.
        if (e > MAX_EXPONENT || e < -MAX_EXPONENT) throw new RangeError('Fraction exponent is too large');
        if (e >= 0n) num *= 10n ** e;
        else den *= 10n ** -e;
      }
    }
    return new PyFraction(sign === '-' ? -num : num, den);
  }

  /** Python's `str()`: `3/4`, or `3` when the denominator is 1. */
  toString(): string {
    return this.denominator === 1n ? String(this.numerator) : `${this.numerator}/${this.denominator}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** Nearest JS number (correctly rounded for terms below 2**53; within an ulp beyond). */
  toNumber(): number {
    const n = this.numerator;
    const d = this.denominator;
    if (n >= -MAX_EXACT && n <= MAX_EXACT && d <= MAX_EXACT) return Number(n) / Number(d);
    const a = n < 0n ? -n : n;
    // Scale so that the integer quotient carries ~66 significant bits, then undo the scale.
    const k = d.toString(2).length - a.toString(2).length + 66;
    const q = k >= 0 ? (a << BigInt(k)) / d : a / (d << BigInt(-k));
    let r = Number(q);
    for (let e = -k; e !== 0;) {
      const step = Math.max(-1000, Math.min(1000, e));
      r *= 2 ** step;
      e -= step;
    }
    return n < 0n ? -r : r;
  }
}

const MAX_EXACT = 2n ** 53n;

// ---------------------------------------------------------------------------------------------
// uuid.UUID and uuid.SafeUUID

/** Python `uuid.SafeUUID` (an enum: `safe` = 0, `unsafe` = -1, `unknown` = None). */
export class PySafeUUID {
  static readonly safe = new PySafeUUID('safe', 0);
  static readonly unsafe = new PySafeUUID('unsafe', -1);
  static readonly unknown = new PySafeUUID('unknown', null);

  private constructor(
    readonly name: 'safe' | 'unsafe' | 'unknown',
    readonly value: 0 | -1 | null,
  ) {
    Object.freeze(this);
  }

  static fromValue(value: unknown): PySafeUUID | undefined {
    if (value === null || value === undefined) return PySafeUUID.unknown;
    if (value instanceof PySafeUUID) return value;
    if (value === 0 || value === 0n) return PySafeUUID.safe;
    if (value === -1 || value === -1n) return PySafeUUID.unsafe;
    return undefined;
  }

  toString(): string {
    return `SafeUUID.${this.name}`;
  }
}

const UUID_MAX = (1n << 128n) - 1n;

/**
 * Python `uuid.UUID`. `int` is the 128-bit value. The pickle builds it in two steps (`NEWOBJ`, then
 * `BUILD` with `{'int': N}`), so the decoder fills it in place; treat it as immutable.
 */
export class PyUUID {
  #int: bigint;
  #isSafe: PySafeUUID;

  constructor(int: bigint = 0n, isSafe: PySafeUUID = PySafeUUID.unknown) {
    if (int < 0n || int > UUID_MAX) throw new RangeError('UUID int is out of range (need a 128-bit integer)');
    this.#int = int;
    this.#isSafe = isSafe;
  }

  /** Parse the hex forms Python's `UUID(hex)` accepts (braces, `urn:uuid:` and hyphens ignored). */
  static parse(text: string): PyUUID {
    const hex = text.replace(/^urn:uuid:/i, '').replace(/[{}-]/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError('badly formed hexadecimal UUID string');
    return new PyUUID(BigInt('0x' + hex));
  }

  static fromBytes(bytes: Uint8Array): PyUUID {
    if (bytes.length !== 16) throw new RangeError('bytes is not a 16-char string');
    let v = 0n;
    for (const b of bytes) v = (v << 8n) | BigInt(b);
    return new PyUUID(v);
  }

  get int(): bigint {
    return this.#int;
  }

  get isSafe(): PySafeUUID {
    return this.#isSafe;
  }

  /** 32 lowercase hex digits. */
  get hex(): string {
    return this.#int.toString(16).padStart(32, '0');
  }

  /** The 16 bytes, big-endian (Python's `uuid.bytes`). */
  get bytes(): Uint8Array {
    const out = new Uint8Array(16);
    let v = this.#int;
    for (let i = 15; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return out;
  }

  /** The version number, or null when the UUID is not of the RFC 4122 variant (as Python's `version`). */
  get version(): number | null {
    if (((this.#int >> 62n) & 0x3n) !== 0x2n) return null;
    return Number((this.#int >> 76n) & 0xfn);
  }

  get urn(): string {
    return 'urn:uuid:' + this.toString();
  }

  /** Canonical `8-4-4-4-12` form, as Python's `str(uuid)`. */
  toString(): string {
    const h = this.hex;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** `BUILD`: Python's `UUID.__setstate__` (`{'int': N[, 'is_safe': v]}`; Python 2 / slots forms too). */
  [SET_STATE](state: unknown, ctx: DecodeContext): undefined {
    let dict = state;
    // (None or __dict__, slots dict): the generic slots state form.
    if (Array.isArray(state) && state.length === 2) {
      dict = state[1] ?? state[0];
    }
    const int = dictGet(dict, 'int');
    if (typeof int !== 'bigint' && !(typeof int === 'number' && Number.isSafeInteger(int))) {
      throw ctx.error("uuid.UUID state needs an integer 'int'");
    }
    const big = BigInt(int);
    if (big < 0n || big > UUID_MAX) throw ctx.error('uuid.UUID int is out of range');
    const safe = PySafeUUID.fromValue(dictGet(dict, 'is_safe'));
    if (!safe) throw ctx.error('uuid.UUID is_safe must be 0, -1 or None');
    this.#int = big;
    this.#isSafe = safe;
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// collections

const HIDDEN = { enumerable: false, writable: true, configurable: true } as const;

/**
 * Attach `BUILD` state (the instance `__dict__`, e.g. torch's `_metadata`) as the non-enumerable
 * `__state__`, leaving the container's entries untouched.
 */
function setState(target: object, state: unknown): undefined {
  Object.defineProperty(target, '__state__', { ...HIDDEN, value: state });
  return undefined;
}

/**
 * Python `collections.OrderedDict`. A Map keeps insertion order already; the class marks the type.
 * `__state__` holds instance attributes when the pickle carried any (torch state dicts' `_metadata`).
 */
export class OrderedDict<K = unknown, V = unknown> extends Map<K, V> {
  declare readonly __state__: unknown;
  [SET_STATE](state: unknown): undefined {
    return setState(this, state);
  }
}

/** Python `collections.defaultdict`. `defaultFactory` is the factory (a `PyGlobal` such as `builtins.list`) or null. */
export class DefaultDict<K = unknown, V = unknown> extends Map<K, V> {
  declare readonly __state__: unknown;
  readonly defaultFactory: unknown;
  constructor(defaultFactory: unknown = null, entries?: Iterable<readonly [K, V]>) {
    super(entries);
    this.defaultFactory = defaultFactory;
  }
  [SET_STATE](state: unknown): undefined {
    return setState(this, state);
  }
}

/** Python `collections.Counter`: element → count (Python ints: number or bigint by decode mode). */
export class Counter<K = unknown> extends Map<K, unknown> {
  declare readonly __state__: unknown;
  [SET_STATE](state: unknown): undefined {
    return setState(this, state);
  }
}

/** Python `collections.deque`: a JS array (APPEND/APPENDS fill it) with the deque's `maxlen` (null = unbounded). */
export class Deque<T = unknown> extends Array<T> {
  declare readonly maxlen: number | null;
  declare readonly __state__: unknown;

  /** Build a deque (`new Deque(n)` would follow Array's length convention, hence a factory). */
  static from_<T>(items: Iterable<T> = [], maxlen: number | null = null): Deque<T> {
    const d = new Deque<T>();
    Object.defineProperty(d, 'maxlen', { ...HIDDEN, writable: false, value: maxlen });
    for (const item of items) d.push(item);
    return d;
  }

  /** Appends like Python's `deque.append`/`extend`: beyond `maxlen`, items fall off the left. */
  override push(...items: T[]): number {
    const n = super.push(...items);
    const max = this.maxlen;
    if (max !== null && n > max) this.splice(0, n - max);
    return this.length;
  }

  [SET_STATE](state: unknown): undefined {
    return setState(this, state);
  }
}
// Derived arrays (map, filter, slice) are plain arrays. (A data property: see Tuple in values.ts.)
Object.defineProperty(Deque, Symbol.species, { value: Array, configurable: true });
Object.defineProperty(Deque.prototype, 'maxlen', { value: null, writable: false, enumerable: false });

// ---------------------------------------------------------------------------------------------
// Argument helpers for the handlers

/** Entries of a decoded dict (Map in lossless mode, plain object for string keys in default mode). */
function dictEntries(value: unknown): Iterable<[unknown, unknown]> | undefined {
  if (value instanceof Map) return value.entries();
  if (isPlainObject(value)) return Object.entries(value);
  return undefined;
}

function dictGet(value: unknown, key: string): unknown {
  if (value instanceof Map) return value.get(key);
  if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, key)) return value[key];
  return undefined;
}

function isPyInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** A Python int argument as a JS number; errors when absent, not an int, or not a safe integer. */
function intArg(v: unknown, ctx: DecodeContext, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0; // Python bool is an int
  if (!isPyInt(v)) throw ctx.error(`${what} must be an integer`);
  const n = ctx.toInt(v);
  if (typeof n !== 'number') throw ctx.error(`${what} is out of range`);
  return n;
}

/** The pickled state bytes: `bytes`, or (Python 2 pickles read with encoding='latin1') a str of chars < 256. */
function packedBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c > 255) return undefined;
      out[i] = c;
    }
    return out;
  }
  return undefined;
}

function checkArity(args: Tuple, min: number, max: number, ctx: DecodeContext, what: string): void {
  if (args.length < min || args.length > max) {
    throw ctx.error(
      `${what} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${args.length}`,
    );
  }
}

function noKwargs(kwargs: Map<unknown, unknown> | undefined, ctx: DecodeContext, what: string): void {
  if (kwargs && kwargs.size > 0) throw ctx.error(`${what} does not take keyword arguments here`);
}

/** Run a value constructor, turning its RangeError into an UnpicklingError at the current opcode. */
function build<T>(ctx: DecodeContext, what: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof RangeError) throw ctx.error(`${what}: ${e.message}`);
    throw e;
  }
}

function tzArg(v: unknown, ctx: DecodeContext): object | null {
  if (v === undefined || v === null) return null;
  // Known zones, or an unrebuilt tzinfo subclass instance (pytz, dateutil) kept as an object.
  if (typeof v === 'object') return v;
  throw ctx.error('bad tzinfo state arg');
}

/** Both REDUCE and NEWOBJ mean "call the constructor" for these classes. */
function callable(call: (args: Tuple, ctx: DecodeContext) => unknown, what: string): GlobalHandler {
  return {
    call,
    construct(args, kwargs, ctx) {
      noKwargs(kwargs, ctx, what);
      return call(args, ctx);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// datetime handlers

function decodeDateTime(args: Tuple, ctx: DecodeContext): PyDateTime {
  const b = packedBytes(args[0]);
  if (b && b.length === 10 && (b[2]! & 0x7f) >= 1 && (b[2]! & 0x7f) <= 12) {
    // Pickle form: year(2, big-endian) month(+fold<<7) day hour minute second microsecond(3, big-endian).
    checkArity(args, 1, 2, ctx, 'datetime.datetime');
    const tz = tzArg(args[1], ctx);
    try {
      // (inline, not through build(): no closure per datetime)
      return new PyDateTime(
        (b[0]! << 8) | b[1]!,
        b[2]! & 0x7f,
        b[3]!,
        b[4]!,
        b[5]!,
        b[6]!,
        (b[7]! << 16) | (b[8]! << 8) | b[9]!,
        tz,
        b[2]! >> 7,
      );
    } catch (e) {
      if (e instanceof RangeError) throw ctx.error(`datetime.datetime: ${e.message}`);
      throw e;
    }
  }
  checkArity(args, 3, 8, ctx, 'datetime.datetime');
  const f = [0, 1, 2, 3, 4, 5, 6].map((i) =>
    i < args.length && i < 7 ? intArg(args[i], ctx, 'datetime.datetime argument') : 0,
  ) as [number, number, number, number, number, number, number];
  const tz = tzArg(args[7], ctx);
  return build(ctx, 'datetime.datetime', () => new PyDateTime(...f, tz));
}

function decodeDate(args: Tuple, ctx: DecodeContext): PyDate {
  const b = packedBytes(args[0]);
  if (b && b.length === 4 && b[2]! >= 1 && b[2]! <= 12) {
    checkArity(args, 1, 1, ctx, 'datetime.date');
    return build(ctx, 'datetime.date', () => new PyDate((b[0]! << 8) | b[1]!, b[2]!, b[3]!));
  }
  checkArity(args, 3, 3, ctx, 'datetime.date');
  const [y, m, d] = [0, 1, 2].map((i) => intArg(args[i], ctx, 'datetime.date argument')) as [
    number,
    number,
    number,
  ];
  return build(ctx, 'datetime.date', () => new PyDate(y, m, d));
}

function decodeTime(args: Tuple, ctx: DecodeContext): PyTime {
  const b = packedBytes(args[0]);
  if (b && b.length === 6 && (b[0]! & 0x7f) < 24) {
    // Pickle form: hour(+fold<<7) minute second microsecond(3, big-endian).
    checkArity(args, 1, 2, ctx, 'datetime.time');
    const tz = tzArg(args[1], ctx);
    return build(
      ctx,
      'datetime.time',
      () => new PyTime(b[0]! & 0x7f, b[1]!, b[2]!, (b[3]! << 16) | (b[4]! << 8) | b[5]!, tz, b[0]! >> 7),
    );
  }
  checkArity(args, 0, 5, ctx, 'datetime.time');
  const f = [0, 1, 2, 3].map((i) =>
    i < args.length ? intArg(args[i], ctx, 'datetime.time argument') : 0,
  ) as [number, number, number, number];
  const tz = tzArg(args[4], ctx);
  return build(ctx, 'datetime.time', () => new PyTime(...f, tz));
}

function decodeTimedelta(args: Tuple, ctx: DecodeContext): PyTimedelta {
  checkArity(args, 0, 3, ctx, 'datetime.timedelta');
  const parts = [0, 1, 2].map((i) => {
    const v = args[i];
    if (v === undefined) return 0n;
    if (typeof v === 'boolean') return v ? 1n : 0n;
    if (!isPyInt(v)) throw ctx.error('datetime.timedelta arguments must be integers');
    return BigInt(v);
  }) as [bigint, bigint, bigint];
  return build(ctx, 'datetime.timedelta', () => new PyTimedelta(...parts));
}

function decodeTimezone(args: Tuple, ctx: DecodeContext): PyTimezone {
  checkArity(args, 1, 2, ctx, 'datetime.timezone');
  const [offset, name] = args;
  if (!(offset instanceof PyTimedelta)) throw ctx.error('datetime.timezone offset must be a timedelta');
  if (name !== undefined && typeof name !== 'string') throw ctx.error('datetime.timezone name must be a str');
  // Python returns the `timezone.utc` singleton for a zero offset without a name.
  if (name === undefined && offset.totalMicroseconds() === 0n) return PyTimezone.utc;
  return build(ctx, 'datetime.timezone', () => new PyTimezone(offset, name ?? null));
}

function decodeZoneInfoUnpickle(args: Tuple, ctx: DecodeContext): PyZoneInfo {
  checkArity(args, 2, 2, ctx, 'zoneinfo.ZoneInfo._unpickle');
  const [key, flag] = args;
  if (typeof key !== 'string') throw ctx.error('zoneinfo key must be a str');
  return new PyZoneInfo(key, intArg(flag, ctx, 'zoneinfo._unpickle flag') !== 0);
}

function decodeZoneInfo(args: Tuple, ctx: DecodeContext): PyZoneInfo {
  checkArity(args, 1, 1, ctx, 'zoneinfo.ZoneInfo');
  if (typeof args[0] !== 'string') throw ctx.error('zoneinfo key must be a str');
  return new PyZoneInfo(args[0]);
}

// ---------------------------------------------------------------------------------------------
// decimal, fractions, uuid handlers

function decodeDecimal(args: Tuple, ctx: DecodeContext): PyDecimal {
  checkArity(args, 0, 2, ctx, 'decimal.Decimal'); // (value[, context])
  const v = args.length ? args[0] : '0';
  if (typeof v === 'string') return build(ctx, 'decimal.Decimal', () => new PyDecimal(v));
  if (isPyInt(v)) return new PyDecimal(BigInt(v).toString());
  if (v instanceof PyDecimal) return v;
  throw ctx.error('decimal.Decimal argument must be a str or an int');
}

function decodeFraction(args: Tuple, ctx: DecodeContext): PyFraction {
  checkArity(args, 1, 2, ctx, 'fractions.Fraction');
  const [a, b] = args;
  if (args.length === 1 && typeof a === 'string') {
    // Python 2 and early Python 3 pickled str(fraction).
    return build(ctx, 'fractions.Fraction', () => PyFraction.parse(a));
  }
  if (isPyInt(a) && (b === undefined || isPyInt(b))) {
    return build(ctx, 'fractions.Fraction', () => new PyFraction(BigInt(a), BigInt(b ?? 1n)));
  }
  throw ctx.error('fractions.Fraction arguments must be (str) or (int, int)');
}

const uuidHandler: GlobalHandler = {
  // NEWOBJ with () (and copyreg._reconstructor at protocols 0-1): an empty UUID that BUILD fills.
  construct(args, kwargs, ctx) {
    noKwargs(kwargs, ctx, 'uuid.UUID');
    if (args.length === 0) return new PyUUID();
    return uuidHandler.call!(args, ctx);
  },
  call(args, ctx) {
    if (args.length === 0) return new PyUUID();
    checkArity(args, 1, 1, ctx, 'uuid.UUID');
    const v = args[0];
    if (typeof v !== 'string') throw ctx.error('uuid.UUID argument must be a hex str');
    return build(ctx, 'uuid.UUID', () => PyUUID.parse(v));
  },
};

function decodeSafeUUID(args: Tuple, ctx: DecodeContext): PySafeUUID {
  checkArity(args, 1, 1, ctx, 'uuid.SafeUUID');
  const m = PySafeUUID.fromValue(args[0]);
  if (!m) throw ctx.error('uuid.SafeUUID value must be 0, -1 or None');
  return m;
}

// ---------------------------------------------------------------------------------------------
// collections handlers

/** Fill a Map from a dict, or from an iterable of 2-item lists/tuples (Python 2's OrderedDict pickles). */
function fillPairs(target: Map<unknown, unknown>, src: unknown, ctx: DecodeContext, what: string): void {
  if (src === undefined || src === null) return;
  const entries = dictEntries(src);
  if (entries) {
    for (const [k, v] of entries) target.set(k, v);
    return;
  }
  if (Array.isArray(src)) {
    for (const pair of src) {
      if (!Array.isArray(pair) || pair.length !== 2) throw ctx.error(`${what} items must be key/value pairs`);
      target.set(pair[0], pair[1]);
    }
    return;
  }
  throw ctx.error(`${what} argument must be a dict or a list of pairs`);
}

function decodeOrderedDict(args: Tuple, ctx: DecodeContext): OrderedDict {
  checkArity(args, 0, 1, ctx, 'collections.OrderedDict');
  const d = new OrderedDict();
  fillPairs(d, args[0], ctx, 'collections.OrderedDict');
  return d;
}

function decodeDefaultDict(args: Tuple, ctx: DecodeContext): DefaultDict {
  checkArity(args, 0, 2, ctx, 'collections.defaultdict');
  const d = new DefaultDict(args[0] ?? null);
  fillPairs(d, args[1], ctx, 'collections.defaultdict');
  return d;
}

function decodeCounter(args: Tuple, ctx: DecodeContext): Counter {
  checkArity(args, 0, 1, ctx, 'collections.Counter');
  const c = new Counter();
  const src = args[0];
  if (src === undefined || src === null) return c;
  const entries = dictEntries(src);
  if (entries) {
    for (const [k, v] of entries) c.set(k, v);
  } else if (Array.isArray(src) || typeof src === 'string') {
    // Counter(iterable) counts the elements (CPython pickles a dict; other writers may not).
    const one = ctx.lossless ? 1n : 1;
    for (const item of src) {
      const prev = c.get(item);
      c.set(item, prev === undefined ? one : typeof prev === 'bigint' ? prev + 1n : (prev as number) + 1);
    }
  } else {
    throw ctx.error('collections.Counter argument must be a dict or a list');
  }
  return c;
}

function decodeDeque(args: Tuple, ctx: DecodeContext): Deque {
  checkArity(args, 0, 2, ctx, 'collections.deque');
  const [items, maxlen] = args;
  if (items !== undefined && !Array.isArray(items))
    throw ctx.error('collections.deque items must be a list or tuple');
  let max: number | null = null;
  if (maxlen !== undefined && maxlen !== null) {
    max = intArg(maxlen, ctx, 'collections.deque maxlen');
    if (max < 0) throw ctx.error('maxlen must be non-negative');
  }
  return Deque.from_(items ?? [], max);
}

// ---------------------------------------------------------------------------------------------
// pytz time zones (third-party, but the usual tzinfo in pickles written before zoneinfo existed)

/**
 * A `pytz` tzinfo, kept as the call that rebuilds it: `pytz._UTC()`, `pytz.FixedOffset(minutes)`,
 * `pytz._p(zone)` (a zone with one fixed offset) or `pytz._p(zone, utcoffset, dst, tzname)` (one
 * offset variant of a zone with DST: a pytz-localized datetime carries the variant in force).
 */
export class PyPytzTimezone {
  /** The IANA zone name (`UTC` for pytz.utc), or null for a FixedOffset. */
  readonly zone: string | null;
  /** The fixed UTC offset in seconds; null for a `_p(zone)` zone (looked up from the runtime's tz data). */
  readonly offsetSeconds: number | null;
  /** DST part of the offset in seconds (DST variants only). */
  readonly dstSeconds: number | null;
  /** Abbreviation such as `CEST` (DST variants only). */
  readonly tzname: string | null;

  /** @param func `_UTC`, `FixedOffset` or `_p`; @param args its pickled arguments (ints as number or bigint). */
  constructor(
    readonly func: '_UTC' | 'FixedOffset' | '_p',
    readonly args: readonly unknown[],
  ) {
    const num = (v: unknown): number => {
      if (typeof v === 'bigint' && v >= -MAX_EXACT && v <= MAX_EXACT) return Number(v);
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      throw new RangeError('pytz offsets must be integers');
    };
    if (func === '_UTC') {
      if (args.length !== 0) throw new RangeError('pytz._UTC takes no arguments');
      [this.zone, this.offsetSeconds, this.dstSeconds, this.tzname] = ['UTC', 0, null, null];
    } else if (func === 'FixedOffset') {
      if (args.length !== 1) throw new RangeError('pytz.FixedOffset takes 1 argument');
      const minutes = num(args[0]);
      if (Math.abs(minutes) >= 1440) throw new RangeError('absolute offset is too large');
      [this.zone, this.offsetSeconds, this.dstSeconds, this.tzname] = [null, minutes * 60, null, null];
    } else {
      const [zone, off, dst, name] = args;
      if (typeof zone !== 'string') throw new RangeError('pytz zone must be a str');
      if (args.length === 1) {
        [this.zone, this.offsetSeconds, this.dstSeconds, this.tzname] = [zone, null, null, null];
      } else if (args.length === 4 && typeof name === 'string') {
        [this.zone, this.offsetSeconds, this.dstSeconds, this.tzname] = [zone, num(off), num(dst), name];
      } else {
        throw new RangeError('pytz._p takes (zone) or (zone, utcoffset, dst, tzname)');
      }
    }
    Object.freeze(this);
  }

  /**
   * As pytz's `utcoffset(dt)` for a datetime carrying this tzinfo: the pickled offset; for a DST
   * variant and no datetime (a `time`), null, as pytz; for `_p(zone)`, from the runtime's tz data.
   */
  utcoffset(dt: PyDateTime | null): PyTimedelta | null | undefined {
    if (this.func === '_p' && this.dstSeconds !== null) {
      return dt === null ? null : new PyTimedelta(0, this.offsetSeconds ?? 0);
    }
    if (this.offsetSeconds !== null) return new PyTimedelta(0, this.offsetSeconds);
    // A pytz StaticTzInfo has one offset at all times: ask at the datetime, or any fixed instant.
    return new PyZoneInfo(this.zone as string).utcoffset(dt ?? new PyDateTime(2000, 1, 1));
  }

  toString(): string {
    return this.zone ?? `pytz.FixedOffset(${(this.offsetSeconds ?? 0) / 60})`;
  }
}

function pytzHandler(func: '_UTC' | 'FixedOffset' | '_p'): GlobalHandler {
  return callable(
    (args, ctx) => build(ctx, `pytz.${func}`, () => new PyPytzTimezone(func, [...args])),
    `pytz.${func}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Registration

/**
 * Register the stdlib handlers into `registry` (and return it). Python 2 names reach here already
 * mapped to Python 3 names by the decoder.
 */
const STDLIB_GLOBALS = handlerTable((register) => {
  register('datetime.datetime', callable(decodeDateTime, 'datetime.datetime'));
  register('datetime.date', callable(decodeDate, 'datetime.date'));
  register('datetime.time', callable(decodeTime, 'datetime.time'));
  register('datetime.timedelta', callable(decodeTimedelta, 'datetime.timedelta'));
  register('datetime.timezone', callable(decodeTimezone, 'datetime.timezone'));
  register('datetime.timezone.utc', { reference: () => PyTimezone.utc });
  // Python pickles ZoneInfo as getattr(zoneinfo.ZoneInfo, '_unpickle')(key, flag); the decoder
  // resolves that getattr to this dotted name.
  register(
    ['zoneinfo.ZoneInfo._unpickle', 'backports.zoneinfo.ZoneInfo._unpickle'],
    callable(decodeZoneInfoUnpickle, 'zoneinfo.ZoneInfo._unpickle'),
  );
  register(
    ['zoneinfo.ZoneInfo', 'zoneinfo.ZoneInfo.no_cache'],
    callable(decodeZoneInfo, 'zoneinfo.ZoneInfo'),
  );
  register('decimal.Decimal', callable(decodeDecimal, 'decimal.Decimal'));
  register('fractions.Fraction', callable(decodeFraction, 'fractions.Fraction'));
  register('uuid.UUID', uuidHandler);
  // Python 3.4-3.10 pickle enum members as SafeUUID(value); 3.11+ as getattr(SafeUUID, name).
  register('uuid.SafeUUID', callable(decodeSafeUUID, 'uuid.SafeUUID'));
  for (const name of ['safe', 'unsafe', 'unknown'] as const) {
    register(`uuid.SafeUUID.${name}`, { reference: () => PySafeUUID[name] });
  }
  register('collections.OrderedDict', callable(decodeOrderedDict, 'collections.OrderedDict'));
  register('collections.defaultdict', callable(decodeDefaultDict, 'collections.defaultdict'));
  register('collections.Counter', callable(decodeCounter, 'collections.Counter'));
  register('collections.deque', callable(decodeDeque, 'collections.deque'));
  for (const func of ['_UTC', 'FixedOffset', '_p'] as const) register(`pytz.${func}`, pytzHandler(func));
});

// ---------------------------------------------------------------------------------------------
// Encoder table

/**
 * How CPython (3.8-3.13) pickles one stdlib value: the callable `module.name` (or, with `attr`,
 * `getattr(module.name, attr)`, which CPython writes as `builtins.getattr` REDUCE of
 * `(global, attr)`), its arguments, and what follows the REDUCE/NEWOBJ. Python ints in `args` and
 * `state` are bigints, bytes are Uint8Array, tuples are `Tuple`, dicts are Map.
 */
export interface StdlibReduction {
  module: string;
  name: string;
  /** When set, the callable is `getattr(module.name, attr)`, not `module.name` itself. */
  attr?: string;
  args: unknown[];
  /** BUILD state, emitted after the listitems/dictitems, when defined. */
  state?: unknown;
  /** 'newobj': `cls () NEWOBJ` at protocol >= 2; `copyreg._reconstructor(cls, object, None)` REDUCE at 0-1. */
  kind: 'reduce' | 'newobj';
  /** SETITEM(S) after the object (CPython batches these like an iterator: a batch of one uses SETITEM). */
  dictitems?: Iterable<[unknown, unknown]>;
  /** APPEND(S) after the object (same batching as dictitems). */
  listitems?: Iterable<unknown>;
}

function be3(n: number): [number, number, number] {
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/**
 * How CPython pickles `value` if it is one of this family's classes; undefined otherwise.
 * `protocol` matters for one detail: datetime/time `fold=1` is written only at protocol >= 4
 * (CPython drops it below, so the value loads back with fold=0).
 *
 * Verified against `pickle.dumps(v, 4)` + pickletools (CPython 3.11):
 * - datetime  → REDUCE datetime.datetime (bytes10[, tzinfo]); date → (bytes4,); time → (bytes6[, tzinfo])
 * - timedelta → REDUCE datetime.timedelta (days, seconds, microseconds)
 * - timezone  → REDUCE datetime.timezone (timedelta[, name]); utc is (timedelta(0),)
 * - ZoneInfo  → REDUCE getattr(zoneinfo.ZoneInfo, '_unpickle') (key, 1) (0 for no_cache zones)
 * - Decimal   → REDUCE decimal.Decimal (str,)
 * - Fraction  → REDUCE fractions.Fraction (numerator, denominator)
 * - UUID      → NEWOBJ uuid.UUID () + BUILD {'int': N[, 'is_safe': 0|-1]}
 * - SafeUUID  → REDUCE builtins.getattr (uuid.SafeUUID, name)   (3.11+ enum form)
 * - pytz      → REDUCE pytz._UTC () | pytz.FixedOffset (minutes,) | pytz._p (zone[, utcoffset, dst, tzname])
 * - OrderedDict → REDUCE collections.OrderedDict () + dictitems [+ BUILD attrs dict]
 * - defaultdict → REDUCE collections.defaultdict (factory,) or () for None + dictitems
 * - Counter   → REDUCE collections.Counter ({…},)  (a plain dict of the counts; no items after)
 * - deque     → REDUCE collections.deque () or ((), maxlen) + listitems
 */
export function stdlibReduce(value: unknown, protocol = 4): StdlibReduction | undefined {
  const fold = protocol >= 4;
  if (value instanceof PyDateTime) {
    const bytes = new Uint8Array([
      value.year >> 8,
      value.year & 0xff,
      value.month | (fold && value.fold ? 0x80 : 0),
      value.day,
      value.hour,
      value.minute,
      value.second,
      ...be3(value.microsecond),
    ]);
    return {
      module: 'datetime',
      name: 'datetime',
      args: value.tzinfo === null ? [bytes] : [bytes, value.tzinfo],
      kind: 'reduce',
    };
  }
  if (value instanceof PyDate) {
    const bytes = new Uint8Array([value.year >> 8, value.year & 0xff, value.month, value.day]);
    return { module: 'datetime', name: 'date', args: [bytes], kind: 'reduce' };
  }
  if (value instanceof PyTime) {
    const bytes = new Uint8Array([
      value.hour | (fold && value.fold ? 0x80 : 0),
      value.minute,
      value.second,
      ...be3(value.microsecond),
    ]);
    return {
      module: 'datetime',
      name: 'time',
      args: value.tzinfo === null ? [bytes] : [bytes, value.tzinfo],
      kind: 'reduce',
    };
  }
  if (value instanceof PyTimedelta) {
    return {
      module: 'datetime',
      name: 'timedelta',
      args: [BigInt(value.days), BigInt(value.seconds), BigInt(value.microseconds)],
      kind: 'reduce',
    };
  }
  if (value instanceof PyTimezone) {
    return {
      module: 'datetime',
      name: 'timezone',
      args: value.name === null ? [value.offset] : [value.offset, value.name],
      kind: 'reduce',
    };
  }
  if (value instanceof PyZoneInfo) {
    return {
      module: 'zoneinfo',
      name: 'ZoneInfo',
      attr: '_unpickle',
      args: [value.key, value.fromCache ? 1n : 0n],
      kind: 'reduce',
    };
  }
  if (value instanceof PyDecimal) {
    return { module: 'decimal', name: 'Decimal', args: [value.value], kind: 'reduce' };
  }
  if (value instanceof PyFraction) {
    return {
      module: 'fractions',
      name: 'Fraction',
      args: [value.numerator, value.denominator],
      kind: 'reduce',
    };
  }
  if (value instanceof PyUUID) {
    const state = new Map<unknown, unknown>([['int', value.int]]);
    if (value.isSafe.value !== null) state.set('is_safe', BigInt(value.isSafe.value));
    return { module: 'uuid', name: 'UUID', args: [], state, kind: 'newobj' };
  }
  if (value instanceof PyPytzTimezone) {
    // Python ints travel as bigint (a JS number would be written as a float).
    const args = value.args.map((a) => (typeof a === 'number' ? BigInt(a) : a));
    return { module: 'pytz', name: value.func, args, kind: 'reduce' };
  }
  if (value instanceof PySafeUUID) {
    return {
      module: 'builtins',
      name: 'getattr',
      args: [new PyGlobal('uuid', 'SafeUUID'), value.name],
      kind: 'reduce',
    };
  }
  if (value instanceof OrderedDict) {
    const out: StdlibReduction = {
      module: 'collections',
      name: 'OrderedDict',
      args: [],
      kind: 'reduce',
      dictitems: value.entries(),
    };
    if (hasState(value)) out.state = value.__state__;
    return out;
  }
  if (value instanceof DefaultDict) {
    return {
      module: 'collections',
      name: 'defaultdict',
      args: value.defaultFactory === null || value.defaultFactory === undefined ? [] : [value.defaultFactory],
      kind: 'reduce',
      dictitems: value.entries(),
    };
  }
  if (value instanceof Counter) {
    return {
      module: 'collections',
      name: 'Counter',
      args: [new Map(value)],
      kind: 'reduce',
    };
  }
  if (value instanceof Deque) {
    const out: StdlibReduction = {
      module: 'collections',
      name: 'deque',
      args: value.maxlen === null ? [] : [new Tuple(), BigInt(value.maxlen)],
      kind: 'reduce',
      listitems: value.values(),
    };
    if (hasState(value)) out.state = value.__state__;
    return out;
  }
  return undefined;
}

/** Non-empty BUILD state (CPython passes None for an empty instance dict, and then writes no BUILD). */
function hasState(value: { __state__: unknown }): boolean {
  const s = value.__state__;
  if (s === undefined || s === null) return false;
  if (s instanceof Map) return s.size > 0;
  if (isPlainObject(s)) return Object.keys(s).length > 0;
  return true;
}

/** Adapt the stdlib table's shape to the Reduction interface. */
function fromStdlib(r: StdlibReduction): Reduction {
  const base = new PyGlobal(r.module, r.name);
  // `getattr(cls, attr)` callables (bound methods such as ZoneInfo._unpickle): CPython reduces the
  // method to `getattr(cls, name)`, whose name is an interned identifier.
  const callable: PyGlobal | Reduction =
    r.attr === undefined
      ? base
      : { callable: new PyGlobal('builtins', 'getattr'), kind: 'reduce', args: [base, new PyName(r.attr)] };
  let args: readonly unknown[] = r.args;
  if (r.module === 'builtins' && r.name === 'getattr' && typeof args[1] === 'string') {
    // Enum members (uuid.SafeUUID.safe) reduce to getattr(cls, member_name); member names are interned.
    args = [args[0], new PyName(args[1]), ...args.slice(2)];
  }
  const out: { -readonly [K in keyof Reduction]: Reduction[K] } = { callable, kind: r.kind, args };
  if (r.state !== undefined) out.state = r.state;
  if (r.listitems !== undefined) out.listitems = r.listitems;
  if (r.dictitems !== undefined) out.dictitems = r.dictitems;
  return out;
}

/** A JS Date as Python's aware `datetime.datetime` in UTC (millisecond precision). */
function dateAsDateTime(d: Date, fail: (message: string) => Error): PyDateTime {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw fail('an invalid Date cannot be pickled');
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) throw fail(`year ${y} is outside Python's datetime range (1-9999)`);
  return new PyDateTime(
    y,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds() * 1000,
    PyTimezone.utc,
  );
}

const stdlibReducer: Reducer = (value, ctx) => {
  const v = value instanceof Date ? dateAsDateTime(value, (m) => ctx.error(m)) : value;
  const r = stdlibReduce(v, ctx.protocol);
  return r === undefined ? undefined : fromStdlib(r);
};

/**
 * The stdlib family: datetime, zoneinfo and pytz zones, decimal, fractions, uuid and the collections
 * containers, in both directions; a JS `Date` is written as an aware UTC `datetime.datetime`.
 */
export const STDLIB_FAMILY = defineFamily({
  name: 'stdlib',
  globals: STDLIB_GLOBALS,
  reduce: stdlibReducer,
  rules: [{ name: 'datetime.tzinfo', severity: 'safe', reason: 'stdlib value type' }],
});
