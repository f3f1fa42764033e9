/**
 * A decompressed stream as a sequential ByteSource that decompresses while the decoder reads: each
 * piece is pulled from a `Producer` when the decoder gets to it, and released once passed, so what is
 * held is the values built so far plus a piece or two (decompressing everything first held the whole
 * stream while the first arrays were filled from it: a 1 GB zlib joblib peaked at 1.48x).
 *
 * `size` is an upper bound (`maxBytes`) until the stream has ended, then exact; window reads past the
 * end return what there is, payload reads past it throw a truncation error.
 */
import { UnpicklingError } from '../errors.js';
import type { ByteSource } from './source.js';

/** Where the pieces come from: the next piece, or undefined at the stream's end; throws UnpicklingError. */
export interface Producer {
  next(): Uint8Array | undefined;
  /** Stop early (the decoder finished or failed before the stream's end). */
  close(): void;
}

/** Bytes of the stream's start kept for error messages (what the file looked like). */
const HEAD = 64 << 10;

/**
 * @example
 * const src = new StreamSource(inflateWorker('model.joblib', 'zlib', limit), 'zlib', limit);
 * try { unpickleSource(src, options, families); } finally { src.close(); }
 */
export class StreamSource implements ByteSource {
  readonly inMemory = false;
  readonly sequential = true;
  #chunks: (Uint8Array | undefined)[] = [];
  #starts: number[] = [];
  #first = 0;
  #total = 0;
  #ended = false;
  #head = new Uint8Array(0);

  constructor(
    private readonly producer: Producer,
    private readonly kind: string,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.#ended ? this.#total : this.maxBytes;
  }

  close(): void {
    this.producer.close();
  }

  /** Take the next piece: false at the stream's end. */
  #pull(): boolean {
    if (this.#ended) return false;
    let chunk: Uint8Array | undefined;
    do {
      try {
        chunk = this.producer.next();
      } catch (e) {
        this.#ended = true;
        throw e;
      }
      if (chunk === undefined) {
        this.#ended = true;
        return false;
      }
    } while (chunk.length === 0);
    if (chunk.length > this.maxBytes - this.#total) {
      this.#ended = true;
      throw new UnpicklingError(
        `decompressed ${this.kind} data exceeds limits.maxInputBytes (${this.maxBytes} bytes); raise it to allow more`,
        this.#total,
        undefined,
        'limit',
      );
    }
    if (this.#head.length < HEAD) {
      const head = new Uint8Array(Math.min(HEAD, this.#head.length + chunk.length));
      head.set(this.#head);
      head.set(chunk.subarray(0, head.length - this.#head.length), this.#head.length);
      this.#head = head;
    }
    this.#chunks.push(chunk);
    this.#starts.push(this.#total);
    this.#total += chunk.length;
    return true;
  }

  /** Pull until the stream holds `end` bytes or has ended. */
  #ensure(end: number): void {
    while (this.#total < end && this.#pull());
  }

  read(offset: number, length: number): Uint8Array {
    // (the stream's start stays readable for error messages after its chunks are released)
    if (offset + length <= this.#head.length) return this.#head.slice(offset, offset + length);
    this.#ensure(offset + length);
    const n = Math.max(0, Math.min(length, this.#total - offset));
    return this.readInto(offset, new Uint8Array(n), 0, n);
  }

  /**
   * Copy `length` bytes from `offset` into `target` at `at`, pulling the stream as it goes: with
   * `consume`, each chunk is released once copied, so a large payload never coexists with the
   * chunks it came from.
   */
  readInto(offset: number, target: Uint8Array, at: number, length: number, consume = false): Uint8Array {
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      if (pos >= this.#total) {
        if (this.#pull()) continue;
        throw new UnpicklingError(
          `pickle data was truncated (the ${this.kind} stream ends at ${this.#total} bytes)`,
          this.#total,
          undefined,
          'truncated',
        );
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

  /** Index of the pulled chunk holding `offset` (< the bytes pulled so far). */
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
