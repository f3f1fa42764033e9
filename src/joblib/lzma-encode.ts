/**
 * LZMA-alone and .xz writers. They delegate to @napi-rs/lzma (lzma-rs), whose encoders are simple:
 * the .lzma output codes literals only and the .xz output stores LZMA2 chunks uncompressed. Both are
 * valid files that Python's lzma module (and joblib) read; they compress little. `level` is accepted
 * for joblib's API and currently has no effect.
 */
import { createRequire } from 'node:module';

interface NapiLzma {
  lzma: { compressSync(input: Uint8Array): Uint8Array };
  xz: { compressSync(input: Uint8Array): Uint8Array };
}

const require = createRequire(import.meta.url);
let napi: NapiLzma | undefined;
function lib(): NapiLzma {
  napi ??= require('@napi-rs/lzma') as NapiLzma;
  return napi;
}

export function encodeLzmaAlone(data: Uint8Array, level: number): Uint8Array {
  void level;
  return lib().lzma.compressSync(data);
}

export function encodeXz(data: Uint8Array, level: number): Uint8Array {
  void level;
  return lib().xz.compressSync(data);
}
