// Category 2 — bad stack and bad mark. Opcodes that need items on an empty stack or below the
// innermost MARK, and opcodes that need a MARK when there is none. The lists follow CPython's
// test_bad_stack / test_bad_mark (pickletester.py) and add the remaining mark-consuming opcodes
// (OBJ, INST, POP_MARK, FROZENSET, LIST, TUPLE, DICT, APPENDS, SETITEMS, ADDITEMS). Every case must be
// an UnpicklingError naming the failing opcode at its offset.
import { afterAll, describe, expect, it } from 'vitest';
import { loads } from '../../src/index.js';
import { CaseLog, bytes, decodes, refuses, show, watchPrototypes, type Part } from '../helpers/hostile.js';
import { allReadersSurvive } from './readers.js';

const log = new CaseLog('stack-mark.test.ts');
afterAll(() => log.print());
watchPrototypes();

interface Case {
  readonly data: Uint8Array;
  readonly opcode: string;
  readonly offset: number;
  readonly message: RegExp;
}

const UNDERFLOW = /stack underflow/;
const NO_MARK = /could not find MARK/;

/** A case whose failing opcode is the last byte of the stream. */
function last(parts: Part[], opcode: string, message: RegExp = UNDERFLOW): Case {
  const data = bytes(...parts);
  return { data, opcode, offset: data.length - 1, message };
}
/** A case whose failing opcode is at `offset` (opcodes with an argument). */
function at(parts: Part[], opcode: string, offset: number, message: RegExp = UNDERFLOW): Case {
  return { data: bytes(...parts), opcode, offset, message };
}

const L = 'cbuiltins\nlist\n';
const VE = 'cbuiltins\nValueError\n';

// CPython's test_bad_stack, one by one (no STOP: the error must come first).
const BAD_STACK: Case[] = [
  last(['.'], 'STOP'),
  last(['0'], 'POP'),
  last(['1'], 'POP_MARK', NO_MARK),
  last(['2'], 'DUP'),
  last(['(2'], 'DUP'),
  last(['R'], 'REDUCE'),
  last([')R'], 'REDUCE'),
  last(['a'], 'APPEND'),
  last(['Na'], 'APPEND'),
  last(['b'], 'BUILD'),
  last(['Nb'], 'BUILD'),
  last(['d'], 'DICT', NO_MARK),
  last(['e'], 'APPENDS', NO_MARK),
  last(['(e'], 'APPENDS'),
  at(['ibuiltins\nlist\n'], 'INST', 0, NO_MARK),
  last(['l'], 'LIST', NO_MARK),
  last(['o'], 'OBJ', NO_MARK),
  last(['(o'], 'OBJ', /OBJ needs a class/),
  at(['p1\n'], 'PUT', 0),
  at(['q', 0], 'BINPUT', 0),
  at(['r', 0, 0, 0, 0], 'LONG_BINPUT', 0),
  last(['s'], 'SETITEM'),
  last(['Ns'], 'SETITEM'),
  last(['NNs'], 'SETITEM'),
  last(['t'], 'TUPLE', NO_MARK),
  last(['u'], 'SETITEMS', NO_MARK),
  last(['(u'], 'SETITEMS'),
  last(['}(Nu'], 'SETITEMS', /odd number of items for SETITEMS/),
  last([0x81], 'NEWOBJ'),
  last([')', 0x81], 'NEWOBJ'),
  last([0x85], 'TUPLE1'),
  last([0x86], 'TUPLE2'),
  last(['N', 0x86], 'TUPLE2'),
  last([0x87], 'TUPLE3'),
  last(['N', 0x87], 'TUPLE3'),
  last(['NN', 0x87], 'TUPLE3'),
  last([0x90], 'ADDITEMS', NO_MARK),
  last(['(', 0x90], 'ADDITEMS'),
  last([0x91], 'FROZENSET', NO_MARK),
  last([0x92], 'NEWOBJ_EX'),
  last([')}', 0x92], 'NEWOBJ_EX'),
  last([0x93], 'STACK_GLOBAL'),
  last(['Vlist\n', 0x93], 'STACK_GLOBAL'),
  last([0x94], 'MEMOIZE'),
  // Beyond CPython's list: the remaining one-item consumers.
  last([0x98], 'READONLY_BUFFER'),
  last(['Q'], 'BINPERSID'),
];

// CPython's test_bad_mark: the items needed sit below the innermost MARK.
const BAD_MARK: Case[] = [
  last(['N(.'], 'STOP'),
  last(['N(2'], 'DUP'),
  last([L, ')(R'], 'REDUCE'),
  last([L, '()R'], 'REDUCE'),
  last([']N(a'], 'APPEND'),
  last([VE, ')R}(b'], 'BUILD'),
  last([VE, ')R(}b'], 'BUILD'),
  last(['(Nd'], 'DICT', /odd number of items for DICT/),
  at(['N(p1\n'], 'PUT', 2),
  at(['N(q', 0], 'BINPUT', 2),
  at(['N(r', 0, 0, 0, 0], 'LONG_BINPUT', 2),
  last(['}NN(s'], 'SETITEM'),
  last(['}N(Ns'], 'SETITEM'),
  last(['}(NNs'], 'SETITEM'),
  last(['}((u'], 'SETITEMS'),
  last([L, ')(', 0x81], 'NEWOBJ'),
  last([L, '()', 0x81], 'NEWOBJ'),
  last(['N(', 0x85], 'TUPLE1'),
  last(['NN(', 0x86], 'TUPLE2'),
  last(['N(N', 0x86], 'TUPLE2'),
  last(['NNN(', 0x87], 'TUPLE3'),
  last(['NN(N', 0x87], 'TUPLE3'),
  last(['N(NN', 0x87], 'TUPLE3'),
  last([']((', 0x90], 'ADDITEMS'),
  last([L, ')}(', 0x92], 'NEWOBJ_EX'),
  last([L, ')(}', 0x92], 'NEWOBJ_EX'),
  last([L, '()}', 0x92], 'NEWOBJ_EX'),
  last(['Vbuiltins\n(Vlist\n', 0x93], 'STACK_GLOBAL'),
  last(['Vbuiltins\nVlist\n(', 0x93], 'STACK_GLOBAL'),
  last(['N(', 0x94], 'MEMOIZE'),
  // Beyond CPython's list.
  last([']((e'], 'APPENDS'),
  last([']N(', 0x98], 'READONLY_BUFFER'),
  last(['N(Q'], 'BINPERSID'),
];

// Mark-consuming opcodes with no MARK at all, each after a few items.
const MISSING_MARK: Case[] = [
  last(['NNt'], 'TUPLE', NO_MARK),
  last(['NNl'], 'LIST', NO_MARK),
  last(['NNd'], 'DICT', NO_MARK),
  last([']NNe'], 'APPENDS', NO_MARK),
  last(['}NNu'], 'SETITEMS', NO_MARK),
  last([0x8f, 'NN', 0x90], 'ADDITEMS', NO_MARK),
  last(['NN', 0x91], 'FROZENSET', NO_MARK),
  last(['NN1'], 'POP_MARK', NO_MARK),
  last([L, 'NNo'], 'OBJ', NO_MARK),
  at(['NNifoo\nBar\n'], 'INST', 2, NO_MARK),
  // A MARK consumed by an earlier opcode is gone for the next one.
  last(['(NtNt'], 'TUPLE', NO_MARK),
  last(['(N1Nl'], 'LIST', NO_MARK),
];

// Targets of the wrong type for the item-adding opcodes (CPython: test_appends_on_non_lists etc.).
const WRONG_TARGET: Case[] = [
  last(['K', 1, 'Na'], 'APPEND', /cannot append to int/),
  last([')Na'], 'APPEND', /cannot append to tuple/),
  last(['K', 1, '(Ne'], 'APPENDS', /cannot append to int/),
  last(['}(Ne'], 'APPENDS', /cannot append to dict/),
  last(['K', 1, 'NNs'], 'SETITEM', /cannot set items on int/),
  // A list takes SETITEM as Python's `lst[key] = value`: an int index in range only.
  last([']NNs'], 'SETITEM', /list indices must be integers, not None/),
  last([']K', 0, 'Ns'], 'SETITEM', /list assignment index out of range/),
  last([']', 0x71, 0, 'K', 1, 'a(K', 5, 'Nu'], 'SETITEMS', /list assignment index out of range/),
  last(['K', 1, ')', 0x85, 'Ns'], 'SETITEM', /cannot set items on int/),
  last(['}]', 0x85, 'Ns'], 'SETITEM', /unhashable dict key: tuple/),
  last(['K', 1, '(NNu'], 'SETITEMS', /cannot set items on int/),
  last(['K', 1, '(N', 0x90], 'ADDITEMS', /cannot add items to int/),
  last(['(N', 0x91, '(N', 0x90], 'ADDITEMS', /cannot add items to frozenset/),
  last([']', '(N', 0x90], 'ADDITEMS', /cannot add items to list/),
  last(['}]Ns'], 'SETITEM', /unhashable dict key: list/),
  last([0x8f, '(]', 0x90], 'ADDITEMS', /unhashable set element: list/),
  last(['(}', 0x91], 'FROZENSET', /unhashable set element: dict/),
];

function runAll(title: string, category: string, cases: Case[]): void {
  it(`${title} (${cases.length} cases)`, () => {
    for (const c of cases) {
      for (const lossless of [false, true]) {
        refuses(
          log,
          category,
          `${c.opcode}: ${show(c.data)}${lossless ? ' (lossless)' : ''}`,
          () => loads(c.data, { lossless }),
          {
            opcode: c.opcode,
            offset: c.offset,
            message: c.message,
          },
        );
      }
      // With a STOP appended the error is the same: it happens before the end is reached.
      const withStop = bytes(c.data, '.');
      refuses(log, category, `${c.opcode}: ${show(withStop)}`, () => loads(withStop), {
        opcode: c.opcode,
        offset: c.offset,
      });
      allReadersSurvive(c.data, show(c.data));
    }
  });
}

describe('2. bad stack and bad mark', () => {
  runAll('opcodes needing items on an empty stack (CPython test_bad_stack)', '2 bad stack', BAD_STACK);
  runAll('items needed below the innermost MARK (CPython test_bad_mark)', '2 bad mark', BAD_MARK);
  runAll('mark-consuming opcodes without a MARK', '2 missing mark', MISSING_MARK);
  runAll('item-adding opcodes on the wrong target', '2 wrong target', WRONG_TARGET);

  it('the good counterparts decode (the bad cases are bad only for the stated reason)', () => {
    const good: [Part[], unknown][] = [
      [['(N1N.'], null], // POP_MARK discards the slice
      [['(0N.'], null], // POP with only a mark above pops the mark, as CPython does
      [['(NNt.'], [null, null]],
      [['](NNe.'], [null, null]],
      [['}(', 0x8c, 1, 'k', 'Nu.'], { k: null }],
    ];
    for (const [parts, expected] of good) {
      const data = bytes(...parts);
      const v = decodes(log, '2 good counterparts', show(data), () => loads(data));
      expect(v).toEqual(expected);
    }
    // CPython's test_dup: DUP pushes the same object again.
    const dup = decodes(log, '2 good counterparts', 'DUP: ((l2t.', () =>
      loads(bytes('((l2t.')),
    ) as unknown[][];
    expect(dup).toEqual([[], []]);
    expect(dup[0]).toBe(dup[1]);
    // BINPERSID replaces the pid by what persistentLoad returns.
    const pid = decodes(log, '2 good counterparts', 'BINPERSID: K\x05Q.', () =>
      loads(bytes('K', 5, 'Q.'), { persistentLoad: (p) => ['got', p] }),
    );
    expect(pid).toEqual(['got', 5]);
  });

  it('a deep stack of marks unwinds correctly: 1000 nested (...) tuples', () => {
    const data = bytes('('.repeat(1000), 'N', 't'.repeat(1000), '.');
    let v = decodes(log, '2 good counterparts', '1000 nested MARK/TUPLE', () => loads(data)) as unknown;
    let depth = 0;
    while (Array.isArray(v)) {
      expect(v.length).toBe(1);
      v = v[0];
      depth++;
    }
    expect(depth).toBe(1000);
    expect(v).toBe(null);
    // One TUPLE too many finds no MARK.
    const extra = bytes('('.repeat(1000), 'N', 't'.repeat(1001), '.');
    refuses(log, '2 missing mark', '1000 MARK, 1001 TUPLE', () => loads(extra), {
      opcode: 'TUPLE',
      offset: 2001,
      message: NO_MARK,
    });
  });
});
