/**
 * Node only: a zlib/gzip file as a sequential ByteSource that inflates while the decoder reads.
 *
 * Why: inflating the whole stream first and then decoding it held every decompressed byte while the
 * first arrays were allocated and filled; the chunks they came from are freed only by a later GC, so
 * a 1 GB joblib file peaked at 1.48x its decompressed size (2.2x before chunks were released at
 * all). Here the decoder pulls the stream as it goes, each array filled straight from the inflater's
 * output: what is held is the arrays built so far plus a few slots.
 *
 * How: node:zlib inflates only asynchronously (its synchronous calls take a whole input), while the
 * decoder is synchronous. So a worker thread runs node:zlib's stream (the same native zlib, on the
 * other core: inflating overlaps decoding) and hands its output over through a ring of slots in a
 * SharedArrayBuffer; the decoder's thread blocks in Atomics.wait only when it is ahead of the
 * inflater. fflate's synchronous Inflate was measured instead: 7.1 s for 1 GB against 4.4 s for
 * node:zlib on this machine, before any decoding.
 */
import { Worker } from 'node:worker_threads';
import { UnpicklingError } from '../errors.js';
import type { ByteSource } from './source.js';

/** Slots in the ring and their size: node:zlib emits chunks of at most its chunkSize. */
const SLOTS = 4;
const SLOT = 4 << 20;
/** Bytes of the stream's start kept for error messages (what the file looked like). */
const HEAD = 64 << 10;

// Control words (Int32Array over a SharedArrayBuffer): per slot a state and a length, then the
// length of an error message whose UTF-8 bytes follow.
const EMPTY = 0;
const FULL = 1;
const END = 2;
const FAILED = 3;
const ERROR_BYTES = 1024;

// The worker, as source text: an eval'd worker needs no file of its own, so the same code runs
// from dist/, from the TypeScript sources under test and from a bundle.
const WORKER = `
const { workerData } = require('node:worker_threads');
const { createReadStream } = require('node:fs');
const zlib = require('node:zlib');
const { path, kind, maxBytes, slots, slot, ctrl, data } = workerData;
const state = new Int32Array(ctrl, 0, 2 * slots + 1);
const bytes = new Uint8Array(data);
let w = 0;
let total = 0;
let finished = false;
function put(value, len) {
  const i = w % slots;
  while (Atomics.load(state, i) !== 0) Atomics.wait(state, i, Atomics.load(state, i));
  state[slots + i] = len;
  Atomics.store(state, i, value);
  Atomics.notify(state, i);
  w++;
}
function fail(message) {
  if (finished) return;
  finished = true;
  const m = new TextEncoder().encode(message).subarray(0, ${ERROR_BYTES});
  new Uint8Array(ctrl, (2 * slots + 1) * 4, ${ERROR_BYTES}).set(m);
  state[2 * slots] = m.length;
  put(${FAILED}, 0);
  process.exit(0);
}
const inflater = kind === 'gzip' ? zlib.createGunzip({ chunkSize: slot }) : zlib.createInflate({ chunkSize: slot });
const input = createReadStream(path, { highWaterMark: 1 << 20 });
input.on('error', (e) => fail('io:' + e.message));
inflater.on('error', (e) => fail('corrupt:' + e.message));
inflater.on('data', (chunk) => {
  total += chunk.length;
  if (total > maxBytes) return fail('limit:');
  let at = 0;
  while (at < chunk.length) {
    const n = Math.min(slot, chunk.length - at);
    const i = w % slots;
    while (Atomics.load(state, i) !== 0) Atomics.wait(state, i, Atomics.load(state, i));
    bytes.set(chunk.subarray(at, at + n), i * slot);
    put(${FULL}, n);
    at += n;
  }
});
inflater.on('end', () => {
  if (finished) return;
  finished = true;
  put(${END}, 0);
});
input.pipe(inflater);
`;

/**
 * The decompressed stream of a zlib or gzip file, inflated by a worker as it is read. `size` is an
 * upper bound (`maxBytes`) until the stream has ended, then exact; reads past the end return what
 * there is (window reads) or throw a truncation error (payloads). Call `close()` when done: it stops
 * the worker if the decoder finished early.
 * @example
 * const src = InflateSource.open('model.joblib', 'zlib', 2 ** 32);
 * try { unpickleSource(src, options, families); } finally { src.close(); }
 */
export class InflateSource implements ByteSource {
  readonly inMemory = false;
  readonly sequential = true;
  readonly #worker: Worker;
  readonly #state: Int32Array;
  readonly #ctrl: SharedArrayBuffer;
  readonly #data: Uint8Array;
  readonly #kind: string;
  readonly #maxBytes: number;
  #chunks: (Uint8Array | undefined)[] = [];
  #starts: number[] = [];
  #first = 0;
  #total = 0;
  #next = 0; // the slot to read next
  #ended = false;
  #head = new Uint8Array(0);

  private constructor(path: string, kind: 'zlib' | 'gzip', maxBytes: number) {
    this.#kind = kind;
    this.#maxBytes = maxBytes;
    this.#ctrl = new SharedArrayBuffer((2 * SLOTS + 1) * 4 + ERROR_BYTES);
    this.#state = new Int32Array(this.#ctrl, 0, 2 * SLOTS + 1);
    const data = new SharedArrayBuffer(SLOTS * SLOT);
    this.#data = new Uint8Array(data);
    this.#worker = new Worker(WORKER, {
      eval: true,
      workerData: { path, kind, maxBytes, slots: SLOTS, slot: SLOT, ctrl: this.#ctrl, data },
    });
    this.#worker.unref();
  }

  /** Start inflating `path` (a `kind` stream of at most `maxBytes` decompressed bytes). */
  static open(path: string, kind: 'zlib' | 'gzip', maxBytes: number): InflateSource {
    return new InflateSource(path, kind, maxBytes);
  }

  get size(): number {
    return this.#ended ? this.#total : this.#maxBytes;
  }

  /** Stop the worker (when the decoder stopped before the stream's end). */
  close(): void {
    void this.#worker.terminate();
  }

  /** Take the next slot from the worker: false at the stream's end; throws what the worker met. */
  #pull(): boolean {
    if (this.#ended) return false;
    const i = this.#next % SLOTS;
    let s = Atomics.load(this.#state, i);
    while (s === EMPTY) {
      Atomics.wait(this.#state, i, EMPTY);
      s = Atomics.load(this.#state, i);
    }
    if (s === END) {
      this.#ended = true;
      return false;
    }
    if (s === FAILED) {
      this.#ended = true;
      const n = this.#state[2 * SLOTS] as number;
      const text = new TextDecoder().decode(new Uint8Array(this.#ctrl, (2 * SLOTS + 1) * 4, n));
      const [what, ...rest] = text.split(':');
      const message = rest.join(':');
      if (what === 'limit')
        throw new UnpicklingError(
          `decompressed ${this.#kind} data exceeds limits.maxInputBytes (${this.#maxBytes} bytes); raise it to allow more`,
          this.#total,
          undefined,
          'limit',
        );
      if (what === 'io') throw new UnpicklingError(`cannot read the file: ${message}`, -1, undefined, 'io');
      throw new UnpicklingError(
        `corrupt ${this.#kind} stream: ${message}`,
        this.#total,
        undefined,
        'corrupt',
      );
    }
    const len = this.#state[SLOTS + i] as number;
    const chunk = this.#data.slice(i * SLOT, i * SLOT + len);
    Atomics.store(this.#state, i, EMPTY);
    Atomics.notify(this.#state, i);
    this.#next++;
    if (this.#head.length < HEAD) {
      const head = new Uint8Array(Math.min(HEAD, this.#head.length + len));
      head.set(this.#head);
      head.set(chunk.subarray(0, head.length - this.#head.length), this.#head.length);
      this.#head = head;
    }
    this.#chunks.push(chunk);
    this.#starts.push(this.#total);
    this.#total += len;
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
          `pickle data was truncated (the ${this.#kind} stream ends at ${this.#total} bytes)`,
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
