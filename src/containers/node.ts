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

/**
 * Decode an opened container file: a zip (torch.save, TorchScript, .npz: entries read by offset, so
 * archives past 4 GiB open) or a legacy torch file (read whole); tars are refused. Without `lazy`,
 * every storage is read before this returns; with it, storages and stored .npz arrays are read when
 * first used (the file is opened again for each such read, and checked to be unchanged). The source
 * is closed here either way.
 */
export function loadOpenContainer(
  src: FileSource,
  head: Uint8Array,
  options: LoadOptions | undefined,
  families: FamilySet,
): unknown {
  try {
    const kind = containerKind(head);
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
    if (options?.lazy !== true) for (const s of storages) void s.bytes;
    return value;
  } finally {
    src.close();
  }
}
