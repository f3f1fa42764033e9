/**
 * Lists longer than 16384 items are over-allocated while APPENDS fills them and trimmed before
 * anything can read them. Python builds values where such a list is read mid-stream (a set or
 * frozenset made from it at protocol 2, an object array, a deque, a list holding itself, APPEND after
 * APPENDS in protocol 0/1 streams, nested long lists) and we must decode each pickle to CPython's
 * description of the same bytes.
 */
import { expect, it } from 'vitest';
import { loads } from '../src/index.js';
import { describe as describeValue } from './helpers/describe.js';
import { describeWithPython, runPython } from './helpers/python.js';

const GENERATOR = String.raw`
import collections, json, pickle, sys
import numpy as np
from gen_fixtures import describe
from gen_fixtures import register_describer
import fixtures_stdlib, fixtures_numpy
register_describer(fixtures_stdlib.describe_stdlib)  # deque
register_describer(fixtures_numpy.describe_numpy)  # ndarray

N = 20000
def selfref():
    l = list(range(N)); l.append(l); return l
values = {
    'set': set(range(N)),
    'frozenset': frozenset(range(N)),
    'nested': [list(range(N)), [str(i) for i in range(N + 5)], []],
    'object_array': np.array([str(i) for i in range(N)], dtype=object),
    'deque': collections.deque(range(N), maxlen=N - 3),
    'selfref': selfref(),
    'tuple_of_list': (list(range(N)), list(range(N))),
    'shared_list': (lambda l: [l, l])(list(range(N))),
}
out = {}
for name, v in values.items():
    for proto in (1, 2, 4, 5):  # APPENDS-built lists read by REDUCE (1, 2), by STOP and ADDITEMS-free forms (4, 5)
        b = pickle.dumps(v, protocol=proto)
        out[f'{name}.p{proto}'] = {'hex': b.hex(), 'desc': describe(pickle.loads(b))}
print(json.dumps(out))
`;

describeWithPython('long lists read mid-stream decode as CPython does', () => {
  let cases: Record<string, { hex: string; desc: unknown }> | undefined;
  const python = async (): Promise<Record<string, { hex: string; desc: unknown }>> => {
    cases ??= JSON.parse((await runPython(GENERATOR)).stdout) as Record<
      string,
      { hex: string; desc: unknown }
    >;
    return cases;
  };
  const names = [
    'set',
    'frozenset',
    'nested',
    'object_array',
    'deque',
    'selfref',
    'tuple_of_list',
    'shared_list',
  ];
  for (const name of names) {
    it(
      name,
      async () => {
        const all = await python();
        for (const proto of [1, 2, 4, 5]) {
          const c = all[`${name}.p${proto}`];
          expect(c, `${name}.p${proto}`).toBeDefined();
          const v = loads(Uint8Array.from(Buffer.from((c as { hex: string }).hex, 'hex')), {
            lossless: true,
          });
          expect(JSON.parse(JSON.stringify(describeValue(v))), `${name} at protocol ${proto}`).toEqual(
            (c as { desc: unknown }).desc,
          );
        }
      },
      60_000,
    );
  }
});

it('a long list has its real length and no holes after decoding (default mode)', () => {
  // [0..19999] at protocol 4, built here: PROTO 4, EMPTY_LIST, then MARK + 1000 BININT2 + APPENDS batches.
  const parts: number[] = [0x80, 4, 0x5d];
  for (let b = 0; b < 20000; b += 1000) {
    parts.push(0x28);
    for (let i = b; i < b + 1000; i++) parts.push(0x4d, i & 0xff, i >> 8);
    parts.push(0x65);
  }
  parts.push(0x2e);
  const v = loads(Uint8Array.from(parts)) as number[];
  expect(v.length).toBe(20000);
  expect(v.every((x, i) => x === i)).toBe(true);
  expect(Object.keys(v).length).toBe(20000);
});
