/** Checksums used by the compressed containers joblib writes (gzip/xz CRC32, xz CRC64, LZ4 xxHash32). */

const CRC32_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE, reflected), continuing from `crc` (0 to start). */
export function crc32(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = (CRC32_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

// CRC-64/XZ (ECMA-182 polynomial, reflected) in two 32-bit halves: JS has no fast 64-bit ints.
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
(() => {
  const polyLo = 0xd7870f42;
  const polyHi = 0xc96c5795;
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    CRC64_LO[n] = lo;
    CRC64_HI[n] = hi;
  }
})();

/** CRC-64 as used by xz; returns the 8 check bytes in little-endian order (as stored in .xz). */
export function crc64Bytes(data: Uint8Array, start = 0, end = data.length): Uint8Array {
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  for (let i = start; i < end; i++) {
    const idx = (lo ^ (data[i] as number)) & 0xff;
    const nlo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
    const nhi = hi >>> 8;
    lo = (nlo ^ (CRC64_LO[idx] as number)) >>> 0;
    hi = (nhi ^ (CRC64_HI[idx] as number)) >>> 0;
  }
  lo = ~lo >>> 0;
  hi = ~hi >>> 0;
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, lo, true);
  v.setUint32(4, hi, true);
  return out;
}

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function read32(d: Uint8Array, i: number): number {
  return (
    ((d[i] as number) |
      ((d[i + 1] as number) << 8) |
      ((d[i + 2] as number) << 16) |
      ((d[i + 3] as number) << 24)) >>>
    0
  );
}

/** xxHash32 of data[start, end) with `seed` (LZ4 frame header and content checksums). */
export function xxh32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  let i = start;
  const len = end - start;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) >>> 0;
    let v2 = (seed + P2) >>> 0;
    let v3 = seed >>> 0;
    let v4 = (seed - P1) >>> 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(read32(data, i), P2)) >>> 0, 13), P1) >>> 0;
      v2 = Math.imul(rotl((v2 + Math.imul(read32(data, i + 4), P2)) >>> 0, 13), P1) >>> 0;
      v3 = Math.imul(rotl((v3 + Math.imul(read32(data, i + 8), P2)) >>> 0, 13), P1) >>> 0;
      v4 = Math.imul(rotl((v4 + Math.imul(read32(data, i + 12), P2)) >>> 0, 13), P1) >>> 0;
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    h = (seed + P5) >>> 0;
  }
  h = (h + len) >>> 0;
  while (i + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(read32(data, i), P3)) >>> 0, 17), P4) >>> 0;
    i += 4;
  }
  while (i < end) {
    h = Math.imul(rotl((h + Math.imul(data[i] as number, P5)) >>> 0, 11), P1) >>> 0;
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
