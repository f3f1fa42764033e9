/**
 * The one parser of protocol-0 text arguments (INT, LONG, FLOAT, STRING, UNICODE lines) and of the
 * codecs pickles use, following what Python's int(), float(), codecs.escape_decode,
 * raw-unicode-escape and surrogatepass UTF-8 accept. The decoder, the disassembler (pickletools'
 * messages) and the scanner all call these; each failure is a LiteralError carrying Python's own
 * message, so the caller only adds where it happened.
 */

/** CPython's default `sys.int_info.default_max_str_digits`: longer decimal ints are refused. */
const PY_INT_MAX_STR_DIGITS = 4300;

/** A text argument Python would reject; `message` is Python's wording. */
export class LiteralError extends Error {}

/** Python's repr of a bytes line (for messages): b'...' with escapes. */
function reprBytesLine(b: Uint8Array, max = 200): string {
  let s = '';
  for (let i = 0; i < b.length && s.length < max; i++) {
    const c = b[i] as number;
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x27) s += "\\'";
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else if (c < 0x20 || c >= 0x7f) s += `\\x${c.toString(16).padStart(2, '0')}`;
    else s += String.fromCharCode(c);
  }
  return `b'${s}'`;
}

/** Python's bytes whitespace (what int() and float() strip). */
const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** The line without surrounding whitespace, as a Latin-1 string. */
function stripped(line: Uint8Array): string {
  let s = 0;
  let e = line.length;
  while (s < e && isSpace(line[s] as number)) s++;
  while (e > s && isSpace(line[e - 1] as number)) e--;
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(line[i] as number);
  return out;
}

export interface IntOptions {
  /** 10: Python's `int(line)` (what pickletools reads); 0: `int(line, 0)` (what both unpicklers read). */
  readonly base: 0 | 10;
  /** Most decimal digits accepted (default CPython's 4300). */
  readonly maxDigits?: number;
  /** How the digit limit is named in the message: CPython's words, or a picklejar option to raise. */
  readonly limitName?: string;
}

const DECIMAL = /^[+-]?\d+(?:_\d+)*$/;
const PREFIXED = /^([+-]?)0([xXoObB])_?([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)$/;
const ZEROS = /^[+-]?0+(?:_0+)*$/;

function tooManyDigits(digits: number, max: number, limitName: string | undefined): LiteralError {
  return new LiteralError(
    limitName === undefined
      ? `Exceeds the limit (${max} digits) for integer string conversion: value has ${digits} digits; ` +
          'use sys.set_int_max_str_digits() to increase the limit'
      : `integer literal has ${digits} digits, more than ${limitName} (${max}); raise it to allow more`,
  );
}

/**
 * Python's `int(line, base)` for a text line (surrounding whitespace and single underscores allowed;
 * base 0 also takes 0x/0o/0b prefixes and refuses leading zeros).
 * @example
 * parsePyInt(new TextEncoder().encode(' 0x10'), { base: 0 }); // 16n
 */
export function parsePyInt(line: Uint8Array, options: IntOptions): bigint {
  const max = options.maxDigits ?? PY_INT_MAX_STR_DIGITS;
  const t = stripped(line);
  const invalid = (): LiteralError =>
    new LiteralError(`invalid literal for int() with base ${options.base}: ${reprBytesLine(line)}`);
  if (options.base === 0) {
    const m = PREFIXED.exec(t);
    if (m) {
      const base = (m[2] as string).toLowerCase();
      const body = (m[3] as string).replace(/_/g, '');
      const valid = base === 'x' ? /^[0-9a-fA-F]+$/ : base === 'o' ? /^[0-7]+$/ : /^[01]+$/;
      if (!valid.test(body)) throw invalid();
      // (power-of-two bases are not limited by CPython; a bound still keeps the BigInt small)
      if (body.length > max * 4) throw tooManyDigits(body.length, max, options.limitName);
      const v = BigInt('0' + base + body);
      return m[1] === '-' ? -v : v;
    }
    if (ZEROS.test(t)) return 0n;
    if (t.replace(/^[+-]/, '').startsWith('0')) throw invalid();
  }
  if (!DECIMAL.test(t)) throw invalid();
  const clean = t.includes('_') ? t.replace(/_/g, '') : t;
  const digits = clean.length - (clean[0] === '+' || clean[0] === '-' ? 1 : 0);
  if (digits > max) throw tooManyDigits(digits, max, options.limitName);
  return BigInt(clean);
}

const FLOAT = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const FLOAT_SPECIAL = /^([+-]?)(?:(inf|infinity)|(nan))$/i;

/**
 * Python's `float(line)`.
 * @example
 * parsePyFloat(new TextEncoder().encode('-inf')); // -Infinity
 */
export function parsePyFloat(line: Uint8Array): number {
  const t = stripped(line);
  const special = FLOAT_SPECIAL.exec(t);
  if (special) {
    if (special[3] !== undefined) return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!FLOAT.test(t)) throw new LiteralError(`could not convert string to float: ${reprBytesLine(line)}`);
  return Number(t.includes('_') ? t.replace(/_/g, '') : t);
}

/**
 * Python's `decode_long`: little-endian two's complement of any length.
 * @example
 * decodeLongBytes(new Uint8Array([0xff])); // -1n
 */
export function decodeLongBytes(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += HEX[b[i] as number];
  let v = BigInt('0x' + hex);
  if (((b[b.length - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
  return v;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Value of one hex digit (ASCII code), or -1. */
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * `codecs.escape_decode` as the STRING opcode uses it: Python string-literal escapes over bytes.
 * Unknown escapes keep their backslash, as Python does.
 * @example
 * escapeDecode(new TextEncoder().encode('a\\x41\\n')); // bytes 61 41 0a
 */
export function escapeDecode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c !== 0x5c) {
      out[o++] = c;
      continue;
    }
    if (i + 1 >= src.length) throw new LiteralError('Trailing \\ in string');
    const e = src[++i] as number;
    switch (e) {
      case 0x0a: // backslash-newline: line continuation
        break;
      case 0x5c:
        out[o++] = 0x5c;
        break;
      case 0x27:
        out[o++] = 0x27;
        break;
      case 0x22:
        out[o++] = 0x22;
        break;
      case 0x62:
        out[o++] = 0x08;
        break; // \b
      case 0x66:
        out[o++] = 0x0c;
        break; // \f
      case 0x74:
        out[o++] = 0x09;
        break; // \t
      case 0x6e:
        out[o++] = 0x0a;
        break; // \n
      case 0x72:
        out[o++] = 0x0d;
        break; // \r
      case 0x76:
        out[o++] = 0x0b;
        break; // \v
      case 0x61:
        out[o++] = 0x07;
        break; // \a
      case 0x78: {
        // \xhh: exactly two hex digits
        const h1 = i + 1 < src.length ? hexVal(src[i + 1] as number) : -1;
        const h2 = i + 2 < src.length ? hexVal(src[i + 2] as number) : -1;
        if (h1 < 0 || h2 < 0) throw new LiteralError(`invalid \\x escape at position ${i - 1}`);
        out[o++] = (h1 << 4) | h2;
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          // up to three octal digits
          let v = e - 0x30;
          for (let k = 0; k < 2 && i + 1 < src.length; k++) {
            const d = src[i + 1] as number;
            if (d < 0x30 || d > 0x37) break;
            v = v * 8 + (d - 0x30);
            i++;
          }
          out[o++] = v & 0xff;
        } else {
          out[o++] = 0x5c;
          out[o++] = e;
        }
    }
  }
  return out.subarray(0, o);
}

/**
 * Python's `raw-unicode-escape` decoding as code points: bytes are Latin-1 except `\uXXXX` and
 * `\UXXXXXXXX` after an odd run of backslashes. With `lenient`, a bad escape becomes U+FFFD.
 */
export function rawUnicodeEscapeCodePoints(src: Uint8Array, lenient = false): number[] {
  const cps: number[] = [];
  let i = 0;
  const err = (start: number, end: number, reason: string): LiteralError =>
    new LiteralError(
      `'rawunicodeescape' codec can't decode bytes in position ${start}-${end - 1}: ${reason}`,
    );
  while (i < src.length) {
    const c = src[i] as number;
    if (c !== 0x5c) {
      cps.push(c);
      i++;
      continue;
    }
    const run = i;
    while (i < src.length && src[i] === 0x5c) {
      cps.push(0x5c);
      i++;
    }
    if (((i - run) & 1) === 0 || i >= src.length || (src[i] !== 0x75 && src[i] !== 0x55)) continue;
    const escStart = i - 1;
    cps.pop(); // the escaping backslash
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
    cps.push(ok ? cp : 0xfffd);
  }
  return cps;
}

/**
 * A JS string from code points (lone surrogates kept).
 * @example
 * fromCodePoints([0x68, 0xd800]); // 'h\ud800'
 */
export function fromCodePoints(cps: readonly number[]): string {
  let out = '';
  for (let k = 0; k < cps.length; k += 8192) out += String.fromCodePoint(...cps.slice(k, k + 8192));
  return out;
}

/**
 * Python's `raw-unicode-escape` decoding (the UNICODE opcode) as a JS string.
 * @example
 * rawUnicodeEscapeDecode(new TextEncoder().encode('caf\\u00e9')); // 'café'
 */
export function rawUnicodeEscapeDecode(src: Uint8Array): string {
  return fromCodePoints(rawUnicodeEscapeCodePoints(src));
}
