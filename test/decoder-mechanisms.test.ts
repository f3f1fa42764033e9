/**
 * The decoder's performance mechanisms keep their invariants (each stated once where it lives):
 * - lists with APPENDS batches pending are never seen by anything outside the loop (src/unpickle/lists.ts);
 * - memo writes skipped by the reach pass are never read (src/unpickle/memo.ts; test/memo.test.ts);
 * - a fresh list replaced at its first APPENDS, and a dict upgraded to a Map, leave no reference to
 *   the old object (the loop's fresh lists; src/unpickle/dicts.ts; CPython's sharing is compared in
 *   test/sharing.test.ts and test/large-lists.test.ts);
 * - the windowed input (files and streams of any size, src/unpickle/machine.ts) decodes every fixture
 *   exactly as the whole input in memory does, with the same errors at the same offsets.
 */
import { describe, expect, it } from 'vitest';
import { loads, Tuple, UnpicklingError } from '../src/index.js';
import { ChunkSource, type ByteSource } from '../src/bytes/source.js';
import { familySet } from '../src/families.js';
import { unpickleSource } from '../src/unpickle/index.js';
import { describe as describeValue } from './helpers/describe.js';
import { loadIndex, loadOptionsFor, readFixtureBytes, readMeta } from './helpers/fixtures.js';

const enc = new TextEncoder();
const ints = (n: number, from = 0): number[] => {
  const out: number[] = [];
  for (let i = from; i < from + n; i++) out.push(0x4a, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0); // BININT
  return out;
};
/** MARK + 1000-item APPENDS batches of n ints (protocol 2). */
const appends = (n: number, from = 0): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1000) out.push(0x28, ...ints(Math.min(1000, n - i), from + i), 0x65);
  return out;
};
const callF = (memo: number): number[] => [...enc.encode('cmod\nf\n'), 0x68, memo, 0x85, 0x52, 0x30]; // f(memo) then POP

describe('large lists are complete whenever something outside the loop sees them', () => {
  it('a constructor called between APPENDS batches, and the caller, see the exact length', () => {
    const seen: number[] = [];
    const data = Uint8Array.from([
      0x80,
      2,
      0x5d,
      0x71,
      0,
      ...appends(20000),
      ...callF(0),
      ...appends(20000, 20000),
      ...callF(0),
      0x2e,
    ]);
    const v = loads(data, {
      constructors: { 'mod.f': (args) => seen.push((args[0] as unknown[]).length) },
    }) as number[];
    expect(seen).toEqual([20000, 40000]);
    expect(v.length).toBe(40000);
    expect(Object.keys(v).length).toBe(40000); // no holes
    expect(v[39999]).toBe(39999);
  });

  it('a persistentLoad hook sees the exact length too', () => {
    const seen: number[] = [];
    const data = Uint8Array.from([0x80, 2, 0x5d, 0x71, 0, ...appends(17000), 0x68, 0, 0x51, 0x30, 0x2e]);
    loads(data, { persistentLoad: (pid) => seen.push((pid as unknown[]).length) });
    expect(seen).toEqual([17000]);
  });
});

describe('replaced lists and upgraded dicts leave no stale reference', () => {
  it('a list fetched from the memo before its first APPENDS is the filled list', () => {
    const v = loads(
      Uint8Array.from([0x5d, 0x71, 0, 0x68, 0, 0x28, 0x4b, 1, 0x4b, 2, 0x65, 0x86, 0x2e]),
    ) as Tuple<number[]>;
    expect(v[0]).toBe(v[1]);
    expect(v[0]).toEqual([1, 2]);
  });

  it('a default-mode dict shared through the memo and DUP becomes one Map everywhere', () => {
    // d = {}; p = (d, d (DUP)); d[1] = 2 (the int key upgrades it); (d, p)
    const data = Uint8Array.from([
      0x7d, 0x71, 0, 0x32, 0x86, 0x71, 1, 0x30, 0x68, 0, 0x4b, 1, 0x4b, 2, 0x73, 0x68, 1, 0x86, 0x2e,
    ]);
    const [d, pair] = loads(data) as [Map<unknown, unknown>, Tuple<unknown>];
    expect(d).toBeInstanceOf(Map);
    expect(pair[0]).toBe(d);
    expect(pair[1]).toBe(d);
    expect(d.get(1)).toBe(2);
  });
});

/** A source that is not in memory: the fixture in random small chunks. */
function chunked(data: Uint8Array, seed: number): ByteSource {
  const chunks: Uint8Array[] = [];
  let s = seed;
  for (let at = 0; at < data.length;) {
    s = (s * 1103515245 + 12345) >>> 0;
    const n = 1 + (s % 700);
    chunks.push(data.slice(at, at + n));
    at += n;
  }
  return new ChunkSource(chunks);
}

describe('windowed input decodes as in-memory input does', () => {
  const windowing = { window: 1024, ahead: 300 };
  const entries = loadIndex().filter((e) => ['core', 'stdlib', 'numpy', 'ml', 'joblib'].includes(e.family));
  it('every pickle and uncompressed joblib fixture, the same value or the same error', () => {
    let compared = 0;
    const differ: string[] = [];
    for (const entry of entries) {
      const meta = readMeta(entry);
      if (meta.multi) continue;
      for (const f of entry.files) {
        if (!(f.kind === 'pickle' || (f.kind === 'joblib' && /\.raw\.|\.c0\./.test(f.path)))) continue;
        const bytes = readFixtureBytes(f.path);
        const { options } = loadOptionsFor(meta);
        const outcome = (run: () => unknown): string => {
          try {
            return JSON.stringify(describeValue(run()));
          } catch (e) {
            const err = e as UnpicklingError;
            return `error ${err.code} at ${err.offset}`;
          }
        };
        const memory = outcome(() => loads(bytes, { ...options, lossless: true }));
        const windowed = outcome(() =>
          unpickleSource(
            chunked(bytes, bytes.length),
            { ...options, lossless: true },
            familySet(),
            undefined,
            windowing,
          ),
        );
        if (memory !== windowed) differ.push(`${f.path}: ${memory.slice(0, 80)} vs ${windowed.slice(0, 80)}`);
        compared++;
      }
    }
    expect(differ.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThan(1500);
  });

  it('cut files fail with the same error code and offset, and large payloads past the window read whole', () => {
    const big = 'x'.repeat(5000);
    const str = enc.encode(big);
    // BINUNICODE of 5000 bytes, BINBYTES of 3000, a protocol-0 STRING line longer than the window.
    const data = Uint8Array.from([
      0x80,
      2,
      0x28,
      0x58,
      ...[5000, 0, 0, 0].map((x, i) => (i === 0 ? 5000 & 0xff : i === 1 ? 5000 >> 8 : 0)),
      ...str,
      0x42,
      3000 & 0xff,
      3000 >> 8,
      0,
      0,
      ...new Uint8Array(3000).fill(7),
      ...enc.encode(`S'${'y'.repeat(2500)}'\n`),
      0x74,
      0x2e,
    ]);
    const whole = loads(data) as unknown[];
    const w = unpickleSource(chunked(data, 1), {}, familySet(), undefined, windowing) as unknown[];
    expect(w).toEqual(whole);
    expect(w[0]).toBe(big);
    for (const cut of [3, 100, 5005, 5010, 8000, data.length - 1]) {
      const prefix = data.subarray(0, cut);
      const code = (run: () => unknown): string => {
        try {
          run();
          return 'decoded';
        } catch (e) {
          return `${(e as UnpicklingError).code} ${(e as UnpicklingError).offset}`;
        }
      };
      expect(
        code(() => unpickleSource(chunked(prefix, cut), {}, familySet(), undefined, windowing)),
        `cut at ${cut}`,
      ).toBe(code(() => loads(prefix)));
    }
  });
});
