/** Node only: `load(path)`, reading a file (any size for zip containers) and old joblib side files. */
import { readFile } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UnpicklingError } from './errors.js';
import { DEFAULT_LIMITS, type LoadOptions } from './unpickle/options.js';
import { familySet } from './families.js';
import { loadFileContainer, NOT_A_CONTAINER } from './containers/node.js';
import { decodeContainer, type SiblingReader } from './loads.js';

// The byte-level entry points live in loads.ts (no Node built-in); re-exported for older imports.
export { loads, loadsAll } from './loads.js';

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
