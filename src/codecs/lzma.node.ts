/**
 * lzma ("alone") and xz in Node through lzma-native: bindings to liblzma, the library Python's lzma
 * module uses, so a preset gives Python's bytes (same size, same ratio) and decoding is liblzma's.
 * Chosen over @napi-rs/lzma, whose releases that compress (1.5, lzma-rust2) need Node ≥ 22.20 and
 * whose Node 20 release (1.4, lzma-rs) stores data almost uncompressed; over node-liblzma (LGPL,
 * Node ≥ 22). lzma-native ships N-API prebuilds, so the output is the same on every Node version.
 *
 * The binding codes synchronously but cannot be stopped mid-call, so input is fed in slices small
 * enough that one slice cannot inflate far past the cap (LZMA's densest coding is below 10 000:1).
 */
import { createRequire } from 'node:module';
import type { Producer } from '../bytes/stream-source.js';
import { type Codec, CappedChunks, joinChunks, checkLevel, corruptError, limitError } from './types.js';
import { crc32 } from './checksum.js';

type Handler = (
  buf: Buffer | null | undefined,
  chunks: number | undefined,
  err: Error | null | undefined,
  totalIn: number | null,
) => void;
interface NativeStream {
  bufferHandler: Handler;
  code(chunk: Uint8Array | null, async: boolean): void;
  easyEncoder(o: { preset: number; check: number }): void;
  aloneEncoder(o: { preset: number }): void;
  streamDecoder(o: { memlimit?: number; flags?: number }): void;
  aloneDecoder(o: { memlimit?: number }): void;
  resetUnderlying(): void;
}
interface LzmaNative {
  Stream: new () => NativeStream;
  CHECK_CRC64: number;
}

const require = createRequire(import.meta.url);
let lib: LzmaNative | undefined;
const native = (): LzmaNative => (lib ??= require('lzma-native') as LzmaNative);

const MAX_RATIO = 10_000;
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

function encode(data: Uint8Array, level: number, xz: boolean): Uint8Array {
  const s = new (native().Stream)();
  if (xz) s.easyEncoder({ preset: level, check: native().CHECK_CRC64 });
  else s.aloneEncoder({ preset: level });
  const parts: Buffer[] = [];
  let failure: Error | undefined;
  s.bufferHandler = (buf, _n, err) => {
    if (err) failure = err;
    else if (buf) parts.push(buf);
  };
  s.code(data, false);
  s.code(null, false);
  s.resetUnderlying();
  if (failure) throw failure;
  return Buffer.concat(parts);
}

/** Decode one stream at `start`; returns the offset after it (liblzma counts what it consumed). */
function decodeOne(
  data: Uint8Array,
  start: number,
  out: CappedChunks,
  xz: boolean,
  what: string,
  cap: number,
): number {
  // liblzma calls every header fault "Data is corrupt"; name the common one as xz does.
  if (
    xz &&
    data.length - start >= 12 &&
    crc32(data, 0, start + 6, start + 8) !==
      new DataView(data.buffer, data.byteOffset + start + 8, 4).getUint32(0, true)
  ) {
    throw corruptError(what, 'xz stream header CRC mismatch');
  }
  const s = new (native().Stream)();
  if (xz) s.streamDecoder({});
  else s.aloneDecoder({});
  let end = -1;
  let failure: Error | undefined;
  let over = false;
  s.bufferHandler = (buf, _n, err, totalIn) => {
    if (err) failure ??= err;
    else if (buf === null) end = start + (totalIn ?? 0);
    else if (buf) {
      if (buf.length > out.room) over = true;
      else out.push(buf);
    }
  };
  try {
    let pos = start;
    while (pos < data.length && end < 0 && !failure && !over) {
      const slice = Math.max(256, Math.min(1 << 20, Math.floor(out.room / MAX_RATIO)));
      s.code(data.subarray(pos, Math.min(data.length, pos + slice)), false);
      pos += slice;
    }
  } finally {
    s.resetUnderlying();
  }
  if (over) throw limitError(what, cap);
  if (failure) throw corruptError(what, failure.message);
  if (end < 0) throw corruptError(what, 'compressed data is truncated');
  return end;
}

function startsWith(data: Uint8Array, pos: number, magic: readonly number[]): boolean {
  if (data.length - pos < magic.length) return false;
  return magic.every((b, i) => data[pos + i] === b);
}

export const lzmaCodec: Codec = {
  name: 'lzma',
  levels: [0, 9],
  decode(data, maxOutput) {
    return joinChunks(this.decodeChunks!(data, maxOutput));
  },
  decodeChunks(data, maxOutput) {
    const out = new CappedChunks('lzma', maxOutput);
    decodeOne(data, 0, out, false, 'lzma', maxOutput);
    return out.parts;
  },
  encode(data, level) {
    checkLevel('lzma', level, this.levels);
    return encode(data, level, false);
  },
};

export const xzCodec: Codec = {
  name: 'xz',
  levels: [0, 9],
  /**
   * xz streams back to back with their zero padding, as Python's LZMAFile reads them; bytes that
   * start no new stream are ignored (joblib reads through LZMAFile).
   */
  decode(data, maxOutput) {
    return joinChunks(this.decodeChunks!(data, maxOutput));
  },
  decodeChunks(data, maxOutput) {
    const out = new CappedChunks('xz', maxOutput);
    let pos = decodeOne(data, 0, out, true, 'xz', maxOutput);
    for (;;) {
      while (
        data.length - pos >= 4 &&
        data[pos] === 0 &&
        data[pos + 1] === 0 &&
        data[pos + 2] === 0 &&
        data[pos + 3] === 0
      )
        pos += 4;
      if (!startsWith(data, pos, XZ_MAGIC)) break;
      pos = decodeOne(data, pos, out, true, 'xz', maxOutput);
    }
    return out.parts;
  },
  encode(data, level) {
    checkLevel('xz', level, this.levels);
    return encode(data, level, true);
  },
};

/**
 * Node only: an incremental lzma-alone or xz encoder (one stream, the bytes one `encode` call would
 * give), for writing large files block by block through liblzma.
 * @example
 * const enc = lzmaStreamEncoder(6, true); out.push(...enc.push(chunk)); out.push(...enc.end());
 */
export function lzmaStreamEncoder(
  level: number,
  xz: boolean,
): { push(chunk: Uint8Array): Uint8Array[]; end(): Uint8Array[] } {
  checkLevel(xz ? 'xz' : 'lzma', level, [0, 9]);
  const s = new (native().Stream)();
  if (xz) s.easyEncoder({ preset: level, check: native().CHECK_CRC64 });
  else s.aloneEncoder({ preset: level });
  let parts: Uint8Array[] = [];
  let failure: Error | undefined;
  s.bufferHandler = (buf, _n, err) => {
    if (err) failure = err;
    else if (buf) parts.push(buf);
  };
  const take = (): Uint8Array[] => {
    if (failure) throw failure;
    const out = parts;
    parts = [];
    return out;
  };
  return {
    push(chunk) {
      s.code(chunk, false);
      return take();
    },
    end() {
      s.code(null, false);
      s.resetUnderlying();
      return take();
    },
  };
}

/**
 * Node only: an xz or lzma-alone file's decompressed stream, piece by piece, for a StreamSource
 * (src/bytes/stream-source.ts): liblzma decodes synchronously as the decoder reads, so the stream is
 * never held whole (the compressed input comes from `read(offset, length)`, at most `size` bytes).
 * xz streams back to back with their zero padding are read as `decodeChunks` reads them.
 * @example
 * const src = new StreamSource(lzmaPieces((o, n) => file.read(o, n), file.size, true), 'xz', limit);
 */
export function lzmaPieces(
  read: (offset: number, length: number) => Uint8Array,
  size: number,
  xz: boolean,
): Producer {
  const what = xz ? 'xz' : 'lzma';
  // 16 KiB of input per call: liblzma hands out everything one call produces, and a very
  // compressible slice can expand a thousandfold.
  const SLICE = 16 << 10;
  let queue: Uint8Array[] = [];
  let pos = 0; // next input byte to feed
  let start = 0; // where the current xz stream starts
  let stream: NativeStream | undefined;
  let finished = false;
  let failure: Error | undefined;
  let end = -1;

  const open = (): void => {
    if (xz) {
      const head = read(start, Math.min(12, size - start));
      if (
        head.length >= 12 &&
        crc32(head, 0, 6, 8) !== new DataView(head.buffer, head.byteOffset + 8, 4).getUint32(0, true)
      )
        throw corruptError(what, 'xz stream header CRC mismatch');
    }
    const s = new (native().Stream)();
    if (xz) s.streamDecoder({});
    else s.aloneDecoder({});
    end = -1;
    s.bufferHandler = (buf, _n, err, totalIn) => {
      if (err) failure ??= err;
      else if (buf === null) end = start + (totalIn ?? 0);
      else if (buf && buf.length > 0) queue.push(buf);
    };
    stream = s;
  };
  /** After a stream's end: skip xz's zero padding; another stream follows, or the file is done. */
  const following = (): boolean => {
    stream?.resetUnderlying();
    stream = undefined;
    if (!xz) return false;
    let at = end;
    for (;;) {
      const four = read(at, Math.min(4, size - at));
      if (four.length === 4 && four[0] === 0 && four[1] === 0 && four[2] === 0 && four[3] === 0) at += 4;
      else break;
    }
    const magic = read(at, Math.min(XZ_MAGIC.length, size - at));
    if (!startsWith(magic, 0, XZ_MAGIC)) return false;
    start = pos = at;
    open();
    return true;
  };

  return {
    next() {
      while (queue.length === 0) {
        if (finished) return undefined;
        if (stream === undefined) open();
        if (end >= 0) {
          if (!following()) {
            finished = true;
            return undefined;
          }
          continue;
        }
        if (pos >= size) {
          finished = true;
          stream?.resetUnderlying();
          throw corruptError(what, 'compressed data is truncated');
        }
        const n = Math.min(SLICE, size - pos);
        (stream as NativeStream).code(read(pos, n), false);
        pos += n;
        if (failure) {
          finished = true;
          stream?.resetUnderlying();
          throw corruptError(what, failure.message);
        }
      }
      return queue.shift();
    },
    close() {
      finished = true;
      queue = [];
      stream?.resetUnderlying();
      stream = undefined;
    },
  };
}
