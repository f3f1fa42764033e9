/**
 * LZ4 frame format (what Python's `lz4.frame` writes for joblib's `.lz4` files): a bounds-checked
 * streaming decoder that stops at the output cap, and a compact greedy encoder.
 */
import { xxh32 } from './checksum.js';
import { CorruptError, OutBuf } from './outbuf.js';

const MAGIC = 0x184d2204;
const BLOCK_SIZES: Record<number, number> = { 4: 1 << 16, 5: 1 << 18, 6: 1 << 20, 7: 1 << 22 };

function le32(d: Uint8Array, i: number): number {
  return ((d[i] as number) | ((d[i + 1] as number) << 8) | ((d[i + 2] as number) << 16) | ((d[i + 3] as number) << 24)) >>> 0;
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
    for (const stop = dst + mlen; dst < stop; ) buf[dst++] = buf[src++] as number;
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
  if (((xxh32(data, 0, descStart, p) >>> 8) & 0xff) !== data[p]) throw new CorruptError('frame header checksum mismatch');
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
    if (blockChecksum && xxh32(data, 0, p, p + size) !== le32(data, p + size)) throw new CorruptError('block checksum mismatch');
    if (raw) out.append(data, p, p + size);
    else decodeBlock(data, p, p + size, out, frameStart);
    p += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (len - p < 4) throw new CorruptError('truncated content checksum');
    if (xxh32(out.buf, 0, frameStart, out.len) !== le32(data, p)) throw new CorruptError('content checksum mismatch');
    p += 4;
  }
  if (hasSize && out.len - frameStart !== contentSize) throw new CorruptError('content size mismatch');
  return p;
}

/**
 * Decode an LZ4 frame file: frames back to back. As Python's LZ4FrameFile does, reading stops quietly
 * when what follows a frame is not another frame's magic.
 */
export function decodeLz4(data: Uint8Array, out: OutBuf): void {
  let pos = decodeFrame(data, 0, out);
  while (data.length - pos >= 4) {
    const m = le32(data, pos);
    if (m !== MAGIC && (m & 0xfffffff0) >>> 0 !== 0x184d2a50) return;
    pos = decodeFrame(data, pos, out);
  }
}

// ---- encoder -----------------------------------------------------------------------------------

const HASH_BITS = 16;
const MIN_MATCH = 4;
const LAST_LITERALS = 5; // the format requires the last 5 bytes of a block to be literals
const MF_LIMIT = 12; // no match may start within the last 12 bytes of a block

/** Compress `src[start, end)` as one block; returns its length in `dst` (0 when nothing matched). */
function compressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, table: Int32Array, accel: number): number {
  table.fill(-1);
  let d = 0;
  let anchor = start;
  let i = start;
  const matchLimit = end - LAST_LITERALS;
  const searchEnd = end - MF_LIMIT;
  let misses = 0;
  const read32 = (k: number): number =>
    ((src[k] as number) | ((src[k + 1] as number) << 8) | ((src[k + 2] as number) << 16) | ((src[k + 3] as number) << 24)) >>> 0;
  const writeLen = (n: number): void => {
    while (n >= 255) {
      dst[d++] = 255;
      n -= 255;
    }
    dst[d++] = n;
  };
  while (i < searchEnd) {
    const seq = read32(i);
    const h = Math.imul(seq, 2654435761) >>> (32 - HASH_BITS);
    const cand = table[h] as number;
    table[h] = i;
    if (cand < 0 || i - cand > 65535 || read32(cand) !== seq) {
      i += 1 + (misses++ >> accel);
      continue;
    }
    misses = 0;
    let mlen = MIN_MATCH;
    while (i + mlen < matchLimit && src[i + mlen] === src[cand + mlen]) mlen++;
    const lit = i - anchor;
    const ml = mlen - MIN_MATCH;
    dst[d++] = ((lit >= 15 ? 15 : lit) << 4) | (ml >= 15 ? 15 : ml);
    if (lit >= 15) writeLen(lit - 15);
    dst.set(src.subarray(anchor, i), d);
    d += lit;
    const off = i - cand;
    dst[d++] = off & 0xff;
    dst[d++] = off >>> 8;
    if (ml >= 15) writeLen(ml - 15);
    i += mlen;
    anchor = i;
  }
  if (anchor === start) return 0;
  const lit = end - anchor;
  dst[d++] = (lit >= 15 ? 15 : lit) << 4;
  if (lit >= 15) writeLen(lit - 15);
  dst.set(src.subarray(anchor, end), d);
  d += lit;
  return d;
}

/**
 * One LZ4 frame: independent 64 KiB blocks (lz4.frame's default block size), content size and
 * content checksum stored. `level` trades speed for ratio through the skip acceleration only.
 */
export function encodeLz4(src: Uint8Array, level = 3): Uint8Array {
  const blockSize = 1 << 16;
  const nBlocks = Math.ceil(src.length / blockSize);
  const out = new Uint8Array(4 + 11 + 4 + nBlocks * (4 + blockSize + 8) + 4 + 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  out[4] = 0x40 | 0x20 | 0x08 | 0x04; // version 1, independent blocks, content size, content checksum
  out[5] = 4 << 4; // 64 KiB blocks
  v.setUint32(6, src.length % 0x100000000, true);
  v.setUint32(10, Math.floor(src.length / 0x100000000), true);
  out[14] = (xxh32(out, 0, 4, 14) >>> 8) & 0xff;
  let o = 15;
  const table = new Int32Array(1 << HASH_BITS);
  const scratch = new Uint8Array(blockSize + Math.ceil(blockSize / 255) + 16);
  const accel = level >= 9 ? 8 : level >= 5 ? 7 : 6;
  for (let s = 0; s < src.length; s += blockSize) {
    const e = Math.min(src.length, s + blockSize);
    const n = compressBlock(src, s, e, scratch, table, accel);
    if (n === 0 || n >= e - s) {
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
