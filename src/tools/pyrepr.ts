/**
 * Python's `repr()` for the scalar types that appear in pickles: str, bytes, bytearray, float, int,
 * bool and None. Shared by the disassembler, the encoder's error messages and the CLI, so that text we
 * print reads exactly as Python would print it.
 */

/**
 * Characters Python's `str.isprintable()` rejects: categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
 * (except the ASCII space, handled separately). JS's Unicode tables may be a version newer than the
 * Python being compared against; the difference only affects characters assigned in between.
 */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

const HEX = '0123456789abcdef';

function hex2(n: number): string {
  return (HEX[(n >> 4) & 15] as string) + (HEX[n & 15] as string);
}

function escapeCodePoint(cp: number): string {
  if (cp < 0x100) return '\\x' + hex2(cp);
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** Python `repr(s)` for a str (JS strings may hold lone surrogates, which Python escapes as `\udxxx`). */
export function reprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  // Fast path: printable ASCII without the quote or backslash needs no escaping.
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u < 0x20 || u >= 0x7f || u === 0x5c || s[i] === quote) {
      plain = false;
      break;
    }
  }
  if (plain) return quote + s + quote;
  const cps: number[] = [];
  for (const ch of s) cps.push(ch.codePointAt(0) as number);
  return reprCodePoints(cps);
}

/**
 * Python `repr()` of the str made of these code points. Use it when the code points are known
 * exactly: Python can hold two lone surrogates side by side, which a JS string would merge.
 */
export function reprCodePoints(cps: readonly number[]): string {
  // Python prefers single quotes and switches to double quotes only when the text has ' but no ".
  const hasSingle = cps.includes(0x27);
  const quoteCp = hasSingle && !cps.includes(0x22) ? 0x22 : 0x27;
  const parts: string[] = [];
  let chunk = '';
  for (const cp of cps) {
    if (cp === 0x5c) chunk += '\\\\';
    else if (cp === quoteCp) chunk += '\\' + String.fromCharCode(cp);
    else if (cp === 0x09) chunk += '\\t';
    else if (cp === 0x0a) chunk += '\\n';
    else if (cp === 0x0d) chunk += '\\r';
    else if (cp < 0x20 || cp === 0x7f) chunk += '\\x' + hex2(cp);
    else if (cp < 0x7f) chunk += String.fromCharCode(cp);
    else if ((cp >= 0xd800 && cp <= 0xdfff) || NON_PRINTABLE.test(String.fromCodePoint(cp)))
      chunk += escapeCodePoint(cp);
    else chunk += String.fromCodePoint(cp);
    if (chunk.length > 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  const q = String.fromCharCode(quoteCp);
  return q + parts.join('') + q;
}

/**
 * The body of a bytes literal, without the `b` prefix: quotes included. bytearray's repr escapes
 * every `'`, even inside double quotes (`bytearray(b"\'")`); bytes' repr escapes only its quote.
 */
function bytesLiteral(data: Uint8Array, escapeAllSingle = false): string {
  let hasSingle = false;
  let hasDouble = false;
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    if (b === 0x27) hasSingle = true;
    else if (b === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? 0x22 : 0x27;
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    if (b === quote || b === 0x5c || (b === 0x27 && escapeAllSingle)) chunk += '\\' + String.fromCharCode(b);
    else if (b === 0x09) chunk += '\\t';
    else if (b === 0x0a) chunk += '\\n';
    else if (b === 0x0d) chunk += '\\r';
    else if (b < 0x20 || b >= 0x7f) chunk += '\\x' + hex2(b);
    else chunk += String.fromCharCode(b);
    if (chunk.length > 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  const q = String.fromCharCode(quote);
  return q + parts.join('') + q;
}

/** Python `repr(b)` for bytes: `b'...'`. */
export function reprBytes(data: Uint8Array): string {
  return 'b' + bytesLiteral(data);
}

/** Python `repr(bytearray(b))`: `bytearray(b'...')`. */
export function reprByteArray(data: Uint8Array): string {
  return 'bytearray(b' + bytesLiteral(data, true) + ')';
}

/**
 * Python `repr(x)` for a float: the shortest digits that round-trip (JS computes the same digits),
 * laid out as Python does — positional when the decimal exponent is in [-4, 16), scientific otherwise
 * with a signed, at least two-digit exponent; integral values get `.0`.
 */
export function reprFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const ax = Math.abs(x);
  if (ax >= 1e-4 && ax < 1e16) {
    // Both languages write this range positionally with the same shortest digits.
    const s = String(x);
    return s.includes('.') ? s : s + '.0';
  }
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument yields the shortest round-trip digits.
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  const point = exp + 1; // digits before the decimal point
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Python's default limit on int <-> decimal string conversion (sys.get_int_max_str_digits()). */
const INT_MAX_STR_DIGITS = 4300;

/** Thrown where Python itself would raise while producing a repr (e.g. an int over the digit limit). */
export class ReprError extends Error {}

/**
 * Python `repr(n)` for an int. Python 3.11+ refuses to convert ints of more than 4300 decimal digits;
 * pass `maxDigits: 0` to lift the limit, as `sys.set_int_max_str_digits(0)` does.
 */
export function reprInt(n: number | bigint, maxDigits = INT_MAX_STR_DIGITS): string {
  const text = typeof n === 'bigint' ? n.toString() : BigInt(n).toString();
  const digits = text.length - (text.startsWith('-') ? 1 : 0);
  if (maxDigits > 0 && digits > maxDigits) {
    throw new ReprError(
      `Exceeds the limit (${maxDigits} digits) for integer string conversion; ` +
        'use sys.set_int_max_str_digits() to increase the limit',
    );
  }
  return text;
}
