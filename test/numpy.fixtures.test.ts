/**
 * Every numpy fixture (scripts/fixtures_numpy.py: CPython + numpy pickles at protocols 0-5, hand-made
 * streams loaded by CPython, .npy files) decodes to the value Python described.
 */
import { describe, expect, it } from 'vitest';
import { loads, loadsAll, UnpicklingError } from '../src/index.js';
import { DType, NDArray, NumpyScalar } from '../src/numpy/index.js';
import { describe as describeValue } from './helpers/describe.js';
import {
  expectedDesc,
  fixturesOf,
  loadOptionsFor,
  pickleFiles,
  readFixtureBytes,
  readMeta,
  type Encoding,
  type FixtureMeta,
} from './helpers/fixtures.js';

const entries = fixturesOf('numpy');

function decodeDesc(
  meta: FixtureMeta,
  data: Uint8Array,
  extra: { encoding?: Encoding; lossless?: boolean } = {},
) {
  const { options } = loadOptionsFor(meta, extra);
  return meta.multi
    ? loadsAll(data, options).map((v) => describeValue(v))
    : describeValue(loads(data, options));
}

/** Descriptions that do not depend on the decoding mode (no Python ints/dicts inside). */
function modeIndependent(desc: unknown): boolean {
  const text = JSON.stringify(desc);
  return (
    !/"(v|metadata|fill_value)":/.test(text.replace(/"t":"dtype","v":/g, '')) &&
    /"t":"(ndarray|npscalar|dtype)"/.test(text)
  );
}

describe('numpy fixtures', () => {
  it('exist', () => {
    expect(entries.length).toBeGreaterThan(200);
  });

  for (const entry of entries) {
    const meta = readMeta(entry);
    describe(entry.name, () => {
      for (const file of pickleFiles(entry)) {
        it(`protocol ${file.protocol}`, () => {
          const data = readFixtureBytes(file.path);
          const want = expectedDesc(meta, file.protocol);
          if (want === null) {
            expect(() => decodeDesc(meta, data)).toThrow(UnpicklingError);
            return;
          }
          expect(decodeDesc(meta, data)).toEqual(want);
          const top = (want as { t: string }).t;
          if (modeIndependent(want) && (top === 'ndarray' || top === 'npscalar' || top === 'dtype')) {
            expect(decodeDesc(meta, data, { lossless: false }), 'default mode').toEqual(want);
          } else {
            expect(() => loads(data, loadOptionsFor(meta, { lossless: false }).options)).not.toThrow();
          }
        });
      }
      for (const [encoding, result] of Object.entries(meta.encodings ?? {})) {
        it(`encoding ${encoding}`, () => {
          const data = readFixtureBytes(pickleFiles(entry)[0]!.path);
          if (result.error !== undefined) {
            expect(() => decodeDesc(meta, data, { encoding: encoding as Encoding })).toThrow(UnpicklingError);
          } else {
            expect(decodeDesc(meta, data, { encoding: encoding as Encoding })).toEqual(result.desc);
          }
        });
      }
      for (const file of entry.files.filter((f) => f.kind === 'npy')) {
        it('.npy file', () => {
          const data = readFixtureBytes(file.path);
          expect(describeValue(loads(data, { lossless: true }))).toEqual(meta.desc);
          if (modeIndependent(meta.desc)) expect(describeValue(loads(data))).toEqual(meta.desc);
        });
      }
    });
  }
});

function fixture(name: string, protocol?: number): Uint8Array {
  const entry = entries.find((e) => e.name === name);
  if (!entry) throw new Error(`no fixture ${name}`);
  const files = entry.files.filter((f) => f.kind === 'pickle' || f.kind === 'npy');
  const f = protocol === undefined ? files[0] : files.find((x) => x.protocol === protocol);
  if (!f) throw new Error(`no file for ${name} p${protocol}`);
  return readFixtureBytes(f.path);
}

describe('values decoded from fixtures', () => {
  it('arrays of every numeric kind give the fitting TypedArray', () => {
    const kinds: [string, unknown][] = [
      ['arr_b1', Uint8Array],
      ['arr_i1', Int8Array],
      ['arr_i2', Int16Array],
      ['arr_i4', Int32Array],
      ['arr_i8', BigInt64Array],
      ['arr_u1', Uint8Array],
      ['arr_u2', Uint16Array],
      ['arr_u4', Uint32Array],
      ['arr_u8', BigUint64Array],
      ['arr_f2', Float32Array],
      ['arr_f4', Float32Array],
      ['arr_f8', Float64Array],
      ['arr_f16', Float64Array],
      ['arr_c8', Float32Array],
      ['arr_c16', Float64Array],
      ['arr_M8_ns', BigInt64Array],
      ['arr_m8_5ms', BigInt64Array],
    ];
    for (const [name, ctor] of kinds) {
      const a = loads(fixture(name, 4)) as NDArray;
      expect(a, name).toBeInstanceOf(NDArray);
      expect(a.data, name).toBeInstanceOf(ctor as new () => unknown);
    }
  });

  it('element values', () => {
    expect((loads(fixture('arr_b1', 2)) as NDArray).toNested()).toEqual([true, false, true]);
    expect((loads(fixture('arr_i8', 2)) as NDArray).toArray()).toEqual([
      -(2n ** 63n),
      2n ** 53n + 1n,
      2n ** 63n - 1n,
    ]);
    expect((loads(fixture('arr_u8', 5)) as NDArray).toArray()).toEqual([0n, 2n ** 64n - 1n, 2n ** 53n + 1n]);
    const f2 = (loads(fixture('arr_f2', 3)) as NDArray).toArray() as number[];
    expect(f2.slice(0, 4)).toEqual([0.5, -2, 65504, Infinity]);
    expect(f2[4]).toBeNaN();
    expect(f2[5]).toBe(5.960464477539063e-8); // the float16 nearest 6e-8 (subnormal)
    expect(Object.is(f2[6], -0)).toBe(true);
    expect((loads(fixture('arr_f16', 4)) as NDArray).toArray()).toEqual([1.5, -2.25, 1e300]);
    const c = (loads(fixture('arr_c16', 4)) as NDArray).get(0) as { re: number; im: number };
    expect([c.re, c.im]).toEqual([1, 2]);
    expect((loads(fixture('arr_U', 4)) as NDArray).toArray()).toEqual([
      'ab',
      '',
      'h\u00e9llo',
      '\u{1f600}x',
      'a\u0000b',
    ]);
    const s = (loads(fixture('arr_S', 4)) as NDArray).toArray() as Uint8Array[];
    expect(s.map((b) => [...b])).toEqual([[0x61, 0x62], [], [0x00, 0xff], [0x61]]);
    const dt = loads(fixture('arr_M8_D', 4)) as NDArray;
    expect(dt.dtype.unit).toBe('D');
    expect(dt.toArray()).toEqual([18262n, -1n, -(2n ** 63n)]);
    const td = loads(fixture('arr_m8_5ms', 1)) as NDArray;
    expect([td.dtype.unit, td.dtype.count, td.dtype.str]).toEqual(['ms', 5, '<m8[5ms]']);
  });

  it('zero-copy: an aligned little-endian float64 payload is viewed, not copied', () => {
    for (const p of [3, 4, 5]) {
      const bytes = fixture('arr_f8', p);
      const probe = loads(bytes) as NDArray;
      const at = probe.raw.byteOffset - bytes.byteOffset; // payload offset inside the pickle
      // Place the pickle so that the payload lands on an 8-byte boundary.
      const pad = (8 - (at % 8)) % 8;
      const buf = new ArrayBuffer(bytes.length + pad);
      const input = new Uint8Array(buf, pad, bytes.length);
      input.set(bytes);
      const a = loads(input) as NDArray;
      const data = a.data as Float64Array;
      expect(data.buffer, `protocol ${p}`).toBe(buf);
      expect(data.byteOffset).toBe(pad + at);
      expect(data[0]).toBe(1.5);
      // Misaligned: the same payload one byte off is copied.
      const buf2 = new ArrayBuffer(bytes.length + pad + 1);
      const input2 = new Uint8Array(buf2, pad + 1, bytes.length);
      input2.set(bytes);
      const b = loads(input2) as NDArray;
      expect((b.data as Float64Array).buffer).not.toBe(buf2);
      expect([...(b.data as Float64Array)].slice(0, 2)).toEqual([1.5, -0]);
      expect(b.raw.buffer).toBe(buf2); // raw stays a view
    }
  });

  it('big-endian data reads correctly; protocols 0-4 become native as numpy does, 5 keeps the order', () => {
    for (const p of [0, 2, 4]) {
      const a = loads(fixture(`arr_be_f8_p${p}`)) as NDArray;
      expect(a.dtype.str).toBe('<f8');
      expect(a.toArray()).toEqual([1.5, -0, 1e-310]);
    }
    const b = loads(fixture('arr_be_f8_p5')) as NDArray;
    expect(b.dtype.str).toBe('>f8');
    expect([...(b.data as Float64Array)]).toEqual([1.5, -0, 1e-310]);
    expect(b.toNative().dtype.str).toBe('<f8');
    expect(b.toNative().toArray()).toEqual([1.5, -0, 1e-310]);
    const i8 = loads(fixture('arr_be_i8_p5')) as NDArray;
    expect(i8.toArray()).toEqual([0n, 1n, -(2n ** 63n)]);
    const u = loads(fixture('arr_be_U3_p5')) as NDArray;
    expect(u.toArray()).toEqual(['abc', '\u00e9']);
    const m = loads(fixture('arr_be_M8_s_p5')) as NDArray;
    expect(m.toArray()).toEqual([1577836801n, -(2n ** 63n)]);
    const c = loads(fixture('arr_be_c16_p5')) as NDArray;
    expect(c.toArray().map((z) => [(z as { re: number }).re, (z as { im: number }).im])).toEqual([
      [1, -2],
      [0, 3.5],
    ]);
  });

  it('Fortran-ordered arrays index logically', () => {
    for (const p of [0, 2, 4, 5]) {
      const a = loads(fixture('arr_f8_fortran_2d', p)) as NDArray;
      expect(a.order).toBe('F');
      expect(a.shape).toEqual([3, 4]);
      expect(a.strides).toEqual([1, 3]);
      expect(a.get(1, 2)).toBe(6);
      expect(a.get(-1, -1)).toBe(11);
      expect(a.toNested()).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
      ]);
      expect(a.toArray()).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect([...(a.toTypedArray() as Float64Array)]).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect([...(a.data as Float64Array)]).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      expect(() => a.get(3, 0)).toThrow(RangeError);
    }
    const t = loads(fixture('arr_i2_fortran_3d', 3)) as NDArray;
    expect(t.get(1, 2, 3)).toBe(23);
    expect(t.get(0, 1, 2)).toBe(6);
    const o = loads(fixture('arr_O_fortran', 2)) as NDArray;
    expect(o.order).toBe('F');
    expect(o.toNested()).toEqual([
      [1, 'b'],
      [3, 'd'],
    ]);
  });

  it('structured arrays: field() and record()', () => {
    const a = loads(fixture('arr_struct_packed', 4)) as NDArray;
    expect(a.dtype.names).toEqual(['x', 'y', 's']);
    expect(a.dtype.descr).toEqual([
      ['x', '<i4'],
      ['y', '>f8'],
      ['s', '|S3'],
    ]);
    const x = a.field('x');
    expect(x.dtype.str).toBe('<i4');
    expect([...(x.data as Int32Array)]).toEqual([1, -1]);
    const y = a.field('y').toArray() as number[];
    expect(y[0]).toBe(2.5);
    expect(y[1]).toBeNaN();
    const r = a.record(0);
    expect(r['x']).toBe(1);
    expect(r['y']).toBe(2.5);
    expect([...(r['s'] as Uint8Array)]).toEqual([0x61, 0x62]);
    const sub = loads(fixture('arr_struct_subarray', 2)) as NDArray;
    const m = sub.field('m');
    expect(m.shape).toEqual([1, 2, 2]);
    expect(m.toNested()).toEqual([
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    expect(sub.record(0)).toEqual({
      m: [
        [1, 2],
        [3, 4],
      ],
      k: -1,
    });
    const nested = loads(fixture('arr_struct_nested', 5)) as NDArray;
    expect(nested.field('pos').field('y').toArray()).toEqual([2, 4]);
    expect(nested.get(1)).toEqual({ pos: { x: 3, y: 4 }, id: 8 });
    const aligned = loads(fixture('arr_struct_aligned', 4)) as NDArray;
    expect(aligned.dtype.isAlignedStruct).toBe(true);
    expect(aligned.dtype.alignment).toBe(8);
    expect(aligned.dtype.fields!.get('c')!.offset).toBe(16);
    expect(aligned.record(0)).toEqual({ a: [1, 2], b: 3, c: -4n });
    const titled = loads(fixture('arr_struct_titles', 4)) as NDArray;
    expect(titled.dtype.fields!.get('b')!.title).toBe('Beta');
    expect(titled.dtype.descr).toEqual([
      [['Alpha', 'a'], '<i4'],
      [['Beta', 'b'], '<f8'],
    ]);
    const withObj = loads(fixture('arr_struct_with_object', 2)) as NDArray;
    expect(withObj.record(1)).toEqual({ a: 2, b: null });
    expect(withObj.field('b').toArray()).toEqual(['x', null]);
    const fs = loads(fixture('arr_struct_fortran', 4)) as NDArray;
    expect(fs.field('a').toNested()).toEqual([
      [1, 3],
      [5, 7],
    ]);
    expect(fs.record(1)).toEqual({ a: 3, b: 4 });
  });

  it('one dtype object shared by several arrays is built once and reused (memo before BUILD)', () => {
    for (const p of [1, 2, 4, 5]) {
      const d = loads(fixture('shared_dtype', p), { lossless: true }) as Map<string, NDArray>;
      const a = d.get('a')!;
      const b = d.get('b')!;
      expect(a.dtype.str).toBe('<f8');
      expect(b.dtype).toBe(a.dtype);
      expect(d.get('d')!.dtype).toBe(a.dtype);
      expect(b.toArray()).toEqual([1, 1, 1]);
    }
  });

  it('subclasses keep their class name', () => {
    const m = loads(fixture('sub_matrix', 2)) as NDArray;
    expect(m.subclass).toBe('numpy.matrix');
    expect(m.toNested()).toEqual([
      [1n, 2n],
      [3n, 4n],
    ]);
    const r = loads(fixture('sub_recarray', 4)) as NDArray;
    expect(r.subclass).toBe('numpy.recarray');
    expect(r.dtype.scalarType).toBe('numpy.record');
    const ma = loads(fixture('sub_masked_int', 4)) as NDArray & { mask: NDArray; fillValue: NDArray };
    expect(ma.subclass).toBe('numpy.ma.core.MaskedArray');
    expect(ma.mask.toArray()).toEqual([false, true, false]);
    expect(ma.fillValue.get()).toBe(99n);
  });

  it('numpy scalars: value, valueOf, modes', () => {
    const f = loads(fixture('scalar_float64', 4)) as NumpyScalar;
    expect(f).toBeInstanceOf(NumpyScalar);
    expect(f.value).toBe(1.5);
    expect(Number(f) * 2).toBe(3);
    expect((loads(fixture('scalar_int64_small', 2)) as NumpyScalar).value).toBe(42);
    expect((loads(fixture('scalar_int64_small', 2), { lossless: true }) as NumpyScalar).value).toBe(42n);
    expect((loads(fixture('scalar_int64_min', 2)) as NumpyScalar).value).toBe(-(2n ** 63n));
    expect((loads(fixture('scalar_uint64_max', 0)) as NumpyScalar).value).toBe(2n ** 64n - 1n);
    expect((loads(fixture('scalar_bool', 4)) as NumpyScalar).value).toBe(true);
    expect((loads(fixture('scalar_str', 4)) as NumpyScalar).value).toBe('hi\u00e9');
    expect((loads(fixture('scalar_float16', 1)) as NumpyScalar).value).toBe(1.5);
    expect((loads(fixture('scalar_record', 4)) as NumpyScalar).value).toEqual({ a: 1, b: 2.5 });
    const dt = loads(fixture('scalar_datetime_D', 4)) as NumpyScalar;
    expect([dt.value, dt.dtype.str]).toEqual([18262n, '<M8[D]']);
  });

  it('dtype objects', () => {
    const d = loads(fixture('dtype_struct_aligned', 4)) as DType;
    expect(d).toBeInstanceOf(DType);
    expect([d.str, d.itemsize, d.alignment, d.isAlignedStruct, d.hasObject]).toEqual([
      '|V24',
      24,
      8,
      true,
      false,
    ]);
    expect(d.descr).toEqual([
      ['a', '<f4', [2]],
      ['b', '|u1'],
      ['', '|V7'],
      ['c', '<i8'],
    ]);
    expect((loads(fixture('dtype_struct_object', 4)) as DType).hasObject).toBe(true);
    const sub = loads(fixture('dtype_subarray', 2)) as DType;
    expect(sub.subarray!.shape).toEqual([2, 3]);
    expect(sub.subarray!.base.str).toBe('<f4');
    const md = loads(fixture('dtype_datetime_metadata', 4), { lossless: true }) as DType;
    expect([md.str, md.unit]).toEqual(['<M8[s]', 's']);
    expect(md.metadata).toEqual(new Map([['tz', 'UTC']]));
    expect(d.equals(loads(fixture('dtype_struct_aligned', 0)) as DType)).toBe(true);
    expect(d.equals(loads(fixture('dtype_struct_packed', 0)) as DType)).toBe(false);
    expect(DType.parse('<f8').equals(loads(fixture('dtype_f8', 3)) as DType)).toBe(true);
  });

  it('numpy 2 names, K order and out-of-band buffers', () => {
    const entry = entries.find((e) => e.name === 'oob_f8_2d')!;
    const meta = readMeta(entry);
    const { options } = loadOptionsFor(meta);
    const a = loads(readFixtureBytes(pickleFiles(entry)[0]!.path), options) as NDArray;
    expect(a.toNested()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    const k = loads(fixture('frombuffer_K_102')) as NDArray;
    expect(k.shape).toEqual([3, 2, 4]);
    expect(k.get(2, 1, 3)).toBe(1 * 12 + 2 * 4 + 3);
    const k2 = loads(fixture('frombuffer_K_210')) as NDArray;
    expect(k2.order).toBe('F');
    expect(k2.get(3, 2, 1)).toBe(1 * 12 + 2 * 4 + 3);
  });
});
