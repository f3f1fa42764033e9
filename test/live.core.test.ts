/**
 * Live round trip against CPython: Python builds random values from a seed (printed in the test names;
 * rerun one with PICKLEJAR_SEED=<seed>), pickles each at every protocol, loads each pickle back and
 * describes what it loaded; we decode the same bytes and must describe them identically.
 */
import { expect, it } from 'vitest';
import { loads } from '../src/index.js';
import { describe as describeValue, type Desc } from './helpers/describe.js';
import { describeWithPython, findPython, runPython } from './helpers/python.js';

const CASES = 150;
const envSeed = process.env['PICKLEJAR_SEED'];
const seed = envSeed !== undefined && envSeed !== '' ? Number(envSeed) : Math.floor(Math.random() * 2 ** 31);

const GENERATOR = String.raw`
import json, math, pickle, random, re, struct, sys
from gen_fixtures import describe
import fixture_classes as fc

sys.setrecursionlimit(20000)
seed, count = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)

SPECIAL_INTS = [0, 1, 255, 256, 65535, 65536, -1, -255, -256, 2**31 - 1, -2**31, 2**31, -2**31 - 1,
                2**53 + 1, 2**63, -2**63, 2**64, -2**64 - 1]
SPECIAL_FLOATS = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1e16, 1e-5, 1e-4, 0.1, 1e22, 2.0**53,
                  1.7976931348623157e308, 2.2250738585072014e-308]
ALPHABETS = ['abcxyz', ' \t\n\r\0\\\'"', '\u00e9\u00ff\u0080', '\u03a9\u20ac\uffff\ufeff',
             '\U0001f600\U00010000\U0010ffff', '\ud800\udbff\udc00\udfff']

def rint():
    k = rng.random()
    if k < 0.3: return rng.randint(-300, 300)
    if k < 0.5: return rng.randint(-2**31 - 5, 2**31 + 5)
    if k < 0.7: return rng.randint(-2**64, 2**64)
    if k < 0.9: return rng.choice(SPECIAL_INTS)
    return rng.randint(-10**rng.randint(20, 600), 10**rng.randint(20, 600))

def rfloat(key=False):
    k = rng.random()
    if k < 0.3: x = struct.unpack('<d', rng.getrandbits(64).to_bytes(8, 'little'))[0]
    elif k < 0.6: x = rng.uniform(-1e6, 1e6)
    elif k < 0.8: x = rng.choice(SPECIAL_FLOATS)
    else: x = rng.random() * 10.0 ** rng.randint(-320, 300)
    # JS Map/Set keys cannot hold -0.0 (SameValueZero) nor tell NaNs apart: keep those out of keys.
    if key and (math.isnan(x) or (x == 0 and math.copysign(1, x) < 0)): return 2.5
    return x

def rstr(big=False):
    n = 70000 if big else rng.choice([0, 1, 2, 5, 10, 40, 300])
    alphabet = ''.join(rng.sample(ALPHABETS, rng.randint(1, len(ALPHABETS))))
    s = ''.join(rng.choices(alphabet, k=n))
    # A lone high surrogate followed by a lone low one is, in JS, the same string as the astral
    # character they pair to; Python tells them apart (a set may hold both). Keep them apart.
    return re.sub('([\ud800-\udbff])(?=[\udc00-\udfff])', '\\1_', s)

def rbytes():
    n = rng.choice([0, 1, 3, 16, 255, 256, 1000])
    return bytes(rng.getrandbits(8) for _ in range(n))

def atom():
    k = rng.randrange(9)
    return [lambda: None, lambda: rng.random() < 0.5, rint, rfloat, rstr, rbytes,
            lambda: bytearray(rbytes()), lambda: complex(rfloat(), rfloat()), rint][k]()

def hashable(depth):
    k = rng.randrange(8)
    if k == 0: return rint()
    if k == 1: return rstr()
    if k == 2: return rbytes()
    if k == 3: return rfloat(key=True)
    if k == 4: return None if rng.random() < 0.5 else rng.random() < 0.5
    if k == 5 and depth > 0: return tuple(hashable(depth - 1) for _ in range(rng.randint(0, 3)))
    if k == 6 and depth > 0: return frozenset(hashable(0) for _ in range(rng.randint(0, 3)))
    return rint()

pool = []
budget = [0]  # nodes left in the current case: keeps every case small

def value(depth, top=False):
    budget[0] -= 1
    if pool and rng.random() < 0.07:
        return rng.choice(pool)  # shared reference
    if depth <= 0 or budget[0] <= 0 or rng.random() < 0.35:
        return atom()
    k = rng.randrange(9)
    # Only the top container may be long (APPENDS/SETITEMS batches of 1000).
    n = 1200 if top and rng.random() < 0.1 else rng.choice([0, 1, 2, 3, 5, 8])
    if k == 0:
        v = [value(depth - 1) for _ in range(n)]
        if rng.random() < 0.1: v.append(v)  # cycle
    elif k == 1: v = tuple(value(depth - 1) for _ in range(n))
    elif k == 2: v = {hashable(2): value(depth - 1) for _ in range(n)}
    elif k == 3:
        v = {hashable(1): value(depth - 1) for _ in range(n)}
        if rng.random() < 0.1: v['self'] = v
    elif k == 4: v = {hashable(1) for _ in range(n)}
    elif k == 5: v = frozenset(hashable(1) for _ in range(n))
    elif k == 6: v = fc.Point(value(depth - 1), value(depth - 1))
    elif k == 7: v = fc.Pair(value(depth - 1), value(depth - 1))
    else: v = fc.TaggedList([value(depth - 1) for _ in range(n)], tag=atom())
    pool.append(v)
    return v

cases = []
for i in range(count):
    pool.clear()
    budget[0] = 400
    v = value(4, top=True)
    if rng.random() < 0.03:
        v = [v, rstr(big=True)]  # a str above 64 KiB: written outside frames
    case = {'protocols': {}, 'descs': {}}
    for p in range(6):
        data = pickle.dumps(v, protocol=p)
        case['protocols'][str(p)] = data.hex()
        # The description of what CPython itself loads back from these bytes.
        case['descs'][str(p)] = describe(pickle.loads(data), p)
    cases.append(case)
sys.stdout.write(json.dumps({'seed': seed, 'cases': cases}))
`;

interface LiveCase {
  protocols: Record<string, string>;
  descs: Record<string, Desc>;
}

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function typeSummary(d: Desc): string {
  return d.t === 'object' ? `object ${String(d['cls'])}` : d.t;
}

const cases: LiveCase[] =
  findPython() === undefined
    ? []
    : (
        JSON.parse((await runPython(GENERATOR, [String(seed), String(CASES)])).stdout) as {
          cases: LiveCase[];
        }
      ).cases;

describeWithPython(`live core values from CPython (seed ${seed}; rerun with PICKLEJAR_SEED=${seed})`, () => {
  it(`generated ${CASES} cases`, () => {
    expect(cases).toHaveLength(CASES);
  });
  cases.forEach((c, i) => {
    it(`case ${i} (${typeSummary(c.descs['5'] as Desc)}), protocols 0-5`, () => {
      for (const [p, hex] of Object.entries(c.protocols)) {
        const got = describeValue(loads(fromHex(hex), { lossless: true }));
        expect(got, `protocol ${p}`).toEqual(c.descs[p]);
      }
    });
  });
});
