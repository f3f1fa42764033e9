/**
 * Node-only: a ByteSource over a file, read with positioned reads (no whole-file buffer, so files
 * past the 4 GiB Buffer limit open, and a tensor's bytes are read only when it is used).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UnpicklingError } from '../errors.js';
import type { ByteSource } from '../bytes/source.js';

/**
 * A file opened for positioned reads. Close it when done (or let the process end).
 * @example
 * const src = FileSource.open('model.pt'); try { ... } finally { src.close(); }
 */
export class FileSource implements ByteSource {
  readonly inMemory = false;
  #fd: number | undefined;
  private constructor(
    fd: number,
    readonly size: number,
    readonly path: string,
  ) {
    this.#fd = fd;
  }

  static open(path: string): FileSource {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new UnpicklingError(`cannot read ${path}: ${(e as Error).message}`, -1, undefined, 'io');
    }
    return new FileSource(fd, fstatSync(fd).size, path);
  }

  read(offset: number, length: number): Uint8Array {
    return this.readInto(offset, new Uint8Array(length), 0, length);
  }

  readInto(offset: number, out: Uint8Array, at: number, length: number): Uint8Array {
    if (this.#fd === undefined)
      throw new UnpicklingError(`${this.path} was closed before its data was read`, -1, undefined, 'io');
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
}
