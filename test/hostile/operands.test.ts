// Category 6 — bad operands of the object-building opcodes: REDUCE / NEWOBJ / NEWOBJ_EX whose
// arguments are not a tuple, kwargs not a dict, class or callable not a global (CPython's
// test_bad_reduce, test_bad_newobj, test_bad_newobj_ex); BUILD on targets that cannot take state and
// with odd states; GLOBAL / STACK_GLOBAL with non-str or empty operands; OBJ / INST oddities.
import { afterAll, describe, expect, it } from 'vitest';
import { loads, scan, PyGlobal, PyObject, PyTimezone, Tuple } from '../../src/index.js';
import { PySafeUUID } from '../../src/python/stdlib.js';
import {
  CaseLog,
  bytes,
  decodes,
  refuses,
  sbu,
  show,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';
import { allReadersSurvive } from './readers.js';

const log = new CaseLog('operands.test.ts');
afterAll(() => log.print());
watchPrototypes();

function bad(category: string, parts: Part[], opcode: string, offset: number, message: RegExp): void {
  const data = bytes(...parts);
  for (const lossless of [false, true]) {
    refuses(log, category, `${show(data)}${lossless ? ' (lossless)' : ''}`, () => loads(data, { lossless }), {
      opcode,
      offset,
      message,
    });
  }
  allReadersSurvive(data, show(data));
}

const FOO = 'cfoo\nBar\n'; // 9 bytes: an unknown class, decoded inert
const INT = 'cbuiltins\nint\n'; // 14 bytes

describe('6. bad REDUCE / NEWOBJ / NEWOBJ_EX / BUILD / GLOBAL / STACK_GLOBAL operands', () => {
  it('REDUCE: arguments not a tuple, callable not a global (CPython test_bad_reduce)', () => {
    bad('6 REDUCE', ['N)R.'], 'REDUCE', 2, /the callable is None, not a global/);
    bad('6 REDUCE', [INT, 'NR.'], 'REDUCE', 15, /REDUCE arguments must be a tuple, got None/);
    for (const [arg, what] of [
      [']', 'list'],
      ['}', 'dict'],
      ['K\x01', 'int'],
      ['Vx\n', 'str'],
      [[0x8f], 'set'],
      ['C\x01x', 'bytes'],
    ] as const) {
      const a = typeof arg === 'string' ? arg : arg;
      bad(
        '6 REDUCE',
        [FOO, a, 'R.'],
        'REDUCE',
        9 + (typeof a === 'string' ? a.length : a.length),
        new RegExp(`arguments must be a tuple, got ${what}`),
      );
    }
    for (const [callable, what] of [
      ['K\x01', 'int'],
      ['Vx\n', 'str'],
      [']', 'list'],
      ['}', 'dict'],
      [')', 'tuple'],
      ['\x88', 'bool'],
    ] as const) {
      bad(
        '6 REDUCE',
        [callable, ')R.'],
        'REDUCE',
        callable.length + 1,
        new RegExp(`the callable is ${what}, not a global`),
      );
    }
    // The result of a REDUCE is not callable either: no call chains through inert objects.
    bad('6 REDUCE', [FOO, ')R)R.'], 'REDUCE', 12, /the callable is foo\.Bar object, not a global/);
  });

  it('NEWOBJ: class not a global, arguments not a tuple (CPython test_bad_newobj)', () => {
    bad('6 NEWOBJ', [INT, 'N', 0x81, '.'], 'NEWOBJ', 15, /NEWOBJ arguments must be a tuple, got None/);
    bad('6 NEWOBJ', [FOO, ']', 0x81, '.'], 'NEWOBJ', 10, /arguments must be a tuple, got list/);
    bad('6 NEWOBJ', ['N)', 0x81, '.'], 'NEWOBJ', 2, /NEWOBJ class must be a global, got None/);
    bad('6 NEWOBJ', ['Vx\n)', 0x81, '.'], 'NEWOBJ', 4, /class must be a global, got str/);
    bad(
      '6 NEWOBJ',
      [FOO, ')', 0x81, ')', 0x81, '.'],
      'NEWOBJ',
      12,
      /class must be a global, got foo\.Bar object/,
    );
  });

  it('NEWOBJ_EX: class, arguments and kwargs of the wrong kinds (CPython test_bad_newobj_ex)', () => {
    bad('6 NEWOBJ_EX', [INT, 'N}', 0x92, '.'], 'NEWOBJ_EX', 16, /arguments must be a tuple, got None/);
    bad('6 NEWOBJ_EX', [INT, ')N', 0x92, '.'], 'NEWOBJ_EX', 16, /NEWOBJ_EX kwargs must be a dict, got None/);
    bad('6 NEWOBJ_EX', [FOO, '))', 0x92, '.'], 'NEWOBJ_EX', 11, /kwargs must be a dict, got tuple/);
    bad('6 NEWOBJ_EX', [FOO, ')]', 0x92, '.'], 'NEWOBJ_EX', 11, /kwargs must be a dict, got list/);
    bad('6 NEWOBJ_EX', [FOO, ')K\x01', 0x92, '.'], 'NEWOBJ_EX', 12, /kwargs must be a dict, got int/);
    bad('6 NEWOBJ_EX', ['N)}', 0x92, '.'], 'NEWOBJ_EX', 3, /class must be a global, got None/);
  });

  it('inert counterparts: a class Python would reject (len) still decodes as an inert object, nothing is called', () => {
    for (const parts of [
      [INT, ')R.'],
      ['cbuiltins\nlen\n)', 0x81, '.'],
      ['cbuiltins\nlen\n)}', 0x92, '.'],
    ] as Part[][]) {
      const data = bytes(...parts);
      const v = decodes(log, '6 inert counterparts', show(data), () => loads(data));
      expect(v).toBeInstanceOf(PyObject);
    }
    // kwargs with non-str keys (a TypeError in Python) are kept as data.
    const data = bytes(FOO, ')}K', 1, 'K', 2, 's', 0x92, '.');
    const v = decodes(log, '6 inert counterparts', show(data), () => loads(data)) as PyObject;
    expect(v.__kwargs__).toEqual(new Map([[1, 2]]));
  });

  it('BUILD on targets that cannot take state', () => {
    bad('6 BUILD target', ['N}b.'], 'BUILD', 2, /cannot BUILD a None/);
    bad('6 BUILD target', ['K\x01}b.'], 'BUILD', 3, /cannot BUILD a int/);
    bad('6 BUILD target', ['\x88}b.'], 'BUILD', 2, /cannot BUILD a bool/);
    bad('6 BUILD target', ['Vx\n}b.'], 'BUILD', 4, /cannot BUILD a str/);
    bad('6 BUILD target', ['G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], '}b.'], 'BUILD', 10, /cannot BUILD a float/);
    bad('6 BUILD target', ['L1L\n}b.'], 'BUILD', 5, /cannot BUILD a int/);
  });

  it('BUILD on shared singletons (timezone.utc, SafeUUID members) is refused and leaves them untouched', () => {
    const utcBefore = Object.getOwnPropertyDescriptors(PyTimezone.utc);
    for (const parts of [
      ['cdatetime\ntimezone.utc\n}Vx\nK\x01sb.'],
      [0x80, 4, sbu('datetime'), sbu('timezone.utc'), 0x93, '}', sbu('offset'), 'N', 's', 'b.'],
      [0x80, 4, sbu('datetime'), sbu('timezone.utc'), 0x93, 'N', sbu('name'), 'Vx\n', 0x86, 'b.'],
    ] as Part[][]) {
      const data = bytes(...parts);
      refuses(log, '6 BUILD target', show(data), () => loads(data), {
        opcode: 'BUILD',
        offset: data.length - 2,
      });
    }
    expect(Object.getOwnPropertyDescriptors(PyTimezone.utc)).toEqual(utcBefore);
    const safe = (PySafeUUID as unknown as Record<string, object>)['safe'] as object;
    const safeBefore = Object.getOwnPropertyDescriptors(safe);
    const data = bytes(0x80, 4, sbu('uuid'), sbu('SafeUUID.safe'), 0x93, '}', sbu('x'), 'K', 1, 's', 'b.');
    const out = (() => {
      try {
        return loads(data);
      } catch (e) {
        return e;
      }
    })();
    log.record('6 BUILD target', 'BUILD on SafeUUID.safe', 0);
    expect(Object.getOwnPropertyDescriptors(safe)).toEqual(safeBefore);
    expect(out === safe && Object.getOwnPropertyNames(safe).includes('x')).toBe(false);
  });

  it('BUILD states that are not attribute dicts are kept aside, never spread over the object', () => {
    const cases: [Part[], (v: PyObject) => void][] = [
      [
        [FOO, ')', 0x81, 'K', 1, 'K', 2, 'K', 3, 0x87, 'b.'],
        (v) => expect(v.__state__).toEqual(Tuple.from_([1, 2, 3])),
      ],
      [[FOO, ')', 0x81, 'Vstate\nb.'], (v) => expect(v.__state__).toBe('state')],
      [[FOO, ')', 0x81, ']K', 1, 'ab.'], (v) => expect(v.__state__).toEqual([1])],
      [[FOO, ')', 0x81, '}K', 1, 'K', 2, 'sb.'], (v) => expect(v.__state__).toEqual(new Map([[1, 2]]))],
      // Keys that collide with PyObject's own members keep the whole dict in __state__.
      [
        [FOO, ')', 0x81, '}V__class__\nK', 1, 'sb.'],
        (v) => {
          expect(v.__class__).toBeInstanceOf(PyGlobal);
          expect(v.__state__).toEqual({ __class__: 1 });
        },
      ],
      [
        [FOO, ')', 0x81, '}Vattributes\nK', 1, 'sb.'],
        (v) => {
          expect(typeof v.attributes).toBe('function');
          expect(v.__state__).toEqual({ attributes: 1 });
        },
      ],
      [[FOO, ')', 0x81, '}V__qualname__\nK', 1, 'sb.'], (v) => expect(v.__qualname__).toBe('foo.Bar')],
      // (dict, slots) with a bad half is kept whole.
      [[FOO, ')', 0x81, 'NK', 1, 0x86, 'b.'], (v) => expect(v.__state__).toEqual(Tuple.from_([null, 1]))],
      [
        [FOO, ')', 0x81, '}V__args__\nK', 1, 's}', 0x86, 'b.'],
        (v) => expect(v.__args__).toEqual(new Tuple()),
      ],
      // BUILD with None does nothing; BUILD twice merges.
      [[FOO, ')', 0x81, 'Nb.'], (v) => expect(Object.keys(v)).toEqual([])],
      [[FOO, ')', 0x81, '}Va\nK', 1, 'sb}Vb\nK', 2, 'sb.'], (v) => expect({ ...v }).toEqual({ a: 1, b: 2 })],
    ];
    for (const [parts, check] of cases) {
      const data = bytes(...parts);
      const v = decodes(log, '6 BUILD state', show(data), () => loads(data)) as PyObject;
      expect(v).toBeInstanceOf(PyObject);
      check(v);
    }
    // BUILD on a global sets attributes on the class itself in Python (a gadget): refused by default,
    // as scan flags it; with dangerousGlobals 'inert' the state is kept aside.
    const onGlobal = bytes(FOO, '}Vx\nK', 1, 'sb.');
    refuses(log, '6 BUILD state', show(onGlobal), () => loads(onGlobal), {
      opcode: 'BUILD',
      code: 'dangerous-global',
    });
    expect(scan(onGlobal).dangerous).toBe(true);
    // On a global (inert mode) or a builtin container the state is kept aside (non-enumerable __state__).
    for (const [parts, expected, inert] of [
      [[FOO, '}Vx\nK', 1, 'sb.'], PyGlobal, true],
      [[']}Vlength\nK', 9, 'sb.'], Array, false],
      [[')}Vx\nK', 1, 'sb.'], Tuple, false],
    ] as [Part[], new (...a: never[]) => object, boolean][]) {
      const data = bytes(...parts);
      const options = inert ? { dangerousGlobals: 'inert' as const } : {};
      const v = decodes(log, '6 BUILD state', show(data), () => loads(data, options)) as object;
      expect(v).toBeInstanceOf(expected);
      expect(Object.keys(v)).not.toContain('x');
      expect(Object.getOwnPropertyDescriptor(v, '__state__')?.enumerable).toBe(false);
      if (Array.isArray(v)) expect(v.length).toBe(0);
    }
  });

  it('BUILD on family objects with states of the wrong shape is refused by their handlers', () => {
    const dtype = 'cnumpy\ndtype\nVf8\n\x89\x88\x87R';
    bad('6 BUILD family', [0x80, 2, dtype, 'Vx\nb.'], 'BUILD', 26, /numpy dtype state must be a tuple/);
    bad(
      '6 BUILD family',
      [
        0x80,
        2,
        'cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK',
        0,
        0x85,
        'C',
        1,
        'b',
        0x87,
        'RNb.',
      ],
      'BUILD',
      62,
      /numpy array state must be a tuple/,
    );
    bad(
      '6 BUILD family',
      [0x80, 2, 'cjoblib.numpy_pickle\nNumpyArrayWrapper\n)', 0x81, 'Nb.'],
      'BUILD',
      44,
      /NumpyArrayWrapper state must be a dict/,
    );
    bad(
      '6 BUILD family',
      [0x80, 2, 'cjoblib.numpy_pickle\nNumpyArrayWrapper\n)', 0x81, '}b.'],
      'BUILD',
      44,
      /dtype missing or not a numpy dtype/,
    );
  });

  it('GLOBAL / STACK_GLOBAL: operands that are not str', () => {
    const operands: [Part, string][] = [
      ['K\x01', 'int'],
      ['N', 'None'],
      ['C\x03foo', 'bytes'],
      [')', 'tuple'],
      [']', 'list'],
      ['}', 'dict'],
      ['\x88', 'bool'],
    ];
    for (const [op] of operands) {
      const len = typeof op === 'string' ? op.length : 1;
      bad(
        '6 STACK_GLOBAL',
        [0x80, 4, op, sbu('name'), 0x93, '.'],
        'STACK_GLOBAL',
        2 + len + 6,
        /STACK_GLOBAL requires str/,
      );
      bad(
        '6 STACK_GLOBAL',
        [0x80, 4, sbu('module'), op, 0x93, '.'],
        'STACK_GLOBAL',
        2 + 8 + len,
        /STACK_GLOBAL requires str/,
      );
    }
    // Operands fetched from the memo are checked the same way.
    bad(
      '6 STACK_GLOBAL',
      [0x80, 4, 'K', 1, 0x94, '0', sbu('m'), 'h', 0, 0x93, '.'],
      'STACK_GLOBAL',
      11,
      /STACK_GLOBAL requires str/,
    );
  });

  it('GLOBAL / STACK_GLOBAL / INST: empty module or attribute names', () => {
    const EMPTY = /empty module or attribute name/;
    bad('6 GLOBAL names', ['c\nname\n.'], 'GLOBAL', 0, EMPTY);
    bad('6 GLOBAL names', ['cmod\n\n.'], 'GLOBAL', 0, EMPTY);
    bad('6 GLOBAL names', ['c\n\n.'], 'GLOBAL', 0, EMPTY);
    bad('6 GLOBAL names', ['cmod\nA..b\n.'], 'GLOBAL', 0, EMPTY);
    bad('6 GLOBAL names', ['ca..b\nname\n.'], 'GLOBAL', 0, EMPTY);
    bad('6 GLOBAL names', ['c.mod\nname\n.'], 'GLOBAL', 0, EMPTY);
    bad('6 GLOBAL names', ['cmod\nname.\n.'], 'GLOBAL', 0, EMPTY);
    bad('6 GLOBAL names', [0x80, 4, sbu(''), sbu('name'), 0x93, '.'], 'STACK_GLOBAL', 10, EMPTY);
    bad('6 GLOBAL names', [0x80, 4, sbu('mod'), sbu(''), 0x93, '.'], 'STACK_GLOBAL', 9, EMPTY);
    bad('6 GLOBAL names', ['(i\nname\n.'], 'INST', 1, EMPTY);
    bad('6 GLOBAL names', ['(imod\n\n.'], 'INST', 1, EMPTY);
    // getattr(cls, '') reaches the same check.
    bad('6 GLOBAL names', ['cbuiltins\ngetattr\n', FOO, 'V\n', 0x86, 'R.'], 'REDUCE', 30, EMPTY);
  });

  it('getattr is only honoured as getattr(<global>, <str>)', () => {
    const GA = 'cbuiltins\ngetattr\n';
    const cases: Part[][] = [
      [GA, 'NVx\n', 0x86, 'R.'],
      [GA, FOO, 'K', 1, 0x86, 'R.'],
      [GA, FOO, 'Vx\nVy\n', 0x87, 'R.'],
      [GA, FOO, ')', 0x81, 'Vx\n', 0x86, 'R.'],
    ];
    for (const parts of cases) {
      bad(
        '6 getattr',
        parts,
        'REDUCE',
        bytes(...parts).length - 2,
        /refusing getattr on anything but a global and a name/,
      );
    }
    const data = bytes(GA, FOO, 'Vfromkeys\n', 0x86, 'R.');
    const g = decodes(log, '6 getattr', show(data), () => loads(data));
    expect(g).toBeInstanceOf(PyGlobal);
    expect((g as PyGlobal).qualifiedName).toBe('foo.Bar.fromkeys');
  });

  it('OBJ / INST: the class is the first item after the MARK and must be a global', () => {
    bad('6 OBJ/INST', ['(NK\x01o.'], 'OBJ', 4, /the callable is None, not a global/);
    bad('6 OBJ/INST', ['(K\x01o.'], 'OBJ', 3, /the callable is int, not a global/);
    bad('6 OBJ/INST', ['(Vfoo.Bar\no.'], 'OBJ', 10, /the callable is str, not a global/);
    bad('6 OBJ/INST', ['(o.'], 'OBJ', 1, /OBJ needs a class/);
    const data = bytes('(', FOO, 'K', 1, 'K', 2, 'o.');
    const v = decodes(log, '6 OBJ/INST', show(data), () => loads(data)) as PyObject;
    expect(v.__args__).toEqual(Tuple.from_([1, 2]));
    const inst = bytes('(K', 1, 'ifoo\nBar\n.');
    const w = decodes(log, '6 OBJ/INST', show(inst), () => loads(inst)) as PyObject;
    expect(w.__kind__).toBe('inst');
    expect(w.__args__).toEqual(Tuple.from_([1]));
  });
});
