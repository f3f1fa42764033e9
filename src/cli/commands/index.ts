/**
 * The commands' implementations, each loaded only when it runs (so --help, --version and usage
 * errors load no library code, and `dis` does not load the decoder). Each takes parsed arguments and
 * an Io and returns an exit status; the real work is the library's.
 */
import type { Runner } from './common.js';

export type { Runner } from './common.js';

export const RUNNERS: ReadonlyMap<string, () => Promise<Runner>> = new Map([
  ['show', async () => (await import('./show.js')).show],
  ['json', async () => (await import('./json.js')).json],
  ['dis', async () => (await import('./dis.js')).dis],
  ['scan', async () => (await import('./scan.js')).scanCmd],
  ['convert', async () => (await import('./convert.js')).convert],
]);
