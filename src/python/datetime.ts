/**
 * Python's `datetime` and `zoneinfo` values as small immutable JS classes.
 *
 * Field values are plain JS numbers (every datetime field fits). `isoformat()` reproduces Python's
 * `isoformat()` text exactly (microseconds and the UTC offset, with seconds/microseconds in the
 * offset when present); `toDate()` gives a JS `Date`, which holds milliseconds only, so the last
 * three microsecond digits are truncated there.
 */

const US_PER_SECOND = 1_000_000n;
const US_PER_DAY = 86_400_000_000n;
const MAX_EXACT = 2n ** 53n;
/** timedelta's limits: |days| <= 999999999. */
const MAX_DAYS = 999_999_999;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Floor division and non-negative remainder for bigints (Python's `divmod`). */
function divmod(a: bigint, b: bigint): [bigint, bigint] {
  let q = a / b;
  let r = a % b;
  if (r !== 0n && r < 0n !== b < 0n) {
    q -= 1n;
    r += b;
  }
  return [q, r];
}

/** Python `datetime.timedelta`, normalized like Python: 0 <= seconds < 86400, 0 <= microseconds < 10**6. */
export class PyTimedelta {
  readonly days: number;
  readonly seconds: number;
  readonly microseconds: number;

  /** Any combination of parts; the result is normalized as Python does. Throws RangeError out of range. */
  constructor(days: number | bigint = 0, seconds: number | bigint = 0, microseconds: number | bigint = 0) {
    const total = BigInt(days) * US_PER_DAY + BigInt(seconds) * US_PER_SECOND + BigInt(microseconds);
    const [d, rest] = divmod(total, US_PER_DAY);
    const [s, us] = divmod(rest, US_PER_SECOND);
    if (d > BigInt(MAX_DAYS) || d < BigInt(-MAX_DAYS)) {
      throw new RangeError(`timedelta days out of range: ${d}`);
    }
    this.days = Number(d);
    this.seconds = Number(s);
    this.microseconds = Number(us);
    Object.freeze(this);
  }

  /** The whole duration in microseconds, exactly. */
  totalMicroseconds(): bigint {
    return BigInt(this.days) * US_PER_DAY + BigInt(this.seconds) * US_PER_SECOND + BigInt(this.microseconds);
  }

  /** Python's `total_seconds()` (a float, like Python's). */
  totalSeconds(): number {
    const us = this.totalMicroseconds();
    // Exact operands give a correctly rounded quotient, as Python's true division does.
    if (us >= -MAX_EXACT && us <= MAX_EXACT) return Number(us) / 1e6;
    const [q, r] = divmod(us, US_PER_SECOND);
    return Number(q) + Number(r) / 1e6;
  }

  /** The duration in whole milliseconds (floored, like Python's `td // timedelta(milliseconds=1)`). */
  toMilliseconds(): number {
    return Number(divmod(this.totalMicroseconds(), 1000n)[0]);
  }

  /** Python's `str(td)`: `-1 day, 23:59:59.000001`. */
  toString(): string {
    const h = Math.floor(this.seconds / 3600);
    const m = Math.floor((this.seconds % 3600) / 60);
    const s = this.seconds % 60;
    let out = `${h}:${pad(m, 2)}:${pad(s, 2)}`;
    if (this.microseconds) out += '.' + pad(this.microseconds, 6);
    if (this.days) out = `${this.days} day${Math.abs(this.days) === 1 ? '' : 's'}, ${out}`;
    return out;
  }

  equals(other: PyTimedelta): boolean {
    return (
      this.days === other.days && this.seconds === other.seconds && this.microseconds === other.microseconds
    );
  }
}

/** `+HH:MM[:SS[.ffffff]]` as Python formats a UTC offset (in isoformat and timezone names). */
function formatOffset(offset: PyTimedelta, sep = ':'): string {
  let us = offset.totalMicroseconds();
  const sign = us < 0n ? '-' : '+';
  if (us < 0n) us = -us;
  const [secs, micro] = divmod(us, US_PER_SECOND);
  const total = Number(secs);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  let out = `${sign}${pad(h, 2)}${sep}${pad(m, 2)}`;
  if (s || micro) {
    out += `${sep}${pad(s, 2)}`;
    if (micro) out += '.' + pad(Number(micro), 6);
  }
  return out;
}

/** Python `datetime.timezone`: a fixed UTC offset with an optional name. */
export class PyTimezone {
  /** `datetime.timezone.utc`. */
  static readonly utc: PyTimezone = new PyTimezone(new PyTimedelta(0), null);

  /** Offset must be strictly between -24h and +24h (Python's rule). */
  constructor(
    readonly offset: PyTimedelta,
    readonly name: string | null = null,
  ) {
    const us = offset.totalMicroseconds();
    if (us <= -US_PER_DAY || us >= US_PER_DAY) {
      throw new RangeError('timezone offset must be strictly between -24h and 24h');
    }
    Object.freeze(this);
  }

  utcoffset(): PyTimedelta {
    return this.offset;
  }

  /** Python's `tzname()`: the name, else `UTC` for a zero offset, else `UTC+05:30`. */
  tzname(): string {
    if (this.name !== null) return this.name;
    if (this.offset.totalMicroseconds() === 0n) return 'UTC';
    return 'UTC' + formatOffset(this.offset);
  }

  toString(): string {
    return this.tzname();
  }
}

// One formatter per zone key: building Intl formatters is the expensive part.
const zoneFormatters = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormatter(key: string): Intl.DateTimeFormat | null {
  let f = zoneFormatters.get(key);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: key,
        calendar: 'gregory', // ECMA-402's gregory is proleptic, matching Python's calendar
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      f = null; // a key the JS runtime's time zone data does not know
    }
    zoneFormatters.set(key, f);
  }
  return f;
}

/** Build a UTC millisecond timestamp from fields, valid for years 0-99 too (Date.UTC maps those to 19xx). */
function utcMs(
  year: number,
  month: number,
  day: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
): number {
  const d = new Date(Date.UTC(2000, month - 1, day, h, mi, s, ms));
  d.setUTCFullYear(year);
  return d.getTime();
}

/** UTC offset of zone `key` at instant `ms`, in whole seconds, from the runtime's time zone data. */
function zoneOffsetAt(key: string, ms: number): number | undefined {
  const f = zoneFormatter(key);
  if (!f) return undefined;
  const at = Math.floor(ms / 1000) * 1000; // offsets are whole seconds; compare whole seconds
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  let year = Number(parts['year']);
  if (parts['era'] === 'BC' || parts['era'] === 'B') year = 1 - year;
  const wall = utcMs(
    year,
    Number(parts['month']),
    Number(parts['day']),
    Number(parts['hour']),
    Number(parts['minute']),
    Number(parts['second']),
    0,
  );
  return Math.round((wall - at) / 1000);
}

/**
 * Python `zoneinfo.ZoneInfo(key)`. Offsets are computed from the JS runtime's time zone data
 * (Intl), which may differ from Python's tzdata for historical dates or recently changed rules.
 */
export class PyZoneInfo {
  /**
   * @param key IANA key, e.g. `Europe/Paris`.
   * @param fromCache Python's pickle flag: true for `ZoneInfo(key)`, false for `ZoneInfo.no_cache(key)`.
   */
  constructor(
    readonly key: string,
    readonly fromCache = true,
  ) {
    Object.freeze(this);
  }

  /**
   * The offset for a wall-clock time (PEP 495 rules: in a repeated hour fold=0 picks the earlier
   * offset, in a skipped hour fold=0 picks the offset before the transition). `null` for a time
   * without a date (as Python's `ZoneInfo.utcoffset(None)`); `undefined` when the runtime does not
   * know this zone.
   */
  utcoffset(dt: PyDateTime | null): PyTimedelta | null | undefined {
    if (dt === null) return null;
    const wall = utcMs(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0);
    const day = 86_400_000;
    const before = zoneOffsetAt(this.key, wall - day);
    const after = zoneOffsetAt(this.key, wall + day);
    if (before === undefined || after === undefined) return undefined;
    let seconds: number | undefined;
    if (before === after) {
      seconds = zoneOffsetAt(this.key, wall - before * 1000);
      // Usual case: no transition near this time. If one sits in between (two within 2 days), fall back to it.
      if (seconds !== before) seconds = pick(this.key, wall, before, seconds ?? before, dt.fold);
    } else {
      seconds = pick(this.key, wall, before, after, dt.fold);
    }
    return new PyTimedelta(0, seconds);
  }

  toString(): string {
    return this.key;
  }
}

/** Choose between the offsets before/after one transition for a wall time (ms, as if UTC). */
function pick(key: string, wall: number, before: number, after: number, fold: number): number {
  const validBefore = zoneOffsetAt(key, wall - before * 1000) === before;
  const validAfter = zoneOffsetAt(key, wall - after * 1000) === after;
  if (validBefore && !validAfter) return before;
  if (validAfter && !validBefore) return after;
  // Both valid: repeated hour; neither: skipped hour. PEP 495: fold selects.
  return fold ? after : before;
}

/** What a datetime's `tzinfo` can be: a known zone, an unrebuilt Python object, or none. */
export type TzInfo = PyTimezone | PyZoneInfo | null | object;

function offsetOf(tz: unknown, dt: PyDateTime | null): PyTimedelta | null | undefined {
  if (tz === null || tz === undefined) return null;
  if (tz instanceof PyTimezone) return tz.utcoffset();
  if (tz instanceof PyZoneInfo) return tz.utcoffset(dt);
  // Unrebuilt tzinfo objects may know their offset (see stdlib.ts, e.g. pytz zones).
  const f = (tz as { utcoffset?: unknown }).utcoffset;
  if (typeof f === 'function') {
    const r: unknown = f.call(tz, dt);
    if (r === null || r instanceof PyTimedelta) return r;
  }
  return undefined;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : (DAYS_IN_MONTH[m] as number);
}

function isInt(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

function checkDate(year: number, month: number, day: number): void {
  if (!isInt(year, 1, 9999)) throw new RangeError(`year ${year} is out of range`);
  if (!isInt(month, 1, 12)) throw new RangeError('month must be in 1..12');
  if (!isInt(day, 1, daysInMonth(year, month))) throw new RangeError('day is out of range for month');
}

function checkTime(hour: number, minute: number, second: number, microsecond: number, fold: number): void {
  if (!isInt(hour, 0, 23)) throw new RangeError('hour must be in 0..23');
  if (!isInt(minute, 0, 59)) throw new RangeError('minute must be in 0..59');
  if (!isInt(second, 0, 59)) throw new RangeError('second must be in 0..59');
  if (!isInt(microsecond, 0, 999_999)) throw new RangeError('microsecond must be in 0..999999');
  if (fold !== 0 && fold !== 1) throw new RangeError('fold must be either 0 or 1');
}

function timePart(h: number, mi: number, s: number, us: number): string {
  let out = `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
  if (us) out += '.' + pad(us, 6);
  return out;
}

/** Python `datetime.date`. */
export class PyDate {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {
    checkDate(year, month, day);
    Object.freeze(this);
  }

  /** `YYYY-MM-DD`, as Python's `isoformat()`. */
  isoformat(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }

  toISOString(): string {
    return this.isoformat();
  }

  /** Midnight UTC of this date. */
  toDate(): Date {
    return new Date(utcMs(this.year, this.month, this.day, 0, 0, 0, 0));
  }

  toString(): string {
    return this.isoformat();
  }

  toJSON(): string {
    return this.isoformat();
  }
}

/** Python `datetime.time`. */
export class PyTime {
  readonly tzinfo: TzInfo;
  constructor(
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
    tzinfo: TzInfo = null,
    readonly fold = 0,
  ) {
    checkTime(hour, minute, second, microsecond, fold);
    this.tzinfo = tzinfo;
    Object.freeze(this);
  }

  /** As Python's `time.utcoffset()`: null when naive (and for ZoneInfo, which needs a date); undefined if unknown. */
  utcoffset(): PyTimedelta | null | undefined {
    return offsetOf(this.tzinfo, null);
  }

  /** `HH:MM:SS[.ffffff][+HH:MM]`, exactly as Python's `isoformat()` (offset omitted when unknown). */
  isoformat(): string {
    const off = this.utcoffset();
    return timePart(this.hour, this.minute, this.second, this.microsecond) + (off ? formatOffset(off) : '');
  }

  toISOString(): string {
    return this.isoformat();
  }

  toString(): string {
    return this.isoformat();
  }

  toJSON(): string {
    return this.isoformat();
  }
}

/** Python `datetime.datetime`. */
export class PyDateTime {
  readonly tzinfo: TzInfo;
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
    tzinfo: TzInfo = null,
    readonly fold = 0,
  ) {
    checkDate(year, month, day);
    checkTime(hour, minute, second, microsecond, fold);
    this.tzinfo = tzinfo;
    Object.freeze(this);
  }

  /**
   * As Python's `utcoffset()`: null when naive; undefined when the tzinfo is an object picklejar
   * cannot evaluate (or a zone the JS runtime does not know).
   */
  utcoffset(): PyTimedelta | null | undefined {
    return offsetOf(this.tzinfo, this);
  }

  /** Exactly Python's `isoformat(sep)`: microseconds only when non-zero, offset when tz-aware. */
  isoformat(sep = 'T'): string {
    const off = this.utcoffset();
    return (
      `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}${sep}` +
      timePart(this.hour, this.minute, this.second, this.microsecond) +
      (off ? formatOffset(off) : '')
    );
  }

  /** Python's `isoformat()` (not JS's `Date#toISOString` format: the offset is kept, not converted to Z). */
  toISOString(): string {
    return this.isoformat();
  }

  /**
   * The instant as a JS Date. Microseconds are truncated to milliseconds. A naive datetime is read
   * as UTC. Throws when the tzinfo's offset is unknown (an unrebuilt tzinfo object).
   */
  toDate(): Date {
    const off = this.utcoffset();
    if (off === undefined) throw new Error(`cannot compute the UTC offset of ${this.isoformat()}`);
    // Exact in microseconds, then floored to milliseconds (the instant's ms, as Python's `//`).
    const wallMs = utcMs(this.year, this.month, this.day, this.hour, this.minute, this.second, 0);
    let us = BigInt(wallMs) * 1000n + BigInt(this.microsecond);
    if (off !== null) us -= off.totalMicroseconds();
    return new Date(Number(divmod(us, 1000n)[0]));
  }

  /** The date part. */
  date(): PyDate {
    return new PyDate(this.year, this.month, this.day);
  }

  /** Python's `str(dt)`: isoformat with a space. */
  toString(): string {
    return this.isoformat(' ');
  }

  toJSON(): string {
    return this.isoformat();
  }
}
