/**
 * The one interface every compressor of joblib's containers sits behind (src/codecs/*), and the
 * errors they share. Each codec decodes a whole buffer synchronously with a hard output cap and
 * encodes at a level; Node and browser variants of a codec export the same shape.
 */
import { PicklingError, UnpicklingError } from '../errors.js';

/** The compressors a joblib file can be wrapped in (zstd: read, and written only on request). */
export type CodecName = 'zlib' | 'gzip' | 'bz2' | 'lzma' | 'xz' | 'lz4' | 'zstd';

export interface Codec {
  readonly name: CodecName;
  /** Levels `encode` accepts (inclusive). */
  readonly levels: readonly [number, number];
  /**
   * Whole-buffer decode. Throws UnpicklingError code 'limit' as soon as the output would pass
   * `maxOutput` (nothing larger than the cap is ever allocated), 'corrupt' or 'truncated' on bad data.
   */
  decode(data: Uint8Array, maxOutput: number): Uint8Array;
  /**
   * The same output as `decode`, as the decoder's chunks, never joined: a large file's stream is
   * then decoded from the chunks (src/bytes/source.ts ChunkSource) without a second whole copy.
   */
  decodeChunks?(data: Uint8Array, maxOutput: number): Uint8Array[];
  /** Whole-buffer encode at `level`. Throws PicklingError code 'unsupported'-like 'invalid-value' on a bad level. */
  encode(data: Uint8Array, level: number): Uint8Array;
}

/** Human names used in messages (joblib's own names where they differ). */
export const DISPLAY_NAMES: Record<CodecName, string> = {
  zlib: 'zlib',
  gzip: 'gzip',
  bz2: 'bzip2',
  lzma: 'lzma',
  xz: 'xz',
  lz4: 'lz4',
  zstd: 'zstd',
};

export function limitError(what: string, maxBytes: number): UnpicklingError {
  return new UnpicklingError(
    `decompressed ${what} data exceeds limits.maxInputBytes (${maxBytes} bytes); raise it to allow more`,
    -1,
    undefined,
    'limit',
  );
}

export function corruptError(what: string, detail: string): UnpicklingError {
  const code = /truncat|unexpected end/i.test(detail) ? 'truncated' : 'corrupt';
  return new UnpicklingError(`corrupt ${what} stream: ${detail}`, -1, undefined, code);
}

export function checkLevel(name: CodecName, level: number, [lo, hi]: readonly [number, number]): void {
  if (!Number.isInteger(level) || level < lo || level > hi) {
    throw new PicklingError(
      `${name} compression level must be an integer ${lo}-${hi}, got ${level}`,
      'root',
      'invalid-value',
    );
  }
}

/**
 * Output chunks gathered under a cap, joined once at the end into a buffer whose start is 16-byte
 * aligned (typed-array views at 16-aligned stream offsets must be aligned in memory).
 */
export class CappedChunks {
  readonly parts: Uint8Array[] = [];
  total = 0;
  constructor(
    private readonly what: string,
    private readonly cap: number,
  ) {}
  /** Room left under the cap. */
  get room(): number {
    return this.cap - this.total;
  }
  push(chunk: Uint8Array): void {
    if (chunk.length > this.cap - this.total) throw limitError(this.what, this.cap);
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.total += chunk.length;
  }
  join(): Uint8Array {
    return joinChunks(this.parts, this.total);
  }
}

/** Chunks as one buffer whose start is 16-byte aligned. */
export function joinChunks(
  parts: readonly Uint8Array[],
  total = parts.reduce((n, p) => n + p.length, 0),
): Uint8Array {
  if (parts.length === 1) return aligned(parts[0] as Uint8Array);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `b` itself when its start is 16-byte aligned in memory, else an aligned copy. */
export function aligned(b: Uint8Array): Uint8Array {
  return b.byteOffset % 16 === 0 ? b : b.slice();
}

/**
 * Reads of a compressed file for the codecs' piece producers, through a window (one positioned read
 * per MiB, not one per block): bytes [p, p + n), fewer at the file's end (`size`).
 * @example
 * const bytes = windowedReader((o, n) => file.read(o, n), file.size); bytes(0, 4) // the magic
 */
export function windowedReader(
  read: (offset: number, length: number) => Uint8Array,
  size: number,
  window = 1 << 20,
): (p: number, n: number) => Uint8Array {
  let buf: Uint8Array = new Uint8Array(0);
  let at = 0; // file offset of buf[0]
  return (p, n) => {
    const m = Math.max(0, Math.min(n, size - p));
    if (p < at || p + m > at + buf.length) {
      buf = read(p, Math.min(size - p, Math.max(m, window)));
      at = p;
    }
    return buf.subarray(p - at, p - at + m);
  };
}
