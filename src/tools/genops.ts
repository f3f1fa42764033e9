/**
 * Opcode-by-opcode reading of a pickle without building any value: the equivalent of Python's
 * `pickletools.genops`. Argument decoding follows pickletools (and its error messages), so the
 * disassembler can reproduce `python -m pickletools` text; a lenient mode follows what the real
 * unpickler accepts instead, for the scanner.
 */
import { escapeDecode as literalEscapeDecode, hexVal, LiteralError } from '../unpickle/literals.js';
import { UnpicklingError } from '../errors.js';
import { OPCODE_BY_CODE, type ArgKind, type OpcodeInfo } from '../opcodes.js';
import { ByteArray } from '../python/values.js';
import { reprBytes } from './pyrepr.js';

/** One decoded opcode. */
export interface GenOp {
  readonly op: OpcodeInfo;
  /**
   * The decoded argument (undefined for opcodes without one): number for fixed-size ints
   * (uint8 becomes a bigint past 2^53), bigint for LONG/LONG1/LONG4, number | bigint | boolean for
   * INT-style text (`00`/`01` are False/True), number for floats, string for every text kind
   * (`GLOBAL`/`INST` give `'module name'`), Uint8Array (a view into the input) for bytes and a
   * ByteArray view for BYTEARRAY8.
   */
  readonly arg: unknown;
  /** Offset of the opcode byte. */
  readonly pos: number;
  /** Offset just past the argument. */
  readonly end: number;
  /**
   * For str arguments holding surrogate code points only: Python's exact code points (a JS string
   * cannot tell two lone surrogates from the astral character they would pair into).
   */
  readonly codePoints?: readonly number[];
}

export interface ReadOptions {
  /**
   * `false` (default): decode arguments exactly as pickletools does, raising its errors.
   * `true`: decode as the C unpickler reads them (GLOBAL lines are raw UTF-8, STRING falls back to
   * Latin-1) and never fail on the content of a text argument (undecodable numbers become null,
   * bad UTF-8 becomes U+FFFD); structural problems (truncation, unknown opcodes) still throw.
   */
  readonly lenient?: boolean;
}

/** Error raised while decoding an argument; carries pickletools' message. */
class ArgError extends Error {}

const MAX_SSIZE = (1n << 63n) - 1n;

interface Cursor {
  readonly data: Uint8Array;
  pos: number;
  codePoints?: number[];
}

function need(c: Cursor, n: number, what: string): void {
  if (c.data.length - c.pos < n) throw new ArgError(`not enough data in stream to read ${what}`);
}

function readUint1(c: Cursor): number {
  need(c, 1, 'uint1');
  return c.data[c.pos++] as number;
}

function readUint2(c: Cursor): number {
  need(c, 2, 'uint2');
  const d = c.data;
  const v = (d[c.pos] as number) | ((d[c.pos + 1] as number) << 8);
  c.pos += 2;
  return v;
}

function readUint4(c: Cursor, what = 'uint4'): number {
  need(c, 4, what);
  const d = c.data;
  const p = c.pos;
  const v =
    ((d[p] as number) | ((d[p + 1] as number) << 8) | ((d[p + 2] as number) << 16)) +
    (d[p + 3] as number) * 0x1000000;
  c.pos += 4;
  return v;
}

function readInt4(c: Cursor): number {
  need(c, 4, 'int4');
  const d = c.data;
  const p = c.pos;
  const v =
    (d[p] as number) |
    ((d[p + 1] as number) << 8) |
    ((d[p + 2] as number) << 16) |
    ((d[p + 3] as number) << 24);
  c.pos += 4;
  return v;
}

function readUint8Big(c: Cursor): bigint {
  need(c, 8, 'uint8');
  const lo = BigInt(readUint4(c));
  const hi = BigInt(readUint4(c));
  return (hi << 32n) | lo;
}

function smallest(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Check that `n` payload bytes remain (before touching them) and return a view of them.
 * `kind` names the argument kind in pickletools' message.
 */
function takeCounted(c: Cursor, n: number | bigint, kind: string): Uint8Array {
  const remain = c.data.length - c.pos;
  if (typeof n === 'bigint' || n > remain) {
    throw new ArgError(`expected ${n} bytes in a ${kind}, but only ${remain} remain`);
  }
  const view = c.data.subarray(c.pos, c.pos + n);
  c.pos += n;
  return view;
}

/** The 8-byte count of a *8 kind, with pickletools' sys.maxsize check. */
function count8(c: Cursor, kind: string): number | bigint {
  const n = readUint8Big(c);
  if (n > MAX_SSIZE) throw new ArgError(`${kind} byte count > sys.maxsize: ${n}`);
  return smallest(n);
}

/** The bytes of one line, without its newline; pickletools' message names `kind`. */
function readLine(c: Cursor, kind: string): Uint8Array {
  const d = c.data;
  const nl = d.indexOf(0x0a, c.pos);
  if (nl < 0) throw new ArgError(`no newline found when trying to read ${kind}`);
  const line = d.subarray(c.pos, nl);
  c.pos = nl + 1;
  return line;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 8192)));
  }
  return s;
}

function asciiStrict(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) {
    const x = b[i] as number;
    if (x >= 0x80) {
      throw new ArgError(
        `'ascii' codec can't decode byte 0x${x.toString(16).padStart(2, '0')} in position ${i}: ordinal not in range(128)`,
      );
    }
  }
  return latin1(b);
}

/** `codecs.escape_decode` (the unpickler's), with pickletools' error type. */
function escapeDecode(src: Uint8Array): Uint8Array {
  try {
    return literalEscapeDecode(src);
  } catch (e) {
    if (e instanceof LiteralError) throw new ArgError(e.message);
    throw e;
  }
}

function utf8Error(src: Uint8Array, start: number, end: number, reason: string): ArgError {
  if (end - start === 1) {
    const b = (src[start] as number).toString(16).padStart(2, '0');
    return new ArgError(`'utf-8' codec can't decode byte 0x${b} in position ${start}: ${reason}`);
  }
  return new ArgError(`'utf-8' codec can't decode bytes in position ${start}-${end - 1}: ${reason}`);
}

const isCont = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;

/**
 * UTF-8 with Python's `surrogatepass` handler (encoded lone surrogates decode to lone surrogates).
 * Errors carry CPython's message and byte range; with `lenient`, each bad sequence becomes U+FFFD.
 */
export function decodeUtf8SurrogatePass(src: Uint8Array, lenient = false): string {
  return fromCodePoints(utf8CodePoints(src, lenient));
}

/** The code points of surrogatepass UTF-8 (encoded surrogates stay separate code points). */
function utf8CodePoints(src: Uint8Array, lenient: boolean): number[] {
  const units: number[] = [];
  const end = src.length;
  let i = 0;
  const fail = (s: number, e: number, reason: string): void => {
    // An encoded surrogate (ED A0..BF 80..BF) is what surrogatepass accepts; strict UTF-8 rejects it.
    const b0 = src[s] as number;
    if (s + 3 <= end && (b0 & 0xf0) === 0xe0 && isCont(src[s + 1]) && isCont(src[s + 2])) {
      const cp =
        ((b0 & 0x0f) << 12) | (((src[s + 1] as number) & 0x3f) << 6) | ((src[s + 2] as number) & 0x3f);
      if (cp >= 0xd800 && cp <= 0xdfff) {
        units.push(cp);
        i = s + 3;
        return;
      }
    }
    if (!lenient) throw utf8Error(src, s, e, reason);
    units.push(0xfffd);
    i = e;
  };
  while (i < end) {
    const b0 = src[i] as number;
    if (b0 < 0x80) {
      units.push(b0);
      i++;
    } else if (b0 < 0xc2) {
      fail(i, i + 1, 'invalid start byte');
    } else if (b0 < 0xe0) {
      if (end - i < 2) fail(i, end, 'unexpected end of data');
      else if (!isCont(src[i + 1])) fail(i, i + 1, 'invalid continuation byte');
      else {
        units.push(((b0 & 0x1f) << 6) | ((src[i + 1] as number) & 0x3f));
        i += 2;
      }
    } else if (b0 < 0xf0) {
      const b1 = src[i + 1];
      const badSecond = (b: number): boolean => !isCont(b) || (b < 0xa0 ? b0 === 0xe0 : b0 === 0xed);
      if (end - i < 3) {
        if (end - i >= 2 && badSecond(b1 as number)) fail(i, i + 1, 'invalid continuation byte');
        else fail(i, end, 'unexpected end of data');
      } else if (badSecond(b1 as number)) fail(i, i + 1, 'invalid continuation byte');
      else if (!isCont(src[i + 2])) fail(i, i + 2, 'invalid continuation byte');
      else {
        units.push(((b0 & 0x0f) << 12) | (((b1 as number) & 0x3f) << 6) | ((src[i + 2] as number) & 0x3f));
        i += 3;
      }
    } else if (b0 < 0xf5) {
      const b1 = src[i + 1];
      const badSecond = (b: number): boolean => !isCont(b) || (b < 0x90 ? b0 === 0xf0 : b0 === 0xf4);
      if (end - i < 4) {
        if (end - i >= 2 && badSecond(b1 as number)) fail(i, i + 1, 'invalid continuation byte');
        else if (end - i >= 3 && !isCont(src[i + 2])) fail(i, i + 2, 'invalid continuation byte');
        else fail(i, end, 'unexpected end of data');
      } else if (badSecond(b1 as number)) fail(i, i + 1, 'invalid continuation byte');
      else if (!isCont(src[i + 2])) fail(i, i + 2, 'invalid continuation byte');
      else if (!isCont(src[i + 3])) fail(i, i + 3, 'invalid continuation byte');
      else {
        const cp =
          ((b0 & 0x07) << 18) |
          (((b1 as number) & 0x3f) << 12) |
          (((src[i + 2] as number) & 0x3f) << 6) |
          ((src[i + 3] as number) & 0x3f);
        units.push(cp);
        i += 4;
      }
    } else {
      fail(i, i + 1, 'invalid start byte');
    }
  }
  return units;
}

/** Python's `raw-unicode-escape` decoding (Latin-1 except `\uXXXX`/`\UXXXXXXXX` after an odd backslash run). */
function rawUnicodeEscapeCodePoints(src: Uint8Array, lenient: boolean): number[] {
  const units: number[] = [];
  let i = 0;
  const err = (start: number, end: number, reason: string): ArgError =>
    new ArgError(`'rawunicodeescape' codec can't decode bytes in position ${start}-${end - 1}: ${reason}`);
  while (i < src.length) {
    const c = src[i] as number;
    if (c !== 0x5c) {
      units.push(c);
      i++;
      continue;
    }
    const run = i;
    while (i < src.length && src[i] === 0x5c) {
      units.push(0x5c);
      i++;
    }
    if (((i - run) & 1) === 0 || i >= src.length || (src[i] !== 0x75 && src[i] !== 0x55)) continue;
    const escStart = i - 1;
    units.pop();
    const wide = src[i] === 0x55;
    let count = wide ? 8 : 4;
    const reason = wide ? 'truncated \\UXXXXXXXX escape' : 'truncated \\uXXXX escape';
    i++;
    let cp = 0;
    let ok = true;
    for (; count > 0; count--, i++) {
      const h = i < src.length ? hexVal(src[i] as number) : -1;
      if (h < 0) {
        if (!lenient) throw err(escStart, i, reason);
        ok = false;
        break;
      }
      cp = cp * 16 + h;
    }
    if (ok && cp > 0x10ffff) {
      if (!lenient) throw err(escStart, i, '\\Uxxxxxxxx out of range');
      ok = false;
    }
    units.push(ok ? cp : 0xfffd);
  }
  return units;
}

/** A JS string from code points (lone surrogates kept). */
function fromCodePoints(cps: readonly number[]): string {
  let out = '';
  for (let k = 0; k < cps.length; k += 8192) out += String.fromCodePoint(...cps.slice(k, k + 8192));
  return out;
}

function hasSurrogate(cps: readonly number[]): boolean {
  for (const cp of cps) if (cp >= 0xd800 && cp <= 0xdfff) return true;
  return false;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A UTF-8 str argument: well-formed UTF-8 (no encoded surrogates) takes the native decoder. */
function utf8Arg(c: Cursor, bytes: Uint8Array, lenient: boolean): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return textArg(c, utf8CodePoints(bytes, lenient));
  }
}

/**
 * A str argument. When it holds surrogate code points, Python may have two lone surrogates where a
 * JS string can only show a pair (one astral character), so the exact code points are kept aside.
 */
function textArg(c: Cursor, cps: number[]): string {
  if (hasSurrogate(cps)) c.codePoints = cps;
  return fromCodePoints(cps);
}

/** Python's bytes whitespace (what int()/float() strip). */
const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

function stripSpace(b: Uint8Array): string {
  let s = 0;
  let e = b.length;
  while (s < e && isSpace(b[s] as number)) s++;
  while (e > s && isSpace(b[e - 1] as number)) e--;
  return latin1(b.subarray(s, e));
}

const INT_RE = /^[+-]?\d+(?:_\d+)*$/;
const FLOAT_RE = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const FLOAT_SPECIAL = /^([+-]?)(?:(inf|infinity)|(nan))$/i;
const INT_MAX_STR_DIGITS = 4300;

/** Python `int(line)` for a bytes line, with Python's error text. */
function pyInt(line: Uint8Array): bigint {
  const t = stripSpace(line);
  if (!INT_RE.test(t)) {
    throw new ArgError(`invalid literal for int() with base 10: ${reprBytes(line).slice(0, 200)}`);
  }
  const clean = t.replace(/_/g, '');
  const digits = clean.length - (clean[0] === '+' || clean[0] === '-' ? 1 : 0);
  if (digits > INT_MAX_STR_DIGITS) {
    throw new ArgError(
      `Exceeds the limit (${INT_MAX_STR_DIGITS} digits) for integer string conversion: value has ${digits} digits; ` +
        'use sys.set_int_max_str_digits() to increase the limit',
    );
  }
  return BigInt(clean);
}

/** Python `float(line)` for a bytes line. */
function pyFloat(line: Uint8Array): number {
  const t = stripSpace(line);
  const special = FLOAT_SPECIAL.exec(t);
  if (special) {
    if (special[3] !== undefined) return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!FLOAT_RE.test(t)) throw new ArgError(`could not convert string to float: ${reprBytes(line)}`);
  return Number(t.replace(/_/g, ''));
}

/** Two's-complement little-endian integer (pickle.decode_long). */
function decodeLong(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += (b[i] as number).toString(16).padStart(2, '0');
  let v = BigInt('0x' + hex);
  if (((b[b.length - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
  return v;
}

/** read_stringnl with pickletools' quote handling (decode: escapes + ASCII). */
function readStringnl(c: Cursor, kind: string, stripQuotes: boolean, lenient: boolean): string {
  let data = readLine(c, kind);
  if (stripQuotes) {
    let quoted = false;
    for (const q of [0x22, 0x27]) {
      if (data[0] === q) {
        if (data[data.length - 1] !== q) {
          if (lenient) return latin1(data);
          const qr = q === 0x22 ? `b'"'` : `b"'"`;
          throw new ArgError(`strinq quote ${qr} not found at both ends of ${reprBytes(data)}`);
        }
        data = data.subarray(1, data.length - 1);
        quoted = true;
        break;
      }
    }
    if (!quoted) {
      if (lenient) return latin1(data);
      throw new ArgError(`no string quotes around ${reprBytes(data)}`);
    }
  }
  if (!lenient) return asciiStrict(escapeDecode(data));
  try {
    return latin1(escapeDecode(data));
  } catch {
    return latin1(data);
  }
}

function lenientNumber<T>(f: () => T): T | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof ArgError) return null;
    throw e;
  }
}

function readArg(kind: ArgKind, c: Cursor, lenient: boolean): unknown {
  switch (kind) {
    case 'none':
      return undefined;
    case 'uint1':
      return readUint1(c);
    case 'uint2':
      return readUint2(c);
    case 'uint4':
      return readUint4(c);
    case 'int4':
      return readInt4(c);
    case 'uint8':
      return smallest(readUint8Big(c));
    case 'float8': {
      need(c, 8, 'float8');
      const v = new DataView(c.data.buffer, c.data.byteOffset + c.pos, 8).getFloat64(0, false);
      c.pos += 8;
      return v;
    }
    case 'long1': {
      const n = readUint1(c);
      if (c.data.length - c.pos < n) throw new ArgError('not enough data in stream to read long1');
      return decodeLong(takeCounted(c, n, 'long1'));
    }
    case 'long4': {
      const n = readInt4(c);
      if (n < 0) throw new ArgError(`long4 byte count < 0: ${n}`);
      if (c.data.length - c.pos < n) throw new ArgError('not enough data in stream to read long4');
      return decodeLong(takeCounted(c, n, 'long4'));
    }
    case 'string1':
      return latin1(takeCounted(c, readUint1(c), 'string1'));
    case 'string4': {
      const n = readInt4(c);
      if (n < 0) throw new ArgError(`string4 byte count < 0: ${n}`);
      return latin1(takeCounted(c, n, 'string4'));
    }
    case 'bytes1':
      return takeCounted(c, readUint1(c), 'bytes1');
    case 'bytes4':
      return takeCounted(c, readUint4(c), 'bytes4');
    case 'bytes8':
      return takeCounted(c, count8(c, 'bytes8'), 'bytes8');
    case 'bytearray8': {
      const view = takeCounted(c, count8(c, 'bytearray8'), 'bytearray8');
      return new ByteArray(view.buffer as ArrayBuffer, view.byteOffset, view.length);
    }
    case 'unicodestring1':
      return utf8Arg(c, takeCounted(c, readUint1(c), 'unicodestring1'), lenient);
    case 'unicodestring4':
      return utf8Arg(c, takeCounted(c, readUint4(c), 'unicodestring4'), lenient);
    case 'unicodestring8':
      return utf8Arg(c, takeCounted(c, count8(c, 'unicodestring8'), 'unicodestring8'), lenient);
    case 'decimalnl_short': {
      const line = readLine(c, 'stringnl');
      if (line.length === 2 && line[0] === 0x30 && (line[1] === 0x30 || line[1] === 0x31))
        return line[1] === 0x31;
      return lenient ? lenientNumber(() => smallest(pyInt(line))) : smallest(pyInt(line));
    }
    case 'decimalnl_long': {
      let line = readLine(c, 'stringnl');
      if (line[line.length - 1] === 0x4c) line = line.subarray(0, line.length - 1);
      return lenient ? lenientNumber(() => pyInt(line)) : pyInt(line);
    }
    case 'floatnl': {
      const line = readLine(c, 'stringnl');
      return lenient ? lenientNumber(() => pyFloat(line)) : pyFloat(line);
    }
    case 'stringnl':
      return readStringnl(c, 'stringnl', true, lenient);
    case 'stringnl_noescape':
      // The C unpickler takes these lines as raw UTF-8; pickletools runs them through escape_decode.
      return lenient
        ? decodeUtf8SurrogatePass(readLine(c, 'stringnl'), true)
        : readStringnl(c, 'stringnl', false, false);
    case 'stringnl_noescape_pair': {
      if (lenient) {
        const a = decodeUtf8SurrogatePass(readLine(c, 'stringnl'), true);
        return `${a} ${decodeUtf8SurrogatePass(readLine(c, 'stringnl'), true)}`;
      }
      const a = readStringnl(c, 'stringnl', false, false);
      return `${a} ${readStringnl(c, 'stringnl', false, false)}`;
    }
    case 'unicodestringnl':
      return textArg(c, rawUnicodeEscapeCodePoints(readLine(c, 'unicodestringnl'), lenient));
  }
}

/**
 * Read the opcode at `pos`. Throws UnpicklingError (with pickletools' message) when the byte is not
 * an opcode, the data ends, or the argument is malformed.
 */
export function readOp(data: Uint8Array, pos: number, options: ReadOptions = {}): GenOp {
  if (pos >= data.length) throw new UnpicklingError('pickle exhausted before seeing STOP', pos);
  const code = data[pos] as number;
  const op = OPCODE_BY_CODE[code];
  if (op === undefined) {
    throw new UnpicklingError(
      `at position ${pos}, opcode ${reprBytes(data.subarray(pos, pos + 1))} unknown`,
      pos,
    );
  }
  const c: Cursor = { data, pos: pos + 1 };
  let arg: unknown;
  try {
    arg = readArg(op.arg, c, options.lenient === true);
  } catch (e) {
    if (e instanceof ArgError) throw new UnpicklingError(e.message, pos, op.name);
    throw e;
  }
  return c.codePoints ? { op, arg, pos, end: c.pos, codePoints: c.codePoints } : { op, arg, pos, end: c.pos };
}

/**
 * Every opcode of the pickle that starts at `start`, through its STOP (pickletools.genops).
 * Throws UnpicklingError for bytes that are not a pickle, including running out before STOP.
 * @example
 * for (const { op, arg, pos } of genops(bytes)) console.log(pos, op.name, arg);
 */
export function* genops(
  data: Uint8Array,
  start = 0,
  options: ReadOptions = {},
): Generator<GenOp, void, undefined> {
  let pos = start;
  for (;;) {
    const item = readOp(data, pos, options);
    yield item;
    if (item.op.name === 'STOP') return;
    pos = item.end;
  }
}

/** The message UnpicklingError was built with, without the location suffix it appends. */
export function baseMessage(err: UnpicklingError): string {
  const suffix =
    err.offset >= 0
      ? err.opcode
        ? ` (opcode ${err.opcode} at byte ${err.offset})`
        : ` (at byte ${err.offset})`
      : '';
  return suffix && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
}
