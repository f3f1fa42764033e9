/**
 * The README's library tour, run against the shipped examples, and its CLI section's output blocks,
 * run as the commands they name: the front door must not lie.
 */
import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execute, plan } from '../src/cli/run.js';
import { makeStyle } from '../src/cli/style.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithPython, runPython } from './helpers/python.js';
import {
  load,
  loads,
  loadsAll,
  dumps,
  disassemble,
  scan,
  toJsonPickle,
  fromJsonPickle,
  NDArray,
  PyObject,
  Tuple,
  DataFrame,
  PyDateTime,
  Tensor,
  isLoaded,
  UnpicklingError,
} from '../src/index.js';

describe('README tour', () => {
  it('reads the scikit-learn pipeline example', async () => {
    const pipe = (await load('examples/model.joblib')) as PyObject;
    expect(pipe.__qualname__).toBe('sklearn.pipeline.Pipeline');
    const [[name1, scaler], [name2, clf]] = pipe['steps'] as Tuple[];
    expect([name1, name2]).toEqual(['scaler', 'clf']);
    expect((scaler as PyObject).__qualname__).toBe('sklearn.preprocessing._data.StandardScaler');
    const coef = (clf as PyObject)['coef_'] as NDArray;
    expect(coef).toBeInstanceOf(NDArray);
    expect(coef.shape).toEqual([1, 3]);
    expect(coef.dtype.str).toBe('<f8');
    const nested = coef.toNested() as number[][];
    expect(nested[0]?.map((x) => Number(x.toFixed(5)))).toEqual([2.69163, 1.46566, 0.44896]);
  });

  it('reads the data example: DataFrame, datetime, array, tuple, int-keyed dict', () => {
    const data = loads(new Uint8Array(readFileSync('examples/data.pkl'))) as Record<string, unknown>;
    const df = data['frame'] as DataFrame;
    expect(df).toBeInstanceOf(DataFrame);
    expect(df.columns).toEqual(['city', 'temp', 'visits']);
    expect(df.column('temp')).toEqual([12.5, -3, 19.25]);
    expect(df.toRecords()[0]).toEqual({ city: 'Lyon', temp: 12.5, visits: 3 });
    expect((data['created'] as PyDateTime).isoformat()).toBe('2024-05-17T09:30:00.123456');
    expect(data['tags']).toBeInstanceOf(Tuple);
    expect((data['readings'] as NDArray).shape).toEqual([3, 4]);
    expect(data['flags']).toEqual(
      new Map([
        [1, true],
        [2, false],
      ]),
    );
  });

  it('the one-liners do what the tour says', () => {
    const bytes = dumps({ a: [1, 2.5, 'x'] }, { protocol: 4 });
    expect(loads(bytes)).toEqual({ a: [1, 2.5, 'x'] });
    expect(loadsAll(new Uint8Array([...bytes, ...bytes]))).toHaveLength(2);
    expect(loads(new Uint8Array([0x80, 0x04, 0x4b, 0x2a, 0x2e]))).toBe(42);
    expect(loads(bytes, { lossless: true })).toEqual(new Map([['a', [1n, 2.5, 'x']]]));
    expect(disassemble(bytes)).toContain('highest protocol among opcodes = 4');
    expect(scan(bytes).dangerous).toBe(false);
    expect(fromJsonPickle(toJsonPickle(loads(bytes, { lossless: true })), { lossless: true })).toEqual(
      new Map([['a', [1n, 2.5, 'x']]]),
    );
  });
});

/** Shell-like words: spaces separate, single or double quotes group. */
function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? (m[3] as string));
  return out;
}

/** Run a README command line (`picklejar …`, optionally `| sed -n 'A,Bp'`) in this process. */
async function runReadmeCommand(line: string): Promise<{ code: number; stdout: string }> {
  const [command, ...pipes] = line.replace(/\s*2>\/dev\/null/, '').split(' | ');
  const argv = words(command as string).slice(1);
  const p = plan(argv);
  if (p.kind !== 'run') return { code: 0, stdout: p.text };
  const out: string[] = [];
  const code = await execute(p, {
    out: (c) => void out.push(typeof c === 'string' ? c : Buffer.from(c).toString('latin1')),
    err: () => undefined,
    status: () => undefined,
    stdin: async () => new Uint8Array(0),
    stdoutIsTTY: false,
    columns: undefined,
    style: makeStyle(false),
    debug: false,
  });
  let stdout = out.join('');
  for (const pipe of pipes) {
    const m = /^sed -n '(\d+),(\d+)p'$/.exec(pipe);
    if (!m) throw new Error(`README command: unsupported pipe ${pipe}`);
    stdout = stdout
      .split('\n')
      .slice(Number(m[1]) - 1, Number(m[2]))
      .map((l) => l + '\n')
      .join('');
  }
  return { code, stdout };
}

describe('README CLI section', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(
    readme.indexOf('## CLI\n'),
    readme.indexOf('\n## ', readme.indexOf('## CLI\n') + 1),
  );
  // Each output block follows a paragraph that names its command in a `picklejar …` code span.
  const blocks = [...section.matchAll(/((?:[^\n]+\n)+)\n```\n([\s\S]*?)\n```/g)].map((m) => ({
    paragraph: m[1] as string,
    output: m[2] as string,
  }));

  it('shows what the commands print today (regenerate the blocks when the output changes)', async () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    for (const b of blocks) {
      const command = /`(picklejar [^`]+)`/.exec(b.paragraph)?.[1];
      expect(command, b.paragraph).toBeDefined();
      const r = await runReadmeCommand(command as string);
      expect(r.code, command).toBe(
        /\(exit status (\d)\)/.exec(b.paragraph)?.[1]
          ? Number(/\(exit status (\d)\)/.exec(b.paragraph)?.[1])
          : 0,
      );
      expect(r.stdout.replace(/\n$/, ''), command).toBe(b.output);
    }
  });
});

describeWithPython('README large files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pj-readme-large-'));
    await runPython(
      `
import sys, numpy as np, joblib, torch
d = sys.argv[1]
joblib.dump({'w': np.arange(12.0).reshape(4, 3), 'b': np.arange(3, dtype=np.int64)}, d + '/weights.joblib')
torch.save(torch.nn.Linear(3, 2).state_dict(), d + '/model.pt')  # an OrderedDict: a Map
`,
      [dir],
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lazy: shapes at once, bytes on first use, one array at a time', async () => {
    const v = (await load(join(dir, 'weights.joblib'), { lazy: true })) as Record<string, NDArray>;
    const w = v['w'] as NDArray;
    expect([w.shape, w.dtype.str]).toEqual([[4, 3], '<f8']);
    expect(isLoaded(w)).toBe(false);
    expect(w.get(1, 2)).toBe(5); // np.arange(12.0).reshape(4, 3)[1, 2]
    expect(isLoaded(w)).toBe(true);
    expect(isLoaded(v['b'] as NDArray)).toBe(false);
    const sd = (await load(join(dir, 'model.pt'), { lazy: true })) as Map<string, Tensor>;
    const t = sd.get('weight') as Tensor;
    expect(t.shape).toEqual([2, 3]);
    expect(t.storage?.loaded).toBe(false);
    expect((t.toNested() as number[][]).length).toBe(2);
    expect(t.storage?.loaded).toBe(true);
    expect(sd.get('bias')?.storage?.loaded).toBe(false);
  });

  it('lazy: a file changed after the load is refused with code io', async () => {
    const path = join(dir, 'weights.joblib');
    const v = (await load(path, { lazy: true })) as Record<string, NDArray>;
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    let error: unknown;
    try {
      (v['w'] as NDArray).get(0, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnpicklingError);
    expect((error as UnpicklingError).code).toBe('io');
    expect((error as Error).message).toMatch(/changed after it was opened lazily/);
  });

  it('sharedMemory: each payload in a SharedArrayBuffer of exactly its bytes', async () => {
    const m = (await load(join(dir, 'weights.joblib'), { sharedMemory: true })) as Record<string, NDArray>;
    const w = m['w'] as NDArray;
    expect(w.raw.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(w.raw.buffer.byteLength).toBe(w.nbytes);
    expect(Array.from(new Float64Array(w.raw.buffer as SharedArrayBuffer))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
  });
});
