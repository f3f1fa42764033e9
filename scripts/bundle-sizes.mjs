#!/usr/bin/env node
// Browser bundle sizes of typical uses of `import … from 'picklejar'`, bundled by esbuild as a user's
// bundler would (the package resolved through node_modules, `browser` condition, minified), from the
// built dist/ (run `npm run build` first). Prints a table; `--json` prints the figures.
// Usage: node scripts/bundle-sizes.mjs [--json]
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import process from 'node:process';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What each scenario's user code does. */
export const SCENARIOS = {
  'loads (plain pickles, .npy, .npz, torch)': `import { loads } from 'picklejar';
    export const run = (b) => loads(b);`,
  'loads + ready (also compressed joblib)': `import { loads, ready } from 'picklejar';
    export const run = async (b) => { await ready({ write: false }); return loads(b); };`,
  dumps: `import { dumps } from 'picklejar';
    export const run = (v) => dumps(v);`,
  'loads + scan + disassemble': `import { loads, scan, disassemble } from 'picklejar';
    export const run = (b) => [loads(b), scan(b), disassemble(b)];`,
  'show tree (buildShowTree + loads + ready)': `import { buildShowTree, loads, ready } from 'picklejar';
    export const run = async (b) => { await ready({ write: false }); return buildShowTree(loads(b)); };`,
  'everything (import * as picklejar)': `import * as pj from 'picklejar';
    export const run = () => pj;`,
};

/**
 * Bundle each scenario; returns sizes in bytes and the input files of each bundle.
 * @example
 * const { results } = await measureBundles(); // [{ name, minified, gzipped, inputs }]
 */
export async function measureBundles(scenarios = SCENARIOS) {
  const dir = mkdtempSync(join(tmpdir(), 'pj-bundle-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'picklejar'), 'dir');
    const results = [];
    for (const [name, code] of Object.entries(scenarios)) {
      const entry = join(dir, `entry-${results.length}.mjs`);
      writeFileSync(entry, code);
      const r = await esbuild.build({
        entryPoints: [entry],
        absWorkingDir: dir,
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      const out = r.outputFiles[0].contents;
      const inputs = Object.keys(r.metafile.inputs);
      results.push({ name, minified: out.length, gzipped: gzipSync(out, { level: 9 }).length, inputs });
    }
    return { results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { results } = await measureBundles();
  if (process.argv.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify(
        results.map(({ inputs: _, ...r }) => r),
        null,
        2,
      )}\n`,
    );
  } else {
    const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
    process.stdout.write('| user code | minified | gzipped |\n| --- | ---: | ---: |\n');
    for (const r of results) process.stdout.write(`| ${r.name} | ${kb(r.minified)} | ${kb(r.gzipped)} |\n`);
  }
}
