/** What container a file is, from its first bytes (no decoding). */
import { detectJoblibCompression } from '../joblib/compress.js';
import { isNpy } from '../numpy/npy.js';

/** Compressor names as messages print them. */
export const COMPRESSION_NAMES: Readonly<Record<string, string>> = {
  zlib: 'zlib',
  gzip: 'gzip',
  bz2: 'bz2',
  lzma: 'lzma',
  xz: 'xz',
  lz4: 'lz4',
  zfile: 'z-file',
};

/** `npy`, a compressor name (zlib, gzip, …, z-file), or undefined for an uncompressed stream. */
export function containerOf(head: Uint8Array): string | undefined {
  if (isNpy(head)) return 'npy';
  const kind = detectJoblibCompression(head);
  return kind === undefined ? undefined : COMPRESSION_NAMES[kind];
}
