// Category 3 — bad text arguments: quoting and escapes of STRING (CPython's test_badly_quoted_string,
// test_badly_escaped_string, test_correctly_quoted_string), raw-unicode-escape of UNICODE, the decimal
// and float lines of INT / LONG / FLOAT / GET / PUT, bad UTF-8 in BINUNICODE / SHORT_BINUNICODE /
// BINUNICODE8 and in GLOBAL / INST lines, and Python 2 strings under each `encoding`. Where CPython's
// C and pure-Python unpicklers agree on a refusal we refuse too; values are asserted where both agree.
import { afterAll, describe, expect, it } from 'vitest';
import { loads } from '../../src/index.js';
import type { LoadOptions } from '../../src/unpickle/options.js';
import {
  CaseLog,
  bytes,
  decodes,
  refuses,
  show,
  u32,
  u64,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';
import { allReadersSurvive } from './readers.js';

const log = new CaseLog('text.test.ts');
afterAll(() => log.print());
watchPrototypes();

interface Bad {
  readonly parts: Part[];
  readonly opcode: string;
  readonly offset?: number;
  readonly message: RegExp;
  readonly options?: LoadOptions;
}

function checkBad(category: string, cases: readonly Bad[]): void {
  for (const c of cases) {
    const data = bytes(...c.parts);
    for (const lossless of [false, true]) {
      refuses(
        log,
        category,
        `${show(data)}${lossless ? ' (lossless)' : ''}`,
        () => loads(data, { ...(c.options ?? {}), lossless }),
        {
          opcode: c.opcode,
          offset: c.offset ?? 0,
          message: c.message,
        },
      );
    }
    allReadersSurvive(data, show(data));
  }
}

function checkGood(category: string, cases: readonly [Part[], unknown, LoadOptions?][]): void {
  for (const [parts, expected, options] of cases) {
    const data = bytes(...parts);
    const v = decodes(log, category, show(data), () => loads(data, options));
    expect(v, show(data)).toEqual(expected);
  }
}

const QUOTED = /the STRING opcode argument must be quoted/;

describe('3. bad quoting, escapes, numbers and UTF-8', () => {
  it('STRING: badly quoted arguments (CPython test_badly_quoted_string)', () => {
    const bad: Bad[] = [
      "S'\n.",
      'S"\n.',
      "S' \n.",
      'S" \n.',
      'S\'"\n.',
      'S"\'\n.',
      "S' ' \n.",
      'S" " \n.',
      "S ''\n.",
      'S ""\n.',
      'S \n.',
      'S\n.',
      'Sabc\n.',
      "S'abc\n.",
      "Sabc'\n.",
    ].map((s) => ({ parts: [s], opcode: 'STRING', message: QUOTED }));
    bad.push({ parts: ['S.'], opcode: 'STRING', message: /truncated \(no newline\)/ });
    checkBad('3 STRING quoting', bad);
  });

  it('STRING: bad escapes (CPython test_badly_escaped_string, plus \\x forms)', () => {
    checkBad('3 STRING escapes', [
      { parts: ["S'\\'\n."], opcode: 'STRING', message: /bad STRING argument: Trailing \\ in string/ },
      { parts: ["S'abc\\'\n."], opcode: 'STRING', message: /Trailing \\ in string/ },
      { parts: ["S'\\x4'\n."], opcode: 'STRING', message: /invalid \\x escape/ },
      { parts: ["S'\\xzz'\n."], opcode: 'STRING', message: /invalid \\x escape/ },
      { parts: ["S'\\x'\n."], opcode: 'STRING', message: /invalid \\x escape/ },
      { parts: ["NS'\\x4g'\n."], opcode: 'STRING', offset: 1, message: /invalid \\x escape/ },
    ]);
  });

  it('STRING: correctly quoted arguments decode (CPython test_correctly_quoted_string)', () => {
    checkGood('3 STRING quoting', [
      [["S''\n."], ''],
      [['S""\n.'], ''],
      [['S"\\n"\n.'], '\n'],
      [["S'\\n'\n."], '\n'],
      [["S'\\101\\x42\\t'\n."], 'AB\t'],
      [["S'\\q'\n."], '\\q'], // unknown escapes keep their backslash, as Python's escape_decode does
      [["S'it\\'s'\n."], "it's"],
    ]);
  });

  it('Python 2 strings that are not valid in the chosen encoding are refused with the encoding named', () => {
    const nonAscii: Part[][] = [["S'\\xe9'\n."], ['U', 1, 0xe9, '.'], ['T', u32(1), 0xe9, '.']];
    const names = ['STRING', 'SHORT_BINSTRING', 'BINSTRING'];
    nonAscii.forEach((parts, i) => {
      checkBad('3 py2 str encoding', [
        { parts, opcode: names[i] as string, message: /cannot decode Python 2 str with encoding 'ascii'/ },
        {
          parts,
          opcode: names[i] as string,
          message: /with encoding 'utf-8'/,
          options: { encoding: 'utf-8' },
        },
      ]);
      checkGood('3 py2 str encoding', [
        [parts, 'é', { encoding: 'latin1' }],
        [parts, new Uint8Array([0xe9]), { encoding: 'bytes' }],
      ]);
    });
    checkBad('3 py2 str encoding', [
      { parts: ['T', u32(0x80000000), '.'], opcode: 'BINSTRING', message: /negative byte count/ },
      { parts: [0x8b, u32(0x80000000), '.'], opcode: 'LONG4', message: /negative byte count/ },
    ]);
    refuses(
      log,
      '3 py2 str encoding',
      'unknown encoding option',
      () => loads(bytes('N.'), { encoding: 'rot13' as 'ascii' }),
      {
        message: /unsupported encoding option/,
      },
    );
  });

  it('UNICODE: bad raw-unicode-escape arguments', () => {
    checkBad('3 UNICODE escapes', [
      {
        parts: ['V\\u12\n.'],
        opcode: 'UNICODE',
        message: /bad UNICODE argument: .*truncated \\uXXXX escape/,
      },
      { parts: ['V\\u\n.'], opcode: 'UNICODE', message: /truncated \\uXXXX escape/ },
      { parts: ['V\\uzzzz\n.'], opcode: 'UNICODE', message: /truncated \\uXXXX escape/ },
      { parts: ['V\\U0000004\n.'], opcode: 'UNICODE', message: /truncated \\UXXXXXXXX escape/ },
      { parts: ['V\\U00110000\n.'], opcode: 'UNICODE', message: /out of range/ },
      { parts: ['V\\Uffffffff\n.'], opcode: 'UNICODE', message: /out of range/ },
      { parts: ['V\\\\\\u12\n.'], opcode: 'UNICODE', message: /truncated \\uXXXX escape/ }, // odd run of backslashes
      { parts: ['Vabc'], opcode: 'UNICODE', message: /truncated \(no newline\)/ },
    ]);
    checkGood('3 UNICODE escapes', [
      [['V\\u20ac\n.'], '€'],
      [['V\\\\u20ac\n.'], '\\\\u20ac'], // an even run of backslashes escapes nothing
      [['V\\U0001f600\n.'], '😀'],
      [['V', 0xe9, '\n.'], 'é'], // other bytes are Latin-1
      [['V\\ud800\n.'], '\ud800'], // lone surrogates are kept, as Python keeps them
      [['V\\x41\n.'], '\\x41'],
    ]);
  });

  it('INT / LONG / FLOAT / GET / PUT: text Python cannot parse (refused by both CPython unpicklers)', () => {
    const int = /invalid literal for int\(\)/;
    const float = /could not convert string to float/;
    checkBad('3 numbers', [
      ...['abc', '1.5', '1__0', '1 2', '--1', '\xd9\xa3', '1e3', '_1', '1_'].map((t) => ({
        parts: [`I${t}\n.`],
        opcode: 'INT',
        message: int,
      })),
      ...['', '1.5', '012', 'abc', '0x', '1e3'].map((t) => ({
        parts: [`L${t}L\n.`],
        opcode: 'LONG',
        message: int,
      })),
      ...['', 'abc', '1.5.5', '1e', '0x10', 'infx', '1,5', '- 1'].map((t) => ({
        parts: [`F${t}\n.`],
        opcode: 'FLOAT',
        message: float,
      })),
      { parts: ['g1e3\n.'], opcode: 'GET', message: /invalid memo index/ },
      { parts: ['Np0x1\n.'], opcode: 'PUT', offset: 1, message: /invalid memo index/ },
      { parts: ['Np\n.'], opcode: 'PUT', offset: 1, message: /invalid memo index/ },
    ]);
  });

  it('INT / LONG / FLOAT / GET / PUT: the forms both CPython unpicklers accept decode to the same values', () => {
    checkGood('3 numbers', [
      [['I 12 \n.'], 12],
      [['I1_000\n.'], 1000],
      [['I+5\n.'], 5],
      [['I0x10\n.'], 16],
      [['I00\n.'], false],
      [['I01\n.'], true],
      [['I99999999999999999999\n.'], 99999999999999999999n],
      [['L0b101L\n.'], 5],
      [['L12L\n.'], 12],
      [['L0x10L\n.'], 16],
      [['L 5 \n.'], 5],
      [['L1_0\n.'], 10],
      [['L-0L\n.'], 0],
      [['Finf\n.'], Infinity],
      [['F.5\n.'], 0.5],
      [['F5.\n.'], 5],
      [['FInfinity\n.'], Infinity],
      [['F1e-400\n.'], 0],
      [['Np 0 \ng0\n.'], null],
      [['Np01\ng1\n.'], null],
      [['Np+1\ng1\n.'], null],
    ]);
    const nan = decodes(log, '3 numbers', 'F-nan', () => loads(bytes('F-nan\n.')));
    expect(Number.isNaN(nan)).toBe(true);
  });

  it('bad UTF-8 in BINUNICODE / SHORT_BINUNICODE / BINUNICODE8 payloads', () => {
    const invalid: [string, number[]][] = [
      ['lone continuation byte', [0x80]],
      ['0xff', [0xff]],
      ['0xfe', [0xfe]],
      ['overlong NUL', [0xc0, 0x80]],
      ['overlong slash', [0xe0, 0x80, 0xaf]],
      ['truncated 2-byte sequence', [0xc3]],
      ['truncated 3-byte sequence', [0xe2, 0x82]],
      ['truncated 4-byte sequence', [0xf0, 0x9f, 0x98]],
      ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80]],
      ['sequence cut by ASCII', [0xe2, 0x41, 0x82]],
    ];
    const cases: Bad[] = [];
    for (const [, seq] of invalid) {
      const payload = [0x61, ...seq, 0x62];
      cases.push({
        parts: [0x8c, payload.length, payload, '.'],
        opcode: 'SHORT_BINUNICODE',
        message: /invalid UTF-8 in str/,
      });
      cases.push({
        parts: ['X', u32(payload.length), payload, '.'],
        opcode: 'BINUNICODE',
        message: /invalid UTF-8 in str/,
      });
      cases.push({
        parts: ['N', 0x8d, u64(payload.length), payload, '.'],
        opcode: 'BINUNICODE8',
        offset: 1,
        message: /invalid UTF-8 in str/,
      });
    }
    checkBad('3 bad UTF-8', cases);
    // Surrogates written by Python's surrogatepass are accepted (docs/FORMATS.md §1.4).
    checkGood('3 bad UTF-8', [
      [[0x8c, 3, 0xed, 0xa0, 0x80, '.'], '\ud800'],
      [['X', u32(4), 0xf0, 0x9f, 0x98, 0x80, '.'], '😀'],
    ]);
  });

  it('bad UTF-8 in GLOBAL and INST lines', () => {
    const cases: Bad[] = [];
    for (const seq of [[0xff], [0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0]]) {
      cases.push({
        parts: ['c', seq, 'mod\nname\n.'],
        opcode: 'GLOBAL',
        message: /invalid UTF-8 in text argument/,
      });
      cases.push({
        parts: ['cmod\n', seq, 'name\n.'],
        opcode: 'GLOBAL',
        message: /invalid UTF-8 in text argument/,
      });
      cases.push({
        parts: ['(i', seq, 'mod\nname\n.'],
        opcode: 'INST',
        offset: 1,
        message: /invalid UTF-8 in text argument/,
      });
      cases.push({
        parts: ['(imod\nna', seq, 'me\n.'],
        opcode: 'INST',
        offset: 1,
        message: /invalid UTF-8 in text argument/,
      });
    }
    cases.push({
      parts: ['P', 0xe9, '\n.'],
      opcode: 'PERSID',
      message: /must be ASCII/,
      options: { persistentLoad: () => null },
    });
    checkBad('3 bad UTF-8', cases);
  });
});
