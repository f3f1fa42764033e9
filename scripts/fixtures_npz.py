"""Fixtures of `.npz` files: np.savez and np.savez_compressed (stored and deflated entries), named and
positional arrays, every plain dtype family, Fortran order, 0-d and empty arrays, structured dtypes,
and object arrays (a pickle inside the .npy, which np.load reads with allow_pickle=True).

Each fixture's `desc` is the description (DESCRIPTION_FORMAT.md) of `dict(np.load(f, allow_pickle=True))`:
a dict from array name to ndarray, in the archive's order.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

import gen_fixtures

FAMILY = 'npz'


def register(writer: Any) -> None:
    import fixtures_numpy
    fixtures_numpy.register(writer)


def add(writer: Any, name: str, save: Any, arrays: dict, *positional: Any, note: str | None = None) -> None:
    b = io.BytesIO()
    save(b, *positional, **arrays)
    data = b.getvalue()
    with np.load(io.BytesIO(data), allow_pickle=True) as z:
        loaded = {k: z[k] for k in z.files}
    meta: dict[str, Any] = {'desc': gen_fixtures.describe(loaded, 4), 'compressed': save is np.savez_compressed}
    if note:
        meta['note'] = note
    path = writer.file(FAMILY, f'{name}.npz', data)
    writer.fixture(FAMILY, name, meta, [{'path': path, 'kind': 'npz'}])


def arrays() -> dict:
    rng = np.random.default_rng(0)
    return {
        'f8': rng.standard_normal((3, 4)),
        'f4': np.array([1.5, -0.0, np.inf, np.nan], dtype=np.float32),
        'f2': np.array([1.0, 65504.0], dtype=np.float16),
        'i8': np.array([-2**63, 2**63 - 1], dtype=np.int64),
        'u2': np.arange(5, dtype=np.uint16),
        'b1': np.array([True, False]),
        'c16': np.array([1 + 2j, -1j]),
        'big': np.arange(4, dtype='>i4'),
        'fortran': np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        'scalar': np.array(3.25),
        'empty': np.zeros((0, 3), dtype=np.int32),
        'U': np.array(['ab', 'c']),
        'S': np.array([b'xy', b'z']),
        'struct': np.array([(1, 2.5), (3, -1.0)], dtype=[('a', '<i4'), ('b', '<f8')]),
        'dt': np.array(['2020-01-01', 'NaT'], dtype='M8[D]'),
    }


def generate(writer: Any) -> None:
    a = arrays()
    add(writer, 'savez', np.savez, a, note='np.savez: stored entries')
    add(writer, 'savez_compressed', np.savez_compressed, a, note='np.savez_compressed: deflated entries')
    add(writer, 'positional', np.savez, {}, np.arange(3), np.ones(2), note='positional arrays: arr_0, arr_1')
    obj = np.empty(3, dtype=object)
    obj[:] = [{'k': 1}, 'text', [1, 2]]
    add(writer, 'object_array', np.savez, {'obj': obj, 'plain': np.arange(2)},
        note='an object array: its .npy holds a pickle (np.load needs allow_pickle=True)')
    add(writer, 'empty_archive', np.savez, {}, note='no arrays at all')
