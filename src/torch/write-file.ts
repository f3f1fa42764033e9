/** Node-only: `dumpTorch`, streaming the archive to a temporary file renamed over the target. */
import zlib from 'node:zlib';
import { basename } from 'node:path';
import { writeFileAtomicStreamingSync } from '../bytes/atomic.js';
import { writeTorchArchive, type TorchDumpOptions } from './write.js';

/** zlib's CRC-32 (Node ≥ 20.15), several times faster than the portable one on multi-GB archives. */
export const nativeCrc32: ((data: Uint8Array) => number) | undefined = (
  zlib as { crc32?: (data: Uint8Array) => number }
).crc32;

/**
 * Write `value` as a torch.save archive at `path` (folder prefix: the file's base name without
 * extension, as torch names it). Storages go to the file one by one (the archive is never whole in
 * memory); readers see the old file or the complete new one, never half of it.
 * @example
 * await dumpTorch('model.pt', { weight: Tensor.fromValues('float32', [1, 2]) });
 */
export async function dumpTorch(path: string, value: unknown, options?: TorchDumpOptions): Promise<void> {
  const stem = basename(path).replace(/\.[^.]*$/, '');
  const archiveName = options?.archiveName ?? (/^[\x20-\x7e]+$/.test(stem) && stem !== '' ? stem : 'archive');
  writeFileAtomicStreamingSync(path, (sink) =>
    writeTorchArchive(
      value,
      { ...options, archiveName },
      (chunk) => sink.write(chunk),
      nativeCrc32 ? { crc32: nativeCrc32 } : {},
    ),
  );
}
