// STUB — owned by the joblib family, which replaces this file.
/** Decompress a compressed joblib stream (zlib, gzip, bz2, lzma, xz, lz4, old ZF z-file); undefined when `data` is not compressed. */
export function decompressJoblib(_data: Uint8Array, _maxBytes: number): Uint8Array | undefined {
  return undefined;
}
