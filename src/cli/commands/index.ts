/**
 * The commands' implementations, loaded only when a command runs (so --help, --version and usage
 * errors do not load the library). Each takes parsed arguments and an Io and returns an exit status;
 * the real work is the library's.
 */
import type { Runner } from './common.js';
import { convert } from './convert.js';
import { dis } from './dis.js';
import { json } from './json.js';
import { scanCmd } from './scan.js';
import { show } from './show.js';

export type { Runner } from './common.js';

export const RUNNERS: ReadonlyMap<string, Runner> = new Map([
  ['show', show],
  ['json', json],
  ['dis', dis],
  ['scan', scanCmd],
  ['convert', convert],
]);
