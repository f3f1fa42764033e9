// Peak memory of one picklejar decode in a fresh process: `node --expose-gc mem-child.mjs OUT_DIR NAME`.
// Prints one JSON line. Peak = the RSS high-water mark after the decode minus the RSS just before the file
// is read, so it counts the input bytes plus everything the decode allocates. The high-water mark is
// Linux's VmHWM, reset to the current RSS just before reading (/proc/self/clear_refs "5"); getrusage's
// maxrss is no use here because it survives exec and so starts at the parent's (the harness's) size.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [outDir, name] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
const w = manifest.workloads.find((x) => x.name === name);
const { loads } = await import('../dist/index.js');

function status(field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

globalThis.gc?.();
const base = process.memoryUsage();
const hwmReset = resetPeak();
const maxBefore = status('VmHWM');
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
const peak = (hwmReset ? status('VmHWM') : undefined) ?? process.resourceUsage().maxRSS * 1024;
globalThis.gc?.();
const after = process.memoryUsage();
console.log(
  JSON.stringify({
    baselineRss: base.rss,
    peakSource: hwmReset ? 'VmHWM' : 'maxrss (approximate: inherited across exec)',
    hwmAfterReset: maxBefore,
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
