// Category 11 — code-running globals. os.system, posix.system, subprocess.Popen, builtins.eval / exec
// / __import__, nested deserializers (pickle.loads, marshal.loads, numpy.load, joblib.load, ...), dotted
// attribute paths that reach them through harmless modules (numpy.lib.npyio + os.system), and getattr
// chains — imported through GLOBAL, STACK_GLOBAL (operands pushed directly or fetched with BINGET / GET
// / LONG_BINGET), INST, OBJ, EXT1/2/4 (with an extensions table pointing at them), called by REDUCE /
// NEWOBJ or merely referenced. Each is refused by `loads` with an error saying why (and naming the
// opcode and offset), decodes inert with dangerousGlobals: 'inert', and is flagged by scan(). And
// scan() flags none of the benign fixtures of any family.
import { afterAll, describe, expect, it } from 'vitest';
import { loads, loadsAll, PyGlobal, PyObject } from '../../src/index.js';
import type { LoadOptions } from '../../src/unpickle/options.js';
import { scan, type ScanReport } from '../../src/tools/scan/index.js';
import {
  CaseLog,
  bytes,
  decodes,
  i32,
  refuses,
  sbu,
  survives,
  u16,
  u32,
  watchPrototypes,
  type Part,
} from '../helpers/hostile.js';
import { loadIndex, readFixtureBytes } from '../helpers/fixtures.js';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { scanDecompress } from './readers.js';

const log = new CaseLog('globals.test.ts');
afterAll(() => log.print());
watchPrototypes();

/** The refusal names the global (the kind of failure is checked by its code, 'dangerous-global'). */
const REFUSED = /refusing global (\S+?)(?: \(called\))?: /;

/** [module, name as written, qualified name after Python 2 renaming (protocol < 3)]. */
const TARGETS: [string, string, string][] = [
  ['os', 'system', 'os.system'],
  ['posix', 'system', 'posix.system'],
  ['nt', 'system', 'nt.system'],
  ['os', 'popen', 'os.popen'],
  ['subprocess', 'Popen', 'subprocess.Popen'],
  ['subprocess', 'check_output', 'subprocess.check_output'],
  ['subprocess', 'getoutput', 'subprocess.getoutput'],
  ['commands', 'getoutput', 'subprocess.getoutput'],
  ['builtins', 'eval', 'builtins.eval'],
  ['builtins', 'exec', 'builtins.exec'],
  ['builtins', '__import__', 'builtins.__import__'],
  ['builtins', 'compile', 'builtins.compile'],
  ['builtins', 'open', 'builtins.open'],
  ['__builtin__', 'eval', 'builtins.eval'],
  ['__builtin__', 'execfile', 'builtins.execfile'],
  ['pickle', 'loads', 'pickle.loads'],
  ['_pickle', 'loads', '_pickle.loads'],
  ['cPickle', 'loads', 'pickle.loads'],
  ['marshal', 'loads', 'marshal.loads'],
  ['dill', 'loads', 'dill.loads'],
  ['numpy', 'load', 'numpy.load'],
  ['joblib', 'load', 'joblib.load'],
  ['torch.serialization', 'load', 'torch.serialization.load'],
  ['pandas', 'read_pickle', 'pandas.read_pickle'],
  ['importlib', 'import_module', 'importlib.import_module'],
  ['runpy', 'run_path', 'runpy.run_path'],
  ['code', 'InteractiveInterpreter', 'code.InteractiveInterpreter'],
  ['ctypes', 'CDLL', 'ctypes.CDLL'],
  ['shutil', 'rmtree', 'shutil.rmtree'],
  ['socket', 'create_connection', 'socket.create_connection'],
  ['webbrowser', 'open', 'webbrowser.open'],
  ['pty', 'spawn', 'pty.spawn'],
  ['timeit', 'timeit', 'timeit.timeit'],
  ['types', 'FunctionType', 'types.FunctionType'],
  ['operator', 'attrgetter', 'operator.attrgetter'],
  ['numpy.testing._private.utils', 'runstring', 'numpy.testing._private.utils.runstring'],
  ['builtins', 'object.__subclasses__', 'builtins.object.__subclasses__'],
];

/** Dotted attribute paths: harmless module, dangerous attribute (Python resolves these at protocol 4). */
const DOTTED: [string, string][] = [
  ['numpy.lib.npyio', 'os.system'],
  ['random', '_os.system'],
  ['numpy', '_builtins.eval'],
  ['enum', 'bltns.exec'],
  ['uuid', 'os.popen'],
  ['numpy', 'lib.npyio.pickle.loads'],
  ['logging', 'os.system'],
  ['codecs', 'builtins.__import__'],
];

interface Vector {
  readonly name: string;
  readonly data: Uint8Array;
  readonly opcode: string;
  readonly offset: number;
  readonly options?: LoadOptions;
  /** What the inert decoding gives: a call (PyObject of that class) or a bare reference (PyGlobal). */
  readonly result: 'call' | 'reference';
  /** The scanner cannot resolve extension codes (the registry is the loading process's). */
  readonly ext?: boolean;
}

const ARG: Part[] = ['Vid\n'];

function vectors(m: string, n: string, protocol2Names: boolean): Vector[] {
  const out: Vector[] = [];
  const v = (
    name: string,
    parts: Part[],
    opcode: string,
    offset: number,
    result: 'call' | 'reference',
    extra: Partial<Vector> = {},
  ): void => {
    out.push({ name, data: bytes(...parts), opcode, offset, result, ...extra });
  };
  const g = `c${m}\n${n}\n`;
  // protocol 0-2 forms (Python 2 names are renamed there)
  v('GLOBAL + REDUCE (p0)', [g, '(', ...ARG, 'tR.'], 'GLOBAL', 0, 'call');
  v('GLOBAL + REDUCE (p2)', [0x80, 2, g, ...ARG, 0x85, 'R.'], 'GLOBAL', 2, 'call');
  v('GLOBAL + NEWOBJ (p2)', [0x80, 2, g, ')', 0x81, '.'], 'GLOBAL', 2, 'call');
  v('GLOBAL referenced only (p2)', [0x80, 2, g, '.'], 'GLOBAL', 2, 'reference');
  v('INST (p0)', ['(', ...ARG, `i${m}\n${n}\n.`], 'INST', 5, 'call');
  v('OBJ (p1)', ['(', g, ...ARG, 'o.'], 'GLOBAL', 1, 'call');
  const ext: LoadOptions = { extensions: { 5: [m, n], 0x1234: [m, n], 0x12345678: [m, n] } };
  v('EXT1 + REDUCE', [0x80, 2, 0x82, 5, ...ARG, 0x85, 'R.'], 'EXT1', 2, 'call', { options: ext, ext: true });
  v('EXT2 + REDUCE', [0x80, 2, 0x83, u16(0x1234), ...ARG, 0x85, 'R.'], 'EXT2', 2, 'call', {
    options: ext,
    ext: true,
  });
  v('EXT4 + REDUCE', [0x80, 2, 0x84, i32(0x12345678), ...ARG, 0x85, 'R.'], 'EXT4', 2, 'call', {
    options: ext,
    ext: true,
  });
  if (protocol2Names && m === '__builtin__') return out;
  // protocol 4 forms
  const sm = sbu(m);
  const sn = sbu(n);
  v(
    'STACK_GLOBAL + REDUCE',
    [0x80, 4, sm, sn, 0x93, ...ARG, 0x85, 'R.'],
    'STACK_GLOBAL',
    2 + sm.length + sn.length,
    'call',
  );
  v(
    'STACK_GLOBAL + NEWOBJ_EX',
    [0x80, 4, sm, sn, 0x93, ')}', 0x92, '.'],
    'STACK_GLOBAL',
    2 + sm.length + sn.length,
    'call',
  );
  // Operands memoized, popped, fetched back: BINGET, LONG_BINGET, GET.
  const memo: Part[] = [0x80, 4, sm, 0x94, '0', sn, 0x94, '0'];
  const ml = bytes(...memo).length;
  v(
    'STACK_GLOBAL via BINGET',
    [...memo, 'h', 0, 'h', 1, 0x93, ...ARG, 0x85, 'R.'],
    'STACK_GLOBAL',
    ml + 4,
    'call',
  );
  v(
    'STACK_GLOBAL via LONG_BINGET',
    [...memo, 'j', u32(0), 'j', u32(1), 0x93, ...ARG, 0x85, 'R.'],
    'STACK_GLOBAL',
    ml + 10,
    'call',
  );
  v('STACK_GLOBAL via GET', [...memo, 'g0\ng1\n', 0x93, ...ARG, 0x85, 'R.'], 'STACK_GLOBAL', ml + 6, 'call');
  // The module name built in another pickle position: memoized long before, after other data.
  const far = bytes(0x80, 4, sm, 'p7\n0', ']', '(', 'K', 1, 'K', 2, 'e', '0', 'g7\n', sn, 0x93, '0', 'N.');
  v(
    'STACK_GLOBAL with the module from a PUT far back',
    [far],
    'STACK_GLOBAL',
    far.lastIndexOf(0x93),
    'reference',
  );
  return out;
}

/** The value an inert decoding returns names the global (as the decoder resolved it). */
function expectInert(v: unknown, vec: Vector, qualified: string): void {
  if (vec.result === 'reference') {
    if (vec.name.includes('far back')) {
      expect(v).toBe(null); // the global is popped; the pickle returns None
      return;
    }
    expect(v).toBeInstanceOf(PyGlobal);
    expect((v as PyGlobal).qualifiedName).toBe(qualified);
  } else {
    expect(v, `${vec.name}: inert value`).toBeInstanceOf(PyObject);
    expect((v as PyObject).__class__.qualifiedName).toBe(qualified);
  }
}

function expectFlagged(
  r: ScanReport,
  vec: Vector,
  m: string,
  n: string,
  qualified: string,
  context: string,
): void {
  const hit = r.globals.find(
    (g) =>
      (g.module === m && g.name === n) ||
      g.resolved === qualified ||
      `${g.module}.${g.name}` === qualified ||
      (vec.ext === true && g.opcode === vec.opcode),
  );
  expect(
    hit,
    `${context}: scan found ${JSON.stringify(r.globals.map((g) => `${g.module}.${g.name}:${g.severity}`))}`,
  ).toBeDefined();
  if (vec.ext) {
    // Extension codes resolve against the loading process's copyreg registry (empty unless a program
    // registered codes): the scanner reports them, but cannot know what they name.
    expect(hit?.severity).not.toBe('safe');
  } else {
    expect(hit?.severity, `${context}: ${hit?.reason}`).toBe('dangerous');
    expect(r.dangerous).toBe(true);
  }
}

describe('11. code-running globals', () => {
  for (const [m, n, qualified] of TARGETS) {
    it(`${m}.${n}`, () => {
      for (const vec of vectors(m, n, true)) {
        const context = `${m}.${n} via ${vec.name}`;
        // The protocol-0/2 vectors apply Python 2 renaming; protocol 4 does not.
        const expectedName =
          vec.name.includes('STACK_GLOBAL') && !['__builtin__', 'commands', 'cPickle'].includes(m)
            ? `${m}.${n}`
            : qualified;
        if (vec.name.includes('STACK_GLOBAL') && ['commands', 'cPickle'].includes(m)) continue; // no such modules in Python 3
        const err = refuses(log, '11 refused by loads', context, () => loads(vec.data, vec.options), {
          message: REFUSED,
          code: 'dangerous-global',
          opcode: vec.opcode,
          offset: vec.offset,
        });
        expect(REFUSED.exec(err.message)?.[1]).toBe(expectedName);
        const inert = decodes(log, '11 inert decoding', context, () =>
          loads(vec.data, { ...(vec.options ?? {}), dangerousGlobals: 'inert' }),
        );
        expectInert(inert, vec, expectedName);
        const report = decodes(log, '11 flagged by scan', context, () =>
          scan(vec.data, { decompress: scanDecompress }),
        );
        expectFlagged(report, vec, m, n, expectedName, context);
      }
    });
  }

  it('dotted attribute paths reaching code runners through harmless modules (protocol 4, and getattr)', () => {
    for (const [m, n] of DOTTED) {
      const data = bytes(0x80, 4, sbu(m), sbu(n), 0x93, ...ARG, 0x85, 'R.');
      const context = `${m} + ${n}`;
      const offset = 2 + sbu(m).length + sbu(n).length;
      refuses(log, '11 refused by loads', context, () => loads(data), {
        opcode: 'STACK_GLOBAL',
        offset,
        message: REFUSED,
        code: 'dangerous-global',
      });
      const inert = decodes(log, '11 inert decoding', context, () =>
        loads(data, { dangerousGlobals: 'inert' }),
      );
      expect((inert as PyObject).__class__.qualifiedName).toBe(`${m}.${n}`);
      const report = decodes(log, '11 flagged by scan', context, () => scan(data));
      expect(report.dangerous, `${context}: ${JSON.stringify(report.globals)}`).toBe(true);
    }
    // The same path built step by step with getattr: getattr(getattr(getattr(numpy, 'lib'), 'npyio'), 'os')...
    const GA = [sbu('builtins'), sbu('getattr'), 0x93, 0x94];
    const chain = bytes(
      0x80,
      4,
      ...GA, // memo 0 = builtins.getattr
      'h',
      0,
      sbu('numpy'),
      sbu('lib'),
      0x93,
      sbu('npyio'),
      0x86,
      'R', // getattr(numpy.lib, 'npyio')
      0x94,
      '0',
      'h',
      0,
      'h',
      1,
      sbu('os'),
      0x86,
      'R', // getattr(., 'os')
      0x94,
      '0',
      'h',
      0,
      'h',
      2,
      sbu('system'),
      0x86,
      'R', // getattr(., 'system')
      ...ARG,
      0x85,
      'R.',
    );
    // Reaching the os module object itself is inert; taking `system` from it is refused.
    const err = refuses(
      log,
      '11 refused by loads',
      'getattr chain numpy.lib -> npyio -> os -> system',
      () => loads(chain),
      {
        opcode: 'REDUCE',
        offset: chain.length - 8,
        message: REFUSED,
        code: 'dangerous-global',
      },
    );
    expect(REFUSED.exec(err.message)?.[1]).toBe('numpy.lib.npyio.os.system');
    const report = decodes(log, '11 flagged by scan', 'getattr chain', () => scan(chain));
    expect(report.dangerous).toBe(true);
  });

  it('a malicious second pickle after a benign one: loads reads the first, loadsAll refuses the second', () => {
    const data = readFixtureBytes('hostile/second_pickle.p4.pkl');
    const first = decodes(log, '11 refused by loads', 'second_pickle: loads', () => loads(data));
    expect(first).toBeDefined();
    refuses(log, '11 refused by loads', 'second_pickle: loadsAll', () => loadsAll(data), {
      message: REFUSED,
      code: 'dangerous-global',
    });
    expect(decodes(log, '11 flagged by scan', 'second_pickle', () => scan(data)).dangerous).toBe(true);
  });

  it('every hostile fixture (fixtures/hostile): loads refuses or decodes inertly, scan grades it as recorded', () => {
    const dir = fileURLToPath(new URL('../../fixtures/hostile/', import.meta.url));
    const metas = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(metas.length).toBeGreaterThan(20);
    let cases = 0;
    for (const f of metas) {
      const meta = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        cases: { path: string; dangerous: boolean }[];
      };
      for (const c of meta.cases) {
        const data = readFixtureBytes(c.path);
        survives(log, '11 hostile fixtures', `${c.path}: loads`, () => loads(data));
        survives(log, '11 hostile fixtures', `${c.path}: loads inert`, () =>
          loads(data, { dangerousGlobals: 'inert' }),
        );
        const r = decodes(log, '11 hostile fixtures', `${c.path}: scan`, () =>
          scan(data, { decompress: scanDecompress }),
        );
        expect(r.dangerous, c.path).toBe(c.dangerous);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(50);
  });

  it('scan flags none of the benign fixtures (every family of fixtures/index.json, and fixtures/hostile-extra)', () => {
    const entries = loadIndex().filter((e) => e.family !== 'hostile');
    expect(new Set(entries.map((e) => e.family)).size).toBeGreaterThanOrEqual(5);
    const paths = entries.flatMap((e) => e.files.filter((f) => f.kind !== 'bomb').map((f) => f.path));
    const extra = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../fixtures/hostile-extra/index.json', import.meta.url)),
        'utf8',
      ),
    ) as { files: { path: string }[] };
    paths.push(...extra.files.map((f) => f.path));
    const flagged: string[] = [];
    for (const p of paths) {
      const r = decodes(log, '11 benign not flagged', p, () =>
        scan(readFixtureBytes(p), { decompress: scanDecompress }),
      );
      if (r.dangerous)
        flagged.push(
          `${p}: ${r.globals
            .filter((g) => g.severity === 'dangerous')
            .map((g) => `${g.module}.${g.name}`)
            .join(', ')}`,
        );
    }
    expect(flagged).toEqual([]);
    expect(paths.length).toBeGreaterThan(2000);
  });
});
