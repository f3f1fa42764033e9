// Timing and result checks shared by run.mjs and the profiler driver.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const BUDGET_MS = Number(process.env.BENCH_BUDGET || '1') * 1000;

/** How many timed runs: about BUDGET_MS in total, between 3 (slow) or 5 and 25. */
function runsFor(ms) {
  const lo = ms > 300 ? 3 : 5;
  return Math.max(lo, Math.min(25, Math.ceil(BUDGET_MS / Math.max(ms, 1e-3))));
}

/** The file as a fresh Uint8Array that owns its whole ArrayBuffer (no Buffer pool, offset 0). */
export function readBytes(path) {
  const b = readFileSync(path);
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

/**
 * Median of N runs of `fn` after warm-up, with a forced GC before every run (outside the timed region).
 * Wall-clock time is the result (`ms`); process CPU time (`cpuMs`, all threads, so V8's parallel GC
 * helpers count too) is kept as a cross-check for machines where other work competes for the cores.
 * `check(result)` runs on the first result and returns undefined or a problem; a throw or a problem
 * gives `{ na: reason }` instead of a time. `note` (from check returning {note}) is kept with the time.
 * `forceGc: false` skips the forced collections (steady state of a process that decodes back to back).
 */
export function measure(fn, check, { forceGc = true } = {}) {
  const collect = forceGc ? globalThis.gc : () => {};
  let first;
  let note;
  try {
    collect();
    const t = performance.now();
    let r = fn();
    first = performance.now() - t;
    const problem = check ? check(r) : undefined;
    r = undefined;
    if (typeof problem === 'string') return { na: problem };
    if (problem && problem.note) note = problem.note;
  } catch (e) {
    return {
      na: `${e?.name ?? 'Error'}: ${String(e?.message ?? e)
        .split('\n')[0]
        .slice(0, 160)}`,
    };
  }
  const warmups = first > 200 ? 1 : 3;
  for (let i = 0; i < warmups; i++) {
    collect();
    fn();
  }
  const times = [];
  const cpu = [];
  const n = runsFor(first);
  for (let i = 0; i < n; i++) {
    collect();
    const c = process.cpuUsage();
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return {
    ms: median(times),
    cpuMs: median(cpu),
    runs: n,
    minMs: times[0],
    maxMs: times[times.length - 1],
    ...(note ? { note } : {}),
  };
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function keysOf(v) {
  if (v instanceof Map) return [...v.keys()].map(String).sort();
  if (v && typeof v === 'object') return Object.keys(v).sort();
  return undefined;
}

/**
 * Cheap sanity check that a decoder returned the workload's value (so we never time a decoder that
 * produced something else). With `pj` given, also flags numpy arrays left as inert PyObjects.
 */
export function checkResult(v, w, pj) {
  const c = w.check ?? {};
  if (c.length !== undefined) {
    if (!Array.isArray(v)) return `wrong result: expected a list, got ${v?.constructor?.name ?? typeof v}`;
    if (v.length !== c.length) return `wrong result: ${v.length} items, expected ${c.length}`;
  }
  if (c.keys !== undefined) {
    const k = keysOf(v);
    if (!k || k.join(',') !== [...c.keys].sort().join(',')) return `wrong result: keys ${k?.join(',')}`;
  }
  if (pj && w.group === 'arrays' && v[0] instanceof pj.PyObject) {
    return { note: `arrays decoded as inert PyObject (${v[0].__qualname__}), not numpy arrays` };
  }
  if (pj && w.group === 'joblib') {
    const e = v instanceof Map ? v.get('embeddings') : v.embeddings;
    if (e instanceof pj.PyObject) return { note: `arrays decoded as inert PyObject (${e.__qualname__})` };
  }
  if (!pj && w.group === 'arrays' && v[0] && !ArrayBuffer.isView(v[0])) {
    return { note: `arrays kept as ${v[0]?.constructor?.name ?? typeof v[0]} placeholders` };
  }
  return undefined;
}
