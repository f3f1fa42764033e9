/**
 * Zip reading: the central directory (with ZIP64), entries by name, stored entries as byte ranges of
 * the source (no copy in memory, positioned reads from files), deflated ones inflated with fflate.
 *
 * Why a small reader here rather than a package (measured, see the report in the torch commit):
 * `loads` is synchronous, which rules out @zip.js/zip.js, unzipit and JSZip (async only); yauzl and
 * adm-zip are Node-only; fflate's `unzipSync` is synchronous and browser-ready but needs the whole
 * archive in one Uint8Array (no file past 4 GiB, no lazy reads) and copies every stored entry (a
 * 1 GB state dict cost 1 GB more). Reading the central directory is ~150 lines; inflating is not,
 * so deflated entries (.npz written by savez_compressed, TorchScript code) go through fflate.
 *
 * torch archives have local headers with sizes zero (data descriptors) and always end with ZIP64
 * records; sizes and offsets come from the central directory, data offsets from the local header
 * (its extra field pads the data to 64 bytes).
 */
import { inflateSync } from 'fflate';
import { UnpicklingError } from '../errors.js';
import { MemorySource, readOwn, type ByteSource } from '../bytes/source.js';

/** One file in a zip archive. */
export interface ZipEntry {
  /** Name as stored (folders with `/`). */
  readonly name: string;
  /** 0 = stored, 8 = deflated (others are refused when read). */
  readonly method: number;
  readonly compressedSize: number;
  /** Uncompressed size in bytes. */
  readonly size: number;
  readonly crc32: number;
  /** Offset of the local header. */
  readonly headerOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function corrupt(message: string, offset = -1): UnpicklingError {
  return new UnpicklingError(`corrupt zip archive: ${message}`, offset, undefined, 'corrupt');
}

/** True when `data` starts with a zip local header (`PK\x03\x04`) or is an empty zip (`PK\x05\x06`). */
export function isZip(data: Uint8Array): boolean {
  return (
    data.length >= 4 &&
    data[0] === 0x50 &&
    data[1] === 0x4b &&
    ((data[2] === 3 && data[3] === 4) || (data[2] === 5 && data[3] === 6))
  );
}

function u64(view: DataView, at: number): number {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  const v = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(v)) throw corrupt('a 64-bit size or offset is beyond 2^53');
  return v;
}

function decodeName(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // CP437 names: every name torch and numpy write is ASCII; other bytes map through latin-1.
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

/**
 * A zip archive opened for reading.
 * @example
 * const zip = ZipReader.open(new MemorySource(bytes));
 * for (const e of zip.entries) console.log(e.name, e.size);
 * const pkl = zip.read(zip.get('archive/data.pkl')!);
 */
export class ZipReader {
  readonly entries: readonly ZipEntry[];
  readonly #byName = new Map<string, ZipEntry>();
  readonly #dataOffsets = new Map<ZipEntry, number>();

  private constructor(
    readonly source: ByteSource,
    entries: ZipEntry[],
  ) {
    this.entries = entries;
    for (const e of entries) if (!this.#byName.has(e.name)) this.#byName.set(e.name, e);
  }

  /** Open bytes or a source; reads only the end records and the central directory. */
  static open(input: ByteSource | Uint8Array): ZipReader {
    const src = input instanceof Uint8Array ? new MemorySource(input) : input;
    return new ZipReader(src, readCentralDirectory(src));
  }

  get(name: string): ZipEntry | undefined {
    return this.#byName.get(name);
  }

  /** Offset of the entry's first data byte (from its local header). */
  dataOffset(entry: ZipEntry): number {
    let off = this.#dataOffsets.get(entry);
    if (off !== undefined) return off;
    if (entry.headerOffset + 30 > this.source.size)
      throw corrupt(`local header of ${entry.name} is past the end`, entry.headerOffset);
    const h = this.source.read(entry.headerOffset, 30);
    const view = new DataView(h.buffer, h.byteOffset, 30);
    if (view.getUint32(0, true) !== SIG_LOCAL)
      throw corrupt(`no local header for ${entry.name}`, entry.headerOffset);
    off = entry.headerOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
    if (off + entry.compressedSize > this.source.size) {
      throw corrupt(
        `data of ${entry.name} (${entry.compressedSize} bytes at ${off}) runs past the end`,
        entry.headerOffset,
      );
    }
    this.#dataOffsets.set(entry, off);
    return off;
  }

  /**
   * The uncompressed bytes of an entry in a buffer of their own (a SharedArrayBuffer when `shared`):
   * stored entries are read straight into it, deflated ones inflated then copied when shared.
   */
  readOwn(entry: ZipEntry, maxBytes: number, shared: boolean): Uint8Array {
    if (
      entry.method === 0 &&
      entry.compressedSize === entry.size &&
      entry.size <= maxBytes &&
      !this.source.inMemory
    ) {
      return readOwn(this.source, this.dataOffset(entry), entry.size, shared);
    }
    const b = this.read(entry, maxBytes);
    if (!shared) return b;
    const out = new Uint8Array(new SharedArrayBuffer(b.length));
    out.set(b);
    return out;
  }

  /**
   * The uncompressed bytes of an entry: a view of the source for stored entries in memory, else a
   * new buffer. `maxBytes` caps what a deflated entry may inflate to (its declared size is checked
   * first; a stream longer than declared is refused).
   */
  read(entry: ZipEntry, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    if (entry.size > maxBytes) {
      throw new UnpicklingError(
        `zip entry ${entry.name} of ${entry.size} bytes exceeds limits.maxInputBytes (${maxBytes}); raise it to allow more`,
        -1,
        undefined,
        'limit',
      );
    }
    const off = this.dataOffset(entry);
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size)
        throw corrupt(`stored entry ${entry.name} has different sizes`);
      return this.source.read(off, entry.size);
    }
    if (entry.method !== 8) {
      throw new UnpicklingError(
        `zip entry ${entry.name} uses compression method ${entry.method}; only stored and deflated entries are read`,
        -1,
        undefined,
        'unsupported',
      );
    }
    const packed = this.source.read(off, entry.compressedSize);
    // One byte of slack: a stream that inflates past its declared size fills it and is refused.
    let out: Uint8Array;
    try {
      out = inflateSync(packed, { out: new Uint8Array(entry.size + 1) });
    } catch (e) {
      throw corrupt(`entry ${entry.name} does not inflate: ${(e as Error).message}`);
    }
    if (out.length !== entry.size) {
      throw corrupt(
        `entry ${entry.name} inflates to ${out.length > entry.size ? 'more than' : out.length} bytes, ${entry.size} declared`,
      );
    }
    return out;
  }
}

/** Find the end record (it may be followed by a comment of up to 65535 bytes). */
function findEocd(src: ByteSource): number {
  const tail = Math.min(src.size, 22 + 65535);
  if (src.size < 22) throw corrupt(`${src.size} bytes is too short for a zip archive`);
  const start = src.size - tail;
  const buf = src.read(start, tail);
  for (let i = tail - 22; i >= 0; i--) {
    if (buf[i] === 0x50 && buf[i + 1] === 0x4b && buf[i + 2] === 5 && buf[i + 3] === 6) {
      const commentLen = (buf[i + 20] as number) | ((buf[i + 21] as number) << 8);
      if (i + 22 + commentLen <= tail) return start + i;
    }
  }
  throw corrupt('no end of central directory record (the file is cut short or not a zip)', src.size);
}

function readCentralDirectory(src: ByteSource): ZipEntry[] {
  const eocd = findEocd(src);
  const e = src.read(eocd, 22);
  const ev = new DataView(e.buffer, e.byteOffset, 22);
  let count = ev.getUint16(10, true);
  let cdSize = ev.getUint32(12, true);
  let cdOffset = ev.getUint32(16, true);
  if (ev.getUint32(0, true) !== SIG_EOCD) throw corrupt('bad end record', eocd);
  // ZIP64: a locator sits right before the end record; its record holds the 64-bit values.
  if (eocd >= 20) {
    const l = src.read(eocd - 20, 20);
    const lv = new DataView(l.buffer, l.byteOffset, 20);
    if (lv.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      const at = u64(lv, 8);
      if (at + 56 > src.size) throw corrupt('ZIP64 end record is past the end', eocd - 20);
      const z = src.read(at, 56);
      const zv = new DataView(z.buffer, z.byteOffset, 56);
      if (zv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw corrupt('bad ZIP64 end record', at);
      count = u64(zv, 32);
      cdSize = u64(zv, 40);
      cdOffset = u64(zv, 48);
    }
  }
  if (cdOffset + cdSize > src.size)
    throw corrupt(`central directory (${cdSize} bytes at ${cdOffset}) runs past the end`, eocd);
  if (count * 46 > cdSize)
    throw corrupt(`${count} entries cannot fit in a ${cdSize}-byte central directory`, eocd);
  const cd = src.read(cdOffset, cdSize);
  const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cdSize || view.getUint32(p, true) !== SIG_CENTRAL)
      throw corrupt(`central directory entry ${k} is broken`, cdOffset + p);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let csize = view.getUint32(p + 20, true);
    let usize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let offset = view.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdSize) throw corrupt(`central directory entry ${k} runs past the directory`, cdOffset + p);
    if (flags & 1)
      throw new UnpicklingError(
        'encrypted zip entries are not supported',
        cdOffset + p,
        undefined,
        'unsupported',
      );
    const name = decodeName(cd.subarray(p + 46, p + 46 + nameLen), (flags & 0x800) !== 0);
    // ZIP64 extra: 64-bit values for exactly the fields stored as 0xFFFFFFFF, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = view.getUint16(x, true);
      const len = view.getUint16(x + 2, true);
      if (x + 4 + len > xEnd) break;
      if (id === 1) {
        let q = x + 4;
        const take = (): number => {
          if (q + 8 > x + 4 + len) throw corrupt(`ZIP64 extra field of ${name} is too short`, cdOffset + x);
          const v = u64(view, q);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (offset === 0xffffffff) offset = take();
      }
      x += 4 + len;
    }
    entries.push({ name, method, compressedSize: csize, size: usize, crc32: crc, headerOffset: offset });
    p = end;
  }
  return entries;
}
