/**
 * Writing numpy values: arrays, dtypes and scalars built in JS are pickled at protocols 0-5 (and
 * protocol 5 with out-of-band buffers) and loaded by CPython + numpy, which compares them with the
 * values it builds itself (dtype, shape, class, Fortran flag, element bytes) and with its own
 * `pickle.dumps` output. Every numpy fixture is also decoded losslessly, re-encoded, and loaded by
 * numpy, which must describe the same value; at protocols 3-5 the bytes must equal numpy's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loads } from '../src/index.js';
import { dumps } from '../src/pickle/index.js';
import { DType, MaskedArray, NDArray, NumpyScalar, typedArrayReducer } from '../src/numpy/index.js';
import { Complex, PickleBuffer } from '../src/python/values.js';
import { describeWithPython, runPython } from './helpers/python.js';
import { fixturesOf, loadOptionsFor, pickleFiles, readFixtureBytes, readMeta } from './helpers/fixtures.js';

const f8 = DType.builtin('<f8');

/** [name, JS value factory, Python expression of the expected value]. */
const CASES: [string, () => unknown, string][] = [
  [
    'f8',
    () => NDArray.fromTypedArray(new Float64Array([1.5, -0, NaN, Infinity])),
    'np.array([1.5, -0.0, np.nan, np.inf])',
  ],
  ['typed_i4', () => new Int32Array([1, -2, 2 ** 31 - 1]), "np.array([1, -2, 2**31 - 1], '<i4')"],
  ['typed_f4', () => new Float32Array([0.5, -3]), "np.array([0.5, -3], '<f4')"],
  ['typed_u8', () => new BigUint64Array([0n, 2n ** 64n - 1n]), "np.array([0, 2**64 - 1], '<u8')"],
  ['typed_i8', () => new BigInt64Array([-(2n ** 63n), 7n]), "np.array([-2**63, 7], '<i8')"],
  ['b1', () => NDArray.fromValues('|b1', [true, false, true]), 'np.array([True, False, True])'],
  ['i1', () => NDArray.fromValues('|i1', [-128, 0, 127]), "np.array([-128, 0, 127], 'i1')"],
  ['u1', () => NDArray.fromValues('|u1', [0, 255]), "np.array([0, 255], 'u1')"],
  ['i2', () => new Int16Array([-32768, 32767]), "np.array([-32768, 32767], '<i2')"],
  ['u2', () => new Uint16Array([65535]), "np.array([65535], '<u2')"],
  ['u4', () => new Uint32Array([2 ** 32 - 1]), "np.array([2**32 - 1], '<u4')"],
  [
    'f2',
    () => NDArray.fromValues('<f2', [0.5, -2, 65504, Infinity, 6e-8]),
    "np.array([0.5, -2, 65504, np.inf, 6e-8], '<f2')",
  ],
  [
    'f16',
    () => NDArray.fromValues('<f16', [1.5, -2.25, 1e300]),
    'np.array([1.5, -2.25, 1e300], np.longdouble)',
  ],
  ['c8', () => NDArray.fromValues('<c8', [new Complex(1, 2), [3, -4]]), "np.array([1+2j, 3-4j], '<c8')"],
  ['c16', () => NDArray.fromValues('<c16', [new Complex(-0.5, 1e-300)]), 'np.array([complex(-0.5, 1e-300)])'],
  [
    'U',
    () => NDArray.fromValues(DType.parse('<U5'), ['ab', 'h\u00e9llo', '\u{1f600}', '']),
    "np.array(['ab', 'h\\u00e9llo', '\\U0001f600', ''], '<U5')",
  ],
  [
    'S',
    () => NDArray.fromValues(DType.parse('|S3'), [new Uint8Array([97, 98]), 'xyz', '']),
    "np.array([b'ab', b'xyz', b''], 'S3')",
  ],
  [
    'V',
    () => NDArray.fromValues(DType.parse('|V4'), [Uint8Array.of(1, 2, 3, 4)]),
    "np.array([b'\\x01\\x02\\x03\\x04'], 'V4')",
  ],
  [
    'struct',
    () =>
      NDArray.fromValues(
        DType.struct([
          { name: 'x', dtype: DType.builtin('<i4') },
          { name: 'y', dtype: DType.parse('>f8') },
          { name: 's', dtype: DType.parse('|S2') },
        ]),
        [
          { x: 1, y: 2.5, s: 'ab' },
          { x: -1, y: -0.5, s: 'c' },
        ],
      ),
    "np.array([(1, 2.5, b'ab'), (-1, -0.5, b'c')], dtype=[('x', '<i4'), ('y', '>f8'), ('s', 'S2')])",
  ],
  [
    'struct_aligned',
    () =>
      NDArray.fromValues(
        DType.struct(
          [
            { name: 'small', dtype: DType.builtin('|u1') },
            { name: 'big', dtype: DType.builtin('<i8') },
          ],
          { align: true },
        ),
        [{ small: 1, big: -2n }],
      ),
    "_zeroed([(1, -2)], np.dtype([('small', 'u1'), ('big', '<i8')], align=True))",
  ],
  [
    'struct_subarray_title',
    () =>
      NDArray.fromValues(
        DType.struct([
          { name: 'm', dtype: DType.subarrayOf(f8, [2]), title: 'matrix' },
          { name: 'k', dtype: DType.builtin('|i1') },
        ]),
        [{ m: [1, 2], k: 3 }],
      ),
    "np.array([([1.0, 2.0], 3)], dtype={'names': ['m', 'k'], 'formats': [('<f8', (2,)), 'i1'], 'titles': ['matrix', None]})",
  ],
  [
    'O',
    () => NDArray.fromValues('|O', [1n, 'two', null, [3n], new Map([['k', 1.5]])]),
    "_obj([1, 'two', None, [3], {'k': 1.5}])",
  ],
  [
    'M8ns',
    () => NDArray.fromValues(DType.parse('<M8[ns]'), [0n, 1577836800000000000n, null]),
    "np.array([0, 1577836800000000000, 'NaT'], 'M8[ns]')",
  ],
  ['M8D', () => NDArray.fromValues(DType.parse('<M8[D]'), [18262]), "np.array(['2020-01-01'], 'M8[D]')"],
  ['m8', () => NDArray.fromValues(DType.parse('<m8[5ms]'), [1n, -3n]), "np.array([1, -3], 'm8[5ms]')"],
  [
    'fortran',
    () => NDArray.fromTypedArray(new Float64Array([0, 3, 1, 4, 2, 5]), [2, 3], 'F'),
    'np.asfortranarray(np.arange(6.).reshape(2, 3))',
  ],
  [
    'c_3d',
    () =>
      NDArray.fromTypedArray(
        new Int16Array(24).map((_, i) => i),
        [2, 3, 4],
      ),
    "np.arange(24, dtype='<i2').reshape(2, 3, 4)",
  ],
  ['zero_d', () => NDArray.fromValues(f8, [5], []), 'np.array(5.0)'],
  ['empty', () => NDArray.fromValues('<i4', [], [2, 0]), "np.zeros((2, 0), '<i4')"],
  [
    'nested',
    () =>
      NDArray.fromNested(
        [
          [1, 2],
          [3, 4],
        ],
        '<i8',
      ),
    "np.array([[1, 2], [3, 4]], '<i8')",
  ],
  [
    'matrix',
    () =>
      new NDArray({
        dtype: DType.builtin('<i8'),
        shape: [2, 2],
        raw: NDArray.fromValues('<i8', [1, 2, 3, 4]).raw,
        subclass: 'numpy.matrix',
      }),
    'np.matrix([[1, 2], [3, 4]])',
  ],
  [
    'masked',
    () => {
      const m = new MaskedArray({
        dtype: DType.builtin('<i8'),
        shape: [3],
        raw: NDArray.fromValues('<i8', [1, 2, 3]).raw,
      });
      m.mask = NDArray.fromValues('|b1', [false, true, false]);
      m.fillValue = NDArray.fromValues('<i8', [99], []);
      return m;
    },
    'np.ma.array([1, 2, 3], mask=[0, 1, 0], fill_value=99)',
  ],
  ['be_i4', () => NDArray.fromValues(DType.parse('>i4'), [1, -2]), "np.array([1, -2], '>i4')"],
  ['scalar_f8', () => NumpyScalar.of('<f8', 1.5), 'np.float64(1.5)'],
  ['scalar_i8', () => NumpyScalar.of('<i8', 7n), 'np.int64(7)'],
  ['scalar_b', () => NumpyScalar.of('|b1', true), 'np.bool_(True)'],
  ['scalar_U', () => NumpyScalar.of(DType.parse('<U2'), 'hi'), "np.str_('hi')"],
  ['scalar_M8', () => NumpyScalar.of(DType.parse('<M8[D]'), 18262n), "np.datetime64('2020-01-01')"],
  ['scalar_c16', () => NumpyScalar.of('<c16', new Complex(1, -1)), 'np.complex128(1-1j)'],
  ['dtype_f8', () => f8, "np.dtype('f8')"],
  ['dtype_U3', () => DType.parse('<U3'), "np.dtype('<U3')"],
  ['dtype_be', () => DType.parse('>i8'), "np.dtype('>i8')"],
  ['dtype_M8', () => DType.parse('<m8[5ms]'), "np.dtype('m8[5ms]')"],
  [
    'dtype_struct',
    () =>
      DType.struct(
        [
          { name: 'x', dtype: DType.builtin('<i4') },
          { name: 'y', dtype: DType.builtin('<f4') },
        ],
        { align: true },
      ),
    "np.dtype([('x', '<i4'), ('y', '<f4')], align=True)",
  ],
  [
    'shared',
    () => {
      const a = NDArray.fromTypedArray(new Float64Array([1, 2]));
      // (keys longer than one character: see the note on IDENTICAL)
      return { first: a, again: a, other: NDArray.fromTypedArray(new Float64Array([3])), dtype: f8 };
    },
    "(lambda a: {'first': a, 'again': a, 'other': np.array([3.0]), 'dtype': np.dtype('f8')})(np.array([1.0, 2.0]))",
  ],
];

/**
 * Cases whose bytes must equal numpy's own pickle.dumps at every protocol. (Names avoid one-character
 * strings: at protocols 0-2 CPython writes `b'b'` as `_codecs.encode('b', 'latin1')`, where 'b' is the
 * latin-1 singleton str, while an identifier 'b' (field name, dict key) is a different, interned
 * object; the shared writer memoizes one-character strings by value, so such streams differ in memo
 * references, not in value.)
 */
const IDENTICAL = new Set([
  'f8',
  'typed_i4',
  'typed_f4',
  'typed_u8',
  'typed_i8',
  'b1',
  'i1',
  'u1',
  'i2',
  'u2',
  'u4',
  'f2',
  'c8',
  'c16',
  'U',
  'S',
  'V',
  'struct',
  'struct_aligned',
  'M8ns',
  'M8D',
  'm8',
  'fortran',
  'c_3d',
  'zero_d',
  'empty',
  'nested',
  'matrix',
  'be_i4',
  'scalar_f8',
  'scalar_i8',
  'scalar_b',
  'scalar_U',
  'scalar_M8',
  'scalar_c16',
  'dtype_f8',
  'dtype_U3',
  'dtype_be',
  'dtype_M8',
  'dtype_struct',
  'shared',
  'f16',
  'O',
  'struct_subarray_title',
]);
/** Identical from protocol 3 (at 0-2 the masked array's 'b' argument meets the fill value's b'b'). */
const IDENTICAL_FROM_3 = new Set(['masked']);

const OOB = ['f8', 'fortran', 'struct', 'shared', 'c_3d'];

const CHECKER = String.raw`
import json, os, pickle, sys
import numpy as np

def _obj(items):
    a = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        a[i] = x
    return a

def _zeroed(values, dtype):
    a = np.zeros(len(values), dtype)  # padding bytes stay zero, as picklejar writes them
    for k, name in enumerate(dtype.names):
        a[name] = [v[k] for v in values]
    return a

EXPECTED = json.loads(sys.stdin.read())

def same(a, b, p):
    if type(a) is not type(b):
        return f'type {type(a).__name__} != {type(b).__name__}'
    if isinstance(a, dict):
        if list(a) != list(b):
            return 'keys differ'
        for k in a:
            r = same(a[k], b[k], p)
            if r != 'ok':
                return f'{k}: {r}'
        return 'ok'
    if isinstance(a, np.dtype):
        return 'ok' if (a == b and a.isalignedstruct == b.isalignedstruct and a.str == b.str) else f'dtype {a!r} != {b!r}'
    if isinstance(a, np.generic):
        return 'ok' if (a.dtype == b.dtype and a.tobytes() == b.tobytes()) else f'scalar {a!r} != {b!r}'
    if isinstance(a, np.ndarray):
        want_dtype = b.dtype
        if p < 5 and b.dtype.byteorder == '>':
            want_dtype = b.dtype.newbyteorder('<')  # numpy's __setstate__ loads non-native data as native
        if a.dtype != want_dtype or a.dtype.str != want_dtype.str:
            return f'dtype {a.dtype.str} != {want_dtype.str}'
        if a.shape != b.shape:
            return f'shape {a.shape} != {b.shape}'
        if a.flags.f_contiguous != b.flags.f_contiguous or a.flags.c_contiguous != b.flags.c_contiguous:
            return 'contiguity differs'
        if a.dtype.hasobject:
            if a.tolist() != b.tolist():
                return f'{a.tolist()} != {b.tolist()}'
        else:
            # astype copies field by field (padding is then arbitrary): only convert when needed
            want = b.tobytes() if want_dtype == b.dtype and want_dtype.str == b.dtype.str else b.astype(want_dtype).tobytes()
            if a.tobytes() != want:
                return f'data {a.tobytes().hex()} != {want.hex()}'
        if isinstance(a, np.ma.MaskedArray):
            if not (np.array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b)) and a.fill_value == b.fill_value):
                return 'mask or fill value differs'
        return 'ok'
    return 'ok' if a == b else f'{a!r} != {b!r}'

out = {}
d = sys.argv[1]
for fn in sorted(os.listdir(d)):
    if not fn.endswith('.pkl'):
        continue
    name, proto = fn[:-4].rsplit('.', 1)
    oob = proto.startswith('oob')
    p = 5 if oob else int(proto[1:])
    data = open(os.path.join(d, fn), 'rb').read()
    expected = eval(EXPECTED[name], {'np': np, '_obj': _obj, '_zeroed': _zeroed})
    res = {}
    try:
        bufs = []
        i = 0
        while os.path.exists(os.path.join(d, f'{name}.{proto}.buf{i}')):
            bufs.append(pickle.PickleBuffer(bytearray(open(os.path.join(d, f'{name}.{proto}.buf{i}'), 'rb').read())))
            i += 1
        loaded = pickle.loads(data, buffers=bufs) if oob else pickle.loads(data)
        res['ok'] = same(loaded, expected, p)
    except Exception as e:
        res['ok'] = f'{type(e).__name__}: {e}'
    if not oob:
        res['identical'] = pickle.dumps(expected, protocol=p) == data
    out[fn] = res
print(json.dumps(out))
`;

describeWithPython('numpy encoding, checked by numpy', () => {
  it('JS-built arrays, dtypes and scalars load as the values numpy builds (protocols 0-5, out-of-band)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-np-'));
    try {
      const expected: Record<string, string> = {};
      for (const [name, make, py] of CASES) {
        expected[name] = py;
        for (let p = 0; p <= 5; p++)
          writeFileSync(
            join(dir, `${name}.p${p}.pkl`),
            dumps(make(), { protocol: p, reducers: [typedArrayReducer] }),
          );
      }
      for (const name of OOB) {
        const make = CASES.find((c) => c[0] === name)![1];
        const bufs: PickleBuffer[] = [];
        const data = dumps(make(), { protocol: 5, bufferCallback: (b) => (bufs.push(b), false) });
        expect(bufs.length, name).toBeGreaterThan(0);
        writeFileSync(join(dir, `${name}.oob.pkl`), data);
        bufs.forEach((b, i) => writeFileSync(join(dir, `${name}.oob.buf${i}`), b.data));
      }
      const { stdout } = await runPython(CHECKER, [dir], JSON.stringify(expected));
      const results = JSON.parse(stdout) as Record<string, { ok: string; identical?: boolean }>;
      expect(Object.keys(results).length).toBe(CASES.length * 6 + OOB.length);
      const failures = Object.entries(results).filter(([, r]) => r.ok !== 'ok');
      expect(failures).toEqual([]);
      const notIdentical = Object.entries(results)
        .filter(([fn, r]) => {
          if (r.identical !== false) return false;
          const name = fn.slice(0, fn.lastIndexOf('.', fn.length - 5));
          const p = Number(fn.slice(fn.length - 5, fn.length - 4));
          return IDENTICAL.has(name) || (IDENTICAL_FROM_3.has(name) && p >= 3);
        })
        .map(([fn]) => fn);
      expect(notIdentical).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('every numpy fixture round-trips: loads(lossless) → dumps → numpy describes the same value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-np-rt-'));
    try {
      const expected: Record<string, unknown> = {};
      const bytesDiffer: string[] = [];
      let n = 0;
      for (const entry of fixturesOf('numpy')) {
        const meta = readMeta(entry);
        if (meta.encodings) continue; // Python 2 streams: covered by the decoding tests
        for (const file of pickleFiles(entry)) {
          const data = readFixtureBytes(file.path);
          const { options } = loadOptionsFor(meta);
          const value = loads(data, options);
          const out = dumps(value, { protocol: file.protocol, lossless: true });
          const key = `${entry.name}.p${file.protocol}`;
          writeFileSync(join(dir, `${key}.pkl`), out);
          expected[key] = meta.descs?.[String(file.protocol)] ?? meta.desc;
          n++;
          if (!meta.raw && file.protocol >= 3 && Buffer.compare(Buffer.from(out), Buffer.from(data)) !== 0) {
            bytesDiffer.push(key);
          }
        }
      }
      // numpy pickles non-contiguous arrays through _reconstruct even at protocol 5; once decoded they are
      // contiguous, and numpy itself would then write _frombuffer.
      expect(bytesDiffer.sort()).toEqual([
        'arr_slice_2d_cols.p5',
        'arr_slice_step.p5',
        'arr_transposed_3d.p5',
      ]);
      const code = String.raw`
import json, os, pickle, sys
import gen_fixtures, fixtures_numpy
gen_fixtures.register_describer(fixtures_numpy.describe_numpy)
want = json.loads(sys.stdin.read())
d = sys.argv[1]
bad = {}
for key, desc in want.items():
    p = int(key.rsplit('.p', 1)[1])
    try:
        got = gen_fixtures.describe(pickle.loads(open(os.path.join(d, key + '.pkl'), 'rb').read()), p)
    except Exception as e:
        bad[key] = f'{type(e).__name__}: {e}'
        continue
    if got != desc:
        bad[key] = json.dumps(got)[:300]
print(json.dumps({'checked': len(want), 'bad': bad}))
`;
      const { stdout } = await runPython(code, [dir], JSON.stringify(expected));
      const r = JSON.parse(stdout) as { checked: number; bad: Record<string, string> };
      expect(r.checked).toBe(n);
      expect(n).toBeGreaterThan(700);
      expect(r.bad).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
