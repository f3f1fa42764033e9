/** Atomic file writes: a temporary file in the same folder, renamed over the target when complete. */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write `data` to `path` so that readers see either the old file or the whole new one: on any failure
 * the temporary file is removed and `path` is left as it was.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  try {
    const fh = await open(tmp, 'wx', 0o666);
    created = true;
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    created = false;
  } finally {
    if (created) await unlink(tmp).catch(() => undefined);
  }
}
