/**
 * Where container bytes come from. Readers ask for byte ranges by absolute offset (a number: exact up
 * to 2^53, so files past 4 GiB work) and never assume the whole input is in memory: a Node file
 * source (file-source.ts) serves the same calls with positioned reads.
 */

/** A random-access byte source. */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * `length` bytes from `offset`. In-memory sources return a view (no copy); file sources a fresh
   * buffer. Throws a RangeError past the end.
   */
  read(offset: number, length: number): Uint8Array;
  /** True when `read` returns views into one buffer that lives as long as the source (no copy). */
  readonly inMemory: boolean;
}

/**
 * A source over bytes already in memory.
 * @example
 * const src = new MemorySource(bytes); src.read(0, 4) // a view of the first four bytes
 */
export class MemorySource implements ByteSource {
  readonly inMemory = true;
  constructor(readonly data: Uint8Array) {}
  get size(): number {
    return this.data.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.data.length) {
      throw new RangeError(`read of ${length} bytes at ${offset} is past the end (${this.data.length})`);
    }
    return this.data.subarray(offset, offset + length);
  }
}
