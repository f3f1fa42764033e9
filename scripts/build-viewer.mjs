#!/usr/bin/env node
// Build the file viewer (viewer/) into a static folder: index.html, style.css, main.js (the page),
// worker.js (decoding) and the shipped examples. Serve the folder with any static file server.
// The viewer imports picklejar's src/ for type checking; here those imports become the built package
// (dist/, run `npm run build` first) through its `browser` entry, as a user's bundler would see it.
// Usage: node scripts/build-viewer.mjs [OUTDIR]   (default viewer/dist)
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `../../src/X.js` → dist/X.js; the public entry (src/index.js) → the package's browser build. */
const srcToDist = {
  name: 'src-to-dist',
  setup(build) {
    build.onResolve({ filter: /\/src\/.*\.js$/ }, async (args) => {
      if (!args.importer.startsWith(join(ROOT, 'viewer') + sep)) return undefined;
      const rel = args.path.slice(args.path.lastIndexOf('/src/') + 5);
      if (rel === 'index.js') return build.resolve('picklejar', { resolveDir: ROOT, kind: args.kind });
      return { path: join(ROOT, 'dist', rel) };
    });
  },
};

/**
 * Build the viewer into `outdir`; returns the bytes of each file written.
 * @example
 * await buildViewer('/tmp/site'); // then serve /tmp/site
 */
export async function buildViewer(outdir = join(ROOT, 'viewer', 'dist')) {
  if (!existsSync(join(ROOT, 'dist', 'browser.js'))) {
    throw new Error('dist/ is not built: run `npm run build` first (`npm run viewer` does both)');
  }
  mkdirSync(join(outdir, 'examples'), { recursive: true });
  await esbuild.build({
    entryPoints: { main: join(ROOT, 'viewer/src/main.ts'), worker: join(ROOT, 'viewer/src/worker.ts') },
    outdir,
    bundle: true,
    minify: true,
    // Class names appear in messages and in the show tree's fallback type names: keep them.
    keepNames: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    plugins: [srcToDist],
  });
  copyFileSync(join(ROOT, 'viewer/index.html'), join(outdir, 'index.html'));
  copyFileSync(join(ROOT, 'viewer/style.css'), join(outdir, 'style.css'));
  for (const f of readdirSync(join(ROOT, 'examples'))) {
    if (/\.(pkl|joblib|npy|npz|pt)$/.test(f))
      copyFileSync(join(ROOT, 'examples', f), join(outdir, 'examples', f));
  }
  const sizes = {};
  for (const f of ['index.html', 'style.css', 'main.js', 'worker.js'])
    sizes[f] = statSync(join(outdir, f)).size;
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = resolve(process.argv[2] ?? join(ROOT, 'viewer', 'dist'));
  const sizes = await buildViewer(out);
  const list = Object.entries(sizes)
    .map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KiB`)
    .join(', ');
  process.stdout.write(
    `viewer built in ${out}: ${list}\nserve it, e.g.: npx vite preview --outDir ${out}  or  python3 -m http.server -d ${out}\n`,
  );
}
