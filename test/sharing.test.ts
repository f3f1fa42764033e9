/**
 * Two decoder shortcuts replace an object that may already be referenced: a new list becomes an
 * exact-size copy at its first APPENDS, and a default-mode dict that gets a non-string key becomes a
 * Map (with the final walk over the result skipped when no GET, DUP or handler could have shared it).
 * These hand-made streams reach the object through every other path (DUP, each GET/PUT form, a memo
 * slot overwritten, a container holding it, handler opcodes, self-reference) and must decode to the
 * same values *and the same sharing* as CPython's own pickle.loads of the same bytes.
 */
import { expect, it } from 'vitest';
import { loads } from '../src/index.js';
import { describe as describeValue, intsAsInts } from './helpers/describe.js';
import { describeWithPython, runPython } from './helpers/python.js';

const CASES: Record<string, string> = {
  // EMPTY_LIST BINPUT0 BINGET0 MARK 1 2 APPENDS TUPLE2: the appended copy came from the memo
  getBeforeAppends: ']q\x00h\x00(K\x01K\x02e\x86.',
  // EMPTY_LIST DUP MARK 1 APPENDS TUPLE2
  dup: ']2(K\x01e\x86.',
  // EMPTY_LIST BINPUT0 MARK 1 APPENDS BINGET0 TUPLE2: the memo must see the filled list
  memoAfter: ']q\x00(K\x01eh\x00\x86.',
  // MEMOIZE form of the same
  memoizeAfter: '\x80\x04]\x94(K\x01K\x02e\x8c\x01x\x94h\x00\x87.',
  // two memo slots for one list
  twoPuts: ']q\x00q\x01(K\x01eh\x00h\x01\x87.',
  // its memo slot overwritten before APPENDS
  slotOverwritten: ']q\x00Nq\x000(K\x01eh\x00\x86.',
  // LONG_BINPUT / LONG_BINGET
  longPut: ']r\x00\x00\x00\x00(K\x01ej\x00\x00\x00\x00\x86.',
  // text PUT / GET (protocol 0 forms mixed with APPENDS)
  textPut: ']p7\n(I1\neg7\n\x86.',
  // self-reference: l = [1]; l.append(l)
  selfRef: ']q\x00(K\x01h\x00e.',
  // nested fresh lists: [[1, 2], [3]] with the outer one memoised
  nested: ']q\x00(]q\x01(K\x01K\x02e]q\x02K\x03ae.',
  // the list goes into a tuple, comes back through the memo, then gets items
  viaTuple: ']q\x00\x85q\x01h\x00(K\x01e0h\x01.',
  // BUILD on a list keeps it in place (state None), then APPENDS
  build: ']q\x00Nb(K\x01eh\x00\x86.',
  // APPEND first (length 1), then APPENDS on the same list
  appendThenAppends: ']q\x00K\x01a(K\x02K\x03eh\x00\x86.',
  // second APPENDS batch on a replaced list
  twoBatches: ']q\x00(K\x01K\x02e(K\x03eh\x00\x86.',
  // empty APPENDS (MARK right before it)
  emptyAppends: ']q\x00(eh\x00\x86.',
  // ---- dicts upgraded to Map by an int key
  dictSelfRef: '}q\x00(K\x01h\x00u.',
  dictDup: '}2(K\x01K\x02u\x86.',
  dictMemoAfter: '}q\x00(K\x01K\x02uh\x00\x86.',
  dictGetBefore: '}q\x00h\x00(K\x01K\x02u\x86.',
  // d goes into a list through the memo, then gets its int key: the list must hold the Map
  dictInList: '}q\x00]q\x01h\x00a0(K\x01K\x02uh\x01\x86.',
  // string keys first, the int key in a second SETITEMS
  dictSecondBatch: '}q\x00(X\x01\x00\x00\x00aK\x01u(K\x02K\x03uh\x00\x86.',
  dictSetitem: '}q\x00K\x01K\x02sh\x00\x86.',
  dictLongGet: '}r\x00\x00\x00\x00j\x00\x00\x00\x00(K\x01K\x02u\x86.',
  dictTextGet: '}p0\ng0\n(K\x01K\x02u\x86.',
  // memo indices past the first 256 (read before the upgrade / only after it)
  dictLongGetHigh: '}r\x2c\x01\x00\x00j\x2c\x01\x00\x00(K\x01K\x02u\x86.',
  dictLongPutHigh: '}r\x2c\x01\x00\x00(K\x01K\x02uj\x2c\x01\x00\x00\x86.',
  // an index far beyond the memo's size (tracking gives up: conservative walk, no 60 MB bitmap)
  dictHugeIndex: '}r\x00\x87\x93\x03j\x00\x87\x93\x03(K\x01K\x02u\x86.',
  // an earlier memo slot was read, then reused for the dict (conservative walk, same result)
  dictSlotReused: 'K\x05q\x00h\x00}q\x00(K\x01K\x02uh\x00\x87.',
  // nested: the inner dict is upgraded while the outer (string keys) holds it
  dictNested: '}q\x00(X\x01\x00\x00\x00a}q\x01(K\x01K\x02uuh\x01\x86.',
};

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describeWithPython('replaced lists and upgraded dicts keep CPython sharing', () => {
  let expected: Record<string, unknown> | undefined;
  const python = async (): Promise<Record<string, unknown>> => {
    if (expected) return expected;
    const hex = Object.fromEntries(
      Object.entries(CASES).map(([k, v]) => [k, Buffer.from(latin1(v)).toString('hex')]),
    );
    const code = [
      'import json, pickle, sys',
      'from gen_fixtures import describe',
      'cases = json.loads(sys.stdin.read())',
      'print(json.dumps({k: describe(pickle.loads(bytes.fromhex(v))) for k, v in cases.items()}))',
    ].join('\n');
    const r = await runPython(code, [], JSON.stringify(hex));
    expected = JSON.parse(r.stdout) as Record<string, unknown>;
    return expected;
  };
  for (const [name, stream] of Object.entries(CASES)) {
    it(name, async () => {
      const want = (await python())[name];
      expect(want).toBeDefined();
      expect(JSON.parse(JSON.stringify(describeValue(loads(latin1(stream), { lossless: true }))))).toEqual(
        want,
      );
      // Default mode (where dicts start as plain objects and get upgraded): its small ints are JS
      // numbers, which the description calls floats; every number in these streams is an int.
      expect(intsAsInts(JSON.parse(JSON.stringify(describeValue(loads(latin1(stream))))))).toEqual(want);
    });
  }
});

it('an upgraded dict is the Map every reference sees, in default mode (no Python needed)', () => {
  const [d, l] = loads(latin1(CASES['dictInList'] as string)) as [Map<unknown, unknown>, unknown[]];
  expect(d).toBeInstanceOf(Map);
  expect(l[0]).toBe(d);
  const [a, b] = loads(latin1(CASES['dictSecondBatch'] as string)) as Map<unknown, unknown>[];
  expect(a).toBe(b);
  expect([...(a as Map<unknown, unknown>)]).toEqual([
    ['a', 1],
    [2, 3],
  ]);
  const self = loads(latin1(CASES['dictSelfRef'] as string)) as Map<unknown, unknown>;
  expect(self.get(1)).toBe(self);
});

it('a replaced list is the one the memo hands out later (no Python needed)', () => {
  const v = loads(latin1(CASES['memoAfter'] as string)) as unknown[][];
  expect(v[0]).toBe(v[1]);
  expect(v[0]).toEqual([1]);
  const self = loads(latin1(CASES['selfRef'] as string)) as unknown[];
  expect(self[1]).toBe(self);
});
