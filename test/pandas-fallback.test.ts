/**
 * pandas layouts the pandas family does not know (here the pre-0.14 BlockManager state, a bare
 * (axes, values, items) tuple) must not fail the whole file: the objects stay inert PyObjects with
 * their class, arguments and state, and `dumps` writes the same opcodes back.
 */
import { expect, it } from 'vitest';
import { dumps, loads, PyObject, Tuple } from '../src/index.js';

const enc = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** DataFrame.__new__() with BUILD {'_data': BlockManager.__new__() with BUILD (axes, values, items)}. */
function oldFrame(): Uint8Array {
  return Uint8Array.from([
    0x80,
    2,
    ...enc('cpandas.core.frame\nDataFrame\n'),
    0x29,
    0x81, // NEWOBJ DataFrame()
    0x7d, // EMPTY_DICT (the frame's state)
    0x55,
    5,
    ...enc('_data'),
    ...enc('cpandas.core.internals\nBlockManager\n'),
    0x29,
    0x81, // NEWOBJ BlockManager()
    0x5d,
    0x4b,
    1,
    0x61, // axes: [1]
    0x5d,
    0x4b,
    2,
    0x61, // values: [2]
    0x5d,
    0x4b,
    3,
    0x61, // items: [3]
    0x87,
    0x62, // TUPLE3, BUILD
    0x73,
    0x62, // SETITEM, BUILD
    0x2e,
  ]);
}

it('an unknown BlockManager state keeps the frame and its manager inert instead of failing', () => {
  const v = loads(oldFrame(), { lossless: true });
  expect(v).toBeInstanceOf(PyObject);
  const frame = v as PyObject;
  expect(frame.__class__.qualifiedName).toBe('pandas.core.frame.DataFrame');
  expect(frame.__kind__).toBe('newobj');
  const state = frame.__state__ as Map<string, unknown>;
  expect(state).toBeInstanceOf(Map);
  const mgr = state.get('_data') as PyObject;
  expect(mgr).toBeInstanceOf(PyObject);
  expect(mgr.__class__.qualifiedName).toBe('pandas.core.internals.BlockManager');
  expect(mgr.__state__).toBeInstanceOf(Tuple);
  expect(mgr.__state__).toEqual([[1n], [2n], [3n]]);
});

it('the inert frame writes back to a pickle that decodes the same', () => {
  const v = loads(oldFrame(), { lossless: true });
  const again = loads(dumps(v, { protocol: 2, allowGlobals: true }), { lossless: true }) as PyObject;
  expect(again.__class__.qualifiedName).toBe('pandas.core.frame.DataFrame');
  const mgr = (again.__state__ as Map<string, unknown>).get('_data') as PyObject;
  expect(mgr.__state__).toEqual([[1n], [2n], [3n]]);
});

it('DataFrame called with REDUCE and BlockManager with unknown arguments stay inert', () => {
  // DataFrame(1) and BlockManager(1, 2) as REDUCE calls: not how pandas pickles, kept inert.
  const data = Uint8Array.from([
    0x80,
    2,
    ...enc('cpandas.core.frame\nDataFrame\n'),
    0x4b,
    1,
    0x85,
    0x52,
    ...enc('cpandas.core.internals.managers\nBlockManager\n'),
    0x4b,
    1,
    0x4b,
    2,
    0x86,
    0x52,
    0x86,
    0x2e,
  ]);
  const [frame, mgr] = loads(data) as PyObject[];
  expect(frame).toBeInstanceOf(PyObject);
  expect((frame as PyObject).__args__).toEqual([1]);
  expect(mgr).toBeInstanceOf(PyObject);
  expect((mgr as PyObject).__class__.qualifiedName).toBe('pandas.core.internals.managers.BlockManager');
});
