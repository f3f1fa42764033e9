/**
 * Zip writing for torch archives and .npz files: stored entries padded so their data starts on an
 * `align`-byte boundary (torch's `FB` extra field), deflated entries through fflate, CRC-32, and
 * ZIP64 records whenever a size or offset needs them (the end always carries a ZIP64 record, as
 * torch's writer does). Output goes to a sink chunk by chunk, so a file writer never holds the
 * whole archive.
 */
import { deflateSync } from 'fflate';
import { crc32 } from './crc32.js';

interface Written {
  readonly name: Uint8Array;
  readonly method: number;
  readonly crc: number;
  readonly csize: number;
  readonly usize: number;
  readonly offset: number;
}

const MAX32 = 0xffffffff;

function u64(view: DataView, at: number, v: number): void {
  view.setUint32(at, v % 2 ** 32, true);
  view.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
}

/** Options of one entry. */
export interface ZipAddOptions {
  /** Deflate the data (default: stored). */
  readonly compress?: boolean;
  /** Start stored data on a multiple of this many bytes (default 64, as torch). */
  readonly align?: number;
}

/**
 * A zip archive written to a sink.
 * @example
 * const chunks: Uint8Array[] = [];
 * const zip = new ZipWriter((c) => chunks.push(c));
 * zip.add('archive/version', new TextEncoder().encode('3\n'));
 * zip.finish();
 */
export class ZipWriter {
  #offset = 0;
  readonly #done: Written[] = [];
  #finished = false;

  /**
   * `zip64End`: 'always' writes the ZIP64 end records even when nothing needs them (torch's writer
   * does); 'auto' only when needed (an empty .npz must start with `PK\x05\x06` for np.load).
   */
  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    private readonly zip64End: 'always' | 'auto' = 'always',
    /** The CRC-32 to use (Node passes zlib.crc32, ~4× faster than the portable one on big entries). */
    private readonly checksum: (data: Uint8Array, crc?: number) => number = crc32,
  ) {}

  /** Bytes written so far. */
  get offset(): number {
    return this.#offset;
  }

  private emit(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.sink(chunk);
    this.#offset += chunk.length;
  }

  /**
   * Add one entry (`data` is written as given: no copy for stored entries; several parts are one
   * entry's bytes in order, written without joining them).
   */
  add(name: string, data: Uint8Array | readonly Uint8Array[], options: ZipAddOptions = {}): void {
    if (this.#finished) throw new Error('zip already finished');
    const nameBytes = new TextEncoder().encode(name);
    const compress = options.compress === true;
    const parts = data instanceof Uint8Array ? [data] : compress ? [concatChunks(data)] : data;
    let size = 0;
    let crc = 0;
    for (const p of parts) {
      size += p.length;
      crc = this.checksum(p, crc);
    }
    const payloads = compress ? [deflateSync(parts[0] as Uint8Array, { level: 6 })] : parts;
    const packed = compress ? (payloads[0] as Uint8Array).length : size;
    const offset = this.#offset;
    const zip64 = size >= MAX32 || packed >= MAX32 || offset >= MAX32;
    const z64len = zip64 ? 20 : 0;
    let pad = 0;
    if (!compress) {
      const align = options.align ?? 64;
      const bare = offset + 30 + nameBytes.length + z64len;
      // The FB field itself takes 4 bytes before its padding.
      pad = (align - ((bare + 4) % align)) % align;
    }
    const extraLen = z64len + (compress ? 0 : 4 + pad);
    const h = new Uint8Array(30 + nameBytes.length + extraLen);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, zip64 ? 45 : 20, true);
    v.setUint16(6, 0x800, true); // UTF-8 names
    v.setUint16(8, compress ? 8 : 0, true);
    v.setUint16(10, 0, true); // 00:00:00
    v.setUint16(12, 0x21, true); // 1980-01-01: fixed, so output does not depend on the clock
    v.setUint32(14, crc, true);
    v.setUint32(18, zip64 ? MAX32 : packed, true);
    v.setUint32(22, zip64 ? MAX32 : size, true);
    v.setUint16(26, nameBytes.length, true);
    v.setUint16(28, extraLen, true);
    h.set(nameBytes, 30);
    let x = 30 + nameBytes.length;
    if (zip64) {
      v.setUint16(x, 1, true);
      v.setUint16(x + 2, 16, true);
      u64(v, x + 4, size);
      u64(v, x + 12, packed);
      x += 20;
    }
    if (!compress) {
      v.setUint16(x, 0x4246, true); // 'FB'
      v.setUint16(x + 2, pad, true);
      h.fill(0x5a, x + 4, x + 4 + pad); // 'Z'
    }
    this.emit(h);
    for (const p of payloads) this.emit(p);
    this.#done.push({
      name: nameBytes,
      method: compress ? 8 : 0,
      crc,
      csize: packed,
      usize: size,
      offset,
    });
  }

  /** Write the central directory and end records. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const cdStart = this.#offset;
    for (const e of this.#done) {
      const needs = [e.usize >= MAX32, e.csize >= MAX32, e.offset >= MAX32];
      const n64 = needs.filter(Boolean).length;
      const extraLen = n64 > 0 ? 4 + 8 * n64 : 0;
      const c = new Uint8Array(46 + e.name.length + extraLen);
      const v = new DataView(c.buffer);
      v.setUint32(0, 0x02014b50, true);
      v.setUint16(4, 45, true);
      v.setUint16(6, n64 > 0 ? 45 : 20, true);
      v.setUint16(8, 0x800, true);
      v.setUint16(10, e.method, true);
      v.setUint16(12, 0, true);
      v.setUint16(14, 0x21, true);
      v.setUint32(16, e.crc, true);
      v.setUint32(20, needs[1] ? MAX32 : e.csize, true);
      v.setUint32(24, needs[0] ? MAX32 : e.usize, true);
      v.setUint16(28, e.name.length, true);
      v.setUint16(30, extraLen, true);
      v.setUint32(42, needs[2] ? MAX32 : e.offset, true);
      c.set(e.name, 46);
      if (n64 > 0) {
        let x = 46 + e.name.length;
        v.setUint16(x, 1, true);
        v.setUint16(x + 2, 8 * n64, true);
        x += 4;
        for (const [need, val] of [
          [needs[0], e.usize],
          [needs[1], e.csize],
          [needs[2], e.offset],
        ] as const) {
          if (!need) continue;
          u64(v, x, val);
          x += 8;
        }
      }
      this.emit(c);
    }
    const cdSize = this.#offset - cdStart;
    const z64At = this.#offset;
    const need64 =
      this.zip64End === 'always' || cdStart >= MAX32 || cdSize >= MAX32 || this.#done.length >= 0xffff;
    const end = new Uint8Array(56 + 20 + 22);
    const v = new DataView(end.buffer);
    // ZIP64 end of central directory record
    v.setUint32(0, 0x06064b50, true);
    u64(v, 4, 44);
    v.setUint16(12, 45, true);
    v.setUint16(14, 45, true);
    u64(v, 24, this.#done.length);
    u64(v, 32, this.#done.length);
    u64(v, 40, cdSize);
    u64(v, 48, cdStart);
    // locator
    v.setUint32(56, 0x07064b50, true);
    u64(v, 64, z64At);
    v.setUint32(72, 1, true);
    // end of central directory
    const n = this.#done.length;
    v.setUint32(76, 0x06054b50, true);
    v.setUint16(84, Math.min(n, 0xffff), true);
    v.setUint16(86, Math.min(n, 0xffff), true);
    v.setUint32(88, Math.min(cdSize, MAX32), true);
    v.setUint32(92, Math.min(cdStart, MAX32), true);
    this.emit(need64 ? end : end.subarray(76));
  }
}

/** Concatenate chunks into one array. */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
