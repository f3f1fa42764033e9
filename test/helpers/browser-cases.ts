/**
 * The fixture cases the browser test runs, and running one case: shared verbatim by Node (vitest,
 * on src/) and the page (bundled with the built package), so both sides do exactly the same thing
 * and their outputs are compared. Nothing here uses a Node built-in.
 */
import {
  disassemble,
  dumps,
  dumpsTorch,
  loads,
  scan,
  toJsonPickle,
  fromJsonPickle,
  tuple,
  type LoadOptions,
  PickleError,
} from '../../src/index.js';
import { describe } from './describe.js';

/** One fixture file and how to load it (mirrors test/helpers/fixtures.ts `loadOptionsFor`). */
export interface BrowserCase {
  readonly id: string;
  readonly family: string;
  /** Offset and length of the file in the blob. */
  readonly at: readonly [number, number];
  readonly extensions?: Record<string, [string, string]>;
  readonly persistent?: boolean;
  /** Out-of-band buffers, as offsets in the blob. */
  readonly buffers?: (readonly [number, number])[];
  /** limits.maxInputBytes (decompression bombs stop at a small cap). */
  readonly maxInputBytes?: number;
  /** Also run the tools (scan, disassemble, toJsonPickle, dumps/dumpsTorch) on this case. */
  readonly tools?: boolean;
}

/** What a case gives: the description of the decoded value or the error, and the tools' outputs. */
export interface CaseResult {
  readonly id: string;
  readonly out: Record<string, unknown>;
}

function errorText(e: unknown): string {
  if (e instanceof PickleError) return `${e.name}[${e.code}]: ${e.message}`;
  return `${(e as Error)?.name}: ${(e as Error)?.message}`;
}

function attempt(out: Record<string, unknown>, key: string, fn: () => unknown): void {
  try {
    out[key] = fn();
  } catch (e) {
    out[key] = { error: errorText(e) };
  }
}

const hex = (b: Uint8Array): string => {
  let h = 0x811c9dc5; // FNV-1a: a short stand-in for bytes that must be equal on both sides
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return `${b.length}:${(h >>> 0).toString(16)}`;
};

/**
 * Decode and describe one case (and run the tools when asked); `blob` holds every file.
 * @example
 * runCase(cases[0], blob) // { id, out: { desc: {...} } }
 */
export function runCase(c: BrowserCase, blob: Uint8Array): CaseResult {
  const bytes = blob.subarray(c.at[0], c.at[0] + c.at[1]).slice();
  const options: Record<string, unknown> = { lossless: true };
  if (c.extensions) {
    const table: Record<number, readonly [string, string]> = {};
    for (const [code, mn] of Object.entries(c.extensions)) table[Number(code)] = [mn[0], mn[1]];
    options['extensions'] = table;
  }
  if (c.maxInputBytes !== undefined) options['limits'] = { maxInputBytes: c.maxInputBytes };
  if (c.persistent) options['persistentLoad'] = (pid: unknown) => tuple('persistent', pid);
  if (c.buffers) options['buffers'] = c.buffers.map(([o, n]) => blob.slice(o, o + n));
  const out: Record<string, unknown> = {};
  let value: unknown;
  let ok = false;
  attempt(out, 'desc', () => {
    value = loads(bytes, options as LoadOptions);
    ok = true;
    return describe(value);
  });
  if (c.tools) {
    attempt(out, 'scan', () => JSON.parse(JSON.stringify(scan(bytes))) as unknown);
    if (c.family !== 'torch' && c.family !== 'npz')
      attempt(out, 'dis', () => hex(new TextEncoder().encode(disassemble(bytes))));
    if (ok) {
      attempt(out, 'jsonpickle', () => {
        const text = toJsonPickle(value);
        // numpy's binary form holds zlib output, whose bytes differ between node:zlib and fflate
        // (both valid): those texts are compared by what they decode to.
        if (/"values": "/.test(text))
          return { roundTrip: describe(fromJsonPickle(text, { lossless: true })) };
        return hex(new TextEncoder().encode(text));
      });
      attempt(out, 'dumps', () =>
        hex(c.family === 'torch' ? dumpsTorch(value) : dumps(value, { lossless: true, allowGlobals: true })),
      );
    }
  }
  return { id: c.id, out };
}
