// Category 4 — memo indices: negative and missing indices for GET / BINGET / LONG_BINGET / PUT /
// BINPUT / LONG_BINPUT (CPython's test_negative_put and the memo-lookup errors), and sparse indices
// (PUT 4294967295, LONG_BINPUT 0xffffffff) that must cost nothing.
// Category 5 — extension codes: EXT1/2/4 with 0, negative, unregistered codes, and malformed
// `extensions` options.
import { afterAll, describe, expect, it } from 'vitest';
import { loads, loadsAll, PyGlobal } from '../../src/index.js';
import type { LoadOptions } from '../../src/unpickle/options.js';
import {
  CaseLog,
  bytes,
  decodes,
  i32,
  memoryDelta,
  refuses,
  show,
  u16,
  u32,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';
import { allReadersSurvive } from './readers.js';

const log = new CaseLog('memo-ext.test.ts');
afterAll(() => log.print());
watchPrototypes();

function bad(
  category: string,
  parts: Part[],
  opcode: string,
  offset: number,
  message: RegExp,
  options?: LoadOptions,
): void {
  const data = bytes(...parts);
  for (const lossless of [false, true]) {
    refuses(
      log,
      category,
      `${show(data)}${lossless ? ' (lossless)' : ''}`,
      () => loads(data, { ...(options ?? {}), lossless }),
      {
        opcode,
        offset,
        message,
      },
    );
  }
  allReadersSurvive(data, show(data));
}

function good(category: string, parts: Part[], expected: unknown, options?: LoadOptions): void {
  const data = bytes(...parts);
  expect(
    decodes(log, category, show(data), () => loads(data, options)),
    show(data),
  ).toEqual(expected);
}

const NOT_FOUND = /memo value not found at index/;

describe('4. negative, missing and sparse memo indices', () => {
  it('negative PUT / GET indices (CPython test_negative_put)', () => {
    bad('4 memo negative', ['Va\np-1\n.'], 'PUT', 3, /negative PUT argument/);
    bad('4 memo negative', ['Va\np0\n0g-1\n.'], 'GET', 7, /negative GET argument/);
    bad('4 memo negative', ['Np-99999999999999999999\n.'], 'PUT', 1, /negative PUT argument/);
  });

  it('indices out of the 32-bit range, or too long to be one, are refused at the opcode', () => {
    bad('4 memo range', ['Np4294967296\n.'], 'PUT', 1, /memo index 4294967296 out of range/);
    bad('4 memo range', ['g4294967296\n.'], 'GET', 0, /out of range/);
    bad('4 memo range', ['Np', '1'.repeat(30), '\n.'], 'PUT', 1, /memo index|out of range/);
    bad('4 memo range', ['g', '9'.repeat(30), '\n.'], 'GET', 0, /memo index|out of range/);
    bad('4 memo range', ['g', '9'.repeat(5000), '\n.'], 'GET', 0, /memo index|out of range/);
  });

  it('missing indices: GET / BINGET / LONG_BINGET of slots never stored', () => {
    bad('4 memo missing', ['g0\n.'], 'GET', 0, NOT_FOUND);
    bad('4 memo missing', ['h', 0, '.'], 'BINGET', 0, NOT_FOUND);
    bad('4 memo missing', ['h', 255, '.'], 'BINGET', 0, NOT_FOUND);
    bad('4 memo missing', ['j', u32(0), '.'], 'LONG_BINGET', 0, NOT_FOUND);
    bad('4 memo missing', ['j', u32(0xffffffff), '.'], 'LONG_BINGET', 0, NOT_FOUND);
    bad('4 memo missing', ['Nq', 1, 'h', 0, '.'], 'BINGET', 3, NOT_FOUND);
    bad('4 memo missing', ['Np1\ng01\ng2\n.'], 'GET', 8, NOT_FOUND);
    bad('4 memo missing', [0x80, 4, 'N', 0x94, 'h', 1, '.'], 'BINGET', 4, NOT_FOUND);
    // Names of Object.prototype members are not memo slots.
    bad('4 memo missing', ['glength\n.'], 'GET', 0, /invalid memo index/);
    bad('4 memo missing', ['g__proto__\n.'], 'GET', 0, /invalid memo index/);
    bad('4 memo missing', ['gconstructor\n.'], 'GET', 0, /invalid memo index/);
  });

  it('the memo is per pickle: loadsAll does not leak slots from one pickle into the next', () => {
    const data = bytes('Np0\n.', 'g0\n.');
    refuses(log, '4 memo missing', "second pickle GETs the first one's slot", () => loads(data.subarray(5)), {
      opcode: 'GET',
      offset: 0,
    });
    refuses(
      log,
      '4 memo missing',
      "loadsAll: second pickle GETs the first one's slot",
      () => loadsAll(data),
      {
        opcode: 'GET',
        offset: 5,
        message: NOT_FOUND,
      },
    );
  });

  it('overwriting and mixing PUT / MEMOIZE follows Python (memo[len(memo)])', () => {
    good('4 memo overwrite', ['Np0\nNp0\ng0\n.'], null);
    good('4 memo overwrite', ['K', 1, 'p0\n0K', 2, 'p0\n0g0\n.'], 2);
    good('4 memo overwrite', [0x80, 4, 'N', 'r', u32(5), 'K', 7, 0x94, '00h', 1, '.'], 7);
    good('4 memo overwrite', [0x80, 4, 'N', 0x94, 'K', 1, 0x94, 'h', 0, 'h', 1, 0x86, '.'], [null, 1]);
  });

  it('sparse indices cost nothing: PUT 4294967295, LONG_BINPUT 0xffffffff / 0xfffffffe, then GET them back', () => {
    const cases: [Part[], unknown][] = [
      [['Np4294967295\ng4294967295\n.'], null],
      [['Np4294967294\ng4294967294\n.'], null],
      [
        [0x80, 4, 'K', 5, 'r', u32(0xffffffff), 'j', u32(0xffffffff), 0x86, '.'],
        [5, 5],
      ],
      [
        [0x80, 4, 'K', 5, 'r', u32(0xfffffffe), 0x94, 'j', u32(0xfffffffe), 'h', 1, 0x87, '.'],
        [5, 5, 5],
      ],
      [
        [
          'K',
          1,
          'r',
          u32(0x7fffffff),
          'r',
          u32(0),
          'r',
          u32(0xffffffff),
          'j',
          u32(0x7fffffff),
          'j',
          u32(0),
          0x87,
          '.',
        ],
        [1, 1, 1],
      ],
    ];
    for (const [parts, expected] of cases) {
      const data = bytes(...parts);
      const m = memoryDelta(() =>
        decodes(log, '4 memo sparse', show(data), () => loads(data), { boundMs: 1000 }),
      );
      expect(m.error).toBeUndefined();
      expect(m.result).toEqual(expected);
      expect(m.arrayBuffersMiB, 'arrayBuffers grew').toBeLessThan(16);
      expect(m.rssMiB, 'rss grew').toBeLessThan(256);
    }
  });

  it('ten thousand scattered huge indices stay cheap', () => {
    const parts: Part[] = ['N'];
    for (let i = 0; i < 10_000; i++) parts.push('r', u32((0xfffffffe - i * 429_497) >>> 0));
    parts.push('j', u32(0xfffffffe), '.');
    const data = bytes(...parts);
    const m = memoryDelta(() =>
      decodes(log, '4 memo sparse', '10000 scattered LONG_BINPUTs', () => loads(data), { boundMs: 3000 }),
    );
    expect(m.error).toBeUndefined();
    expect(m.result).toBe(null);
    expect(m.arrayBuffersMiB).toBeLessThan(16);
    expect(m.rssMiB).toBeLessThan(256);
  });
});

const OS: LoadOptions = { extensions: { 5: ['collections', 'OrderedDict'] } };

describe('5. bad extension codes', () => {
  it('EXT1 / EXT2 / EXT4 with code 0 or negative (CPython: "EXT specifies code <= 0")', () => {
    bad('5 ext code <= 0', [0x80, 2, 0x82, 0, '.'], 'EXT1', 2, /EXT specifies code <= 0/, OS);
    bad('5 ext code <= 0', [0x80, 2, 0x83, u16(0), '.'], 'EXT2', 2, /EXT specifies code <= 0/, OS);
    bad('5 ext code <= 0', [0x80, 2, 0x84, i32(0), '.'], 'EXT4', 2, /EXT specifies code <= 0/, OS);
    bad('5 ext code <= 0', [0x80, 2, 0x84, i32(-1), '.'], 'EXT4', 2, /EXT specifies code <= 0/, OS);
    bad('5 ext code <= 0', [0x80, 2, 0x84, i32(-(2 ** 31)), '.'], 'EXT4', 2, /EXT specifies code <= 0/, OS);
  });

  it('unregistered codes, with and without an extensions table', () => {
    for (const options of [undefined, {}, { extensions: {} }, OS] as (LoadOptions | undefined)[]) {
      bad('5 ext unregistered', [0x80, 2, 0x82, 6, '.'], 'EXT1', 2, /unregistered extension code 6/, options);
      bad(
        '5 ext unregistered',
        [0x80, 2, 0x83, u16(0xffff), '.'],
        'EXT2',
        2,
        /unregistered extension code 65535/,
        options,
      );
      bad(
        '5 ext unregistered',
        [0x80, 2, 0x84, i32(0x7fffffff), '.'],
        'EXT4',
        2,
        /unregistered extension code 2147483647/,
        options,
      );
    }
  });

  it('malformed extensions options are treated as unregistered codes, never crash', () => {
    const malformed: unknown[] = [
      { 5: 'collections.OrderedDict' },
      { 5: ['collections'] },
      { 5: ['collections', 'OrderedDict', 'extra'] },
      { 5: [1, 2] },
      { 5: [null, 'OrderedDict'] },
      { 5: null },
      { 5: { 0: 'collections', 1: 'OrderedDict', length: 2 } },
      JSON.parse('{"__proto__": ["collections", "OrderedDict"]}'),
      null,
      'collections',
      42,
    ];
    for (const extensions of malformed) {
      bad('5 ext malformed option', [0x80, 2, 0x82, 5, '.'], 'EXT1', 2, /unregistered extension code 5/, {
        extensions: extensions as LoadOptions['extensions'],
      });
    }
  });

  it('a registered code resolves to its global (the counterpart of the refusals)', () => {
    const data = bytes(0x80, 2, 0x82, 5, '.');
    const g = decodes(log, '5 ext registered', 'EXT1 5 -> foo.Bar', () =>
      loads(data, { extensions: { 5: ['foo', 'Bar'] } }),
    );
    expect(g).toBeInstanceOf(PyGlobal);
    expect((g as PyGlobal).qualifiedName).toBe('foo.Bar');
  });
});
