// Category 12 — property-based fuzzing (fast-check): random bytes (bare, behind a PROTO header, behind
// each compressor's magic, behind the .npy magic) and mutations of a sample of every fixture family's
// files, compressed joblib files included (mutated raw, and mutated inside then re-compressed so the
// container stays valid). Every reader (loads in both modes, loadsAll, disassemble, scan) and every
// consumer of whatever decodes (dumps, toJsonPickle, the JSON view) may only answer or throw a
// PickleError, and no shared prototype may change. Runs in a Sandbox worker with a deadline; the seeds
// are fixed (set HOSTILE_FUZZ_SEED to explore others), so a failure reproduces.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaseLog, Sandbox, watchPrototypes } from '../helpers/hostile.js';
import { FIXTURES_DIR, loadIndex } from '../helpers/fixtures.js';
import type { FuzzReport } from './scenarios.js';

const log = new CaseLog('fuzz.test.ts');
const sandbox = new Sandbox(new URL('./scenarios.ts', import.meta.url), {
  stackSizeMb: 1,
  maxOldGenerationSizeMb: 2048,
});
afterAll(async () => {
  log.print();
  await sandbox.close();
});
watchPrototypes();

const SEED = Number(process.env['HOSTILE_FUZZ_SEED'] ?? 20240611);
const DEADLINE_MS = 240_000;

/** A deterministic sample of every family's files (small ones), with one file per joblib compressor. */
function corpus(): string[] {
  const picked: string[] = [];
  const byFamily = new Map<string, string[]>();
  for (const e of loadIndex()) {
    for (const f of e.files) {
      if (!['pickle', 'joblib', 'npy', 'hostile', 'benign'].includes(f.kind)) continue;
      const size = statSync(join(FIXTURES_DIR, f.path)).size;
      if (size > 48 * 1024) continue;
      const list = byFamily.get(e.family) ?? [];
      list.push(f.path);
      byFamily.set(e.family, list);
    }
  }
  for (const [, list] of byFamily) {
    const step = Math.max(1, Math.floor(list.length / 30));
    for (let i = 0; i < list.length; i += step) picked.push(list[i] as string);
  }
  for (const method of ['zlib3', 'gzip3', 'bz29', 'lzma6', 'xz6', 'lz43']) {
    const one = [...(byFamily.get('joblib') ?? []), ...(byFamily.get('ml') ?? [])].find((p) =>
      p.includes(`.${method}.`),
    );
    if (one && !picked.includes(one)) picked.push(one);
  }
  return picked;
}

function expectClean(r: FuzzReport, label: string): void {
  log.record('12 fuzzing', `${label} (${r.runs} runs, seed ${r.seed})`, r.ms);
  const detail = r.failures
    .map((f) => `${f.reader}: ${f.error}\n  input: ${f.inputHex.slice(0, 400)}`)
    .join('\n');
  expect(r.failures, `${label}: seed ${r.seed}\n${detail}`).toEqual([]);
  expect(r.failed, `${label}: fast-check failed (seed ${r.seed})`).toBe(false);
  // The fuzz reaches both answers: values and refusals.
  expect(r.values).toBeGreaterThan(0);
  expect(r.refusals).toBeGreaterThan(0);
}

describe('12. property-based fuzzing', () => {
  it(
    'random bytes (bare, after PROTO, after each container magic) only ever give a value or a PickleError',
    async () => {
      const r = await sandbox.call<FuzzReport>('fuzzRandom', [SEED, 2000], DEADLINE_MS);
      expectClean(r, 'random bytes');
    },
    DEADLINE_MS + 30_000,
  );

  it(
    "mutations of every family's fixtures (compressed joblib files included) only ever give a value or a PickleError",
    async () => {
      const files = corpus();
      const families = new Set(
        loadIndex()
          .filter((e) => e.files.some((f) => files.includes(f.path)))
          .map((e) => e.family),
      );
      expect([...families].sort()).toEqual(['core', 'hostile', 'joblib', 'ml', 'numpy', 'stdlib']);
      expect(files.some((p) => p.includes('.xz6.'))).toBe(true);
      const r = await sandbox.call<FuzzReport>('fuzzMutations', [files, SEED + 1, 2000], DEADLINE_MS);
      expectClean(r, `mutations of ${files.length} files`);
    },
    DEADLINE_MS + 30_000,
  );
});
