/**
 * joblib before 0.10 wrote every array, object arrays included, to a sibling `.npy` file and pickled an
 * NDArrayWrapper naming it; an object array's `.npy` holds a pickle of the array after its header.
 * Python writes such a set here (np.save for the side files, the wrapper pickled at protocol 2, the
 * pickles of Python 2 joblib with `str` payloads hand-made), loads it with joblib, and we must load the
 * same values; Python 2 binary str needs encoding latin1 or bytes, as in Python, and says so.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { load, scan, UnpicklingError } from '../src/index.js';
import { describe as describeValue } from './helpers/describe.js';
import { describeWithPython, runPython } from './helpers/python.js';

const WRITER = String.raw`
import json, os, pickle, sys
import numpy as np
import joblib
from joblib.numpy_pickle_compat import NDArrayWrapper
from gen_fixtures import describe, register_describer
import fixtures_numpy
register_describer(fixtures_numpy.describe_numpy)

d = sys.argv[1]
values = [np.arange(5, dtype='<i8'), np.array([1, 'abc', {'a': 1, 'b': 2}], dtype=object),
          np.array([[1.5, 2.5]], dtype='<f4')]
wrappers = []
for i, a in enumerate(values, 1):
    name = 'old.pkl_%02d.npy' % i
    np.save(os.path.join(d, name), a, allow_pickle=True)
    wrappers.append(NDArrayWrapper(name, np.ndarray))
with open(os.path.join(d, 'old.pkl'), 'wb') as f:
    pickle.dump(wrappers + ['text'], f, protocol=2)
loaded = joblib.load(os.path.join(d, 'old.pkl'))
print(json.dumps(describe(loaded)))
`;

// scikit-learn < 0.23 vendored joblib as sklearn.externals.joblib: its files name the wrapper class
// there. Python re-creates that module path (aliases of today's joblib classes) to write such a file.
const VENDORED = String.raw`
import json, os, sys, types
import numpy as np
import joblib, joblib.numpy_pickle as jnp
from gen_fixtures import describe, register_describer
import fixtures_numpy
register_describer(fixtures_numpy.describe_numpy)

import sklearn.externals
for name in ['sklearn.externals.joblib', 'sklearn.externals.joblib.numpy_pickle']:
    sys.modules[name] = types.ModuleType(name)
sys.modules['sklearn.externals'].joblib = sys.modules['sklearn.externals.joblib']
sys.modules['sklearn.externals.joblib'].numpy_pickle = sys.modules['sklearn.externals.joblib.numpy_pickle']
sys.modules['sklearn.externals.joblib.numpy_pickle'].NumpyArrayWrapper = jnp.NumpyArrayWrapper
jnp.NumpyArrayWrapper.__module__ = 'sklearn.externals.joblib.numpy_pickle'
path = os.path.join(sys.argv[1], 'vendored.pkl')
value = {'coef_': np.arange(6, dtype='<f8').reshape(2, 3), 'classes_': np.array(['a', 'b'], dtype=object), 'n': 3}
joblib.dump(value, path, protocol=2)
assert b'sklearn.externals.joblib.numpy_pickle' in open(path, 'rb').read()
print(json.dumps(describe(joblib.load(path))))
`;

// Arrays as very old numpy pickled them (numpy.core._internal._reconstruct, same arguments), and an
// object-array .npy with a byte after its pickle (np.load reads one pickle and ignores the rest).
const OLD_NUMPY = String.raw`
import json, os, pickle, sys
import numpy as np
from gen_fixtures import describe, register_describer
import fixtures_numpy
register_describer(fixtures_numpy.describe_numpy)
d = sys.argv[1]
b = pickle.dumps([np.array([1.5, 2.5]), np.array([None, 'x'], dtype=object)], protocol=2)
b = b.replace(b'numpy.core.multiarray\n_reconstruct', b'numpy.core._internal\n_reconstruct')
assert b'_internal' in b
open(os.path.join(d, 'internal.pkl'), 'wb').write(b)
np.save(os.path.join(d, 'obj.npy'), np.array([1, 'two', None], dtype=object), allow_pickle=True)
open(os.path.join(d, 'obj.npy'), 'ab').write(b'\n')
print(json.dumps([describe(pickle.loads(b)), describe(np.load(os.path.join(d, 'obj.npy'), allow_pickle=True))]))
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeWithPython('joblib < 0.10 files with object arrays in .npy side files', () => {
  it('load as joblib.load does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-oldjoblib-'));
    dirs.push(dir);
    const want = JSON.parse((await runPython(WRITER, [dir])).stdout) as unknown;
    const got = await load(join(dir, 'old.pkl'), { lossless: true });
    expect(JSON.parse(JSON.stringify(describeValue(got)))).toEqual(want);
  }, 60_000);
});

describeWithPython("files written by scikit-learn's vendored joblib (sklearn.externals.joblib)", () => {
  it('load as joblib.load does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-vendored-'));
    dirs.push(dir);
    const want = JSON.parse((await runPython(VENDORED, [dir])).stdout) as unknown;
    const got = await load(join(dir, 'vendored.pkl'), { lossless: true });
    expect(JSON.parse(JSON.stringify(describeValue(got)))).toEqual(want);
  }, 60_000);
});

describeWithPython('very old numpy layouts', () => {
  it('numpy.core._internal._reconstruct arrays and an object .npy with trailing bytes load and scan as safe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-oldnumpy-'));
    dirs.push(dir);
    const [wantPkl, wantNpy] = JSON.parse((await runPython(OLD_NUMPY, [dir])).stdout) as unknown[];
    const describeJson = (v: unknown): unknown => JSON.parse(JSON.stringify(describeValue(v)));
    expect(describeJson(await load(join(dir, 'internal.pkl'), { lossless: true }))).toEqual(wantPkl);
    expect(describeJson(await load(join(dir, 'obj.npy'), { lossless: true }))).toEqual(wantNpy);
    for (const f of ['internal.pkl', 'obj.npy']) {
      const report = scan(readFileSync(join(dir, f)));
      expect(report.complete, f).toBe(true);
      expect(
        report.globals.every((g) => g.severity === 'safe'),
        f,
      ).toBe(true);
    }
  }, 60_000);
});

it('a Python 2 str holding binary data needs encoding latin1 or bytes, and the error says so', async () => {
  // PROTO 2, SHORT_BINSTRING b'\x80\xe9', STOP: what Python 2 wrote for a str of raw bytes.
  const dir = mkdtempSync(join(tmpdir(), 'picklejar-py2-'));
  dirs.push(dir);
  const file = join(dir, 'py2.pkl');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, Uint8Array.from([0x80, 2, 0x55, 2, 0x80, 0xe9, 0x2e]));
  await expect(load(file)).rejects.toThrow(UnpicklingError);
  await expect(load(file)).rejects.toThrow(/need encoding: 'latin1' or 'bytes'/);
  expect(await load(file, { encoding: 'latin1' })).toBe('\u0080\u00e9');
  expect(await load(file, { encoding: 'bytes' })).toEqual(Uint8Array.from([0x80, 0xe9]));
});

it('a side file that names itself again stops at the nesting limit with one clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'picklejar-sidecycle-'));
  dirs.push(dir);
  const { writeFileSync } = await import('node:fs');
  const latin1 = (t: string): number[] => [...Buffer.from(t, 'latin1')];
  // NDArrayWrapper.__new__() with BUILD {'filename': 'a.npy', 'subclass': numpy.ndarray}, protocol 2.
  const wrapper = [
    ...latin1('cjoblib.numpy_pickle_compat\nNDArrayWrapper\n'),
    0x29,
    0x81,
    0x7d,
    0x55,
    8,
    ...latin1('filename'),
    0x55,
    5,
    ...latin1('a.npy'),
    0x73,
    0x55,
    8,
    ...latin1('subclass'),
    ...latin1('cnumpy\nndarray\n'),
    0x73,
    0x62,
  ];
  writeFileSync(join(dir, 'old.pkl'), Uint8Array.from([0x80, 2, 0x5d, ...wrapper, 0x61, 0x2e]));
  // An object-array .npy whose pickle is the same wrapper: every read names a.npy again.
  let header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
  header += ' '.repeat(128 - 10 - header.length - 1) + '\n';
  const npy = [
    0x93,
    ...latin1('NUMPY'),
    1,
    0,
    header.length,
    0,
    ...latin1(header),
    0x80,
    2,
    ...wrapper,
    0x2e,
  ];
  writeFileSync(join(dir, 'a.npy'), Uint8Array.from(npy));
  const err = await load(join(dir, 'old.pkl')).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnpicklingError);
  const message = (err as Error).message;
  expect(message).toMatch(/nested pickles deeper than \d+/);
  expect(message.split('cannot read joblib side file').length - 1).toBe(1);
});
