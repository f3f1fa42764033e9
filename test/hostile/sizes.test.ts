// Category 7 — huge sizes. Every length-prefixed opcode with a length far beyond the input is
// refused without allocating it (arrayBuffers / rss do not jump); joblib NumpyArrayWrapper states and
// .npy headers that declare gigantic shapes are refused before any payload is read; compressed bombs
// (one per compressor, through `loads` with a small maxInputBytes) stop at the cap — also through
// loadsAll, load(path), the scanner's decompress hook, back-to-back zlib streams and gzip members, and
// the pre-0.10 joblib side files (z-files and .npy) that load(path) reads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { load, loads, loadsAll, UnpicklingError } from '../../src/index.js';
import { compressJoblib, JOBLIB_COMPRESSORS } from '../../src/joblib/compress.js';
import { scan, type ScanReport } from '../../src/tools/scan/index.js';
import { decompressJoblib } from '../../src/joblib/compress.js';
import {
  CaseLog,
  bytes,
  i32,
  memoryDelta,
  refuses,
  show,
  survives,
  u32,
  u64,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';
import { readFixtureBytes } from '../helpers/fixtures.js';

const log = new CaseLog('sizes.test.ts');
afterAll(() => log.print());
watchPrototypes();

/** Refused as UnpicklingError, and neither arrayBuffers nor rss grew by more than the given MiB. */
function refusedCheaply(
  category: string,
  name: string,
  fn: () => unknown,
  message: RegExp,
  opcode?: string,
  maxMiB = 64,
): void {
  const m = memoryDelta(() =>
    refuses(log, category, name, fn, { message, ...(opcode !== undefined ? { opcode } : {}) }),
  );
  if (m.error !== undefined) throw m.error;
  expect(m.arrayBuffersMiB, `${name}: arrayBuffers grew by ${m.arrayBuffersMiB.toFixed(1)} MiB`).toBeLessThan(
    maxMiB,
  );
  expect(m.rssMiB, `${name}: rss grew by ${m.rssMiB.toFixed(1)} MiB`).toBeLessThan(maxMiB * 4);
}

const TOO_BIG = /truncated|exceeds limits\.maxObjectBytes|length prefix exceeds 2\*\*53|negative byte count/;

describe('7. huge length prefixes, gigantic shapes, compressed bombs', () => {
  it('every length-prefixed opcode with a length far beyond the input is refused without allocating', () => {
    const u4 = [0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const u8: (number | bigint)[] = [2 ** 32, 2 ** 40, 2 ** 53 - 1, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
    const cases: [string, Part[]][] = [];
    for (const n of u4) {
      cases.push(['BINUNICODE', ['X', u32(n), 'abc']]);
      cases.push(['BINBYTES', ['B', u32(n), 'abc']]);
      cases.push(['BINSTRING', ['T', u32(n), 'abc']]);
      cases.push(['LONG4', [0x8b, u32(n), 1, 2, 3]]);
    }
    for (const n of u8) {
      cases.push(['BINUNICODE8', [0x8d, u64(n), 'abc']]);
      cases.push(['BINBYTES8', [0x8e, u64(n), 'abc']]);
      cases.push(['BYTEARRAY8', [0x96, u64(n), 'abc']]);
      cases.push(['FRAME', [0x95, u64(n), 'N.']]);
    }
    cases.push(['SHORT_BINUNICODE', [0x8c, 255, 'abc']]);
    cases.push(['SHORT_BINBYTES', ['C', 255, 'abc']]);
    cases.push(['SHORT_BINSTRING', ['U', 255, 'abc']]);
    cases.push(['LONG1', [0x8a, 255, 1, 2, 3]]);
    for (const [opcode, parts] of cases) {
      for (const proto of [[], [0x80, 4], [0x80, 5, 0x95, u64(4), 'NNN0']] as Part[][]) {
        const data = bytes(...proto, ...parts);
        refusedCheaply(
          '7 huge length prefix',
          `${opcode} ${show(data, 24)}`,
          () => loads(data),
          TOO_BIG,
          opcode,
        );
      }
    }
  });

  it('with a small maxObjectBytes, real payloads over the limit are refused naming it', () => {
    const big = 'x'.repeat(2000);
    const options = { limits: { maxObjectBytes: 1000 } };
    const cases: [string, Part[]][] = [
      ['BINUNICODE', ['X', u32(2000), big, '.']],
      ['BINUNICODE8', [0x8d, u64(2000), big, '.']],
      ['BINBYTES', ['B', u32(2000), big, '.']],
      ['BINBYTES8', [0x8e, u64(2000), big, '.']],
      ['BYTEARRAY8', [0x96, u64(2000), big, '.']],
      ['BINSTRING', ['T', u32(2000), big, '.']],
      ['LONG4', [0x8b, u32(2000), big, '.']],
      ['FRAME', [0x95, u64(2002), 'X', u32(1996), big.slice(4), '.']],
      ['STRING', ["S'", big, "'\n."]],
      ['UNICODE', ['V', big, '\n.']],
    ];
    for (const [opcode, parts] of cases) {
      const data = bytes(...parts);
      refuses(log, '7 maxObjectBytes', `${opcode} of 2000 bytes, limit 1000`, () => loads(data, options), {
        opcode,
        offset: 0,
        message: /exceeds limits\.maxObjectBytes \(1000\); raise it to allow more/,
      });
    }
    // At the limit exactly it decodes.
    expect(loads(bytes('X', u32(1000), 'y'.repeat(1000), '.'), options)).toBe('y'.repeat(1000));
  });

  it('joblib NumpyArrayWrapper states declaring gigantic shapes are refused before reading a payload', () => {
    const shapes: [Part[], RegExp][] = [
      [['L1099511627776L\n', 0x85], /truncated \(raw payload\)/], // 2**40 float64: 8 TiB
      [['L4503599627370495L\n', 0x85], /truncated|too large/], // 2**52 - 1 elements
      [['L1073741824L\nL1073741824L\nL1073741824L\n', 0x87], /too large/], // 2**90 elements
      [['(', 'K\x02'.repeat(70), 't'], /dimensions/], // more dimensions than numpy allows
      [['J', i32(-1), 0x85], /non-negative integer/],
      [['Vx\n', 0x85], /non-negative integer/],
      [['N'], /shape must be a tuple/],
    ];
    for (const [shape, message] of shapes) {
      const data = wrapperPickle(shape);
      refusedCheaply(
        '7 gigantic joblib shape',
        show(data.subarray(96), 40),
        () => loads(data),
        message,
        'BUILD',
      );
    }
  });

  it('.npy headers declaring gigantic shapes (or lengths) are refused before reading data', () => {
    const cases: [Uint8Array, RegExp][] = [
      [
        npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"),
        /data has 16 bytes, shape needs 8796093022208/,
      ],
      [
        npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824, 1073741824, 1073741824), }"),
        /too large/,
      ],
      [
        npy("{'descr': '|V1099511627776', 'fortran_order': False, 'shape': (1099511627776,), }"),
        /too large|shape needs|descr/,
      ],
      [npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"), /non-negative/],
      [
        npy(`{'descr': '<f8', 'fortran_order': False, 'shape': (${'9'.repeat(40)},), }`),
        /integer too long|non-negative/,
      ],
      [
        npy(`{'descr': '<f8', 'fortran_order': False, 'shape': ${'('.repeat(100)}1${')'.repeat(100)}, }`),
        /nests too deeply/,
      ],
      [bytes('\x93NUMPY', 2, 0, u32(0xffffffff), "{'descr'"), /header of 4294967295 bytes but only/],
      [bytes('\x93NUMPY', 1, 0, 0xff, 0xff, "{'descr'"), /header of 65535 bytes but only/],
    ];
    for (const [data, message] of cases) {
      refusedCheaply('7 gigantic npy shape', show(data, 60), () => loads(data), message);
    }
  });

  describe('compressed bombs (64 MiB of zeros) through loads with a 1 MiB maxInputBytes', () => {
    const cap = 1 << 20;
    const LIMIT = /exceeds limits\.maxInputBytes/;
    for (const method of JOBLIB_COMPRESSORS) {
      it(`${method}: refused at the cap, memory stays near the cap (loads, loadsAll, scan hook)`, () => {
        const bomb = readFixtureBytes(`joblib/bomb64m.${method}`);
        refusedCheaply(
          '7 compressed bomb',
          `${method} loads`,
          () => loads(bomb, { limits: { maxInputBytes: cap } }),
          LIMIT,
          undefined,
          16,
        );
        refusedCheaply(
          '7 compressed bomb',
          `${method} loadsAll`,
          () => loadsAll(bomb, { limits: { maxInputBytes: cap } }),
          LIMIT,
          undefined,
          16,
        );
        // The scanner never inflates past its hook's cap: it reports the refusal (or throws it) and
        // marks the report incomplete.
        const m = memoryDelta(() =>
          survives(log, '7 compressed bomb', `${method} scan`, () =>
            scan(bomb, { decompress: (d) => decompressJoblib(d, cap) }),
          ),
        );
        expect(m.arrayBuffersMiB).toBeLessThan(16);
        const out = m.result as { value?: ScanReport; error?: Error };
        if (out.error) expect(out.error.message).toMatch(LIMIT);
        else {
          expect(out.value?.complete).toBe(false);
          expect(out.value?.errors.join('\n')).toMatch(LIMIT);
        }
      });
    }

    it('load(path) of each bomb is refused the same way', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pj-hostile-'));
      try {
        for (const method of JOBLIB_COMPRESSORS) {
          const file = join(dir, `bomb.${method}`);
          writeFileSync(file, readFixtureBytes(`joblib/bomb64m.${method}`));
          const t0 = performance.now();
          await expect(load(file, { limits: { maxInputBytes: cap } })).rejects.toThrow(LIMIT);
          log.record('7 compressed bomb', `${method} load(path)`, performance.now() - t0);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('back-to-back zlib streams and gzip members each under the cap but together over it are refused', () => {
      const half = new Uint8Array(cap / 2 + 1);
      const z = zlib.deflateSync(half);
      const g = zlib.gzipSync(half);
      for (const [name, data] of [
        ['4 zlib streams', Buffer.concat([z, z, z, z])],
        ['4 gzip members', Buffer.concat([g, g, g, g])],
        ['2 lz4 frames', Buffer.concat([compressJoblib(half, 'lz4'), compressJoblib(half, 'lz4')])],
      ] as const) {
        const d = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        if (name === '2 lz4 frames') {
          // joblib reads one LZ4 frame; a second one is either ignored or refused, never inflated past the cap.
          const m = memoryDelta(() => {
            try {
              loads(d, { limits: { maxInputBytes: cap } });
            } catch (e) {
              if (!(e instanceof UnpicklingError)) throw e;
            }
          });
          expect(m.error).toBeUndefined();
          expect(m.arrayBuffersMiB).toBeLessThan(16);
          log.record('7 compressed bomb', name, 0);
          continue;
        }
        refusedCheaply(
          '7 compressed bomb',
          name,
          () => loads(d, { limits: { maxInputBytes: cap } }),
          LIMIT,
          undefined,
          16,
        );
      }
    });

    it('compressed input larger than maxInputBytes is refused before inflating', () => {
      const bomb = readFixtureBytes('joblib/bomb64m.gzip');
      refusedCheaply(
        '7 compressed bomb',
        'gzip input over the cap',
        () => loads(bomb, { limits: { maxInputBytes: 1000 } }),
        /input of \d+ bytes exceeds limits\.maxInputBytes \(1000\)/,
      );
    });
  });

  describe('pre-0.10 joblib side files read by load(path)', () => {
    it('a ZNDArrayWrapper declaring an array larger than maxInputBytes is refused before its z-file is inflated', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pj-hostile-'));
      try {
        // 8 Mi float64 = 64 MiB declared; the side file is a z-file bomb of exactly that size.
        const n = 8 << 20;
        const raw = new Uint8Array(n * 8);
        const z = zlib.deflateSync(raw);
        writeFileSync(
          join(dir, 'm.pkl_01.npy.z'),
          Buffer.concat([Buffer.from('ZF' + ('0x' + raw.length.toString(16)).padEnd(19, ' ')), z]),
        );
        writeFileSync(join(dir, 'm.pkl'), zndPickle('m.pkl_01.npy.z', n));
        const t0 = performance.now();
        const m = await memoryDeltaAsync(() =>
          load(join(dir, 'm.pkl'), { limits: { maxInputBytes: 1 << 20 } }),
        );
        log.record('7 side files', 'ZNDArrayWrapper 64 MiB, cap 1 MiB', performance.now() - t0);
        expect(m.error).toBeInstanceOf(UnpicklingError);
        expect(String((m.error as Error).message)).toMatch(
          /the array needs 67108864 bytes, more than limits\.maxInputBytes \(1048576\)/,
        );
        expect(m.arrayBuffersMiB).toBeLessThan(32);
        // Within the limit the same file is read (the refusal above is the limit's doing).
        const ok = await load(join(dir, 'm.pkl'), { limits: { maxInputBytes: 128 << 20 } });
        expect(ok).toBeDefined();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('an NDArrayWrapper side .npy file larger than maxInputBytes is refused without reading it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pj-hostile-'));
      try {
        writeFileSync(
          join(dir, 'm.pkl_01.npy'),
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': (262144,), }", 262144 * 8),
        );
        writeFileSync(join(dir, 'm.pkl'), ndPickle('m.pkl_01.npy'));
        const t0 = performance.now();
        await expect(load(join(dir, 'm.pkl'), { limits: { maxInputBytes: 100_000 } })).rejects.toThrow(
          /side file m\.pkl_01\.npy of \d+ bytes exceeds limits\.maxInputBytes \(100000\)/,
        );
        log.record('7 side files', 'NDArrayWrapper 2 MiB .npy, cap 100 kB', performance.now() - t0);
        expect(await load(join(dir, 'm.pkl'))).toBeDefined();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

// ---- builders

/** A float64 dtype object at protocol 2: numpy.dtype('f8', False, True) + its BUILD state. */
const DTYPE_F8: Part[] = [
  'cnumpy\ndtype\nVf8\n',
  0x89,
  0x88,
  0x87,
  'R(K',
  3,
  'V<\nNNNJ',
  i32(-1),
  'J',
  i32(-1),
  'K',
  0,
  'tb',
];

/** joblib.dump-style NumpyArrayWrapper with the given shape opcodes (a tuple, or something else), 16 bytes after. */
function wrapperPickle(shape: Part[]): Uint8Array {
  return bytes(
    0x80,
    2,
    'cjoblib.numpy_pickle\nNumpyArrayWrapper\n)',
    0x81,
    '}(',
    'Vsubclass\ncnumpy\nndarray\n',
    'Vshape\n',
    ...shape,
    'VorderDummy\nN', // an extra key is ignored
    'Vorder\nVC\n',
    'Vdtype\n',
    ...DTYPE_F8,
    'Vallow_mmap\n',
    0x88,
    'Vnumpy_array_alignment_bytes\nN',
    'ub',
    new Uint8Array(16),
    '.',
  );
}

/** A .npy file (version 1.0) with `header` and `dataBytes` zero bytes of data. */
function npy(header: string, dataBytes = 16): Uint8Array {
  let h = header;
  const total = 10 + h.length + 1;
  h += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  return bytes('\x93NUMPY', 1, 0, h.length & 0xff, h.length >> 8, h, new Uint8Array(dataBytes));
}

/** A joblib < 0.10 main pickle holding one ZNDArrayWrapper for `n` float64 values in `file`. */
function zndPickle(file: string, n: number): Uint8Array {
  return bytes(
    0x80,
    2,
    'cjoblib.numpy_pickle\nZNDArrayWrapper\n)',
    0x81,
    '}(',
    `Vfilename\nV${file}\n`,
    'Vstate\n(K',
    1,
    `L${n}L\n`,
    0x85,
    ...DTYPE_F8,
    0x89,
    't',
    'Vinit_args\ncnumpy\nndarray\nK',
    0,
    0x85,
    'C',
    1,
    'b',
    0x87,
    'ub.',
  );
}

/** A joblib < 0.10 main pickle holding one NDArrayWrapper for the .npy side file `file`. */
function ndPickle(file: string): Uint8Array {
  return bytes(
    0x80,
    2,
    'cjoblib.numpy_pickle\nNDArrayWrapper\n)',
    0x81,
    '}(',
    `Vfilename\nV${file}\n`,
    'Vsubclass\ncnumpy\nndarray\n',
    'Vallow_mmap\n',
    0x88,
    'ub.',
  );
}

async function memoryDeltaAsync(
  fn: () => Promise<unknown>,
): Promise<{ error?: unknown; arrayBuffersMiB: number }> {
  const before = process.memoryUsage().arrayBuffers;
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  return {
    ...(error !== undefined ? { error } : {}),
    arrayBuffersMiB: (process.memoryUsage().arrayBuffers - before) / (1 << 20),
  };
}
