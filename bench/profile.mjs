#!/usr/bin/env node
// CPU profile of the decoder on some workloads, summarised by self time per function and per source line.
//
//   node bench/profile.mjs [workload ...]      (default: ints_1m.p4 dicts_200k.p4 strings_500k.p4)
//   PROFILE_OP=encode node bench/profile.mjs …  (profile dumps of the decoded value instead)
//
// For each workload it runs `node --cpu-prof` on a child that calls loads() repeatedly (after warm-up),
// then reads the .cpuprofile and maps the compiled lines back to src/ through source maps.
// Workloads must exist (run `npm run bench` once). Output: bench/out/profile/<name>.{cpuprofile,txt}.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const OUT = join(HERE, 'out');
const PROF = join(OUT, 'profile');
// The profiled code is a private copy of dist/ so that a rebuild during profiling cannot shift the lines.
const SNAP = join(PROF, 'dist');

if (process.argv[2] === '--child') {
  // Child: decode one workload for about SECONDS seconds.
  const [, , , file, seconds, dist, op] = process.argv;
  const { loads, dumps } = await import(pathToFileURL(join(dist, 'index.js')).href);
  const b = readFileSync(file);
  const data = new Uint8Array(b.length);
  data.set(b);
  const value = op === 'encode' ? loads(data) : undefined;
  const protocol = data[0] === 0x80 ? data[1] : 2;
  const once = op === 'encode' ? () => dumps(value, { protocol }) : () => loads(data);
  for (let i = 0; i < 3; i++) once();
  const end = performance.now() + Number(seconds) * 1000;
  let n = 0;
  while (performance.now() < end) {
    once();
    n++;
  }
  console.log(JSON.stringify({ runs: n }));
  process.exit(0);
}

const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['ints_1m.p4', 'dicts_200k.p4', 'strings_500k.p4'];
const manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
mkdirSync(PROF, { recursive: true });
rmSync(SNAP, { recursive: true, force: true });
// Compiled here with source maps (the package's dist/ ships without them).
const tsc = spawnSync(
  process.execPath,
  [
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(ROOT, 'tsconfig.build.json'),
    '--sourceMap',
    '--outDir',
    SNAP,
  ],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// Lines are mapped to the current src/ text: warn when dist/ is older than the decoder source.
// (Build first: `npx tsc -p tsconfig.build.json`.)
try {
  const { statSync } = await import('node:fs');
  if (
    statSync(join(ROOT, 'src/unpickle/decoder.ts')).mtimeMs >
    statSync(join(ROOT, 'dist/unpickle/decoder.js')).mtimeMs
  ) {
    console.error(
      'warning: src/unpickle/decoder.ts is newer than dist/ (run `npm run build`); line texts may not match',
    );
  }
} catch {
  /* layout changed: no check */
}
const seconds = Number(process.env.PROFILE_SECONDS || '4');
const OP = process.env.PROFILE_OP === 'encode' ? 'encode' : 'decode';
const TOP = Number(process.env.PROFILE_TOP || '15');
const maps = new Map();

for (const name of names) {
  const w = manifest.workloads.find((x) => x.name === name);
  if (!w) {
    console.error(`no workload ${name}`);
    continue;
  }
  const tmp = join(PROF, `tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const r = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${tmp}`,
      '--cpu-prof-interval=200',
      fileURLToPath(import.meta.url),
      '--child',
      join(OUT, w.file),
      String(seconds),
      SNAP,
      OP,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    console.error(`${name}: child failed\n${r.stderr}`);
    continue;
  }
  const runs = JSON.parse(r.stdout.trim()).runs;
  const file = readdirSync(tmp).find((f) => f.endsWith('.cpuprofile'));
  const dest = join(PROF, `${name}${OP === 'encode' ? '.encode' : ''}.cpuprofile`);
  renameSync(join(tmp, file), dest);
  rmSync(tmp, { recursive: true, force: true });
  const text = summarise(
    JSON.parse(readFileSync(dest, 'utf8')),
    `${name} (${runs} ${OP}s in ${seconds}s, ${((seconds * 1000) / runs).toFixed(1)} ms each incl. profiler overhead)`,
  );
  writeFileSync(join(PROF, `${name}${OP === 'encode' ? '.encode' : ''}.txt`), text);
  console.log(text);
}

/** Self time per function and per (source-mapped) line. */
function summarise(profile, title) {
  const { nodes, samples, timeDeltas } = profile;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < samples.length; i++)
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
  let total = 0;
  for (const v of selfUs.values()) total += v;

  const fnTime = new Map();
  const lineTime = new Map();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const fnKey = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    fnTime.set(fnKey, (fnTime.get(fnKey) ?? 0) + us);
    // positionTicks split a node's self samples over its lines.
    const ticks = n.positionTicks;
    const hits = n.hitCount || 1;
    if (ticks && cf.url) {
      for (const t of ticks) {
        // V8 reports ticks of inlined callees with the callee's own line numbers under the caller's node;
        // a line above the caller's first line must be such a callee: name the likely one instead.
        const key =
          t.line - 1 < cf.lineNumber
            ? `${inlinedCallee(nodes, cf, t.line)}  [in ${cf.functionName || 'anonymous'}]`
            : mapLine(cf.url, t.line) + `  [${cf.functionName || 'anonymous'}]`;
        lineTime.set(key, (lineTime.get(key) ?? 0) + (us * t.ticks) / hits);
      }
    } else {
      const key = `${fnKey} (no line info)`;
      lineTime.set(key, (lineTime.get(key) ?? 0) + us);
    }
  }
  const fmt = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(
        ([k, us]) =>
          `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      )
      .join('\n');
  return `=== ${title}\n-- self time by function\n${fmt(fnTime)}\n-- self time by line (dist mapped to src)\n${fmt(lineTime)}\n`;
}

/**
 * Guess the inlined callee a tick line belongs to: among functions the caller calls (its descendants up
 * to 3 levels anywhere in the call tree, from other scripts), the one starting nearest at or before `line`.
 */
function inlinedCallee(nodes, caller, line) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const same = (a, b) =>
    a.url === b.url && a.lineNumber === b.lineNumber && a.functionName === b.functionName;
  const callees = [];
  const visit = (n, depth) => {
    if (depth > 3) return;
    for (const c of n.children ?? []) {
      const child = byId.get(c);
      if (!child) continue;
      callees.push(child.callFrame);
      visit(child, depth + 1);
    }
  };
  for (const n of nodes) if (same(n.callFrame, caller)) visit(n, 1);
  let best;
  for (const cf of callees) {
    if (!cf.url.startsWith('file://') || cf.url === caller.url) continue;
    const start = cf.lineNumber + 1;
    if (start <= line && (!best || start > best.lineNumber + 1)) best = cf;
  }
  if (!best) return `(inlined code, line ${line} of another script)`;
  return `${mapLine(best.url, line)} (${best.functionName}, inlined)`;
}

function shortUrl(url) {
  if (url.startsWith('file://')) return relative(ROOT, fileURLToPath(url).replace(SNAP, join(ROOT, 'dist')));
  return url;
}

/** `src/x.ts:LINE: text` for a dist line (1-based), via dist's .js.map; falls back to the dist line. */
function mapLine(url, line) {
  const short = shortUrl(url);
  if (!url.startsWith('file://')) return `${short}:${line}`;
  const path = fileURLToPath(url);
  if (!maps.has(path)) {
    let sm = null;
    if (existsSync(path + '.map')) {
      const payload = JSON.parse(readFileSync(path + '.map', 'utf8'));
      // Sources are relative to the real dist/ folder, not to the snapshot.
      sm = { map: new SourceMap(payload), dir: dirname(path.replace(SNAP, join(ROOT, 'dist'))) };
    }
    maps.set(path, sm);
  }
  const sm = maps.get(path);
  if (!sm) return `${short}:${line}`;
  // The last mapping on that generated line (TypeScript keeps statements on their own lines).
  const e = sm.map.findEntry(line - 1, 10_000);
  if (!e || e.originalLine === undefined || e.generatedLine !== line - 1) return `${short}:${line}`;
  const src = resolve(
    sm.dir,
    e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : e.originalSource,
  );
  let textLine = '';
  try {
    textLine = readFileSync(src, 'utf8').split('\n')[e.originalLine]?.trim().slice(0, 70) ?? '';
  } catch {
    /* source not shipped */
  }
  return `${relative(ROOT, src)}:${e.originalLine + 1}: ${textLine}`;
}
