/**
 * A complete family for a made-up Python library `geometry` (docs/FAMILIES.md quotes this file;
 * test/family-example.test.ts runs it against real Python). The Python side is:
 *
 *     # geometry/__init__.py
 *     class Point:
 *         def __init__(self, x, y):
 *             self.x = x
 *             self.y = y
 *
 *     # geometry/io.py
 *     def load(path): ...   # reads a file: a pickle must not be allowed to call it
 *
 * `pickle.dumps(Point(1.5, -2.0))` at protocol 2 or more is: the class `geometry.Point`, EMPTY_TUPLE,
 * NEWOBJ (`Point.__new__(Point)`), then BUILD with the instance dict `{'x': 1.5, 'y': -2.0}`. At
 * protocols 0-1 the object is made by `copyreg._reconstructor(Point, object, None)` instead, which
 * picklejar turns into the same `construct` call.
 */
import { defineFamily, PyFloat, PyGlobal, SET_STATE, type DecodeContext, type Family } from 'picklejar';

/** A point as JS code uses it. */
export class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}

  /**
   * BUILD (Python's `__setstate__`): take x and y from the instance dict. The object is completed in
   * place (returning undefined) because the pickle memoized it before BUILD: a list holding the same
   * point twice fetches this very object from the memo.
   */
  [SET_STATE](state: unknown, ctx: DecodeContext): undefined {
    // A plain object by default, a Map with `lossless: true`.
    const get = (key: string): unknown =>
      state instanceof Map ? state.get(key) : (state as Record<string, unknown> | null)?.[key];
    this.x = coordinate(get('x'), 'x', ctx);
    this.y = coordinate(get('y'), 'y', ctx);
    return undefined;
  }
}

/** A Python int or float as a JS number, or the error the decoder reports at the BUILD opcode. */
function coordinate(v: unknown, name: string, ctx: DecodeContext): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v); // ints are bigints with `lossless: true`
  throw ctx.error(`geometry.Point: ${name} must be a number`);
}

export const GEOMETRY: Family = defineFamily({
  name: 'geometry',
  // Reading: NEWOBJ of geometry.Point makes an empty Point; its SET_STATE does the BUILD.
  globals: {
    'geometry.Point': {
      construct: (args, _kwargs, ctx) => {
        if (args.length !== 0) throw ctx.error('geometry.Point.__new__ takes no arguments');
        return new Point();
      },
    },
  },
  // Writing: a Point becomes what Python's own pickler writes for it (class, NEWOBJ, state dict).
  // PyFloat keeps 2.0 a float (a plain integral number would be written as the int 2).
  reduce: (value) =>
    value instanceof Point
      ? {
          callable: new PyGlobal('geometry', 'Point'),
          kind: 'newobj',
          args: [],
          state: { x: new PyFloat(value.x), y: new PyFloat(value.y) },
        }
      : undefined,
  // Scanning and refusing: geometry.Point is graded safe because `globals` names it. A rule
  // marks what must never be called from a pickle, whatever else the family says.
  rules: [{ name: 'geometry.io.*', severity: 'dangerous', reason: 'geometry: reads and writes files' }],
});
