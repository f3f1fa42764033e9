/**
 * Memo reach (src/unpickle/memo.ts): once a pickle has memoized SCAN_AT values, MEMOIZE writes only
 * the slots a later LONG_BINGET can read. Invariant: every slot an opcode reads still holds its value.
 * These pickles (from CPython's pickler and joblib) read slots past SCAN_AT in every way the decoder
 * meets them: shared strings, shared containers, cycles, a dict upgraded to a Map while shared, a
 * list read back before its items arrive, and streams the pass must not follow (handler opcodes,
 * joblib's raw array bytes that hold a fake STOP, explicit BINPUT indices). Each must decode to
 * CPython's description of the same value, sharing included.
 */
import { expect, it } from 'vitest';
import { loads } from '../src/index.js';
import { SCAN_AT, scanMemoReads } from '../src/unpickle/memo.js';
import { describe as describeValue, intsAsInts } from './helpers/describe.js';
import { describeWithPython, runPython } from './helpers/python.js';

const GENERATOR = String.raw`
import datetime, io, json, pickle, pickletools, random, sys
import numpy as np, joblib
from gen_fixtures import describe, register_describer
import fixtures_numpy, fixtures_stdlib
register_describer(fixtures_stdlib.describe_stdlib)
register_describer(fixtures_numpy.describe_numpy)

N = 6000
rng = random.Random(7)
strs = [f's{i}' for i in range(N)]

def graph():
    # nodes pointing at random earlier nodes: LONG_BINGETs of slots on both sides of SCAN_AT
    nodes = []
    for i in range(N):
        d = {'id': i, 'tag': strs[rng.randrange(N)] if i > 10 else 'x'}
        if nodes:
            d['prev'] = nodes[rng.randrange(len(nodes))]
        nodes.append(d)
    return [nodes, [nodes[-1], nodes[4096], nodes[4095]]]

def cycle():
    d = {}
    out = list(strs[:5000]) + [d]
    d['self'] = d
    d['back'] = out
    return out

def selfref():
    l = list(strs[:5000])
    inner = []
    inner.append(inner)
    inner.append(l)
    l.append(inner)
    return l

def upgraded():
    # a dict with an int key, shared at a slot past SCAN_AT: decoded as a Map everywhere
    d = {'a': 1, 2: 'b'}
    return [strs[:5000], d, [d, d], {'in': d}]

values = {
    'shared_strings': strs + [strs[5000], strs[4096], strs[4095], strs[10], strs[-1]],
    'shared_lists': (lambda ls: [ls, ls[-1], ls[4100], {'k': ls[4097]}, (ls[5000], ls[5000])])([[i] for i in range(N)]),
    'graph': graph(),
    'cycle': cycle(),
    'selfref': selfref(),
    'upgraded': upgraded(),
    # a handler opcode after SCAN_AT (the pass gives up: every slot kept)
    'reduce_after': strs + [datetime.date(2020, 1, 2), strs[5000], strs[4500]],
}
out = {}
for name, v in values.items():
    for proto in (2, 4, 5):
        b = pickle.dumps(v, protocol=proto)
        out[f'{name}.p{proto}'] = {'hex': b.hex(), 'desc': describe(pickle.loads(b))}
    b = pickle.dumps(v, protocol=4)
    # where the pass starts (after the SCAN_AT-th MEMOIZE) and the slots it must find (LONG_BINGET args from there)
    count, start, reads = 0, None, set()
    for op, arg, pos in pickletools.genops(b):
        if start is not None and op.name == 'LONG_BINGET' and arg >= ${SCAN_AT}:
            reads.add(arg)
        if op.name == 'MEMOIZE':
            count += 1
            if count == ${SCAN_AT}:
                start = pos + 1
    out[f'{name}.p4']['scan'] = {'start': start, 'reads': sorted(reads)}

# joblib: raw array bytes in the stream after BUILD
arr = np.frombuffer(b'.j' * 64, dtype=np.uint8).copy()
v = strs + [arr, strs[5000], strs[4500], arr]
f = io.BytesIO()
joblib.dump(v, f)
b = f.getvalue()
out['joblib_raw'] = {'hex': b.hex(), 'desc': describe(joblib.load(io.BytesIO(b)))}

# a handler that reads raw bytes right after its REDUCE (the test splices them in): mod.raw()
import types
mod = types.ModuleType('mod')
sys.modules['mod'] = mod
def raw():
    pass
raw.__module__ = 'mod'
mod.raw = raw
class Raw:
    def __reduce__(self):
        return (raw, ())
b = pickle.dumps(strs + [Raw(), strs[5000], strs[4500]], protocol=4)
reduce_end = [pos for op, arg, pos in pickletools.genops(b) if op.name == 'REDUCE'][0] + 1
payload = b'.j\x00\x00\x00\x00' * 8  # a STOP, and a LONG_BINGET of slot 0, as opcodes
out['handler_raw'] = {'hex': b.hex(), 'at': reduce_end, 'payload': payload.hex(),
                      'desc': describe(strs + [payload, strs[5000], strs[4500]])}
print(json.dumps(out))
`;

interface Case {
  hex: string;
  desc: unknown;
  at?: number;
  payload?: string;
  scan?: { start: number | null; reads: number[] };
}

const bytesOf = (c: Case): Uint8Array => Uint8Array.from(Buffer.from(c.hex, 'hex'));
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(describeValue(v)));

describeWithPython('memo reach keeps every slot a later opcode reads', () => {
  let cases: Record<string, Case> | undefined;
  const python = async (): Promise<Record<string, Case>> => {
    cases ??= JSON.parse((await runPython(GENERATOR)).stdout) as Record<string, Case>;
    return cases;
  };
  const names = ['shared_strings', 'shared_lists', 'graph', 'cycle', 'selfref', 'upgraded', 'reduce_after'];
  for (const name of names) {
    it(`${name}: the value and its sharing, at protocols 2, 4 and 5, lossless and default`, async () => {
      const all = await python();
      for (const proto of [2, 4, 5]) {
        const c = all[`${name}.p${proto}`] as Case;
        expect(c, `${name}.p${proto}`).toBeDefined();
        expect(plain(loads(bytesOf(c), { lossless: true })), `${name} p${proto} lossless`).toEqual(c.desc);
        expect(intsAsInts(plain(loads(bytesOf(c)))), `${name} p${proto} default`).toEqual(c.desc);
      }
    }, 60_000);
  }

  it('the pass finds exactly the slots that LONG_BINGET reads after it, and gives up at a handler opcode', async () => {
    const all = await python();
    let scanned = 0;
    for (const name of names) {
      const c = all[`${name}.p4`] as Case;
      const scan = c.scan as { start: number | null; reads: number[] };
      expect(scan.start, name).not.toBeNull();
      const reads = scanMemoReads(bytesOf(c), scan.start as number, SCAN_AT);
      if (name === 'reduce_after') {
        expect(reads, name).toBeUndefined();
        continue;
      }
      expect(reads, name).toBeDefined();
      const found: number[] = [];
      (reads as Uint8Array).forEach((r, i) => r === 1 && found.push(i));
      expect(found, name).toEqual(scan.reads);
      scanned++;
    }
    expect(scanned).toBe(names.length - 1);
  }, 60_000);

  it("raw bytes a handler reads from the stream are never read as opcodes (joblib's arrays, a fake STOP)", async () => {
    const all = await python();
    const j = all['joblib_raw'] as Case;
    expect(plain(loads(bytesOf(j), { lossless: true }))).toEqual(j.desc);
    // The handler of mod.raw reads its payload (a STOP and LONG_BINGETs, as opcodes) after REDUCE.
    const c = all['handler_raw'] as Case;
    const base = bytesOf(c);
    const payload = Uint8Array.from(Buffer.from(c.payload as string, 'hex'));
    const at = c.at as number;
    const data = new Uint8Array(base.length + payload.length);
    data.set(base.subarray(0, at));
    data.set(payload, at);
    data.set(base.subarray(at), at + payload.length);
    // (the pickle has one FRAME header per 64 KiB: the payload lengthens the frame it lands in)
    const constructors = {
      'mod.raw': {
        call: (_args: unknown, ctx: { readRaw(n: number): Uint8Array }) =>
          ctx.readRaw(payload.length).slice(),
      },
    };
    expect(plain(loads(data, { lossless: true, constructors }))).toEqual(c.desc);
  }, 60_000);
});

it('the pass gives up on explicit memo indices, a cut stream and a missing STOP', () => {
  // EMPTY_LIST MEMOIZE, then: BINPUT 0 / a SHORT_BINUNICODE cut short / no STOP at all
  expect(scanMemoReads(Uint8Array.from([0x5d, 0x94, 0x71, 0, 0x2e]), 0, 0)).toBeUndefined();
  expect(scanMemoReads(Uint8Array.from([0x5d, 0x94, 0x8c, 9, 0x61, 0x2e]), 0, 0)).toBeUndefined();
  expect(scanMemoReads(Uint8Array.from([0x5d, 0x94, 0x4e]), 0, 0)).toBeUndefined();
  // LONG_BINGET of slot 0 after one MEMOIZE: slot 0 is read; of slot 1 (never written): nothing to keep
  expect([...(scanMemoReads(Uint8Array.from([0x5d, 0x94, 0x6a, 0, 0, 0, 0, 0x2e]), 0, 0) ?? [])]).toEqual([
    1,
  ]);
  expect([...(scanMemoReads(Uint8Array.from([0x5d, 0x94, 0x6a, 1, 0, 0, 0, 0x2e]), 0, 0) ?? [])]).toEqual([]);
});
