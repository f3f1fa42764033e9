/**
 * zlib and gzip in the browser: fflate (MIT, pure JS). Its streaming inflater hands out chunks,
 * where the cap is checked, so a bomb stops at the cap.
 */
import { Deflate, Gunzip, Gzip, Unzlib } from 'fflate';
import { type Codec, CappedChunks, checkLevel, corruptError } from './types.js';
import { gzipBody, isZlibHeader } from './deflate-frames.js';

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

const MIN_SLICE = 16 * 1024;
const MAX_SLICE = 1024 * 1024;

/** Run one fflate stream decoder over `data` with its output under the cap. */
function inflateWith(
  make: (push: (c: Uint8Array) => void) => { push(d: Uint8Array, final?: boolean): void },
  data: Uint8Array,
  out: CappedChunks,
  what: string,
): void {
  try {
    // fflate inflates all it is given before handing out the result: fed whole, a bomb would be
    // inflated in full before the cap is checked. Slices bound the overshoot: deflate expands at
    // most ~1032:1, so a slice of room/1032 bytes cannot inflate far past the cap (16 KiB at least,
    // under 17 MiB of output; 1 MiB at most, as smaller pushes cost time).
    const stream = make((c) => out.push(c));
    if (data.length === 0) stream.push(data, true);
    for (let p = 0; p < data.length;) {
      const n = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.floor(out.room / 1032)));
      stream.push(data.subarray(p, p + n), p + n >= data.length);
      p += n;
    }
  } catch (e) {
    if ((e as { code?: unknown }).code === 'limit') throw e;
    throw corruptError(what, (e as Error).message);
  }
}

export const zlibCodec: Codec = {
  name: 'zlib',
  levels: [0, 9],
  decode(data, maxOutput) {
    // One zlib stream (fflate cannot say where a stream ends, so the several back-to-back streams
    // that Node's reader accepts are not read here).
    const out = new CappedChunks('zlib', maxOutput);
    if (!isZlibHeader(data, 0)) throw corruptError('zlib', 'incorrect header check');
    inflateWith((push) => new Unzlib(push), data, out, 'zlib');
    return out.join();
  },
  encode(data, level) {
    checkLevel('zlib', level, this.levels);
    return collect(
      (push) => {
        const d = new Deflate({ level: level as Level }, push);
        d.push(data, true);
      },
      true,
      data,
    );
  },
};

/** Run an fflate compressor and join its chunks; zlib output gets its header and Adler-32 here. */
function collect(
  run: (push: (c: Uint8Array) => void) => void,
  zlibWrap: boolean,
  data: Uint8Array,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  run((c) => {
    parts.push(c);
    total += c.length;
  });
  const head = zlibWrap ? 2 : 0;
  const tail = zlibWrap ? 4 : 0;
  const out = new Uint8Array(head + total + tail);
  let o = head;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  if (zlibWrap) {
    out[0] = 0x78;
    out[1] = 0x5e; // level-independent FLEVEL is informative only; 0x785e is what zlib writes at 2-5
    let a = 1;
    let b = 0;
    for (let i = 0; i < data.length;) {
      const n = Math.min(data.length, i + 5552);
      for (; i < n; i++) {
        a += data[i] as number;
        b += a;
      }
      a %= 65521;
      b %= 65521;
    }
    new DataView(out.buffer).setUint32(o, ((b << 16) | a) >>> 0, false);
  }
  return out;
}

export const gzipCodec: Codec = {
  name: 'gzip',
  levels: [0, 9],
  decode(data, maxOutput) {
    // fflate's Gunzip reads members back to back and checks each CRC32 and size.
    const out = new CappedChunks('gzip', maxOutput);
    gzipBody(data, 0);
    inflateWith((push) => new Gunzip(push), data, out, 'gzip');
    return out.join();
  },
  encode(data, level) {
    checkLevel('gzip', level, this.levels);
    return collect(
      (push) => {
        const g = new Gzip({ level: level as Level, mtime: 0 }, push);
        g.push(data, true);
      },
      false,
      data,
    );
  },
};
