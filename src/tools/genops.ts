/**
 * Opcode-by-opcode reading of a pickle without building any value: the equivalent of Python's
 * `pickletools.genops`. Argument decoding follows pickletools (and its error messages), so the
 * disassembler can reproduce `python -m pickletools` text; a lenient mode follows what the real
 * unpickler accepts instead, for the scanner.
 */
import {
  decodeLongBytes,
  escapeDecode,
  fromCodePoints,
  LiteralError,
  parsePyFloat,
  parsePyInt,
  rawUnicodeEscapeCodePoints,
} from '../bytes/literals.js';
import { decodeUtf8SurrogatePass, TextError, utf8CodePoints } from '../bytes/text.js';
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
    if (e instanceof LiteralError) return null;
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
      return decodeLongBytes(takeCounted(c, n, 'long1'));
    }
    case 'long4': {
      const n = readInt4(c);
      if (n < 0) throw new ArgError(`long4 byte count < 0: ${n}`);
      if (c.data.length - c.pos < n) throw new ArgError('not enough data in stream to read long4');
      return decodeLongBytes(takeCounted(c, n, 'long4'));
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
      // pickletools reads int(line); the unpickler (lenient: the scanner's reading) int(line, 0).
      return lenient
        ? lenientNumber(() => smallest(parsePyInt(line, { base: 0 })))
        : smallest(parsePyInt(line, { base: 10 }));
    }
    case 'decimalnl_long': {
      let line = readLine(c, 'stringnl');
      if (line[line.length - 1] === 0x4c) line = line.subarray(0, line.length - 1);
      return lenient ? lenientNumber(() => parsePyInt(line, { base: 0 })) : parsePyInt(line, { base: 10 });
    }
    case 'floatnl': {
      const line = readLine(c, 'stringnl');
      return lenient ? lenientNumber(() => parsePyFloat(line)) : parsePyFloat(line);
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
    // (the literal parsers and the UTF-8 decoder carry Python's messages too)
    if (e instanceof ArgError || e instanceof LiteralError || e instanceof TextError) {
      throw new UnpicklingError(e.message, pos, op.name, 'invalid-value');
    }
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
