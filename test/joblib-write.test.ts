// Writing joblib files: dumpJoblib/dumpsJoblib with every compressor and protocols 2-5, read back by
// picklejar and by the installed joblib (live, through /usr/bin/python3), plus the option rules.
import { describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loads, load, PicklingError } from '../src/index.js';
import { DType, NDArray, ndarrayFromBuffer } from '../src/numpy/index.js';
import { dumpsJoblib, joblibStream, resolveCompression } from '../src/joblib/write.js';
import { dumpJoblib } from '../src/joblib/write-file.js';
import { JOBLIB_COMPRESSORS, detectJoblibCompression } from '../src/joblib/compress.js';
import { describeWithPython, runPython } from './helpers/python.js';

function arr(
  typestr: string,
  shape: number[],
  bytes: number[] | Uint8Array,
  order: 'C' | 'F' = 'C',
  subclass?: string,
): NDArray {
  return ndarrayFromBuffer(DType.parse(typestr), shape, order, new Uint8Array(bytes), subclass);
}
const f8 = (xs: number[]): Uint8Array => new Uint8Array(new Float64Array(xs).buffer);

function sampleValue(): Map<string, unknown> {
  const shared = arr('<i4', [3], new Uint8Array(new Int32Array([7, 8, 9]).buffer));
  return new Map<string, unknown>([
    ['f8', arr('<f8', [2, 3], f8([0, 0.5, 1, 1.5, 2, 2.5]))],
    ['fortran', arr('<i2', [2, 3], new Uint8Array(new Int16Array([0, 3, 1, 4, 2, 5]).buffer), 'F')],
    ['big', arr('>i8', [2], [0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])],
    ['bool', arr('|b1', [3], [1, 0, 1])],
    ['u', arr('<U2', [2], [0x61, 0, 0, 0, 0x62, 0, 0, 0, 0x63, 0, 0, 0, 0, 0, 0, 0])],
    ['zero_d', arr('<f8', [], f8([3.25]))],
    ['empty', arr('<f4', [0, 2], [])],
    ['matrix', arr('<f8', [1, 2], f8([1, 2]), 'C', 'numpy.matrix')],
    ['dt', arr('<M8[D]', [1], [0x56, 0x47, 0, 0, 0, 0, 0, 0])],
    [
      'struct',
      ndarrayFromBuffer(
        DType.fromDescr([
          ['x', '<i4'],
          ['y', '>f8'],
        ]),
        [1],
        'C',
        new Uint8Array(12),
      ),
    ],
    ['list', [shared, shared, 'text', 1n, 2.5, null]],
    ['big_payload', arr('<f8', [10000], f8(Array.from({ length: 10000 }, (_, i) => i / 4)))],
  ]);
}

describe('option rules', () => {
  test('compress argument as joblib.dump reads it', () => {
    expect(resolveCompression(undefined)).toBeUndefined();
    expect(resolveCompression(0)).toBeUndefined();
    expect(resolveCompression(false)).toBeUndefined();
    expect(resolveCompression(true)).toEqual(['zlib', 3]);
    expect(resolveCompression(5)).toEqual(['zlib', 5]);
    expect(resolveCompression('gzip')).toEqual(['gzip', 3]);
    expect(resolveCompression(['lzma', 2])).toEqual(['lzma', 2]);
    expect(resolveCompression(undefined, 'm.pkl.bz2')).toEqual(['bz2', 9]);
    expect(resolveCompression(4, 'm.xz')).toEqual(['xz', 4]);
    expect(resolveCompression(['zlib', 1], 'm.gz')).toEqual(['zlib', 1]);
    expect(() => resolveCompression(12)).toThrow(PicklingError);
    expect(() => resolveCompression(['zip' as never, 1])).toThrow(/unknown compression method/);
  });

  test('protocols below 2 are refused', () => {
    expect(() => dumpsJoblib(sampleValue(), { protocol: 1 })).toThrow(PicklingError);
  });
});

describe('stream layout', () => {
  test('every payload starts on a 16-byte boundary and the wrapper state says 16', () => {
    for (const protocol of [2, 3, 4, 5]) {
      const s = joblibStream(sampleValue(), { protocol, lossless: true });
      const v = loads(s, { lossless: true }) as Map<string, NDArray>;
      for (const k of ['f8', 'big_payload', 'bool']) {
        const a = v.get(k) as NDArray;
        expect(a.raw.buffer).toBe(s.buffer);
        expect((a.raw.byteOffset - s.byteOffset) % 16).toBe(0);
      }
    }
  });

  test('aligned: false writes no padding (joblib to a stream without tell())', () => {
    const s = joblibStream(sampleValue(), { protocol: 4, lossless: true, aligned: false });
    const v = loads(s, { lossless: true }) as Map<string, NDArray>;
    expect(Array.from((v.get('f8') as NDArray).data as Float64Array)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });

  for (const method of JOBLIB_COMPRESSORS) {
    test(`${method}: dumpsJoblib → loads round trip`, () => {
      const b = dumpsJoblib(sampleValue(), { compress: [method, 3], lossless: true });
      expect(detectJoblibCompression(b)).toBe(method);
      const v = loads(b, { lossless: true }) as Map<string, NDArray>;
      expect(Array.from((v.get('big_payload') as NDArray).data as Float64Array).slice(0, 3)).toEqual([
        0, 0.25, 0.5,
      ]);
      expect((v.get('matrix') as NDArray).subclass).toBe('numpy.matrix');
    });
  }

  test('dumpJoblib leaves no temporary file and picks the method from the extension', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pj-jw-'));
    try {
      const path = join(dir, 'm.joblib.gz');
      await dumpJoblib(path, sampleValue(), { lossless: true });
      expect(readdirSync(dir)).toEqual(['m.joblib.gz']);
      expect(detectJoblibCompression(readFileSync(path))).toBe('gzip');
      const v = (await load(path, { lossless: true })) as Map<string, NDArray>;
      expect((v.get('fortran') as NDArray).order).toBe('F');
      await expect(dumpJoblib(join(dir, 'x.joblib'), { bad: Symbol('s') })).rejects.toThrow(PicklingError);
      expect(readdirSync(dir)).toEqual(['m.joblib.gz']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const PY_READ = `
import sys, json, joblib, numpy as np
out = {}
for path in sys.argv[1:]:
    v = joblib.load(path)
    def d(a):
        if isinstance(a, np.ndarray):
            b = np.ascontiguousarray(a)
            return {'cls': type(a).__name__, 'dtype': a.dtype.newbyteorder('=').str if a.dtype.names is None else str(a.dtype.descr),
                    'shape': list(a.shape), 'data': b.astype(b.dtype.newbyteorder('<')).tobytes().hex(), 'F': bool(a.flags.f_contiguous and not a.flags.c_contiguous)}
        if isinstance(a, list):
            return [d(x) for x in a]
        return repr(a)
    out[path] = {k: d(x) for k, x in v.items()} | {'same': v['list'][0] is v['list'][1]}
print(json.dumps(out))
`;

describeWithPython('live: files written here load in joblib', () => {
  test('every compressor x protocols 2-5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pj-jw-'));
    try {
      const paths: string[] = [];
      for (const protocol of [2, 3, 4, 5]) {
        for (const c of [undefined, ...JOBLIB_COMPRESSORS]) {
          const path = join(dir, `v.p${protocol}.${c ?? 'raw'}.joblib`);
          await dumpJoblib(path, sampleValue(), {
            protocol,
            compress: c === undefined ? 0 : [c, 3],
            lossless: true,
          });
          paths.push(path);
        }
      }
      const { stdout } = await runPython(PY_READ, paths);
      const got = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
      expect(Object.keys(got)).toHaveLength(paths.length);
      for (const p of paths) {
        const r = got[p] as Record<string, unknown>;
        expect(r['f8']).toEqual({
          cls: 'ndarray',
          dtype: '<f8',
          shape: [2, 3],
          data: Buffer.from(f8([0, 0.5, 1, 1.5, 2, 2.5])).toString('hex'),
          F: false,
        });
        expect(r['fortran']).toMatchObject({ shape: [2, 3], F: true, data: '000001000200030004000500' });
        expect(r['big']).toMatchObject({ dtype: '<i8', data: '0100000000000000feffffffffffffff' });
        expect(r['bool']).toMatchObject({ dtype: '|b1', data: '010001' });
        expect(r['u']).toMatchObject({ dtype: '<U2', shape: [2] });
        expect(r['zero_d']).toMatchObject({ shape: [], data: Buffer.from(f8([3.25])).toString('hex') });
        expect(r['empty']).toMatchObject({ shape: [0, 2], data: '' });
        expect(r['matrix']).toMatchObject({ cls: 'matrix', shape: [1, 2] });
        expect(r['dt']).toMatchObject({ dtype: '<M8[D]', data: '5647000000000000' });
        expect(r['struct']).toMatchObject({ dtype: "[('x', '<i4'), ('y', '>f8')]" });
        expect((r['list'] as unknown[]).slice(2)).toEqual(["'text'", '1', '2.5', 'None']);
        expect(r['big_payload']).toMatchObject({ shape: [10000] });
        expect(r['same']).toBe(false); // joblib writes a shared array twice, as joblib itself does
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
