/**
 * Parsers for the protocol-0 text arguments, following what Python's int(), float(),
 * codecs.escape_decode and the raw-unicode-escape codec accept. Each returns undefined (or throws a
 * LiteralError) on input Python would reject, and the decoder turns that into an UnpicklingError.
 */

export class LiteralError extends Error {}

const DIGITS_BASE10 = /^[+-]?\d+(?:_\d+)*$/;

/** Python `int(text)` (base 10, whitespace and single underscores allowed). */
export function parseIntBase10(text: string, maxDigits: number): bigint | undefined {
  const t = text.trim();
  if (!DIGITS_BASE10.test(t)) return undefined;
  const clean = t.includes('_') ? t.replace(/_/g, '') : t;
  const digits = clean.length - (clean[0] === '+' || clean[0] === '-' ? 1 : 0);
  if (digits > maxDigits) {
    throw new LiteralError(
      `integer literal has ${digits} digits, more than limits.maxIntDigits (${maxDigits}); raise it to allow more`,
    );
  }
  return BigInt(clean);
}

const PREFIXED = /^([+-]?)0([xXoObB])_?([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)$/;
const ZEROS = /^[+-]?0+(?:_0+)*$/;

/** Python `int(text, 0)`: decimal (no leading zeros unless all zero), 0x / 0o / 0b prefixes. */
export function parseIntBase0(text: string, maxDigits: number): bigint | undefined {
  const t = text.trim();
  const m = PREFIXED.exec(t);
  if (m) {
    const base = (m[2] as string).toLowerCase();
    const body = (m[3] as string).replace(/_/g, '');
    const valid = base === 'x' ? /^[0-9a-fA-F]+$/ : base === 'o' ? /^[0-7]+$/ : /^[01]+$/;
    if (!valid.test(body)) return undefined;
    if (body.length > maxDigits * 4) {
      throw new LiteralError(`integer literal too long for limits.maxIntDigits (${maxDigits}); raise it to allow more`);
    }
    const v = BigInt('0' + base + body);
    return m[1] === '-' ? -v : v;
  }
  if (ZEROS.test(t)) return 0n;
  const unsigned = t.replace(/^[+-]/, '');
  if (unsigned.startsWith('0')) return undefined; // Python 3 rejects leading zeros in base 0
  return parseIntBase10(t, maxDigits);
}

const FLOAT_RE = /^[+-]?(?:(?:\d+(?:_\d+)*)?\.?\d+(?:_\d+)*|\d+(?:_\d+)*\.)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** Python `float(text)`. */
export function parseFloat_(text: string): number | undefined {
  const t = text.trim();
  const special = SPECIAL_FLOAT.exec(t);
  if (special) {
    const neg = special[1] === '-';
    if ((special[2] as string).toLowerCase() === 'nan') return NaN;
    return neg ? -Infinity : Infinity;
  }
  if (!FLOAT_RE.test(t)) return undefined;
  return Number(t.includes('_') ? t.replace(/_/g, '') : t);
}

/** Value of one hex digit (ASCII code), or -1. */
export function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * `codecs.escape_decode` as used by the STRING opcode: Python string-literal escapes over bytes.
 * Unknown escapes keep their backslash, as Python does.
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
      case 0x5c: out[o++] = 0x5c; break;
      case 0x27: out[o++] = 0x27; break;
      case 0x22: out[o++] = 0x22; break;
      case 0x62: out[o++] = 0x08; break; // \b
      case 0x66: out[o++] = 0x0c; break; // \f
      case 0x74: out[o++] = 0x09; break; // \t
      case 0x6e: out[o++] = 0x0a; break; // \n
      case 0x72: out[o++] = 0x0d; break; // \r
      case 0x76: out[o++] = 0x0b; break; // \v
      case 0x61: out[o++] = 0x07; break; // \a
      case 0x78: { // \xhh: exactly two hex digits
        const h1 = i + 1 < src.length ? hexVal(src[i + 1] as number) : -1;
        const h2 = i + 2 < src.length ? hexVal(src[i + 2] as number) : -1;
        if (h1 < 0 || h2 < 0) throw new LiteralError(`invalid \\x escape at position ${i - 1}`);
        out[o++] = (h1 << 4) | h2;
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) { // up to three octal digits
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

/** The raw-unicode-escape codec: bytes are Latin-1 except `\uXXXX` / `\UXXXXXXXX` after an odd run of backslashes. */
export function rawUnicodeEscapeDecode(src: Uint8Array): string {
  const units: number[] = [];
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i] as number;
    if (c !== 0x5c) {
      units.push(c);
      i++;
    } else {
      const runStart = i;
      while (i < src.length && src[i] === 0x5c) {
        units.push(0x5c);
        i++;
      }
      const odd = ((i - runStart) & 1) === 1;
      if (odd && i < src.length && (src[i] === 0x75 || src[i] === 0x55)) {
        units.pop(); // the escaping backslash
        const count = src[i] === 0x75 ? 4 : 8;
        i++;
        let cp = 0;
        for (let k = 0; k < count; k++) {
          const h = i < src.length ? hexVal(src[i] as number) : -1;
          if (h < 0) throw new LiteralError(count === 4 ? 'truncated \\uXXXX escape' : 'truncated \\UXXXXXXXX escape');
          cp = cp * 16 + h;
          i++;
        }
        if (cp > 0x10ffff) throw new LiteralError('\\Uxxxxxxxx out of range');
        if (cp >= 0x10000) {
          cp -= 0x10000;
          units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else units.push(cp);
      }
    }
    if (units.length >= 4096) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode.apply(null, units);
}
