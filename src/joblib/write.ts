/**
 * Writing joblib files as joblib ≥ 1.2 does (docs/FORMATS.md §5): one pickle stream in which every exact
 * `ndarray`/`matrix`/`memmap` is a `NumpyArrayWrapper` whose BUILD is followed by the array bytes
 * (16-byte aligned from the stream start), optionally compressed as a whole.
 *
 * How it is built without a raw-bytes hook in the encoder: the encoder writes the value with each
 * such array replaced by a persistent id (a LONG1 integer in a reserved range + BINPERSID; ints are
 * never memoized, so the memo is untouched). The stream is then walked opcode by opcode; each marker
 * is replaced by the wrapper's opcodes (written here, without memo entries) and the payload, and the
 * stream is re-framed (protocol ≥ 4) so that every payload sits outside frames, as joblib's are.
 */
import type { ByteSink } from '../bytes/writer.js';
import { PicklingError } from '../errors.js';
import { encode } from '../pickle/encoder.js';
import type { DumpOptions } from '../pickle/options.js';
import { genops } from '../tools/genops.js';
import { NDArray, type DType } from '../numpy/index.js';
import { ALL_COMPRESSORS, compressJoblib, DEFAULT_LEVELS, type JoblibCompressor } from './compress.js';

/** `compress` as joblib.dump takes it: a level, true (zlib 3), a method name, or [method, level]. */
export type JoblibCompress = boolean | number | JoblibCompressor | readonly [JoblibCompressor, number];

export interface JoblibDumpOptions extends DumpOptions {
  /**
   * Compression (default none; a file extension .z .gz .bz2 .lzma .xz .lz4 picks the method).
   * 'zstd' is written only when named here: released joblib cannot load it.
   */
  compress?: JoblibCompress;
  /**
   * false: write as joblib does for a target without tell() (a pipe): no alignment padding and
   * `numpy_array_alignment_bytes` None. Default true.
   */
  aligned?: boolean;
}

const ALIGNMENT = 16;
const FRAME_TARGET = 65536;
/** Persistent ids in [MARK_BASE, MARK_BASE + 2^32) stand for "the array with this index". */
const MARK_BASE = 0x6a6f626c69620000n; // 'joblib\0\0'
const WRAPPED = new Set(['numpy.ndarray', 'numpy.matrix', 'numpy.memmap', 'numpy.core.memmap.memmap']);
const EXTENSIONS: [string, JoblibCompressor][] = [
  ['.z', 'zlib'],
  ['.gz', 'gzip'],
  ['.bz2', 'bz2'],
  ['.lzma', 'lzma'],
  ['.xz', 'xz'],
  ['.lz4', 'lz4'],
];

// ---- a tiny opcode writer for the wrapper (no memo: nothing refers back to these objects) -------

class Bytes {
  buf = new Uint8Array(256);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32(n: number): void {
    this.room(4);
    new DataView(this.buf.buffer).setUint32(this.len, n, true);
    this.len += 4;
  }
  u64(n: number): void {
    this.room(8);
    const v = new DataView(this.buf.buffer);
    v.setUint32(this.len, n % 0x100000000, true);
    v.setUint32(this.len + 4, Math.floor(n / 0x100000000), true);
    this.len += 8;
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const utf8 = new TextEncoder();

class WrapperWriter {
  readonly o = new Bytes();
  constructor(private readonly proto: number) {}

  str(s: string): void {
    const b = utf8.encode(s);
    if (this.proto >= 4 && b.length < 256) {
      this.o.byte(0x8c); // SHORT_BINUNICODE
      this.o.byte(b.length);
    } else {
      this.o.byte(0x58); // BINUNICODE
      this.o.u32(b.length);
    }
    this.o.bytes(b);
  }

  int(n: number): void {
    if (n >= 0 && n <= 0xff) {
      this.o.byte(0x4b);
      this.o.byte(n);
    } else if (n >= 0 && n <= 0xffff) {
      this.o.byte(0x4d);
      this.o.byte(n & 0xff);
      this.o.byte(n >>> 8);
    } else if (n >= -0x80000000 && n <= 0x7fffffff) {
      this.o.byte(0x4a);
      this.o.u32(n >>> 0);
    } else {
      // LONG1: little-endian two's complement, minimal length
      let v = BigInt(n);
      const out: number[] = [];
      for (;;) {
        const b = Number(v & 0xffn);
        out.push(b);
        v >>= 8n;
        if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
      }
      this.o.byte(0x8a);
      this.o.byte(out.length);
      for (const b of out) this.o.byte(b);
    }
  }

  bool(b: boolean): void {
    this.o.byte(b ? 0x88 : 0x89);
  }

  none(): void {
    this.o.byte(0x4e);
  }

  global(module: string, name: string): void {
    if (this.proto >= 4) {
      this.str(module);
      this.str(name);
      this.o.byte(0x93); // STACK_GLOBAL
    } else {
      this.o.byte(0x63); // GLOBAL
      this.o.bytes(utf8.encode(`${module}\n${name}\n`));
    }
  }

  bytesValue(b: Uint8Array): void {
    if (this.proto >= 3) {
      if (b.length < 256) {
        this.o.byte(0x43);
        this.o.byte(b.length);
      } else {
        this.o.byte(0x42);
        this.o.u32(b.length);
      }
      this.o.bytes(b);
    } else {
      // protocol 2 has no bytes opcode: _codecs.encode(latin-1 text, 'latin1'), as CPython writes it
      this.global('_codecs', 'encode');
      this.str(String.fromCharCode(...b));
      this.str('latin1');
      this.o.byte(0x86);
      this.o.byte(0x52);
    }
  }

  /** Items already pushed (n of them) become a tuple. */
  tupleOf(n: number, items: () => void): void {
    if (n === 0) {
      this.o.byte(0x29);
      return;
    }
    if (n <= 3) {
      items();
      this.o.byte(n === 1 ? 0x85 : n === 2 ? 0x86 : 0x87);
      return;
    }
    this.o.byte(0x28);
    items();
    this.o.byte(0x74);
  }

  intTuple(xs: readonly number[]): void {
    this.tupleOf(xs.length, () => xs.forEach((x) => this.int(x)));
  }

  /** numpy's dtype pickle: `numpy.dtype(typestr, False, True)` then BUILD with the state tuple (§4.4). */
  dtype(dt: DType): void {
    this.global('numpy', 'dtype');
    this.tupleOf(3, () => {
      this.str(typestr(dt));
      this.bool(false);
      this.bool(true);
    });
    this.o.byte(0x52); // REDUCE
    const datetime = dt.kind === 'M' || dt.kind === 'm';
    const flexible = dt.kind === 'S' || dt.kind === 'U' || dt.kind === 'V';
    const flags = dt.flags > 127 ? dt.flags - 256 : dt.flags; // numpy 1.x pickles a signed char
    this.o.byte(0x28); // MARK
    this.int(datetime ? 4 : 3);
    this.str(dt.byteorder);
    if (dt.subarray) {
      const sub = dt.subarray;
      this.tupleOf(2, () => {
        this.dtype(sub.base);
        this.intTuple(sub.shape);
      });
    } else this.none();
    if (dt.names) {
      const names = dt.names;
      this.tupleOf(names.length, () => names.forEach((n) => this.str(n)));
      this.o.byte(0x7d); // EMPTY_DICT
      this.o.byte(0x28);
      for (const f of dt.fieldList()) {
        this.str(f.name);
        const titled = f.title !== null && f.title !== undefined;
        this.tupleOf(titled ? 3 : 2, () => {
          this.dtype(f.dtype);
          this.int(f.offset);
          if (titled) {
            if (typeof f.title !== 'string') throw new PicklingError('only str field titles can be written');
            this.str(f.title);
          }
        });
      }
      this.o.byte(0x75); // SETITEMS
    } else {
      this.none();
      this.none();
    }
    this.int(flexible ? dt.itemsize : -1);
    this.int(flexible ? dt.alignment : -1);
    this.int(flags);
    if (datetime) {
      this.tupleOf(2, () => {
        this.o.byte(0x7d); // metadata {}
        this.tupleOf(4, () => {
          this.bytesValue(utf8.encode(dt.unit ?? 'generic'));
          this.int(dt.count);
          this.int(1);
          this.int(1);
        });
      });
    }
    this.o.byte(0x74); // TUPLE
    this.o.byte(0x62); // BUILD
  }
}

/** The type string numpy passes to `dtype()` in its pickles: kind + itemsize (characters for U). */
function typestr(dt: DType): string {
  switch (dt.kind) {
    case 'U':
      return `U${dt.itemsize / 4}`;
    case 'O':
      return 'O8';
    case 'M':
    case 'm':
      return `${dt.kind}8`;
    default:
      return `${dt.kind}${dt.itemsize}`;
  }
}

/** 'F' only for arrays that are Fortran- and not C-contiguous (joblib's rule). */
function arrayOrder(a: NDArray): 'C' | 'F' {
  if (a.order !== 'F') return 'C';
  return a.shape.filter((d) => d !== 1).length > 1 ? 'F' : 'C';
}

function subclassGlobal(a: NDArray): [string, string] {
  if (a.subclass === 'numpy.matrix') return ['numpy', 'matrix'];
  if (a.subclass.endsWith('memmap')) return ['numpy', 'memmap'];
  return ['numpy', 'ndarray'];
}

/** The wrapper's opcodes: `NumpyArrayWrapper() ` + BUILD with joblib's state dict in joblib's key order. */
function wrapperOps(a: NDArray, proto: number, aligned: boolean): Uint8Array {
  const w = new WrapperWriter(proto);
  w.global('joblib.numpy_pickle', 'NumpyArrayWrapper');
  w.o.byte(0x29); // EMPTY_TUPLE
  w.o.byte(0x81); // NEWOBJ
  w.o.byte(0x7d); // EMPTY_DICT
  w.o.byte(0x28); // MARK
  w.str('subclass');
  const [m, n] = subclassGlobal(a);
  w.global(m, n);
  w.str('shape');
  w.intTuple(a.shape);
  w.str('order');
  w.str(arrayOrder(a));
  w.str('dtype');
  w.dtype(a.dtype);
  w.str('allow_mmap');
  w.bool(!a.dtype.hasObject);
  w.str('numpy_array_alignment_bytes');
  if (aligned) w.int(ALIGNMENT);
  else w.none();
  w.o.byte(0x75); // SETITEMS
  w.o.byte(0x62); // BUILD
  return w.o.result();
}

/** Element bytes in the declared order (C, or F for Fortran arrays) and the dtype's byte order. */
function payload(a: NDArray): Uint8Array {
  return a.raw;
}

// ---- the stream ---------------------------------------------------------------------------------

/**
 * The stream's bytes, in order: small writes are gathered in a buffer, array payloads go to the sink
 * as they are (no copy). Without a sink everything is kept and joined at the end (dumpsJoblib).
 */
class Out {
  private buf = new Bytes();
  private readonly parts: Uint8Array[] = [];
  /** Bytes handed on (to the sink or the parts list). */
  private done = 0;
  constructor(private readonly sink: ByteSink | undefined) {}

  get len(): number {
    return this.done + this.buf.len;
  }
  byte(b: number): void {
    this.buf.byte(b);
  }
  u64(n: number): void {
    this.buf.u64(n);
  }
  bytes(b: Uint8Array): void {
    if (b.length >= 1 << 16) {
      this.flush();
      this.emit(b);
      return;
    }
    this.buf.bytes(b);
    if (this.buf.len >= 1 << 20) this.flush();
  }
  flush(): void {
    if (this.buf.len === 0) return;
    this.emit(this.sink === undefined ? this.buf.result().slice() : this.buf.result());
    this.buf = new Bytes();
  }
  private emit(b: Uint8Array): void {
    this.done += b.length;
    if (this.sink !== undefined) this.sink.write(b);
    else this.parts.push(b);
  }
  /** Everything, joined (no sink). */
  result(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0] as Uint8Array;
    const out = new Uint8Array(this.done);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Sequential output with protocol-4 framing: opcodes gathered into frames, payloads outside them. */
class Framer {
  readonly out: Out;
  private frame = new Bytes();
  constructor(
    private readonly framed: boolean,
    sink?: ByteSink,
  ) {
    this.out = new Out(sink);
  }

  /** Stream position of the next byte written outside a frame. */
  get pos(): number {
    return this.out.len;
  }

  op(b: Uint8Array): void {
    if (!this.framed) {
      this.out.bytes(b);
      return;
    }
    this.frame.bytes(b);
    if (this.frame.len >= FRAME_TARGET) this.close();
  }

  /** Close the open frame (a frame under 4 bytes is written bare, as CPython does). */
  close(): void {
    if (!this.framed || this.frame.len === 0) return;
    if (this.frame.len >= 4) {
      this.out.byte(0x95);
      this.out.u64(this.frame.len);
    }
    this.out.bytes(this.frame.result());
    this.frame = new Bytes();
  }

  raw(b: Uint8Array): void {
    this.out.bytes(b);
  }
}

function resolveProtocol(p: number | undefined): number {
  const proto = p === undefined ? 4 : p < 0 ? 5 : p;
  if (!Number.isInteger(proto) || proto > 5)
    throw new PicklingError(`unsupported pickle protocol ${String(p)}`);
  if (proto < 2) throw new PicklingError('joblib files are written at protocol 2 or higher');
  return proto;
}

/**
 * The uncompressed joblib stream for `value` (what joblib.dump writes before compression).
 * `aligned: false` emulates a target without tell(): no padding, `numpy_array_alignment_bytes` None.
 */
export function joblibStream(value: unknown, options: DumpOptions & { aligned?: boolean } = {}): Uint8Array {
  return writeJoblibStream(value, options, undefined) as Uint8Array;
}

/** The joblib stream into `sink` as it is produced (or returned whole without a sink). */
export function writeJoblibStream(
  value: unknown,
  options: DumpOptions & { aligned?: boolean },
  sink: ByteSink | undefined,
): Uint8Array | undefined {
  const proto = resolveProtocol(options.protocol);
  const aligned = options.aligned !== false;
  const arrays: NDArray[] = [];
  const userPid = options.persistentId;
  const persistentId = (v: unknown): unknown => {
    const pid = userPid ? userPid(v) : undefined;
    if (pid !== undefined && pid !== null) return pid;
    if (v instanceof NDArray && WRAPPED.has(v.subclass) && v.constructor === NDArray) {
      arrays.push(v);
      return MARK_BASE + BigInt(arrays.length - 1);
    }
    return undefined;
  };
  const inner = encode(value, { ...options, protocol: proto, persistentId });
  if (arrays.length === 0) {
    if (sink === undefined) return inner;
    sink.write(inner);
    return undefined;
  }

  const framer = new Framer(proto >= 4, sink);
  let pending: { start: number; end: number } | undefined; // the op before BINPERSID, not yet written
  let first = true;
  for (const op of genops(inner, 0, { lenient: true })) {
    const name = op.op.name;
    if (first) {
      first = false;
      framer.raw(inner.subarray(op.pos, op.end)); // PROTO sits before the first frame
      continue;
    }
    if (name === 'FRAME') continue;
    if (name === 'BINPERSID' && pending !== undefined) {
      const prev = genops(inner, pending.start).next().value;
      const arg = prev?.arg;
      if (
        prev?.op.name === 'LONG1' &&
        typeof arg === 'bigint' &&
        arg >= MARK_BASE &&
        arg - MARK_BASE < BigInt(arrays.length)
      ) {
        pending = undefined;
        writeArray(framer, arrays[Number(arg - MARK_BASE)] as NDArray, proto, aligned, options);
        continue;
      }
    }
    if (pending) framer.op(inner.subarray(pending.start, pending.end));
    pending = { start: op.pos, end: op.end };
  }
  if (pending) framer.op(inner.subarray(pending.start, pending.end));
  framer.close();
  if (sink === undefined) return framer.out.result();
  framer.out.flush();
  return undefined;
}

function writeArray(framer: Framer, a: NDArray, proto: number, aligned: boolean, options: DumpOptions): void {
  const hasObject = a.dtype.hasObject;
  framer.op(wrapperOps(a, proto, aligned));
  framer.close(); // joblib force-closes the frame after the wrapper's BUILD
  if (hasObject) {
    // A complete nested pickle of the array, protocol 2, as joblib <= 1.4 writes it.
    framer.raw(encode(a, { ...options, protocol: 2, persistentId: undefined }));
    return;
  }
  if (aligned) {
    const p = ALIGNMENT - ((framer.pos + 1) % ALIGNMENT);
    framer.raw(new Uint8Array([p]));
    framer.raw(new Uint8Array(p).fill(0xff));
  }
  framer.raw(payload(a));
}

/** Method and level from joblib's `compress` argument and the file name (extension rules of joblib.dump). */
export function resolveCompression(
  compress: JoblibCompress | undefined,
  path?: string,
): [JoblibCompressor, number] | undefined {
  let method: JoblibCompressor | undefined;
  let level: number | undefined;
  if (Array.isArray(compress)) {
    const [m, l] = compress as readonly [JoblibCompressor, number];
    method = m;
    level = l;
  } else if (typeof compress === 'string') {
    method = compress;
  } else if (compress === true) {
    level = 3;
  } else if (typeof compress === 'number') {
    level = compress;
  } else if (compress !== undefined && compress !== false) {
    throw new PicklingError(`invalid compress option ${String(compress)}`);
  }
  if (method !== undefined && !ALL_COMPRESSORS.includes(method)) {
    throw new PicklingError(
      `unknown compression method ${JSON.stringify(method)}; use one of ${ALL_COMPRESSORS.join(', ')}`,
    );
  }
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 9)) {
    throw new PicklingError(`compress level must be an integer 0-9, got ${level}`);
  }
  if (method === undefined && path !== undefined && !Array.isArray(compress)) {
    for (const [ext, m] of EXTENSIONS) if (path.endsWith(ext)) method = m;
  }
  if (method === undefined) {
    if (level === undefined || level === 0) return undefined;
    return ['zlib', level];
  }
  if (level === 0 && Array.isArray(compress)) return undefined;
  return [method, level === undefined || level === 0 ? DEFAULT_LEVELS[method] : level];
}

/**
 * The bytes of a joblib file holding `value` (what `joblib.dump(value, f, compress=…, protocol=…)`
 * writes): numpy arrays (NDArray of class ndarray, matrix or memmap) are written as joblib's
 * NumpyArrayWrapper with their bytes after it; everything else is ordinary pickle.
 * @example
 * const bytes = dumpsJoblib({ w: ndarrayFromBuffer(DType.parse('<f8'), [2], 'C', raw) }, { compress: ['xz', 6] });
 */
export function dumpsJoblib(value: unknown, options: JoblibDumpOptions = {}): Uint8Array {
  const { compress, ...rest } = options;
  const stream = joblibStream(value, rest);
  const c = resolveCompression(compress);
  return c ? compressJoblib(stream, c[0], c[1]) : stream;
}

/** Uncompressed stream bytes gathered into blocks of this size, each compressed on its own. */
const BLOCK = 32 << 20;

/**
 * Compression of a stream in blocks: each block becomes a complete stream of the method, and the
 * file is their concatenation, which joblib reads for every method but lzma-alone (zlib streams back
 * to back, gzip members, bzip2/xz streams, lz4 and zstd frames). A stream under one block is exactly
 * what one call would write. lzma-alone has one stream only: it is compressed whole at the end.
 */
export class CompressingSink implements ByteSink {
  private block = new Uint8Array(0);
  private used = 0;
  private readonly whole: Uint8Array[] = [];
  constructor(
    private readonly method: JoblibCompressor,
    private readonly level: number,
    private readonly file: ByteSink,
    private readonly blockSize = BLOCK,
  ) {}

  write(chunk: Uint8Array): void {
    if (this.method === 'lzma') {
      this.whole.push(chunk.slice());
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.block.length === 0) this.block = new Uint8Array(this.blockSize);
      const n = Math.min(chunk.length - at, this.blockSize - this.used);
      this.block.set(chunk.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === this.blockSize) this.emit();
    }
  }

  private emit(): void {
    if (this.used === 0) return;
    this.file.write(compressJoblib(this.block.subarray(0, this.used), this.method, this.level));
    this.used = 0;
  }

  end(): void {
    if (this.method === 'lzma') {
      const all = new Uint8Array(this.whole.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of this.whole) {
        all.set(c, at);
        at += c.length;
      }
      this.file.write(compressJoblib(all, 'lzma', this.level));
      return;
    }
    this.emit();
  }
}
