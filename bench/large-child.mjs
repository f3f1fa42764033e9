// One picklejar measurement of the large-file benchmark (bench/large.mjs), in a process of its own so
// that its peak RSS is its own: VmHWM from /proc/self/status, which exec starts afresh (getrusage's
// maxrss would carry the parent's). Prints one JSON line.
//
//   node large-child.mjs eager FILE            load(FILE): seconds, peak RSS, CRC-32 of every array
//   node large-child.mjs lazy FILE NAME        load(FILE, { lazy: true }): open time and RSS, then the
//                                              time to read array NAME, then CRC-32 of every array
//   node large-child.mjs dump FILE OUT WRITER  load(FILE), then dumpJoblib | dump | dumpTorch into OUT:
//                                              seconds and the peak RSS the write added
import { readFileSync, writeFileSync } from 'node:fs';
import zlib from 'node:zlib';

const { load, dump, dumpJoblib, dumpTorch, NDArray, Tensor, isLoaded } = await import('../dist/index.js');

const [mode, file, a3, a4] = process.argv.slice(2);

function status(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : undefined;
}
/** Reset VmHWM to the current RSS (Linux: clear_refs 5), so the next peak is one stage's own. */
function resetPeak() {
  writeFileSync('/proc/self/clear_refs', '5');
}

function entries(v) {
  if (v instanceof Map) return [...v.entries()];
  return Object.entries(v);
}

/** The bytes of an array or tensor in C order, as Python's checksum sees them. */
function bytesOf(x) {
  if (x instanceof NDArray) {
    if (x.order !== 'C' && x.shape.length > 1) throw new Error('F-order array: not in this benchmark');
    return x.raw;
  }
  if (x instanceof Tensor) {
    const b = x.storage.bytes;
    const at = x.storageOffset * x.itemsize;
    return b.subarray(at, at + x.numel * x.itemsize);
  }
  return undefined;
}

function crc(b) {
  let c = 0;
  const CHUNK = 1 << 28;
  for (let i = 0; i < b.length; i += CHUNK) c = zlib.crc32(b.subarray(i, Math.min(b.length, i + CHUNK)), c);
  return c;
}

function checks(value) {
  const out = {};
  for (const [k, v] of entries(value)) {
    const b = bytesOf(v);
    if (b !== undefined) out[k] = crc(b);
  }
  return out;
}

const now = () => performance.now() / 1000;
let result;
if (mode === 'eager') {
  const t = now();
  const value = await load(file);
  const seconds = now() - t;
  result = { seconds, peak: status('VmHWM'), crc: checks(value) };
} else if (mode === 'lazy') {
  const t = now();
  const value = await load(file, { lazy: true });
  const seconds = now() - t;
  const peakOpen = status('VmHWM');
  const target = entries(value).find(([k]) => k === a3)?.[1];
  const wasLoaded = target instanceof NDArray ? isLoaded(target) : target?.storage?.loaded;
  const t2 = now();
  bytesOf(target);
  const touchSeconds = now() - t2;
  const peak = status('VmHWM');
  result = {
    seconds,
    peakOpen,
    touchSeconds,
    peak,
    lazyBeforeTouch: wasLoaded === false,
    crc: checks(value),
  };
} else if (mode === 'dump') {
  const value = await load(file);
  globalThis.gc?.();
  const before = status('VmRSS');
  resetPeak();
  const writer = { joblib: dumpJoblib, pickle: dump, torch: dumpTorch }[a4];
  const t = now();
  await writer(a3, value);
  const seconds = now() - t;
  result = { seconds, before, peak: status('VmHWM') };
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(JSON.stringify(result) + '\n');
