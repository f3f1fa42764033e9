/** A growable output buffer with a hard size cap, shared by the streaming decompressors. */

/** Thrown (and turned into an UnpicklingError by the caller) when output would exceed the cap. */
export class OutputLimitError extends Error {
  override name = 'OutputLimitError';
  constructor(readonly limit: number) {
    super(`decompressed data exceeds ${limit} bytes`);
  }
}

/** Thrown by the decoders for malformed input; the caller adds the container name. */
export class CorruptError extends Error {
  override name = 'CorruptError';
}

export class OutBuf {
  buf: Uint8Array;
  len = 0;
  readonly limit: number;

  constructor(limit: number, initial = 1 << 16) {
    this.limit = limit;
    this.buf = new Uint8Array(Math.max(16, Math.min(initial, limit)));
  }

  /** Make room for `n` more bytes; throws OutputLimitError past the cap. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    if (need > this.limit) throw new OutputLimitError(this.limit);
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    if (cap > this.limit) cap = this.limit;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  push(b: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  append(src: Uint8Array, start = 0, end = src.length): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.len);
    this.len += end - start;
  }

  /** The bytes written so far (a view; no copy when the buffer is exactly full). */
  result(): Uint8Array {
    if (this.len === this.buf.length) return this.buf;
    // Doubling can leave up to half the buffer unused: give large slack back with one copy.
    const slack = this.buf.length - this.len;
    if (slack > 1 << 20 && slack > this.len / 8) return this.buf.slice(0, this.len);
    return this.buf.subarray(0, this.len);
  }
}
