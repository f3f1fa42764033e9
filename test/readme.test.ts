/**
 * The README's library tour, run against the shipped examples, and its CLI section's output blocks,
 * run as the commands they name: the front door must not lie.
 */
import { readFileSync } from 'node:fs';
import { execute, plan } from '../src/cli/run.js';
import { makeStyle } from '../src/cli/style.js';
import { describe, expect, it } from 'vitest';
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
