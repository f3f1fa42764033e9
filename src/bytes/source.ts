/**
 * Where input bytes come from (the decoder's windowed input, zip containers). Readers ask for byte ranges by absolute offset (a number: exact up
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
  /**
   * Copy `length` bytes from `offset` into `target` at `at` (no intermediate buffer); returns
   * `target`. With `consume`, a sequential source may release what the read has passed.
   */
  readInto?(offset: number, target: Uint8Array, at: number, length: number, consume?: boolean): Uint8Array;
  /**
   * True for sources read once, front to back (a decompressed stream): bytes before the decoder's
   * position may be released, and nothing can be read from them later (no lazy arrays).
   */
  readonly sequential?: boolean;
  /** Sequential sources: bytes before `offset` will not be read again (their memory may go). */
  release?(offset: number): void;
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

/**
 * Stream bytes held as consecutive chunks (a decompressor's output): read as one range without ever
 * concatenating the whole stream, and chunks before `release(offset)` are dropped so their memory can
 * go while decoding continues (peak memory stays near the decompressed size, not twice it).
 * @example
 * const src = new ChunkSource([a, b]); src.read(a.length - 2, 4) // the last 2 bytes of a + 2 of b
 */
export class ChunkSource implements ByteSource {
  readonly inMemory = false;
  readonly sequential = true;
  #chunks: (Uint8Array | undefined)[] = [];
  /** Stream offset of each chunk's first byte. */
  #starts: number[] = [];
  #first = 0;
  /** Bytes of the stream held so far (all of it here; a StreamSource adds chunks as it pulls them). */
  protected held = 0;

  constructor(chunks: readonly Uint8Array[] = []) {
    for (const c of chunks) this.append(c);
  }

  get size(): number {
    return this.held;
  }

  protected append(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#starts.push(this.held);
    this.held += chunk.length;
  }

  /** Add the stream's next chunk; false when there is none (here every chunk is held from the start). */
  protected more(): boolean {
    return false;
  }

  /** What a read past the stream's end throws. */
  protected pastEnd(offset: number, length: number): Error {
    return new RangeError(`read of ${length} bytes at ${offset} is past the end (${this.held})`);
  }

  /** Index of the chunk holding stream offset `offset` (< held; binary search). */
  #index(offset: number): number {
    let lo = this.#first;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  read(offset: number, length: number): Uint8Array {
    return this.readInto(offset, new Uint8Array(length), 0, length);
  }

  /**
   * Copy `length` bytes from `offset` into `target` at `at`; returns `target`. With `consume`, every
   * chunk the read passes wholly is released as soon as it is copied (a multi-GB array built from the
   * stream never coexists with all the chunks it came from).
   */
  readInto(offset: number, target: Uint8Array, at: number, length: number, consume = false): Uint8Array {
    if (offset < 0 || length < 0) throw this.pastEnd(offset, length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      if (pos >= this.held) {
        if (this.more()) continue;
        throw this.pastEnd(offset, length);
      }
      const i = this.#index(pos);
      const chunk = this.#chunks[i];
      if (chunk === undefined) throw new RangeError(`bytes at ${pos} were already released`);
      const from = pos - (this.#starts[i] as number);
      const n = Math.min(chunk.length - from, length - done);
      target.set(chunk.subarray(from, from + n), at + done);
      done += n;
      if (consume && done < length) this.release(offset + done);
    }
    return target;
  }

  /** Drop every chunk that lies wholly before stream offset `offset`. */
  release(offset: number): void {
    while (this.#first < this.#chunks.length) {
      const c = this.#chunks[this.#first];
      if (c === undefined || (this.#starts[this.#first] as number) + c.length > offset) break;
      this.#chunks[this.#first] = undefined;
      this.#first++;
    }
  }
}

/**
 * `length` bytes of `source` from `offset` in a buffer of their own, a SharedArrayBuffer when
 * `shared` (postable to worker threads without a copy).
 * @example
 * readOwn(src, 1024, 4096, false) // a Uint8Array of 4096 bytes at byteOffset 0
 */
export function readOwn(source: ByteSource, offset: number, length: number, shared: boolean): Uint8Array {
  const out = shared ? new Uint8Array(new SharedArrayBuffer(length)) : new Uint8Array(length);
  if (source.readInto) return source.readInto(offset, out, 0, length);
  out.set(source.read(offset, length));
  return out;
}
