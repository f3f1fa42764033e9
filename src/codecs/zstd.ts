/**
 * zstd (magic 28 B5 2F FD). No released joblib writes it; files from joblib's unmerged zstd work
 * and Python 3.14's compression.zstd exist, so reading it is cheap forward compatibility and writing
 * it happens only when asked for.
 *
 * Decoding: fzstd (pure JS, the fflate author's; no initialisation, so it is synchronous in Node
 * and the browser alike). Its streaming decoder emits one block (≤ 128 KiB) at a time, which is
 * where the cap is checked; frame headers are read here first so that a declared window or content
 * size over the limits is refused before fzstd allocates it.
 * Encoding: @bokuweb/zstd-wasm (the reference libzstd in WebAssembly; same sizes as the zstd CLI at
 * every level). WebAssembly needs an asynchronous start, so encoding needs `await ready()` first.
 * Input is cut into 32 MiB frames so the WebAssembly memory (which never shrinks) stays small.
 */
import { Decompress } from 'fzstd';
import { PicklingError } from '../errors.js';
import {
  type Codec,
  CappedChunks,
  joinChunks,
  checkLevel,
  corruptError,
  limitError,
  windowedReader,
} from './types.js';
import type { Producer } from '../bytes/stream-source.js';

const MAGIC = 0xfd2fb528;
/** zstd's own default limit for decoders (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
const MAX_WINDOW = 1 << 27;
const FRAME_INPUT = 32 << 20;

const le = (d: Uint8Array, p: number, n: number): number => {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (d[p + i] as number);
  return v;
};

/**
 * The header of the zstd or skippable frame at `pos`, checked against the limits: a skippable
 * frame's end, or where a zstd frame's first block starts and whether a checksum follows its last
 * block. Undefined when `pos` holds no frame magic. `data` needs only the header's bytes (18 at most).
 */
function frameHeader(
  data: Uint8Array,
  pos: number,
  room: number,
  cap: number,
): { skippable: true; end: number } | { skippable: false; blocks: number; checksum: boolean } | undefined {
  if (data.length - pos < 4) return undefined;
  const magic = le(data, pos, 4);
  if (magic >>> 4 === 0x184d2a5) {
    if (data.length - pos < 8) throw corruptError('zstd', 'truncated skippable frame');
    return { skippable: true, end: pos + 8 + le(data, pos + 4, 4) };
  }
  if (magic !== MAGIC) return undefined;
  if (data.length - pos < 6) throw corruptError('zstd', 'truncated frame header');
  const fhd = data[pos + 4] as number;
  if (fhd & 0x08) throw corruptError('zstd', 'reserved frame header bit is set');
  const single = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3] as number;
  const fcsFlag = fhd >> 6;
  const fcsBytes = fcsFlag ? 1 << fcsFlag : single;
  let p = pos + 5;
  let window = 0;
  if (!single) {
    const wd = data[p++] as number;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  p += dictBytes;
  if (p + fcsBytes > data.length) throw corruptError('zstd', 'truncated frame header');
  if (fcsBytes) {
    const size = le(data, p, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
    if (size > room) throw limitError('zstd', cap);
    if (single) window = size;
  }
  if (window > MAX_WINDOW)
    throw corruptError('zstd', `window of ${window} bytes is over zstd's default limit (128 MiB)`);
  return { skippable: false, blocks: p + fcsBytes, checksum: (fhd & 0x04) !== 0 };
}

/** A block header at `p`: the offset after the block, and whether it is the frame's last. */
function blockEnd(h: number, p: number): { next: number; last: boolean } {
  const type = (h >> 1) & 3;
  if (type === 3) throw corruptError('zstd', 'reserved block type');
  return { next: p + 3 + (type === 1 ? 1 : h >>> 3), last: (h & 1) === 1 };
}

/**
 * The end offset of the zstd or skippable frame at `pos`, after checking its header against the
 * limits. Undefined when `pos` holds no frame magic.
 */
function frameEnd(
  data: Uint8Array,
  pos: number,
  room: number,
  cap: number,
): { end: number; skippable: boolean } | undefined {
  const f = frameHeader(data, pos, room, cap);
  if (f === undefined) return undefined;
  if (f.skippable) {
    if (f.end > data.length) throw corruptError('zstd', 'truncated skippable frame');
    return f;
  }
  let p = f.blocks;
  for (;;) {
    if (data.length - p < 3) throw corruptError('zstd', 'compressed data is truncated');
    const b = blockEnd(le(data, p, 3), p);
    p = b.next;
    if (p > data.length) throw corruptError('zstd', 'compressed data is truncated');
    if (b.last) break;
  }
  if (f.checksum) p += 4; // content checksum (XXH64; fzstd does not verify it)
  if (p > data.length) throw corruptError('zstd', 'compressed data is truncated');
  return { end: p, skippable: false };
}

/**
 * A zstd file's decompressed stream piece by piece, for a StreamSource (src/bytes/stream-source.ts):
 * each block is handed to fzstd as the decoder reads, so the stream is never held whole.
 * `read(offset, length)` gives the compressed bytes (at most `size`). Frames back to back and
 * skippable frames as `decodeChunks` reads them.
 * @example
 * const pieces = zstdPieces((o, n) => file.read(o, n), file.size, limit);
 */
export function zstdPieces(
  read: (offset: number, length: number) => Uint8Array,
  size: number,
  cap: number,
): Producer {
  const bytes = windowedReader(read, size);
  let queue: Uint8Array[] = [];
  let pos = 0;
  let produced = 0;
  let frame: { d: Decompress; p: number; checksum: boolean } | undefined;
  let first = true;
  let done = false;

  const push = (chunk: Uint8Array, final: boolean): void => {
    try {
      (frame as { d: Decompress }).d.push(chunk, final);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'limit') throw e;
      throw corruptError('zstd', (e as Error).message);
    }
  };
  return {
    next() {
      while (queue.length === 0) {
        if (done) return undefined;
        if (frame === undefined) {
          const f = frameHeader(bytes(pos, 18), 0, cap - produced, cap);
          if (f === undefined) {
            if (first) throw corruptError('zstd', 'no zstd frame');
            done = true;
            return undefined;
          }
          first = false;
          if (f.skippable) {
            if (pos + f.end > size) throw corruptError('zstd', 'truncated skippable frame');
            pos += f.end;
            continue;
          }
          const d = new Decompress((chunk) => {
            produced += chunk.length;
            if (produced > cap) throw limitError('zstd', cap);
            queue.push(chunk);
          });
          frame = { d, p: pos + f.blocks, checksum: f.checksum };
          push(bytes(pos, f.blocks), false);
          continue;
        }
        const h = bytes(frame.p, 3);
        if (h.length < 3) throw corruptError('zstd', 'compressed data is truncated');
        const b = blockEnd(le(h, 0, 3), frame.p);
        const end = b.next + (b.last && frame.checksum ? 4 : 0);
        if (end > size) throw corruptError('zstd', 'compressed data is truncated');
        push(bytes(frame.p, end - frame.p), b.last);
        frame.p = end;
        if (b.last) {
          pos = end;
          frame = undefined;
        }
      }
      return queue.shift();
    },
    close() {
      done = true;
      queue = [];
    },
  };
}

let started: Promise<void> | undefined;
let isReady = false;
/** The encoder's module, imported by zstdReady() only (its WebAssembly glue is costly to load). */
let zstdWasm:
  { init(path?: string): Promise<void>; compress(data: Uint8Array, level: number): Uint8Array } | undefined;

/**
 * Start the zstd encoder's WebAssembly (once). `wasm` is where zstd.wasm is served in a browser
 * bundle that does not place it next to the bundle.
 * @example
 * await zstdReady(); dumpsJoblib(value, { compress: ['zstd', 3] });
 */
export function zstdReady(wasm?: string | URL): Promise<void> {
  started ??= import('@bokuweb/zstd-wasm').then(async (m) => {
    const mod = m as unknown as NonNullable<typeof zstdWasm>;
    await mod.init(wasm === undefined ? undefined : String(wasm));
    zstdWasm = mod;
    isReady = true;
  });
  return started;
}

export const zstdCodec: Codec = {
  name: 'zstd',
  levels: [1, 19],
  /** zstd frames back to back (skippable frames skipped); bytes that start no frame are ignored. */
  decode(data, maxOutput) {
    return joinChunks(this.decodeChunks!(data, maxOutput));
  },
  decodeChunks(data, maxOutput) {
    const out = new CappedChunks('zstd', maxOutput);
    let pos = 0;
    let first = true;
    for (;;) {
      const f = frameEnd(data, pos, out.room, maxOutput);
      if (!f) {
        if (first) throw corruptError('zstd', 'no zstd frame');
        break;
      }
      first = false;
      if (!f.skippable) {
        const d = new Decompress((chunk) => out.push(chunk));
        try {
          d.push(data.subarray(pos, f.end), true);
        } catch (e) {
          if ((e as { code?: unknown }).code === 'limit') throw e;
          throw corruptError('zstd', (e as Error).message);
        }
      }
      pos = f.end;
    }
    return out.parts;
  },
  encode(data, level) {
    checkLevel('zstd', level, this.levels);
    if (!isReady) {
      throw new PicklingError(
        'zstd writing needs its WebAssembly started first: `await ready()` (from picklejar) before a synchronous dump',
        'root',
        'invalid-value',
      );
    }
    const enc = zstdWasm as NonNullable<typeof zstdWasm>;
    if (data.length <= FRAME_INPUT) return enc.compress(data, level);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let s = 0; s < data.length; s += FRAME_INPUT) {
      const c = enc.compress(data.subarray(s, s + FRAME_INPUT), level);
      parts.push(c);
      total += c.length;
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  },
};
