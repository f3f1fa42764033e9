/**
 * Builtins called through REDUCE the way other writers (and hand-made streams) call them: list(x),
 * tuple(x), dict(x), set(x), frozenset(x), bytearray(x), bytes(x). CPython builds each container or
 * refuses the call; picklejar must decode to the same value or refuse too. And bytes(n) from a bare
 * size is capped: a few input bytes must not allocate gigabytes.
 */
import { expect, it } from 'vitest';
import { loads, UnpicklingError } from '../src/index.js';
import { describe as describeValue } from './helpers/describe.js';
import { describeWithPython, runPython } from './helpers/python.js';

const call = (name: string, arg: string): string => `c__builtin__\n${name}\n(${arg}tR.`;
const CASES: string[] = [
  call('list', "S'ab'\n"),
  call('list', '(I1\nI2\nt'),
  call('list', ''),
  call('tuple', '(lp0\nI1\naI2\na'),
  call('tuple', 'I5\n'),
  call('dict', "(lp0\n(I1\nI2\ntp1\na(S'k'\nI3\ntp2\na"),
  call('dict', "(dp0\nS'a'\nI1\ns"),
  call('dict', '(lp0\n(lp1\nI1\naI2\natp2\na'),
  call('dict', '(lp0\nI1\na'),
  call('set', '(lp0\n(lp1\nal'),
  call('set', "(S'a'\nS'b'\nt"),
  call('frozenset', '((lp0\ntt'),
  call('bytearray', 'I01\n'),
  call('bytearray', 'I3\n'),
  call('bytes', '(lp0\nI65\naI66\na'),
  call('bytes', '(lp0\nI300\na'),
];
const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

describeWithPython('builtins called through REDUCE', () => {
  it('decode to what CPython builds, or are refused where CPython refuses', async () => {
    const code = [
      'import json, pickle, sys',
      'from gen_fixtures import describe',
      'out = []',
      'for h in json.loads(sys.stdin.read()):',
      '    try: out.append({"ok": describe(pickle.loads(bytes.fromhex(h)))})',
      '    except Exception as e: out.append({"err": type(e).__name__})',
      'print(json.dumps(out))',
    ].join('\n');
    const want = JSON.parse(
      (await runPython(code, [], JSON.stringify(CASES.map((c) => Buffer.from(c, 'latin1').toString('hex')))))
        .stdout,
    ) as { ok?: unknown; err?: string }[];
    CASES.forEach((c, i) => {
      const w = want[i] as { ok?: unknown; err?: string };
      if (w.err !== undefined) {
        expect(() => loads(latin1(c), { lossless: true }), `${JSON.stringify(c)}: CPython ${w.err}`).toThrow(
          UnpicklingError,
        );
      } else {
        expect(
          JSON.parse(JSON.stringify(describeValue(loads(latin1(c), { lossless: true })))),
          JSON.stringify(c),
        ).toEqual(w.ok);
      }
    });
  }, 60_000);
});

it('bytes(n) / bytearray(n) from a bare size is capped at 16 MiB', () => {
  expect(() => loads(latin1(call('bytearray', 'I2000000000\n')))).toThrow(
    /would allocate more than 16777216 zero bytes/,
  );
  expect((loads(latin1(call('bytearray', 'I16777216\n'))) as Uint8Array).length).toBe(16777216);
});
