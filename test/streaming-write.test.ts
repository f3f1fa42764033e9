/**
 * Large values are written as they are produced: dump, dumpJoblib (and compressed joblib in blocks,
 * each a complete stream of its method) never hold the whole file; Python reads every file equal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, dumpJoblib, dumpsJoblib, NDArray, ready } from '../src/index.js';
import { joblibStream, CompressingSink } from '../src/joblib/write.js';
import { describeWithPython, runPython } from './helpers/python.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pj-stream-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const value = (): Record<string, unknown> => ({
  // 3 MB of float64 (several ByteWriter flushes and unframed payloads), strings, ints, nesting.
  w: NDArray.fromTypedArray(
    Float64Array.from({ length: 400_000 }, (_, i) => i * 0.25),
    [1000, 400],
  ),
  tags: Array.from({ length: 50_000 }, (_, i) => `tag${i % 977}`),
  n: 7,
});

describeWithPython('streamed writing (checked by Python)', () => {
  it('dump and dumpJoblib files load in Python equal to the value; dump matches dumps byte for byte', async () => {
    await dump(join(dir, 'v.pkl'), value(), { protocol: 4 });
    await dump(join(dir, 'v2.pkl'), value(), { protocol: 2 });
    await dumpJoblib(join(dir, 'v.joblib'), value());
    await ready();
    const code = `
import json, pickle, sys, joblib, numpy as np
d = sys.argv[1]
out = []
for name, v in (('v.pkl', pickle.load(open(d + '/v.pkl', 'rb'))), ('v2.pkl', pickle.load(open(d + '/v2.pkl', 'rb'))), ('v.joblib', joblib.load(d + '/v.joblib'))):
    w = v['w']
    out.append([name, list(w.shape), float(w[999, 399]), float(w.sum()), len(v['tags']), v['tags'][978], v['n']])
print(json.dumps(out))`;
    const rows = JSON.parse((await runPython(code, [dir])).stdout) as unknown[][];
    const sum = (400_000 * 399_999 * 0.25) / 2;
    for (const row of rows)
      expect(row.slice(1), String(row[0])).toEqual([[1000, 400], 399_999 * 0.25, sum, 50_000, 'tag1', 7]);
    const { dumps } = await import('../src/index.js');
    expect(
      Buffer.from(readFileSync(join(dir, 'v.pkl'))).equals(Buffer.from(dumps(value(), { protocol: 4 }))),
    ).toBe(true);
    expect(Buffer.from(readFileSync(join(dir, 'v.joblib'))).equals(Buffer.from(dumpsJoblib(value())))).toBe(
      true,
    );
  });

  it('compressed dumpJoblib: one stream for zlib/gzip/lzma/xz (the bytes of one call), blocks for bz2/lz4; joblib.load reads each', async () => {
    await ready();
    const names: string[] = [];
    for (const method of ['zlib', 'gzip', 'lzma', 'xz', 'bz2', 'lz4'] as const) {
      const file = join(dir, `c.${method}.joblib`);
      await dumpJoblib(file, value(), { compress: [method, 1] });
      names.push(file);
      if (method !== 'bz2' && method !== 'lz4') {
        expect(
          Buffer.from(readFileSync(file)).equals(
            Buffer.from(dumpsJoblib(value(), { compress: [method, 1] })),
          ),
          method,
        ).toBe(true);
      }
    }
    // Blocks: each a complete bzip2 stream / lz4 frame, back to back (small blocks to get several).
    const stream = joblibStream(value());
    for (const method of ['bz2', 'lz4'] as const) {
      const parts: Uint8Array[] = [];
      const sink = new CompressingSink(method, 1, { write: (c) => parts.push(c.slice()) }, 1 << 20);
      for (let at = 0; at < stream.length; at += 300_000) sink.write(stream.subarray(at, at + 300_000));
      sink.end();
      expect(parts.length, method).toBe(Math.ceil(stream.length / (1 << 20)));
      const file = join(dir, `b.${method}.joblib`);
      writeFileSync(file, Buffer.concat(parts));
      names.push(file);
    }
    const code = `
import json, sys, joblib
out = []
for f in sys.argv[1:]:
    v = joblib.load(f)
    out.append([float(v['w'].sum()), len(v['tags']), v['n']])
print(json.dumps(out))`;
    const rows = JSON.parse((await runPython(code, names)).stdout) as unknown[][];
    expect(rows.length).toBe(names.length);
    for (const row of rows) expect(row).toEqual([(400_000 * 399_999 * 0.25) / 2, 50_000, 7]);
  });
});
