/**
 * The core in a real browser: `import … from 'picklejar'` bundled by esbuild for the browser (the
 * built package, `browser` condition) decodes every single-file fixture family in headless Chromium
 * to the same values as Node: pickles (core, stdlib, numpy, ml, hostile), joblib with every
 * compressor (bz2, lzma and xz included), .npy, .npz and torch archives. Each side runs the same
 * `runCase` (test/helpers/browser-cases.ts); the page's descriptions, errors and tool outputs (scan,
 * disassemble, toJsonPickle, dumps/dumpsTorch bytes) must equal Node's. One browser, one page, one
 * blob of fixture bytes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { loadIndex, readMeta, readFixtureBytes, type FixtureEntry } from './helpers/fixtures.js';
import { runCase, type BrowserCase, type CaseResult } from './helpers/browser-cases.js';
import type { PageGlobals, PageResult } from './helpers/browser-page.js';
import {
  browserSkipReason,
  bundleForBrowser,
  launchChromium,
  ROOT,
  serveStatic,
  type StaticServer,
} from './helpers/browser.js';

const skip = browserSkipReason();

/** Single-file kinds per family; other kinds (side files, out-of-band buffer files) are not files one loads. */
const KINDS = new Set(['pickle', 'joblib', 'bomb', 'npy', 'npz', 'torch', 'benign', 'hostile']);
/** Families whose every fixture also runs the tools. */
const TOOL_FAMILIES = new Set(['ml', 'torch', 'npz', 'joblib']);

function buildCases(): { cases: BrowserCase[]; blob: Uint8Array; probe: [number, number] } {
  const parts: Uint8Array[] = [];
  let size = 0;
  const place = (b: Uint8Array): [number, number] => {
    parts.push(b);
    size += b.length;
    return [size - b.length, b.length];
  };
  const cases: BrowserCase[] = [];
  let probe: [number, number] | undefined;
  const byFamily = new Map<string, FixtureEntry[]>();
  for (const e of loadIndex()) byFamily.set(e.family, [...(byFamily.get(e.family) ?? []), e]);
  for (const [family, entries] of byFamily) {
    entries.forEach((entry, n) => {
      // The big joblib fixture at one protocol: every compressor is still covered.
      const files = entry.files.filter((f) => KINDS.has(f.kind) && !/\/large\.p[235]\./.test(f.path));
      if (files.length === 0) return;
      // Pickles come at protocols 0-5: the text protocol and the highest are enough to compare decoders.
      const protocols = files.map((f) => f.protocol ?? -1);
      const keep = files.filter(
        (f) =>
          f.kind !== 'pickle' ||
          f.protocol === Math.min(...protocols) ||
          f.protocol === Math.max(...protocols),
      );
      const meta = readMeta(entry);
      const buffers = meta.buffers?.map((b) => place(readFixtureBytes(b.path)));
      for (const f of keep) {
        const at = place(readFixtureBytes(f.path));
        if (probe === undefined && /\.zlib\d\.joblib$/.test(f.path)) probe = at;
        cases.push({
          id: f.path,
          family,
          at,
          ...(meta.extensions ? { extensions: meta.extensions } : {}),
          ...(meta.persistent ? { persistent: true } : {}),
          ...(buffers ? { buffers } : {}),
          ...(f.kind === 'bomb' ? { maxInputBytes: 1 << 20 } : {}),
          // The tools on a sample: small files of the container families, every 10th fixture elsewhere.
          tools:
            f.kind !== 'bomb' &&
            !f.path.includes('/large.') &&
            (f.protocol === undefined || f.protocol === Math.max(...protocols)) &&
            (TOOL_FAMILIES.has(family) || n % 10 === 0),
        });
      }
    });
  }
  const blob = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    blob.set(p, o);
    o += p.length;
  }
  if (!probe) throw new Error('no zlib joblib fixture');
  return { cases, blob, probe };
}

describe.skipIf(skip !== undefined)(`in Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let page: Awaited<ReturnType<Browser['newPage']>>;
  const built = buildCases();

  beforeAll(async () => {
    const script = await bundleForBrowser(join(ROOT, 'test/helpers/browser-page.ts'));
    server = await serveStatic({
      '/index.html':
        '<!doctype html><meta charset="utf-8"><title>picklejar</title><script type="module" src="/page.js"></script>',
      '/page.js': script,
      '/cases.json': JSON.stringify(built.cases),
      '/blob.bin': built.blob,
    });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.url}/index.html`);
    await page.waitForSelector('body[data-ready="yes"]', { state: 'attached' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('every single-file fixture decodes to what Node decodes; tools give the same output', async () => {
    const families = new Set(built.cases.map((c) => c.family));
    expect([...families].sort()).toEqual([
      'core',
      'hostile',
      'joblib',
      'ml',
      'npz',
      'numpy',
      'stdlib',
      'torch',
    ]);
    const compressors = new Set(
      built.cases.map((c) => /\.(zlib|gzip|bz2|lzma|xz|lz4)\d\.joblib$/.exec(c.id)?.[1]),
    );
    expect([...compressors].filter(Boolean).sort()).toEqual(['bz2', 'gzip', 'lz4', 'lzma', 'xz', 'zlib']);

    const got = JSON.parse(
      await page.evaluate((probe) => (globalThis as unknown as PageGlobals).runFixtures(probe), built.probe),
    ) as PageResult;

    expect(got.nodeGlobals).toEqual([]);
    expect(got.fileFunctions).toEqual([
      'unsupported: load(path) works on files and needs Node; in a browser use loads(new Uint8Array(await file.arrayBuffer()))',
      'io: dump(path, value) works on files and needs Node; in a browser use dumps(value) (at root)',
    ]);
    // Before ready(), a browser bundle has no compressor and says which call brings them.
    expect(got.beforeReady).toMatch(/^unsupported: zlib-compressed data: .*await ready\(\)/);

    const want = new Map<string, CaseResult>(built.cases.map((c) => [c.id, runCase(c, built.blob)]));
    const mismatches: { id: string; key: string; browser: unknown; node: unknown }[] = [];
    let decoded = 0;
    for (const r of got.results) {
      const w = want.get(r.id)!;
      const d = r.out['desc'] as { error?: string } | undefined;
      if (d && d.error === undefined) decoded++;
      for (const key of new Set([...Object.keys(w.out), ...Object.keys(r.out)])) {
        if (JSON.stringify(r.out[key]) !== JSON.stringify(w.out[key]))
          mismatches.push({ id: r.id, key, browser: r.out[key], node: w.out[key] });
      }
    }
    expect(got.results.length).toBe(built.cases.length);
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(decoded).toBeGreaterThan(built.cases.length * 0.8);
  }, 120_000);

  test('the fixture descriptions Python wrote match for torch, npz and compressed joblib files in the page', () => {
    // A cross-check that the comparison above compares real values, not two identical errors.
    const picks = built.cases.filter((c) =>
      /torch\/legacy_p2\.pt$|npz\/savez_compressed|large\.p4\.bz29/.test(c.id),
    );
    expect(picks.length).toBe(3);
    for (const c of picks) {
      const entry = loadIndex().find((e) => e.files.some((f) => f.path === c.id))!;
      expect(runCase(c, built.blob).out['desc']).toEqual(readMeta(entry).desc);
    }
    expect(readFileSync(join(ROOT, 'package.json'), 'utf8')).toContain('"browser"');
  });
});
