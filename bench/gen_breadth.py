"""Breadth workloads for bench/breadth.mjs: one pickle per kind of value real files are made of
(instances, slotted instances, datetimes, numpy scalars and small arrays, sets, dicts with int or tuple
keys, ...), ~50-500k values each, at protocols 2 and 4. Deterministic. Usage: gen_breadth.py OUT_DIR"""
import collections
import datetime
import os
import pickle
import sys

import numpy as np

N = 100000


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ('a', 'b')

    def __init__(self, a, b):
        self.a = a
        self.b = b


def cases():
    return {
        'objects': [Point(i, 'p%d' % i) for i in range(N // 2)],
        'slotted': [Slotted(i, i) for i in range(N // 2)],
        'datetimes': [datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=i) for i in range(N // 2)],
        'np_scalars': [np.float64(i) for i in range(N // 2)],
        'small_arrays': [np.arange(i % 10, dtype=np.int32) for i in range(N // 5)],
        'tuples': [('group', i, 'g%d' % i) for i in range(N)],
        'int_key_dicts': [{i: 'v', i + 1: 2.5} for i in range(N // 2)],
        'tuple_key_dict': {(i, 'a'): i for i in range(N // 2)},
        'big_str_dict': {'k%d' % i: i for i in range(N)},
        'big_int_dict': {i: i * 2 for i in range(N)},
        'sets': [{i, i + 1, 'x'} for i in range(N // 2)],
        'frozensets': [frozenset((i, 'a')) for i in range(N // 2)],
        'bytes': [b'abc%d' % i for i in range(N)],
        'floats': [i * 0.5 + 0.1 for i in range(N * 5)],
        'none_bools': [None, True, False] * N,
        'nested_lists': [[[i], [i, i]] for i in range(N // 2)],
        'unicode': ['h\u00e9llo w\u00f6rld %d \u2713' % i for i in range(N)],
        'long_strings': ['x' * 100 + str(i) for i in range(N)],
        'ordered_dict': collections.OrderedDict(('k%d' % i, i) for i in range(N)),
    }


if __name__ == '__main__':
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, value in cases().items():
        for proto in (2, 4):
            with open(os.path.join(out, f'{name}.p{proto}.pkl'), 'wb') as f:
                pickle.dump(value, f, protocol=proto)
