/**
 * Node-only: open container files (zip archives of any size through positioned reads, legacy torch
 * files, tars to refuse) for `load(path)`. Plain pickles, joblib and .npy files are not containers
 * here: the caller reads those as before.
 */
import { UnpicklingError } from '../errors.js';
import { DEFAULT_LIMITS, type LoadOptions } from '../unpickle/options.js';
import type { FamilySet } from '../family.js';
import type { Storage } from '../torch/storage.js';
import { FileSource } from './file-source.js';
import { containerKind, loadContainer } from './torch-archive.js';

/** Returned by `loadFileContainer` for files that are no container. */
export const NOT_A_CONTAINER: unique symbol = Symbol('not a container');

/**
 * Decode the file at `path` when it is a zip (torch.save, TorchScript, .npz), a legacy torch file
 * or a tar (refused); otherwise return NOT_A_CONTAINER without reading more than 512 bytes. Zip
 * entries are read by offset, so archives past 4 GiB open; every storage is read before the file is
 * closed.
 */
export function loadFileContainer(
  path: string,
  options: LoadOptions | undefined,
  families: FamilySet,
): unknown {
  let src: FileSource;
  try {
    src = FileSource.open(path);
  } catch {
    return NOT_A_CONTAINER; // the caller reports unreadable files as it always has
  }
  try {
    const kind = containerKind(src.read(0, Math.min(src.size, 512)));
    if (kind === undefined) return NOT_A_CONTAINER;
    if (kind !== 'zip') {
      const max = options?.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes;
      if (src.size > max) {
        throw new UnpicklingError(
          `file of ${src.size} bytes exceeds limits.maxInputBytes (${max}); raise it to allow more`,
          -1,
          undefined,
          'limit',
        );
      }
    }
    const storages: Storage[] = [];
    const value = loadContainer(src, { options, families }, storages);
    for (const s of storages) void s.bytes; // read now: the file closes below
    return value;
  } finally {
    src.close();
  }
}
