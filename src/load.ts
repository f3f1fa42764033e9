/** Public decoding entry points: plain pickles, joblib containers (any compressor) and .npy files. */
import { UnpicklingError } from './errors.js';
import { decompressJoblib, detectJoblibCompression } from './joblib/compress.js';
import { explainNotAPickle } from './bytes/sniff.js';
import { isNpy, readNpy } from './numpy/npy.js';
import { DEFAULT_LIMITS, type LoadOptions } from './unpickle/options.js';
import { unpickle, unpickleAll } from './unpickle/index.js';
import { familySet } from './families.js';
import { containerKind, loadContainer } from './containers/torch-archive.js';
import { loadPath } from './load-file.js';

type SiblingReader = (name: string) => Uint8Array | undefined;

function decodeContainer(data: Uint8Array, options: LoadOptions | undefined, readSibling?: SiblingReader): unknown {
  if (!(data instanceof Uint8Array)) throw new UnpicklingError('input must be a Uint8Array');
  const families = familySet(options?.families);
  const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
  // Checked here for every container (.npy and compressed input never reach unpickle's own check).
  if (data.length > maxBytes) {
    throw new UnpicklingError(`input of ${data.length} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`);
  }
  if (containerKind(data) !== undefined) return loadContainer(data, { options, families }); // zip, legacy torch, tar
  if (isNpy(data)) return readNpy(data, (p) => unpickle(p, options, families));
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
 * any compressor joblib writes) and `.npy` bytes.
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

/**
 * Read a file of any size: a pickle, a joblib file (any compressor; pre-0.10 with its `.npy` side
 * files next to it), a `.npy` or `.npz` file, a torch archive (torch.save, TorchScript, legacy). With
 * `lazy: true`, arrays and tensors whose bytes lie uncompressed in the file are read when first used.
 * @example
 * const model = await load('model.joblib');
 * const big = await load('weights.joblib', { lazy: true }); // milliseconds, whatever the size
 */
export async function load(path: string, options?: LoadOptions): Promise<unknown> {
  return loadPath(path, options);
}
