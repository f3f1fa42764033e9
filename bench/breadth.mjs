#!/usr/bin/env node
// Breadth check: decode time against CPython on one pickle per kind of value (bench/gen_breadth.py),
// and whether V8 ever gave up optimising the decoder loop on it ("aborted" compiles: a sign of a
// construct that V8 cannot optimise, such as the Symbol.species getter this found on Tuple).
//
//   node bench/breadth.mjs [substring]     (writes bench/out/breadth/ and bench/out/breadth.md)
//
// Each file: CPython `pickle.loads` median of 9 after a warm-up (gc.collect() before each, outside the
// timing); picklejar `loads` median of 9 after 3 warm-ups (full GC before each) in a fresh
// `node --trace-opt` process. A harness: prints a table, asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findPython } from './lib/python.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out', 'breadth');

if (process.argv[2] === '--child') {
  const { loads } = await import(pathToFileURL(join(HERE, '..', 'dist', 'index.js')).href);
  const b = readFileSync(process.argv[3]);
  const data = new Uint8Array(b.length);
  data.set(b);
  for (let i = 0; i < 3; i++) loads(data);
  const ts = [];
  for (let r = 0; r < 9; r++) {
    globalThis.gc();
    const t = performance.now();
    loads(data);
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  console.log(`RESULT ${ts[4]}`);
  process.exit(0);
}

const python = findPython();
mkdirSync(OUT, { recursive: true });
const gen = spawnSync(python.path, [join(HERE, 'gen_breadth.py'), OUT], { stdio: 'inherit' });
if (gen.status !== 0) process.exit(1);
const filter = process.argv[2];
const files = readdirSync(OUT)
  .filter((f) => f.endsWith('.pkl') && (!filter || f.includes(filter)))
  .sort();
const PY = `
import gc, pickle, sys, time
sys.path.insert(0, ${JSON.stringify(HERE)})
from gen_breadth import Point, Slotted  # the classes the instance pickles name
import __main__
__main__.Point, __main__.Slotted = Point, Slotted
for f in sys.argv[1:]:
    d = open(f, 'rb').read(); pickle.loads(d); ts = []
    for _ in range(9):
        gc.collect(); t = time.perf_counter(); pickle.loads(d); ts.append(time.perf_counter() - t)
    ts.sort(); print(ts[4] * 1000)
`;
const py = spawnSync(python.path, ['-c', PY, ...files.map((f) => join(OUT, f))], { encoding: 'utf8' });
if (py.status !== 0) {
  console.error(py.stderr);
  process.exit(1);
}
const pyMs = py.stdout.trim().split('\n').map(Number);
const rows = [
  '| pickle | size | CPython ms | picklejar ms | ratio | optimisations aborted |',
  '|---|--:|--:|--:|--:|--:|',
];
files.forEach((f, i) => {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--trace-opt', fileURLToPath(import.meta.url), '--child', join(OUT, f)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    },
  );
  const ms = Number(/RESULT (\S+)/.exec(r.stdout)?.[1]);
  const aborted = (r.stdout.match(/aborted optimizing[^\n]*JSFunction loop/g) ?? []).length;
  const size = readFileSync(join(OUT, f)).length;
  const row = `| ${f} | ${(size / 1e6).toFixed(1)} MB | ${pyMs[i].toFixed(1)} | ${Number.isFinite(ms) ? ms.toFixed(1) : 'n/a'} | ${(ms / pyMs[i]).toFixed(2)}× | ${aborted} |`;
  rows.push(row);
  console.error(row);
});
const md = [
  '# Breadth: decode time per kind of value',
  '',
  `node ${process.version}, ${python.path} ${python.version}`,
  '',
  ...rows,
  '',
].join('\n');
writeFileSync(join(HERE, 'out', 'breadth.md'), md);
console.log(md);
