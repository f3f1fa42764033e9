/**
 * bzip2 through the `compressjs` package (pure JS). Its decoder writes one byte at a time into a
 * stream object we supply, so the output cap is enforced while decoding.
 */
import { createRequire } from 'node:module';
import { CorruptError, OutBuf, OutputLimitError } from './outbuf.js';

interface ByteSource {
  readByte(): number;
  read(buf: Uint8Array | number[], off: number, len: number): number;
  eof(): boolean;
  seek(pos: number): void;
  tell(): number;
}

interface ByteSink {
  writeByte(b: number): void;
  write?(buf: ArrayLike<number>, off: number, len: number): number;
  flush(): void;
}

interface Bzip2Api {
  decompressFile(input: ByteSource, output: ByteSink, multistream?: boolean): unknown;
  compressFile(input: Uint8Array, output: ByteSink, blockSize100k?: number): unknown;
}

const require = createRequire(import.meta.url);
let api: Bzip2Api | undefined;
function bzip2(): Bzip2Api {
  api ??= (require('compressjs') as { Bzip2: Bzip2Api }).Bzip2;
  return api;
}

class Source implements ByteSource {
  pos: number;
  constructor(private readonly data: Uint8Array, start: number) {
    this.pos = start;
  }
  /** Reads attempted past the end of the input (compressjs turns them into zero bits). */
  overrun = 0;
  readByte(): number {
    if (this.pos < this.data.length) return this.data[this.pos++] as number;
    this.overrun++;
    return -1;
  }
  read(buf: Uint8Array | number[], off: number, len: number): number {
    let n = 0;
    while (n < len && this.pos < this.data.length) buf[off + n++] = this.data[this.pos++] as number;
    if (n < len) this.overrun++;
    return n;
  }
  eof(): boolean {
    return this.pos >= this.data.length;
  }
  seek(pos: number): void {
    this.pos = pos;
  }
  tell(): number {
    return this.pos;
  }
}

function startsBzh(data: Uint8Array, pos: number): boolean {
  return data.length - pos >= 4 && data[pos] === 0x42 && data[pos + 1] === 0x5a && data[pos + 2] === 0x68;
}

/**
 * Decode a .bz2 file: streams back to back. Like Python's BZ2File (which joblib reads through),
 * trailing bytes that do not start another stream are ignored.
 */
export function decodeBzip2(data: Uint8Array, out: OutBuf): void {
  const sink: ByteSink = { writeByte: (b) => out.push(b), flush: () => undefined };
  let pos = 0;
  do {
    const src = new Source(data, pos);
    try {
      bzip2().decompressFile(src, sink, false);
    } catch (e) {
      if (e instanceof OutputLimitError) throw e;
      throw new CorruptError((e as Error).message || String(e));
    }
    // compressjs reads past the end as zero bits; a stream that needed them was truncated.
    if (src.pos > data.length || src.overrun > 0) throw new CorruptError('compressed data is truncated');
    pos = src.pos;
  } while (startsBzh(data, pos));
}

/** Compress into one bzip2 stream; `level` 1-9 is the block size in units of 100 kB (joblib: 9 by default). */
export function encodeBzip2(data: Uint8Array, level = 9): Uint8Array {
  const out = new OutBuf(Number.MAX_SAFE_INTEGER, Math.max(1024, data.length >>> 2));
  const sink: ByteSink = { writeByte: (b) => out.push(b), flush: () => undefined };
  bzip2().compressFile(data, sink, Math.min(9, Math.max(1, Math.round(level))));
  return out.result().slice();
}
