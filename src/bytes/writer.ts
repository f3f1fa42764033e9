/**
 * A growable byte buffer with pickle protocol-4 framing, laid out as CPython's C pickler does it:
 * a frame opens lazily at the first write after the previous one closed (9 header bytes are
 * reserved), and closing it either fills in `FRAME <len>` or, for content under 4 bytes, slides the
 * content back over the reserved header (no FRAME opcode at all).
 */
import { writeUtf8From } from './text.js';

const FRAME = 0x95;
const FRAME_HEADER = 9;
/** Frames are closed at the first object boundary once they hold this much (CPython's target). */
export const FRAME_SIZE_TARGET = 65536;
const FRAME_SIZE_MIN = 4;

const encoder = new TextEncoder();
const allocUnsafeSlow = (globalThis as { Buffer?: { allocUnsafeSlow?(n: number): Uint8Array } }).Buffer
  ?.allocUnsafeSlow;

/**
 * A Uint8Array of n bytes that will be overwritten entirely: large ones skip zero-filling (Node's
 * allocUnsafeSlow gives the view its own ArrayBuffer, so no other data is reachable through it).
 */
function allocOverwritten(n: number): Uint8Array {
  if (n >= 65536 && allocUnsafeSlow) {
    const b = allocUnsafeSlow(n);
    return new Uint8Array(b.buffer, b.byteOffset, n);
  }
  return new Uint8Array(n);
}
const INITIAL = 1 << 16;
/** Buffers up to this size are kept for reuse by the next run. */
const KEEP_MAX = 1 << 24;
const EMPTY = new Uint8Array(0);
/** A finished run's buffer, reused by the next one (taken, so nested runs never share it). */
let scratch: Uint8Array | undefined;

/**
 * Where an encoder's output goes when it is streamed (a file being written). `write` may keep the
 * chunk only until it returns: the writer reuses its buffer afterwards.
 */
export interface ByteSink {
  write(chunk: Uint8Array): void;
}

/** With a sink, buffered bytes are handed over once this much is buffered (at object boundaries). */
const FLUSH_AT = 1 << 20;

export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  /** Writes up to here need no growth and no frame opening (-1 forces the slow path). */
  limit: number;
  /** Start of the open frame's reserved header, or -1 when no frame is open. */
  frameStart = -1;
  framing = false;
  /** Bytes already moved out of `buf` (large payloads by reference), in order. */
  private parts: Uint8Array[] = [];
  private total = 0;

  /** Streaming: output goes here as it is produced (the whole pickle is never held in memory). */
  private readonly sink: ByteSink | undefined;
  /** The encoder calls handOver() at object boundaries once `pos` reaches this (Infinity: no sink). */
  readonly flushAt: number;

  constructor(sink?: ByteSink) {
    this.sink = sink;
    this.flushAt = sink === undefined ? Infinity : FLUSH_AT;
    // Reuse the buffer of a finished run: most of the cost of small dumps is growing the buffer.
    const spare = scratch;
    scratch = undefined;
    this.buf = spare ?? new Uint8Array(INITIAL);
    this.view = new DataView(this.buf.buffer);
    this.limit = this.buf.length;
  }

  /** Hand the buffer back for the next run (call once, after `result`). */
  release(): void {
    if (this.buf.length <= KEEP_MAX && (scratch === undefined || scratch.length < this.buf.length))
      scratch = this.buf;
    this.buf = EMPTY;
    this.view = new DataView(EMPTY.buffer);
    this.parts = [];
    this.total = 0;
    this.pos = 0;
    this.limit = 0;
  }

  /** Turn framing on (after the PROTO header): the next write opens the first frame. */
  startFraming(): void {
    this.framing = true;
    this.frameStart = -1;
    this.limit = -1;
  }

  /** Make room for `n` more bytes, opening a frame first when one is due. */
  ensure(n: number): void {
    if (this.pos + n > this.limit) this.slow(n);
  }

  slow(n: number): void {
    if (this.framing && this.frameStart < 0) {
      this.grow(FRAME_HEADER + n);
      this.frameStart = this.pos;
      this.pos += FRAME_HEADER;
      this.limit = this.buf.length;
    } else {
      this.grow(n);
    }
  }

  /** Capacity for `n` more bytes without opening a frame (unframed payloads). */
  private grow(n: number): void {
    const need = this.pos + n;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = allocOverwritten(cap);
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    if (!this.framing || this.frameStart >= 0) this.limit = this.buf.length;
  }

  /** Close the open frame if it has reached the target size (called at every object boundary). */
  boundary(): void {
    if (this.frameStart >= 0 && this.pos - this.frameStart - FRAME_HEADER >= FRAME_SIZE_TARGET)
      this.commitFrame();
    if (this.pos >= this.flushAt) this.handOver();
  }

  /**
   * Streaming: hand the finished bytes to the sink: everything before the open frame (whose header is
   * patched when it closes), then move the frame's bytes to the front of the buffer.
   */
  handOver(): void {
    const sink = this.sink;
    if (sink === undefined) return;
    const keep = this.frameStart >= 0 ? this.frameStart : this.pos;
    if (keep === 0) return;
    sink.write(this.buf.subarray(0, keep));
    this.buf.copyWithin(0, keep, this.pos);
    this.pos -= keep;
    if (this.frameStart >= 0) this.frameStart -= keep;
  }

  /** Close the open frame: write its header, or drop the reserved bytes when it is too small. */
  commitFrame(): void {
    const start = this.frameStart;
    if (start < 0) return;
    const len = this.pos - start - FRAME_HEADER;
    if (len >= FRAME_SIZE_MIN) {
      this.buf[start] = FRAME;
      this.view.setUint32(start + 1, len % 0x100000000, true);
      this.view.setUint32(start + 5, Math.floor(len / 0x100000000), true);
    } else {
      this.buf.copyWithin(start, start + FRAME_HEADER, this.pos);
      this.pos -= FRAME_HEADER;
    }
    this.frameStart = -1;
    this.limit = -1;
  }

  /**
   * Write `header` + `payload`. A payload of >= 64 KiB goes outside any frame (as CPython writes
   * it) and is not copied into the buffer: it is kept by reference and copied once, by `result`.
   */
  headerAndPayload(header: Uint8Array, payload: Uint8Array): void {
    if (payload.length >= FRAME_SIZE_TARGET) {
      this.commitFrame();
      this.grow(header.length);
      this.buf.set(header, this.pos);
      this.pos += header.length;
      this.flush();
      if (this.sink !== undefined) this.sink.write(payload);
      else {
        this.parts.push(payload);
        this.total += payload.length;
      }
      return;
    }
    this.ensure(header.length + payload.length);
    this.buf.set(header, this.pos);
    this.pos += header.length;
    this.buf.set(payload, this.pos);
    this.pos += payload.length;
  }

  /** Move the buffer's bytes to the parts list (only outside frames: frame headers are patched in place). */
  private flush(): void {
    if (this.pos === 0) return;
    if (this.sink !== undefined) this.sink.write(this.buf.subarray(0, this.pos));
    else {
      this.parts.push(this.buf.slice(0, this.pos));
      this.total += this.pos;
    }
    this.pos = 0;
  }

  /**
   * Start an unframed large write: closes the open frame and makes room for `n` bytes that will not
   * be counted in any frame. Follow with the `*Raw` writers.
   */
  beginUnframed(n: number): void {
    this.commitFrame();
    this.grow(n);
  }

  byte(b: number): void {
    if (this.pos + 1 > this.limit) this.slow(1);
    this.buf[this.pos++] = b;
  }

  byte2(a: number, b: number): void {
    if (this.pos + 2 > this.limit) this.slow(2);
    this.buf[this.pos++] = a;
    this.buf[this.pos++] = b;
  }

  /** Opcode + uint8. */
  opU8(op: number, v: number): void {
    this.byte2(op, v);
  }

  /** Opcode + little-endian uint16. */
  opU16(op: number, v: number): void {
    if (this.pos + 3 > this.limit) this.slow(3);
    const p = this.pos;
    this.buf[p] = op;
    this.buf[p + 1] = v & 0xff;
    this.buf[p + 2] = v >>> 8;
    this.pos = p + 3;
  }

  /** Opcode + little-endian uint32. */
  opU32(op: number, v: number): void {
    if (this.pos + 5 > this.limit) this.slow(5);
    this.buf[this.pos] = op;
    this.view.setUint32(this.pos + 1, v, true);
    this.pos += 5;
  }

  /** Opcode + little-endian int32. */
  opI32(op: number, v: number): void {
    if (this.pos + 5 > this.limit) this.slow(5);
    this.buf[this.pos] = op;
    this.view.setInt32(this.pos + 1, v, true);
    this.pos += 5;
  }

  /** Opcode + little-endian uint64 (n < 2**53). */
  opU64(op: number, v: number): void {
    if (this.pos + 9 > this.limit) this.slow(9);
    this.buf[this.pos] = op;
    this.view.setUint32(this.pos + 1, v % 0x100000000, true);
    this.view.setUint32(this.pos + 5, Math.floor(v / 0x100000000), true);
    this.pos += 9;
  }

  /** Opcode + big-endian float64. */
  opF64(op: number, v: number): void {
    if (this.pos + 9 > this.limit) this.slow(9);
    this.buf[this.pos] = op;
    this.view.setFloat64(this.pos + 1, v, false);
    this.pos += 9;
  }

  bytes(data: Uint8Array): void {
    if (this.pos + data.length > this.limit) this.slow(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Text whose chars are all < 0x100 (opcode lines at protocol 0), one byte per char. */
  latin1(s: string): void {
    const n = s.length;
    if (this.pos + n > this.limit) this.slow(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  // ---- raw writers: no capacity or frame checks; the caller reserved room ---------------------

  rawByte(b: number): void {
    this.buf[this.pos++] = b;
  }

  rawU32(v: number): void {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  rawU64(v: number): void {
    this.view.setUint32(this.pos, v % 0x100000000, true);
    this.view.setUint32(this.pos + 4, Math.floor(v / 0x100000000), true);
    this.pos += 8;
  }

  rawBytes(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /**
   * Write `s` as UTF-8 with surrogatepass at pos (room for `utf8Bytes` bytes reserved, where
   * utf8Bytes is at least the encoded length). Returns nothing; pos advances by the encoded length.
   */
  rawUtf8(s: string, utf8Bytes: number): void {
    const n = s.length;
    const buf = this.buf;
    let p = this.pos;
    if (n < 64) {
      // Short strings: a JS loop beats the TextEncoder call; bail out at the first non-ASCII char.
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      this.pos = i === n ? p : writeUtf8From(s, i, buf, p);
      return;
    }
    if (isWellFormed(s)) {
      const r = encoder.encodeInto(s, buf.subarray(p, p + utf8Bytes));
      this.pos = p + r.written;
    } else {
      this.pos = writeUtf8From(s, 0, buf, p);
    }
  }

  /** The bytes written so far (a copy sized exactly); with a sink, the rest is handed over instead. */
  result(): Uint8Array {
    if (this.sink !== undefined) {
      this.flush();
      return EMPTY;
    }
    if (this.parts.length === 0) {
      const exact = allocOverwritten(this.pos);
      exact.set(this.buf.subarray(0, this.pos));
      return exact;
    }
    const out = allocOverwritten(this.total + this.pos);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    out.set(this.buf.subarray(0, this.pos), at);
    return out;
  }
}

const hasIsWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Does `s` hold no lone surrogate (so a standard UTF-8 encoder gives surrogatepass bytes)? */
export function isWellFormed(s: string): boolean {
  return hasIsWellFormed
    ? (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : !LONE_SURROGATE.test(s);
}
