/** `.npz`: files written by np.savez / np.savez_compressed decode as np.load reads them; JS-written ones load in numpy. */
import { expect, it, describe as suite } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loads, load } from '../src/load.js';
import type { NDArray } from '../src/numpy/ndarray.js';
import { dumpsNpz } from '../src/containers/npz.js';
import { ZipReader } from '../src/containers/zip.js';
import { describe } from './helpers/describe.js';
import { FIXTURES_DIR, fixturesOf, readFixtureBytes, readMeta } from './helpers/fixtures.js';
import { describeWithPython, runPython } from './helpers/python.js';

const entries = fixturesOf('npz');

suite('npz fixtures', () => {
  it('has fixtures', () => expect(entries.length).toBeGreaterThanOrEqual(5));
  for (const entry of entries) {
    const meta = readMeta(entry);
    const path = (entry.files[0] as { path: string }).path;
    it(`${entry.name} decodes as np.load(allow_pickle=True) gives it`, async () => {
      const v = loads(readFixtureBytes(path), { lossless: true });
      expect(v).toBeInstanceOf(Map);
      expect(describe(v)).toEqual(meta.desc);
      expect(describe(await load(join(FIXTURES_DIR, path), { lossless: true }))).toEqual(meta.desc);
    });
  }
  it('savez_compressed entries are deflated, savez entries stored', () => {
    const methods = (name: string): number[] =>
      ZipReader.open(readFixtureBytes(`npz/${name}.npz`)).entries.map((e) => e.method);
    expect(new Set(methods('savez_compressed'))).toEqual(new Set([8]));
    expect(new Set(methods('savez'))).toEqual(new Set([0]));
  });
});

describeWithPython('dumpsNpz output loads in numpy', () => {
  it('every fixture written back (stored and deflated) loads equal in np.load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-npz-'));
    const jobs: { name: string; file: string; want: unknown }[] = [];
    for (const entry of entries) {
      const meta = readMeta(entry);
      const v = loads(readFixtureBytes((entry.files[0] as { path: string }).path), { lossless: true }) as Map<
        string,
        NDArray
      >;
      for (const compress of [false, true]) {
        const file = join(dir, `${entry.name}.${compress}.npz`);
        writeFileSync(file, dumpsNpz(v, { compress }));
        jobs.push({ name: `${entry.name}/${compress}`, file, want: meta.desc });
      }
    }
    const code = `
import json, sys, numpy as np, gen_fixtures, fixtures_numpy
fixtures_numpy.register(gen_fixtures)
out = {}
for j in json.load(sys.stdin):
    with np.load(j['file'], allow_pickle=True) as z:
        out[j['name']] = gen_fixtures.describe({k: z[k] for k in z.files}, 4) == j['want']
print(json.dumps(out))`;
    const r = JSON.parse((await runPython(code, [], JSON.stringify(jobs))).stdout) as Record<string, boolean>;
    expect(Object.keys(r).length).toBe(jobs.length);
    for (const [name, ok] of Object.entries(r)) expect(ok, name).toBe(true);
  });
});
