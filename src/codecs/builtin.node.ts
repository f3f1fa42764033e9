/**
 * The codecs a Node process has from the start: node:zlib, liblzma, seek-bzip + libbzip2 WebAssembly,
 * LZ4, zstd. A browser bundle gets builtin.browser.ts instead (package.json "browser" map), which
 * starts with none so that a page that reads only plain pickles ships no compressor.
 */
import type { Codec, CodecName } from './types.js';
import { gzipCodec, zlibCodec } from './zlib.node.js';
import { lzmaCodec, xzCodec } from './lzma.node.js';
import { bz2Codec, bz2Ready } from './bz2.node.js';
import { lz4Codec } from './lz4.js';
import { zstdCodec, zstdReady } from './zstd.js';
import type { StartOptions } from './builtin.browser.js';

/** Every codec of the Node build. */
export const CODECS: Readonly<Record<CodecName, Codec>> = {
  zlib: zlibCodec,
  gzip: gzipCodec,
  bz2: bz2Codec,
  lzma: lzmaCodec,
  xz: xzCodec,
  lz4: lz4Codec,
  zstd: zstdCodec,
};

/** Codecs available without `ready()`. */
export const BUILTIN_CODECS: Readonly<Partial<Record<CodecName, Codec>>> = CODECS;

/**
 * What `ready()` does here: nothing to register (every codec is built in), the WebAssembly encoders
 * (bz2 and zstd writing) to start unless `write` is false.
 */
export function startCodecs(options: StartOptions): {
  codecs: Partial<Record<CodecName, Codec>>;
  started: Promise<void>;
} {
  const started =
    options.write === false
      ? Promise.resolve()
      : Promise.all([bz2Ready(), zstdReady(options.zstdWasm)]).then(() => undefined);
  return { codecs: {}, started };
}
