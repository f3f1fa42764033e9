/**
 * Node-only: a ByteSource over a file, read with positioned reads (no whole-file buffer, so files
 * past the 4 GiB Buffer limit open, and a tensor's bytes are read only when it is used).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UnpicklingError } from '../errors.js';
import type { ByteSource } from '../bytes/source.js';

/**
 * A file opened for positioned reads. Close it when done with the structure: reads after close()
 * (lazy arrays and tensors, first used later) open the file again for each read, after checking it
 * is still the same file (same size, modification time and inode), and close it at once, so a lazily
 * loaded value holds no file descriptor.
 * @example
 * const src = FileSource.open('model.pt'); try { ... } finally { src.close(); }
 */
export class FileSource implements ByteSource {
  readonly inMemory = false;
  #fd: number | undefined;
  readonly #identity: string;
  private constructor(
    fd: number,
    readonly size: number,
    readonly path: string,
    identity: string,
  ) {
    this.#fd = fd;
    this.#identity = identity;
  }

  static open(path: string): FileSource {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new UnpicklingError(`cannot read ${path}: ${(e as Error).message}`, -1, undefined, 'io');
    }
    const st = fstatSync(fd);
    return new FileSource(fd, st.size, path, identityOf(st));
  }

  read(offset: number, length: number): Uint8Array {
    return this.readInto(offset, new Uint8Array(length), 0, length);
  }

  readInto(offset: number, out: Uint8Array, at: number, length: number): Uint8Array {
    if (this.#fd === undefined) return this.#reopened((src) => src.readInto(offset, out, at, length));
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read of ${length} bytes at ${offset} is past the end (${this.size})`);
    }
    let done = 0;
    // readSync moves at most ~2 GiB per call: loop.
    while (done < length) {
      const n = readSync(this.#fd, out, at + done, Math.min(length - done, 1 << 30), offset + done);
      if (n <= 0)
        throw new UnpicklingError(
          `${this.path}: unexpected end of file at ${offset + done}`,
          -1,
          undefined,
          'truncated',
        );
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** A read after close(): the same file again, checked, for one call. */
  #reopened<T>(read: (src: FileSource) => T): T {
    const again = FileSource.open(this.path);
    try {
      if (again.#identity !== this.#identity) {
        throw new UnpicklingError(
          `${this.path} changed after it was opened lazily: its arrays can no longer be read (load it again)`,
          -1,
          undefined,
          'io',
        );
      }
      return read(again);
    } finally {
      again.close();
    }
  }
}

function identityOf(st: { size: number; mtimeMs: number; ino: number; dev: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}
