/**
 * Every reader of untrusted bytes, for the hostile suite: decoding (both modes, one pickle and all of
 * them), the disassembler and the scanner. Each must either answer or throw a PickleError.
 */
import { expect } from 'vitest';
import { loads, loadsAll, PickleError } from '../../src/index.js';
import type { LoadOptions } from '../../src/unpickle/options.js';
import { disassemble } from '../../src/tools/dis.js';
import { genops } from '../../src/tools/genops.js';
import { scan } from '../../src/tools/scan/index.js';
import { decompressJoblib } from '../../src/joblib/compress.js';

/** The scanner's decompress hook, with a cap so a bomb cannot blow up the scan. */
export const scanDecompress = (d: Uint8Array): Uint8Array | undefined => decompressJoblib(d, 64 << 20);

export type Reader = (data: Uint8Array) => unknown;

export const READERS: readonly [string, Reader][] = [
  ['loads', (d) => loads(d, { dangerousGlobals: 'inert' })],
  ['loads lossless', (d) => loads(d, { lossless: true })],
  ['loadsAll', (d) => loadsAll(d)],
  ['disassemble', (d) => disassemble(d, { all: true })],
  ['genops', (d) => [...genops(d)].length],
  ['scan', (d) => scan(d, { decompress: scanDecompress })],
];

/** Run every reader on `data`; any throw that is not a PickleError fails with the reader's name. */
export function allReadersSurvive(data: Uint8Array, context: string, options?: LoadOptions): void {
  for (const [name, read] of READERS) {
    try {
      if (options && name.startsWith('loads')) loads(data, options);
      else read(data);
    } catch (e) {
      if (!(e instanceof PickleError)) {
        expect.fail(
          `${context}: ${name} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? String(e)}`,
        );
      }
    }
  }
}
