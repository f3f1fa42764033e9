#!/usr/bin/env node
// The README's viewer screenshot: builds the viewer into a temporary folder, serves it on 127.0.0.1,
// opens an example in headless Chromium (/usr/bin/chromium) and writes a PNG.
// Usage: node scripts/viewer-screenshot.mjs [OUT.png] [EXAMPLE]   (npm run build first)
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { chromium } from 'playwright-core';
import { buildViewer } from './build-viewer.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(ROOT, 'viewer', 'screenshot.png'));
const example = process.argv[3] ?? 'examples/model.joblib';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

const site = mkdtempSync(join(tmpdir(), 'pj-shot-'));
await buildViewer(site);
const server = createServer((req, res) => {
  const file = normalize(join(site, decodeURIComponent((req.url ?? '/').split('?')[0])));
  if (!file.startsWith(site + sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 880, height: 900 }, colorScheme: 'light' });
  await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
  await page.click(`button[data-example="${example}"]`);
  await page.waitForSelector('body[data-state="done"]', { state: 'attached' });
  await page.screenshot({ path: out });
  process.stdout.write(`${out}: ${statSync(out).size} bytes\n`);
} finally {
  await browser.close();
  server.close();
  rmSync(site, { recursive: true, force: true });
}
