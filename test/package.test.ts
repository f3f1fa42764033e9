/**
 * The package as a user gets it: `npm pack` of the built dist/, installed from the tarball into an
 * empty folder (offline, from npm's cache: our dependencies were fetched by `npm ci`), then used the
 * ways users use it: ESM import, CommonJS require (Node ≥ 20.19 loads this ESM package), the CLI, the
 * licence file, and browser bundles by esbuild and vite resolving the `browser` condition.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { loads } from '../src/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(join(ROOT, 'dist/index.js')) && existsSync(join(ROOT, 'dist/browser.js'));

let dir = '';
let app = '';
let packed: { files: { path: string }[]; filename: string } | undefined;

/** Run node in the app folder with `code` (ESM unless `cjs`); returns stdout, failing on any stderr. */
async function node(code: string, cjs = false): Promise<string> {
  const r = await execa(process.execPath, [...(cjs ? [] : ['--input-type=module']), '-e', code], {
    cwd: app,
    reject: false,
  });
  expect(r.stderr, `stderr of: ${code}`).toBe('');
  expect(r.exitCode).toBe(0);
  return r.stdout;
}

describe.skipIf(!built)('installed from its tarball (needs `npm run build` first)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pj-package-'));
    const r = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
    });
    packed = (JSON.parse(r.stdout) as (typeof packed)[])[0];
    app = join(dir, 'app');
    await execa('mkdir', [app]);
    writeFileSync(
      join(app, 'package.json'),
      '{"name":"app","version":"1.0.0","private":true,"type":"module"}',
    );
    const args = ['install', join(dir, packed!.filename), '--no-audit', '--no-fund', '--loglevel=error'];
    // Offline first: the dependencies are in npm's cache after `npm ci`; the registry only as a fallback.
    const offline = await execa('npm', [...args, '--offline'], { cwd: app, reject: false });
    if (offline.exitCode !== 0) await execa('npm', [...args, '--prefer-offline'], { cwd: app });
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the tarball: licence, readme, examples, dist without source maps or sources it does not ship', () => {
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js']));
    expect(files).toEqual(expect.arrayContaining(['dist/browser.js', 'dist/cli.js', 'examples/data.pkl']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => !/^(dist|examples)\/|^(LICENSE|README\.md|package\.json)$/.test(f))).toEqual(
      [],
    );
    const licence = readFileSync(join(app, 'node_modules/picklejar/LICENSE'), 'utf8');
    expect(licence).toMatch(/^MIT License/);
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/picklejar/package.json'), 'utf8')) as {
      license: string;
      keywords: string[];
      sideEffects: boolean;
    };
    expect(pkg.license).toBe('MIT');
    expect(pkg.keywords).toContain('pickle');
    expect(pkg.sideEffects).toBe(false);
  });

  test('ESM: import, decode bytes and a file, write and read back a joblib file', async () => {
    const out = await node(`
      import { loads, load, dumps, dumpJoblib, scan } from 'picklejar';
      import { join } from 'node:path';
      const ex = join('node_modules', 'picklejar', 'examples');
      const data = await load(join(ex, 'data.pkl'));
      const model = await load(join(ex, 'model.joblib'));
      await dumpJoblib('back.joblib', { a: [1, 2, 3] }, { compress: ['bz2', 3] });
      console.log(JSON.stringify([
        loads(dumps({ x: [1, 'two'] })), Object.keys(data), model.__qualname__,
        await load('back.joblib'), scan(dumps(1)).dangerous,
      ]));`);
    const here = loads(new Uint8Array(readFileSync(join(ROOT, 'examples/data.pkl')))) as object;
    expect(JSON.parse(out)).toEqual([
      { x: [1, 'two'] },
      Object.keys(here),
      'sklearn.pipeline.Pipeline',
      { a: [1, 2, 3] },
      false,
    ]);
  });

  test('CommonJS: require(esm) gives the same API, and ./package.json is exported', async () => {
    const out = await node(
      `const pj = require('picklejar');
       const fs = require('node:fs');
       const v = pj.loads(fs.readFileSync('node_modules/picklejar/examples/data.pkl'));
       console.log(JSON.stringify([typeof pj.load, typeof pj.dumpTorch, v.tags instanceof pj.Tuple,
         require('picklejar/package.json').name]));`,
      true,
    );
    expect(JSON.parse(out)).toEqual(['function', 'function', true, 'picklejar']);
    // CJS from a .cjs file inside a "type": "module" app, as a CommonJS consumer would have it.
    writeFileSync(join(app, 'use.cjs'), "console.log(Object.keys(require('picklejar')).length);\n");
    const r = await execa(process.execPath, ['use.cjs'], { cwd: app });
    const esm = await node("import * as pj from 'picklejar'; console.log(Object.keys(pj).length);");
    expect(r.stdout).toBe(esm);
  });

  test('the CLI from node_modules/.bin: show and scan of a shipped example', async () => {
    const bin = join(app, 'node_modules/.bin/picklejar');
    const show = await execa(bin, ['show', 'node_modules/picklejar/examples/model.joblib'], {
      cwd: app,
      env: { NO_COLOR: '1' },
    });
    expect(show.stdout).toContain('sklearn.pipeline.Pipeline');
    const scanned = await execa(bin, ['scan', 'node_modules/picklejar/examples/data.pkl'], {
      cwd: app,
      reject: false,
    });
    expect(scanned.exitCode).toBe(0);
  });

  test('esbuild bundles it for the browser; a loads-only bundle ships no compressor, one that calls ready() ships them', async () => {
    const bundle = async (code: string): Promise<{ text: string; inputs: string[]; parsed: string[] }> => {
      const entry = join(app, `entry-${Math.random().toString(36).slice(2)}.mjs`);
      writeFileSync(entry, code);
      const r = await esbuild.build({
        entryPoints: [entry],
        absWorkingDir: app,
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'browser',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      // Files that contribute bytes (metafile.inputs also lists files parsed and then shaken out).
      const out = Object.values(r.metafile.outputs)[0]!;
      const inputs = Object.entries(out.inputs).filter(([, v]) => v.bytesInOutput > 0);
      return {
        text: r.outputFiles[0]!.text,
        inputs: inputs.map(([k]) => k),
        parsed: Object.keys(r.metafile.inputs),
      };
    };
    const plain = await bundle("import { loads } from 'picklejar'; export const f = (b) => loads(b);");
    const all = await bundle(
      "import { loads, ready } from 'picklejar'; export const f = async (b) => { await ready(); return loads(b); };",
    );
    for (const b of [plain, all]) {
      expect(b.parsed).toContain('node_modules/picklejar/dist/browser.js');
      expect(b.parsed.filter((i) => /node:|load\.js$|atomic\.js$|\.node\.js$/.test(i))).toEqual([]);
    }
    const codecs =
      /codecs\/(zlib|lzma|bz2)\.browser\.js$|codecs\/(lz4|zstd)\.js$|fzstd|unbzip2-stream|zstd-wasm/;
    expect(plain.inputs.filter((i) => codecs.test(i))).toEqual([]);
    expect(all.inputs.filter((i) => codecs.test(i)).length).toBeGreaterThanOrEqual(8);
  });

  test('vite builds a page that imports it (browser field map and condition honoured)', async () => {
    const site = join(app, 'site');
    await execa('mkdir', [site]);
    writeFileSync(
      join(site, 'index.html'),
      '<!doctype html><script type="module" src="./main.js"></script>\n',
    );
    writeFileSync(
      join(site, 'main.js'),
      "import { loads, ready } from 'picklejar';\nawait ready({ write: false });\n" +
        'document.title = String(loads(new Uint8Array([0x80, 4, 0x4b, 42, 0x2e])));\n',
    );
    const { build } = await import('vite');
    await build({ root: site, logLevel: 'silent', build: { outDir: join(site, 'out'), target: 'es2022' } });
    const assets = readdirSync(join(site, 'out/assets'));
    // The page's bundle, plus a chunk for the zstd encoder's glue (imported only when started).
    const js = assets.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThanOrEqual(1);
    const text = js.map((f) => readFileSync(join(site, 'out/assets', f), 'utf8')).join('\n');
    expect(text).not.toMatch(/["']node:/);
    expect(text).toContain('crc32 do not match'); // the browser bzip2 decoder is in
  }, 60_000);
});
