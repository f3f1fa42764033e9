/**
 * The codecs of a browser bundle (package.json "browser" map: builtin.node.js → this file). None is
 * built in: `ready()` registers them all, so a bundle that never calls `ready()` ships no compressor
 * (plain pickles, .npy, .npz and torch archives need none). Reading needs no WebAssembly; writing
 * zstd does (zstd.wasm, fetched by `ready()` unless `write: false`). bz2, lzma and xz are read-only
 * here (see each codec's file).
 */
import type { Codec, CodecName } from './types.js';
import { gzipCodec, zlibCodec } from './zlib.browser.js';
import { lzmaCodec, xzCodec } from './lzma.browser.js';
import { bz2Codec } from './bz2.browser.js';
import { lz4Codec } from './lz4.js';
import { zstdCodec, zstdReady } from './zstd.js';

export interface StartOptions {
  zstdWasm?: string | URL;
  write?: boolean;
}

/** Codecs available without `ready()`: none in a browser bundle. */
export const BUILTIN_CODECS: Readonly<Partial<Record<CodecName, Codec>>> = {};

/** What `ready()` does in a browser: register every codec, then start the zstd encoder unless `write` is false. */
export function startCodecs(options: StartOptions): {
  codecs: Partial<Record<CodecName, Codec>>;
  started: Promise<void>;
} {
  const codecs = {
    zlib: zlibCodec,
    gzip: gzipCodec,
    bz2: bz2Codec,
    lzma: lzmaCodec,
    xz: xzCodec,
    lz4: lz4Codec,
    zstd: zstdCodec,
  };
  return { codecs, started: options.write === false ? Promise.resolve() : zstdReady(options.zstdWasm) };
}
