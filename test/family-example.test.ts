/**
 * The family example of docs/FAMILIES.md (docs/examples/geometry-family.ts, quoted there verbatim)
 * against real Python: pickles of a `geometry.Point` class that Python defines load as `Point`s, what
 * `dumps` writes Python loads equal (and byte for byte as its own pickler writes it), and `scan`
 * grades the class safe with the family and unknown without; the family's dangerous rule is refused
 * by `loads` and flagged by `scan`. Like a user's code, the example imports 'picklejar' (the built
 * package: `npm test` builds it first), so this file does too.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { dumps, loads, scan, PicklingError, PyObject, UnpicklingError } from 'picklejar';
import { GEOMETRY, Point } from '../docs/examples/geometry-family.js';
import { describeWithPython, runPython } from './helpers/python.js';

/** The Python library the example family describes, as modules made in memory. */
const GEOMETRY_PY = `
import sys, types
geometry = types.ModuleType('geometry')
exec('''
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def __eq__(self, other):
        return type(other) is Point and (self.x, self.y) == (other.x, other.y)
''', geometry.__dict__)
io = types.ModuleType('geometry.io')
exec('def load(path):\\n    raise RuntimeError("never called")\\n', io.__dict__)
geometry.io = io
sys.modules['geometry'] = geometry
sys.modules['geometry.io'] = io
from geometry import Point
`;

const PROTOCOLS = [0, 1, 2, 3, 4, 5] as const;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

it('the doc quotes the example file verbatim', () => {
  const doc = readFileSync('docs/FAMILIES.md', 'utf8');
  const file = readFileSync('docs/examples/geometry-family.ts', 'utf8');
  expect(doc).toContain('```ts\n' + file + '```');
});

describeWithPython('the geometry family against Python', () => {
  /** Python's pickles of [p, p, q] (p shared) by protocol, and of a reference to geometry.io.load. */
  let py: { points: Record<string, string>; io: string };

  beforeAll(async () => {
    const out = await runPython(`${GEOMETRY_PY}
import json, pickle
p = Point(1.5, -2.0)
value = [p, p, Point(0.25, 3.0)]
print(json.dumps({
    'points': {str(n): pickle.dumps(value, n).hex() for n in range(6)},
    'io': pickle.dumps(geometry.io.load, 4).hex(),
}))
`);
    py = JSON.parse(out.stdout) as typeof py;
  });

  it('loads rebuilds Points (shared ones shared) at every protocol, in both modes', () => {
    for (const n of PROTOCOLS) {
      for (const lossless of [false, true]) {
        const v = loads(bytes(py.points[n] as string), { families: [GEOMETRY], lossless }) as Point[];
        expect(v).toEqual([new Point(1.5, -2), new Point(1.5, -2), new Point(0.25, 3)]);
        expect(v[0]).toBeInstanceOf(Point);
        expect(v[1]).toBe(v[0]);
      }
      // Without the family the objects stay inert, with their class and state.
      const inert = loads(bytes(py.points[n] as string)) as PyObject[];
      expect(inert[0]).toBeInstanceOf(PyObject);
      expect(inert[0]?.__qualname__).toBe('geometry.Point');
    }
  });

  it('dumps writes what Python loads equal, byte for byte as pickle.dumps', async () => {
    const value = [new Point(1.5, -2), new Point(0.25, 3)];
    const shared = [value[0], value[0], value[1]];
    const ours = Object.fromEntries(
      PROTOCOLS.map((n) => [n, hex(dumps(shared, { protocol: n, families: [GEOMETRY] }))]),
    );
    for (const n of PROTOCOLS) expect(ours[n], `protocol ${n}`).toBe(py.points[n]);
    const out = await runPython(
      `${GEOMETRY_PY}
import json, pickle, sys
for n, h in json.loads(sys.stdin.read()).items():
    v = pickle.loads(bytes.fromhex(h))
    p = Point(1.5, -2.0)
    assert v == [p, p, Point(0.25, 3.0)] and v[0] is v[1], (n, v)
print('ok')
`,
      [],
      JSON.stringify(ours),
    );
    expect(out.stdout.trim()).toBe('ok');
    // Without the family a Point is a class instance the writer does not know.
    expect(() => dumps(new Point(1, 2))).toThrow(PicklingError);
  });

  it('scan grades geometry.Point safe with the family, unknown without', () => {
    for (const n of PROTOCOLS) {
      const data = bytes(py.points[n] as string);
      const points = (families?: (typeof GEOMETRY)[]) =>
        scan(data, { families }).globals.filter(
          (g) => (g.resolved ?? `${g.module}.${g.name}`) === 'geometry.Point',
        );
      expect(points([GEOMETRY]).length).toBeGreaterThan(0);
      expect(points([GEOMETRY]).every((g) => g.severity === 'safe')).toBe(true);
      expect(points(undefined).every((g) => g.severity === 'unknown')).toBe(true);
      expect(scan(data, { families: [GEOMETRY] }).dangerous).toBe(false);
    }
  });

  it("the family's dangerous rule: loads refuses geometry.io.load, scan flags it", () => {
    const data = bytes(py.io);
    const refusal = (() => {
      try {
        loads(data, { families: [GEOMETRY] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(UnpicklingError);
    expect((refusal as UnpicklingError).code).toBe('dangerous-global');
    expect((refusal as UnpicklingError).message).toContain('geometry: reads and writes files');
    const flagged = scan(data, { families: [GEOMETRY] });
    expect(flagged.dangerous).toBe(true);
    expect(flagged.globals[0]).toMatchObject({ module: 'geometry.io', name: 'load', severity: 'dangerous' });
    // Without the family nobody knows the name: inert for loads, unknown for scan.
    expect(scan(data).globals[0]?.severity).toBe('unknown');
  });
});
