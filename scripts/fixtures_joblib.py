"""Fixtures of the joblib family: files written by the installed joblib (every compressor, protocols
2-5, a non-seekable target) and hand-built files in the pre-0.10 formats (NDArrayWrapper + sibling
.npy files, ZF z-files + ZNDArrayWrapper with zlib-compressed raw sibling files).

Every file is read back with the installed `joblib.load` and compared with the value that was dumped
before it is kept. Descriptions are of the dumped value (test/helpers/DESCRIPTION_FORMAT.md); note
that joblib >= 1.1 byte-swaps non-native arrays to native order when it loads them, while picklejar
keeps the stored byte order, so big-endian arrays are described with their original dtype.

Index entries: files of kind "joblib" (the file `load`/`loads` read; with "protocol", "compress"
= [method, level] or null, "aligned" = whether payloads are 16-byte aligned) and kind "joblib-side"
(sibling files of the old formats, read by `load(path)` only).
"""
from __future__ import annotations

import io
import json
import os
import pickle
import tempfile
import zlib
from typing import Any

import numpy as np
import joblib
import joblib.numpy_pickle as jnp

FAMILY = 'joblib'
PROTOCOLS = (2, 3, 4, 5)
COMPRESSORS: list[tuple[str, int] | None] = [
    None, ('zlib', 1), ('zlib', 3), ('zlib', 9), ('gzip', 3), ('bz2', 9), ('lzma', 6), ('xz', 6), ('lz4', 3),
]


# ---------------------------------------------------------------------------------------------------
# Array descriptions: the numpy family owns them; its hook is used when present.
# ---------------------------------------------------------------------------------------------------

def _dtype_text(dt: np.dtype) -> str:
    if dt.names is not None or dt.subdtype is not None:
        return json.dumps(dt.descr, separators=(',', ':'))
    return dt.str


def describe_ndarray_fallback(v: Any, child) -> Any:
    """DESCRIPTION_FORMAT.md's ndarray row, for runs without the numpy family's describer."""
    if type(v) not in (np.ndarray, np.matrix):
        return None
    if v.dtype.hasobject:
        return {'t': 'ndarray', 'dtype': '|O', 'shape': list(v.shape), 'v': [child(x) for x in v.ravel(order='C').tolist()]}
    fortran = bool(v.flags.f_contiguous and not v.flags.c_contiguous)
    return {'t': 'ndarray', 'dtype': _dtype_text(v.dtype), 'shape': list(v.shape), 'fortran': fortran,
            'data': v.tobytes(order='C').hex()}


def register(writer) -> None:
    try:
        import fixtures_numpy  # noqa: F401 - its register() installs the real array describer
        if hasattr(fixtures_numpy, 'register'):
            fixtures_numpy.register(writer)
            return
    except ImportError:
        pass
    writer.register_describer(describe_ndarray_fallback)


# ---------------------------------------------------------------------------------------------------
# Comparing what joblib.load gives back with what was dumped
# ---------------------------------------------------------------------------------------------------

def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if type(a) is not type(b) and not (type(a) is np.memmap or type(b) is np.memmap):
            return False
        if a.shape != b.shape:
            return False
        if a.dtype.hasobject or b.dtype.hasobject:
            return a.dtype == b.dtype and all(same(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
        if a.dtype.newbyteorder('=') != b.dtype.newbyteorder('=') and a.dtype != b.dtype:
            return False
        if a.dtype.names is not None or a.dtype.kind in 'Mm':  # records; NaT != NaT
            native = a.dtype.newbyteorder('=')
            return a.astype(native).tobytes() == b.astype(native).tobytes()
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in 'fc'))
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


# ---------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------

def mixed_arrays() -> dict:
    rng = np.random.default_rng(7)
    shared = np.arange(4, dtype='<i4')
    return {
        'f8': np.linspace(-1.5, 2.5, 9),
        'f4': np.arange(6, dtype='<f4').reshape(2, 3) / 4,
        'f2': np.array([0.5, -2.0, np.inf], dtype='<f2'),
        'i1': np.array([-128, 0, 127], dtype='i1'),
        'i2': np.array([-300, 300], dtype='<i2'),
        'i8': np.array([-(2 ** 63), 2 ** 63 - 1, 0], dtype='<i8'),
        'u4': np.array([0, 2 ** 32 - 1], dtype='<u4'),
        'u8': np.array([2 ** 64 - 1], dtype='<u8'),
        'bool': np.array([[True, False], [False, True]]),
        'c8': np.array([1 + 2j, -0.5j], dtype='<c8'),
        'c16': np.array([complex(1.5, -2.25)], dtype='<c16'),
        'nan': np.array([np.nan, -0.0, np.inf, -np.inf]),
        'struct': np.array([(1, 2.5, b'ab'), (-3, -0.5, b'xyz')], dtype=[('x', '<i4'), ('y', '>f8'), ('s', 'S3')]),
        'unicode': np.array(['ab', 'c', '\u00e9\u4e2d'], dtype='<U3'),
        'bytes': np.array([b'ab', b'c'], dtype='S2'),
        'fortran': np.asfortranarray(np.arange(12, dtype='<i2').reshape(3, 4)),
        'fortran3d': np.asfortranarray(np.arange(24, dtype='<f8').reshape(2, 3, 4)),
        'big_i8': np.array([0, 1, -2], dtype='>i8'),
        'big_f4': np.arange(3, dtype='>f4'),
        'object': np.array(['x', None, 3, 1.5], dtype=object),
        'object2d': np.array([[1, 'b'], [None, (2, 3)]], dtype=object),
        'zero_d': np.array(3.25),
        'zero_d_int': np.array(7, dtype='<i2'),
        'empty': np.zeros((0,), dtype='<f8'),
        'empty2': np.zeros((2, 0), dtype='<i4'),
        'matrix': np.matrix([[1, 2], [3, 4]], dtype='<i8'),
        'datetime': np.array(['2020-01-01', 'NaT'], dtype='<M8[D]'),
        'timedelta': np.array([5, -1], dtype='<m8[ms]'),
        'rand3d': rng.standard_normal((2, 3, 4)),
        'shared_a': shared,
        'shared_b': shared,
        'noncontig': np.arange(20, dtype='<i4')[::3],
    }


def nested_value() -> Any:
    a = np.arange(3, dtype='<f8')
    return [a, (a, {'k': a, 'n': None}), [np.ones((2, 2), dtype='<i4'), 'text', 42, 2.5, b'raw'], {'t': (1, 2)}]


def large_value() -> dict:
    # > 64 KiB payloads: the pickle frames around them and the alignment of later arrays matter.
    return {'big': np.arange(9000, dtype='<f8') * 0.5, 'after': np.arange(7, dtype='<i2'),
            'ints': np.arange(17000, dtype='<i4') % 251}


def scalar_mix() -> dict:
    return {'np_float': np.float64(1.5), 'np_int': np.int32(7), 'dtype': np.dtype('<f4'), 'arr': np.arange(3, dtype='<u1'),
            'py': [1, 2.0, 'three', None, True], 'big_int': 2 ** 70}


class NoTell(io.RawIOBase):
    """A write-only stream whose tell() fails (a pipe, a socket): joblib then writes no alignment padding."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self.data += bytes(b)
        return len(b)

    def tell(self) -> int:
        raise io.UnsupportedOperation('no tell')

    def seekable(self) -> bool:
        return False


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------

def _alignment_value(data: bytes) -> bytes | None:
    """The opcode byte after the first 'numpy_array_alignment_bytes' key (past its memo opcode):
    b'K' (16) or b'N' (None); None when the key is absent (no arrays, or joblib < 1.2)."""
    i = data.find(b'numpy_array_alignment_bytes')
    if i < 0:
        return None
    i += len('numpy_array_alignment_bytes')
    op = data[i:i + 1]
    i += {b'\x94': 1, b'q': 2, b'r': 5}.get(op, 0)
    return data[i:i + 1]


def _aligned(data: bytes) -> bool:
    """True when joblib's alignment padding is present (state has numpy_array_alignment_bytes=16)."""
    return _alignment_value(data) == b'K'


def _dump_and_check(value: Any, protocol: int, compress, tmp: str) -> bytes:
    ext = '.pkl'
    path = os.path.join(tmp, 'f' + ext)
    joblib.dump(value, path, compress=compress if compress is not None else 0, protocol=protocol)
    with open(path, 'rb') as f:
        data = f.read()
    back = joblib.load(path)
    if not same(value, back):
        raise RuntimeError(f'joblib.load gave a different value (protocol {protocol}, compress {compress})')
    return data


def dumped(writer, name: str, value: Any, protocols=PROTOCOLS, compressors=COMPRESSORS, note: str | None = None) -> None:
    files = []
    with tempfile.TemporaryDirectory() as tmp:
        for c in compressors:
            for p in protocols:
                data = _dump_and_check(value, p, c, tmp)
                tag = 'raw' if c is None else f'{c[0]}{c[1]}'
                entry = {'path': writer.file(FAMILY, f'{name}.p{p}.{tag}.joblib', data), 'kind': 'joblib', 'protocol': p,
                         'compress': list(c) if c is not None else None, 'aligned': _aligned(data)}
                files.append(entry)
    meta = {'desc': writer.describe(value, max(protocols)), 'protocols': sorted(protocols),
            'joblib': joblib.__version__, 'numpy': np.__version__}
    if note:
        meta['note'] = note
    writer.fixture(FAMILY, name, meta, files)


def notell(writer) -> None:
    value = {'a': np.arange(5, dtype='<f8'), 'b': np.array([[1, 2], [3, 4]], dtype='<i2'), 'o': np.array([None, 'x'], dtype=object)}
    files = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in PROTOCOLS:
            s = NoTell()
            joblib.dump(value, s, protocol=p)
            data = bytes(s.data)
            if _alignment_value(data) != b'N':
                raise RuntimeError('expected numpy_array_alignment_bytes None for a stream without tell()')
            path = os.path.join(tmp, f'nt{p}.pkl')
            with open(path, 'wb') as f:
                f.write(data)
            if not same(value, joblib.load(path)):
                raise RuntimeError('no-tell file does not load back')
            files.append({'path': writer.file(FAMILY, f'notell.p{p}.raw.joblib', data), 'kind': 'joblib', 'protocol': p,
                          'compress': None, 'aligned': False})
    writer.fixture(FAMILY, 'notell', {'desc': writer.describe(value, 5), 'protocols': list(PROTOCOLS),
                                      'note': 'joblib.dump to a stream whose tell() fails: numpy_array_alignment_bytes None, no padding'},
                   files)


# ---------------------------------------------------------------------------------------------------
# Pre-0.10 formats, built as joblib 0.9 wrote them
# ---------------------------------------------------------------------------------------------------

class _OldPickler(pickle._Pickler):  # type: ignore[misc,name-defined]
    """joblib 0.9's NumpyPickler: the pure-Python pickler with arrays swapped for wrappers."""

    def __init__(self, f, protocol: int, base: str, compressed: bool, cache_items: int, side: dict):
        super().__init__(f, protocol=protocol)
        self.base = base
        self.compressed = compressed
        self.cache_items = cache_items
        self.side = side
        self.counter = 0

    def save(self, obj, save_persistent_id=True):  # noqa: D401
        if type(obj) in (np.ndarray, np.matrix, np.memmap) and not obj.dtype.hasobject:
            if self.compressed and obj.size < self.cache_items:
                return super().save(obj)  # small arrays stay inline in compressed files
            self.counter += 1
            if self.compressed:
                name = f'{self.base}_{self.counter:02d}.npy.z'
                init_args, state = obj.__reduce__()[1:3]
                raw = state[-1]
                self.side[name] = zfile(raw)
                obj = jnp.ZNDArrayWrapper(name, init_args, state[:-1])
            else:
                name = f'{self.base}_{self.counter:02d}.npy'
                buf = io.BytesIO()
                np.save(buf, obj)
                self.side[name] = buf.getvalue()
                obj = jnp.NDArrayWrapper(name, type(obj), True)
        return super().save(obj)


def zfile(data: bytes, level: int = 1, extra_space: bool = False) -> bytes:
    """joblib < 0.10 z-file: 'ZF', hex length left-justified to 19 chars, one zlib stream."""
    header = hex(len(data)).ljust(19 + (1 if extra_space else 0)).encode('ascii')
    return b'ZF' + header + zlib.compress(data, level)


class _LegacyNames:
    """Old joblib named its wrappers `joblib.numpy_pickle.*`; today they live in numpy_pickle_compat
    and are re-exported there. Pickle them under the old module name."""

    def __enter__(self):
        self.saved = (jnp.NDArrayWrapper.__module__, jnp.ZNDArrayWrapper.__module__)
        jnp.NDArrayWrapper.__module__ = 'joblib.numpy_pickle'
        jnp.ZNDArrayWrapper.__module__ = 'joblib.numpy_pickle'

    def __exit__(self, *exc):
        jnp.NDArrayWrapper.__module__, jnp.ZNDArrayWrapper.__module__ = self.saved


def old_format(writer, name: str, value: Any, protocol: int, compressed: bool, cache_items: int = 0,
               extra_space: bool = False, note: str | None = None) -> None:
    base = f'{name}.pkl'
    side: dict[str, bytes] = {}
    buf = io.BytesIO()
    with _LegacyNames():
        _OldPickler(buf, protocol, base, compressed, cache_items, side).dump(value)
    main = buf.getvalue()
    if compressed:
        main = zfile(main, 3, extra_space)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, base), 'wb') as f:
            f.write(main)
        for n, d in side.items():
            with open(os.path.join(tmp, n), 'wb') as f:
                f.write(d)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            back = joblib.load(os.path.join(tmp, base))
    if not same(value, back):
        raise RuntimeError(f'{name}: joblib.load of the old format differs')
    files = [{'path': writer.file(FAMILY, base, main), 'kind': 'joblib', 'protocol': protocol,
              'compress': ['zfile', 3] if compressed else None, 'aligned': False}]
    for n, d in sorted(side.items()):
        files.append({'path': writer.file(FAMILY, n, d), 'kind': 'joblib-side'})
    meta = {'desc': writer.describe(value, protocol), 'protocols': [protocol], 'old_format': True,
            'side_files': sorted(side)}
    if note:
        meta['note'] = note
    writer.fixture(FAMILY, name, meta, files)


def bombs(writer) -> None:
    """64 MiB of zeros through each of joblib's compressors (Python's own encoders): a few KiB that
    expand 1000-fold or more, for the decompression-limit tests. Not valid joblib content."""
    import bz2
    import gzip
    import lzma
    import lz4.frame
    zeros = bytes(64 << 20)
    made = {
        'zlib': zlib.compress(zeros, 9),
        'gzip': gzip.compress(zeros, 9, mtime=0),
        'bz2': bz2.compress(zeros, 9),
        'lzma': lzma.compress(zeros, format=lzma.FORMAT_ALONE),
        'xz': lzma.compress(zeros),
        'lz4': lz4.frame.compress(zeros),
    }
    files = [{'path': writer.file(FAMILY, f'bomb64m.{k}', v), 'kind': 'bomb', 'compress': [k, 0]} for k, v in made.items()]
    writer.fixture(FAMILY, 'bombs', {'desc': None, 'protocols': [], 'expanded_size': len(zeros),
                                     'note': '64 MiB of zeros per compressor, for output-limit tests'}, files)


def generate(writer) -> None:
    bombs(writer)
    dumped(writer, 'mixed', mixed_arrays())
    dumped(writer, 'nested', nested_value(), compressors=[None, ('zlib', 3), ('gzip', 3), ('lz4', 3)])
    dumped(writer, 'large', large_value(), compressors=[None, ('zlib', 3), ('xz', 6), ('lzma', 6), ('bz2', 9), ('lz4', 3)])
    dumped(writer, 'scalars', scalar_mix(), compressors=[None, ('gzip', 3)])
    dumped(writer, 'no_arrays', {'a': [1, 2, 3], 'b': 'text'}, compressors=[None, ('zlib', 3)])
    dumped(writer, 'bare_array', np.arange(10, dtype='<i8').reshape(2, 5), compressors=[None, ('zlib', 3), ('xz', 6)])
    notell(writer)

    old_value = {'a': np.arange(6, dtype='<f8').reshape(2, 3), 'b': [np.array([1, 2, 3], dtype='<i4'), 'txt'],
                 'f': np.asfortranarray(np.arange(6, dtype='<i2').reshape(2, 3)), 'm': np.matrix([[1.5, 2.5]]),
                 'o': np.array([1, None], dtype=object)}
    old_format(writer, 'old_npy_p2', old_value, 2, False, note='joblib 0.9 uncompressed: NDArrayWrapper + sibling .npy files')
    old_format(writer, 'old_npy_p3', old_value, 3, False)
    old_format(writer, 'old_zfile_inline', old_value, 2, True, cache_items=10 ** 9,
               note='joblib 0.9 compressed, arrays small enough to stay inline in the z-file')
    old_format(writer, 'old_zfile_side', old_value, 2, True, cache_items=0,
               note='joblib 0.9 compressed with arrays in zlib z-file siblings (ZNDArrayWrapper)')
    old_format(writer, 'old_zfile_space', old_value, 2, True, cache_items=4, extra_space=True,
               note='joblib <= 0.8.4 under Python 2: one extra space in the z-file header')
