/**
 * Compressed joblib files decompressed while the decoder reads (src/bytes/stream-source.ts): zlib/gzip
 * inflated by a worker (src/bytes/inflate-worker.ts), xz/lzma by liblzma in step (lzmaPieces). The
 * values Python wrote, arrays that span the pieces, and every way the stream or the pickle can end
 * badly (typed errors, the worker stopped, nothing left running).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { load, NDArray, UnpicklingError } from '../src/index.js';
import { StreamSource } from '../src/bytes/stream-source.js';
import { inflateWorker } from '../src/bytes/inflate-worker.js';
import { lzmaPieces } from '../src/codecs/lzma.node.js';
import { lz4Pieces } from '../src/codecs/lz4.js';
import { bz2Pieces } from '../src/codecs/bz2.node.js';
import { zstdCodec, zstdPieces, zstdReady } from '../src/codecs/zstd.js';
import { FileSource } from '../src/containers/file-source.js';
import { familySet } from '../src/families.js';
import { unpickleSource } from '../src/unpickle/index.js';
import { describeWithPython, runPython } from './helpers/python.js';

const dir = mkdtempSync(join(tmpdir(), 'picklejar-inflate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (a: NDArray): string => createHash('sha256').update(a.raw).digest('hex');

type Kind = 'zlib' | 'gzip' | 'xz' | 'lzma' | 'lz4' | 'zstd' | 'bz2';

function decode(path: string, kind: Kind, maxBytes = 2 ** 32): unknown {
  const file = FileSource.open(path);
  const read = (o: number, n: number): Uint8Array => file.read(o, n);
  const producer =
    kind === 'zlib' || kind === 'gzip'
      ? inflateWorker(path, kind, maxBytes)
      : kind === 'lz4'
        ? lz4Pieces(read, file.size)
        : kind === 'zstd'
          ? zstdPieces(read, file.size, maxBytes)
          : kind === 'bz2'
            ? bz2Pieces(read(0, file.size), maxBytes)
            : lzmaPieces(read, file.size, kind === 'xz');
  if (producer === undefined) throw new Error('no pieces for this file');
  const src = new StreamSource(producer, kind, maxBytes);
  try {
    return unpickleSource(src, undefined, familySet(undefined));
  } finally {
    src.close();
    file.close();
  }
}

function decodeError(path: string, kind: Kind, maxBytes = 2 ** 32): UnpicklingError {
  try {
    decode(path, kind, maxBytes);
  } catch (e) {
    expect(e).toBeInstanceOf(UnpicklingError);
    return e as UnpicklingError;
  }
  throw new Error('decoded without error');
}

describeWithPython('compressed joblib files decompressed while decoding', () => {
  let expected: Record<string, { sha: string; shape: number[]; dtype: string }> = {};
  beforeAll(async () => {
    // 13 MB of arrays (the worker's slots hold 4 MiB: arrays start and end inside slots and span
    // several), small objects between them; random values, so every file is past the 8 MiB from
    // which load(path) streams.
    const code = `
import hashlib, json, sys, numpy as np, joblib
d = sys.argv[1]
rng = np.random.default_rng(7)
v = {'meta': {'name': 'm', 'sizes': [1, 2, 3]}, 'a': rng.standard_normal(700_000),
     'b': rng.integers(0, 2**40, 500_000, dtype='<i8'), 'note': 'between', 'c': rng.random(400_000).astype('<f4'),
     't': (1, 2.5, None)}
joblib.dump(v, d + '/m.z', compress=('zlib', 3))
joblib.dump(v, d + '/m.gz', compress=('gzip', 3))
# xz and lzma: the containers joblib.dump writes (lzma.LZMAFile in FORMAT_XZ / FORMAT_ALONE) around
# joblib's own stream, at preset 0 (joblib's levels 1+ take seconds on these 13 MB)
import io, lzma
raw = io.BytesIO()
joblib.dump(v, raw)
open(d + '/m.xz', 'wb').write(lzma.compress(raw.getvalue(), format=lzma.FORMAT_XZ, preset=0))
open(d + '/m.lzma', 'wb').write(lzma.compress(raw.getvalue(), format=lzma.FORMAT_ALONE, preset=0))
open(d + '/m.raw', 'wb').write(raw.getvalue())
# bz2: the container joblib.dump writes (bz2.BZ2File), two streams back to back, level 1
import bz2
cut = len(raw.getvalue()) // 3
open(d + '/m.bz2', 'wb').write(bz2.compress(raw.getvalue()[:cut], 1) + bz2.compress(raw.getvalue()[cut:], 1))
assert joblib.load(d + '/m.bz2')['note'] == 'between'
assert joblib.load(d + '/m.xz')['note'] == 'between' and joblib.load(d + '/m.lzma')['note'] == 'between'
joblib.dump(v, d + '/m.lz4', compress=('lz4', 3))
# xz streams back to back (Python's LZMAFile reads them as one stream), the
# pickle split across them
import pickle
p = pickle.dumps({'x': v['a'], 'y': 'after'}, protocol=4)
open(d + '/multi.xz', 'wb').write(lzma.compress(p[:len(p) // 3], preset=0) + lzma.compress(p[len(p) // 3:], preset=0))
assert pickle.loads(lzma.LZMAFile(d + '/multi.xz').read())['y'] == 'after'
# lz4 frames as python-lz4 writes them with other options: block checksums and 4 MiB blocks,
# independent blocks, two frames back to back, and a content checksum (decoded whole)
import lz4.frame as f
open(d + '/bc.lz4', 'wb').write(f.compress(p, block_checksum=True, block_size=f.BLOCKSIZE_MAX4MB))
open(d + '/ul.lz4', 'wb').write(f.compress(p, block_linked=False))
open(d + '/two.lz4', 'wb').write(f.compress(p[:len(p) // 3]) + f.compress(p[len(p) // 3:]))
open(d + '/cc.lz4', 'wb').write(f.compress(p, content_checksum=True))
out = {}
for k, a in v.items():
    if isinstance(a, np.ndarray):
        out[k] = {'sha': hashlib.sha256(a.tobytes()).hexdigest(), 'shape': list(a.shape), 'dtype': a.dtype.str}
print(json.dumps(out))`;
    expected = JSON.parse((await runPython(code, [dir])).stdout);
    // zstd: Python 3.11 has no zstd module; the reference libzstd (@bokuweb/zstd-wasm, the encoder
    // picklejar writes with) frames Python's stream. Also two frames with a skippable one between.
    await zstdReady();
    const raw = new Uint8Array(readFileSync(join(dir, 'm.raw')));
    writeFileSync(join(dir, 'm.zst'), zstdCodec.encode(raw, 3));
    const skippable = Uint8Array.of(0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3);
    const cut = raw.length >> 2;
    writeFileSync(
      join(dir, 'multi.zst'),
      Buffer.concat([
        zstdCodec.encode(raw.subarray(0, cut), 1),
        skippable,
        zstdCodec.encode(raw.subarray(cut), 1),
      ]),
    );
  }, 60_000);

  const FILES = [
    ['m.z', 'zlib'],
    ['m.gz', 'gzip'],
    ['m.xz', 'xz'],
    ['m.lzma', 'lzma'],
    ['m.lz4', 'lz4'],
    ['m.zst', 'zstd'],
    ['m.bz2', 'bz2'],
  ] as const;

  const check = (v: Record<string, unknown>): void => {
    for (const k of ['a', 'b', 'c']) {
      const a = v[k] as NDArray;
      expect(a.shape).toEqual(expected[k]?.shape);
      expect(a.dtype.str).toBe(expected[k]?.dtype);
      expect(sha(a)).toBe(expected[k]?.sha);
    }
    expect(v['meta']).toEqual({ name: 'm', sizes: [1, 2, 3] });
    expect(v['note']).toBe('between');
    expect(v['t']).toEqual([1, 2.5, null]);
  };

  it('decodes the values Python wrote (every compressor), arrays spanning pieces', () => {
    for (const [file, kind] of FILES) check(decode(join(dir, file), kind) as Record<string, unknown>);
  });

  it('load(path) of compressed files past 8 MiB goes through the stream, values right', async () => {
    for (const [file] of FILES) {
      expect(readFileSync(join(dir, file)).length).toBeGreaterThan(8 << 20);
      check((await load(join(dir, file))) as Record<string, unknown>);
    }
  });

  it('xz streams back to back, a pickle split across them', () => {
    const v = decode(join(dir, 'multi.xz'), 'xz') as Record<string, unknown>;
    expect(sha(v['x'] as NDArray)).toBe(expected['a']?.sha);
    expect(v['y']).toBe('after');
  });

  it('lz4 frames with block checksums, independent blocks, or back to back; a content checksum decodes whole', async () => {
    for (const file of ['bc.lz4', 'ul.lz4', 'two.lz4']) {
      const v = decode(join(dir, file), 'lz4') as Record<string, unknown>;
      expect(sha(v['x'] as NDArray)).toBe(expected['a']?.sha);
      expect(v['y']).toBe('after');
    }
    const file = FileSource.open(join(dir, 'cc.lz4'));
    expect(lz4Pieces((o, n) => file.read(o, n), file.size)).toBeUndefined();
    file.close();
    const v = (await load(join(dir, 'cc.lz4'))) as Record<string, unknown>;
    expect(sha(v['x'] as NDArray)).toBe(expected['a']?.sha);
  });

  it('zstd frames back to back with a skippable frame between', () => {
    check(decode(join(dir, 'multi.zst'), 'zstd') as Record<string, unknown>);
  });

  it('a stream cut short: a typed error, not a hang', () => {
    for (const [file, kind] of FILES) {
      const whole = readFileSync(join(dir, file));
      // (bz2 decodes at ~6 MB/s here: cut it early so this stays quick)
      const cuts = kind === 'bz2' ? [10, 300_000] : [10, whole.length >> 1, whole.length - 5];
      for (const keep of cuts) {
        const cut = join(dir, `cut-${keep}-${file}`);
        writeFileSync(cut, whole.subarray(0, keep));
        const e = decodeError(cut, kind);
        expect(['truncated', 'corrupt']).toContain(e.code);
        expect(e.offset, `${file} cut at ${keep}`).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('corrupt compressed data, and a corrupt pickle inside a valid stream, are typed errors', () => {
    const whole = new Uint8Array(readFileSync(join(dir, 'm.z')));
    const badHeader = whole.slice();
    badHeader[1] = (badHeader[1] as number) ^ 0xff;
    writeFileSync(join(dir, 'bad-header.z'), badHeader);
    const e = decodeError(join(dir, 'bad-header.z'), 'zlib');
    expect(e.code).toBe('corrupt');
    expect(e.message).toMatch(/^corrupt zlib stream: /);
    // Damage inside the deflate data: zlib or the decoder notices first, either way a typed error.
    const bad = whole.slice();
    bad.fill(0x55, 2000, 2100);
    writeFileSync(join(dir, 'bad.z'), bad);
    decodeError(join(dir, 'bad.z'), 'zlib');
    // gzip of a pickle that fails early (an unknown opcode) followed by megabytes the worker is still
    // inflating into a full ring: the decoder's error stops the worker.
    const junk = new Uint8Array(20 << 20);
    junk[0] = 0x80;
    junk[1] = 4;
    junk[2] = 0xff;
    writeFileSync(join(dir, 'junk.gz'), zlibGzip(junk));
    expect(decodeError(join(dir, 'junk.gz'), 'gzip').code).toBe('bad-opcode');
  });

  it('decompressed bytes past limits.maxInputBytes are refused', () => {
    for (const [file, kind] of FILES) {
      const e = decodeError(join(dir, file), kind, 1 << 20);
      expect(e.code).toBe('limit');
      expect(e.message).toContain('limits.maxInputBytes');
    }
  });

  it('a pickle that ends before its stream returns at STOP (the rest is not waited for)', () => {
    const data = new Uint8Array(30 << 20);
    data.set([0x80, 0x04, 0x4b, 0x2a, 0x2e]); // PROTO 4, BININT1 42, STOP
    writeFileSync(join(dir, 'early.gz'), zlibGzip(data));
    expect(decode(join(dir, 'early.gz'), 'gzip')).toBe(42);
  });
});

function zlibGzip(data: Uint8Array): Uint8Array {
  // (node:zlib here is the test's tool for making streams, not the code under test)
  return new Uint8Array(gzipSync(data, { level: 1 }));
}
