/**
 * joblib's compressed containers: detection by magic bytes (in joblib's own order), decompression with
 * a hard cap on the output size, and compression for the writer.
 *
 * How the cap is enforced per format: zlib/gzip use node:zlib's `maxOutputLength` (inflation stops
 * when the cap is hit); lzma, xz and lz4 are decoded here by streaming decoders that refuse to grow the
 * output past the cap; bzip2 goes through compressjs, which emits one byte at a time into our capped
 * buffer. No format inflates a bomb fully before the check.
 */
import * as zlib from 'node:zlib';
import { UnpicklingError, PicklingError } from '../errors.js';
import { DEFAULT_LIMITS } from '../unpickle/options.js';
import { crc32 } from './checksum.js';
import { decodeBzip2, encodeBzip2 } from './bzip2.js';
import { decodeLz4, encodeLz4 } from './lz4.js';
import { decodeLzmaFile, decodeXz } from './lzma.js';
import { encodeLzmaAlone, encodeXz } from './lzma-encode.js';
import { CorruptError, OutBuf, OutputLimitError } from './outbuf.js';

/** The compressors joblib can write (`compress=(method, level)`). */
export type JoblibCompressor = 'zlib' | 'gzip' | 'bz2' | 'lzma' | 'xz' | 'lz4';

export const JOBLIB_COMPRESSORS: readonly JoblibCompressor[] = ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4'];

/** Prefixes in the order joblib tests them; the old z-file ('ZF') is checked before all. */
const PREFIXES: readonly [JoblibCompressor, readonly number[]][] = [
  ['zlib', [0x78]],
  ['gzip', [0x1f, 0x8b]],
  ['bz2', [0x42, 0x5a, 0x68]], // 'BZh'
  ['lzma', [0x5d, 0x00]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
];

function startsWith(data: Uint8Array, prefix: readonly number[]): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** Which container `data` is: a compressor name, 'zfile' (joblib < 0.10), or undefined (not compressed). */
export function detectJoblibCompression(data: Uint8Array): JoblibCompressor | 'zfile' | undefined {
  if (startsWith(data, [0x5a, 0x46])) return 'zfile';
  for (const [name, prefix] of PREFIXES) {
    // joblib tests only the 'x' byte; a stream that is not a zlib header is no zlib file, and a
    // pickle reader should then say what Python's does about that byte ("invalid load key").
    if (startsWith(data, prefix) && (name !== 'zlib' || isZlibHeader(data, 0))) return name;
  }
  return undefined;
}

const NAMES: Record<JoblibCompressor | 'zfile', string> = {
  zlib: 'zlib',
  gzip: 'gzip',
  bz2: 'bzip2',
  lzma: 'lzma',
  xz: 'xz',
  lz4: 'lz4',
  zfile: 'joblib z-file',
};

function limitError(what: string, maxBytes: number): UnpicklingError {
  return new UnpicklingError(
    `decompressed ${what} data exceeds limits.maxInputBytes (${maxBytes} bytes); raise it to allow more`,
  );
}

/** Make sure typed-array views at 16-aligned stream offsets are aligned in memory too. */
function aligned(b: Uint8Array): Uint8Array {
  return b.byteOffset % 16 === 0 ? b : b.slice();
}

/** Valid zlib header (RFC 1950): deflate method, window ≤ 32 KiB, check bits, no preset dictionary. */
function isZlibHeader(data: Uint8Array, pos: number): boolean {
  if (data.length - pos < 2) return false;
  const cmf = data[pos] as number;
  const flg = data[pos + 1] as number;
  return (cmf & 0x0f) === 8 && cmf >>> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0 && (flg & 0x20) === 0;
}

function zlibFailure(what: string, e: unknown, maxBytes: number): never {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ERR_BUFFER_TOO_LARGE') throw limitError(what, maxBytes);
  throw new UnpicklingError(`corrupt ${what} stream: ${err?.message ?? String(e)}`);
}

/** One inflate call (zlib or raw deflate); returns the output and how many input bytes it used. */
function inflateOne(
  raw: boolean,
  data: Uint8Array,
  budget: number,
  what: string,
  maxBytes: number,
): { out: Buffer; used: number } {
  if (budget <= 0) throw limitError(what, maxBytes);
  try {
    // One output chunk large enough for the usual ratio: node:zlib otherwise inflates into 16 KiB
    // chunks and concatenates them, which holds the output twice (a 93 MB joblib model peaked at 2.8x
    // its decompressed size). Untouched pages of a big chunk cost address space, not memory.
    const chunkSize = Math.max(64 * 1024, Math.min(budget, data.length * 4, 256 * 1024 * 1024));
    const opts = { info: true as const, maxOutputLength: Math.min(budget, 2 ** 32), chunkSize };
    const r = (raw ? zlib.inflateRawSync(data, opts) : zlib.inflateSync(data, opts)) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    return { out: r.buffer, used: r.engine.bytesWritten };
  } catch (e) {
    return zlibFailure(what, e, maxBytes);
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * zlib streams back to back (joblib's reader accepts several); bytes after a stream that do not
 * start another valid zlib stream are ignored, as joblib does.
 */
function inflateZlibStreams(data: Uint8Array, maxBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  do {
    const { out, used } = inflateOne(false, data.subarray(pos), maxBytes - total, 'zlib', maxBytes);
    parts.push(out);
    total += out.length;
    pos += used;
  } while (pos < data.length && isZlibHeader(data, pos));
  return concat(parts, total);
}

/** gzip members back to back, each checked (CRC32, size); trailing non-gzip bytes are ignored as joblib does. */
function gunzipMembers(data: Uint8Array, maxBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  const bad = (m: string): never => {
    throw new UnpicklingError(`corrupt gzip stream: ${m}`);
  };
  do {
    if (data.length - pos < 10) bad('truncated header');
    if (data[pos + 2] !== 8) bad('unknown compression method');
    const flags = data[pos + 3] as number;
    if (flags & 0xe0) bad('reserved header flags are set');
    let p = pos + 10;
    if (flags & 0x04) {
      if (data.length - p < 2) bad('truncated header');
      p += 2 + ((data[p] as number) | ((data[p + 1] as number) << 8));
    }
    for (const bit of [0x08, 0x10]) {
      if (flags & bit) {
        while (p < data.length && data[p] !== 0) p++;
        p++;
      }
    }
    if (flags & 0x02) p += 2;
    if (p > data.length) bad('truncated header');
    const { out, used } = inflateOne(true, data.subarray(p), maxBytes - total, 'gzip', maxBytes);
    p += used;
    if (data.length - p < 8) bad('truncated trailer');
    const view = new DataView(data.buffer, data.byteOffset + p, 8);
    if (view.getUint32(0, true) !== crc32(out)) bad('CRC32 mismatch');
    if (view.getUint32(4, true) !== out.length % 2 ** 32) bad('length mismatch');
    parts.push(out);
    total += out.length;
    pos = p + 8;
  } while (data.length - pos >= 2 && data[pos] === 0x1f && data[pos + 1] === 0x8b);
  return concat(parts, total);
}

function viaOutBuf(what: string, data: Uint8Array, maxBytes: number, run: (out: OutBuf) => void): Uint8Array {
  const out = new OutBuf(maxBytes, Math.min(maxBytes, Math.max(1 << 16, data.length * 4)));
  try {
    run(out);
  } catch (e) {
    if (e instanceof OutputLimitError) throw limitError(what, maxBytes);
    if (e instanceof CorruptError) throw new UnpicklingError(`corrupt ${what} stream: ${e.message}`);
    throw e;
  }
  return out.result();
}

/**
 * Read a joblib < 0.10 z-file: 'ZF', the uncompressed length in hex padded to 19 characters (one more
 * space in files from joblib ≤ 0.8.4 under Python 2), then one zlib stream of exactly that length.
 */
export function readZFile(data: Uint8Array, maxBytes: number): Uint8Array {
  if (!startsWith(data, [0x5a, 0x46])) throw new UnpicklingError('not a joblib z-file (no ZF prefix)');
  if (data.length < 21) throw new UnpicklingError('corrupt joblib z-file: truncated header');
  let text = '';
  for (let i = 2; i < 21; i++) text += String.fromCharCode(data[i] as number);
  const m = /^\s*(0[xX])?([0-9a-fA-F]+)[lL]?\s*$/.exec(text);
  if (!m) throw new UnpicklingError(`corrupt joblib z-file: bad length field ${JSON.stringify(text)}`);
  const length = parseInt(m[2] as string, 16);
  if (!Number.isSafeInteger(length)) throw new UnpicklingError('corrupt joblib z-file: length too large');
  if (length > maxBytes) throw limitError('joblib z-file', maxBytes);
  const start = data[21] === 0x20 ? 22 : 21;
  const { out } = inflateOne(false, data.subarray(start), Math.max(1, length), 'joblib z-file', maxBytes);
  if (out.length !== length) {
    throw new UnpicklingError(`corrupt joblib z-file: header says ${length} bytes, stream holds ${out.length}`);
  }
  return out;
}

/**
 * Decompress a joblib file's bytes. Returns undefined when `data` does not start with any compressor's
 * magic (an uncompressed stream). `maxBytes` caps the decompressed size.
 */
export function decompressJoblib(data: Uint8Array, maxBytes: number = DEFAULT_LIMITS.maxInputBytes): Uint8Array | undefined {
  const kind = detectJoblibCompression(data);
  if (kind === undefined) return undefined;
  const what = NAMES[kind];
  switch (kind) {
    case 'zfile':
      return aligned(readZFile(data, maxBytes));
    case 'zlib':
      return aligned(inflateZlibStreams(data, maxBytes));
    case 'gzip':
      return aligned(gunzipMembers(data, maxBytes));
    case 'bz2':
      return viaOutBuf(what, data, maxBytes, (out) => decodeBzip2(data, out));
    case 'lzma':
      return viaOutBuf(what, data, maxBytes, (out) => decodeLzmaFile(data, out));
    case 'xz':
      return viaOutBuf(what, data, maxBytes, (out) => decodeXz(data, out));
    case 'lz4':
      return viaOutBuf(what, data, maxBytes, (out) => decodeLz4(data, out));
  }
}

/** Default levels joblib uses when only the method is given (zlib/gzip 3, bz2 9 as in Python's module). */
export const DEFAULT_LEVELS: Record<JoblibCompressor, number> = { zlib: 3, gzip: 3, bz2: 9, lzma: 6, xz: 6, lz4: 3 };

/**
 * Compress a whole joblib stream with one of joblib's compressors. `level` 1-9 (0 is allowed for
 * zlib/gzip: stored). The output is what joblib's reader accepts for that method: a zlib stream, a
 * gzip member (mtime 0, no name), a bzip2 stream, an LZMA-alone stream, an .xz stream (CRC64 check)
 * or an LZ4 frame.
 */
export function compressJoblib(data: Uint8Array, method: JoblibCompressor, level?: number): Uint8Array {
  const lv = level ?? DEFAULT_LEVELS[method];
  if (!Number.isInteger(lv) || lv < 0 || lv > 9) throw new PicklingError(`compression level must be an integer 0-9, got ${lv}`);
  switch (method) {
    case 'zlib':
      return zlib.deflateSync(data, { level: lv });
    case 'gzip':
      // joblib writes gzip through zlib itself (wbits 31): mtime 0, no name, zlib's OS byte, as node does.
      return zlib.gzipSync(data, { level: lv });
    case 'bz2':
      return encodeBzip2(data, Math.max(1, lv));
    case 'lzma':
      return encodeLzmaAlone(data, lv);
    case 'xz':
      return encodeXz(data, lv);
    case 'lz4':
      return encodeLz4(data, lv);
    default:
      throw new PicklingError(`unknown joblib compressor ${JSON.stringify(method)}; use one of ${JOBLIB_COMPRESSORS.join(', ')}`);
  }
}
