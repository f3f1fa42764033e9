// The security scanner: every benign fixture of every family is not dangerous; every hostile
// fixture (scripts/fixtures_dis.py, dumped by Python, never loaded) is flagged with the expected
// module / name / offset / opcode / use / severity.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { classifyGlobal, scan, scanStream, type ScanReport } from '../src/tools/scan/index.js';

const ROOT = fileURLToPath(new URL('../fixtures/', import.meta.url));

interface IndexEntry {
  family: string;
  files: { path: string; kind: string }[];
}

function indexFiles(): { path: string; kind: string; family: string }[] {
  const p = path.join(ROOT, 'index.json');
  if (!fs.existsSync(p)) return [];
  const entries = JSON.parse(fs.readFileSync(p, 'utf8')).fixtures as IndexEntry[];
  return entries.flatMap((e) => e.files.map((f) => ({ ...f, family: e.family })));
}

interface Finding {
  module: string;
  name: string;
  offset: number;
  opcode: string;
  use: string;
  severity: string;
  pickle: number;
}
interface HostileCase {
  path: string;
  dangerous: boolean;
  findings: Finding[];
  decompress?: string;
}

function hostileCases(): [string, HostileCase][] {
  const dir = path.join(ROOT, 'hostile');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { cases: HostileCase[] };
      return meta.cases.map((c) => [c.path, c] as [string, HostileCase]);
    });
}

const read = (rel: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(ROOT, rel)));
const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('benign fixtures (every family) are not dangerous', () => {
  const files = indexFiles().filter(
    (f) => f.family !== 'hostile' && (f.kind === 'pickle' || f.kind === 'joblib'),
  );

  test('there are benign fixtures from several families', () => {
    expect(files.length).toBeGreaterThan(500);
    expect(new Set(files.map((f) => f.family)).size).toBeGreaterThanOrEqual(2);
  });

  test('no benign fixture is dangerous, and those we can open scan without errors', () => {
    const problems: string[] = [];
    for (const f of files) {
      const r = scan(read(f.path));
      if (r.dangerous) {
        const bad = r.globals.filter((g) => g.severity === 'dangerous');
        problems.push(
          `${f.path}: dangerous ${bad.map((g) => `${g.module}.${g.name} (${g.reason})`).join(', ')}`,
        );
      }
      if (r.errors.length > 0) problems.push(`${f.path}: ${r.errors.join('; ')}`);
      if (r.pickles < 1) problems.push(`${f.path}: no complete pickle`);
    }
    expect(problems).toEqual([]);
  });

  test('negative controls in fixtures/hostile (numpy, pandas, sklearn, scipy, joblib) are not dangerous', () => {
    const benign = hostileCases().filter(([, c]) => !c.dangerous && c.findings.length === 0);
    expect(benign.length).toBeGreaterThan(15);
    for (const [p, c] of benign) {
      const r = scan(read(p));
      expect({ p, dangerous: r.dangerous, errors: r.errors }).toEqual({ p, dangerous: false, errors: [] });
      if (c.decompress !== undefined) expect(r.compression).toBe(c.decompress);
    }
  });

  test('the allow-list covers the ML stack: no unknown globals in the sklearn/pandas/numpy/joblib controls', () => {
    const unknown = new Set<string>();
    for (const [p] of hostileCases().filter(([p]) => /benign_(sklearn|pandas|numpy|joblib|scipy)/.test(p))) {
      for (const g of scan(read(p)).globals) {
        if (g.severity !== 'safe') unknown.add(`${g.module}.${g.name}`);
      }
    }
    expect([...unknown].sort()).toEqual([]);
  });
});

describe('hostile fixtures are flagged', () => {
  const cases = hostileCases().filter(([, c]) => c.findings.length > 0);

  test('hostile fixtures exist', () => {
    expect(cases.length).toBeGreaterThan(25);
  });

  test.each(cases)('%s', (p, c) => {
    const r = scan(read(p));
    expect(r.dangerous).toBe(c.dangerous);
    expect(r.errors).toEqual([]);
    for (const want of c.findings) {
      const got = r.globals.find((g) => g.offset === want.offset && g.module === want.module);
      expect(got, `no global ${want.module}.${want.name} at ${want.offset}`).toBeDefined();
      expect({
        module: got?.module,
        name: got?.name,
        offset: got?.offset,
        opcode: got?.opcode,
        use: got?.use,
        severity: got?.severity,
        pickle: got?.pickle,
      }).toEqual(want);
    }
    if (c.decompress !== undefined) expect(r.compression).toBe(c.decompress);
  });

  test('the joblib padding trick is reported as reachable through pickle.load', () => {
    const r = scan(read('hostile/joblib_padding_differential.joblib'));
    const hit = r.globals.find((g) => g.module === 'posix' && g.name === 'system');
    expect(hit?.reason).toMatch(/pickle\.load/);
    expect(r.arrays).toBe(1);
  });

  test('the malicious second pickle is attributed to pickle 1', () => {
    const r = scan(read('hostile/second_pickle.p4.pkl'));
    expect(r.pickles).toBe(2);
    expect(r.globals.filter((g) => g.severity === 'dangerous').map((g) => g.pickle)).toEqual([1]);
  });
});

describe('scanner behaviour', () => {
  test('getattr used to reach a method at protocol < 4 (zoneinfo) is graded by what it reaches', () => {
    const r = scan(read('hostile/benign_stdlib.p2.pkl'));
    const ga = r.globals.find((g) => g.name === 'getattr');
    expect(ga).toMatchObject({
      module: '__builtin__',
      use: 'called',
      severity: 'safe',
      resolved: 'builtins.getattr',
    });
    expect(ga?.reason).toMatch(/zoneinfo\.ZoneInfo\._unpickle/);
  });

  test('a safe class patched with BUILD and then called stays dangerous', () => {
    const r = scanStream(b('\x80\x02ccollections\nOrderedDict\nq\x00(N}X\x01\x00\x00\x00xK\x01stb0h\x00)R.'));
    expect(r.globals).toMatchObject([{ name: 'OrderedDict', use: 'called', severity: 'dangerous' }]);
    expect(r.globals[0]?.reason).toMatch(/BUILD sets attributes/);
  });

  test('getattr passed around as data is dangerous', () => {
    const r = scanStream(b('\x80\x02c__builtin__\ngetattr\n\x85.'));
    expect(r.globals).toMatchObject([{ name: 'getattr', use: 'referenced', severity: 'dangerous' }]);
    expect(r.dangerous).toBe(true);
  });

  test('getattr with a computed target is dangerous', () => {
    // getattr(str(1), 'join')
    const r = scanStream(
      b('\x80\x02c__builtin__\ngetattr\nc__builtin__\nstr\nK\x01\x85RX\x04\x00\x00\x00join\x86R.'),
    );
    expect(r.globals.find((g) => g.name === 'getattr')?.severity).toBe('dangerous');
  });

  test('trailing bytes after the last pickle are an error, not a crash', () => {
    const r = scanStream(b('\x80\x04K\x01.\x00\x00'));
    expect(r.pickles).toBe(1);
    expect(r.complete).toBe(false);
    expect(r.errors).toEqual([
      "offset 5: 2 trailing bytes after the last pickle are not a pickle (offset 5: at position 5, opcode b'\\x00' unknown)",
    ]);
  });

  test('several pickles: counted, highest protocol reported', () => {
    const r = scanStream(b('(lp0\nI1\na.\x80\x02K\x01.\x80\x05\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x02.'));
    expect([r.pickles, r.protocol, r.errors, r.dangerous]).toEqual([3, 5, [], false]);
  });

  test('a truncated stream reports where it ends and keeps the globals seen so far', () => {
    const r = scanStream(b('\x80\x02cos\nsystem\nX\x02\x00\x00\x00i'));
    expect(r.complete).toBe(false);
    expect(r.errors[0]).toMatch(/offset 13: expected 2 bytes in a unicodestring4, but only 1 remain/);
    expect(r.globals).toMatchObject([{ module: 'os', name: 'system', severity: 'dangerous' }]);
  });

  test('compressed input is scanned through the joblib decompressor', () => {
    const r = scan(zlib.deflateSync(Buffer.from('\x80\x02cos\nsystem\n.', 'latin1')));
    expect(r).toMatchObject({ dangerous: true, complete: true, compression: 'zlib', pickles: 1 });
    expect(r.globals[0]).toMatchObject({ module: 'os', name: 'system', offset: 2 });
  });

  test('compressed input that cannot be opened is not reported clean', () => {
    const data = zlib.deflateSync(Buffer.from('\x80\x04K\x01.', 'latin1'));
    const none = scan(data, { decompress: () => undefined });
    expect(none).toMatchObject({ dangerous: false, complete: false, compression: 'zlib', pickles: 0 });
    expect(none.errors[0]).toMatch(/zlib-compressed; no decompressor was available/);
    const corrupt = scan(data.subarray(0, 6));
    expect(corrupt).toMatchObject({ complete: false, compression: 'zlib' });
    expect(corrupt.errors[0]).toMatch(/decompression failed/);
  });

  test('a decompression bomb stops at the cap', () => {
    const bomb = path.join(ROOT, 'joblib/bomb64m.zlib');
    expect(fs.existsSync(bomb)).toBe(true);
    const r = scan(read('joblib/bomb64m.zlib'), { maxBytes: 1 << 20 });
    expect(r.complete).toBe(false);
    expect(r.errors[0]).toMatch(/exceeds/);
  });

  test('Python 2 STRING with non-ASCII bytes does not stop the scan (the unpickler reads it as latin-1)', () => {
    const r = scanStream(b("S'\\xe9'\n0cos\nsystem\n."));
    expect(r.errors).toEqual([]);
    expect(r.globals[0]).toMatchObject({ module: 'os', name: 'system', severity: 'dangerous' });
  });

  test('GLOBAL lines are read raw (as the unpickler does), not escape-decoded', () => {
    const r = scanStream(b('co\\x73\nsystem\n.'));
    expect(r.globals[0]).toMatchObject({ module: 'o\\x73', name: 'system' });
  });

  test('model errors are recorded and walking continues', () => {
    // REDUCE on an empty stack, then a dangerous global.
    const r = scanStream(b('Rcos\nsystem\n.'));
    expect(r.errors[0]).toMatch(/offset 0 \(REDUCE\): stack underflow/);
    expect(r.dangerous).toBe(true);
  });

  test('scan never throws on damaged input', () => {
    const sources = hostileCases()
      .map(([p]) => p)
      .filter((p, i) => i % 3 === 0)
      .map(read);
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let runs = 0;
    for (const src of sources) {
      for (let k = 0; k < 40; k++) {
        const m = new Uint8Array(src);
        const flips = 1 + rnd(4);
        for (let j = 0; j < flips; j++) m[rnd(m.length)] = rnd(256);
        const cut = rnd(3) === 0 ? m.subarray(0, rnd(m.length + 1)) : m;
        const r: ScanReport = scan(cut);
        expect(typeof r.dangerous).toBe('boolean');
        runs++;
      }
    }
    expect(runs).toBeGreaterThan(200);
  });
});

describe('classification', () => {
  const grade = (m: string, n: string, use?: 'called' | 'referenced' | 'built'): string =>
    classifyGlobal(m, n, use).severity;

  test.each([
    ['builtins', 'eval', 'dangerous'],
    ['__builtin__', 'eval', 'dangerous'],
    ['__builtin__', 'set', 'safe'],
    ['__builtin__', 'xrange', 'safe'],
    ['exceptions', 'ValueError', 'safe'],
    ['builtins', 'ZeroDivisionError', 'safe'],
    ['builtins', 'print', 'unknown'],
    ['os', 'system', 'dangerous'],
    ['posix', 'system', 'dangerous'],
    ['nt', 'system', 'dangerous'],
    ['os.path', 'join', 'dangerous'],
    ['subprocess', 'Popen', 'dangerous'],
    ['commands', 'getoutput', 'dangerous'],
    ['osgeo', 'gdal', 'unknown'],
    ['socket', 'create_connection', 'dangerous'],
    ['urllib.request', 'urlopen', 'dangerous'],
    ['webbrowser', 'open', 'dangerous'],
    ['_pickle', 'loads', 'dangerous'],
    ['cPickle', 'loads', 'dangerous'],
    ['dill', 'loads', 'dangerous'],
    ['joblib', 'load', 'dangerous'],
    ['joblib.numpy_pickle', 'NumpyArrayWrapper', 'safe'],
    ['sklearn.externals.joblib.numpy_pickle', 'NumpyArrayWrapper', 'safe'],
    ['torch', 'load', 'dangerous'],
    ['torch._utils', '_rebuild_tensor_v2', 'safe'],
    ['torch', 'FloatStorage', 'safe'],
    ['torch', 'float32', 'safe'],
    ['yaml', 'load', 'dangerous'],
    ['yaml', 'safe_load', 'dangerous'],
    ['shelve', 'open', 'dangerous'],
    ['marshal', 'loads', 'dangerous'],
    ['types', 'CodeType', 'dangerous'],
    ['types', 'FunctionType', 'dangerous'],
    ['types', 'SimpleNamespace', 'safe'],
    ['ctypes', 'CDLL', 'dangerous'],
    ['operator', 'attrgetter', 'dangerous'],
    ['operator', 'itemgetter', 'unknown'],
    ['functools', 'partial', 'safe'],
    ['importlib', 'import_module', 'dangerous'],
    ['runpy', 'run_path', 'dangerous'],
    ['pydoc', 'locate', 'dangerous'],
    ['sys', 'modules', 'dangerous'],
    ['io', 'open', 'dangerous'],
    ['io', 'BytesIO', 'unknown'],
    ['pathlib', 'PosixPath', 'safe'],
    ['pathlib', 'Path.write_text', 'dangerous'],
    ['shutil', 'rmtree', 'dangerous'],
    ['numpy', 'load', 'dangerous'],
    ['numpy.testing._private.utils', 'runstring', 'dangerous'],
    ['numpy', 'testing._private.utils.runstring', 'dangerous'],
    ['numpy.core.multiarray', '_reconstruct', 'safe'],
    ['numpy._core.multiarray', '_reconstruct', 'safe'],
    ['numpy', 'core.multiarray._reconstruct', 'safe'],
    ['numpy.core.numeric', '_frombuffer', 'safe'],
    ['numpy', 'dtype', 'safe'],
    ['numpy', 'float64', 'safe'],
    ['numpy.random._pickle', '__randomstate_ctor', 'safe'],
    ['sklearn.linear_model._base', 'LinearRegression', 'safe'],
    ['sklearn.utils._testing', 'assert_run_python_script', 'dangerous'],
    ['sklearn.tree._classes', 'DecisionTreeClassifier.fit', 'unknown'],
    ['pandas.core.frame', 'DataFrame', 'safe'],
    ['pandas.core.frame', 'DataFrame.to_pickle', 'dangerous'],
    ['pandas', 'read_pickle', 'dangerous'],
    ['pandas', 'read_csv', 'dangerous'],
    ['pandas.core.computation.eval', 'eval', 'dangerous'],
    ['pandas._libs.internals', '_unpickle_block', 'safe'],
    ['scipy.sparse._csr', 'csr_matrix', 'safe'],
    ['scipy.sparse.csr', 'csr_matrix', 'safe'],
    ['collections', 'OrderedDict', 'safe'],
    ['collections', 'namedtuple', 'unknown'],
    ['copy_reg', '_reconstructor', 'safe'],
    ['copyreg', '__newobj__', 'safe'],
    ['_codecs', 'encode', 'safe'],
    ['datetime', 'datetime', 'safe'],
    ['decimal', 'Decimal', 'safe'],
    ['uuid', 'UUID', 'safe'],
    ['zoneinfo', 'ZoneInfo._unpickle', 'safe'],
    ['builtins', 'object.__subclasses__', 'dangerous'],
    ['mymodule', '__dict__', 'dangerous'],
    ['__main__', 'MyModel', 'unknown'],
    ['mymodule', 'Model.save', 'dangerous'],
  ])('%s.%s is %s', (m, n, want) => {
    expect(grade(m, n)).toBe(want);
  });

  test('use changes the grade where it matters', () => {
    expect(grade('numpy', 'memmap', 'referenced')).toBe('safe');
    expect(grade('numpy', 'memmap', 'called')).toBe('dangerous');
    expect(grade('collections', 'OrderedDict', 'built')).toBe('dangerous');
  });
});
