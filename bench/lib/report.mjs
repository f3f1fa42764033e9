// Markdown report: machine, timing table with the issue's targets, scaling series, peak memory.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { totalmem, release } from 'node:os';

/** Targets from the performance issue. Ratios are picklejar / CPython (lower is better). */
export const TARGETS = {
  decode: { ints: 0.5, dicts: 1.0, strings: 0.7, arrays: 0.2 },
  encode: { ints: 1.0, dicts: 1.0, strings: 1.0, arrays: 1.0, graph: 1.0 },
  // pickleparser time / picklejar time (higher is better).
  speedupVsPickleparser: { ints: 5, dicts: 5, strings: 5 },
  // Peak memory / file size (decompressed size for compressed joblib files).
  peakMemory: 1.2,
};

export function machineInfo({ python, pyResult, cpus, root, hasDumps }) {
  let cpu = 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /model name\s*:\s*(.*)/.exec(info)?.[1]?.trim() ?? cpu;
  } catch {
    cpu = cpus()[0]?.model ?? cpu;
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    /* not a git checkout */
  }
  let pickleparser = 'not installed';
  try {
    const require = createRequire(import.meta.url);
    pickleparser = require('pickleparser/package.json').version;
  } catch {
    /* optional */
  }
  return {
    date: new Date().toISOString(),
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    v8: process.versions.v8,
    python: pyResult.python ?? python.version,
    pythonPath: python.path,
    numpy: pyResult.numpy ?? python.numpy,
    joblib: pyResult.joblib ?? python.joblib,
    sklearn: python.sklearn,
    pickleparser,
    picklejarCommit: commit,
    picklejarDumps: hasDumps,
  };
}

const mb = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`);
// The clock the table uses: wall-clock medians by default, process CPU-time medians with BENCH_CLOCK=cpu.
let CLOCK = 'wall';
const val = (m) => (CLOCK === 'cpu' ? m.cpuMs : m.ms);
const ms = (m) => {
  if (m === undefined) return '—';
  if (m.na) return 'n/a';
  const v = val(m);
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
};
const x = (v) => (v === undefined ? '—' : `${v.toFixed(2)}×`);

function verdict(value, target, higherIsBetter, inert) {
  if (target === undefined) return '—';
  if (value === undefined) return 'not measured';
  if (inert) return 'not judged (inert arrays)';
  return (higherIsBetter ? value >= target : value <= target) ? 'met' : '**not met**';
}

export function renderReport({ machine, results, memory, manifest, clock = 'wall' }) {
  CLOCK = clock;
  const lines = [];
  const m = machine;
  lines.push('## Machine', '');
  lines.push(`- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}`);
  lines.push(
    `- Node ${m.node} (V8 ${m.v8}); CPython ${m.python} (${m.pythonPath}), numpy ${m.numpy}, joblib ${m.joblib}, scikit-learn ${m.sklearn}`,
  );
  lines.push(
    `- pickleparser ${m.pickleparser}; picklejar at ${m.picklejarCommit} (dumps ${m.picklejarDumps ? 'exported' : 'not exported yet'}); ${m.date}`,
  );
  if (m.loadBefore) {
    const la = (l) => l.map((v) => v.toFixed(2)).join(' ');
    lines.push(
      `- load average before/after timing: ${la(m.loadBefore)} / ${la(m.loadAfter)} (values near or above the core count mean other work shared the CPUs)`,
    );
  }
  lines.push('');
  const clockName = clock === 'cpu' ? 'process CPU time' : 'wall clock';
  lines.push(
    `## Time (median ms, ${clockName}; ratio = picklejar / CPython, lower is better; speedup = pickleparser / picklejar)`,
    '',
  );
  if (m.loadBefore && m.loadBefore[0] > m.cores && clock !== 'cpu') {
    lines.push(
      `> Warning: the load average (${m.loadBefore[0].toFixed(1)}) exceeded the ${m.cores} cores when timing started, so wall-clock times are inflated by waiting for a CPU. Rerun on an idle machine, or with BENCH_CLOCK=cpu.`,
      '',
    );
  }
  lines.push(
    '| workload | op | file | CPython | picklejar | ratio | target | | ratio of best runs | pickleparser | speedup | target | |',
  );
  lines.push('|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|---|');
  const notes = [];
  const scaling = [];
  for (const r of results) {
    const w = r.workload;
    const isScaling = w.group === 'scaling';
    for (const op of ['decode', 'encode']) {
      const p = r.python[op];
      const j = r.picklejar[op];
      if (!p && !j) continue;
      if (op === 'encode' && w.kind !== 'pickle') continue;
      const ratio = p && j && !j.na ? val(j) / val(p) : undefined;
      const bestRatio = p?.minMs && j?.minMs ? j.minMs / p.minMs : undefined;
      const tgt = isScaling ? undefined : TARGETS[op][w.group];
      const inert = Boolean(j?.note);
      let ppCells = ['', '', '', ''];
      if (op === 'decode') {
        const q = r.pickleparser.decode;
        const sp = q && !q.na && j && !j.na ? val(q) / val(j) : undefined;
        const st = isScaling ? undefined : TARGETS.speedupVsPickleparser[w.group];
        ppCells = [ms(q), x(sp), st ? `≥${st}×` : '—', verdict(sp, st, true, inert)];
        if (q?.na) notes.push(`pickleparser ${w.name}: ${q.na}`);
        if (q?.note) notes.push(`pickleparser ${w.name}: ${q.note}`);
      }
      if (j?.na) notes.push(`picklejar ${op} ${w.name}: ${j.na}`);
      if (j?.note) notes.push(`picklejar ${op} ${w.name}: ${j.note}`);
      const opName = op === 'decode' ? (w.kind === 'joblib' ? 'load' : 'loads') : 'dumps';
      lines.push(
        `| ${w.name} | ${opName} | ${mb(w.bytes)} | ${ms(p)} | ${ms(j)} | ${x(ratio)} | ${tgt ? `≤${tgt}×` : '—'} | ${verdict(ratio, tgt, false, inert)} | ${x(bestRatio)} | ${ppCells.join(' | ')} |`,
      );
    }
    if (w.group === 'scaling' || w.name === 'ints_1m.p4') scaling.push(r);
  }
  lines.push('');
  lines.push(
    'CPython: `pickle.loads`/`pickle.dumps` (C accelerator; `joblib.load(BytesIO)` for the joblib file), faster of GC on/off. ' +
      'JS: `loads(bytes)` with default options, `dumps(value, {protocol})` of the value picklejar decoded, ' +
      '`new Parser().parse(bytes)` for pickleparser; forced GC before each run, outside the timed region. ' +
      (clock === 'cpu'
        ? "Times are medians of process CPU time (user+system, all threads: V8's GC and compiler threads count " +
          'against picklejar), which waiting for a busy CPU does not inflate; targets are judged on them. '
        : 'Times are wall-clock medians (targets are judged on them); CPU-time medians are in results.json. ') +
      '"ratio of best runs" divides the fastest wall-clock runs, another cross-check when other work shares the cores. pickleparser\'s per-value console.warn is silenced.',
  );
  if (notes.length) {
    lines.push('', 'Notes:', '');
    for (const n of [...new Set(notes)]) lines.push(`- ${n}`);
  }

  // Two picklejar decode timings side by side, each with its ratio to CPython.
  const pairTable = (title, bName, rows, pick, withTarget) => {
    lines.push('', title, '');
    lines.push(
      `| workload | CPython | picklejar, ${withTarget ? 'default heap' : 'GC forced'} | ratio | picklejar, ${bName} | ratio |${withTarget ? ' target |' : ''}`,
    );
    lines.push(`|---|--:|--:|--:|--:|--:|${withTarget ? '--:|' : ''}`);
    for (const r of rows) {
      const p = r.python.decode;
      const a = r.picklejar.decode;
      const b = pick(r);
      const t = TARGETS.decode[r.workload.group];
      const target = withTarget ? ` ${t ? `≤${t}×` : '—'} |` : '';
      lines.push(
        `| ${r.workload.name} | ${ms(p)} | ${ms(a)} | ${p ? x(val(a) / val(p)) : '—'} | ${ms(b)} | ${p ? x(val(b) / val(p)) : '—'} |${target}`,
      );
    }
  };
  const steady = results.filter((r) => r.picklejar.decodeNoForcedGc && !r.picklejar.decodeNoForcedGc.na);
  if (steady.length) {
    pairTable(
      '## picklejar decode with and without a forced full GC before each run',
      'no forced GC',
      steady,
      (r) => r.picklejar.decodeNoForcedGc,
      false,
    );
  }
  const young = results.filter(
    (r) => r.picklejar.decodeBigYoung && !r.picklejar.decodeBigYoung.na && !r.picklejar.decodeBigYoung.error,
  );
  if (young.length) {
    const semi = young[0].picklejar.decodeBigYoung.semi;
    pairTable(
      `## picklejar decode in \`node --max-semi-space-size=${semi}\` (a larger young generation; fresh process, GC forced)`,
      'larger young generation',
      young,
      (r) => r.picklejar.decodeBigYoung,
      true,
    );
  }

  if (scaling.length > 1) {
    lines.push('', '## Scaling (mixed ints, decode)', '');
    lines.push(
      '| ints | file | CPython ms | CPython ms per 1M | picklejar ms | picklejar ms per 1M | pickleparser ms per 1M |',
    );
    lines.push('|--:|--:|--:|--:|--:|--:|--:|');
    scaling.sort((a, b) => a.workload.count - b.workload.count);
    for (const r of scaling) {
      const n = r.workload.count / 1e6;
      const per = (t) => (t && !t.na ? (val(t) / n).toFixed(1) : 'n/a');
      lines.push(
        `| ${r.workload.count.toLocaleString('en-US')} | ${mb(r.workload.bytes)} | ${ms(r.python.decode)} | ${per(r.python.decode)} | ${ms(r.picklejar.decode)} | ${per(r.picklejar.decode)} | ${per(r.pickleparser.decode)} |`,
      );
    }
  }

  if (memory.length) {
    lines.push(
      '',
      '## Peak memory of one decode (fresh process; RSS high-water mark minus RSS before reading the file)',
      '',
    );
    lines.push('| workload | file | basis | picklejar peak | / basis | target | | CPython peak | / basis |');
    lines.push('|---|--:|--:|--:|--:|--:|---|--:|--:|');
    for (const e of memory) {
      const w = e.workload;
      const basis = w.uncompressedBytes ?? w.bytes;
      const basisName = w.uncompressedBytes ? `${mb(basis)} (decompressed)` : `${mb(basis)} (file)`;
      const j = e.picklejar;
      const c = e.python;
      const jr = j && !j.error ? j.peakDelta / basis : undefined;
      const cr = c && !c.error ? c.peakDelta / basis : undefined;
      const inert = results.find((r) => r.workload.name === w.name)?.picklejar.decode?.note;
      lines.push(
        `| ${w.name} | ${mb(w.bytes)} | ${basisName} | ${j?.error ? 'n/a' : mb(j.peakDelta)} | ${x(jr)} | ≤${TARGETS.peakMemory}× | ${verdict(jr, TARGETS.peakMemory, false, Boolean(inert))} | ${c?.error ? 'n/a' : mb(c.peakDelta)} | ${x(cr)} |`,
      );
      if (j?.error) notes.push(`memory ${w.name}: ${j.error}`);
    }
    const memNotes = memory
      .filter((e) => e.picklejar?.error)
      .map((e) => `- picklejar memory ${e.workload.name}: ${e.picklejar.error}`);
    if (memNotes.length) lines.push('', ...memNotes);
  }

  lines.push('', '## Workloads', '');
  for (const w of manifest.workloads) lines.push(`- \`${w.file}\` (${mb(w.bytes)}): ${w.description}`);
  lines.push('');
  return lines.join('\n');
}
