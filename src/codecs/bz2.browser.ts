/**
 * bzip2 in the browser: reading only. The Node codec's packages need Node (seek-bzip allocates with
 * Node's global `Buffer` in every block; libbzip2-wasm's Emscripten glue requires 'fs' and 'path',
 * which a browser bundle cannot resolve), and the browser-ready alternatives measured were LGPL
 * (@openpgp/seek-bzip's sources, bzip2.js) or need the output size up front (@foxglove/wasm-bz2).
 *
 * Decoding: the block decoder of unbzip2-stream (MIT, pure JS, no Buffer in lib/bzip2.js; its
 * streaming wrapper is not used). It emits one byte at a time, which is where the cap is enforced;
 * the bit reader below refuses to read past the input, so a cut stream is 'truncated' rather than
 * decoded from zero bits, and each block CRC and the stream CRC are checked by the decoder.
 */
import bzip2 from 'unbzip2-stream/lib/bzip2.js';
import { PicklingError } from '../errors.js';
import { type Codec, aligned, checkLevel, corruptError, limitError } from './types.js';

/** A bit reader as lib/bzip2.js calls it: `bits(n)` reads n bits MSB first; `bits(null)` aligns. */
interface BitReader {
  (n: number | null): number;
}
interface Bzip2Lib {
  header(bits: BitReader): number;
  decompress(
    bits: BitReader,
    write: (b: number) => void,
    buf: Int32Array,
    size: number,
    crc: number,
  ): number | null;
}

const lib = bzip2 as unknown as Bzip2Lib;

const MASK = [0, 0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/** Bits of `data` from byte `start`; reading past the end throws (a truncated stream). */
function bitReader(data: Uint8Array, start: number): { bits: BitReader; pos: () => number } {
  let byte = start;
  let bit = 0;
  const bits = ((n: number | null): number => {
    if (n === null) {
      if (bit !== 0) {
        bit = 0;
        byte++;
      }
      return 0;
    }
    let result = 0;
    while (n > 0) {
      if (byte >= data.length) throw new Error('compressed data is truncated');
      const left = 8 - bit;
      const cur = data[byte] as number;
      if (n >= left) {
        result = (result << left) | (cur & (MASK[left] as number));
        bit = 0;
        byte++;
        n -= left;
      } else {
        result = (result << n) | ((cur >> (left - n)) & (MASK[n] as number));
        bit += n;
        n = 0;
      }
    }
    return result;
  }) as BitReader;
  return { bits, pos: () => byte };
}

/** A growable output buffer that refuses to pass the cap. */
class Output {
  buf: Uint8Array;
  len = 0;
  constructor(
    private readonly cap: number,
    initial: number,
  ) {
    this.buf = new Uint8Array(Math.max(64, Math.min(cap, initial)));
  }
  readonly write = (b: number): void => {
    if (this.len === this.buf.length) this.grow();
    this.buf[this.len++] = b;
  };
  private grow(): void {
    if (this.len >= this.cap) throw limitError('bzip2', this.cap);
    const next = new Uint8Array(Math.min(this.cap, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
}

const isBzh = (d: Uint8Array, p: number): boolean =>
  d.length - p >= 4 && d[p] === 0x42 && d[p + 1] === 0x5a && d[p + 2] === 0x68;

export const bz2Codec: Codec = {
  name: 'bz2',
  levels: [1, 9],
  /**
   * bzip2 streams back to back, each checked up to its end marker and stream CRC; bytes after a
   * stream that do not start another are ignored (as Python's BZ2File, which joblib reads through).
   */
  decode(data, maxOutput) {
    const out = new Output(maxOutput, Math.max(1 << 16, data.length * 4));
    let pos = 0;
    try {
      do {
        const { bits, pos: at } = bitReader(data, pos);
        const level = lib.header(bits);
        const size = 100_000 * level;
        const work = new Int32Array(size);
        let crc: number | null = 0;
        while (crc !== null) crc = lib.decompress(bits, out.write, work, size, crc);
        pos = at();
      } while (isBzh(data, pos));
    } catch (e) {
      if ((e as { code?: unknown }).code === 'limit') throw e;
      throw corruptError('bzip2', (e as Error).message);
    }
    const b = out.buf.subarray(0, out.len);
    return aligned(out.buf.length - out.len > 1 << 20 ? b.slice() : b);
  },
  encode(_data, level) {
    checkLevel('bz2', level, this.levels);
    throw new PicklingError(
      'bz2 writing is available in Node only (libbzip2-wasm needs Node to load); in a browser use zlib, gzip, lz4 or zstd',
      'root',
      'invalid-value',
    );
  },
};
