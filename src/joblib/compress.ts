/**
 * joblib's compressed containers: detection by magic bytes (in joblib's own order), decompression with
 * a hard cap on the output size, and compression for the writer. The codecs themselves live in
 * src/codecs (one module per compressor, Node and browser variants behind one interface); this file
 * keeps joblib's rules: which magic means what, the old 'ZF' z-file, default levels.
 */
import { UnpicklingError, PicklingError } from '../errors.js';
import { DEFAULT_LIMITS } from '../unpickle/options.js';
import { codecFor } from '../codecs/registry.js';
import { isZlibHeader } from '../codecs/deflate-frames.js';
import { aligned, limitError } from '../codecs/types.js';

/**
 * The compressors joblib can write (`compress=(method, level)`), plus zstd, which no released joblib
 * writes or reads: picklejar reads it and writes it only when asked by name.
 */
export type JoblibCompressor = 'zlib' | 'gzip' | 'bz2' | 'lzma' | 'xz' | 'lz4' | 'zstd';

/** The compressors released joblib writes and reads. */
export const JOBLIB_COMPRESSORS: readonly JoblibCompressor[] = ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4'];

/** Every compressor picklejar reads and writes: joblib's, then zstd (written only when named). */
export const ALL_COMPRESSORS: readonly JoblibCompressor[] = [...JOBLIB_COMPRESSORS, 'zstd'];

/** Prefixes in the order joblib tests them; the old z-file ('ZF') is checked before all. */
const PREFIXES: readonly [JoblibCompressor, readonly number[]][] = [
  ['zlib', [0x78]],
  ['gzip', [0x1f, 0x8b]],
  ['bz2', [0x42, 0x5a, 0x68]], // 'BZh'
  ['lzma', [0x5d, 0x00]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

function startsWith(data: Uint8Array, prefix: readonly number[]): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/**
 * Which container `data` is: a compressor name, 'zfile' (joblib < 0.10), or undefined (not compressed).
 * @example
 * detectJoblibCompression(readFileSync('model.joblib.xz')) // 'xz'
 */
export function detectJoblibCompression(data: Uint8Array): JoblibCompressor | 'zfile' | undefined {
  if (startsWith(data, [0x5a, 0x46])) return 'zfile';
  for (const [name, prefix] of PREFIXES) {
    // joblib tests only the 'x' byte; a stream that is not a zlib header is no zlib file, and a
    // pickle reader should then say what Python's does about that byte ("invalid load key").
    if (startsWith(data, prefix) && (name !== 'zlib' || isZlibHeader(data, 0))) return name;
  }
  return undefined;
}

/**
 * Read a joblib < 0.10 z-file: 'ZF', the uncompressed length in hex padded to 19 characters (one more
 * space in files from joblib ≤ 0.8.4 under Python 2), then one zlib stream of exactly that length.
 * @example
 * const raw = readZFile(readFileSync('model.pkl_01.npy.z'), nbytes);
 */
export function readZFile(data: Uint8Array, maxBytes: number): Uint8Array {
  if (!startsWith(data, [0x5a, 0x46]))
    throw new UnpicklingError('not a joblib z-file (no ZF prefix)', -1, undefined, 'wrong-format');
  if (data.length < 21)
    throw new UnpicklingError('corrupt joblib z-file: truncated header', -1, undefined, 'truncated');
  let text = '';
  for (let i = 2; i < 21; i++) text += String.fromCharCode(data[i] as number);
  const m = /^\s*(0[xX])?([0-9a-fA-F]+)[lL]?\s*$/.exec(text);
  if (!m)
    throw new UnpicklingError(
      `corrupt joblib z-file: bad length field ${JSON.stringify(text)}`,
      -1,
      undefined,
      'corrupt',
    );
  const length = parseInt(m[2] as string, 16);
  if (!Number.isSafeInteger(length))
    throw new UnpicklingError('corrupt joblib z-file: length too large', -1, undefined, 'corrupt');
  if (length > maxBytes) throw limitError('joblib z-file', maxBytes);
  const start = data[21] === 0x20 ? 22 : 21;
  let out: Uint8Array;
  try {
    // The declared length caps the inflation (one more byte shows a stream longer than declared).
    out = codecFor('zlib', 'read').decode(data.subarray(start), Math.max(1, length));
  } catch (e) {
    if (e instanceof UnpicklingError) {
      if (e.code === 'limit')
        throw new UnpicklingError(
          `corrupt joblib z-file: header says ${length} bytes, stream holds more`,
          -1,
          undefined,
          'corrupt',
        );
      throw new UnpicklingError(
        e.message.replace('zlib stream', 'joblib z-file stream'),
        -1,
        undefined,
        e.code,
      );
    }
    throw e;
  }
  if (out.length !== length) {
    throw new UnpicklingError(
      `corrupt joblib z-file: header says ${length} bytes, stream holds ${out.length}`,
      -1,
      undefined,
      'corrupt',
    );
  }
  return out;
}

/**
 * Decompress a joblib file's bytes. Returns undefined when `data` does not start with any compressor's
 * magic (an uncompressed stream). `maxBytes` caps the decompressed size: past it the error has code
 * 'limit' and nothing larger than the cap was allocated.
 * @example
 * const stream = decompressJoblib(readFileSync('model.joblib'), 1 << 30) ?? bytes;
 */
export function decompressJoblib(
  data: Uint8Array,
  maxBytes: number = DEFAULT_LIMITS.maxInputBytes,
): Uint8Array | undefined {
  const kind = detectJoblibCompression(data);
  if (kind === undefined) return undefined;
  if (kind === 'zfile') return aligned(readZFile(data, maxBytes));
  return codecFor(kind, 'read').decode(data, maxBytes);
}

/** Default levels joblib uses when only the method is given (zlib/gzip 3, bz2 9 as in Python's module). */
export const DEFAULT_LEVELS: Record<JoblibCompressor, number> = {
  zlib: 3,
  gzip: 3,
  bz2: 9,
  lzma: 6,
  xz: 6,
  lz4: 3,
  zstd: 3,
};

/**
 * Compress a whole joblib stream with one of joblib's compressors, at the level joblib would pass
 * (1-9; 0 is stored for zlib/gzip, lz4 takes up to 16 and zstd up to 19 as their libraries do).
 * The output is what joblib's reader accepts for that method: a zlib stream, a gzip member (mtime 0,
 * no name), a bzip2 stream, an LZMA-alone stream, an .xz stream (CRC64 check) or an LZ4 frame; zstd
 * gives zstd frames, which released joblib cannot load. bz2 and zstd need `await ready()` first.
 * @example
 * const xz = compressJoblib(stream, 'xz', 3); // Python's lzma preset 3, byte for byte
 */
export function compressJoblib(data: Uint8Array, method: JoblibCompressor, level?: number): Uint8Array {
  if (!(ALL_COMPRESSORS as readonly string[]).includes(method))
    throw new PicklingError(
      `unknown joblib compressor ${JSON.stringify(method)}; use one of ${ALL_COMPRESSORS.join(', ')}`,
      'root',
      'invalid-value',
    );
  const codec = codecFor(method, 'write');
  const lv = level ?? DEFAULT_LEVELS[method];
  // joblib passes 0 through for zlib/gzip (stored); bz2 and zstd have no level 0 and use their lowest.
  return codec.encode(data, lv === 0 && codec.levels[0] > 0 ? codec.levels[0] : lv);
}
