import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loads, loadsAll, PickleError } from '../src/index.js';
import { SEEDS } from './helpers/seeds.js';

const seeds = SEEDS.map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

/** Decoding may succeed or throw a PickleError; anything else (TypeError, RangeError, hang) fails. */
function decodeSafely(data: Uint8Array): void {
  const before = Object.getOwnPropertyNames(Object.prototype).length;
  for (const lossless of [false, true]) {
    try {
      loads(data, { lossless, dangerousGlobals: 'inert' });
    } catch (e) {
      if (!(e instanceof PickleError)) throw e;
    }
    try {
      loadsAll(data, { lossless });
    } catch (e) {
      if (!(e instanceof PickleError)) throw e;
    }
  }
  expect(Object.getOwnPropertyNames(Object.prototype).length).toBe(before);
}

describe('fuzzing', () => {
  it('every seed decodes', () => {
    for (const s of seeds) expect(Array.isArray(loads(s))).toBe(true);
  });

  it('random bytes only ever raise PickleError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => decodeSafely(bytes)),
      { numRuns: 3000 },
    );
  });

  it('random bytes after a PROTO header only ever raise PickleError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 48 }), (p, bytes) =>
        decodeSafely(Uint8Array.from([0x80, p, ...bytes])),
      ),
      { numRuns: 3000 },
    );
  });

  it('mutated real pickles only ever raise PickleError', () => {
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })), {
        minLength: 1,
        maxLength: 6,
      }),
    });
    fc.assert(
      fc.property(mutation, ({ seed, edits }) => {
        let bytes = Array.from(seeds[seed] as Uint8Array);
        for (const [where, value, kind] of edits) {
          const i = where % (bytes.length + 1);
          if (kind === 0 && i < bytes.length)
            bytes[i] = value; // overwrite
          else if (kind === 1)
            bytes.splice(i, 0, value); // insert
          else bytes = bytes.slice(0, i).concat(bytes.slice(i + 1)); // delete
        }
        decodeSafely(Uint8Array.from(bytes));
      }),
      { numRuns: 4000 },
    );
  });
});
