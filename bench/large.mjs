#!/usr/bin/env node
// The large-file section of `npm run bench`: picklejar beside Python on multi-GB files, in the same run.
// A harness, not a test: it prints a table and writes bench/out/large.{md,json}; nothing here asserts.
//
// Files (generated on demand by bench/large_py.py with real joblib/torch, never committed):
//   big.joblib   ~BENCH_LARGE_GB GB (default 5) uncompressed joblib: dict of float64/float32/int64 arrays
//                and small Python objects
//   big.joblib.z ~BENCH_LARGE_Z_GB GB (default 1) of arrays, joblib zlib level 3 (a 5 GB one takes
//                minutes to compress; the decompression rate is what is measured)
//   big.pt       ~BENCH_LARGE_TORCH_GB GB (default 2) torch.save zip state dict of float32 tensors
// Every measurement runs in a fresh process (peak RSS = its own VmHWM). Values are checked: a CRC-32 of
// every array's bytes, computed by Python at generation and by each loader's process.
//
// Environment: BENCH_LARGE=0 skips the section (so does BENCH_ONLY without `large`); BENCH_LARGE_DIR
// (default $TMPDIR/picklejar-large); BENCH_LARGE_KEEP=1 keeps the files for the next run (they are
// reused when their sizes match), otherwise they are deleted at the end; BENCH_LARGE_RUNS (lazy-open
// repetitions, default 3); PYTHON.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from './lib/python.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');
const env = process.env;

if (env.BENCH_LARGE === '0' || (env.BENCH_ONLY && !env.BENCH_ONLY.split(',').includes('large'))) {
  console.error('large files: skipped (BENCH_LARGE=0 or BENCH_ONLY)');
  process.exit(0);
}

const GB = Number(env.BENCH_LARGE_GB || '5');
const Z_GB = Number(env.BENCH_LARGE_Z_GB || '1');
const TORCH_GB = Number(env.BENCH_LARGE_TORCH_GB || '2');
const RUNS = Number(env.BENCH_LARGE_RUNS || '3');
const DIR = env.BENCH_LARGE_DIR || join(tmpdir(), 'picklejar-large');
const KEEP = env.BENCH_LARGE_KEEP === '1';
const GEN_VERSION = 1;

const python = findPython();
const PY = join(HERE, 'large_py.py');

// ---- room: disk for the files and one dump at a time; memory for one eager load of the largest ----
mkdirSync(DIR, { recursive: true });
const disk = statfsSync(DIR);
const freeDisk = disk.bavail * disk.bsize;
const needDisk = (2 * GB + Z_GB * 0.6 + 2 * TORCH_GB + 1) * 1e9;
if (freeDisk < needDisk) {
  console.error(
    `large files: skipped: ${DIR} has ${(freeDisk / 1e9).toFixed(1)} GB free, needs ${(needDisk / 1e9).toFixed(1)} GB (set BENCH_LARGE_GB or BENCH_LARGE_DIR)`,
  );
  process.exit(0);
}
const needMem = Math.max(GB, TORCH_GB) * 1e9 * 1.6 + 1e9;
if (totalmem() < needMem) {
  console.error(
    `large files: skipped: ${(totalmem() / 1e9).toFixed(1)} GB of memory, needs ${(needMem / 1e9).toFixed(1)} GB (lower BENCH_LARGE_GB)`,
  );
  process.exit(0);
}

// ---- files, generated on demand (reused only with BENCH_LARGE_KEEP=1 and the same sizes) ----
const files = {
  joblib: join(DIR, 'big.joblib'),
  zlib: join(DIR, 'big.joblib.z'),
  torch: join(DIR, 'big.pt'),
};
const manifestPath = join(DIR, 'manifest.json');
let manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : undefined;
const wanted = { version: GEN_VERSION, GB, Z_GB, TORCH_GB };
if (
  !manifest ||
  JSON.stringify(manifest.wanted) !== JSON.stringify(wanted) ||
  !Object.values(files).every(existsSync)
) {
  manifest = { wanted };
  for (const f of Object.values(files)) rmSync(f, { force: true });
  const gen = (what, file, gb) => {
    console.error(`large files: generating ${file} (${gb} GB, ${what}) ...`);
    const t = performance.now();
    const r = JSON.parse(
      execFileSync(python.path, [PY, what, file, String(gb)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }).toString(),
    );
    console.error(`  ${(r.size / 1e9).toFixed(2)} GB in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    return r;
  };
  manifest.joblib = gen('gen-joblib', files.joblib, GB);
  manifest.zlib = gen('gen-zlib', files.zlib, Z_GB);
  manifest.torch = gen('gen-torch', files.torch, TORCH_GB);
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}

// ---- measurements ----
function child(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...env, NODE_OPTIONS: '', ...extraEnv },
  });
  if (r.status !== 0) {
    const error = (r.stderr || r.error?.message || `status ${r.status} ${r.signal ?? ''}`)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ');
    console.error(`  failed: ${[cmd, ...args].join(' ')}: ${error}`);
    return { error };
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
const pj = (...args) => child(process.execPath, ['--expose-gc', join(HERE, 'large-child.mjs'), ...args]);
// glibc's malloc with transparent huge pages (the kernel's THP mode `madvise`): numpy asks for them for
// its large buffers, V8 cannot; with 4 KiB pages a fresh multi-GB buffer costs a page fault per 4 KiB.
const HUGE = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };
const pjHuge = (...args) =>
  child(process.execPath, ['--expose-gc', join(HERE, 'large-child.mjs'), ...args], HUGE);
const py = (...args) => child(python.path, [PY, ...args]);
/** Several runs of a quick measurement: the one with the median time. */
function median(run) {
  const rs = Array.from({ length: RUNS }, run).filter((r) => !r.error);
  if (rs.length === 0) return run();
  rs.sort((a, b) => a.seconds - b.seconds);
  return rs[Math.floor(rs.length / 2)];
}
/** joblib.load's own peak (before the row's array copy that the lazy rows measure). */
function eagerOnly(r) {
  return r.error ? r : { ...r, peak: r.peakOpen };
}
function verdict(r, expected) {
  if (r.error) return `error: ${r.error}`;
  const bad = Object.entries(expected)
    .filter(([k, c]) => r.crc?.[k] !== c)
    .map(([k]) => k);
  return bad.length === 0 ? 'ok' : `WRONG: ${bad.join(', ')}`;
}

const rows = [];
const add = (row) => {
  rows.push(row);
  console.error(
    `  ${row.file} | ${row.op} | ${fmtS(row.pj)} ${fmtMB(row.pj?.peak)} | ${row.pyOp ?? ''} ${fmtS(row.py)} ${fmtMB(row.py?.peak)} | ${row.check ?? ''}`,
  );
};
const fmtS = (r) =>
  r === undefined
    ? ''
    : r.error
      ? 'error'
      : r.seconds < 1
        ? `${(r.seconds * 1000).toFixed(0)} ms`
        : `${r.seconds.toFixed(2)} s`;
const fmtMB = (b) =>
  b === undefined ? '' : b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${Math.max(0, b / 1e6).toFixed(0)} MB`;
const gbOf = (b) => `${(b / 1e9).toFixed(2)} GB`;

const J = manifest.joblib;
const Z = manifest.zlib;
const T = manifest.torch;

console.error(
  `large files in ${DIR}: joblib ${gbOf(J.size)}, zlib joblib ${gbOf(Z.size)} (${gbOf(Z.unpacked)} unpacked), torch ${gbOf(T.size)}`,
);

// joblib, uncompressed
{
  const a = pj('eager', files.joblib);
  const b = eagerOnly(py('joblib', files.joblib, 'none'));
  add({
    file: `joblib ${gbOf(J.size)}`,
    op: 'eager load',
    pj: a,
    pyOp: 'joblib.load',
    py: b,
    check: `${verdict(a, J.crc)} / ${verdict(b, J.crc)}`,
    unpacked: J.unpacked,
  });
  const h = pjHuge('eager', files.joblib);
  add({
    file: `joblib ${gbOf(J.size)}`,
    op: `eager load, ${HUGE.GLIBC_TUNABLES}`,
    pj: h,
    check: verdict(h, J.crc),
    unpacked: J.unpacked,
  });
  const l = median(() => pj('lazy', files.joblib, 'w32'));
  const m = median(() => py('joblib', files.joblib, 'r'));
  add({
    file: `joblib ${gbOf(J.size)}`,
    op: 'lazy open',
    pj: { seconds: l.seconds, peak: l.peakOpen, error: l.error },
    pyOp: "joblib.load(mmap_mode='r')",
    py: { seconds: m.seconds, peak: m.peakOpen, error: m.error },
    check: `${verdict(l, J.crc)} / ${verdict(m, J.crc)}`,
    lazy: true,
    untouched: l.lazyBeforeTouch,
  });
  add({
    file: `joblib ${gbOf(J.size)}`,
    op: "lazy: read one array ('w32')",
    pj: { seconds: l.touchSeconds, peak: l.peak, error: l.error },
    pyOp: 'np.array(mmapped) copy',
    py: { seconds: m.touchSeconds, peak: m.peak, error: m.error },
  });
}
// joblib, zlib
{
  const a = pj('eager', files.zlib);
  const b = eagerOnly(py('joblib', files.zlib, 'none'));
  const zname = `joblib zlib ${gbOf(Z.size)} (${gbOf(Z.unpacked)} unpacked)`;
  add({
    file: zname,
    op: 'eager load',
    pj: a,
    pyOp: 'joblib.load',
    py: b,
    check: `${verdict(a, Z.crc)} / ${verdict(b, Z.crc)}`,
    unpacked: Z.unpacked,
  });
  const h = pjHuge('eager', files.zlib);
  add({
    file: zname,
    op: `eager load, ${HUGE.GLIBC_TUNABLES}`,
    pj: h,
    check: verdict(h, Z.crc),
    unpacked: Z.unpacked,
  });
}
// torch
{
  const a = pj('eager', files.torch);
  const b = py('torch', files.torch);
  add({
    file: `torch ${gbOf(T.size)}`,
    op: 'eager load',
    pj: a,
    pyOp: 'torch.load',
    py: b,
    check: `${verdict(a, T.crc)} / ${verdict(b, T.crc)}`,
    unpacked: T.unpacked,
  });
  const h = pjHuge('eager', files.torch);
  add({
    file: `torch ${gbOf(T.size)}`,
    op: `eager load, ${HUGE.GLIBC_TUNABLES}`,
    pj: h,
    check: verdict(h, T.crc),
    unpacked: T.unpacked,
  });
  const l = median(() => pj('lazy', files.torch, 'layers.0.weight'));
  add({
    file: `torch ${gbOf(T.size)}`,
    op: 'lazy open',
    pj: { seconds: l.seconds, peak: l.peakOpen, error: l.error },
    pyOp: 'torch.load(mmap=True): not in torch 1.13',
    check: verdict(l, T.crc),
    lazy: true,
    untouched: l.lazyBeforeTouch,
  });
  add({
    file: `torch ${gbOf(T.size)}`,
    op: "lazy: read one tensor ('layers.0.weight')",
    pj: { seconds: l.touchSeconds, peak: l.peak, error: l.error },
  });
}
// writing the loaded values (peak = what the write added to the RSS the loaded value already had)
{
  const out = join(DIR, 'out.tmp');
  const w = (r) => (r.error ? r : { seconds: r.seconds, peak: r.peak - r.before, total: r.peak });
  const a = w(pj('dump', files.joblib, out, 'joblib'));
  rmSync(out, { force: true });
  const b = w(py('joblib-dump', files.joblib, out));
  rmSync(out, { force: true });
  add({
    file: `joblib ${gbOf(J.size)}`,
    op: 'dumpJoblib of the loaded value (added RSS)',
    pj: a,
    pyOp: 'joblib.dump',
    py: b,
    write: true,
  });
  const c = w(pj('dump', files.joblib, out, 'pickle'));
  rmSync(out, { force: true });
  add({
    file: `joblib ${gbOf(J.size)}`,
    op: 'dump (pickle protocol 4) of the loaded value (added RSS)',
    pj: c,
    write: true,
  });
  const d = w(pj('dump', files.torch, out, 'torch'));
  rmSync(out, { force: true });
  const e = w(py('torch-save', files.torch, out));
  rmSync(out, { force: true });
  add({
    file: `torch ${gbOf(T.size)}`,
    op: 'dumpTorch of the loaded value (added RSS)',
    pj: d,
    pyOp: 'torch.save',
    py: e,
    write: true,
  });
}

// the CLI on the same files: time and peak RSS of the whole command (GNU time's %M)
if (existsSync('/usr/bin/time')) {
  const CLI = join(HERE, '..', 'dist', 'cli.js');
  const cliRun = (...args) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, ...args], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...env, NODE_OPTIONS: '' },
    });
    const m = /([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
    if (r.status !== 0 || !m) return { error: (r.stderr || '').trim().split('\n').slice(-2).join(' ') };
    return { seconds: Number(m[1]), peak: Number(m[2]) * 1024 };
  };
  add({
    file: `joblib ${gbOf(J.size)}`,
    op: '`picklejar show` (lazy by default)',
    pj: cliRun('show', files.joblib),
  });
  add({ file: `joblib ${gbOf(J.size)}`, op: '`picklejar scan`', pj: cliRun('scan', '-q', files.joblib) });
  add({ file: `torch ${gbOf(T.size)}`, op: '`picklejar show`', pj: cliRun('show', files.torch) });
  add({ file: `torch ${gbOf(T.size)}`, op: '`picklejar scan`', pj: cliRun('scan', '-q', files.torch) });
}

// ---- report ----
const machine = `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, Python ${python.version}, numpy ${python.numpy}, joblib ${python.joblib}`;
const date = new Date().toISOString().slice(0, 10);
const lines = [
  `Machine: ${machine}; ${date}. Files in the page cache (generated just before; warm reads for both sides).`,
  '',
  '| file | operation | picklejar | peak RSS | Python | time | peak RSS | values |',
  '| --- | --- | ---: | ---: | --- | ---: | ---: | --- |',
];
for (const r of rows) {
  let pjPeak = fmtMB(r.pj?.peak);
  if (r.unpacked && r.pj?.peak) pjPeak += ` (${(r.pj.peak / r.unpacked).toFixed(2)}×)`;
  let pyPeak = fmtMB(r.py?.peak);
  if (r.unpacked && r.py?.peak) pyPeak += ` (${(r.py.peak / r.unpacked).toFixed(2)}×)`;
  lines.push(
    `| ${r.file} | ${r.op} | ${r.pj?.error ? 'error' : fmtS(r.pj)} | ${pjPeak} | ${r.pyOp ?? ''} | ${r.py ? (r.py.error ? 'error' : fmtS(r.py)) : ''} | ${pyPeak} | ${r.check ?? ''} |`,
  );
}
lines.push(
  '',
  'Peak RSS is the process high-water mark (VmHWM); ×: over the bytes of the arrays. Write rows: what the write added to the RSS after loading.',
);
const md = lines.join('\n') + '\n';
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'large.md'), md);
writeFileSync(
  join(OUT, 'large.json'),
  JSON.stringify({ machine, date, manifest: { ...manifest }, rows, freeMemAtEnd: freemem() }, null, 2),
);
process.stdout.write('\n## Large files\n\n' + md);

if (!KEEP) {
  for (const f of [...Object.values(files), manifestPath]) rmSync(f, { force: true });
  console.error(`large files: deleted the generated files (BENCH_LARGE_KEEP=1 keeps them)`);
}
