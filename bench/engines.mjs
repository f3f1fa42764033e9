#!/usr/bin/env node
// picklejar against CPython and the engine references (msgpackr, JSON), in rounds:
//
//   node bench/engines.mjs [workload ...]      (default: ints_1m.p4 dicts_200k.p4 strings_500k.p4 graph_100k.p4)
//
// Each round times, back to back, CPython's pickle.loads/dumps (scripts/bench_python.py, one process
// per round), then in this process picklejar's loads/dumps and msgpackr's unpack/pack and JSON.parse /
// JSON.stringify of the same value (bench/lib/engines.mjs says what "same" means per codec). The
// ratios are taken within each round (so they compare measurements seconds apart) and reported as the
// median over rounds with the range. On a machine shared with other work, use BENCH_CLOCK=cpu.
//
// Environment: BENCH_ROUNDS (default 5), BENCH_BUDGET (seconds per measurement, default 0.5 here),
// BENCH_CLOCK=cpu|wall (default wall), PYTHON. Needs the workloads (`npm run bench` once, or
// `BENCH_SCALING=0 python3 bench/gen_workloads.py bench/out`) and a build (`npm run build`).
// Writes bench/out/engines.{md,json}.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}
process.env.BENCH_BUDGET ??= '0.5';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const OUT = join(HERE, 'out');
const { measure, readBytes, checkResult } = await import('./lib/measure.mjs');
const { loadMsgpackr, measureEngines } = await import('./lib/engines.mjs');
const { findPython } = await import('./lib/python.mjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS || '5');
const CLOCK = process.env.BENCH_CLOCK === 'cpu' ? 'cpu' : 'wall';
const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['ints_1m.p4', 'dicts_200k.p4', 'strings_500k.p4', 'graph_100k.p4'];
const manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
const pj = await import('../dist/index.js');
const python = findPython();
const msgpackr = await loadMsgpackr();
const val = (m) => (m && !m.na ? (CLOCK === 'cpu' ? m.cpuMs : m.ms) : undefined);

const loadBefore = loadavg();
const rows = [];
for (const name of names) {
  const w = manifest.workloads.find((x) => x.name === name);
  if (!w) throw new Error(`no workload ${name} in bench/out/manifest.json`);
  const data = readBytes(join(OUT, w.file));
  const value = pj.loads(data);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const py = JSON.parse(
      execFileSync(python.path, [join(ROOT, 'scripts', 'bench_python.py'), 'time', OUT, name], {
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 << 20,
      }).toString(),
    ).results[name];
    const round = {
      python: py,
      decode: measure(
        () => pj.loads(data),
        (v) => checkResult(v, w, pj),
      ),
      encode: measure(() => pj.dumps(value, { protocol: w.protocol })),
      ...measureEngines(measure, msgpackr, value, w),
    };
    rounds.push(round);
    const f = (m) => (val(m) === undefined ? 'n/a' : val(m).toFixed(1));
    console.error(
      `  ${name} round ${r + 1}: picklejar ${f(round.decode)} / ${f(round.encode)}, CPython ${f(py.decode)} / ${f(py.encode)}, ` +
        `msgpackr ${f(round.msgpackDecode)} / ${f(round.msgpackEncode)}, JSON ${f(round.jsonDecode)} / ${f(round.jsonEncode)} ms`,
    );
  }
  rows.push({ workload: w, rounds });
}

// ---- report: per op, the median time of each side and the median (range) of the per-round ratios
const median = (xs) => {
  const v = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (v) => (v === undefined ? 'n/a' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratioCell = (rounds, a, b) => {
  const rs = rounds
    .map((r) => (val(a(r)) !== undefined && val(b(r)) !== undefined ? val(a(r)) / val(b(r)) : undefined))
    .filter((x) => x !== undefined);
  if (rs.length === 0) return 'n/a';
  return `${median(rs).toFixed(2)}× (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`;
};
const lines = [];
const la = (l) => l.map((v) => v.toFixed(2)).join(' ');
lines.push(
  `${ROUNDS} rounds, ${CLOCK === 'cpu' ? 'process CPU time' : 'wall clock'}, medians of ms; ratio = picklejar ÷ reference, median over rounds (range); ` +
    `load average before/after ${la(loadBefore)} / ${la(loadavg())}; Node ${process.version}, msgpackr ${msgpackr.version ?? 'n/a'}${msgpackr.native ? ' (with its native string extractor)' : ''}, CPython ${python.version}`,
  '',
);
for (const [op, pyKey, mpKey, jsKey] of [
  ['decode', 'decode', 'msgpackDecode', 'jsonDecode'],
  ['encode', 'encode', 'msgpackEncode', 'jsonEncode'],
]) {
  lines.push(
    `| workload (${op}) | picklejar | CPython | msgpackr | JSON | ÷ CPython | ÷ msgpackr | ÷ JSON |`,
  );
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const { workload: w, rounds } of rows) {
    const t = (pick) => fmt(median(rounds.map((r) => val(pick(r)))));
    lines.push(
      `| ${w.name} | ${t((r) => r[op])} | ${t((r) => r.python[pyKey])} | ${t((r) => r[mpKey])} | ${t((r) => r[jsKey])} | ` +
        `${ratioCell(
          rounds,
          (r) => r[op],
          (r) => r.python[pyKey],
        )} | ${ratioCell(
          rounds,
          (r) => r[op],
          (r) => r[mpKey],
        )} | ${ratioCell(
          rounds,
          (r) => r[op],
          (r) => r[jsKey],
        )} |`,
    );
  }
  lines.push('');
}
const notes = [...new Set(rows.flatMap((r) => r.rounds[0].notes))];
if (notes.length) lines.push(...notes.map((n) => `- ${n}`), '');
const md = lines.join('\n');
console.log(md);
writeFileSync(join(OUT, 'engines.md'), md);
writeFileSync(
  join(OUT, 'engines.json'),
  JSON.stringify({ clock: CLOCK, rows }, (k, v) => (typeof v === 'bigint' ? String(v) : v), 1),
);
