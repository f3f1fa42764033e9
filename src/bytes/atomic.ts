/** Atomic file writes: a temporary file in the same folder, renamed over the target when complete. */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { PicklingError } from '../errors.js';

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

/** A temporary name next to `path` (same folder: the rename is atomic). */
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Open the temporary file or say why the target cannot be written. */
function openTemp(path: string, tmp: string): number {
  try {
    return openSync(tmp, 'wx', 0o666);
  } catch (e) {
    throw new PicklingError(`cannot write ${path}: ${(e as Error).message}`, 'root', 'io');
  }
}

/** A sink writing every chunk whole to the descriptor. */
function fdSink(fd: number): { write(chunk: Uint8Array): void } {
  return {
    write(chunk: Uint8Array): void {
      let at = 0;
      while (at < chunk.length) at += writeSync(fd, chunk, at, chunk.length - at);
    },
  };
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
  const tmp = tempName(path);
  const fd = openTemp(path, tmp);
  let closed = false;
  try {
    await produce(fdSink(fd));
    closeSync(fd);
    closed = true;
    await rename(tmp, path);
  } catch (e) {
    if (!closed) closeSync(fd);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * The synchronous form of writeFileAtomicStreaming (conversions that read and write in one pass).
 * @example
 * writeFileAtomicStreamingSync('out.safetensors', (sink) => { sink.write(header); sink.write(data); });
 */
export function writeFileAtomicStreamingSync(
  path: string,
  produce: (sink: { write(chunk: Uint8Array): void }) => void,
): void {
  const tmp = tempName(path);
  const fd = openTemp(path, tmp);
  let closed = false;
  try {
    produce(fdSink(fd));
    closeSync(fd);
    closed = true;
    renameSync(tmp, path);
  } catch (e) {
    if (!closed) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
}
