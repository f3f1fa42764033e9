/** Atomic file writes: a temporary file in the same folder, renamed over the target when complete. */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

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

/**
 * Write a file produced piece by piece (a large dump): each chunk goes straight to a temporary file
 * in the same folder, renamed over `path` once `produce` has finished, so memory holds one chunk, not
 * the file, and readers still see either the old file or the whole new one.
 * @example
 * await writeFileAtomicStreaming('big.pkl', (sink) => encodeTo(value, {}, sink));
 */
export async function writeFileAtomicStreaming(
  path: string,
  produce: (sink: { write(chunk: Uint8Array): void }) => void | Promise<void>,
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o666);
  let done = false;
  try {
    const sink = {
      write(chunk: Uint8Array): void {
        let at = 0;
        while (at < chunk.length) at += writeSync(fd, chunk, at, chunk.length - at);
      },
    };
    await produce(sink);
    closeSync(fd);
    done = true;
    await rename(tmp, path);
  } catch (e) {
    if (!done) closeSync(fd);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
