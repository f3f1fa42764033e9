#!/usr/bin/env node
// Does the decoder stay optimised across full GCs? Decodes one workload 12 times with a forced full GC
// before each call, under --trace-deopt, and prints per call the CPU time and how many deoptimisations
// ("bailouts") happened. A healthy decoder shows 0 bailouts after the first few calls.
//
//   node bench/deopt-check.mjs [workload] [--anchor]
//
// --anchor keeps one decoding Machine (and its resolved options) alive for the whole process, so the hidden
// classes the optimised code depends on survive the GCs (the experiment behind the suggestion in
// BENCHMARKS.md; it imports dist/unpickle/decoder.js internals and may break when they change).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');

if (process.argv[2] === '--child') {
  const [, , , file, anchorFlag] = process.argv;
  const pj = await import('../dist/index.js');
  if (anchorFlag === 'anchor') {
    const { Machine, resolveOptions } = await import('../dist/unpickle/decoder.js');
    const anchor = new Machine(new Uint8Array([0x4e, 0x2e]), resolveOptions(undefined, pj.defaultRegistry()));
    anchor.run(0);
    globalThis.__picklejarAnchor = anchor;
  }
  const b = readFileSync(file);
  const data = new Uint8Array(b.length);
  data.set(b);
  for (let i = 0; i < 12; i++) {
    globalThis.gc();
    process.stdout.write(`@@call ${i}\n`);
    const c = process.cpuUsage();
    pj.loads(data);
    const d = process.cpuUsage(c);
    process.stdout.write(`@@cpu ${((d.user + d.system) / 1000).toFixed(1)}\n`);
  }
  process.exit(0);
}

const args = process.argv.slice(2);
const anchor = args.includes('--anchor');
const name = args.find((a) => !a.startsWith('--')) ?? 'ints_250k.p4';
const manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
const w = manifest.workloads.find((x) => x.name === name);
if (!w) throw new Error(`no workload ${name} (run npm run bench first)`);
const r = spawnSync(
  process.execPath,
  [
    '--expose-gc',
    '--trace-deopt',
    fileURLToPath(import.meta.url),
    '--child',
    join(OUT, w.file),
    anchor ? 'anchor' : '',
  ],
  { encoding: 'utf8', maxBuffer: 256 << 20 },
);
if (r.status !== 0) throw new Error(r.stderr);
const rows = [];
let bailouts = 0;
let where = new Set();
for (const line of r.stdout.split('\n')) {
  if (line.startsWith('@@call')) {
    bailouts = 0;
    where = new Set();
  } else if (line.startsWith('[bailout (')) {
    bailouts++;
    const fn = /<JSFunction (\S+)/.exec(line)?.[1] ?? '?';
    const reason = /reason: ([^)]*)\)/.exec(line)?.[1] ?? '?';
    where.add(`${fn}: ${reason}`);
  } else if (line.startsWith('@@cpu')) {
    rows.push(
      `${line.slice(6).padStart(8)} ms CPU   ${String(bailouts).padStart(2)} bailouts  ${[...where].join('; ')}`,
    );
  }
}
console.log(`${name}${anchor ? ' (anchored Machine)' : ''}: one loads() per line, full GC before each`);
console.log(rows.join('\n'));
