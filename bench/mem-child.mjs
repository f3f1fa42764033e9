// Peak memory of one picklejar decode in a fresh process: `node --expose-gc mem-child.mjs OUT_DIR NAME`.
// Prints one JSON line. Peak = the process's RSS high-water mark (getrusage) after the decode, minus the
// RSS just before the file is read; so it counts the input bytes plus everything the decode allocates.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [outDir, name] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
const w = manifest.workloads.find((x) => x.name === name);
const { loads } = await import('../dist/index.js');

globalThis.gc?.();
const base = process.memoryUsage();
const maxBefore = process.resourceUsage().maxRSS * 1024;
let ok = false;
let error;
let value;
try {
  const buf = readFileSync(join(outDir, w.file));
  value = loads(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  ok = value !== undefined;
} catch (e) {
  error = `${e?.name}: ${String(e?.message).split('\n')[0].slice(0, 160)}`;
}
const peak = process.resourceUsage().maxRSS * 1024;
globalThis.gc?.();
const after = process.memoryUsage();
console.log(
  JSON.stringify({
    baselineRss: base.rss,
    maxRssBeforeRead: maxBefore,
    peakRss: peak,
    peakDelta: peak - base.rss,
    retainedDelta: after.rss - base.rss,
    arrayBuffersDelta: after.arrayBuffers - base.arrayBuffers,
    ok,
    ...(error ? { error } : {}),
  }),
);
// Keep `value` alive until after the measurement.
if (value === Symbol.for('never')) console.log('');
