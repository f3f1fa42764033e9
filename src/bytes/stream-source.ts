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
import { ChunkSource } from './source.js';

/** Where the pieces come from: the next piece, or undefined at the stream's end; throws UnpicklingError. */
export interface Producer {
  next(): Uint8Array | undefined;
  /** Stop early (the decoder finished or failed before the stream's end). */
  close(): void;
}

/** Bytes of the stream's start kept for error messages (what the file looked like). */
const HEAD = 64 << 10;

/**
 * The chunk bookkeeping (reads across chunks, release of what the decoder has passed) is
 * ChunkSource's; this adds pulling the next chunk when a read reaches past what is held.
 * @example
 * const src = new StreamSource(inflateWorker('model.joblib', 'zlib', limit), 'zlib', limit);
 * try { unpickleSource(src, options, families); } finally { src.close(); }
 */
export class StreamSource extends ChunkSource {
  #ended = false;
  #head = new Uint8Array(0);

  constructor(
    private readonly producer: Producer,
    private readonly kind: string,
    private readonly maxBytes: number,
  ) {
    super();
  }

  override get size(): number {
    return this.#ended ? this.held : this.maxBytes;
  }

  close(): void {
    this.producer.close();
  }

  /** Take the next piece: false at the stream's end. */
  protected override more(): boolean {
    if (this.#ended) return false;
    let chunk: Uint8Array | undefined;
    do {
      try {
        chunk = this.producer.next();
      } catch (e) {
        this.#ended = true;
        // A codec's error knows no pickle offset: name where the stream stopped.
        if (e instanceof UnpicklingError && e.offset < 0)
          throw new UnpicklingError(e.message, this.held, undefined, e.code);
        throw e;
      }
      if (chunk === undefined) {
        this.#ended = true;
        return false;
      }
    } while (chunk.length === 0);
    if (chunk.length > this.maxBytes - this.held) {
      this.#ended = true;
      throw new UnpicklingError(
        `decompressed ${this.kind} data exceeds limits.maxInputBytes (${this.maxBytes} bytes); raise it to allow more`,
        this.held,
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
    this.append(chunk);
    return true;
  }

  protected override pastEnd(): Error {
    return new UnpicklingError(
      `pickle data was truncated (the ${this.kind} stream ends at ${this.held} bytes)`,
      this.held,
      undefined,
      'truncated',
    );
  }

  /** Window reads: what there is, shorter at the stream's end. */
  override read(offset: number, length: number): Uint8Array {
    // (the stream's start stays readable for error messages after its chunks are released)
    if (offset + length <= this.#head.length) return this.#head.slice(offset, offset + length);
    while (this.held < offset + length && this.more());
    const n = Math.max(0, Math.min(length, this.held - offset));
    return this.readInto(offset, new Uint8Array(n), 0, n);
  }
}
