// Category 8 — deep nesting. 10^6 MARKs are refused by limits.maxDepth (message naming it); 10^6-deep
// values built without marks (EMPTY_LIST + APPEND chains, TUPLE1 chains; dict and object chains at
// 10^5) decode, and every consumer then takes them without a RangeError: the encoder (dumps, protocols
// 4 and 0, and loads of its output), toJsonPickle (and fromJsonPickle of its text), the plain JSON
// view (and the CLI's show / json / scan in cli.test.ts). Each consumer must produce output or a
// PickleError.
// Category 9 — memo fan-out. 60 levels of [x, x] (and (x, x), {'a': x, 'b': x}) share one object:
// 2^60 paths. Decoding is instant and every consumer is linear (shared references are marked) or
// refuses with a PickleError; none may run exponentially.
//
// Everything runs in Sandbox workers (1 MiB stack like the main thread, heap cap, deadline), so a
// stack overflow, a hang or a memory blow-up fails the test instead of the suite.
import { afterAll, describe, expect, it } from 'vitest';
import { CaseLog, Sandbox, watchPrototypes, type ConsumerOutcome } from '../helpers/hostile.js';
import type { ScenarioReport } from './scenarios.js';

const log = new CaseLog('deep.test.ts');
const SCENARIOS = new URL('./scenarios.ts', import.meta.url);
const sandboxes: Sandbox[] = [];
afterAll(async () => {
  log.print();
  await Promise.all(sandboxes.map((s) => s.close()));
});
watchPrototypes();

function sandbox(): Sandbox {
  const s = new Sandbox(SCENARIOS, { stackSizeMb: 1, maxOldGenerationSizeMb: 4096 });
  sandboxes.push(s);
  return s;
}

/** Deadline for a 10^6 scenario: generous (a loaded 2-core machine), far below "never". */
const DEEP_DEADLINE_MS = 300_000;
/** Fan-out scenarios take milliseconds when linear; exponential ones would never finish. */
const FANOUT_DEADLINE_MS = 90_000;

function record(category: string, label: string, r: ScenarioReport): void {
  log.record(category, `${label}: ${r.decode.consumer}`, r.decode.ms);
  for (const o of r.outcomes) log.record(category, `${label}: ${o.consumer}`, o.ms);
}

/** Every consumer answered (value or PickleError), with no prototype change. */
function expectNoCrash(outcomes: readonly ConsumerOutcome[], label: string): void {
  for (const o of outcomes) {
    expect(o.kind, `${label}: ${o.consumer} threw ${o.errorName}: ${o.message}`).not.toBe('crash');
    expect(o.protoChanges, `${label}: ${o.consumer} changed prototypes`).toEqual([]);
  }
}

const byName = (r: ScenarioReport, name: string): ConsumerOutcome | undefined =>
  r.outcomes.find((o) => o.consumer === name);

describe('8. deep nesting', () => {
  it('10^6 nested MARKs are refused by limits.maxDepth, naming it, in microseconds', async () => {
    const r = await sandbox().call<ScenarioReport>('deep', ['mark', 1_000_000], 60_000);
    record('8 deep nesting', 'MARK x 10^6', r);
    expect(r.decode.kind).toBe('pickle-error');
    expect(r.decode.errorName).toBe('UnpicklingError');
    expect(r.decode.message).toMatch(
      /MARK nesting exceeds limits\.maxDepth \(10000\); raise it to allow more \(opcode MARK at byte 10002\)/,
    );
    expect(r.decode.ms).toBeLessThan(5000);
  });

  // At 10^6 each consumer runs once per chain (the JSON view through toPlainJson, which builds the
  // toJSONValue tree first). Protocol 0, toJSONValue alone and the read-backs of the consumers' output
  // (loads of dumps, fromJsonPickle of toJsonPickle) run on the 3*10^4-10^5 chains, which already
  // exceed any recursive implementation's 1 MiB stack many times over (keeps the suite near a minute).
  const AT_1E6 = ['dumps p4', 'toJsonPickle', 'toPlainJson'];
  const CHAINS: [string, 'list' | 'tuple1' | 'dict' | 'object', number, string[] | undefined][] = [
    ['EMPTY_LIST + APPEND chain', 'list', 1_000_000, AT_1E6],
    ['TUPLE1 chain', 'tuple1', 1_000_000, AT_1E6],
    ['EMPTY_LIST + APPEND chain', 'list', 100_000, undefined],
    ['TUPLE1 chain', 'tuple1', 100_000, undefined],
    ['dict chain (SETITEM)', 'dict', 100_000, undefined],
    ['object chain (NEWOBJ + BUILD)', 'object', 30_000, undefined],
  ];
  describe.concurrent('values nested without marks decode, and every consumer survives them', () => {
    for (const [label, kind, n, only] of CHAINS) {
      it(
        `${label}, depth ${n}: ${only ? only.join(', ') : 'every consumer'}`,
        async () => {
          const r = await sandbox().call<ScenarioReport>('deep', [kind, n, only], DEEP_DEADLINE_MS);
          record('8 deep nesting', `${kind} x ${n}`, r);
          expect(r.decode.kind, `${label}: decode ${r.decode.errorName} ${r.decode.message}`).toBe('value');
          expect(r.depth).toBeGreaterThanOrEqual(kind === 'object' ? n : n - 1);
          expect(r.missing.length === 0 || r.missing.every((m) => m.startsWith('JSON view'))).toBe(true);
          expectNoCrash(r.outcomes, label);
          // The consumers that can represent any depth do so (no refusal): the encoder, jsonpickle,
          // the JSON view; reading their output back works too.
          for (const name of [
            'dumps p4',
            'loads(dumps p4)',
            'toJsonPickle',
            'fromJsonPickle(toJsonPickle)',
            'toJSONValue',
            'toPlainJson',
          ]) {
            const o = byName(r, name);
            if (o) expect(o.kind, `${label}: ${name}: ${o.message}`).toBe('value');
          }
          for (const name of only ?? []) expect(byName(r, name), `${label}: ${name} ran`).toBeDefined();
        },
        DEEP_DEADLINE_MS + 30_000,
      );
    }
  });

  it(
    'jsonpickle text nested 10^6 deep (arrays; 10^5 for objects and tuples) is read without a stack overflow',
    async () => {
      const sb = sandbox();
      for (const [kind, n] of [
        ['array', 1_000_000],
        ['object', 100_000],
        ['tuple', 100_000],
      ] as const) {
        const o = await sb.call<ConsumerOutcome>('deepJsonPickle', [kind, n], DEEP_DEADLINE_MS);
        log.record('8 deep nesting', o.consumer, o.ms);
        expectNoCrash([o], o.consumer);
      }
    },
    DEEP_DEADLINE_MS * 3,
  );
});

describe('9. memo fan-out: 2^60 paths to one object', () => {
  for (const kind of ['list', 'tuple', 'dict'] as const) {
    it(
      `60 levels of ${kind === 'list' ? '[x, x]' : kind === 'tuple' ? '(x, x)' : "{'a': x, 'b': x}"}: decoding and every consumer are linear`,
      async () => {
        const r = await sandbox().call<ScenarioReport>('fanout', [kind, 60], FANOUT_DEADLINE_MS);
        record('9 memo fan-out', `${kind} x 60`, r);
        expect(r.decode.kind).toBe('value');
        expect(r.decode.ms).toBeLessThan(2000);
        expect(r.depth).toBe(61);
        expectNoCrash(r.outcomes, `${kind} fan-out`);
        for (const o of r.outcomes) {
          // Linear output: a few hundred bytes per level at most, and quick.
          if (o.outputSize !== undefined)
            expect(o.outputSize, `${o.consumer} output size`).toBeLessThan(60 * 200);
          expect(o.ms, `${o.consumer} took ${o.ms} ms`).toBeLessThan(30_000);
        }
        // Shared references are marked, so these represent the value in linear size.
        for (const name of ['dumps p4', 'dumps p0', 'loads(dumps p4)', 'toJSONValue', 'toPlainJson']) {
          const o = byName(r, name);
          if (o) expect(o.kind, `${name}: ${o.message}`).toBe('value');
        }
        const jp = byName(r, 'toJsonPickle');
        if (kind === 'tuple') {
          // jsonpickle has no references for tuples: the writer refuses instead of writing 2^60 copies.
          expect(jp?.kind).toBe('pickle-error');
          expect(jp?.errorName).toBe('PicklingError');
          expect(jp?.message).toMatch(/jsonpickle has no references for tuples and sets/);
        } else {
          expect(jp?.kind).toBe('value');
          expect(byName(r, 'fromJsonPickle(toJsonPickle)')?.kind).toBe('value');
        }
      },
      FANOUT_DEADLINE_MS + 30_000,
    );
  }

  it(
    'jsonpickle text with 60 levels of py/id fan-out reads and re-writes linearly',
    async () => {
      const outcomes = await sandbox().call<ConsumerOutcome[]>('fanoutJsonPickle', [60], FANOUT_DEADLINE_MS);
      for (const o of outcomes) {
        log.record('9 memo fan-out', o.consumer, o.ms);
        expect(o.kind, `${o.consumer}: ${o.message}`).toBe('value');
        if (o.outputSize !== undefined) expect(o.outputSize).toBeLessThan(60 * 200);
      }
      expectNoCrash(outcomes, 'jsonpickle fan-out');
    },
    FANOUT_DEADLINE_MS + 30_000,
  );
});
