#!/usr/bin/env node
// How much of picklejar's decode time is V8's young-generation GC: the same decodes under several
// --max-semi-space-size values (MB), each in its own child process. Workloads must exist (`npm run bench`).
//
//   node bench/gc-flags.mjs [workload ...]     (default: ints_1m.p4 dicts_200k.p4 strings_500k.p4)
//
// Prints process CPU-time median and min per decode (CPU time: robust to other work sharing the cores).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');

if (process.argv[2] === '--child') {
  const { loads } = await import('../dist/index.js');
  const out = {};
  for (const file of process.argv.slice(3)) {
    const b = readFileSync(join(OUT, file));
    const data = new Uint8Array(b.length);
    data.set(b);
    for (let i = 0; i < 3; i++) loads(data);
    const ts = [];
    for (let i = 0; i < 9; i++) {
      globalThis.gc();
      const c = process.cpuUsage();
      loads(data);
      const d = process.cpuUsage(c);
      ts.push((d.user + d.system) / 1000);
    }
    ts.sort((a, b) => a - b);
    out[file] = { median: ts[4], min: ts[0] };
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['ints_1m.p4', 'dicts_200k.p4', 'strings_500k.p4'];
const files = names.map((n) => manifest.workloads.find((w) => w.name === n)?.file).filter(Boolean);
const settings = [undefined, 16, 32, 64, 128];
console.log(`| --max-semi-space-size | ${names.join(' | ')} |`);
console.log(`|---|${names.map(() => '--:').join('|')}|`);
for (const mb of settings) {
  const flags = ['--expose-gc', ...(mb ? [`--max-semi-space-size=${mb}`] : [])];
  const r = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', ...files], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    console.log(`| ${mb ?? 'default'} | failed: ${r.stderr.trim().split('\n').pop()} |`);
    continue;
  }
  const res = JSON.parse(r.stdout.trim());
  const cells = files.map((f) => `${res[f].median.toFixed(0)} ms (min ${res[f].min.toFixed(0)})`);
  console.log(`| ${mb ?? 'default'} | ${cells.join(' | ')} |`);
}
