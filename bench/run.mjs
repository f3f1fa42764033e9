#!/usr/bin/env node
// `npm run bench`: picklejar vs CPython (pickle / joblib) vs pickleparser on the same bytes.
// A harness, not a test: it prints a table and writes bench/out/results.{md,json}; nothing here asserts.
//
// Environment: PYTHON (a Python with numpy/joblib/sklearn), BENCH_SCALE (joblib model size factor, default 1),
// BENCH_SCALING=0 (skip the 250k/4M ints scaling files), BENCH_BUDGET (seconds per measurement, default 1),
// BENCH_ONLY (comma-separated workload names or groups), BENCH_NO_MEM=1 (skip peak-memory children),
// BENCH_CLOCK=cpu (judge on process CPU time instead of wall clock: for machines shared with other work),
// BENCH_SEMI (MB for the extra decode run with node --max-semi-space-size; default 64, 0 skips it).
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from './lib/python.mjs';
import { measure, readBytes, checkResult } from './lib/measure.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const OUT = join(HERE, 'out');

// Forced GC between runs needs --expose-gc: re-run ourselves with it when it is missing.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(r.status ?? 1);
}

const env = process.env;
const SCALE = Number(env.BENCH_SCALE || '1');
const SCALING = env.BENCH_SCALING !== '0';
const CLOCK = env.BENCH_CLOCK === 'cpu' ? 'cpu' : 'wall';
const ONLY = env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined;

const pj = await import('../dist/index.js');
let Parser;
try {
  const mod = await import('pickleparser');
  Parser = mod.Parser ?? mod.default?.Parser;
} catch (e) {
  console.error(`pickleparser not importable: ${e.message}`);
}
const hasDumps = typeof pj.dumps === 'function';

// ---- 1. workloads -------------------------------------------------------------------------------------
const python = findPython();
console.error(`python: ${python.path} (${python.version}, numpy ${python.numpy})`);
const genScript = join(HERE, 'gen_workloads.py');
const genVersion = Number(/GENERATOR_VERSION = (\d+)/.exec(readFileSync(genScript, 'utf8'))[1]);
let manifest = existsSync(join(OUT, 'manifest.json'))
  ? JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'))
  : undefined;
if (
  !manifest ||
  manifest.generatorVersion !== genVersion ||
  manifest.scale !== SCALE ||
  manifest.scaling !== SCALING
) {
  console.error('generating workloads (bench/out/) ...');
  mkdirSync(OUT, { recursive: true });
  execFileSync(python.path, [genScript, OUT], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, BENCH_SCALE: String(SCALE), BENCH_SCALING: SCALING ? '1' : '0' },
  });
  manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
}
const workloads = manifest.workloads.filter((w) => !ONLY || ONLY.includes(w.name) || ONLY.includes(w.group));

// ---- 2. time: CPython, then picklejar and pickleparser, workload by workload ---------------------------
// Interleaved so that each ratio compares measurements taken close together (the machine may be shared).
const loadBefore = loadavg();
const results = [];
let pyMeta = {};
for (const w of workloads) {
  const pyOut = execFileSync(python.path, [join(ROOT, 'scripts', 'bench_python.py'), 'time', OUT, w.name], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const py = JSON.parse(pyOut.toString('utf8'));
  pyMeta = { python: py.python, numpy: py.numpy, joblib: py.joblib };

  const data = readBytes(join(OUT, w.file));
  const r = { workload: w, python: py.results[w.name] ?? {}, picklejar: {}, pickleparser: {} };

  r.picklejar.decode = measure(
    () => pj.loads(data),
    (v) => checkResult(v, w, pj),
  );
  // The same without forced GC between runs: after a full GC V8 may deoptimise the decoder (see BENCHMARKS.md).
  r.picklejar.decodeNoForcedGc = r.picklejar.decode.na
    ? r.picklejar.decode
    : measure(() => pj.loads(data), undefined, { forceGc: false });
  if (!hasDumps) r.picklejar.encode = { na: 'dumps not exported yet' };
  else if (w.kind !== 'pickle') r.picklejar.encode = { na: 'not a plain pickle' };
  else {
    let value;
    try {
      value = pj.loads(data);
    } catch (e) {
      value = undefined;
      r.picklejar.encode = { na: `loads failed: ${e.message}` };
    }
    if (value !== undefined) {
      const opts = { protocol: w.protocol };
      r.picklejar.encode = measure(
        () => pj.dumps(value, opts),
        (b) => (b instanceof Uint8Array ? undefined : 'dumps returned no bytes'),
      );
    }
    value = undefined;
  }
  if (!Parser) r.pickleparser.decode = { na: 'pickleparser not installed' };
  else if (w.kind !== 'pickle') r.pickleparser.decode = { na: 'compressed joblib file' };
  else {
    // pickleparser console.warn()s every int above 2**53; silence it so terminal I/O is not timed.
    const warn = console.warn;
    console.warn = () => {};
    try {
      r.pickleparser.decode = measure(
        () => new Parser().parse(data),
        (v) => checkResult(v, w, undefined),
      );
    } finally {
      console.warn = warn;
    }
  }
  results.push(r);
  console.error(
    `  ${w.name}: CPython ${fmtM(r.python.decode)} / ${fmtM(r.python.encode)}; ` +
      `picklejar ${fmtM(r.picklejar.decode)} / ${fmtM(r.picklejar.encode)}; pickleparser ${fmtM(r.pickleparser.decode)}`,
  );
}
const loadAfter = loadavg();

// ---- 3. decode with a larger young generation (a node flag users can set) -----------------------------
const SEMI = env.BENCH_SEMI ?? '64';
if (SEMI !== '0') {
  console.error(`decoding with --max-semi-space-size=${SEMI} ...`);
  for (const r of results.filter(
    (x) => x.workload.kind === 'pickle' && ['ints', 'dicts', 'strings', 'graph'].includes(x.workload.group),
  )) {
    r.picklejar.decodeBigYoung = child(process.execPath, [
      '--expose-gc',
      `--max-semi-space-size=${SEMI}`,
      join(HERE, 'semi-child.mjs'),
      OUT,
      r.workload.name,
    ]);
    r.picklejar.decodeBigYoung.semi = Number(SEMI);
  }
}

// ---- 4. peak memory (one fresh child process per array-heavy workload) ----------------------------------
const memory = [];
if (env.BENCH_NO_MEM !== '1') {
  console.error('measuring peak memory ...');
  for (const w of workloads.filter((x) => x.group === 'arrays' || x.group === 'joblib')) {
    const js = child(process.execPath, ['--expose-gc', join(HERE, 'mem-child.mjs'), OUT, w.name]);
    const cp = child(python.path, [join(ROOT, 'scripts', 'bench_python.py'), 'mem', OUT, w.name]);
    memory.push({ workload: w, picklejar: js, python: cp });
  }
}

function child(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  }
}

// ---- 4b. codecs (bench/codecs.mjs: every compressor at level 3 against Python; BENCH_CODECS=0 skips) ------
if (env.BENCH_CODECS !== '0') spawnSync(process.execPath, [join(HERE, 'codecs.mjs')], { stdio: 'inherit' });

// ---- 5. report -----------------------------------------------------------------------------------------
const { renderReport, machineInfo } = await import('./lib/report.mjs');
const machine = {
  ...machineInfo({ python, pyResult: pyMeta, cpus, root: ROOT, hasDumps }),
  loadBefore,
  loadAfter,
};
const md = renderReport({ machine, results, memory, manifest, clock: CLOCK });
console.log(md);
writeFileSync(join(OUT, 'results.md'), md);
writeFileSync(
  join(OUT, 'results.json'),
  JSON.stringify(
    { machine, clock: CLOCK, manifest, results, memory },
    (k, v) => (typeof v === 'bigint' ? String(v) : v),
    1,
  ),
);
console.error(`wrote ${join(OUT, 'results.md')} and results.json`);

function fmtM(m) {
  if (!m) return '-';
  if (m.na) return 'n/a';
  return `${m.ms.toFixed(1)} ms`;
}
