/**
 * Property: for arbitrary nested values of the lossless value model (with shared references and
 * cycles spliced in), `loads(dumps(x, {protocol, lossless: true}), {lossless: true})` describes
 * exactly as `x` does, at every protocol.
 */
import { describe as group, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteArray, Complex, FrozenSet, PyRange, PySlice, Tuple, dumps, loads } from '../src/index.js';
import { canonicalJson, describe } from './helpers/describe.js';

/** Strings from arbitrary UTF-16 code units, so lone surrogates occur. */
const anyString = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 })
  .map((u) => String.fromCharCode(...u));
const text = fc.oneof(fc.string({ maxLength: 12 }), anyString);
const int = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.bigInt({ min: -300n, max: 70000n }),
);
const float = fc.double();

const atom: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  int,
  float,
  text,
  fc.uint8Array({ maxLength: 16 }),
  fc.uint8Array({ maxLength: 8 }).map((b) => ByteArray.from(b)),
  fc.tuple(float, float).map(([re, im]) => new Complex(re, im)),
  fc
    .tuple(
      int,
      int,
      int.filter((s) => s !== 0n),
    )
    .map(([a, b, c]) => new PyRange(a, b, c)),
  fc.tuple(fc.option(int), fc.option(int), fc.option(int)).map(([a, b, c]) => new PySlice(a, b, c)),
);

/** Hashable keys that Python never finds equal to each other across types (str vs int). */
const key: fc.Arbitrary<unknown> = fc.oneof(
  text,
  int,
  fc.array(fc.oneof(text, int), { maxLength: 3 }).map((a) => Tuple.from_(a)),
);

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(tie('value'), { maxLength: 4 }).map((a) => Tuple.from_(a)),
    fc
      .uniqueArray(fc.tuple(key, tie('value')), {
        maxLength: 4,
        selector: ([k]) => canonicalJson(describe(k)),
      })
      .map((pairs) => new Map(pairs)),
    fc
      .uniqueArray(key, { maxLength: 5, selector: (k) => canonicalJson(describe(k)) })
      .map((ks) => new Set(ks)),
    fc
      .uniqueArray(key, { maxLength: 5, selector: (k) => canonicalJson(describe(k)) })
      .map((ks) => new FrozenSet(ks)),
  ),
}));

/** Splice references between the value's containers: shared lists, dict cycles, recursive tuples. */
function withSharing(v: unknown, picks: number[]): unknown {
  const lists: unknown[][] = [];
  const maps: Map<unknown, unknown>[] = [];
  const shareable: unknown[] = [];
  const seen = new Set<unknown>();
  const todo = [v];
  while (todo.length > 0) {
    const x = todo.pop();
    if (x === null || typeof x !== 'object' || seen.has(x)) continue;
    seen.add(x);
    if (Array.isArray(x)) {
      if (!(x instanceof Tuple)) lists.push(x);
      shareable.push(x);
      todo.push(...x);
    } else if (x instanceof Map) {
      maps.push(x);
      shareable.push(x);
      todo.push(...x.values());
    }
  }
  for (let i = 0; i + 1 < picks.length; i += 2) {
    const target = picks[i] as number;
    const ref = shareable[(picks[i + 1] as number) % Math.max(1, shareable.length)];
    if (ref === undefined) break;
    if (target % 2 === 0 && lists.length > 0) lists[target % lists.length]?.push(ref);
    else if (maps.length > 0) maps[target % maps.length]?.set(`ref${i}`, ref);
  }
  return v;
}

const shared = fc
  .tuple(value, fc.array(fc.nat(1000), { maxLength: 8 }))
  .map(([v, picks]) => withSharing(v, picks));

group('loads(dumps(x)) describes as x', () => {
  for (const protocol of [0, 1, 2, 3, 4, 5]) {
    it(`at protocol ${protocol}`, () => {
      fc.assert(
        fc.property(shared, (x) => {
          const back = loads(dumps(x, { protocol, lossless: true }), { lossless: true });
          expect(canonicalJson(describe(back))).toBe(canonicalJson(describe(x)));
        }),
        { numRuns: 150 },
      );
    });
  }
});
