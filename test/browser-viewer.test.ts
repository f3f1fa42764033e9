/**
 * The file viewer (viewer/, built by scripts/build-viewer.mjs) in headless Chromium: it opens the
 * shipped examples (the example buttons and a picked file), shows the scan verdict first, the show
 * tree (the same nodes `picklejar show` prints), the disassembly and working downloads; a dangerous
 * pickle gets a dangerous verdict; a torch file downloads as safetensors; a screenshot is not blank.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  browserSkipReason,
  launchChromium,
  ROOT,
  serveStatic,
  type StaticServer,
} from './helpers/browser.js';
import {
  buildShowTree,
  disassemble,
  load,
  loadsSafetensors,
  dumpsSafetensors,
  torchToSafetensors,
  renderShowText,
  toJsonPickle,
} from '../src/index.js';
import { FIXTURES_DIR } from './helpers/fixtures.js';

const skip = browserSkipReason();

describe.skipIf(skip !== undefined)(`viewer in Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let page: Page;
  let site = '';

  beforeAll(async () => {
    site = mkdtempSync(join(tmpdir(), 'pj-viewer-'));
    const { buildViewer } = (await import(join(ROOT, 'scripts/build-viewer.mjs'))) as {
      buildViewer(out: string): Promise<Record<string, number>>;
    };
    await buildViewer(site);
    server = await serveStatic({}, site);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/index.html`);
    await page.waitForSelector('body[data-state="idle"]', { state: 'attached' });
    expect(errors).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (site) rmSync(site, { recursive: true, force: true });
  });

  async function opened(): Promise<void> {
    await page.waitForSelector('body[data-state="done"]', { state: 'attached', timeout: 30_000 });
  }

  /** Every line of the text view of `path` is in the HTML tree, in order: the page renders the same nodes. */
  async function expectSameTreeAsText(path: string): Promise<void> {
    const value = await load(path, { lossless: true });
    const text = renderShowText(buildShowTree(value, { lossless: true, depth: 8, items: 50, width: 120 }));
    // (Page-side code as text: this tsconfig has no DOM library.)
    const shown = (await page.evaluate(
      `[...document.querySelectorAll('#tree .line, #tree pre.table, #tree li.leaf.r-note')].map((e) => e.textContent)`,
    )) as string[];
    const html = shown.join('\n').split('\n');
    expect(html.map((l) => l.trim())).toEqual(text.map((l) => l.trim()));
  }

  test('an example: verdict first, then the same tree `picklejar show` prints, the disassembly, a non-blank screenshot', async () => {
    await page.click('button[data-example="examples/model.joblib"]');
    await opened();
    expect(await page.getAttribute('#verdict', 'data-verdict')).toBe('ok');
    expect(await page.textContent('#verdict .title')).toBe('No dangerous globals');
    // The verdict comes before the tree in the page.
    const order = await page.evaluate(
      `document.getElementById('verdict').compareDocumentPosition(document.getElementById('tree')) & Node.DOCUMENT_POSITION_FOLLOWING`,
    );
    expect(order).toBeTruthy();
    await expectSameTreeAsText(join(ROOT, 'examples/model.joblib'));
    expect(await page.textContent('#summary')).toMatch(/^joblib|^pickle/);
    expect(await page.textContent('#dis')).toContain('NumpyArrayWrapper');

    const shot = await page.screenshot({ fullPage: false });
    // Counted in a blank page: the viewer's content security policy rightly refuses data: fetches.
    const blank = await browser!.newPage();
    const colours = await blank.evaluate(`(async () => {
      const img = await createImageBitmap(await (await fetch('data:image/png;base64,${shot.toString('base64')}')).blob());
      const ctx = new OffscreenCanvas(img.width, img.height).getContext('2d');
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, img.width, img.height).data;
      const seen = new Set();
      for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return seen.size;
    })()`);
    await blank.close();
    expect(colours).toBeGreaterThan(20);
  });

  test('the other example, picked as a file; downloads as JSON, and jsonpickle where it has a form', async () => {
    await page.setInputFiles('#file', join(ROOT, 'examples/data.pkl'));
    await opened();
    expect(await page.getAttribute('#verdict', 'data-verdict')).toBe('ok');
    await expectSameTreeAsText(join(ROOT, 'examples/data.pkl'));
    expect(await page.textContent('#tree')).toContain('pandas DataFrame');
    expect(await page.textContent('#dis')).toBe(disassemble(readFileSync(join(ROOT, 'examples/data.pkl'))));
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.click('button[data-format="json"]'),
    ]);
    expect(json.suggestedFilename()).toBe('data.json');
    const parsed = JSON.parse(readFileSync((await json.path())!, 'utf8')) as Record<string, unknown>;
    expect(parsed['name']).toBe('weather');
    // jsonpickle has no form for DataFrames: the page says so instead of downloading.
    await page.click('button[data-format="jsonpickle"]');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(
      /jsonpickle download: PicklingError: cannot write a DataFrame/,
    );
    // A scikit-learn model has one; what the page writes is what Node writes.
    await page.click('button[data-example="examples/model.joblib"]');
    await opened();
    const [jp] = await Promise.all([
      page.waitForEvent('download'),
      page.click('button[data-format="jsonpickle"]'),
    ]);
    expect(jp.suggestedFilename()).toBe('model.jsonpickle.json');
    const model = await load(join(ROOT, 'examples/model.joblib'), { lossless: true });
    expect(readFileSync((await jp.path())!, 'utf8')).toBe(toJsonPickle(model));
  });

  test('a torch file: tree of tensors, safetensors download that reads back', async () => {
    await page.setInputFiles('#file', join(FIXTURES_DIR, 'torch/tied_state_dict.pt'));
    await opened();
    expect(await page.getAttribute('#verdict', 'data-verdict')).toBe('ok');
    await expectSameTreeAsText(join(FIXTURES_DIR, 'torch/tied_state_dict.pt'));
    expect(await page.textContent('#tree')).toContain("'fc.weight'");
    const [st] = await Promise.all([
      page.waitForEvent('download'),
      page.click('button[data-format="safetensors"]'),
    ]);
    const bytes = new Uint8Array(readFileSync((await st.path())!));
    expect(st.suggestedFilename()).toBe('tied_state_dict.safetensors');
    // The same bytes Node writes for the same file, and they read back.
    const { tensors, metadata } = torchToSafetensors(
      await load(join(FIXTURES_DIR, 'torch/tied_state_dict.pt')),
    );
    expect(Buffer.from(bytes).equals(Buffer.from(dumpsSafetensors(tensors, metadata)))).toBe(true);
    expect([...loadsSafetensors(bytes).tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
  });

  test('a dangerous pickle: the verdict says so before anything else, and decoding refuses it', async () => {
    await page.setInputFiles('#file', join(FIXTURES_DIR, 'hostile/os_system_reduce.p4.pkl'));
    await opened();
    expect(await page.getAttribute('#verdict', 'data-verdict')).toBe('dangerous');
    expect(await page.textContent('#verdict')).toContain('system');
    expect(await page.isVisible('#error')).toBe(true);
  });
});
