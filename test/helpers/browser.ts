/**
 * Browser tests' plumbing: the system Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser is downloaded), a static file server on 127.0.0.1 started by the test, and esbuild bundles
 * of test pages that import 'picklejar' exactly as a user's bundle would (the built package through
 * node_modules, `browser` condition), with test helpers' `src/` imports pointed at the same built files.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;
  if (!existsSync(join(ROOT, 'dist/browser.js'))) return 'dist/ is not built (npm run build)';
  return undefined;
}

/** Flags for a headless run on a machine without network, GPU or sandbox support. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** One Chromium, with a fresh profile (playwright gives each launch its own --user-data-dir). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serve `routes` (URL path → bytes) and then the files under `dir` (if given) on 127.0.0.1 at a free
 * port. Paths that leave `dir` are refused.
 * @example
 * const s = await serveStatic({ '/index.html': '<h1>x</h1>' }); await page.goto(`${s.url}/index.html`);
 */
export async function serveStatic(
  routes: Record<string, string | Uint8Array>,
  dir?: string,
): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    let body: string | Uint8Array | undefined = routes[path];
    if (body === undefined && dir !== undefined) {
      const file = normalize(join(dir, path === '/' ? 'index.html' : path));
      if (file.startsWith(normalize(dir + sep)) && existsSync(file) && statSync(file).isFile()) {
        body = readFileSync(file);
      }
    }
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Bundle `entry` for the browser as a user's esbuild would: 'picklejar' is the built package found
 * through node_modules (a symlink to this checkout), and `../../src/X.js` imports of test helpers go
 * to dist/X.js, the same modules the package uses (one copy of each class, so `instanceof` holds).
 */
export async function bundleForBrowser(entry: string): Promise<string> {
  const tmp = mkdtempSync(join(tmpdir(), 'pj-browser-'));
  try {
    mkdirSync(join(tmp, 'node_modules'));
    symlinkSync(ROOT, join(tmp, 'node_modules', 'picklejar'), 'dir');
    const r = await esbuild.build({
      entryPoints: [entry],
      nodePaths: [join(tmp, 'node_modules')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'src-to-dist',
          setup(build) {
            build.onResolve({ filter: /\/src\/.*\.js$/ }, async (args) => {
              if (!args.importer.includes(`${sep}test${sep}`)) return undefined;
              const rel = args.path.slice(args.path.lastIndexOf('/src/') + 5);
              // The public entry is the package itself (its browser build), as user code imports it.
              if (rel === 'index.js') return build.resolve('picklejar', { resolveDir: tmp, kind: args.kind });
              return { path: join(ROOT, 'dist', rel) };
            });
          },
        },
      ],
    });
    return r.outputFiles[0]!.text;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
