/**
 * `.npy` files (numpy.save): magic `\x93NUMPY`, version bytes, a little-endian header length
 * (uint16 for 1.0, uint32 for 2.0/3.0), a Python-literal dict header
 * `{'descr': …, 'fortran_order': …, 'shape': (…), }` (latin-1 text for 1.0/2.0, UTF-8 for 3.0),
 * then the data. Object arrays store a pickle of the whole array instead of raw data.
 *
 * The header is parsed by a small literal parser (strings, ints, bools, None, tuples, lists,
 * dicts), never evaluated; hostile headers are refused with an UnpicklingError.
 */
import { UnpicklingError } from '../errors.js';
import { decodeLatin1, decodeUtf8 } from '../bytes/text.js';
import { Tuple } from '../python/values.js';
import { DType } from './dtype.js';
import { NDArray, checkShape } from './ndarray.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** Deepest nesting accepted in a header literal (structured dtypes nest a few levels). */
const MAX_DEPTH = 64;

/** True when `data` starts with the .npy magic. */
export function isNpy(data: Uint8Array): boolean {
  if (data.length < 6) return false;
  for (let i = 0; i < 6; i++) if (data[i] !== MAGIC[i]) return false;
  return true;
}

/** A parsed `.npy` header. */
export interface NpyHeader {
  readonly version: [major: number, minor: number];
  readonly dtype: DType;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  /** Offset of the first data byte. */
  readonly dataOffset: number;
}

function bad(message: string, offset = -1): UnpicklingError {
  return new UnpicklingError(`invalid .npy file: ${message}`, offset);
}

/** Parse the magic, version and header dict of a `.npy` file. */
export function parseNpyHeader(data: Uint8Array): NpyHeader {
  if (!isNpy(data)) throw bad('missing \\x93NUMPY magic', 0);
  if (data.length < 10) throw bad('truncated header', data.length);
  const major = data[6] as number;
  const minor = data[7] as number;
  if (major < 1 || major > 3 || minor !== 0) throw bad(`unsupported format version ${major}.${minor}`, 6);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = view.getUint16(8, true);
    start = 10;
  } else {
    if (data.length < 12) throw bad('truncated header', data.length);
    hlen = view.getUint32(8, true);
    start = 12;
  }
  if (hlen > data.length - start)
    throw bad(`header of ${hlen} bytes but only ${data.length - start} follow`, 8);
  let text: string;
  try {
    text = major === 3 ? decodeUtf8(data, start, start + hlen) : decodeLatin1(data, start, start + hlen);
  } catch (e) {
    throw bad(`header is not valid text: ${(e as Error).message}`, start);
  }
  let dict: unknown;
  try {
    dict = new LiteralParser(text).parseAll();
  } catch (e) {
    if (e instanceof UnpicklingError) throw e;
    throw bad(`header: ${(e as Error).message}`, start);
  }
  if (!(dict instanceof Map)) throw bad('header is not a dict', start);
  const keys = [...dict.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw bad(`header keys must be descr, fortran_order, shape; got ${JSON.stringify(keys)}`, start);
  }
  let dtype: DType;
  try {
    dtype = DType.fromDescr(dict.get('descr'));
  } catch (e) {
    throw bad(`descr: ${(e as Error).message}`, start);
  }
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw bad('fortran_order must be True or False', start);
  const shapeV = dict.get('shape');
  if (!(shapeV instanceof Tuple)) throw bad('shape must be a tuple', start);
  const shape = shapeV.map((d) => {
    if (typeof d !== 'bigint' || d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER))
      throw bad('shape must hold non-negative ints', start);
    return Number(d);
  });
  checkShape(shape, dtype.itemsize);
  return { version: [major, minor], dtype, fortranOrder: fortran, shape, dataOffset: start + hlen };
}

/**
 * Read a `.npy` file into an NDArray (no copy of the data: `raw` is a view on `data`). Object
 * arrays are stored as a pickle, decoded with `unpickle` (whose result is returned).
 * @example
 * const arr = readNpy(await readFile('x.npy'), (p) => loads(p)) as NDArray; // `load('x.npy')` does this
 */
export function readNpy(data: Uint8Array, unpickle: (pickleBytes: Uint8Array) => unknown): unknown {
  const h = parseNpyHeader(data);
  const body = data.subarray(h.dataOffset);
  if (h.dtype.hasObject) return unpickle(body);
  const need = checkShape(h.shape, h.dtype.itemsize) * h.dtype.itemsize;
  if (body.length < need) throw bad(`data has ${body.length} bytes, shape needs ${need}`, h.dataOffset);
  return new NDArray({
    dtype: h.dtype,
    shape: h.shape,
    order: h.fortranOrder ? 'F' : 'C',
    raw: body.subarray(0, need),
  });
}

/**
 * A parser for the Python literals numpy writes in headers: dicts, tuples, lists, str (with
 * u/b/r prefixes and escapes), ints (Python 2 `L` suffix allowed), True/False/None. Dicts become
 * Maps, tuples Tuples, ints bigints.
 */
class LiteralParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  parseAll(): unknown {
    const v = this.value();
    this.ws();
    if (this.pos !== this.s.length)
      throw new Error(`unexpected ${JSON.stringify(this.s[this.pos])} at ${this.pos}`);
    return v;
  }

  private ws(): void {
    while (this.pos < this.s.length && ' \t\n\r\f\v'.includes(this.s[this.pos] as string)) this.pos++;
  }

  private expect(c: string): void {
    this.ws();
    if (this.s[this.pos] !== c) throw new Error(`expected ${JSON.stringify(c)} at ${this.pos}`);
    this.pos++;
  }

  private value(): unknown {
    this.ws();
    const c = this.s[this.pos];
    if (c === undefined) throw new Error('unexpected end of header');
    if (c === '{' || c === '(' || c === '[') {
      if (++this.depth > MAX_DEPTH) throw new Error('header nests too deeply');
      const v = c === '{' ? this.dict() : this.sequence(c === '(' ? ')' : ']');
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return this.string(false);
    const prefix = /^([uUbBrR]{1,2})['"]/.exec(this.s.slice(this.pos, this.pos + 3));
    if (prefix) {
      const p = (prefix[1] as string).toLowerCase();
      this.pos += p.length;
      return this.string(p.includes('r'));
    }
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.int();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.s.startsWith(word, this.pos) && !/[A-Za-z0-9_]/.test(this.s[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return v;
      }
    }
    throw new Error(`unexpected ${JSON.stringify(c)} at ${this.pos}`);
  }

  private dict(): Map<unknown, unknown> {
    this.pos++; // {
    const out = new Map<unknown, unknown>();
    for (;;) {
      this.ws();
      if (this.s[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const k = this.value();
      if (typeof k !== 'string') throw new Error('header dict keys must be strings');
      this.expect(':');
      const v = this.value();
      if (out.has(k)) throw new Error(`duplicate key ${JSON.stringify(k)}`);
      out.set(k, v);
      this.ws();
      if (this.s[this.pos] === ',') this.pos++;
      else if (this.s[this.pos] !== '}') throw new Error(`expected ',' or '}' at ${this.pos}`);
    }
  }

  private sequence(close: ')' | ']'): unknown[] {
    this.pos++;
    const items: unknown[] = [];
    let sawComma = false;
    for (;;) {
      this.ws();
      if (this.s[this.pos] === close) {
        this.pos++;
        // `(x)` is x parenthesised, `(x,)` a 1-tuple.
        if (close === ')')
          return items.length === 1 && !sawComma ? (items[0] as unknown[]) : Tuple.from_(items);
        return items;
      }
      items.push(this.value());
      this.ws();
      if (this.s[this.pos] === ',') {
        this.pos++;
        sawComma = true;
      } else if (this.s[this.pos] !== close) throw new Error(`expected ',' or '${close}' at ${this.pos}`);
    }
  }

  private int(): bigint {
    const m = /^[+-]?\d+/.exec(this.s.slice(this.pos, this.pos + 40));
    if (!m) throw new Error(`invalid number at ${this.pos}`);
    const text = m[0];
    if (text.replace(/^[+-]/, '').length > 30) throw new Error('integer too long');
    this.pos += text.length;
    if (this.s[this.pos] === 'L' || this.s[this.pos] === 'l') this.pos++;
    if (/^[.eEjJxXoObB_]/.test(this.s[this.pos] ?? '')) throw new Error(`unsupported number at ${this.pos}`);
    return BigInt(text);
  }

  private string(raw: boolean): string {
    const q = this.s[this.pos] as string;
    const triple = this.s.startsWith(q + q + q, this.pos);
    const close = triple ? q + q + q : q;
    this.pos += close.length;
    let out = '';
    for (;;) {
      if (this.pos >= this.s.length) throw new Error('unterminated string');
      if (this.s.startsWith(close, this.pos)) {
        this.pos += close.length;
        return out;
      }
      const c = this.s[this.pos] as string;
      if (c === '\n' && !triple) throw new Error('newline in string');
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const n = this.s[this.pos + 1];
      if (n === undefined) throw new Error('unterminated string');
      if (raw) {
        out += c + n;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      switch (n) {
        case '\n':
          break;
        case '\\':
        case "'":
        case '"':
          out += n;
          break;
        case 'a':
          out += '\x07';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
        case 'u':
        case 'U': {
          const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
          const hex = this.s.slice(this.pos, this.pos + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new Error(`bad \\${n} escape`);
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff) throw new Error('escape out of range');
          out += String.fromCodePoint(cp);
          this.pos += len;
          break;
        }
        default:
          if (n >= '0' && n <= '7') {
            const m = /^[0-7]{1,3}/.exec(this.s.slice(this.pos - 1, this.pos + 2)) as RegExpExecArray;
            out += String.fromCharCode(parseInt(m[0], 8));
            this.pos += m[0].length - 1;
          } else {
            out += '\\' + n;
          }
      }
    }
  }
}
