/**
 * zlib and gzip in Node: node:zlib (the same zlib Python links, so sizes match Python's at every
 * level). Inflation stops at the cap through `maxOutputLength`.
 */
import * as zlib from 'node:zlib';
import { type Codec, aligned, checkLevel, corruptError, limitError } from './types.js';
import { crc32 } from './checksum.js';
import { gzipBody, isZlibHeader, joinParts } from './deflate-frames.js';

function inflateOne(
  raw: boolean,
  data: Uint8Array,
  budget: number,
  what: string,
  maxBytes: number,
): { out: Uint8Array; used: number } {
  if (budget <= 0) throw limitError(what, maxBytes);
  try {
    // One output chunk large enough for the usual ratio: node:zlib otherwise inflates into 16 KiB
    // chunks and concatenates them, which holds the output twice. Untouched pages of a big chunk
    // cost address space, not memory.
    const chunkSize = Math.max(64 * 1024, Math.min(budget, data.length * 4, 256 * 1024 * 1024));
    const opts = { info: true as const, maxOutputLength: Math.min(budget, 2 ** 32), chunkSize };
    const r = (raw ? zlib.inflateRawSync(data, opts) : zlib.inflateSync(data, opts)) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    return { out: r.buffer, used: r.engine.bytesWritten };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err?.code === 'ERR_BUFFER_TOO_LARGE') throw limitError(what, maxBytes);
    throw corruptError(what, err?.message ?? String(e));
  }
}

export const zlibCodec: Codec = {
  name: 'zlib',
  levels: [0, 9],
  /** zlib streams back to back (joblib's reader accepts several); other trailing bytes are ignored. */
  decode(data, maxOutput) {
    const parts: Uint8Array[] = [];
    let total = 0;
    let pos = 0;
    do {
      const { out, used } = inflateOne(false, data.subarray(pos), maxOutput - total, 'zlib', maxOutput);
      parts.push(out);
      total += out.length;
      pos += used;
    } while (pos < data.length && isZlibHeader(data, pos));
    return aligned(joinParts(parts, total));
  },
  encode(data, level) {
    checkLevel('zlib', level, this.levels);
    return zlib.deflateSync(data, { level });
  },
};

export const gzipCodec: Codec = {
  name: 'gzip',
  levels: [0, 9],
  /** gzip members back to back, each checked (CRC32, size); trailing non-gzip bytes are ignored. */
  decode(data, maxOutput) {
    const parts: Uint8Array[] = [];
    let total = 0;
    let pos = 0;
    do {
      const body = gzipBody(data, pos);
      const { out, used } = inflateOne(true, data.subarray(body), maxOutput - total, 'gzip', maxOutput);
      const p = body + used;
      if (data.length - p < 8) throw corruptError('gzip', 'truncated trailer');
      const view = new DataView(data.buffer, data.byteOffset + p, 8);
      if (view.getUint32(0, true) !== crc32(out)) throw corruptError('gzip', 'CRC32 mismatch');
      if (view.getUint32(4, true) !== out.length % 2 ** 32) throw corruptError('gzip', 'length mismatch');
      parts.push(out);
      total += out.length;
      pos = p + 8;
    } while (data.length - pos >= 2 && data[pos] === 0x1f && data[pos + 1] === 0x8b);
    return aligned(joinParts(parts, total));
  },
  encode(data, level) {
    checkLevel('gzip', level, this.levels);
    // joblib writes gzip through zlib itself (wbits 31): mtime 0, no name, zlib's OS byte, as node does.
    return zlib.gzipSync(data, { level });
  },
};
