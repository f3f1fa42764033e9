/** Node only: `load(path)`, reading a file of any size (src/load-file.ts). */
import type { LoadOptions } from './unpickle/options.js';
import { loadPath } from './load-file.js';

// The byte-level entry points live in loads.ts (no Node built-in); re-exported for older imports.
export { loads, loadsAll } from './loads.js';

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
