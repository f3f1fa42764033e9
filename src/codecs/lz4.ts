/**
 * LZ4 frame format (what Python's `lz4.frame` writes for joblib's `.lz4` files): a bounds-checked
 * streaming decoder that stops at the output cap, and an LZ4HC-style encoder. Kept hand-written: the
 * packages measured (lz4-napi, lz4js) decode a frame into one allocation sized from the input with
 * no output cap, and lz4js does not check match offsets (a bad offset reads zeros, no error).
 */
import { xxh32 } from './checksum.js';
import { CorruptError, OutBuf, OutputLimitError } from './outbuf.js';
import { type Codec, aligned, checkLevel, corruptError, limitError, windowedReader } from './types.js';
import type { Producer } from '../bytes/stream-source.js';

const MAGIC = 0x184d2204;
const BLOCK_SIZES: Record<number, number> = { 4: 1 << 16, 5: 1 << 18, 6: 1 << 20, 7: 1 << 22 };

function le32(d: Uint8Array, i: number): number {
  return (
    ((d[i] as number) |
      ((d[i + 1] as number) << 8) |
      ((d[i + 2] as number) << 16) |
      ((d[i + 3] as number) << 24)) >>>
    0
  );
}

/** Decode one LZ4 block (data[pos, end)) onto `out`; matches may reach back to `windowStart`. */
function decodeBlock(data: Uint8Array, pos: number, end: number, out: OutBuf, windowStart: number): void {
  while (pos < end) {
    const token = data[pos++] as number;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (pos >= end) throw new CorruptError('truncated literal length');
        b = data[pos++] as number;
        lit += b;
      } while (b === 255);
    }
    if (lit > end - pos) throw new CorruptError('literals run past the end of the block');
    out.append(data, pos, pos + lit);
    pos += lit;
    if (pos === end) return; // the last sequence has literals only
    if (end - pos < 2) throw new CorruptError('truncated match offset');
    const offset = (data[pos] as number) | ((data[pos + 1] as number) << 8);
    pos += 2;
    if (offset === 0 || offset > out.len - windowStart) throw new CorruptError('match offset out of range');
    let mlen = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (pos >= end) throw new CorruptError('truncated match length');
        b = data[pos++] as number;
        mlen += b;
      } while (b === 255);
    }
    out.ensure(mlen);
    const buf = out.buf;
    let dst = out.len;
    let src = dst - offset;
    for (const stop = dst + mlen; dst < stop;) buf[dst++] = buf[src++] as number;
    out.len = dst;
  }
}

/** Decode one frame at `pos` (or skip a skippable frame); returns the offset after it. */
function decodeFrame(data: Uint8Array, pos: number, out: OutBuf): number {
  const len = data.length;
  if (len - pos < 7) throw new CorruptError('truncated frame header');
  const magic = le32(data, pos);
  if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
    if (len - pos < 8) throw new CorruptError('truncated skippable frame');
    const n = le32(data, pos + 4);
    if (n > len - pos - 8) throw new CorruptError('truncated skippable frame');
    return pos + 8 + n;
  }
  if (magic !== MAGIC) throw new CorruptError('bad frame magic');
  const descStart = pos + 4;
  const flg = data[descStart] as number;
  const bd = data[descStart + 1] as number;
  if (flg >>> 6 !== 1) throw new CorruptError(`unsupported frame version ${flg >>> 6}`);
  if (flg & 0x02 || bd & 0x8f) throw new CorruptError('reserved frame header bits are set');
  const maxBlock = BLOCK_SIZES[(bd >>> 4) & 7];
  if (maxBlock === undefined) throw new CorruptError('invalid maximum block size');
  const blockChecksum = (flg & 0x10) !== 0;
  const hasSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  if (flg & 0x01) throw new CorruptError('frames with a dictionary id are not supported');
  let p = descStart + 2;
  let contentSize = -1;
  if (hasSize) {
    if (len - p < 8) throw new CorruptError('truncated frame header');
    const lo = le32(data, p);
    const hi = le32(data, p + 4);
    contentSize = hi * 0x100000000 + lo;
    if (contentSize > out.limit - out.len) out.ensure(contentSize); // over the cap: refuse before decoding
    p += 8;
  }
  if (p >= len) throw new CorruptError('truncated frame header');
  if (((xxh32(data, 0, descStart, p) >>> 8) & 0xff) !== data[p])
    throw new CorruptError('frame header checksum mismatch');
  p++;
  const frameStart = out.len;
  for (;;) {
    if (len - p < 4) throw new CorruptError('truncated block header');
    const word = le32(data, p);
    p += 4;
    if (word === 0) break;
    const raw = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > maxBlock) throw new CorruptError('block larger than the frame maximum');
    if (len - p < size + (blockChecksum ? 4 : 0)) throw new CorruptError('truncated block');
    if (blockChecksum && xxh32(data, 0, p, p + size) !== le32(data, p + size))
      throw new CorruptError('block checksum mismatch');
    if (raw) out.append(data, p, p + size);
    else decodeBlock(data, p, p + size, out, frameStart);
    p += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (len - p < 4) throw new CorruptError('truncated content checksum');
    if (xxh32(out.buf, 0, frameStart, out.len) !== le32(data, p))
      throw new CorruptError('content checksum mismatch');
    p += 4;
  }
  if (hasSize && out.len - frameStart !== contentSize) throw new CorruptError('content size mismatch');
  return p;
}

/**
 * Decode an LZ4 frame file: frames back to back. As Python's LZ4FrameFile does, reading stops quietly
 * when what follows a frame is not another frame's magic.
 */
function decodeLz4(data: Uint8Array, out: OutBuf): void {
  let pos = decodeFrame(data, 0, out);
  while (data.length - pos >= 4) {
    const m = le32(data, pos);
    if (m !== MAGIC && (m & 0xfffffff0) >>> 0 !== 0x184d2a50) return;
    pos = decodeFrame(data, pos, out);
  }
}

// ---- encoder -----------------------------------------------------------------------------------
//
// Written here because no package writes what Python's lz4.frame writes at joblib's default level 3:
// levels 3+ are LZ4HC (hash chains searched `depth` deep), and lz4-napi, lz4js and lz4-wasm only have
// the fast greedy mode (measured: 1.12x Python's size at level 3). Blocks are linked (matches reach
// into the previous 64 KiB), as in lz4.frame's default.

const HASH_BITS = 16;
const WINDOW = 65536;
const MIN_MATCH = 4;
const LAST_LITERALS = 5; // the format requires the last 5 bytes of a block to be literals
const MF_LIMIT = 12; // no match may start within the last 12 bytes of a block
const BLOCK = 1 << 16;

/** Search depth per level: 1-2 greedy single probe (lz4's fast mode), 3+ hash chains as LZ4HC's. */
function depthFor(level: number): number {
  if (level <= 2) return 1;
  return Math.min(4096, 1 << (level - 1)); // 3 -> 4, 4 -> 8, … 9 -> 256 (LZ4HC's nbSearches)
}

class MatchFinder {
  readonly head = new Int32Array(1 << HASH_BITS).fill(-1);
  readonly chain = new Int32Array(WINDOW);
  next = 0; // positions below this are inserted
  constructor(
    private readonly src: Uint8Array,
    private readonly depth: number,
  ) {}
  private hash(i: number): number {
    const s = this.src;
    const v =
      (s[i] as number) |
      ((s[i + 1] as number) << 8) |
      ((s[i + 2] as number) << 16) |
      ((s[i + 3] as number) << 24);
    return Math.imul(v, 2654435761) >>> (32 - HASH_BITS);
  }
  insertUpTo(end: number): void {
    for (let i = this.next; i < end; i++) {
      const h = this.hash(i);
      this.chain[i & (WINDOW - 1)] = this.head[h] as number;
      this.head[h] = i;
    }
    if (end > this.next) this.next = end;
  }
  /** Longest match for position `i` ending before `limit`; returns [length, distance] or length 0. */
  find(i: number, limit: number, out: Int32Array): void {
    this.insertUpTo(i);
    const s = this.src;
    let best = 0;
    let dist = 0;
    let cand = this.head[this.hash(i)] as number;
    const lowest = i - (WINDOW - 1);
    for (let n = this.depth; n > 0 && cand >= lowest && cand >= 0; n--) {
      if (
        s[cand + best] === s[i + best] &&
        s[cand] === s[i] &&
        s[cand + 1] === s[i + 1] &&
        s[cand + 2] === s[i + 2] &&
        s[cand + 3] === s[i + 3]
      ) {
        let len = MIN_MATCH;
        while (i + len < limit && s[cand + len] === s[i + len]) len++;
        if (len > best) {
          best = len;
          dist = i - cand;
          if (i + len >= limit) break;
        }
      }
      cand = this.chain[cand & (WINDOW - 1)] as number;
    }
    out[0] = best >= MIN_MATCH ? best : 0;
    out[1] = dist;
  }
}

/** Compress `src[start, end)` as one block; returns its length in `dst`. */
function compressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  mf: MatchFinder,
): number {
  let d = 0;
  let anchor = start;
  let i = start;
  const matchLimit = end - LAST_LITERALS;
  const searchEnd = end - MF_LIMIT;
  const m = new Int32Array(2);
  const writeLen = (n: number): void => {
    while (n >= 255) {
      dst[d++] = 255;
      n -= 255;
    }
    dst[d++] = n;
  };
  while (i < searchEnd) {
    mf.find(i, matchLimit, m);
    const mlen = m[0] as number;
    if (mlen === 0) {
      i++;
      continue;
    }
    const lit = i - anchor;
    const ml = mlen - MIN_MATCH;
    dst[d++] = ((lit >= 15 ? 15 : lit) << 4) | (ml >= 15 ? 15 : ml);
    if (lit >= 15) writeLen(lit - 15);
    dst.set(src.subarray(anchor, i), d);
    d += lit;
    const off = m[1] as number;
    dst[d++] = off & 0xff;
    dst[d++] = off >>> 8;
    if (ml >= 15) writeLen(ml - 15);
    i += mlen;
    anchor = i;
  }
  const lit = end - anchor;
  dst[d++] = (lit >= 15 ? 15 : lit) << 4;
  if (lit >= 15) writeLen(lit - 15);
  dst.set(src.subarray(anchor, end), d);
  d += lit;
  mf.insertUpTo(Math.max(mf.next, end - 3));
  return d;
}

/**
 * One LZ4 frame as lz4.frame writes it: linked 64 KiB blocks, content checksum; content size stored
 * so a reader can refuse an over-large file before decoding. `level` sets the search depth.
 */
function encodeLz4(src: Uint8Array, level = 3): Uint8Array {
  const nBlocks = Math.ceil(src.length / BLOCK);
  const out = new Uint8Array(4 + 11 + 4 + nBlocks * (4 + BLOCK + 8) + 4 + 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  out[4] = 0x40 | 0x08 | 0x04; // version 1, linked blocks, content size, content checksum
  out[5] = 4 << 4; // 64 KiB blocks
  v.setUint32(6, src.length % 0x100000000, true);
  v.setUint32(10, Math.floor(src.length / 0x100000000), true);
  out[14] = (xxh32(out, 0, 4, 14) >>> 8) & 0xff;
  let o = 15;
  const mf = new MatchFinder(src, depthFor(level));
  const scratch = new Uint8Array(BLOCK + Math.ceil(BLOCK / 255) + 16);
  for (let s = 0; s < src.length; s += BLOCK) {
    const e = Math.min(src.length, s + BLOCK);
    const n = compressBlock(src, s, e, scratch, mf);
    if (n >= e - s) {
      v.setUint32(o, (0x80000000 | (e - s)) >>> 0, true);
      out.set(src.subarray(s, e), o + 4);
      o += 4 + (e - s);
    } else {
      v.setUint32(o, n, true);
      out.set(scratch.subarray(0, n), o + 4);
      o += 4 + n;
    }
  }
  v.setUint32(o, 0, true);
  o += 4;
  v.setUint32(o, xxh32(src), true);
  o += 4;
  return out.slice(0, o);
}

/** Run an OutBuf-based decoder under the cap, turning its errors into UnpicklingErrors. */
export function viaOutBuf(
  what: string,
  data: Uint8Array,
  cap: number,
  run: (out: OutBuf) => void,
): Uint8Array {
  const out = new OutBuf(cap, Math.min(cap, Math.max(1 << 16, data.length * 4)));
  try {
    run(out);
  } catch (e) {
    if (e instanceof OutputLimitError) throw limitError(what, cap);
    if (e instanceof CorruptError) throw corruptError(what, e.message);
    throw e;
  }
  return aligned(out.result());
}

export const lz4Codec: Codec = {
  name: 'lz4',
  levels: [0, 16],
  decode(data, maxOutput) {
    return viaOutBuf('lz4', data, maxOutput, (out) => decodeLz4(data, out));
  },
  encode(data, level) {
    checkLevel('lz4', level, this.levels);
    return encodeLz4(data, level);
  },
};

/**
 * An LZ4 frame file's decompressed stream piece by piece, for a StreamSource
 * (src/bytes/stream-source.ts): blocks are decoded as the decoder reads, each piece a few MiB that
 * starts with the 64 KiB its matches may reach back into, so the stream is never held whole (decoding
 * a 300 MB file whole into a growing buffer peaked at 2.6x). `read(offset, length)` gives the
 * compressed bytes (at most `size`). Undefined when the first frame has a content checksum (it covers
 * the whole frame: such files decode whole, by `decode`); python-lz4 writes none by default.
 * @example
 * const pieces = lz4Pieces((o, n) => file.read(o, n), file.size);
 */
export function lz4Pieces(
  read: (offset: number, length: number) => Uint8Array,
  size: number,
): Producer | undefined {
  const PIECE = 4 << 20;
  const HISTORY = 1 << 16;
  const window = windowedReader(read, size);
  /** A view of file bytes [p, p + n), or undefined when the file ends first. */
  const bytes = (p: number, n: number): Uint8Array | undefined => {
    const b = window(p, n);
    return b.length === n ? b : undefined;
  };
  const fail = (m: string): never => {
    throw corruptError('lz4', m);
  };

  let pos = 0;
  let inFrame = false;
  let maxBlock = 0;
  let blockChecksum = false;
  let contentChecksum = false;
  let history = new Uint8Array(0); // the last output bytes of the current frame
  let done = false;

  /** Parse a frame header at `pos` (skipping skippable frames); false at the end of the stream. */
  const frameHeader = (first: boolean): boolean => {
    for (;;) {
      const m = bytes(pos, 4);
      if (m === undefined) {
        if (first) fail('truncated frame header');
        return false;
      }
      const magic = le32(m, 0);
      if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
        const h = bytes(pos, 8) ?? fail('truncated skippable frame');
        const n = le32(h, 4);
        if (n > size - pos - 8) fail('truncated skippable frame');
        pos += 8 + n;
        continue;
      }
      if (magic !== MAGIC) {
        if (first) fail('bad frame magic');
        return false; // as LZ4FrameFile: what follows a frame that is no frame is ignored
      }
      const d = bytes(pos + 4, 2) ?? fail('truncated frame header');
      const flg = d[0] as number;
      const bd = d[1] as number;
      if (flg >>> 6 !== 1) fail(`unsupported frame version ${flg >>> 6}`);
      if (flg & 0x02 || bd & 0x8f) fail('reserved frame header bits are set');
      if (flg & 0x01) fail('frames with a dictionary id are not supported');
      const mb = BLOCK_SIZES[(bd >>> 4) & 7];
      if (mb === undefined) return fail('invalid maximum block size');
      maxBlock = mb;
      blockChecksum = (flg & 0x10) !== 0;
      contentChecksum = (flg & 0x04) !== 0;
      const headerLen = 2 + ((flg & 0x08) !== 0 ? 8 : 0);
      const h = bytes(pos, 4 + headerLen + 1) ?? fail('truncated frame header');
      if (((xxh32(h, 0, 4, 4 + headerLen) >>> 8) & 0xff) !== h[4 + headerLen])
        fail('frame header checksum mismatch');
      pos += 4 + headerLen + 1;
      inFrame = true;
      history = new Uint8Array(0);
      return true;
    }
  };

  if (!frameHeader(true)) return undefined;
  if (contentChecksum) return undefined;

  return {
    next() {
      if (done) return undefined;
      // Sized for a piece and one more block: a block decoding past the frame's maximum is corrupt.
      const room = history.length + PIECE + maxBlock;
      const out = new OutBuf(room, room);
      out.append(history);
      const start = history.length;
      let windowStart = 0;
      while (out.len - start < PIECE) {
        if (!inFrame) {
          if (!frameHeader(false)) {
            done = true;
            break;
          }
          if (contentChecksum) fail('a later frame has a content checksum (not read in pieces)');
          windowStart = out.len; // matches never reach into the previous frame
        }
        const w = bytes(pos, 4) ?? fail('truncated block header');
        const word = le32(w, 0);
        pos += 4;
        if (word === 0) {
          inFrame = false;
          continue;
        }
        const raw = (word & 0x80000000) !== 0;
        const n = word & 0x7fffffff;
        if (n > maxBlock) fail('block larger than the frame maximum');
        const block = bytes(pos, n + (blockChecksum ? 4 : 0)) ?? fail('truncated block');
        if (blockChecksum && xxh32(block, 0, 0, n) !== le32(block, n)) fail('block checksum mismatch');
        const before = out.len;
        try {
          if (raw) out.append(block, 0, n);
          else decodeBlock(block, 0, n, out, windowStart);
        } catch (e) {
          if (e instanceof CorruptError) fail(e.message);
          if (e instanceof OutputLimitError) fail('block decodes past the frame maximum');
          throw e;
        }
        if (out.len - before > maxBlock) fail('block decodes past the frame maximum');
        pos += n + (blockChecksum ? 4 : 0);
      }
      const keep = Math.max(windowStart, out.len - HISTORY);
      history = inFrame ? out.buf.slice(keep, out.len) : new Uint8Array(0);
      return out.len > start ? out.buf.subarray(start, out.len) : undefined;
    },
    close() {
      done = true;
    },
  };
}
