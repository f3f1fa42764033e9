#!/usr/bin/env node
// `node bench/codecs.mjs` (also run by `npm run bench`; BENCH_CODECS=0 skips it there): every compressor at
// level 3 on one value — a fitted RandomForest plus arrays and strings, about BENCH_CODECS_MB (default 10) MB
// uncompressed — JS size and write time against Python's joblib.dump(compress=(m, 3)), read speed of
// picklejar's loads against joblib.load, and the browser variants run under Node. zstd: the reference is
// the zstd CLI (Python 3.11 has no zstd). A harness, not a test: it prints a table, asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from './lib/python.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pj = await import('../dist/index.js');
const { decompressJoblib } = await import('../dist/joblib/compress.js');
const { ready } = await import('../dist/codecs/index.js');
const browser = {
  ...(await import('../dist/codecs/zlib.browser.js')),
  ...(await import('../dist/codecs/lzma.browser.js')),
};
await ready();

const MB = Number(process.env.BENCH_CODECS_MB || '10');
const METHODS = ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4', 'zstd'];
const python = findPython();
const dir = mkdtempSync(join(tmpdir(), 'pj-codecs-bench-'));

const PY = `
import io, os, sys, time, json, joblib, numpy as np
from sklearn.ensemble import RandomForestClassifier
d, mb = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(0)
n = int(4000 * mb / 10)
X = rng.normal(size=(n, 20)); y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
value = {'model': RandomForestClassifier(n_estimators=60, random_state=0).fit(X, y), 'X': X.astype('<f4'),
         'ids': np.arange(int(500000 * mb / 10)), 'names': [f'item{i}' for i in range(int(50000 * mb / 10))]}
joblib.dump(value, os.path.join(d, 'raw.joblib'))
out = {}
for m in ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4']:
    p = os.path.join(d, 'py.' + m)
    best_w = best_r = 1e9
    for _ in range(2):
        t = time.perf_counter(); joblib.dump(value, p, compress=(m, 3)); best_w = min(best_w, time.perf_counter() - t)
        t = time.perf_counter(); joblib.load(p); best_r = min(best_r, time.perf_counter() - t)
    out[m] = {'size': os.path.getsize(p), 'write': best_w, 'read': best_r}
print(json.dumps(out))
`;
const r = spawnSync(python.path, ['-c', PY, dir, String(MB)], { encoding: 'utf8', maxBuffer: 1 << 24 });
if (r.status !== 0) throw new Error(r.stderr);
const py = JSON.parse(r.stdout.trim().split('\n').pop());
const raw = new Uint8Array(readFileSync(join(dir, 'raw.joblib')));
const value = pj.loads(raw);
// zstd reference: the CLI at level 3 (process start included, so its time is an upper bound)
{
  const t0 = performance.now();
  const z = spawnSync('zstd', ['-3', '-q', '-c', join(dir, 'raw.joblib')], { maxBuffer: 1 << 30 });
  py.zstd =
    z.status === 0
      ? { size: z.stdout.length, write: (performance.now() - t0) / 1000, read: NaN, cli: true }
      : undefined;
}

function best(fn, n = 3) {
  let ms = Infinity;
  let out;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    out = fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { out, ms };
}

const rows = [];
for (const m of METHODS) {
  // JS write = the whole dumpsJoblib (stream + compression), as joblib.dump's time is.
  const w = best(() => pj.dumpsJoblib(value, { compress: [m, 3], allowGlobals: true }), 2);
  const file = w.out;
  const rd = best(() => pj.loads(file), 3);
  const dec = best(() => decompressJoblib(file, 2 ** 31), 3);
  const p = py[m];
  const row = {
    method: m,
    rawMB: raw.length / 1e6,
    jsSize: file.length,
    pySize: p?.size,
    jsWriteMs: w.ms,
    pyWriteMs: p ? p.write * 1000 : NaN,
    jsReadMs: rd.ms,
    pyReadMs: p ? p.read * 1000 : NaN,
    decodeMBs: raw.length / 1e3 / dec.ms,
  };
  const bz = browser[`${m}Codec`];
  if (bz) {
    const bd = best(() => bz.decode(file, 2 ** 31), 2);
    row.browserDecodeMBs = raw.length / 1e3 / bd.ms;
    try {
      const be = best(() => bz.encode(raw, 3), 2);
      row.browserSize = be.out.length;
      row.browserEncodeMs = be.ms;
    } catch (e) {
      row.browserEncode = e.message.split(';')[0];
    }
  }
  rows.push(row);
}
rmSync(dir, { recursive: true, force: true });

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const lines = [
  `Codecs, level 3, ${f(raw.length / 1e6, 1)} MB joblib stream (RandomForest + arrays + strings); ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, Node ${process.version}, Python ${python.version} (joblib ${python.joblib})`,
  '',
  '| method | JS size / Python | JS write / Python (ms) | ratio | read JS / Python (ms) | JS decode MB/s | browser variant |',
  '|---|---|---|---|---|---|---|',
];
for (const x of rows) {
  const ref = x.method === 'zstd' ? ' (zstd CLI)' : '';
  const bv = x.browserDecodeMBs
    ? `decode ${f(x.browserDecodeMBs, 0)} MB/s; ${x.browserSize ? `encode ${f(x.browserEncodeMs, 0)} ms, ${f(x.browserSize / x.pySize)}x size` : 'no encoder'}`
    : 'same module';
  lines.push(
    `| ${x.method}${ref} | ${x.jsSize} / ${x.pySize ?? '-'} = **${f(x.jsSize / x.pySize, 3)}x** | ${f(x.jsWriteMs, 0)} / ${f(x.pyWriteMs, 0)} | **${f(x.jsWriteMs / x.pyWriteMs)}x** | ${f(x.jsReadMs, 0)} / ${f(x.pyReadMs, 0)} | ${f(x.decodeMBs, 0)} | ${bv} |`,
  );
}
const md = lines.join('\n');
console.log(md);
if (process.argv.includes('--json'))
  writeFileSync(join(ROOT, 'bench', 'out', 'codecs.json'), JSON.stringify(rows, null, 1));
