// The CLI on large files, faked small: PICKLEJAR_LAZY_FROM lowers the size from which `show` and
// `json` open files lazily by path, arrays of 2 MiB stand for multi-GB ones (lazy previews read
// arrays up to 1 MiB), and scan's windowed path takes files over 1 MiB. The multi-GB runs belong to
// `npm run bench` (bench/large.mjs). Values are checked against what Python wrote and loads back.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithPython, runPython } from './helpers/python.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli.js');
let TMP = '';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(
  args: readonly string[],
  env: Record<string, string> = {},
  input?: Uint8Array,
): Promise<Run> {
  const r = await execa(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    reject: false,
    input: input ?? '',
    env: { NO_COLOR: '1', FORCE_COLOR: '', PICKLEJAR_LAZY_FROM: '', ...env },
    stripFinalNewline: false,
    timeout: 60_000,
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const LAZY = { PICKLEJAR_LAZY_FROM: '0' };
const f = (name: string): string => path.join(TMP, name);

describeWithPython('the CLI on large files (lazy by path, streamed convert, windowed scan)', () => {
  let expected: {
    bigHead: string[];
    small: number[];
    torchBias: string[];
  };
  beforeAll(async () => {
    TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'picklejar-cli-large-'));
    // 'big' is 2 MiB (over the 1 MiB a lazy preview reads), 'small' is read for its preview.
    const r = await runPython(
      `
import json, os, sys, numpy as np, joblib, torch
d = sys.argv[1]
class Evil:
    def __reduce__(self):
        return (os.system, ('echo hi',))
value = {'meta': {'name': 'run', 'epochs': 3}, 'big': np.arange(262144, dtype='<f8') * 0.5,
         'small': np.arange(5, dtype='<i4') * 3}
joblib.dump(value, d + '/big.joblib')
joblib.dump(value, d + '/big.joblib.z', compress=('zlib', 3))
joblib.dump({'big': value['big'], 'evil': Evil(), 'tail': 'after'}, d + '/evil.joblib')
torch.save({'weight': torch.arange(524288, dtype=torch.float32).reshape(512, 1024), 'bias': torch.tensor([1.5, -2.0, 0.25])}, d + '/model.pt')
print(json.dumps({'bigHead': [repr(float(x)) for x in value['big'][:3]], 'small': value['small'].tolist(), 'torchBias': [repr(x) for x in [1.5, -2.0, 0.25]]}))
`,
      [TMP],
    );
    expected = JSON.parse(r.stdout) as typeof expected;
  }, 120_000);
  afterAll(() => {
    if (TMP) fs.rmSync(TMP, { recursive: true, force: true });
  });

  test('show opens a large joblib file lazily: the big array unread, the small one previewed', async () => {
    const r = await cli(['show', f('big.joblib')], LAZY);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^.*big\.joblib: joblib file, 2\.0 MiB, protocol 4; 2 arrays/);
    expect(lines).toContain("  'big': ndarray float64 (262144,) 2.0 MiB (not loaded)");
    expect(lines).toContain(`  'small': ndarray int32 (5,) [${expected.small.join(', ')}]`);
    expect(lines).toContain("    'name': 'run'");
    // --no-lazy reads everything: the preview shows Python's first values.
    const eager = await cli(['show', '--no-lazy', f('big.joblib')], LAZY);
    const big = eager.stdout.split('\n').find((l) => l.startsWith("  'big':")) as string;
    expect(big).toContain(`[${expected.bigHead.join(', ')}, …`);
    // Small files open eagerly unless --lazy.
    expect((await cli(['show', f('big.joblib')])).stdout).toBe(eager.stdout);
    expect((await cli(['show', '--lazy', f('big.joblib')])).stdout).toBe(r.stdout);
  });

  test('json gives the same document lazily, eagerly and from stdin', async () => {
    const lazy = await cli(['json', '--array-items', 'all', f('big.joblib')], LAZY);
    const eager = await cli(['json', '--array-items', 'all', '--no-lazy', f('big.joblib')], LAZY);
    const stdin = await cli(['json', '--array-items', 'all', '-'], {}, fs.readFileSync(f('big.joblib')));
    expect(lazy.code).toBe(0);
    expect(lazy.stdout).toBe(eager.stdout);
    expect(lazy.stdout).toBe(stdin.stdout);
    type Arr = { $ndarray: { dtype: string; shape: number[]; data: number[] } };
    const doc = JSON.parse(lazy.stdout) as { small: Arr; big: Arr };
    expect(doc.small.$ndarray.data).toEqual(expected.small);
    expect(doc.big.$ndarray.shape).toEqual([262144]);
    expect(doc.big.$ndarray.data.length).toBe(262144);
    expect(doc.big.$ndarray.data.slice(0, 3)).toEqual(expected.bigHead.map(Number));
  });

  test('torch files show lazily at any size: big tensors unread, small ones previewed, totals from the structure', async () => {
    const r = await cli(['show', f('model.pt')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 tensors in 2 storages/);
    expect(r.stdout).toMatch(/524,291 parameters/);
    expect(r.stdout).toContain("'weight': Tensor float32 (512, 1024) 2.0 MiB (not loaded)");
    expect(r.stdout).toContain(`'bias': Tensor float32 (3,) [${expected.torchBias.join(', ')}]`);
    const eager = await cli(['show', '--no-lazy', f('model.pt')]);
    // torch.arange(524288) as (512, 1024): rows start at 0.0 and end at 524287.0.
    expect(eager.stdout).toContain(
      "'weight': Tensor float32 (512, 1024) 2.0 MiB [[0.0, …, 1023.0], …, [523264.0, …, 524287.0]]",
    );
  });

  test('a large compressed joblib file is decoded by path (the unpacked size is not measured)', async () => {
    const r = await cli(['show', f('big.joblib.z')], LAZY);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(
      /big\.joblib\.z: joblib file, zlib-compressed, [\d.]+ KiB; 2 arrays/,
    );
    // Compressed payloads cannot stay in the file: everything is read and previewed.
    expect(r.stdout).toContain(`[${expected.bigHead.join(', ')}, …`);
  });

  test('--lazy needs a file and excludes --no-lazy', async () => {
    const a = await cli(['show', '--lazy', '-'], {}, fs.readFileSync(f('big.joblib')));
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--lazy needs a file/);
    const b = await cli(['json', '--lazy', '--no-lazy', f('big.joblib')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/exclude each other/);
  });

  test('scan walks a large file by position and reports what the in-memory scan reports', async () => {
    const byPath = await cli(['scan', '--json', f('evil.joblib')]);
    const inMemory = await cli(['scan', '--json', '-'], {}, fs.readFileSync(f('evil.joblib')));
    expect(byPath.code).toBe(1);
    expect(inMemory.code).toBe(1);
    type Entry = {
      file: string;
      arrays: number;
      globals: { module: string; name: string; severity: string }[];
    };
    const [a] = (JSON.parse(byPath.stdout) as { files: Entry[] }).files as [Entry];
    const [b] = (JSON.parse(inMemory.stdout) as { files: Entry[] }).files as [Entry];
    expect({ ...a, file: '' }).toEqual({ ...b, file: '' });
    expect(a.arrays).toBe(1);
    const danger = a.globals.filter((g) => g.severity === 'dangerous').map((g) => `${g.module}.${g.name}`);
    expect(danger).toEqual(['posix.system']);
  });

  test('convert of a file read by path streams pickle and joblib output that Python loads back equal', async () => {
    for (const out of ['out.pkl', 'out.joblib', 'out.joblib.gz', 'out.joblib.xz']) {
      const r = await cli(['convert', f('big.joblib'), f(out)], LAZY);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const c = await cli(['convert', f('big.joblib.z'), f('from-z.pkl')], LAZY);
    expect(c.code).toBe(0);
    const r = await runPython(
      `
import pickle, sys, numpy as np, joblib
d = sys.argv[1]
ref = joblib.load(d + '/big.joblib')
def same(v):
    return v['meta'] == ref['meta'] and all(np.array_equal(v[k], ref[k]) and v[k].dtype == ref[k].dtype for k in ('big', 'small'))
with open(d + '/out.pkl', 'rb') as fh: a = pickle.load(fh)
with open(d + '/from-z.pkl', 'rb') as fh: z = pickle.load(fh)
print([same(a), same(joblib.load(d + '/out.joblib')), same(joblib.load(d + '/out.joblib.gz')), same(joblib.load(d + '/out.joblib.xz')), same(z)])
with open(d + '/out.joblib.gz', 'rb') as fh: print(fh.read(2).hex())
`,
      [TMP],
    );
    expect(r.stdout.trim().split('\n')).toEqual(['[True, True, True, True, True]', '1f8b']);
    // No temporary file is left beside the outputs.
    expect(fs.readdirSync(TMP).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
