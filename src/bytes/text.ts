/**
 * Text decoding and encoding for pickle strings. Python writes str as UTF-8 with `surrogatepass`, so
 * lone surrogates arrive as 3-byte sequences (ED A0 80) that a strict UTF-8 decoder rejects; JS strings
 * can hold them, so we decode them instead of replacing them.
 */

import { fromCodePoints } from './literals.js';

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Node's Buffer has native latin-1/UTF-8 slicers that work on any Uint8Array and beat both a JS loop
 * and TextDecoder for short strings (bench: 500k short strings). In browsers we fall back.
 */
type Slicer = (this: Uint8Array, start: number, end: number) => string;
const NodeBuffer = (globalThis as { Buffer?: { prototype: { latin1Slice?: Slicer; utf8Slice?: Slicer } } })
  .Buffer;
const latin1Slice: Slicer | undefined = NodeBuffer?.prototype.latin1Slice;
const utf8Slice: Slicer | undefined = NodeBuffer?.prototype.utf8Slice;

/** Up to this many bytes, we check for pure ASCII in JS before slicing (cheaper than validating UTF-8). */
const SHORT_STRING = 64;

/** Thrown for bytes that are not UTF-8 even with surrogatepass; the caller turns it into UnpicklingError. */
export class TextError extends Error {}

/**
 * Decode `data[start, end)` as UTF-8 with surrogatepass semantics.
 * @throws TextError when the bytes are not (surrogatepass) UTF-8.
 */
export function decodeUtf8(data: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_STRING) {
    let i = start;
    while (i < end && (data[i] as number) < 0x80) i++;
    if (i === end) {
      if (latin1Slice !== undefined) return latin1Slice.call(data, start, end);
      return String.fromCharCode.apply(null, data.subarray(start, end) as unknown as number[]);
    }
  }
  if (utf8Slice !== undefined) {
    // Node's decoder replaces malformed input (incl. encoded surrogates) with U+FFFD; only then do we
    // need the careful decoder to tell a real U+FFFD from a lone surrogate or an error.
    const s = utf8Slice.call(data, start, end);
    return s.includes('\ufffd') ? decodeUtf8Slow(data, start, end) : s;
  }
  try {
    return strictDecoder.decode(data.subarray(start, end));
  } catch {
    return decodeUtf8Slow(data, start, end);
  }
}

/** Full decoder: accepts encoded surrogates (ED A0..BF xx), rejects everything else that is malformed. */
function decodeUtf8Slow(data: Uint8Array, start: number, end: number): string {
  return fromCodePoints(utf8CodePoints(data.subarray(start, end)));
}

const isCont = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;

function utf8Error(src: Uint8Array, start: number, end: number, reason: string): TextError {
  if (end - start === 1) {
    const b = (src[start] as number).toString(16).padStart(2, '0');
    return new TextError(`'utf-8' codec can't decode byte 0x${b} in position ${start}: ${reason}`);
  }
  return new TextError(`'utf-8' codec can't decode bytes in position ${start}-${end - 1}: ${reason}`);
}

/**
 * The code points of UTF-8 with Python's `surrogatepass` handler (an encoded lone surrogate is one
 * code point). Errors carry CPython's message and byte range; with `lenient`, each bad sequence
 * becomes U+FFFD instead.
 * @example
 * utf8CodePoints(new Uint8Array([0x61, 0xed, 0xa0, 0x80])); // [0x61, 0xd800]
 */
export function utf8CodePoints(src: Uint8Array, lenient = false): number[] {
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
        units.push(
          ((b0 & 0x07) << 18) |
            (((b1 as number) & 0x3f) << 12) |
            (((src[i + 2] as number) & 0x3f) << 6) |
            ((src[i + 3] as number) & 0x3f),
        );
        i += 4;
      }
    } else {
      fail(i, i + 1, 'invalid start byte');
    }
  }
  return units;
}

/**
 * UTF-8 with surrogatepass; with `lenient`, undecodable bytes become U+FFFD (the scanner's reading).
 * @example
 * decodeUtf8SurrogatePass(new Uint8Array([0xff]), true); // '�'
 */
export function decodeUtf8SurrogatePass(src: Uint8Array, lenient = false): string {
  return fromCodePoints(utf8CodePoints(src, lenient));
}

/** Decode bytes as Latin-1 (each byte one char). */
export function decodeLatin1(data: Uint8Array, start: number, end: number): string {
  if (latin1Slice !== undefined) return latin1Slice.call(data, start, end);
  let out = '';
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode.apply(null, data.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return out;
}

/** Decode bytes as ASCII; throws TextError on bytes >= 0x80 (Python's strict 'ascii' codec). */
export function decodeAscii(data: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if ((data[i] as number) >= 0x80)
      throw new TextError(
        `'ascii' codec can't decode byte 0x${(data[i] as number).toString(16)} in position ${i - start}`,
      );
  }
  return decodeLatin1(data, start, end);
}

/** Encode a JS string as UTF-8 with surrogatepass (lone surrogates become 3-byte sequences). */
export function encodeUtf8(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  writeUtf8(s, out, 0);
  return out;
}

const nodeByteLength: ((s: string, enc: 'utf8') => number) | undefined = (
  globalThis as { Buffer?: { byteLength?(s: string, enc: 'utf8'): number } }
).Buffer?.byteLength;

/** Number of bytes `s` takes in UTF-8 with surrogatepass. */
export function utf8Length(s: string): number {
  if (nodeByteLength) return nodeByteLength(s, 'utf8'); // a lone surrogate counts 3, as surrogatepass writes it
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Write `s` as surrogatepass UTF-8 into `out` at `pos`; returns the new position. */
export function writeUtf8(s: string, out: Uint8Array, pos: number): number {
  return writeUtf8From(s, 0, out, pos);
}

/** Surrogatepass UTF-8 of `s` from index `start`, into `out` at `pos`; returns the new position. */
export function writeUtf8From(s: string, start: number, out: Uint8Array, pos: number): number {
  const n = s.length;
  for (let i = start; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
    } else if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[pos++] = 0xf0 | (c >> 18);
          out[pos++] = 0x80 | ((c >> 12) & 0x3f);
          out[pos++] = 0x80 | ((c >> 6) & 0x3f);
          out[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      out[pos++] = 0xe0 | (c >> 12);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}
