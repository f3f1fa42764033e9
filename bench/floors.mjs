#!/usr/bin/env node
// What the JS engine itself costs for the work behind the targets that engines.mjs shows unmet:
//
//   node bench/floors.mjs            (needs bench/out from gen_workloads.py and a build)
//
// - decode dicts_200k: picklejar's loads and msgpackr's unpack beside a plain JS loop that builds the same
//   200k {id, name, score, tags: ['a', 'b']} objects (fresh name strings, shared 'a'/'b', as a decode
//   makes them) from arrays prepared outside the timed region: the cost of the objects themselves.
// - encode dicts_200k and graph_100k: picklejar's dumps beside the identity memo alone, i.e. one
//   `get` per container reached and one `set` per new container, in pickle order (a depth-first walk
//   of the value), with nothing written. CPython needs the same operations, but its memo is a table
//   keyed by the object's address; a JS engine offers only Map/WeakMap (random identity hashes).
//   For information, the same walk with the index kept in a private class field added to each object
//   (the "return override" trick): fast, but it changes every object's hidden class for good and
//   adds a property store to it (+16 MB retained on dicts_200k), so picklejar does not do it.
//
// Rounds are interleaved; each figure is the median of the per-round medians of process CPU time
// (forced GC before each run, outside the timed region), as in engines.mjs. BENCH_ROUNDS (default 5).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(r.status ?? 1);
}
process.env.BENCH_BUDGET ??= '0.5';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');
const { measure, readBytes } = await import('./lib/measure.mjs');
const { loadMsgpackr } = await import('./lib/engines.mjs');
const pj = await import('../dist/index.js');
const msgpackr = await loadMsgpackr();
const ROUNDS = Number(process.env.BENCH_ROUNDS || '5');

/** Every container of `root` in pickle order, with repeats (each time the pickler reaches it). */
function reached(root) {
  const out = [];
  const todo = [root];
  const seen = new Set();
  while (todo.length > 0) {
    const x = todo.pop();
    if (x === null || typeof x !== 'object') continue;
    out.push(x);
    if (seen.has(x)) continue;
    seen.add(x);
    const kids = Array.isArray(x) ? x : Object.values(x);
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]);
  }
  return out;
}

function mapMemo(objs) {
  const memo = new Map();
  let n = 0;
  let got = 0;
  for (let i = 0; i < objs.length; i++) {
    const idx = memo.get(objs[i]);
    if (idx === undefined) memo.set(objs[i], n++);
    else got += idx; // a hit: the pickler writes a GET of this index
  }
  return got;
}

function weakMapMemo(objs) {
  const memo = new WeakMap();
  let n = 0;
  let got = 0;
  for (let i = 0; i < objs.length; i++) {
    const idx = memo.get(objs[i]);
    if (idx === undefined) memo.set(objs[i], n++);
    else got += idx; // a hit: the pickler writes a GET of this index
  }
  return got;
}

// The private-field variant: a base constructor that returns its argument lets a subclass add its
// private fields to any object.
class ReturnArg {
  constructor(o) {
    return o;
  }
}
let stampRun = 0;
class Stamp extends ReturnArg {
  #run = 0;
  #idx = 0;
  static memo(objs) {
    const run = ++stampRun;
    let n = 0;
    let got = 0;
    for (let i = 0; i < objs.length; i++) {
      const o = objs[i];
      if (#run in o) {
        if (o.#run === run) {
          got += o.#idx; // a hit: the pickler writes a GET of this index
          continue;
        }
      } else new Stamp(o);
      o.#run = run;
      o.#idx = n++;
    }
    return got;
  }
}

const rows = [];
const time = (label, fn) => ({ label, fn, cpu: [] });

// ---- decode dicts_200k
{
  const data = readBytes(join(OUT, 'dicts_200k.p4.pkl'));
  const value = pj.loads(data);
  const n = value.length;
  const scores = Float64Array.from(value, (d) => d.score);
  const ids = Int32Array.from(value, (d) => d.id);
  const a = value[0].tags[0];
  const b = value[0].tags[1];
  const build = () => {
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = { id: ids[i], name: 'user' + ids[i], score: scores[i], tags: [a, b] };
    }
    return out;
  };
  const fns = [
    time('picklejar loads', () => pj.loads(data)),
    time('plain JS: build the same 200k objects', build),
  ];
  if (msgpackr.mod) {
    const { Packr, Unpackr } = msgpackr.mod;
    const bytes = new Packr({ useRecords: false }).pack(value);
    const unpackr = new Unpackr({ useRecords: false, int64AsType: 'auto' });
    fns.splice(
      1,
      0,
      time('msgpackr unpack', () => unpackr.unpack(bytes)),
    );
  }
  rows.push({ title: 'decode dicts_200k.p4', fns });
}

// ---- encode: the identity memo alone
for (const name of ['dicts_200k.p4', 'graph_100k.p4']) {
  const value = pj.loads(readBytes(join(OUT, `${name}.pkl`)));
  const objs = reached(value);
  const distinct = new Set(objs).size;
  rows.push({
    title: `encode ${name}: ${objs.length} containers reached, ${distinct} distinct`,
    fns: [
      time('picklejar dumps', () => pj.dumps(value, { protocol: 4 })),
      time('identity memo alone: Map get/set', () => mapMemo(objs)),
      time('identity memo alone: WeakMap get/set', () => weakMapMemo(objs)),
      time('(not used) private-field stamp', () => Stamp.memo(objs)),
    ],
  });
}

for (let r = 0; r < ROUNDS; r++) {
  for (const row of rows) for (const f of row.fns) f.cpu.push(measure(f.fn).cpuMs);
}
const median = (xs) => {
  const v = [...xs].sort((x, y) => x - y);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
console.log(`${ROUNDS} rounds, process CPU time, median ms (range over rounds); Node ${process.version}`);
for (const row of rows) {
  console.log(`\n| ${row.title} | ms |\n|---|--:|`);
  for (const f of row.fns) {
    const v = median(f.cpu);
    console.log(
      `| ${f.label} | ${v.toFixed(1)} (${Math.min(...f.cpu).toFixed(1)}–${Math.max(...f.cpu).toFixed(1)}) |`,
    );
  }
}
