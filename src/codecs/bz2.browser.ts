/**
 * bzip2 in the browser: not offered yet. The Node codec's packages need Node: seek-bzip (reading)
 * uses Node's global Buffer throughout, and libbzip2-wasm's Emscripten glue requires 'fs' and
 * 'path', which a browser bundle cannot resolve. A page reads joblib files in every other format.
 */
import { PicklingError, UnpicklingError } from '../errors.js';
import { type Codec } from './types.js';

const WHY = 'bz2 is available in Node only; in a browser use zlib, gzip, lz4 or zstd';

export const bz2Codec: Codec = {
  name: 'bz2',
  levels: [1, 9],
  decode() {
    throw new UnpicklingError(WHY, -1, undefined, 'unsupported');
  },
  encode() {
    throw new PicklingError(WHY, 'root', 'invalid-value');
  },
};

/** Nothing to start in a browser (bz2 is not offered there). */
export function bz2Ready(): Promise<void> {
  return Promise.resolve();
}
