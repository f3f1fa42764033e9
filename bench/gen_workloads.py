"""Generate the benchmark workloads into bench/out/ (run by bench/run.mjs with the Python that has numpy).

Every workload is written with the C pickler (or joblib.dump) from a fixed seed, so reruns give the same
bytes. bench/out/manifest.json lists the files with what each holds and a small check the JS side uses to
make sure it timed a real decode (length / key count).

Environment:
  BENCH_SCALE    multiplies the size of the joblib model (default 1 -> about 100 MB before compression)
  BENCH_SCALING  '0' to skip the 250k / 4M ints scaling files (default on: they take a few seconds)

Usage: gen_workloads.py OUT_DIR
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import time

import numpy as np

# Bump when the workloads change so run.mjs regenerates stale files.
GENERATOR_VERSION = 4


def mixed_ints(n: int, seed: int, huge: bool = True) -> list:
    """n ints covering every int opcode CPython writes: BININT1, BININT2, BININT (+/-), LONG1, a few huge.

    huge=False leaves out the ints wider than 8 bytes (pickleparser refuses them).
    """
    rng = np.random.default_rng(seed)
    kind = rng.choice(5, size=n, p=[0.35, 0.25, 0.20, 0.10, 0.10])
    vals = np.empty(n, dtype=np.int64)
    m = kind == 0
    vals[m] = rng.integers(0, 256, m.sum())                      # BININT1
    m = kind == 1
    vals[m] = rng.integers(256, 65536, m.sum())                  # BININT2
    m = kind == 2
    vals[m] = rng.integers(-(2**31), 0, m.sum())                 # BININT, negative
    m = kind == 3
    vals[m] = rng.integers(65536, 2**31, m.sum())                # BININT, positive
    m = kind == 4
    vals[m] = rng.integers(2**31, 2**62, m.sum())                # LONG1 (5..8 bytes)
    out = vals.tolist()
    if not huge:
        return out
    # A few huge ints (LONG1 with 13..126 bytes, both signs): 1 in 10 000.
    for i in rng.choice(n, size=max(1, n // 10_000), replace=False).tolist():
        bits = int(rng.integers(100, 1000))
        v = int.from_bytes(rng.bytes(bits // 8 + 1), 'little') >> (8 - bits % 8)
        out[i] = -v if i % 2 else v
    return out


def user_dicts(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    scores = (rng.random(n) * 100).tolist()
    return [{'id': i, 'name': f'user{i}', 'score': scores[i], 'tags': ['a', 'b']} for i in range(n)]


NON_ASCII = ['é', 'ü', 'ß', 'ñ', 'Ω', 'ж', '中', '日本', '€', '😀']
ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_- '


def short_strings(n: int, seed: int) -> list:
    """ASCII, mostly 5..20 chars; 5% contain a non-ASCII char; 2% are 21..60 chars long."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 21, n)
    long_idx = rng.random(n) < 0.02
    lengths[long_idx] = rng.integers(21, 61, long_idx.sum())
    chars = rng.integers(0, len(ALPHABET), int(lengths.sum()))
    pool = ''.join(ALPHABET[c] for c in chars.tolist())
    out = []
    pos = 0
    non_ascii = (rng.random(n) < 0.05).tolist()
    picks = rng.integers(0, len(NON_ASCII), n).tolist()
    for i, ln in enumerate(lengths.tolist()):
        s = pool[pos:pos + ln]
        pos += ln
        if non_ascii[i]:
            k = ln // 2
            s = s[:k] + NON_ASCII[picks[i]] + s[k + 1:]
        out.append(s)
    return out


def float_arrays(count: int, size: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(size, dtype=np.float32) for _ in range(count)]


def shared_graph(n_nodes: int, seed: int) -> dict:
    """Nodes that point at shared tag dicts, shared group tuples and earlier nodes; edges reuse nodes.

    Every shared reference becomes a BINGET/LONG_BINGET of an object already in the memo.
    """
    rng = np.random.default_rng(seed)
    tags = [{'name': f'tag{k}', 'weight': float(k) / 7} for k in range(1000)]
    groups = [('group', k, f'g{k}') for k in range(200)]
    tag_pick = rng.integers(0, len(tags), (n_nodes, 3)).tolist()
    parents = [None] + [int(p) for p in rng.integers(0, np.arange(1, n_nodes))]
    nodes: list = []
    for i in range(n_nodes):
        a, b, c = tag_pick[i]
        nodes.append({
            'id': i,
            'tags': [tags[a], tags[b], tags[c]],
            'group': groups[i % len(groups)],
            'parent': None if parents[i] is None else nodes[parents[i]],
        })
    ends = rng.integers(0, n_nodes, (n_nodes, 2)).tolist()
    edges = [(nodes[x], nodes[y]) for x, y in ends]
    return {'nodes': nodes, 'edges': edges, 'tags': tags, 'groups': groups}


def joblib_model(scale: float, seed: int) -> dict:
    """A model-like dict of about 100 MB * scale of arrays, plus a small fitted RandomForest and metadata."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    rows = max(1, int(50_000 * scale))
    n_ids = max(1, int(2_000_000 * scale))
    x = rng.standard_normal((2000, 8))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    forest = RandomForestClassifier(n_estimators=10, max_depth=12, random_state=0).fit(x, y)
    return {
        'name': 'bench-model',
        'version': 3,
        'embeddings': rng.standard_normal((rows, 256), dtype=np.float32),    # 51.2 MB at scale 1
        'W1': rng.standard_normal((1024, max(1, int(2048 * scale)))),        # 16.8 MB float64
        'ids': np.arange(n_ids, dtype=np.int64),                             # 16 MB, compresses well
        'labels': rng.integers(0, 10, n_ids).astype(np.int32),               # 8 MB
        'vocab': [f'tok{i}' for i in range(50_000)],
        'config': {'lr': 0.001, 'layers': [256, 128, 10], 'activation': 'relu', 'seed': seed},
        'forest': forest,
    }


def write_pickle(out_dir: str, name: str, value, protocol: int) -> tuple[str, int]:
    fname = f'{name}.p{protocol}.pkl'
    data = pickle.dumps(value, protocol=protocol)
    with open(os.path.join(out_dir, fname), 'wb') as f:
        f.write(data)
    return fname, len(data)


def main() -> None:
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    scale = float(os.environ.get('BENCH_SCALE', '1') or '1')
    scaling = os.environ.get('BENCH_SCALING', '1') != '0'
    workloads = []
    t0 = time.perf_counter()

    def add(name, group, value, protocols, desc, check, **extra):
        for p in protocols:
            fname, size = write_pickle(out_dir, name, value, p)
            workloads.append({'name': f'{name}.p{p}', 'group': group, 'kind': 'pickle', 'file': fname,
                              'protocol': p, 'bytes': size, 'description': desc, 'check': check, **extra})
        print(f'  {name}: {time.perf_counter() - t0:.1f}s', file=sys.stderr)

    ints = mixed_ints(1_000_000, 1)
    add('ints_1m', 'ints', ints, [4], '1M mixed ints (0-255, 256-65535, negative, BININT, 2^31..2^62, 100 huge)',
        {'length': len(ints)}, count=len(ints))
    del ints
    ints = mixed_ints(1_000_000, 1, huge=False)
    add('ints_1m_nohuge', 'ints', ints, [4], 'ints_1m with its 100 huge ints left as int64 values (pickleparser refuses LONG1 > 8 bytes)',
        {'length': len(ints)}, count=len(ints))
    del ints
    dicts = user_dicts(200_000, 2)
    add('dicts_200k', 'dicts', dicts, [4], "200k {'id','name','score','tags':['a','b']} dicts",
        {'length': len(dicts)}, count=len(dicts))
    del dicts
    strings = short_strings(500_000, 3)
    add('strings_500k', 'strings', strings, [4], '500k short str (5-20 chars, 5% non-ASCII, 2% 21-60 chars)',
        {'length': len(strings)}, count=len(strings))
    del strings
    arrays = float_arrays(10, 1_000_000, 4)
    add('arrays_10x1m_f32', 'arrays', arrays, [4, 5], '10 numpy float32 arrays of 1M elements (list)',
        {'length': len(arrays)}, payloadBytes=sum(a.nbytes for a in arrays))
    del arrays
    graph = shared_graph(100_000, 5)
    add('graph_100k', 'graph', graph, [4], '100k nodes sharing 1k tag dicts, 200 tuples, parent links; 100k edges',
        {'keys': sorted(graph.keys())}, count=len(graph['nodes']))
    del graph

    if scaling:
        for n, label in ((250_000, '250k'), (4_000_000, '4m')):
            ints = mixed_ints(n, 1)
            add(f'ints_{label}', 'scaling', ints, [4], f'{label} mixed ints (scaling series with ints_1m)',
                {'length': n}, count=n)
            del ints

    import joblib
    model = joblib_model(scale, 6)
    uncompressed = len(pickle.dumps(model, protocol=4))
    fname = f'model_z3_x{scale:g}.joblib'
    path = os.path.join(out_dir, fname)
    joblib.dump(model, path, compress=3, protocol=4)
    workloads.append({'name': f'model_z3_x{scale:g}.joblib', 'group': 'joblib', 'kind': 'joblib', 'file': fname,
                      'protocol': 4, 'bytes': os.path.getsize(path), 'uncompressedBytes': uncompressed,
                      'description': f'joblib.dump(compress=3) of a model dict: {uncompressed / 1e6:.0f} MB of '
                                     'arrays (float32/float64/int64/int32), 50k-str vocab, a 10-tree RandomForest',
                      'check': {'keys': sorted(model.keys())}})
    del model
    print(f'  joblib: {time.perf_counter() - t0:.1f}s', file=sys.stderr)

    manifest = {
        'generatorVersion': GENERATOR_VERSION,
        'scale': scale,
        'scaling': scaling,
        'python': sys.version.split()[0],
        'numpy': np.__version__,
        'joblib': joblib.__version__,
        'seconds': round(time.perf_counter() - t0, 2),
        'workloads': workloads,
    }
    with open(os.path.join(out_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
