/**
 * Every codec behind one interface (src/codecs/types.ts). The Node build gets node:zlib and
 * liblzma; a browser bundle gets fflate and the pure-TS LZMA decoder instead, through the
 * package.json "browser" map (./dist/codecs/*.node.js → *.browser.js).
 */
import type { Codec, CodecName } from './types.js';
import { gzipCodec, zlibCodec } from './zlib.node.js';
import { lzmaCodec, xzCodec } from './lzma.node.js';
import { bz2Codec, bz2Ready } from './bz2.node.js';
import { lz4Codec } from './lz4.js';
import { zstdCodec, zstdReady } from './zstd.js';

export type { Codec, CodecName } from './types.js';

export const CODECS: Readonly<Record<CodecName, Codec>> = {
  zlib: zlibCodec,
  gzip: gzipCodec,
  bz2: bz2Codec,
  lzma: lzmaCodec,
  xz: xzCodec,
  lz4: lz4Codec,
  zstd: zstdCodec,
};

export interface ReadyOptions {
  /** Where zstd.wasm is served (browser bundles that do not place it next to the bundle). */
  zstdWasm?: string | URL;
}

/**
 * Start the WebAssembly encoders (bz2 and zstd writing). Reading never needs it; `dumpJoblib` awaits
 * it. Call it before a synchronous `dumpsJoblib`/`compressJoblib` with zstd (in Node, bz2 starts
 * synchronously when needed), and in a browser.
 * @example
 * await ready(); const bytes = dumpsJoblib(model, { compress: ['zstd', 3] });
 */
export function ready(options: ReadyOptions = {}): Promise<void> {
  return Promise.all([bz2Ready(), zstdReady(options.zstdWasm)]).then(() => undefined);
}
