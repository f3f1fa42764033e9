/**
 * picklejar for browsers (and any bundle resolving the `browser` condition): the same names as the
 * Node entry. Everything works on Uint8Arrays; the four file functions cannot, and reject with a
 * message naming the byte-level function to use instead. Compressed joblib data needs
 * `await ready()` once (the compressors are registered by it, so bundles that never call it ship none).
 */
import { PicklingError, UnpicklingError } from './errors.js';
import type { LoadOptions } from './unpickle/options.js';
import type { DumpOptions } from './pickle/options.js';
import type { JoblibDumpOptions } from './joblib/write.js';
import type { TorchDumpOptions } from './torch/write.js';

export * from './core.js';

const nodeOnly = (what: string, instead: string): string =>
  `${what} works on files and needs Node; in a browser use ${instead}`;

/**
 * Node only. In a browser, read the file's bytes and call `loads`.
 * @example
 * const value = loads(new Uint8Array(await file.arrayBuffer()));
 */
export async function load(_path: string, _options?: LoadOptions): Promise<unknown> {
  throw new UnpicklingError(
    nodeOnly('load(path)', 'loads(new Uint8Array(await file.arrayBuffer()))'),
    -1,
    undefined,
    'unsupported',
  );
}

/**
 * Node only. In a browser, `dumps` gives the bytes (offer them as a download).
 * @example
 * const blob = new Blob([dumps(value)]);
 */
export async function dump(_path: string, _value: unknown, _options?: DumpOptions): Promise<void> {
  throw new PicklingError(nodeOnly('dump(path, value)', 'dumps(value)'), 'root', 'io');
}

/**
 * Node only. In a browser, `dumpsJoblib` gives the bytes.
 * @example
 * const blob = new Blob([dumpsJoblib(value, { compress: 3 })]);
 */
export async function dumpJoblib(
  _path: string,
  _value: unknown,
  _options?: JoblibDumpOptions,
): Promise<void> {
  throw new PicklingError(nodeOnly('dumpJoblib(path, value)', 'dumpsJoblib(value)'), 'root', 'io');
}

/**
 * Node only. In a browser, `dumpsTorch` gives the bytes.
 * @example
 * const blob = new Blob([dumpsTorch({ w: tensor })]);
 */
export async function dumpTorch(_path: string, _value: unknown, _options?: TorchDumpOptions): Promise<void> {
  throw new PicklingError(nodeOnly('dumpTorch(path, value)', 'dumpsTorch(value)'), 'root', 'io');
}
