/**
 * bzip2. No package on npm does both directions under a licence this MIT package can ship
 * (compressjs and its forks are GPL; bzip-deflate is CC-SA), so each direction has its own:
 *
 * - decoding: seek-bzip (MIT, pure JS). It hands out one byte at a time, which is where the cap is
 *   enforced; the driver below, not seek-bzip's own, reads each stream's end marker and CRC, so a
 *   stream cut anywhere (even inside its 10-byte footer) is refused as Python's bz2 refuses it.
 * - encoding: libbzip2-wasm (ISC): libbzip2 itself in WebAssembly, the library Python's bz2 module
 *   links, so the bytes equal Python's at every level. Its one-shot decoder has no output cap, hence
 *   seek-bzip for reading. WebAssembly starts asynchronously: encoding needs `await ready()` first.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PicklingError } from '../errors.js';
import type { Producer } from '../bytes/stream-source.js';
import { type Codec, aligned, checkLevel, corruptError, limitError } from './types.js';

interface ByteIn {
  readByte(): number;
  read(buf: Uint8Array, off: number, len: number): number;
  seek(pos: number): void;
}
interface BunzipInstance {
  reader: { read(bits: number): number };
  streamCRC: number;
  _init_block(): boolean;
  _read_bunzip(): void;
  _start_bunzip(input: ByteIn, output: { writeByte(b: number): void }): void;
}
type BunzipClass = new (input: ByteIn, output: { writeByte(b: number): void }) => BunzipInstance;

interface Bz2Wasm {
  compressBZ2(
    data: Uint8Array,
    blockSize100k: number,
    workFactor: number,
  ): { error: number; errorMsg: string; output: Uint8Array };
}

// Both packages are loaded on first use: libbzip2-wasm embeds its WebAssembly as a large string, and
// loading it at import cost every CLI start about 0.1 s.
const requireHere = createRequire(import.meta.url);
let bunzip: BunzipClass | undefined;
const Bunzip = (): BunzipClass => (bunzip ??= requireHere('seek-bzip') as BunzipClass);
const libbzip2 = (): unknown => requireHere('libbzip2-wasm');

class Truncated extends Error {}

/** Input over `data`; reading past the end is a truncated stream (seek-bzip would read zero bits). */
class Input implements ByteIn {
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}
  readByte(): number {
    if (this.pos >= this.data.length) throw new Truncated('compressed data is truncated');
    return this.data[this.pos++] as number;
  }
  read(buf: Uint8Array, off: number, len: number): number {
    for (let i = 0; i < len; i++) buf[off + i] = this.readByte();
    return len;
  }
  seek(pos: number): void {
    this.pos = pos;
  }
}

/** A growable output buffer that refuses to pass the cap. */
class Output {
  buf: Uint8Array;
  len = 0;
  constructor(
    private readonly cap: number,
    initial: number,
  ) {
    this.buf = new Uint8Array(Math.max(64, Math.min(cap, initial)));
  }
  writeByte(b: number): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[this.len++] = b;
  }
  private grow(): void {
    if (this.len >= this.cap) throw limitError('bzip2', this.cap);
    const next = new Uint8Array(Math.min(this.cap, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
}

const isBzh = (d: Uint8Array, p: number): boolean =>
  d.length - p >= 4 && d[p] === 0x42 && d[p + 1] === 0x5a && d[p + 2] === 0x68;

let wasm: Bz2Wasm | undefined;
let started: Promise<void> | undefined;

/**
 * Start the bzip2 encoder's WebAssembly (once).
 * @example
 * await bz2Ready(); bz2Codec.encode(bytes, 9);
 */
export function bz2Ready(): Promise<void> {
  started ??= new Promise<void>((resolve, reject) => {
    try {
      // The Emscripten glue registers process-wide uncaughtException / unhandledRejection handlers in
      // Node (re-throwing, aborting); a library must not, so the ones it adds are removed again.
      const proc =
        typeof process !== 'undefined' && typeof process.listeners === 'function' ? process : undefined;
      const ex = proc?.listeners('uncaughtException') ?? [];
      const rej = proc?.listeners('unhandledRejection') ?? [];
      const m = (
        libbzip2() as () => Bz2Wasm & {
          then?: unknown;
          calledRun?: boolean;
          onRuntimeInitialized?: () => void;
        }
      )();
      for (const l of proc?.listeners('uncaughtException') ?? [])
        if (!ex.includes(l)) proc?.removeListener('uncaughtException', l);
      for (const l of proc?.listeners('unhandledRejection') ?? [])
        if (!rej.includes(l)) proc?.removeListener('unhandledRejection', l);
      // The module object is a thenable that resolves to itself: awaiting it never settles.
      const done = (): void => {
        delete m.then;
        wasm = m;
        resolve();
      };
      if (m.calledRun) done();
      else m.onRuntimeInitialized = done;
    } catch (e) {
      reject(e as Error);
    }
  });
  return started;
}

/**
 * Start the encoder synchronously (an encode asked for before `ready()` settled, e.g. by the CLI right
 * at start-up): the glue takes a ready WebAssembly instance through its `instantiateWasm` hook, and
 * the module bytes are the base64 data URI the glue embeds. Costs ~0.2 s once.
 */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

function startNow(): Bz2Wasm {
  const WA = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
  const require = createRequire(import.meta.url);
  const src = readFileSync(require.resolve('libbzip2-wasm'), 'latin1');
  const b64 = /data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)/.exec(src)?.[1];
  if (!b64)
    throw new PicklingError(
      'bzip2 writing: the WebAssembly module of libbzip2-wasm was not found',
      'root',
      'invalid-value',
    );
  const mod = new WA.Module(Buffer.from(b64, 'base64'));
  const ex = process.listeners('uncaughtException');
  const rej = process.listeners('unhandledRejection');
  const m = (libbzip2() as (o: object) => Bz2Wasm & { then?: unknown; calledRun?: boolean })({
    instantiateWasm(imports: object, receive: (i: { exports: object }) => void) {
      const inst = new WA.Instance(mod, imports);
      receive(inst);
      return inst.exports;
    },
  });
  for (const l of process.listeners('uncaughtException'))
    if (!ex.includes(l)) process.removeListener('uncaughtException', l);
  for (const l of process.listeners('unhandledRejection'))
    if (!rej.includes(l)) process.removeListener('unhandledRejection', l);
  if (!m.calledRun)
    throw new PicklingError(
      'bzip2 writing: libbzip2-wasm did not start synchronously; `await ready()` first',
      'root',
      'invalid-value',
    );
  delete m.then;
  return m;
}

export const bz2Codec: Codec = {
  name: 'bz2',
  levels: [1, 9],
  /**
   * bzip2 streams back to back, each checked up to its end marker and stream CRC; like Python's
   * BZ2File (which joblib reads through), bytes after a stream that do not start another are ignored.
   */
  decode(data, maxOutput) {
    const out = new Output(maxOutput, Math.max(1 << 16, data.length * 4));
    const input = new Input(data, 0);
    try {
      const bz = new (Bunzip())(input, out);
      for (;;) {
        if (bz._init_block()) {
          bz._read_bunzip();
          continue;
        }
        const crc = bz.reader.read(32) >>> 0;
        if (crc !== bz.streamCRC) throw new Error('stream CRC mismatch');
        if (!isBzh(data, input.pos)) break;
        bz._start_bunzip(input, out);
      }
    } catch (e) {
      if ((e as { code?: unknown }).code === 'limit') throw e;
      throw corruptError('bzip2', (e as Error).message);
    }
    const b = out.buf.subarray(0, out.len);
    return aligned(out.buf.length - out.len > 1 << 20 ? b.slice() : b);
  },
  encode(data, level) {
    checkLevel('bz2', level, this.levels);
    wasm ??= startNow();
    // workFactor 30 is libbzip2's (and Python's) default.
    const r = wasm.compressBZ2(data, level, 30);
    if (r.error !== 0)
      throw new PicklingError(`bzip2 compression failed: ${r.errorMsg || r.error}`, 'root', 'invalid-value');
    return r.output.slice();
  },
};

/**
 * Node only: a bzip2 file's decompressed stream one block at a time, for a StreamSource
 * (src/bytes/stream-source.ts): the decoder reads each block's output as it is produced, so the
 * stream is never held whole (the compressed bytes, about a tenth of it, are). Streams back to back
 * are read as `decode` reads them, each checked against its CRC.
 * @example
 * const pieces = bz2Pieces(compressed, limit);
 */
export function bz2Pieces(data: Uint8Array, cap: number): Producer {
  const PIECE = 1 << 20;
  let produced = 0;
  // One output object for seek-bzip; its buffer is handed out and replaced after each block.
  const out = {
    buf: new Uint8Array(PIECE),
    len: 0,
    writeByte(b: number): void {
      if (this.len === this.buf.length) {
        const room = cap - produced;
        if (this.len >= room) throw limitError('bzip2', cap);
        const next = new Uint8Array(Math.min(room, this.buf.length * 2));
        next.set(this.buf);
        this.buf = next;
      }
      this.buf[this.len++] = b;
    },
  };
  const input = new Input(data, 0);
  let bz: BunzipInstance | undefined;
  let done = false;
  return {
    next() {
      try {
        bz ??= new (Bunzip())(input, out);
        while (!done) {
          if (bz._init_block()) {
            bz._read_bunzip();
            if (out.len === 0) continue;
            const piece = out.buf.subarray(0, out.len);
            produced += out.len;
            out.buf = new Uint8Array(PIECE);
            out.len = 0;
            return piece;
          }
          const crc = bz.reader.read(32) >>> 0;
          if (crc !== bz.streamCRC) throw new Error('stream CRC mismatch');
          if (!isBzh(data, input.pos)) done = true;
          else bz._start_bunzip(input, out);
        }
        return undefined;
      } catch (e) {
        done = true;
        if ((e as { code?: unknown }).code === 'limit') throw e;
        throw corruptError('bzip2', (e as Error).message);
      }
    },
    close() {
      done = true;
    },
  };
}
