/** Container details of zlib streams and gzip members shared by the Node and browser zlib codecs. */
import { corruptError } from './types.js';

/** Valid zlib header (RFC 1950): deflate method, window ≤ 32 KiB, check bits, no preset dictionary. */
export function isZlibHeader(data: Uint8Array, pos: number): boolean {
  if (data.length - pos < 2) return false;
  const cmf = data[pos] as number;
  const flg = data[pos + 1] as number;
  return (cmf & 0x0f) === 8 && cmf >>> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0 && (flg & 0x20) === 0;
}

/** Offset of the deflate data of the gzip member at `pos` (RFC 1952 header checked and skipped). */
export function gzipBody(data: Uint8Array, pos: number): number {
  const bad = (m: string): never => {
    throw corruptError('gzip', m);
  };
  if (data.length - pos < 10) bad('truncated header');
  if (data[pos + 2] !== 8) bad('unknown compression method');
  const flags = data[pos + 3] as number;
  if (flags & 0xe0) bad('reserved header flags are set');
  let p = pos + 10;
  if (flags & 0x04) {
    if (data.length - p < 2) bad('truncated header');
    p += 2 + ((data[p] as number) | ((data[p + 1] as number) << 8));
  }
  for (const bit of [0x08, 0x10]) {
    if (flags & bit) {
      while (p < data.length && data[p] !== 0) p++;
      p++;
    }
  }
  if (flags & 0x02) p += 2;
  if (p > data.length) bad('truncated header');
  return p;
}

export function joinParts(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
