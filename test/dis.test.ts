// disassemble() against pickletools: the fixtures' .dis.txt files (pickletools.dis output, which is
// what `python -m pickletools FILE` prints), pickletools' own errors for the fixtures it rejects,
// and hand-made Python 2 / malformed streams compared live with Python; the same through the reader
// that reads in pieces; joblib streams against where joblib itself reads each array.
import { execaSync } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decompressJoblib } from '../src/joblib/compress.js';
import { OPCODE_BY_CODE } from '../src/opcodes.js';
import {
  disassemble,
  disassembleTo,
  DisassemblyError,
  memoryReader,
  type DisassembleOptions,
  type OpReader,
} from '../src/tools/dis.js';
import { disassembleJoblib, sourceReader, type ByteSource } from '../src/tools/dis-joblib.js';
import { genops } from '../src/tools/genops.js';
import { describeWithPython, runPython } from './helpers/python.js';

const ROOT = fileURLToPath(new URL('../fixtures/', import.meta.url));

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function firstDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((l, k) => l !== y[k]);
  return `line ${i}: ours ${JSON.stringify(x[i])} python ${JSON.stringify(y[i])}`;
}

type Outcome = { out: string; error?: string };

function ours(data: Uint8Array, opts: { all?: boolean; indent?: number; annotate?: number } = {}): Outcome {
  try {
    return { out: disassemble(data, { all: opts.all, indentLevel: opts.indent, annotate: opts.annotate }) };
  } catch (e) {
    if (e instanceof DisassemblyError) return { out: e.output, error: e.pythonMessage };
    throw e;
  }
}

const LIVE = String.raw`
import io, json, pickletools, sys
res = []
for c in json.load(sys.stdin):
    data = bytes.fromhex(c['hex'])
    f = io.BytesIO(data)
    out = io.StringIO()
    r = {}
    try:
        while True:
            pickletools.dis(f, out=out, indentlevel=c.get('indent', 4), annotate=c.get('annotate', 0))
            if not c.get('all') or f.tell() >= len(data):
                break
    except Exception as e:
        r['error'] = str(e)
    r['out'] = out.getvalue()
    res.append(r)
docs = {op.code.encode('latin-1')[0]: op.doc.split('\n', 1)[0] for op in pickletools.opcodes}
sys.stdout.write(json.dumps({'results': res, 'docs': docs}))
`;

interface LiveCase {
  name: string;
  bytes: Uint8Array;
  all?: boolean;
  indent?: number;
  annotate?: number;
}

function runLive(python: string, cases: LiveCase[]): { results: Outcome[]; docs: Record<string, string> } {
  const input = JSON.stringify(
    cases.map((c) => ({
      hex: Buffer.from(c.bytes).toString('hex'),
      all: c.all,
      indent: c.indent,
      annotate: c.annotate,
    })),
  );
  return JSON.parse(execaSync(python, ['-I', '-c', LIVE], { input }).stdout);
}

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

// Python 2 era streams (protocol 0/1 opcodes CPython 3 never writes) and edge-case arguments.
const PY2: LiveCase[] = [
  { name: 'p0 list of py2 str/int/long/float', bytes: b("(lp0\nS'abc'\np1\naI12\naL123L\naF1.5\na.") },
  { name: 'INST with dict state', bytes: b("(i__main__\nFoo\np0\n(dp1\nS'x'\np2\nI1\nsb.") },
  { name: 'OBJ protocol 1', bytes: b('(c__main__\nFoo\nq\x00o}q\x01U\x01xK\x01sb.') },
  { name: 'DUP', bytes: b(']2a.') },
  { name: 'PUT/GET', bytes: b('(lp0\ng0\na.') },
  { name: 'LONG with L', bytes: b('L12345678901234567890L\n.') },
  { name: 'LONG without L, negative', bytes: b('L-7\n.') },
  { name: 'STRING escapes', bytes: b("S'a\\'b\\x00\\n\\t\\\\\\101\\q'\n.") },
  { name: 'STRING double quotes', bytes: b('S"it\'s"\n.') },
  { name: 'STRING one quote char', bytes: b('S"\n.') },
  { name: 'UNICODE escapes', bytes: b('Vcaf\\u00e9 \\ud800\\udc00 \\U0001f600 \\\\u0041 \xe9\n.') },
  { name: 'INT bools and spacing', bytes: b('(I01\nI00\nI 42 \nI1_000\nI-0\nt.') },
  { name: 'FLOAT forms', bytes: b('(F1e+100\nFinf\nF-nan\nF1_0.5\nF-0.0\nF 2.5\nF1e-05\nt.') },
  { name: 'PUT 01 is memo key True == 1', bytes: b('(lp01\ng1\na.') },
  { name: 'BINSTRING / SHORT_BINSTRING', bytes: b('(U\x03abcT\x02\x00\x00\x00hiU\x02\xe9\xfft.') },
  { name: 'GLOBAL with escape', bytes: b('cos\\x2epath\njoin\n.') },
  { name: 'PERSID', bytes: b('P123\n.') },
  { name: 'BINPERSID and EXT', bytes: b('(K\x01Q\x82\x01\x83\x01\x02\x84\xff\xff\xff\xfft.') },
  {
    name: 'copy_reg reconstructor p0',
    bytes: b(
      "ccopy_reg\n_reconstructor\np0\n(c__main__\nC\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nS'a'\np6\nI1\nsb.",
    ),
  },
  { name: 'POP of a MARK', bytes: b('(0N.') },
  { name: 'recursive tuple p1', bytes: b('(]q\x00(h\x00tq\x01a1h\x01.') },
  {
    name: 'all protocol-2 singletons',
    bytes: b('\x80\x02(\x88\x89N\x8a\x00\x8a\x02\xff\x7f\x8b\x01\x00\x00\x00\x80t.'),
  },
  {
    name: 'BINFLOAT specials',
    bytes: b(
      '(G\x7f\xf8\x00\x00\x00\x00\x00\x00G\x80\x00\x00\x00\x00\x00\x00\x00G\x00\x00\x00\x00\x00\x00\x00\x01t.',
    ),
  },
  { name: 'protocol 5 buffers', bytes: b('\x80\x05(\x97\x98\x96\x03\x00\x00\x00\x00\x00\x00\x00a\'"t.') },
  {
    name: 'FRAME and BINUNICODE8',
    bytes: b('\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00\x8d\x01\x00\x00\x00\x00\x00\x00\x00x\x94.'),
  },
  { name: 'deep marks', bytes: b('(((N1N1N1N.') },
  { name: 'two pickles, all', bytes: b('\x80\x02]q\x00K\x01a.\x80\x04K\x02.'), all: true },
  { name: 'two pickles, CLI view', bytes: b('\x80\x02]q\x00K\x01a.\x80\x04K\x02.') },
  { name: 'indent 2', bytes: b('((lp0\nI1\natp1\n.'), indent: 2 },
  { name: 'indent 0', bytes: b('((lp0\nI1\natp1\n.'), indent: 0 },
];

// Streams pickletools rejects: its message and the text it prints before raising.
const BAD: LiveCase[] = [
  { name: 'empty', bytes: b('') },
  { name: 'no STOP', bytes: b('N') },
  { name: 'unknown opcode', bytes: b('N\xff') },
  { name: 'unknown opcode 0x00', bytes: b('\x00') },
  { name: 'truncated unicodestring4', bytes: b('X\x05\x00\x00\x00ab') },
  { name: 'truncated bytes4', bytes: b('\x80\x03B\xff\xff\xff\xff') },
  { name: 'bytes8 over sys.maxsize', bytes: b('\x8e\xff\xff\xff\xff\xff\xff\xff\xff') },
  { name: 'bytearray8 too long', bytes: b('\x96\x10\x00\x00\x00\x00\x00\x00\x00ab') },
  { name: 'truncated uint1', bytes: b('K') },
  { name: 'truncated uint8', bytes: b('\x95\x01\x02') },
  { name: 'truncated float8', bytes: b('G\x01\x02') },
  { name: 'truncated long1', bytes: b('\x8a\x05\x01') },
  { name: 'negative long4', bytes: b('\x8b\xff\xff\xff\xff') },
  { name: 'negative string4', bytes: b('T\xfe\xff\xff\xff') },
  { name: 'no newline', bytes: b('I12') },
  { name: 'bad int', bytes: b('Iabc\n.') },
  { name: 'bad long', bytes: b('L1.5L\n.') },
  { name: 'bad float', bytes: b('Fxyz\n.') },
  { name: 'unbalanced quote', bytes: b("S'abc\n.") },
  { name: 'unbalanced double quote', bytes: b('S"abc\'\n.') },
  { name: 'no quotes', bytes: b('Sabc\n.') },
  { name: 'bad \\x escape', bytes: b("S'\\x4'\n.") },
  { name: 'trailing backslash', bytes: b("S'abc\\'\n.") },
  { name: 'STRING non-ASCII escape', bytes: b("S'\\xe9'\n.") },
  { name: 'GLOBAL non-ASCII', bytes: b('c\xc3\xa9\nx\n.') },
  { name: 'TUPLE without MARK', bytes: b('t.') },
  { name: 'GET before PUT', bytes: b('N0h\x00.') },
  { name: 'memo redefined', bytes: b('Nq\x00q\x00.') },
  { name: 'MEMOIZE over a PUT key', bytes: b('\x80\x04Nq\x01\x94.') },
  { name: 'PUT of a MARK', bytes: b('(q\x00.') },
  { name: 'PUT on empty stack', bytes: b('q\x00.') },
  { name: 'APPEND underflow', bytes: b('a.') },
  { name: 'stack not empty', bytes: b('NN.') },
  { name: 'stack not empty, several', bytes: b(']K\x01\x88.') },
  { name: 'mark popped by TUPLE1', bytes: b('(\x85t.') },
  { name: 'bad UTF-8', bytes: b('\x80\x04\x8c\x02\xff\xfe.') },
  { name: 'truncated UTF-8', bytes: b('\x8c\x03ab\xc3.') },
  { name: 'surrogate half at end', bytes: b('X\x02\x00\x00\x00\xed\xa0.') },
  { name: 'bad raw-unicode-escape', bytes: b('V\\u12\n.') },
  { name: 'raw-unicode-escape out of range', bytes: b('Vab\\\\\\U0011ffff\n.') },
  {
    name: 'int over 4300 digits (LONG4 repr)',
    bytes: Buffer.concat([b('\x8b\xd0\x07\x00\x00'), Buffer.alloc(2000, 0x11), b('.')]),
  },
  { name: 'int over 4300 digits (text)', bytes: b('L' + '7'.repeat(5000) + '\n.') },
];

describe('disassemble: fixtures', () => {
  const pairs = walk(ROOT)
    .filter((f) => f.endsWith('.pkl') && fs.existsSync(f.replace(/\.pkl$/, '.dis.txt')))
    .sort();

  test('fixtures with pickletools text exist', () => {
    expect(pairs.length).toBeGreaterThan(100);
  });

  test('every fixture disassembles exactly as pickletools', () => {
    const failures: string[] = [];
    for (const f of pairs) {
      const want = fs.readFileSync(f.replace(/\.pkl$/, '.dis.txt'), 'utf8');
      const got = ours(fs.readFileSync(f));
      if (got.error !== undefined) failures.push(`${f}: threw ${got.error}`);
      else if (got.out !== want) failures.push(`${f}: ${firstDiff(got.out, want)}`);
    }
    expect(failures).toEqual([]);
  });

  test('fixtures pickletools rejects fail with pickletools’ message', () => {
    const index = path.join(ROOT, 'index.json');
    const rejected: [string, string][] = [];
    if (fs.existsSync(index)) {
      const entries = JSON.parse(fs.readFileSync(index, 'utf8')).fixtures as {
        files: { path: string; dis?: string | null; dis_error?: string }[];
      }[];
      for (const e of entries)
        for (const f of e.files) if (f.dis === null && f.dis_error) rejected.push([f.path, f.dis_error]);
    }
    expect(rejected.length).toBeGreaterThan(0);
    for (const [p, err] of rejected) {
      const full = path.join(ROOT, p);
      if (!fs.existsSync(full)) continue;
      const got = ours(fs.readFileSync(full));
      // The index keeps "ExceptionType: message".
      expect(`${p}: ${err.slice(err.indexOf(': ') + 2)}`).toBe(`${p}: ${got.error}`);
    }
  });
});

describeWithPython('disassemble: live against Python', (python) => {
  test('`python -m pickletools FILE` prints the same text (sample, incl. a multi-pickle file)', () => {
    const pairs = walk(ROOT)
      .filter((f) => f.endsWith('.pkl') && fs.existsSync(f.replace(/\.pkl$/, '.dis.txt')))
      .sort();
    const sample = pairs.filter((f, i) => /multi|py2|raw_p0/.test(f) || i % 97 === 0).slice(0, 12);
    expect(sample.length).toBeGreaterThan(3);
    for (const f of sample) {
      const cli = execaSync(python, ['-I', '-m', 'pickletools', f], { stripFinalNewline: false }).stdout;
      expect(ours(fs.readFileSync(f)).out).toBe(cli);
    }
  });

  const cases = [...PY2, ...BAD];
  const live = runLive(python, cases);

  test.each(PY2.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = PY2[i] as LiveCase;
    const want = live.results[i] as Outcome;
    expect(want.error).toBeUndefined();
    expect(ours(c.bytes, c)).toEqual(want);
  });

  test.each(BAD.map((c, i) => [c.name, i] as const))('rejects: %s', (_name, i) => {
    const c = BAD[i] as LiveCase;
    const want = live.results[PY2.length + i] as Outcome;
    expect(want.error).toBeDefined();
    expect(ours(c.bytes, c)).toEqual(want);
  });

  test('annotations start in the column pickletools uses (descriptions are our own wording)', () => {
    const files = walk(ROOT)
      .filter((f) => f.endsWith('.pkl') && fs.existsSync(f.replace(/\.pkl$/, '.dis.txt')))
      .filter((_, i) => i % 53 === 0)
      .slice(0, 15);
    const streams = files.map((f) => ({ name: f, bytes: new Uint8Array(fs.readFileSync(f)), annotate: 30 }));
    const res = runLive(python, streams);
    streams.forEach((s, k) => {
      const py = (res.results[k] as Outcome).out.split('\n');
      const mine = disassemble(s.bytes, { annotate: 30 }).split('\n');
      const ops = [...genops(s.bytes)];
      expect(mine.length).toBe(py.length);
      ops.forEach((g, j) => {
        const pyDoc = res.docs[String(g.op.code)] as string;
        const ourDoc = (OPCODE_BY_CODE[g.op.code]?.doc ?? '').split('\n', 1)[0] as string;
        expect((mine[j] as string).slice(0, -ourDoc.length)).toBe((py[j] as string).slice(0, -pyDoc.length));
      });
    });
  });
});

describe('genops', () => {
  test('stops after STOP and reports positions and argument ends', () => {
    const data = b('\x80\x04K\x05\x8c\x02hi\x86.trailing');
    const ops = [...genops(data)];
    expect(ops.map((o) => [o.op.name, o.arg, o.pos, o.end])).toEqual([
      ['PROTO', 4, 0, 2],
      ['BININT1', 5, 2, 4],
      ['SHORT_BINUNICODE', 'hi', 4, 8],
      ['TUPLE2', undefined, 8, 9],
      ['STOP', undefined, 9, 10],
    ]);
    expect([...genops(data, 2)].map((o) => o.op.name)).toEqual([
      'BININT1',
      'SHORT_BINUNICODE',
      'TUPLE2',
      'STOP',
    ]);
  });

  test('length-prefixed arguments are checked before use (no allocation of the claimed size)', () => {
    // 2^62 bytes claimed: must fail fast with pickletools' message, not try to allocate.
    const data = b('\x8e\x00\x00\x00\x00\x00\x00\x00\x40');
    expect(() => [...genops(data)]).toThrow(
      /expected 4611686018427387904 bytes in a bytes8, but only 0 remain/,
    );
  });

  test('bytes arguments are views into the input', () => {
    const data = b('C\x03abc.');
    const [first] = genops(data);
    expect(first?.arg).toBeInstanceOf(Uint8Array);
    expect((first?.arg as Uint8Array).buffer).toBe(data.buffer);
  });
});

// ---------------------------------------------------------------------------------------------
// Reading in pieces, and joblib streams (src/tools/dis-joblib.ts)
// ---------------------------------------------------------------------------------------------

/** `data` as a ByteSource that hands out copies (as a file read does). */
function sourceOf(data: Uint8Array): ByteSource {
  return { size: data.length, read: (pos, n) => data.slice(pos, pos + n) };
}

/** Listing and error through a reader (the whole text, as `ours` gives it). */
function through(reader: OpReader, joblib: boolean, opts: DisassembleOptions = {}): Outcome {
  const out: string[] = [];
  try {
    if (joblib) disassembleJoblib(reader, opts, (t) => out.push(t));
    else disassembleTo(reader, opts, (t) => out.push(t));
    return { out: out.join('') };
  } catch (e) {
    if (e instanceof DisassemblyError) return { out: out.join('') + e.output, error: e.pythonMessage };
    throw e;
  }
}

describe('disassemble: reading in pieces', () => {
  test('every fixture, through a 64-byte window that grows for long arguments: the same text and errors', () => {
    const files = walk(ROOT)
      .filter((f) => f.endsWith('.pkl'))
      .sort();
    expect(files.length).toBeGreaterThan(200);
    const failures: string[] = [];
    for (const f of files) {
      const data = new Uint8Array(fs.readFileSync(f));
      const want = ours(data, { all: true });
      const got = through(sourceReader(sourceOf(data), 64), false, { all: true });
      if (got.error !== want.error || got.out !== want.out)
        failures.push(`${f}: ${firstDiff(got.out, want.out)} ${got.error} / ${want.error}`);
      // Plain pickles are not changed by the joblib watcher.
      if (!want.error && !/joblib/.test(f)) {
        const j = through(memoryReader(data), true, { all: true });
        if (j.out !== want.out) failures.push(`${f} (joblib watcher): ${firstDiff(j.out, want.out)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test('an unknown opcode far into the stream is reported at its offset in the stream', () => {
    const data = b('\x80\x04' + '\x8c\x01a0'.repeat(5000) + '\x01.');
    const want = ours(data);
    expect(want.error).toBe(`at position ${2 + 4 * 5000}, opcode b'\\x01' unknown`);
    expect(through(sourceReader(sourceOf(data), 100), false)).toEqual(want);
  });
});

/**
 * Joblib files made by joblib.dump (arrays of 2-5 MB, an object array, a structured and a str array,
 * a Fortran-ordered one) and, from joblib's own reader, where each array's data lies: read_array is
 * wrapped to note the stream position before and after it reads. The opcodes Python sees are
 * pickletools.genops over the stream, jumping over each payload as joblib does.
 */
const JOBLIB_TRUTH = String.raw`
import io, json, pickletools, sys, zlib
import numpy as np, joblib
from joblib import numpy_pickle as NP

out = sys.argv[1]
r = np.random.RandomState(0)
value = {
    'a': np.arange(5, dtype='<f8'),
    'w1': r.rand(1000, 250),
    'w2': np.arange(1_250_000, dtype=np.int32),
    'w3': np.asfortranarray(r.rand(400, 1000)),
    'obj': np.array(['x', None, 3], dtype=object),
    'st': np.zeros(4, dtype=[('i', '<i4'), ('f', '<f8')]),
    'u': np.array(['ab', 'c']),
    'tail': [1, 2.5, {'k': (1,)}],
}
files = {'p4': 'v.joblib', 'zlib': 'v.z.joblib', 'p2': 'v.p2.joblib', 'p0': 'v.p0.joblib'}
joblib.dump(value, f'{out}/v.joblib')
joblib.dump(value, f'{out}/v.z.joblib', compress=3)
joblib.dump(value, f'{out}/v.p2.joblib', protocol=2)
joblib.dump(value, f'{out}/v.p0.joblib', protocol=0)

recorded = []
orig = NP.NumpyArrayWrapper.read_array
def read_array(self, unpickler, *args, **kwargs):
    start = unpickler.file_handle.tell()
    arr = orig(self, unpickler, *args, **kwargs)
    end = unpickler.file_handle.tell()
    obj = bool(arr.dtype.hasobject)
    recorded.append({'start': start, 'end': end, 'object': obj, 'nbytes': 0 if obj else int(arr.nbytes),
                     'dtype': str(arr.dtype) if arr.dtype.names else arr.dtype.name,
                     'shape': list(arr.shape), 'order': self.order})
    return arr
NP.NumpyArrayWrapper.read_array = read_array

res = {}
for key, name in files.items():
    recorded.clear()
    loaded = joblib.load(f'{out}/{name}')
    assert all(np.array_equal(loaded[k], value[k]) for k in value if k not in ('tail', 'obj'))
    with open(f'{out}/{name}', 'rb') as fh:
        data = fh.read()
    stream = zlib.decompress(data) if key == 'zlib' else data
    payloads = {p['start']: p for p in recorded}
    f = io.BytesIO(stream)
    ops = []
    nested = False
    while True:
        last = None
        for op, arg, pos in pickletools.genops(f):
            ops.append([pos, op.name])
            last = op.name
            p = payloads.get(pos + 1)
            if op.name == 'BUILD' and p is not None:
                if p['object']:
                    nested = True  # a pickle of its own follows; genops reads it through its STOP
                else:
                    f.seek(p['end'])
        if last == 'STOP' and nested:
            nested = False
            continue
        break
    # What pickletools prints before it stops at the first payload.
    text = io.StringIO()
    try:
        pickletools.dis(stream, out=text)
        error = None
    except ValueError as e:
        error = str(e)
    res[key] = {'file': f'{out}/{name}', 'ops': ops, 'payloads': recorded[:], 'pickletools': text.getvalue(), 'error': error}
print(json.dumps(res))
`;

interface Truth {
  file: string;
  ops: [number, string][];
  payloads: {
    start: number;
    end: number;
    object: boolean;
    nbytes: number;
    dtype: string;
    shape: number[];
    order: string;
  }[];
  pickletools: string;
  error: string | null;
}

/** What our listing says: opcode lines and payload lines, in order. */
function parseListing(text: string): { ops: [number, string][]; payloads: string[] } {
  const ops: [number, string][] = [];
  const payloads: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^ *(\d+): (?:\[(array payload: .*)\]|.{4} +([A-Z_0-9]+))/.exec(line);
    if (!m) continue;
    if (m[2] !== undefined) payloads.push(`${m[1]}: ${m[2]}`);
    else ops.push([Number(m[1]), m[3] as string]);
  }
  return { ops, payloads };
}

/** The payload line we expect for what joblib read. */
function expectedPayload(p: Truth['payloads'][number]): string {
  const shape = `(${p.shape.join(', ')}${p.shape.length === 1 ? ',' : ''})`;
  if (p.object)
    return `${p.start}: array payload: object ${shape}, a pickle of its own follows, through its STOP`;
  const dataAt = p.end - p.nbytes;
  const padding = dataAt > p.start ? `, padding ${dataAt - p.start - 1}` : '';
  return `${dataAt}: array payload: ${p.nbytes} bytes, ${p.dtype} ${shape}${p.order === 'F' ? ', order F' : ''}${padding}`;
}

describeWithPython('disassemble: joblib streams, checked against joblib and pickletools', () => {
  let dir = '';
  let truth: Record<string, Truth> = {};
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'picklejar-dis-'));
    truth = JSON.parse((await runPython(JOBLIB_TRUTH, [dir])).stdout) as Record<string, Truth>;
  }, 120_000);
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(['p4', 'zlib', 'p2', 'p0'])(
    '%s: every opcode joblib reads, one line per payload where joblib reads it, the rest as pickletools',
    (key) => {
      const t = truth[key] as Truth;
      expect(t.payloads).toHaveLength(7);
      const file = new Uint8Array(fs.readFileSync(t.file));
      const stream = key === 'zlib' ? (decompressJoblib(file) as Uint8Array) : file;
      const whole = through(memoryReader(stream), true);
      expect(whole.error).toBeUndefined();
      const listed = parseListing(whole.out);
      expect(listed.ops).toEqual(t.ops);
      expect(listed.payloads).toEqual(t.payloads.map(expectedPayload));
      expect(
        whole.out.endsWith(`highest protocol among opcodes = ${key === 'p0' ? 0 : key === 'p2' ? 2 : 4}\n`),
      ).toBe(true);
      // Up to the first payload, the text is pickletools' own, which stops there.
      expect(t.error).toMatch(/opcode .* unknown|unknown/);
      const firstPayload = whole.out.indexOf('[array payload');
      const cut = whole.out.lastIndexOf('\n', firstPayload) + 1;
      expect(whole.out.slice(0, cut)).toBe(t.pickletools);
      // Read in pieces (payloads skipped, windows reloaded): the same text.
      if (key !== 'zlib') expect(through(sourceReader(sourceOf(stream), 4096), true)).toEqual(whole);
      // Without the watcher it stops where pickletools stops, with pickletools' message.
      const plain = through(sourceReader(sourceOf(stream), 4096), false);
      expect(plain.error).toBe(t.error);
    },
  );
});
