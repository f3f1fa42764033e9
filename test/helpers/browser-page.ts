/**
 * The page of test/browser.test.ts: fetches the cases and the blob of fixture files from the test's
 * static server, shows that compressed joblib data asks for `ready()` first, then runs every case
 * with the same `runCase` Node runs. Bundled by esbuild with 'picklejar' resolved as a user's bundle
 * resolves it (the `browser` condition).
 */
import { dump, load, loads, ready } from '../../src/index.js'; // bundled as 'picklejar' (helpers/browser.ts)
import { runCase, type BrowserCase, type CaseResult } from './browser-cases.js';

export interface PageResult {
  beforeReady: string;
  results: CaseResult[];
  nodeGlobals: string[];
  /** What the Node-only file functions say in a page. */
  fileFunctions: string[];
}

/** What the page puts on globalThis (typed without the DOM library, which Node's tsconfig lacks). */
export interface PageGlobals {
  /** The PageResult as JSON text (deep descriptions exceed what page.evaluate serialises). */
  runFixtures(probe: readonly [number, number]): Promise<string>;
}
interface Dom {
  document: { body: { dataset: Record<string, string> } };
}

(globalThis as unknown as PageGlobals).runFixtures = async (probe) => {
  const [cases, blob] = await Promise.all([
    fetch('/cases.json').then((r) => r.json() as Promise<BrowserCase[]>),
    fetch('/blob.bin').then(async (r) => new Uint8Array(await r.arrayBuffer())),
  ]);
  let beforeReady = 'decoded';
  try {
    loads(blob.subarray(probe[0], probe[0] + probe[1]));
  } catch (e) {
    beforeReady = `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
  await ready({ write: false });
  const results = cases.map((c) => runCase(c, blob));
  const nodeGlobals = ['process', 'Buffer', 'require', 'global'].filter((n) => n in globalThis);
  const said = (e: unknown): string => `${(e as { code?: string }).code}: ${(e as Error).message}`;
  const fileFunctions = [
    await load('model.pkl').then(() => 'loaded', said),
    await dump('out.pkl', 1).then(() => 'written', said),
  ];
  return JSON.stringify({ beforeReady, results, nodeGlobals, fileFunctions } satisfies PageResult);
};
(globalThis as unknown as Dom).document.body.dataset['ready'] = 'yes';
