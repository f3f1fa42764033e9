"""Python-made samples for the hostile suite (test/hostile/pollution.test.ts): values whose dict keys,
attribute names, dtype field names, DataFrame columns and joblib container keys are the names that
pollute JavaScript prototypes when handled carelessly (`__proto__`, `constructor`, `prototype`, ...).

Nothing here is malicious to Python: every file loads as the plain value it describes.

Run: node scripts/run-python.mjs scripts/fixtures_hostile_extra.py
Writes fixtures/hostile-extra/*.pkl|.npy|.joblib and fixtures/hostile-extra/index.json.
"""
import collections
import io
import json
import os
import pickle
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixture_classes  # noqa: E402

OUT = os.path.join(HERE, '..', 'fixtures', 'hostile-extra')

# The names a careless JS reader would turn into prototype writes or shadowed members.
KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty',
        '__defineGetter__', 'toJSON', 'then']


def polluting_dict():
    d = {k: i for i, k in enumerate(KEYS)}
    d['__proto__'] = {'polluted': True, 'isAdmin': True}
    d['constructor'] = {'prototype': {'polluted': True}}
    return d


def write(name, data, entries, **meta):
    path = os.path.join(OUT, name)
    with open(path, 'wb') as f:
        f.write(data)
    entries.append(dict(path='hostile-extra/' + name, **meta))


def main():
    os.makedirs(OUT, exist_ok=True)
    entries = []

    for p in (0, 2, 4, 5):
        write(f'proto_dict.p{p}.pkl', pickle.dumps(polluting_dict(), protocol=p), entries,
              kind='dict', keys=KEYS)
        # The same dict twice (memo-shared) and nested under a list.
        d = polluting_dict()
        write(f'proto_dict_shared.p{p}.pkl', pickle.dumps([d, d, {'inner': d}], protocol=p), entries,
              kind='dict-shared', keys=KEYS)
        # A dict that becomes a Map in default mode (a non-str key after the polluting ones).
        m = polluting_dict()
        m[1] = 'int key'
        write(f'proto_dict_mixed.p{p}.pkl', pickle.dumps(m, protocol=p), entries, kind='map', keys=KEYS)

        pt = fixture_classes.Point(1, 2)
        pt.__dict__.update(polluting_dict())
        write(f'proto_object.p{p}.pkl', pickle.dumps(pt, protocol=p), entries, kind='object',
              cls='fixture_classes.Point', keys=KEYS)

    for p in (2, 4):
        od = collections.OrderedDict(polluting_dict())
        write(f'proto_ordereddict.p{p}.pkl', pickle.dumps(od, protocol=p), entries, kind='container', keys=KEYS)
        dd = collections.defaultdict(list, polluting_dict())
        write(f'proto_defaultdict.p{p}.pkl', pickle.dumps(dd, protocol=p), entries, kind='container', keys=KEYS)
        ct = collections.Counter({k: i + 1 for i, k in enumerate(KEYS)})
        write(f'proto_counter.p{p}.pkl', pickle.dumps(ct, protocol=p), entries, kind='container', keys=KEYS)
        ns = types.SimpleNamespace(**polluting_dict())
        write(f'proto_namespace.p{p}.pkl', pickle.dumps(ns, protocol=p), entries, kind='object',
              cls='types.SimpleNamespace', keys=KEYS)

    dt = np.dtype([('__proto__', '<f8'), ('constructor', '<i4'), ('prototype', 'u1'), ('toString', '<i2')])
    arr = np.zeros(3, dtype=dt)
    arr['__proto__'] = [1.5, 2.5, 3.5]
    arr['constructor'] = [7, 8, 9]
    for p in (2, 4, 5):
        write(f'proto_dtype.p{p}.pkl', pickle.dumps(arr, protocol=p), entries, kind='ndarray',
              keys=['__proto__', 'constructor', 'prototype', 'toString'])
    buf = io.BytesIO()
    np.save(buf, arr)
    write('proto_dtype.npy', buf.getvalue(), entries, kind='ndarray',
          keys=['__proto__', 'constructor', 'prototype', 'toString'])

    try:
        import pandas as pd
        df = pd.DataFrame({'__proto__': [1, 2], 'constructor': [3.5, 4.5], 'prototype': ['a', 'b']})
        write('proto_dataframe.p4.pkl', pickle.dumps(df, protocol=4), entries, kind='dataframe',
              keys=['__proto__', 'constructor', 'prototype'])
    except ImportError:
        pass

    try:
        import joblib
        value = {'__proto__': np.arange(3.0), 'constructor': {'prototype': np.arange(2)}, 'toString': 1}
        for compress, suffix in ((0, 'joblib'), (3, 'joblib.z')):
            jpath = os.path.join(OUT, f'proto_joblib.{suffix}')
            joblib.dump(value, jpath, compress=compress, protocol=4)
            entries.append(dict(path=f'hostile-extra/proto_joblib.{suffix}', kind='joblib',
                                keys=['__proto__', 'constructor', 'toString']))
    except ImportError:
        pass

    # Every file must load in Python as the value it describes.
    for e in entries:
        path = os.path.join(OUT, '..', e['path'])
        if path.endswith('.npy'):
            np.load(path, allow_pickle=False)
        elif '.joblib' in path:
            import joblib
            joblib.load(path)
        else:
            with open(path, 'rb') as f:
                pickle.load(f)

    with open(os.path.join(OUT, 'index.json'), 'w') as f:
        json.dump({'note': __doc__.strip().splitlines()[0], 'files': entries}, f, indent=1, sort_keys=True)
        f.write('\n')
    print(f'wrote {len(entries)} files to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
