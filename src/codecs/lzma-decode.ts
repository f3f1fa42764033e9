/**
 * LZMA decoding for joblib's `.lzma` ("LZMA alone") and `.xz` (LZMA2 in the xz container) files, for
 * the browser build (Node uses liblzma through lzma-native, src/codecs/lzma.node.ts).
 *
 * Kept hand-written because no browser package decodes both formats synchronously under a cap:
 * xz-decompress (WebAssembly) only offers an asynchronous stream of xz, LZMA-JS reads only the
 * .lzma format and grows its output without bound, and @napi-rs/lzma's WebAssembly build needs
 * Node ≥ 22.20 to install and threads (cross-origin isolation) in a page. The output size is checked
 * while decoding, and the output buffer doubles as the LZ dictionary.
 */
import { crc32, crc64Bytes } from './checksum.js';
import { CorruptError, OutBuf } from './outbuf.js';

const TOP = 1 << 24;

// Offsets into one Uint16Array of adaptive probabilities (11-bit, start at one half = 1024).
const IS_MATCH = 0; // [state << 4 | posState], 12 * 16
const IS_REP = 192; // [state]
const IS_REP_G0 = 204;
const IS_REP_G1 = 216;
const IS_REP_G2 = 228;
const IS_REP0_LONG = 240; // [state << 4 | posState]
const POS_SLOT = 432; // [lenState * 64 + ...], 4 * 64
const SPEC_POS = 688; // 114 reverse-tree probabilities for distances 4..127
const ALIGN = 802; // 16
const LEN = 818; // choice, choice2, low[16][8], mid[16][8], high[256] = 514
const REP_LEN = 1332;
const LITERAL = 1846; // 0x300 per literal context
const LEN_LOW = 2;
const LEN_MID = 2 + 128;
const LEN_HIGH = 2 + 256;

/** Decoded LZMA properties: literal context bits, literal position bits, position bits. */
export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

function parsePropsByte(b: number): LzmaProps {
  if (b >= 9 * 5 * 5) throw new CorruptError(`invalid LZMA properties byte 0x${b.toString(16)}`);
  const lc = b % 9;
  const rest = (b - lc) / 9;
  const lp = rest % 5;
  const pb = (rest - lp) / 5;
  return { lc, lp, pb };
}

class RangeDecoder {
  data: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  range = 0;
  code = 0;

  init(data: Uint8Array, pos: number, end: number): void {
    if (end - pos < 5) throw new CorruptError('truncated range coder header');
    if (data[pos] !== 0) throw new CorruptError('range coder does not start with a zero byte');
    this.data = data;
    this.code =
      (data[pos + 1] as number) * 0x1000000 +
      (((data[pos + 2] as number) << 16) | ((data[pos + 3] as number) << 8) | (data[pos + 4] as number));
    if (this.code === 0xffffffff) throw new CorruptError('invalid range coder start');
    this.range = 0xffffffff;
    this.pos = pos + 5;
    this.end = end;
  }

  private next(): number {
    if (this.pos >= this.end) throw new CorruptError('compressed data is truncated');
    return this.data[this.pos++] as number;
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i] as number;
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      b = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> 5);
      b = 1;
    }
    if (this.range < TOP) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
    return b;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }

  direct(bits: number): number {
    let v = 0;
    for (let i = 0; i < bits; i++) {
      this.range = this.range >>> 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      v = v * 2 + b;
      if (this.range < TOP) {
        this.range *= 256;
        this.code = this.code * 256 + this.next();
      }
    }
    return v;
  }
}

/** The state of one LZMA decoder (kept across LZMA2 chunks unless a chunk resets it). */
class LzmaDecoder {
  probs = new Uint16Array(LITERAL);
  lc = 0;
  lp = 0;
  pb = 0;
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;
  readonly rc = new RangeDecoder();

  setProps(p: LzmaProps): void {
    this.lc = p.lc;
    this.lp = p.lp;
    this.pb = p.pb;
    const size = LITERAL + (0x300 << (p.lc + p.lp));
    if (this.probs.length !== size) this.probs = new Uint16Array(size);
  }

  resetState(): void {
    this.probs.fill(1024);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  private length(base: number, posState: number): number {
    const rc = this.rc;
    const probs = this.probs;
    if (rc.bit(probs, base) === 0) return rc.tree(probs, base + LEN_LOW + posState * 8, 3);
    if (rc.bit(probs, base + 1) === 0) return 8 + rc.tree(probs, base + LEN_MID + posState * 8, 3);
    return 16 + rc.tree(probs, base + LEN_HIGH, 8);
  }

  private distance(len: number): number {
    const rc = this.rc;
    const probs = this.probs;
    const lenState = len < 4 ? len : 3;
    const slot = rc.tree(probs, POS_SLOT + lenState * 64, 6);
    if (slot < 4) return slot;
    const bits = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** bits;
    if (slot < 14) return dist + rc.reverseTree(probs, SPEC_POS + dist - slot - 1, bits);
    dist += rc.direct(bits - 4) * 16;
    return dist + rc.reverseTree(probs, ALIGN, 4);
  }

  /**
   * Decode until `out.len === target` or an end marker. Positions are counted from `dictStart` (the
   * last dictionary reset). Returns true when an end-of-payload marker was read.
   */
  run(out: OutBuf, dictStart: number, target: number, allowEndMarker: boolean): boolean {
    const rc = this.rc;
    const probs = this.probs;
    const lc = this.lc;
    const lpMask = (1 << this.lp) - 1;
    const pbMask = (1 << this.pb) - 1;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    let endMarker = false;
    try {
      while (out.len < target) {
        const pos = out.len - dictStart;
        const posState = pos & pbMask;
        if (rc.bit(probs, IS_MATCH + (state << 4) + posState) === 0) {
          // Literal
          const prev = pos > 0 ? (out.buf[out.len - 1] as number) : 0;
          const base = LITERAL + 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
          let sym = 1;
          if (state >= 7) {
            if (rep0 >= pos) throw new CorruptError('match distance beyond the start of the data');
            let matchByte = out.buf[out.len - rep0 - 1] as number;
            while (sym < 0x100) {
              const matchBit = (matchByte >>> 7) & 1;
              matchByte <<= 1;
              const b = rc.bit(probs, base + ((1 + matchBit) << 8) + sym);
              sym = (sym << 1) | b;
              if (b !== matchBit) break;
            }
          }
          while (sym < 0x100) sym = (sym << 1) | rc.bit(probs, base + sym);
          out.push(sym & 0xff);
          state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
          continue;
        }
        let len: number;
        if (rc.bit(probs, IS_REP + state) === 0) {
          // Match with a new distance
          len = this.length(LEN, posState);
          state = state < 7 ? 7 : 10;
          const dist = this.distance(len);
          if (dist === 0xffffffff) {
            if (!allowEndMarker) throw new CorruptError('unexpected end marker');
            endMarker = true;
            break;
          }
          rep3 = rep2;
          rep2 = rep1;
          rep1 = rep0;
          rep0 = dist;
        } else {
          if (rc.bit(probs, IS_REP_G0 + state) === 0) {
            if (rc.bit(probs, IS_REP0_LONG + (state << 4) + posState) === 0) {
              // Short rep: one byte at distance rep0
              if (rep0 >= pos) throw new CorruptError('match distance beyond the start of the data');
              state = state < 7 ? 9 : 11;
              out.push(out.buf[out.len - rep0 - 1] as number);
              continue;
            }
          } else {
            let dist: number;
            if (rc.bit(probs, IS_REP_G1 + state) === 0) {
              dist = rep1;
            } else {
              if (rc.bit(probs, IS_REP_G2 + state) === 0) {
                dist = rep2;
              } else {
                dist = rep3;
                rep3 = rep2;
              }
              rep2 = rep1;
            }
            rep1 = rep0;
            rep0 = dist;
          }
          len = this.length(REP_LEN, posState);
          state = state < 7 ? 8 : 11;
        }
        len += 2;
        if (rep0 >= pos) throw new CorruptError('match distance beyond the start of the data');
        if (len > target - out.len) throw new CorruptError('match runs past the end of the data');
        out.ensure(len);
        const buf = out.buf;
        let dst = out.len;
        let src = dst - rep0 - 1;
        for (const stop = dst + len; dst < stop;) buf[dst++] = buf[src++] as number;
        out.len = dst;
      }
    } finally {
      this.state = state;
      this.rep0 = rep0;
      this.rep1 = rep1;
      this.rep2 = rep2;
      this.rep3 = rep3;
    }
    return endMarker;
  }
}

/**
 * Decode one "LZMA alone" stream (13-byte header: properties, dictionary size, uncompressed size or
 * all-ones for unknown) starting at `pos`. Returns the offset just after the stream.
 */
function decodeLzmaAlone(data: Uint8Array, pos: number, out: OutBuf): number {
  if (data.length - pos < 13) throw new CorruptError('truncated .lzma header');
  const props = parsePropsByte(data[pos] as number);
  const view = new DataView(data.buffer, data.byteOffset + pos, 13);
  const lo = view.getUint32(5, true);
  const hi = view.getUint32(9, true);
  const known = !(lo === 0xffffffff && hi === 0xffffffff);
  let size = Infinity;
  if (known) {
    if (hi >= 0x200000) throw new CorruptError('declared uncompressed size is too large');
    size = hi * 0x100000000 + lo;
    out.ensure(size); // fails at once when the declared size is over the cap
  }
  const dec = new LzmaDecoder();
  dec.setProps(props);
  dec.resetState();
  dec.rc.init(data, pos + 13, data.length);
  const start = out.len;
  const target = known ? start + size : Infinity;
  const ended = dec.run(out, start, target, true);
  if (!known && !ended) throw new CorruptError('missing end marker');
  if (ended && dec.rc.code !== 0) throw new CorruptError('corrupt data before the end marker');
  return dec.rc.pos;
}

// ---- xz container ------------------------------------------------------------------------------

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

function readVarint(data: Uint8Array, p: { pos: number }, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 9; i++) {
    if (p.pos >= end) throw new CorruptError('truncated variable-length integer');
    const b = data[p.pos++] as number;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw new CorruptError('non-minimal variable-length integer');
      if (v > Number.MAX_SAFE_INTEGER) throw new CorruptError('integer too large');
      return v;
    }
    mul *= 128;
  }
  throw new CorruptError('variable-length integer is too long');
}

function le32(data: Uint8Array, i: number): number {
  return (
    ((data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24)) >>>
    0
  );
}

/** LZMA2 chunks from `pos` to their end byte; returns the offset after the end byte. */
function decodeLzma2(data: Uint8Array, pos: number, end: number, out: OutBuf): number {
  const dec = new LzmaDecoder();
  let dictStart = out.len;
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    if (pos >= end) throw new CorruptError('truncated LZMA2 data');
    const control = data[pos++] as number;
    if (control === 0x00) return pos;
    if (control >= 0xe0 || control === 0x01) {
      needProps = true;
      needDictReset = false;
      dictStart = out.len;
    } else if (needDictReset) {
      throw new CorruptError('LZMA2 data does not start with a dictionary reset');
    }
    if (control < 0x80) {
      if (control > 0x02) throw new CorruptError(`invalid LZMA2 control byte 0x${control.toString(16)}`);
      if (end - pos < 2) throw new CorruptError('truncated LZMA2 chunk header');
      const n = (((data[pos] as number) << 8) | (data[pos + 1] as number)) + 1;
      pos += 2;
      if (end - pos < n) throw new CorruptError('truncated LZMA2 uncompressed chunk');
      out.append(data, pos, pos + n);
      pos += n;
      continue;
    }
    if (end - pos < 4) throw new CorruptError('truncated LZMA2 chunk header');
    const unpacked =
      (control & 0x1f) * 65536 + (((data[pos] as number) << 8) | (data[pos + 1] as number)) + 1;
    const packed = (((data[pos + 2] as number) << 8) | (data[pos + 3] as number)) + 1;
    pos += 4;
    const reset = (control >>> 5) & 3;
    if (reset >= 2) {
      if (pos >= end) throw new CorruptError('truncated LZMA2 chunk header');
      const props = parsePropsByte(data[pos++] as number);
      if (props.lc + props.lp > 4) throw new CorruptError('LZMA2 properties have lc + lp > 4');
      dec.setProps(props);
      needProps = false;
    } else if (needProps) {
      throw new CorruptError('LZMA2 chunk needs properties first');
    }
    if (reset >= 1) dec.resetState();
    if (end - pos < packed) throw new CorruptError('truncated LZMA2 chunk');
    dec.rc.init(data, pos, pos + packed);
    dec.run(out, dictStart, out.len + unpacked, false);
    if (dec.rc.pos !== pos + packed) throw new CorruptError('LZMA2 chunk size does not match its data');
    pos += packed;
  }
}

function verifyCheck(type: number, data: Uint8Array, pos: number, content: Uint8Array): void {
  const n = CHECK_SIZES[type] as number;
  const stored = data.subarray(pos, pos + n);
  let ok = true;
  if (type === 0x01) ok = le32(stored, 0) === crc32(content);
  else if (type === 0x04) {
    const c = crc64Bytes(content);
    for (let i = 0; i < 8; i++) if (c[i] !== stored[i]) ok = false;
  } // SHA-256 (0x0a; a page has only an asynchronous one) and reserved types are not verified
  if (!ok) throw new CorruptError('integrity check failed');
}

/** Decode one xz stream at `pos`; returns the offset after its footer. */
function decodeXzStream(data: Uint8Array, pos: number, out: OutBuf): number {
  const len = data.length;
  if (len - pos < 12) throw new CorruptError('truncated xz stream header');
  for (let i = 0; i < 6; i++) if (data[pos + i] !== XZ_MAGIC[i]) throw new CorruptError('not an xz stream');
  if (crc32(data, 0, pos + 6, pos + 8) !== le32(data, pos + 8))
    throw new CorruptError('xz stream header CRC mismatch');
  if (data[pos + 6] !== 0 || ((data[pos + 7] as number) & 0xf0) !== 0)
    throw new CorruptError('unsupported xz stream flags');
  const check = (data[pos + 7] as number) & 0x0f;
  const checkSize = CHECK_SIZES[check] as number;
  pos += 12;
  const records: [number, number][] = [];
  for (;;) {
    if (pos >= len) throw new CorruptError('truncated xz stream');
    const hb = data[pos] as number;
    if (hb === 0x00) break; // index indicator
    const hsize = (hb + 1) * 4;
    if (len - pos < hsize) throw new CorruptError('truncated xz block header');
    if (crc32(data, 0, pos, pos + hsize - 4) !== le32(data, pos + hsize - 4))
      throw new CorruptError('xz block header CRC mismatch');
    const flags = data[pos + 1] as number;
    if (flags & 0x3c) throw new CorruptError('unsupported xz block flags');
    const p = { pos: pos + 2 };
    const hend = pos + hsize - 4;
    const compressedSize = flags & 0x40 ? readVarint(data, p, hend) : -1;
    const uncompressedSize = flags & 0x80 ? readVarint(data, p, hend) : -1;
    const nFilters = (flags & 3) + 1;
    for (let f = 0; f < nFilters; f++) {
      const id = readVarint(data, p, hend);
      const psize = readVarint(data, p, hend);
      if (p.pos + psize > hend) throw new CorruptError('truncated xz filter properties');
      if (id !== 0x21 || f !== nFilters - 1) {
        throw new CorruptError(`unsupported xz filter 0x${id.toString(16)} (only LZMA2 is supported)`);
      }
      if (psize !== 1) throw new CorruptError('bad LZMA2 filter properties');
      // The dictionary size only matters to decoders with a bounded window; ours keeps all output.
      if ((data[p.pos] as number) > 40) throw new CorruptError('bad LZMA2 dictionary size');
      p.pos += psize;
    }
    for (let i = p.pos; i < hend; i++)
      if (data[i] !== 0) throw new CorruptError('non-zero xz block header padding');
    pos += hsize;
    const outStart = out.len;
    const dataStart = pos;
    pos = decodeLzma2(data, pos, len, out);
    const csize = pos - dataStart;
    const usize = out.len - outStart;
    if (compressedSize >= 0 && compressedSize !== csize)
      throw new CorruptError('xz block compressed size mismatch');
    if (uncompressedSize >= 0 && uncompressedSize !== usize)
      throw new CorruptError('xz block uncompressed size mismatch');
    while ((pos - dataStart) % 4 !== 0) {
      if (pos >= len) throw new CorruptError('truncated xz block padding');
      if (data[pos++] !== 0) throw new CorruptError('non-zero xz block padding');
    }
    if (len - pos < checkSize) throw new CorruptError('truncated xz block check');
    verifyCheck(check, data, pos, out.buf.subarray(outStart, out.len));
    pos += checkSize;
    records.push([hsize + csize + checkSize, usize]);
  }
  // Index: must list exactly the blocks just decoded.
  const indexStart = pos;
  const p = { pos: pos + 1 };
  const n = readVarint(data, p, len);
  if (n !== records.length) throw new CorruptError('xz index does not match the blocks');
  for (let i = 0; i < n; i++) {
    const unpadded = readVarint(data, p, len);
    const usize = readVarint(data, p, len);
    const r = records[i] as [number, number];
    if (unpadded !== r[0] || usize !== r[1]) throw new CorruptError('xz index does not match the blocks');
  }
  while ((p.pos - indexStart) % 4 !== 0) {
    if (p.pos >= len) throw new CorruptError('truncated xz index');
    if (data[p.pos++] !== 0) throw new CorruptError('non-zero xz index padding');
  }
  if (len - p.pos < 4 + 12) throw new CorruptError('truncated xz index or footer');
  if (crc32(data, 0, indexStart, p.pos) !== le32(data, p.pos))
    throw new CorruptError('xz index CRC mismatch');
  pos = p.pos + 4;
  // Footer: CRC32, backward size, flags, 'YZ'.
  if (crc32(data, 0, pos + 4, pos + 10) !== le32(data, pos))
    throw new CorruptError('xz stream footer CRC mismatch');
  if ((le32(data, pos + 4) + 1) * 4 !== pos - indexStart)
    throw new CorruptError('xz footer backward size mismatch');
  if (data[pos + 8] !== 0 || data[pos + 9] !== check)
    throw new CorruptError('xz footer flags differ from the header');
  if (data[pos + 10] !== 0x59 || data[pos + 11] !== 0x5a) throw new CorruptError('bad xz footer magic');
  return pos + 12;
}

function startsWithXzMagic(data: Uint8Array, pos: number): boolean {
  if (data.length - pos < 6) return false;
  for (let i = 0; i < 6; i++) if (data[pos + i] !== XZ_MAGIC[i]) return false;
  return true;
}

/**
 * Decode a .xz file: one or more streams with zero padding between them. Like Python's LZMAFile
 * (which joblib reads through), bytes after the last stream that do not start another stream are ignored.
 */
export function decodeXz(data: Uint8Array, out: OutBuf): void {
  let pos = decodeXzStream(data, 0, out);
  while (pos < data.length) {
    while (pos < data.length && data[pos] === 0) pos++;
    if (!startsWithXzMagic(data, pos)) return;
    pos = decodeXzStream(data, pos, out);
  }
}

/**
 * Decode a .lzma file: LZMA-alone streams back to back. As with Python's LZMAFile, trailing bytes
 * that do not decode as a further stream are ignored (their partial output is dropped).
 */
export function decodeLzmaFile(data: Uint8Array, out: OutBuf): void {
  let pos = decodeLzmaAlone(data, 0, out);
  while (data.length - pos >= 13) {
    const mark = out.len;
    try {
      pos = decodeLzmaAlone(data, pos, out);
    } catch (e) {
      if (!(e instanceof CorruptError)) throw e;
      out.len = mark;
      return;
    }
  }
}
