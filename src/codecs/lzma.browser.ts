/**
 * lzma and xz in the browser: the pure-TS bounded decoder (src/codecs/lzma-decode.ts). Writing is
 * not offered in a page: the encoders that compress as Python does are liblzma (native, Node only
 * here) and lzma-rust2 (whose WebAssembly build needs threads); see README "Compression".
 */
import { PicklingError } from '../errors.js';
import { type Codec, checkLevel } from './types.js';
import { viaOutBuf } from './lz4.js';
import { decodeLzmaFile, decodeXz } from './lzma-decode.js';

function noEncoder(name: 'lzma' | 'xz'): never {
  throw new PicklingError(
    `${name} writing is available in Node only (liblzma); in a browser use zlib, gzip, bz2, lz4 or zstd`,
    'root',
    'invalid-value',
  );
}

export const lzmaCodec: Codec = {
  name: 'lzma',
  levels: [0, 9],
  decode: (data, maxOutput) => viaOutBuf('lzma', data, maxOutput, (out) => decodeLzmaFile(data, out)),
  encode(_data, level) {
    checkLevel('lzma', level, this.levels);
    return noEncoder('lzma');
  },
};

export const xzCodec: Codec = {
  name: 'xz',
  levels: [0, 9],
  decode: (data, maxOutput) => viaOutBuf('xz', data, maxOutput, (out) => decodeXz(data, out)),
  encode(_data, level) {
    checkLevel('xz', level, this.levels);
    return noEncoder('xz');
  },
};
