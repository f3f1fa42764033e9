// Category 1 — truncation. Every opcode of src/opcodes.ts is placed in a context where it is valid
// (the complete pickle decodes), then the stream is cut at every byte of the opcode's argument: the
// decoder must refuse with an UnpicklingError that names the opcode and its offset. Cutting right
// after the whole opcode (no STOP) must be refused as a truncated stream. Mirrors CPython's
// test_truncated_data, extended to every argument kind.
import { afterAll, describe, expect, it } from 'vitest';
import { loads, loadsAll, UnpicklingError } from '../../src/index.js';
import { OPCODES } from '../../src/opcodes.js';
import type { LoadOptions } from '../../src/unpickle/options.js';
import {
  CaseLog,
  bytes,
  decodes,
  i32,
  refuses,
  show,
  u16,
  u32,
  u64,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';
import { SEEDS } from '../helpers/seeds.js';
import { allReadersSurvive } from './readers.js';

const log = new CaseLog('truncation.test.ts');
afterAll(() => log.print());
watchPrototypes();

interface Context {
  /** Opcodes that make the stack right for this one. */
  readonly pre?: Part[];
  /** The argument bytes. */
  readonly arg?: Part[];
  /** Opcodes after it that leave exactly one item for STOP. */
  readonly post?: Part[];
  readonly options?: LoadOptions;
}

const FOO = 'cfoo\nBar\n';
const persistent: LoadOptions = { persistentLoad: (pid) => ['persistent', pid] };

/** A valid context for every opcode (by name); the test below checks that it covers OPCODES. */
const CONTEXTS: Record<string, Context> = {
  INT: { arg: ['42\n'] },
  BININT: { arg: [i32(-5)] },
  BININT1: { arg: [7] },
  BININT2: { arg: [u16(300)] },
  LONG: { arg: ['12345678901234567890L\n'] },
  LONG1: { arg: [2, 0x2c, 0x01] },
  LONG4: { arg: [u32(2), 0x2c, 0x01] },
  STRING: { arg: ["'abc'\n"] },
  BINSTRING: { arg: [u32(3), 'abc'] },
  SHORT_BINSTRING: { arg: [3, 'abc'] },
  BINBYTES: { arg: [u32(3), 'abc'] },
  SHORT_BINBYTES: { arg: [3, 'abc'] },
  BINBYTES8: { arg: [u64(3), 'abc'] },
  BYTEARRAY8: { arg: [u64(3), 'abc'] },
  NEXT_BUFFER: { options: { buffers: [new Uint8Array([1, 2, 3])] } },
  READONLY_BUFFER: { pre: [0x96, u64(1), 'x'] },
  NONE: {},
  NEWTRUE: {},
  NEWFALSE: {},
  UNICODE: { arg: ['abc\\u20ac\n'] },
  SHORT_BINUNICODE: { arg: [3, 'abc'] },
  BINUNICODE: { arg: [u32(3), 'abc'] },
  BINUNICODE8: { arg: [u64(3), 'abc'] },
  FLOAT: { arg: ['1.5\n'] },
  BINFLOAT: { arg: [0x3f, 0xf8, 0, 0, 0, 0, 0, 0] },
  EMPTY_LIST: {},
  APPEND: { pre: [']N'] },
  APPENDS: { pre: [']', '(', 'N'] },
  LIST: { pre: ['(N'] },
  EMPTY_TUPLE: {},
  TUPLE: { pre: ['(N'] },
  TUPLE1: { pre: ['N'] },
  TUPLE2: { pre: ['NN'] },
  TUPLE3: { pre: ['NNN'] },
  EMPTY_DICT: {},
  DICT: { pre: ['(', 0x8c, 1, 'k', 'N'] },
  SETITEM: { pre: ['}', 0x8c, 1, 'k', 'N'] },
  SETITEMS: { pre: ['}(', 0x8c, 1, 'k', 'N'] },
  EMPTY_SET: {},
  ADDITEMS: { pre: [0x8f, '(N'] },
  FROZENSET: { pre: ['(N'] },
  POP: { pre: ['NN'] },
  DUP: { pre: ['N'], post: ['0'] },
  MARK: { pre: ['N'], post: ['1'] },
  POP_MARK: { pre: ['N(N'] },
  GET: { pre: ['Np0\n'], arg: ['0\n'], post: ['0'] },
  BINGET: { pre: ['Nq', 0], arg: [0], post: ['0'] },
  LONG_BINGET: { pre: ['Nq', 0], arg: [u32(0)], post: ['0'] },
  PUT: { pre: ['N'], arg: ['0\n'] },
  BINPUT: { pre: ['N'], arg: [0] },
  LONG_BINPUT: { pre: ['N'], arg: [u32(0)] },
  MEMOIZE: { pre: ['N'] },
  EXT1: { arg: [1], options: { extensions: { 1: ['collections', 'OrderedDict'] } } },
  EXT2: { arg: [u16(0x1234)], options: { extensions: { 0x1234: ['collections', 'OrderedDict'] } } },
  EXT4: { arg: [i32(0x12345678)], options: { extensions: { 0x12345678: ['collections', 'OrderedDict'] } } },
  GLOBAL: { arg: ['collections\nOrderedDict\n'] },
  STACK_GLOBAL: { pre: [0x8c, 11, 'collections', 0x8c, 11, 'OrderedDict'] },
  REDUCE: { pre: ['ccollections\nOrderedDict\n)'] },
  BUILD: { pre: [FOO, ')', 0x81, '}'] },
  INST: { pre: ['('], arg: ['foo\nBar\n'] },
  OBJ: { pre: ['(', FOO] },
  NEWOBJ: { pre: [FOO, ')'] },
  NEWOBJ_EX: { pre: [FOO, ')}'] },
  PROTO: { arg: [4], post: ['N'] },
  STOP: { pre: ['N'] },
  // A frame holding just NONE; STOP follows outside it (bytes may sit outside frames).
  FRAME: { arg: [u64(1)], post: ['N'] },
  PERSID: { arg: ['pid\n'], options: persistent },
  BINPERSID: { pre: ['N'], options: persistent },
};

function parts(
  c: Context,
  code: number,
): { pre: Uint8Array; op: Uint8Array; arg: Uint8Array; post: Uint8Array } {
  return {
    pre: bytes(...(c.pre ?? [])),
    op: bytes(code),
    arg: bytes(...(c.arg ?? [])),
    post: bytes(...(c.post ?? [])),
  };
}

describe('1. truncation inside every argument kind', () => {
  it('the context table covers exactly the opcodes of src/opcodes.ts', () => {
    expect(Object.keys(CONTEXTS).sort()).toEqual(OPCODES.map((o) => o.name).sort());
  });

  for (const info of OPCODES) {
    const c = CONTEXTS[info.name] as Context;
    const { pre, op, arg, post } = parts(c, info.code);
    const head = bytes(pre, op);
    const opts = (lossless: boolean): LoadOptions => ({ ...(c.options ?? {}), lossless });

    it(`${info.name} (${info.arg}): the complete pickle decodes`, () => {
      const full = info.name === 'STOP' ? bytes(pre, op) : bytes(pre, op, arg, post, '.');
      decodes(log, '1 truncation', `${info.name} complete`, () => loads(full, opts(false)));
    });

    if (arg.length > 0) {
      it(`${info.name} (${info.arg}): cut at each of its ${arg.length} argument bytes`, () => {
        for (let k = 0; k < arg.length; k++) {
          const data = bytes(head, arg.subarray(0, k));
          for (const lossless of [false, true]) {
            refuses(
              log,
              '1 truncation',
              `${info.name} cut ${k}/${arg.length}: ${show(data)}`,
              () => loads(data, opts(lossless)),
              {
                opcode: info.name,
                offset: pre.length,
                message: /truncated/,
              },
            );
          }
          allReadersSurvive(data, `${info.name} cut ${k}`);
        }
      });
      if (arg.length > 1 && info.arg !== 'long1') {
        it(`${info.name} (${info.arg}): the argument cut and followed by STOP is refused too`, () => {
          // A STOP byte where the argument should continue: it is read as argument data (or, for
          // text lines, there is still no newline), never as the end of the pickle.
          for (let k = 0; k < arg.length - 1; k++) {
            const data = bytes(head, arg.subarray(0, k), '.');
            const err = refuses(log, '1 truncation', `${info.name} cut ${k} + STOP: ${show(data)}`, () =>
              loads(data, opts(false)),
            );
            expect(err).toBeInstanceOf(UnpicklingError);
          }
        });
      }
    }

    if (info.name !== 'STOP') {
      it(`${info.name}: the stream ending right after it (no STOP) is refused`, () => {
        const data = bytes(pre, op, arg, post);
        refuses(log, '1 truncation', `${info.name} no STOP: ${show(data)}`, () => loads(data, opts(false)), {
          opcode: null,
          offset: data.length,
          message: /truncated \(no STOP opcode\)/,
        });
        allReadersSurvive(data, `${info.name} no STOP`);
      });
    }
  }

  it('CPython test_truncated_data: empty input and a lone NONE', () => {
    refuses(log, '1 truncation', 'empty input', () => loads(new Uint8Array(0)), {
      message: /truncated \(empty input\)/,
    });
    refuses(log, '1 truncation', 'lone N', () => loads(bytes('N')), {
      opcode: null,
      offset: 1,
      message: /no STOP/,
    });
  });

  it('inputs that are not bytes at all are refused by loads / loadsAll (a Buffer is bytes)', () => {
    const notBytes: [string, unknown][] = [
      ['null', null],
      ['undefined', undefined],
      ['a string', 'N.'],
      ['a number', 46],
      ['an array of numbers', [0x4e, 0x2e]],
      ['an ArrayBuffer', new Uint8Array([0x4e, 0x2e]).buffer],
      ['a DataView', new DataView(new Uint8Array([0x4e, 0x2e]).buffer)],
      ['an array-like object', { length: 2, 0: 0x4e, 1: 0x2e }],
    ];
    for (const [label, x] of notBytes) {
      refuses(log, '1 truncation', `loads(${label})`, () => loads(x as Uint8Array), {
        message: /input must be a Uint8Array/,
      });
      refuses(log, '1 truncation', `loadsAll(${label})`, () => loadsAll(x as Uint8Array), {
        message: /input must be a Uint8Array/,
      });
    }
    expect(decodes(log, '1 truncation', 'loads(Buffer)', () => loads(Buffer.from('N.', 'latin1')))).toBe(
      null,
    );
  });

  it('a FRAME whose announced bytes are missing is refused at the FRAME', () => {
    for (const n of [2, 1000, 2 ** 32]) {
      const data = bytes(0x80, 4, 0x95, u64(n), 'N');
      refuses(log, '1 truncation', `FRAME ${n} over 1 byte`, () => loads(data), {
        opcode: 'FRAME',
        offset: 2,
        message: /truncated/,
      });
    }
    // Beyond limits.maxObjectBytes (default 4 GiB) the limit is named instead.
    const data = bytes(0x80, 4, 0x95, u64(2 ** 52), 'N');
    refuses(log, '1 truncation', 'FRAME 2**52 over 1 byte', () => loads(data), {
      opcode: 'FRAME',
      offset: 2,
      message: /limits\.maxObjectBytes/,
    });
  });

  it('every proper prefix of real pickles (one fixture per protocol) is refused, never mis-decoded', () => {
    // A mixed value written by CPython 3.11 at protocols 0-5 (the fuzz seeds).
    for (const hex of SEEDS) {
      const full = Uint8Array.from(Buffer.from(hex, 'hex'));
      decodes(log, '1 truncation', `seed ${full.length} complete`, () => loads(full));
      for (let k = 0; k < full.length; k++) {
        const data = full.subarray(0, k);
        refuses(log, '1 truncation', `seed prefix ${k}/${full.length}`, () => loads(data), {
          message: /truncated/,
        });
      }
    }
  });
});
