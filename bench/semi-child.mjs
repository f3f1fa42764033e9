// Decode time of one workload in a process started with a larger young generation:
//   node --expose-gc --max-semi-space-size=64 semi-child.mjs OUT_DIR NAME
// Prints one JSON line (the measure() result). run.mjs starts it for the decode-heavy workloads: their
// values all survive, so V8's default 16 MB semi-space makes the scavenger copy every one of them
// (BENCHMARKS.md, "Where the time goes"); this shows what a user gets by raising it.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { measure, readBytes, checkResult } from './lib/measure.mjs';

const [outDir, name] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
const w = manifest.workloads.find((x) => x.name === name);
const pj = await import('../dist/index.js');
const data = readBytes(join(outDir, w.file));
console.log(
  JSON.stringify(
    measure(
      () => pj.loads(data),
      (v) => checkResult(v, w, pj),
    ),
  ),
);
