/** Public decoding entry points: plain pickles, joblib containers (any compressor) and .npy files. */
import { readFile } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UnpicklingError } from './errors.js';
import { decompressJoblib, detectJoblibCompression } from './joblib/compress.js';
import { sniffFormat } from './bytes/sniff.js';
import { isNpy, readNpy } from './numpy/npy.js';
import { DEFAULT_LIMITS, type LoadOptions } from './unpickle/options.js';
import { unpickle, unpickleAll } from './unpickle/index.js';
import { familySet } from './families.js';
import { containerKind, loadContainer } from './containers/torch-archive.js';
import { loadFileContainer, NOT_A_CONTAINER } from './containers/node.js';
import { isSafetensors, loadsSafetensors } from './containers/safetensors.js';

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
  if (isSafetensors(data)) return loadsSafetensors(data); // { tensors, metadata }
  const compression = detectJoblibCompression(data);
  const plain = decompressJoblib(data, maxBytes) ?? data;
  try {
    return unpickle(plain, options, families, readSibling);
  } catch (e) {
    throw wrongFormat(e, plain, compression);
  }
}

/** Failures that say the bytes are not a well-formed pickle (not refusals of a well-formed one). */
const STRUCTURAL = new Set(['bad-opcode', 'truncated', 'stack', 'memo', 'invalid-value', 'unsupported']);

/**
 * A decoding failure of bytes that are another format altogether becomes an error that says what
 * they are (code 'wrong-format'); anything else is returned as it was. Text is named only when the
 * very first byte failed, since protocol-0 pickles are text too.
 */
function wrongFormat(e: unknown, data: Uint8Array, compression: string | undefined): unknown {
  if (!(e instanceof UnpicklingError) || !STRUCTURAL.has(e.code)) return e;
  const found = sniffFormat(data);
  if (found === undefined || (found.what.includes('text') && !(e.code === 'bad-opcode' && e.offset === 0))) return e;
  const inner = compression === undefined ? '' : `${compression}-compressed data holding `;
  const err = new UnpicklingError(`not a pickle: this is ${inner}${found.what}; ${found.hint}`, -1, undefined, 'wrong-format');
  (err as Error & { cause?: unknown }).cause = e;
  return err;
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

/**
 * Read a file: a pickle, a joblib file (new format, or pre-0.10 with its `.npy` side files next to
 * it), or a `.npy` file.
 * @example
 * const model = await load('model.joblib');
 */
export async function load(path: string, options?: LoadOptions): Promise<unknown> {
  const container = loadFileContainer(path, options, familySet(options?.families)); // zip (any size), legacy torch
  if (container !== NOT_A_CONTAINER) return container;
  const maxBytes = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new UnpicklingError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (size > maxBytes) {
    throw new UnpicklingError(`file of ${size} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`);
  }
  const buf = await readFile(path);
  const data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const dir = dirname(path);
  // Old joblib files name their array files; only plain names in the same folder are honoured.
  const readSibling: SiblingReader = (name) => {
    const base = basename(name.replace(/\\/g, '/'));
    if (base !== name.replace(/\\/g, '/').split('/').pop() || base === '' || base === '.' || base === '..') return undefined;
    let sideSize: number;
    try {
      sideSize = statSync(join(dir, base)).size;
    } catch {
      return undefined;
    }
    if (sideSize > maxBytes) {
      throw new UnpicklingError(`side file ${base} of ${sideSize} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`);
    }
    try {
      const b = readFileSync(join(dir, base));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      return undefined;
    }
  };
  return decodeContainer(data, options, readSibling);
}
