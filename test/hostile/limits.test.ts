// Limits — every field of `Limits` (src/unpickle/options.ts) is enforced with an UnpicklingError whose
// message names the limit and says how to raise it; input exactly at a limit is accepted. Each limit
// is checked through every entry point that can breach it (loads, loadsAll, load(path), containers).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, load, loads, loadsAll } from '../../src/index.js';
import type { Limits } from '../../src/unpickle/options.js';
import {
  CaseLog,
  bytes,
  decodes,
  refuses,
  u32,
  u64,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';

const log = new CaseLog('limits.test.ts');
afterAll(() => log.print());
watchPrototypes();

function named(limit: keyof Limits, value?: number): RegExp {
  return new RegExp(
    `limits\\.${limit}${value !== undefined ? ` \\(${value}( bytes)?\\)` : ''}.*raise it to allow more`,
  );
}

/** `count` copies of `unit`, then `tail`. */
function rep(unit: Part[], count: number, ...tail: Part[]): Uint8Array {
  const u = bytes(...unit);
  const t = bytes(...tail);
  const out = new Uint8Array(u.length * count + t.length);
  for (let i = 0; i < count; i++) out.set(u, i * u.length);
  out.set(t, u.length * count);
  return out;
}

describe('limits: every field is enforced and named', () => {
  it('the Limits fields are the ones this file covers', () => {
    expect(Object.keys(DEFAULT_LIMITS).sort()).toEqual(
      [
        'maxDepth',
        'maxInputBytes',
        'maxIntDigits',
        'maxMemo',
        'maxObjectBytes',
        'maxOpcodes',
        'maxStack',
      ].sort(),
    );
  });

  it('maxInputBytes: loads, loadsAll, .npy, compressed input and load(path)', async () => {
    const data = bytes('X', u32(96), 'x'.repeat(96), '.'); // 102 bytes
    const limits = { maxInputBytes: 101 };
    refuses(log, 'L limits: maxInputBytes', 'loads 102 > 101', () => loads(data, { limits }), {
      message: named('maxInputBytes', 101),
    });
    refuses(log, 'L limits: maxInputBytes', 'loadsAll 102 > 101', () => loadsAll(data, { limits }), {
      message: named('maxInputBytes', 101),
    });
    expect(
      decodes(log, 'L limits: maxInputBytes', 'loads 102 = 102', () =>
        loads(data, { limits: { maxInputBytes: 102 } }),
      ),
    ).toBe('x'.repeat(96));
    const npy = bytes(
      '\x93NUMPY',
      1,
      0,
      118,
      0,
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }".padEnd(117, ' '),
      '\n',
      new Uint8Array(32),
    );
    refuses(
      log,
      'L limits: maxInputBytes',
      '.npy over the limit',
      () => loads(npy, { limits: { maxInputBytes: 100 } }),
      { message: named('maxInputBytes', 100) },
    );
    const z = new Uint8Array(zlib.deflateSync(rep(['N0'], 5000, 'N.')));
    refuses(
      log,
      'L limits: maxInputBytes',
      'zlib inflating past the limit',
      () => loads(z, { limits: { maxInputBytes: 5000 } }),
      {
        message: named('maxInputBytes', 5000),
      },
    );
    const dir = mkdtempSync(join(tmpdir(), 'pj-limits-'));
    try {
      writeFileSync(join(dir, 'p.pkl'), data);
      writeFileSync(join(dir, 'p.joblib'), z);
      const t0 = performance.now();
      // A file is read through a window, whatever its size: maxInputBytes guards what would be held
      // whole (bytes given to loads, a decompressed stream), and each object is checked against the
      // file and maxObjectBytes before anything is allocated.
      await expect(load(join(dir, 'p.pkl'), { limits })).resolves.toBe('x'.repeat(96));
      await expect(load(join(dir, 'p.pkl'), { limits: { maxObjectBytes: 95 } })).rejects.toThrow(
        named('maxObjectBytes', 95),
      );
      await expect(load(join(dir, 'p.joblib'), { limits: { maxInputBytes: 5000 } })).rejects.toThrow(
        named('maxInputBytes', 5000),
      );
      log.record('L limits: maxInputBytes', 'load(path)', performance.now() - t0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maxObjectBytes: every object-making opcode (see also sizes.test.ts), at and over the limit', () => {
    const limits = { maxObjectBytes: 10 };
    const over: [string, Part[]][] = [
      ['BINUNICODE', ['X', u32(11), 'x'.repeat(11), '.']],
      ['BINBYTES8', [0x8e, u64(11), 'x'.repeat(11), '.']],
      ['LONG4', [0x8b, u32(11), 'x'.repeat(11), '.']],
      ['FRAME', [0x95, u64(11), 'N0'.repeat(5), 'N', '.']],
      ['UNICODE', ['V', 'x'.repeat(11), '\n.']],
      ['STRING', ["S'", 'x'.repeat(9), "'\n."]],
    ];
    for (const [opcode, parts] of over) {
      refuses(
        log,
        'L limits: maxObjectBytes',
        `${opcode} 11 > 10`,
        () => loads(bytes(...parts), { limits }),
        {
          opcode,
          message: named('maxObjectBytes', 10),
        },
      );
    }
    expect(loads(bytes('X', u32(10), 'x'.repeat(10), '.'), { limits })).toBe('x'.repeat(10));
    expect(loads(bytes('V', 'x'.repeat(10), '\n.'), { limits })).toBe('x'.repeat(10));
  });

  it('maxDepth: MARK nesting beyond the limit (default and custom), exactly at it is fine', () => {
    const deep = rep(['('], DEFAULT_LIMITS.maxDepth + 1, 'N');
    refuses(log, 'L limits: maxDepth', `default: ${DEFAULT_LIMITS.maxDepth + 1} MARKs`, () => loads(deep), {
      opcode: 'MARK',
      offset: DEFAULT_LIMITS.maxDepth,
      message: named('maxDepth', DEFAULT_LIMITS.maxDepth),
    });
    const atLimit = bytes(rep(['('], 5), 'N', 'ttttt.');
    refuses(
      log,
      'L limits: maxDepth',
      '5 MARKs, limit 4',
      () => loads(atLimit, { limits: { maxDepth: 4 } }),
      {
        opcode: 'MARK',
        offset: 4,
        message: named('maxDepth', 4),
      },
    );
    expect(
      decodes(log, 'L limits: maxDepth', '5 MARKs, limit 5', () =>
        loads(atLimit, { limits: { maxDepth: 5 } }),
      ),
    ).toEqual([[[[[null]]]]]);
    // Marks popped along the way do not count: 20 000 sequential (N) tuples stay at depth 1.
    const flat = bytes('(', rep(['(Nt'], 20_000), 'l.');
    expect(
      (
        decodes(log, 'L limits: maxDepth', '20000 sequential MARKs, limit 2', () =>
          loads(flat, { limits: { maxDepth: 2 } }),
        ) as unknown[]
      ).length,
    ).toBe(20_000);
  });

  it('maxMemo: long and short pickles, MEMOIZE and PUT', () => {
    const manyMemoize = bytes(0x80, 4, rep(['N', 0x94, '0'], 10_000), 'N.');
    refuses(
      log,
      'L limits: maxMemo',
      '10000 MEMOIZE, limit 100',
      () => loads(manyMemoize, { limits: { maxMemo: 100 } }),
      {
        message: named('maxMemo', 100),
      },
    );
    const fewPut = bytes('N', 'p0\np1\np2\np3\np4\np5\n', '.');
    refuses(log, 'L limits: maxMemo', '6 PUTs, limit 5', () => loads(fewPut, { limits: { maxMemo: 5 } }), {
      opcode: 'STOP',
      message: named('maxMemo', 5),
    });
    expect(
      decodes(log, 'L limits: maxMemo', '6 PUTs, limit 6', () => loads(fewPut, { limits: { maxMemo: 6 } })),
    ).toBe(null);
    // Re-using one slot does not grow the memo.
    const sameSlot = bytes(rep(['Np0\n0'], 10_000), 'N.');
    expect(
      decodes(log, 'L limits: maxMemo', '10000 PUTs of slot 0, limit 1', () =>
        loads(sameSlot, { limits: { maxMemo: 1 } }),
      ),
    ).toBe(null);
  });

  it('maxStack: long and short pickles', () => {
    const many = bytes(rep(['N'], 20_000), '.');
    refuses(
      log,
      'L limits: maxStack',
      '20000 NONE, limit 1000',
      () => loads(many, { limits: { maxStack: 1000 } }),
      { message: named('maxStack', 1000) },
    );
    const few = bytes(rep(['N'], 12), '.');
    refuses(log, 'L limits: maxStack', '12 NONE, limit 10', () => loads(few, { limits: { maxStack: 10 } }), {
      opcode: 'STOP',
      message: named('maxStack', 10),
    });
    expect(
      decodes(log, 'L limits: maxStack', '12 NONE, limit 12', () => loads(few, { limits: { maxStack: 12 } })),
    ).toBe(null);
  });

  it('maxOpcodes: long and short pickles, per pickle in loadsAll', () => {
    const many = bytes(rep(['N0'], 10_000), 'N.');
    refuses(
      log,
      'L limits: maxOpcodes',
      '20002 opcodes, limit 5000',
      () => loads(many, { limits: { maxOpcodes: 5000 } }),
      {
        message: named('maxOpcodes', 5000),
      },
    );
    const few = bytes(rep(['N0'], 10), 'N.'); // 22 opcodes
    refuses(
      log,
      'L limits: maxOpcodes',
      '22 opcodes, limit 21',
      () => loads(few, { limits: { maxOpcodes: 21 } }),
      { opcode: 'STOP', message: named('maxOpcodes', 21) },
    );
    expect(
      decodes(log, 'L limits: maxOpcodes', '22 opcodes, limit 22', () =>
        loads(few, { limits: { maxOpcodes: 22 } }),
      ),
    ).toBe(null);
    // The count is per pickle: three 22-opcode pickles pass a limit of 22 in loadsAll.
    const three = bytes(few, few, few);
    expect(
      decodes(log, 'L limits: maxOpcodes', 'loadsAll 3 x 22 opcodes, limit 22', () =>
        loadsAll(three, { limits: { maxOpcodes: 22 } }),
      ),
    ).toEqual([null, null, null]);
  });

  it('maxIntDigits: INT and LONG text (decimal and prefixed), default and custom', () => {
    const d = DEFAULT_LIMITS.maxIntDigits;
    refuses(
      log,
      'L limits: maxIntDigits',
      `INT ${d + 1} digits`,
      () => loads(bytes('I', '9'.repeat(d + 1), '\n.')),
      {
        opcode: 'INT',
        offset: 0,
        message: named('maxIntDigits', d),
      },
    );
    refuses(
      log,
      'L limits: maxIntDigits',
      `LONG ${d + 1} digits`,
      () => loads(bytes('L', '9'.repeat(d + 1), 'L\n.')),
      {
        opcode: 'LONG',
        offset: 0,
        message: named('maxIntDigits', d),
      },
    );
    refuses(
      log,
      'L limits: maxIntDigits',
      'LONG 1e6 digits',
      () => loads(bytes('L-', '1'.repeat(1_000_000), '\n.')),
      {
        opcode: 'LONG',
        message: named('maxIntDigits', d),
      },
    );
    refuses(
      log,
      'L limits: maxIntDigits',
      'LONG 0x + 100 hex digits, limit 10',
      () => loads(bytes('L0x', 'f'.repeat(100), '\n.'), { limits: { maxIntDigits: 10 } }),
      {
        opcode: 'LONG',
        message: named('maxIntDigits', 10),
      },
    );
    refuses(
      log,
      'L limits: maxIntDigits',
      'INT 11 digits, limit 10',
      () => loads(bytes('I', '1'.repeat(11), '\n.'), { limits: { maxIntDigits: 10 } }),
      {
        opcode: 'INT',
        message: named('maxIntDigits', 10),
      },
    );
    expect(
      decodes(log, 'L limits: maxIntDigits', 'INT 10 digits, limit 10', () =>
        loads(bytes('I', '1'.repeat(10), '\n.'), { limits: { maxIntDigits: 10 } }),
      ),
    ).toBe(1111111111);
    expect(
      decodes(log, 'L limits: maxIntDigits', `INT ${d} digits`, () =>
        loads(bytes('I', '9'.repeat(d), '\n.'), { lossless: true }),
      ),
    ).toBe(10n ** BigInt(d) - 1n);
  });
});
