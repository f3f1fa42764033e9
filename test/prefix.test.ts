/**
 * Truncation: every proper prefix of every decodable fixture file (all families in fixtures/index.json)
 * must be refused with UnpicklingError - never a value, never another error type. Files up to 4 KiB
 * are tested at every length; bigger ones at ~200 lengths, including the first and last 64.
 * Compressed joblib containers cost a decompression per attempt, so they get 48 lengths (first and
 * last 16, 16 between) whatever their size.
 */
import { describe, expect, it } from 'vitest';
import { loads, loadsAll, UnpicklingError } from '../src/index.js';
import type { LoadOptions } from '../src/unpickle/options.js';
import {
  loadIndex,
  loadOptionsFor,
  readFixtureBytes,
  readMeta,
  type FixtureFile,
  type FixtureMeta,
} from './helpers/fixtures.js';

/** File kinds `loads` accepts on their own (side buffers, joblib side files and bombs are not tested). */
const DECODABLE_KINDS = new Set(['pickle', 'joblib', 'npy', 'npz', 'torch', 'benign', 'hostile']);
const FULL_LIMIT = 4096;
const EDGE = 64;
const SAMPLES = 200;
const COMPRESSED_EDGE = 16;
const COMPRESSED_SAMPLES = 48;

/** Prefix lengths to try for a file of `n` bytes (deterministic): all when n <= full, else a sample. */
export function prefixLengths(n: number, full = FULL_LIMIT, edge = EDGE, samples = SAMPLES): number[] {
  if (n <= full) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let i = 0; i < edge; i++) {
    out.add(i);
    out.add(n - 1 - i);
  }
  const middle = samples - 2 * edge;
  for (let k = 1; k <= middle; k++) out.add(edge + Math.floor(((n - 2 * edge) * k) / (middle + 1)));
  return [...out].sort((a, b) => a - b);
}

/** zlib, gzip, bz2, xz, lzma-alone and lz4 frame magics (joblib's compressors). */
function isCompressed(b: Uint8Array): boolean {
  const [a = -1, c = -1, d = -1] = b;
  if (a === 0x78) return true;
  if (a === 0x1f && c === 0x8b) return true;
  if (a === 0x42 && c === 0x5a && d === 0x68) return true;
  if (a === 0xfd && c === 0x37 && d === 0x7a) return true;
  if (a === 0x5d && c === 0x00 && d === 0x00) return true;
  if (a === 0x04 && c === 0x22 && d === 0x4d) return true;
  // joblib 0.9-0.10 zlib container: "ZF0x..." header
  return a === 0x5a && c === 0x46;
}

function outcome(data: Uint8Array, meta: FixtureMeta, options: LoadOptions): string | undefined {
  try {
    if (meta.multi) loadsAll(data, options);
    else loads(data, options);
    return 'decoded without error';
  } catch (e) {
    if (e instanceof UnpicklingError) return undefined;
    return `threw ${(e as Error)?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 160)}`;
  }
}

/**
 * Files the library is known to accept when truncated (none today). An entry here runs in its own
 * `it.fails` case, so it shows up in every run and turns red once fixed; then delete the entry.
 */
const KNOWN_BUGS: { match: RegExp; reason: string }[] = [];

function knownBug(path: string): string | undefined {
  return KNOWN_BUGS.find((k) => k.match.test(path))?.reason;
}

/** Prefix lengths at which `data` is legitimately decodable (see FixtureFile.stops). */
function acceptable(len: number, stops: readonly number[] | undefined, multi: boolean): boolean {
  if (!stops || stops.length === 0) return false;
  // loadsAll: zero or more whole pickles; loads: reads the first pickle and ignores what follows.
  if (multi) return len === 0 || stops.includes(len);
  return len >= (stops[0] as number);
}

/** Let the event loop breathe (vitest's worker RPC times out when a test blocks for long). */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function problemsOf(files: readonly FixtureFile[], meta: FixtureMeta): Promise<string[]> {
  const problems: string[] = [];
  let lastYield = Date.now();
  // Thousands of expected errors: stack traces would dominate the run time.
  const savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (const f of files) {
      const data = readFixtureBytes(f.path);
      const { options } = loadOptionsFor(meta);
      const lengths = isCompressed(data)
        ? prefixLengths(data.length, 0, COMPRESSED_EDGE, COMPRESSED_SAMPLES)
        : prefixLengths(data.length);
      for (const len of lengths) {
        if (Date.now() - lastYield > 50) {
          Error.stackTraceLimit = savedLimit;
          await yieldToLoop();
          Error.stackTraceLimit = 0;
          lastYield = Date.now();
        }
        if (acceptable(len, f.stops, meta.multi === true)) continue;
        const bad = outcome(data.subarray(0, len), meta, options);
        if (bad !== undefined) problems.push(`${f.path} cut at ${len}/${data.length}: ${bad}`);
        if (problems.length >= 5) return problems;
      }
    }
  } finally {
    Error.stackTraceLimit = savedLimit;
  }
  return problems;
}

const index = loadIndex();
const families = [...new Set(index.map((e) => e.family))];

describe('prefix refusal', () => {
  it('the index lists fixtures', () => {
    expect(index.length).toBeGreaterThan(100);
  });

  it('prefixLengths samples edges and middle', () => {
    expect(prefixLengths(3)).toEqual([0, 1, 2]);
    const l = prefixLengths(10_000);
    expect(l.length).toBeGreaterThanOrEqual(190);
    expect(l.length).toBeLessThanOrEqual(SAMPLES);
    expect(l.slice(0, EDGE)).toEqual(Array.from({ length: EDGE }, (_, i) => i));
    expect(l.slice(-EDGE)).toEqual(Array.from({ length: EDGE }, (_, i) => 10_000 - EDGE + i));
  });

  for (const family of families) {
    describe(family, () => {
      for (const entry of index.filter((e) => e.family === family)) {
        const files = entry.files.filter((f) => DECODABLE_KINDS.has(f.kind));
        if (files.length === 0) continue;
        const ok = files.filter((f) => knownBug(f.path) === undefined);
        const buggy = files.filter((f) => knownBug(f.path) !== undefined);
        if (ok.length > 0) {
          it(entry.name, async () => {
            expect(await problemsOf(ok, readMeta(entry))).toEqual([]);
          });
        }
        if (buggy.length > 0) {
          it.fails(`${entry.name} [KNOWN BUG: ${knownBug(buggy[0]!.path)}]`, async () => {
            expect(await problemsOf(buggy, readMeta(entry))).toEqual([]);
          });
        }
      }
    });
  }
});
