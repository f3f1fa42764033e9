/**
 * Decoding bytes, with no Node built-in (browser bundles use it as is): plain pickles, joblib
 * containers (any compressor), .npy, and the zip/legacy containers (.npz, torch). `load(path)` is in
 * load.ts (Node only) and goes through `decodeContainer` here.
 */
import { UnpicklingError } from './errors.js';
import { decompressJoblib, detectJoblibCompression } from './joblib/compress.js';
import { explainNotAPickle } from './bytes/sniff.js';
import { isNpy, readNpy } from './numpy/npy.js';
import { DEFAULT_LIMITS, type LoadOptions } from './unpickle/options.js';
import { unpickle, unpickleAll } from './unpickle/index.js';
import { familySet } from './families.js';
import { containerKind, loadContainer } from './containers/torch-archive.js';
import { isSafetensors, loadsSafetensors } from './containers/safetensors.js';

/** Reads a side file of an old (pre-0.10) joblib file by the name the pickle gives; undefined when absent. */
export type SiblingReader = (name: string) => Uint8Array | undefined;

/** Decode any single-file format from bytes; `readSibling` serves old joblib side files (load(path)). */
function decodeContainer(
  data: Uint8Array,
  options: LoadOptions | undefined,
  readSibling?: SiblingReader,
): unknown {
  if (!(data instanceof Uint8Array)) throw new UnpicklingError('input must be a Uint8Array');
  const families = familySet(options?.families);
  const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
  // Checked here for every container (.npy and compressed input never reach unpickle's own check).
  if (data.length > maxBytes) {
    throw new UnpicklingError(
      `input of ${data.length} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`,
    );
  }
  if (containerKind(data) !== undefined) return loadContainer(data, { options, families }); // zip, legacy torch, tar
  if (isNpy(data)) return readNpy(data, (p) => unpickle(p, options, families));
  if (isSafetensors(data)) return loadsSafetensors(data); // { tensors, metadata }
  const compression = detectJoblibCompression(data);
  const plain = decompressJoblib(data, maxBytes) ?? data;
  try {
    return unpickle(plain, options, families, readSibling);
  } catch (e) {
    throw explainNotAPickle(e, plain, compression);
  }
}

/**
 * Decode one pickle from bytes. Also accepts a joblib file's bytes (uncompressed or compressed with
 * any compressor joblib writes), `.npy` bytes, and safetensors files (as `loadsSafetensors` gives them).
 * @example
 * const value = loads(new Uint8Array([0x80, 0x04, 0x4b, 0x2a, 0x2e])); // 42
 */
export function loads(data: Uint8Array, options?: LoadOptions): unknown {
  return decodeContainer(data, options);
}

/**
 * Decode every pickle in a buffer, one after another (several `pickle.dump` calls into one file).
 * @example
 * loadsAll(bytes) // => [first, second, ...]
 */
export function loadsAll(data: Uint8Array, options?: LoadOptions): unknown[] {
  if (!(data instanceof Uint8Array)) throw new UnpicklingError('input must be a Uint8Array');
  const families = familySet(options?.families);
  const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
  const plain = decompressJoblib(data, maxBytes) ?? data;
  return unpickleAll(plain, options, families);
}
