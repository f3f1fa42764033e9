// joblib files: every fixture written by the installed joblib (all compressors, protocols 2-5, a
// stream without tell()) and the hand-built pre-0.10 formats, read with loads(bytes) and load(path);
// zero-copy payloads; corrupt, truncated and oversized compressed data; side-file name checks.
import { describe, expect, test } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe as describeValue, type Desc } from './helpers/describe.js';
import {
  FIXTURES_DIR,
  fixturesOf,
  readFixtureBytes,
  readMeta,
  type FixtureFile,
} from './helpers/fixtures.js';
import { load, loads, UnpicklingError } from '../src/index.js';
import { NDArray, ndarrayFromBuffer, DType } from '../src/numpy/index.js';
import { Tuple, isPlainObject } from '../src/python/values.js';
import {
  compressJoblib,
  decompressJoblib,
  detectJoblibCompression,
  JOBLIB_COMPRESSORS,
} from '../src/joblib/compress.js';

interface JoblibFile extends FixtureFile {
  readonly compress?: [string, number] | null;
  readonly aligned?: boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

// ---- description: the numpy family's describer when it exists, else DESCRIPTION_FORMAT's ndarray row

const numpyDescriber = (() => {
  try {
    describeValue(ndarrayFromBuffer(DType.parse('<i1'), [1], 'C', new Uint8Array(1)));
    return true;
  } catch {
    return false;
  }
})();

/** DESCRIPTION_FORMAT.md for the value kinds of the joblib fixtures (fallback until describe-numpy lands). */
function fallbackDescribe(root: unknown): Desc {
  const ids = new Map<object, number>();
  let next = 0;
  const one = (v: unknown): Desc => {
    if (v === null) return { t: 'none' };
    if (typeof v === 'boolean') return { t: 'bool', v };
    if (typeof v === 'bigint') return { t: 'int', v: v.toString() };
    if (typeof v === 'number') return describeValue(v);
    if (typeof v === 'string') return { t: 'str', v };
    if (v instanceof NDArray) {
      const d: Record<string, unknown> = {
        t: 'ndarray',
        dtype: dtypeDesc(v.dtype),
        shape: v.shape,
        fortran: v.order === 'F',
      };
      if (v.subclass !== 'numpy.ndarray') d['cls'] = v.subclass;
      if (v.dtype.hasObject) d['v'] = (v.objects ?? []).map(one);
      else d['data'] = hex(cOrderBytes(v));
      return d as Desc;
    }
    if (v instanceof Uint8Array) return { t: 'bytes', v: hex(v) };
    if (typeof v === 'object') {
      const seen = ids.get(v);
      if (seen !== undefined) return { t: 'ref', id: seen };
      const id = next++;
      ids.set(v, id);
      if (v instanceof Tuple && v.length === 0) return { t: 'tuple', v: [] };
      if (Array.isArray(v)) return { t: v instanceof Tuple ? 'tuple' : 'list', id, v: v.map(one) };
      if (v instanceof Map) return { t: 'dict', id, v: [...v].map(([k, x]) => [one(k), one(x)]) };
      if (isPlainObject(v)) return { t: 'dict', id, v: Object.keys(v).map((k) => [one(k), one(v[k])]) };
    }
    throw new Error(`fallback describer: unsupported ${String(v)}`);
  };
  return one(root);
}

/** fixtures_numpy.py's dtype description: `dtype.str`, or a dict for structured / sub-array dtypes. */
function dtypeDesc(dt: DType): unknown {
  const md = dt.metadata;
  const noMeta =
    md === null ||
    (md instanceof Map ? md.size === 0 : typeof md === 'object' && Object.keys(md as object).length === 0);
  if (dt.names === null && dt.subarray === null && noMeta) return dt.str;
  return {
    str: dt.str,
    itemsize: dt.itemsize,
    alignment: dt.alignment,
    aligned: dt.isAlignedStruct,
    fields:
      dt.names === null
        ? null
        : dt.fieldList().map((f) => [f.name, f.title ?? null, f.offset, dtypeDesc(f.dtype)]),
    subarray: dt.subarray === null ? null : [dtypeDesc(dt.subarray.base), [...dt.subarray.shape]],
  };
}

/** The array's bytes in C order (numpy's `tobytes(order='C')`). */
function cOrderBytes(a: NDArray): Uint8Array {
  if (a.order === 'C' || a.shape.length < 2) return a.raw;
  const item = a.dtype.itemsize;
  const shape = a.shape;
  const n = shape.reduce((x, y) => x * y, 1);
  const out = new Uint8Array(n * item);
  const fStrides: number[] = [];
  let s = 1;
  for (const d of shape) {
    fStrides.push(s);
    s *= d;
  }
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let k = 0; k < shape.length; k++) f += (idx[k] as number) * (fStrides[k] as number);
    out.set(a.raw.subarray(f * item, f * item + item), c * item);
    for (let k = shape.length - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (shape[k] as number)) break;
      idx[k] = 0;
    }
  }
  return out;
}

const describeLoaded = (v: unknown): Desc => (numpyDescriber ? describeValue(v) : fallbackDescribe(v));

// ---- fixtures

const entries = fixturesOf('joblib').filter((e) => e.files.some((f) => f.kind === 'joblib'));

describe('joblib fixtures', () => {
  test('the fixture set is present', () => {
    expect(entries.length).toBeGreaterThanOrEqual(12);
    expect(fixturesOf('joblib').some((e) => e.name === 'bombs')).toBe(true);
  });
  for (const entry of entries) {
    const meta = readMeta(entry);
    const files = entry.files.filter((f) => f.kind === 'joblib') as JoblibFile[];
    const hasSide = entry.files.some((f) => f.kind === 'joblib-side');
    const skip = !numpyDescriber && entry.name === 'scalars'; // numpy scalars need the numpy describer
    describe(entry.name, () => {
      for (const f of files) {
        const label = `${f.path} (protocol ${f.protocol}, ${f.compress ? f.compress.join(' ') : 'uncompressed'})`;
        test.skipIf(skip)(`load(path) ${label}`, async () => {
          const v = await load(join(FIXTURES_DIR, f.path), { lossless: true });
          expect(describeLoaded(v)).toEqual(meta.desc);
        });
        if (hasSide) {
          test(`loads(bytes) refuses without side files: ${label}`, () => {
            expect(() => loads(readFixtureBytes(f.path))).toThrow(
              /side file "[^"]+\.npy(\.z)?"; read it with load\(path\)/,
            );
          });
        } else {
          test.skipIf(skip)(`loads(bytes) ${label}`, () => {
            const v = loads(readFixtureBytes(f.path), { lossless: true });
            expect(describeLoaded(v)).toEqual(meta.desc);
          });
        }
      }
    });
  }
});

describe('zero-copy payloads', () => {
  test('aligned uncompressed files: numeric arrays are views on the input buffer', () => {
    const files = fixturesOf('joblib')
      .flatMap((e) => e.files as JoblibFile[])
      .filter((f) => f.kind === 'joblib' && f.aligned && !f.compress);
    expect(files.length).toBeGreaterThan(5);
    let views = 0;
    for (const f of files) {
      const bytes = readFixtureBytes(f.path);
      const v = loads(bytes) as Record<string, unknown> | unknown;
      const arrays = collectArrays(v);
      for (const a of arrays) {
        if (a.dtype.hasObject || a.dtype.byteorder === '>' || a.raw.length === 0) continue;
        // joblib pads so that every payload starts on a 16-byte boundary of the stream
        expect((a.raw.byteOffset - bytes.byteOffset) % 16).toBe(0);
        expect(a.raw.buffer).toBe(bytes.buffer);
        const data = a.data as unknown;
        if (a.dtype.kind === 'f' && a.dtype.itemsize === 8) {
          expect(data).toBeInstanceOf(Float64Array);
          expect((data as Float64Array).buffer).toBe(bytes.buffer);
          views++;
        }
      }
    }
    expect(views).toBeGreaterThan(5);
  });

  test('load(path) of an uncompressed file: the float64 array is read straight into a buffer of its own', async () => {
    const path = join(FIXTURES_DIR, 'joblib/large.p4.raw.joblib');
    const v = (await load(path)) as Record<string, NDArray>;
    const big = v['big'] as NDArray;
    const data = big.data as Float64Array;
    expect(data).toBeInstanceOf(Float64Array);
    // No whole-file buffer behind it (the file may be larger than any buffer), no second copy.
    expect(data.byteOffset).toBe(0);
    expect(data.buffer.byteLength).toBe(big.raw.length);
    expect(data[3]).toBe(1.5);
  });

  test('no-tell files (no padding) still decode; unaligned payloads are copied', () => {
    const v = loads(readFixtureBytes('joblib/notell.p4.raw.joblib')) as Record<string, NDArray>;
    expect(Array.from((v['a'] as NDArray).data as Float64Array)).toEqual([0, 1, 2, 3, 4]);
  });
});

function collectArrays(v: unknown, out: NDArray[] = [], seen = new Set<unknown>()): NDArray[] {
  if (v === null || typeof v !== 'object' || seen.has(v)) return out;
  seen.add(v);
  if (v instanceof NDArray) out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectArrays(x, out, seen);
  else if (v instanceof Map) for (const x of v.values()) collectArrays(x, out, seen);
  else if (isPlainObject(v)) for (const x of Object.values(v)) collectArrays(x, out, seen);
  return out;
}

// ---- compressed containers

const sample = readFixtureBytes('joblib/mixed.p4.raw.joblib');

describe('compression', () => {
  test('detection follows joblib: ZF first, then zlib, gzip, bz2, lzma, xz, lz4; else uncompressed', () => {
    const b = (...x: number[]): Uint8Array => new Uint8Array(x);
    expect(detectJoblibCompression(b(0x5a, 0x46, 0x30))).toBe('zfile');
    expect(detectJoblibCompression(b(0x78, 0x9c))).toBe('zlib');
    expect(detectJoblibCompression(b(0x1f, 0x8b, 8))).toBe('gzip');
    expect(detectJoblibCompression(b(0x42, 0x5a, 0x68, 0x39))).toBe('bz2');
    expect(detectJoblibCompression(b(0x42, 0x5a, 0x30))).toBeUndefined();
    expect(detectJoblibCompression(b(0x5d, 0x00, 0x00))).toBe('lzma');
    expect(detectJoblibCompression(b(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0))).toBe('xz');
    expect(detectJoblibCompression(b(0x04, 0x22, 0x4d, 0x18))).toBe('lz4');
    expect(detectJoblibCompression(b(0x80, 0x04))).toBeUndefined();
    expect(detectJoblibCompression(b())).toBeUndefined();
    expect(decompressJoblib(sample, 1e9)).toBeUndefined();
  });

  for (const method of JOBLIB_COMPRESSORS) {
    test(`${method}: compressJoblib → decompressJoblib gives the stream back`, () => {
      const c = compressJoblib(sample, method);
      expect(detectJoblibCompression(c)).toBe(method);
      expect(hex(decompressJoblib(c, 1e9) as Uint8Array)).toBe(hex(sample));
    });

    test(`${method}: truncated data is an UnpicklingError`, () => {
      const c = compressJoblib(sample, method);
      for (const cut of [c.length - 1, Math.floor(c.length / 2), 12]) {
        expect(() => loads(c.subarray(0, cut)), `cut at ${cut}`).toThrow(UnpicklingError);
      }
    });

    test(`${method}: corrupted data fails only with UnpicklingError`, () => {
      const c = compressJoblib(sample, method);
      for (const at of [Math.floor(c.length / 3), Math.floor(c.length / 2), c.length - 6]) {
        const bad = c.slice();
        bad[at] = (bad[at] as number) ^ 0x5a;
        try {
          loads(bad); // a flip inside unchecked literal bytes can still decode (lz4 without block checksums)
        } catch (e) {
          expect(e, `flip at ${at}`).toBeInstanceOf(UnpicklingError);
        }
      }
    });
  }

  test('corrupt streams name the compressor', () => {
    const gz = compressJoblib(sample, 'gzip');
    const bad = gz.slice();
    bad[bad.length - 5] ^= 0xff; // CRC32 / size trailer
    expect(() => loads(bad)).toThrow(/corrupt gzip stream: (CRC32|length) mismatch/);
    const xz = compressJoblib(sample, 'xz').slice();
    xz[8] ^= 0x01; // stream header CRC32
    expect(() => loads(xz)).toThrow(/corrupt xz stream: xz stream header CRC mismatch/);
    const py = readFixtureBytes('joblib/mixed.p4.xz6.joblib').slice();
    py[Math.floor(py.length / 2)] ^= 0x10;
    expect(() => loads(py)).toThrow(/corrupt xz stream/);
    expect(() => loads(new Uint8Array([0x78, 0x9c, 1, 2, 3, 4]))).toThrow(/corrupt zlib stream/);
  });

  test('several concatenated zlib streams are read as one (joblib accepts that)', () => {
    const half = Math.floor(sample.length / 2);
    const two = Buffer.concat([
      zlib.deflateSync(sample.subarray(0, half)),
      zlib.deflateSync(sample.subarray(half)),
    ]);
    expect(hex(decompressJoblib(two, 1e9) as Uint8Array)).toBe(hex(sample));
    expect(describeLoaded(loads(two, { lossless: true }))).toEqual(
      describeLoaded(loads(sample, { lossless: true })),
    );
  });

  test('bytes after the last gzip member / xz stream that start no new stream are ignored, as joblib does', () => {
    const gz = Buffer.concat([compressJoblib(sample, 'gzip'), Buffer.from('trailing junk')]);
    expect(hex(decompressJoblib(gz, 1e9) as Uint8Array)).toBe(hex(sample));
    const xz = Buffer.concat([compressJoblib(sample, 'xz'), Buffer.alloc(8), Buffer.from('junk')]);
    expect(hex(decompressJoblib(xz, 1e9) as Uint8Array)).toBe(hex(sample));
  });

  describe('decompression bombs are refused by limits.maxInputBytes', () => {
    // 64 MiB of zeros; the cap is 1 MiB, so decoding must stop early.
    const zeros = new Uint8Array(64 << 20);
    const cap = 1 << 20;
    for (const method of JOBLIB_COMPRESSORS) {
      test(`${method} (compressed by Python)`, () => {
        const bomb = readFixtureBytes(`joblib/bomb64m.${method}`);
        expect(bomb.length).toBeLessThan(cap);
        expect(() => loads(bomb, { limits: { maxInputBytes: cap } })).toThrow(
          /exceeds limits\.maxInputBytes/,
        );
        expect(() => loads(bomb, { limits: { maxInputBytes: cap } })).toThrow(UnpicklingError);
      });
    }
    for (const method of ['zlib', 'gzip', 'lz4'] as const) {
      test(`${method} (compressed here)`, () => {
        const bomb = compressJoblib(zeros, method);
        expect(bomb.length).toBeLessThan(cap);
        expect(() => loads(bomb, { limits: { maxInputBytes: cap } })).toThrow(
          /exceeds limits\.maxInputBytes/,
        );
      });
    }
    test('a z-file whose header declares more than the cap is refused before inflating', () => {
      const z = zlib.deflateSync(zeros);
      const header = Buffer.from('ZF' + ('0x' + zeros.length.toString(16)).padEnd(19, ' '));
      expect(() => loads(Buffer.concat([header, z]), { limits: { maxInputBytes: cap } })).toThrow(
        /exceeds limits\.maxInputBytes/,
      );
    });
  });
});

// ---- pre-0.10 formats

describe('old formats', () => {
  test('ZF header with one extra space (joblib <= 0.8.4 under Python 2) is accepted', () => {
    const inline = readFixtureBytes('joblib/old_zfile_inline.pkl');
    const plain = decompressJoblib(inline, 1e9) as Uint8Array;
    const header = Buffer.from('ZF' + ('0x' + plain.length.toString(16)).padEnd(20, ' '));
    const spaced = Buffer.concat([header, zlib.deflateSync(plain)]);
    expect(hex(decompressJoblib(spaced, 1e9) as Uint8Array)).toBe(hex(plain));
  });

  test('a z-file whose length field disagrees with its data is refused', () => {
    const data = Buffer.from('hello');
    const header = Buffer.from('ZF' + '0x6'.padEnd(19, ' '));
    expect(() => decompressJoblib(Buffer.concat([header, zlib.deflateSync(data)]), 1e9)).toThrow(
      /header says 6 bytes, stream holds 5/,
    );
  });

  function withCopy(names: string[], body: (dir: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'pj-joblib-'));
    for (const n of names) copyFileSync(join(FIXTURES_DIR, 'joblib', n), join(dir, n));
    return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
  }

  test('a missing side file is an UnpicklingError naming it', async () => {
    await withCopy(['old_npy_p2.pkl', 'old_npy_p2.pkl_01.npy'], async (dir) => {
      await expect(load(join(dir, 'old_npy_p2.pkl'))).rejects.toThrow(
        /missing joblib side file "old_npy_p2\.pkl_02\.npy"/,
      );
    });
  });

  test('side-file names with a path are refused (no directory traversal)', async () => {
    const main = Buffer.from(readFixtureBytes('joblib/old_npy_p2.pkl'));
    const name = Buffer.from('old_npy_p2.pkl_01.npy');
    const evil = Buffer.from('../' + 'x'.repeat(name.length - 7) + '.npy');
    expect(evil.length).toBe(name.length);
    const at = main.indexOf(name);
    expect(at).toBeGreaterThan(0);
    evil.copy(main, at);
    const dir = mkdtempSync(join(tmpdir(), 'pj-joblib-'));
    try {
      // the target exists one level up: only the name check stands between the reader and it
      const sub = join(dir, 'sub');
      rmSync(sub, { recursive: true, force: true });
      writeFileSync(join(dir, evil.toString().slice(3)), readFixtureBytes('joblib/old_npy_p2.pkl_01.npy'));
      await import('node:fs/promises').then((fs) => fs.mkdir(sub));
      writeFileSync(join(sub, 'main.pkl'), main);
      await expect(load(join(sub, 'main.pkl'))).rejects.toThrow(/refusing side-file name "\.\.\/x+\.npy"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
