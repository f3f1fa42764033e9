/**
 * Every codec behind one interface (src/codecs/types.ts), looked up by name through the registry
 * (registry.ts). The Node build has all of them built in (builtin.node.ts: node:zlib, liblzma,
 * seek-bzip + libbzip2 WebAssembly, LZ4, zstd); a browser bundle gets builtin.browser.ts through the
 * package.json "browser" map, with fflate, the pure-TS LZMA decoder and unbzip2-stream's bzip2
 * decoder registered by `ready()`.
 */
import { startCodecs } from './builtin.node.js';
import { registerCodecs } from './registry.js';

export type { Codec, CodecName } from './types.js';
export { codecFor } from './registry.js';

export interface ReadyOptions {
  /** Where zstd.wasm is served (browser bundles that do not place it next to the bundle). */
  zstdWasm?: string | URL;
  /**
   * false: make the compressors available for reading (and for writing those that need no
   * WebAssembly) without starting the bz2 and zstd encoders, so a page fetches no zstd.wasm.
   * Default true.
   */
  write?: boolean;
}

/**
 * Make every compressor available and start the WebAssembly encoders (bz2 and zstd writing). In Node,
 * reading never needs it and `dumpJoblib` awaits it; call it before a synchronous
 * `dumpsJoblib`/`compressJoblib` with zstd. In a browser bundle, call it once before reading or
 * writing any compressed joblib data: the compressors are registered when it is called (so bundles
 * that never call it ship none), and the zstd encoder fetches zstd.wasm unless `write` is false.
 * @example
 * await ready(); const bytes = dumpsJoblib(model, { compress: ['zstd', 3] });
 * await ready({ write: false }); const model = loads(joblibBytes); // a page that only reads
 */
export function ready(options: ReadyOptions = {}): Promise<void> {
  const { codecs, started } = startCodecs(options);
  registerCodecs(codecs);
  return started;
}
