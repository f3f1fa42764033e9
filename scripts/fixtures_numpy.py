"""Fixtures of the numpy family: arrays, dtypes, scalars, masked arrays, protocol-5 buffers, `.npy` files.

Values are pickled by CPython + numpy 1.x at every protocol (`writer.value`). Streams numpy 1.x does
not write itself are made with a `pickle.Pickler.reducer_override` (old state layouts, numpy 2 module
names, the numpy >= 2.3 'K'-order `_frombuffer`) or byte by byte (Python 2 streams), and CPython + numpy
must load each of them (`writer.raw`), with fixture-only shim modules standing in for numpy 2's names.

Descriptions (the numpy rows of test/helpers/DESCRIPTION_FORMAT.md, refined here):
  ndarray   {"t":"ndarray","dtype":D,"shape":[..],"fortran":bool,"data":"<hex of tobytes(order='C')>"}
            object dtypes: "v":[Desc..] in C order instead of "data" (structured with objects: one list
            of field Descs per element); subclasses add "cls":"numpy.matrix" etc.; masked arrays add
            "mask":"<hex of the bool mask, C order>" and "fill_value":Desc.
            "fortran" = F-contiguous and not C-contiguous (what the pickle's is_fortran says).
  npscalar  {"t":"npscalar","dtype":D,"data":"<hex of the element's itemsize bytes>"}
            In "data", padding bytes of structured dtypes (bytes no field covers) are written as 00.
  dtype     {"t":"dtype","v":D}
  D (dtype) = dtype.str for plain dtypes; otherwise {"str","itemsize","alignment","aligned","fields":
            [[name, title|null, offset, D]..]|null,"subarray":[D,[shape]]|null} plus "type" when the scalar
            type of a void dtype is not numpy.void (numpy.record) and "metadata":Desc when non-empty.
"""
from __future__ import annotations

import io
import pickle
import struct
import sys
import types
from typing import Any

import numpy as np

import gen_fixtures

FAMILY = 'numpy'


# ---------------------------------------------------------------------------------------------------
# Descriptions
# ---------------------------------------------------------------------------------------------------

def _metadata(dt: np.dtype) -> dict | None:
    md = dt.metadata
    return dict(md) if md else None


def dtype_desc(dt: np.dtype) -> Any:
    plain = (dt.fields is None and dt.subdtype is None and _metadata(dt) is None
             and not (dt.kind == 'V' and dt.type is not np.void))
    if plain:
        return dt.str
    d: dict[str, Any] = {
        'str': dt.str, 'itemsize': dt.itemsize, 'alignment': dt.alignment, 'aligned': bool(dt.isalignedstruct),
        'fields': None, 'subarray': None,
    }
    if dt.names is not None:
        fields = []
        for name in dt.names:
            info = dt.fields[name]
            title = info[2] if len(info) > 2 else None
            fields.append([name, title, info[1], dtype_desc(info[0])])
        d['fields'] = fields
    if dt.subdtype is not None:
        d['subarray'] = [dtype_desc(dt.subdtype[0]), list(dt.subdtype[1])]
    if dt.kind == 'V' and dt.type is not np.void:
        d['type'] = gen_fixtures.global_name(dt.type)
    md = _metadata(dt)
    if md is not None:
        d['metadata'] = gen_fixtures.describe(md)  # a fresh description (own ids)
    return d


def _covered(dt: np.dtype) -> bytearray:
    """1 for each byte of an element that belongs to some field (structured dtypes have padding)."""
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return _covered(base) * int(np.prod(shape, dtype=np.int64))
    if dt.names is None:
        return bytearray(b'\x01' * dt.itemsize)
    mask = bytearray(dt.itemsize)
    for name in dt.names:
        fdt, off = dt.fields[name][:2]
        for i, c in enumerate(_covered(fdt)):
            mask[off + i] |= c
    return mask


def data_hex(dt: np.dtype, raw: bytes) -> str:
    """Hex of element bytes with padding bytes zeroed: numpy copies structured data field by field,
    so padding holds whatever memory held (two tobytes() calls may differ there)."""
    if dt.names is None and dt.subdtype is None:
        return raw.hex()
    mask = _covered(dt)
    if all(mask):
        return raw.hex()
    n = dt.itemsize
    out = bytearray(raw)
    for i in range(len(out)):
        if not mask[i % n]:
            out[i] = 0
    return out.hex()


def _fortran(a: np.ndarray) -> bool:
    return bool(a.flags.f_contiguous and not a.flags.c_contiguous)


def describe_numpy(v: Any, child) -> Any:
    if isinstance(v, np.ndarray):
        d: dict[str, Any] = {'t': 'ndarray', 'dtype': dtype_desc(v.dtype), 'shape': list(v.shape),
                             'fortran': _fortran(v)}
        if type(v) is not np.ndarray:
            d['cls'] = gen_fixtures.global_name(type(v))
        base = v.view(np.ndarray)
        if v.dtype.hasobject:
            flat = base.ravel(order='C')
            if v.dtype.names is None:
                d['v'] = [child(x) for x in flat]
            else:
                d['v'] = [[child(x) for x in rec.item()] for rec in flat]
        else:
            d['data'] = data_hex(v.dtype, base.tobytes(order='C'))
        if isinstance(v, np.ma.MaskedArray):
            d['mask'] = np.ma.getmaskarray(v).tobytes(order='C').hex()
            d['fill_value'] = child(v._fill_value)
        return d
    if isinstance(v, np.generic):
        # np.str_('').tobytes() is four NULs although its dtype is <U0: keep itemsize bytes.
        return {'t': 'npscalar', 'dtype': dtype_desc(v.dtype), 'data': data_hex(v.dtype, v.tobytes()[:v.dtype.itemsize])}
    if isinstance(v, np.dtype):
        return {'t': 'dtype', 'v': dtype_desc(v)}
    return None


def register(writer) -> None:
    writer.register_describer(describe_numpy)


# ---------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------

NAN = float('nan')
INF = float('inf')


def _obj_array(items: list) -> np.ndarray:
    a = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        a[i] = x
    return a


def _zeroed(values, dtype) -> np.ndarray:
    """An array whose unused bytes (long double padding, struct gaps) are zero, so pickles are
    reproducible: numpy allocates arrays uninitialized and never writes those bytes."""
    a = np.zeros(len(values), dtype)
    if a.dtype.names is None:
        a[:] = values
    else:  # field by field: assigning whole records would copy a temporary's padding
        for k, name in enumerate(a.dtype.names):
            a[name] = [v[k] for v in values]
    return a


def arrays() -> dict[str, Any]:
    A: dict[str, Any] = {}
    A['b1'] = np.array([True, False, True])
    A['i1'] = np.array([-128, 0, 127], 'i1')
    A['i2'] = np.array([-32768, 1, 32767], '<i2')
    A['i4'] = np.array([-2**31, 7, 2**31 - 1], '<i4')
    A['i8'] = np.array([-2**63, 2**53 + 1, 2**63 - 1], '<i8')
    A['u1'] = np.array([0, 200, 255], 'u1')
    A['u2'] = np.array([0, 65535], '<u2')
    A['u4'] = np.array([0, 2**32 - 1], '<u4')
    A['u8'] = np.array([0, 2**64 - 1, 2**53 + 1], '<u8')
    A['f2'] = np.array([0.5, -2, 65504, INF, NAN, 6e-8, -0.0], '<f2')
    A['f4'] = np.array([1.5, -0.0, INF, NAN, 3.4e38, 1e-45], '<f4')
    A['f8'] = np.array([1.5, -0.0, INF, -INF, NAN, 5e-324, 1.7976931348623157e308], '<f8')
    A['f16'] = _zeroed([1.5, -2.25, 1e300], np.longdouble)
    A['c8'] = np.array([1 + 2j, -0.5 - 1j, complex(NAN, INF)], '<c8')
    A['c16'] = np.array([1 + 2j, complex(-0.0, 1e-300)], '<c16')
    # Assigning a complex long double copies stack garbage into the padding: build it from bytes.
    A['c32'] = np.frombuffer(_zeroed([1.0, 2.0, -0.5, 3.0], np.longdouble).tobytes(), np.clongdouble).copy()
    A['U'] = np.array(['ab', '', 'h\u00e9llo', '\U0001f600x', 'a\x00b'])
    A['S'] = np.array([b'ab', b'', b'\x00\xff', b'a\x00'])
    A['V4'] = np.array([b'\x01\x02\x03\x04', b'\x00\x00\x00\x00'], dtype='V4')
    A['struct_packed'] = np.array([(1, 2.5, b'ab'), (-1, NAN, b'xyz')],
                                  dtype=[('x', '<i4'), ('y', '>f8'), ('s', 'S3')])
    A['struct_aligned'] = _zeroed([((1.0, 2.0), 3, -4)],
                                  np.dtype([('a', '<f4', (2,)), ('b', 'u1'), ('c', '<i8')], align=True))
    A['struct_nested'] = np.array([((1.0, 2.0), 7), ((3.0, 4.0), 8)],
                                  dtype=[('pos', [('x', '<f4'), ('y', '<f4')]), ('id', '<u2')])
    A['struct_subarray'] = np.array([([[1, 2], [3, 4]], -1)], dtype=[('m', '<f8', (2, 2)), ('k', 'i1')])
    A['struct_titles'] = np.array([(1, 2.0)], dtype=np.dtype(
        {'names': ['a', 'b'], 'formats': ['<i4', '<f8'], 'titles': ['Alpha', 'Beta']}))
    A['struct_offsets'] = np.zeros(2, dtype=np.dtype(
        {'names': ['a', 'b'], 'formats': ['<i4', '<f8'], 'offsets': [0, 8], 'itemsize': 24}))
    A['struct_offsets']['a'] = [5, 6]
    A['struct_with_object'] = np.array([(1, 'x'), (2, None)], dtype=[('a', '<i4'), ('b', 'O')])
    shared = [1, 2]
    A['O_mixed'] = _obj_array([1, 'two', 3.0, None, [4, 5], {'k': (6,)}, b'x', 2**70])
    A['O_shared'] = _obj_array([shared, shared, 'x'])
    A['O_fortran'] = np.asfortranarray(np.array([[1, 'b'], [3, 'd']], dtype=object))
    A['M8_D'] = np.array(['2020-01-01', '1969-12-31', 'NaT'], 'M8[D]')
    A['M8_ns'] = np.array(['2020-01-01T12:34:56.789012345', 'NaT'], 'M8[ns]')
    A['M8_Y'] = np.array(['1970', '2024'], 'M8[Y]')
    A['M8_generic'] = np.array([np.datetime64('NaT')])
    A['m8_5ms'] = np.array([1, -3, 'NaT'], 'm8[5ms]')
    A['m8_us'] = np.array([10**12], 'm8[us]')
    # big-endian
    A['be_i2'] = np.array([1, -2], '>i2')
    A['be_i4'] = np.array([1, -2, 2**31 - 1], '>i4')
    A['be_i8'] = np.array([0, 1, -2**63], '>i8')
    A['be_u2'] = np.array([1, 65535], '>u2')
    A['be_u8'] = np.array([1, 2**64 - 1], '>u8')
    A['be_f2'] = np.array([1.5, -0.0, INF], '>f2')
    A['be_f4'] = np.array([1.5, NAN], '>f4')
    A['be_f8'] = np.array([1.5, -0.0, 1e-310], '>f8')
    A['be_c8'] = np.array([1 + 2j], '>c8')
    A['be_c16'] = np.array([1 - 2j, 3.5j], '>c16')
    A['be_U3'] = np.array(['abc', '\u00e9'], '>U3')
    A['be_M8_s'] = np.array(['2020-01-01T00:00:01', 'NaT'], '>M8[s]')
    A['be_m8_us'] = np.array([5, -5], '>m8[us]')
    A['be_f8_fortran'] = np.asfortranarray(np.arange(6, dtype='>f8').reshape(2, 3))
    # layouts
    A['f8_fortran_2d'] = np.asfortranarray(np.arange(12, dtype='<f8').reshape(3, 4))
    A['i2_fortran_3d'] = np.asfortranarray(np.arange(24, dtype='<i2').reshape(2, 3, 4))
    A['U_fortran'] = np.asfortranarray(np.array([['a', 'bb'], ['ccc', '']]))
    A['struct_fortran'] = np.asfortranarray(np.array([[(1, 2.0), (3, 4.0)], [(5, 6.0), (7, 8.0)]],
                                                     dtype=[('a', '<i2'), ('b', '<f4')]))
    A['c16_fortran'] = np.asfortranarray(np.array([[1 + 1j, 2], [3, 4j]]))
    A['b1_fortran'] = np.asfortranarray(np.array([[True, False, False], [False, True, True]]))
    A['zero_d_f8'] = np.array(5.0)
    A['zero_d_i8'] = np.array(-7, 'i8')
    A['zero_d_U'] = np.array('x')
    A['zero_d_O'] = np.array(None, dtype=object)
    A['empty_1d'] = np.zeros((0,), 'f8')
    A['empty_2x0'] = np.zeros((2, 0), 'i4')
    A['empty_0x3_fortran'] = np.asfortranarray(np.zeros((0, 3), 'u2'))
    A['empty_O'] = np.empty((0,), object)
    A['c_3d'] = np.arange(24, dtype='<i4').reshape(2, 3, 4)
    A['slice_step'] = np.arange(10, dtype='u1')[::2]
    A['slice_2d_cols'] = np.arange(12, dtype='<f4').reshape(3, 4)[:, ::2]
    A['transposed_3d'] = np.arange(24, dtype='<i8').reshape(2, 3, 4).transpose(1, 0, 2)
    A['ones_dims_fortran'] = np.asfortranarray(np.arange(5, dtype='<f8').reshape(1, 5))
    A['readonly'] = np.arange(4, dtype='<u4')
    A['readonly'].flags.writeable = False
    return A


def subclasses() -> dict[str, Any]:
    S: dict[str, Any] = {}
    S['matrix'] = np.matrix([[1, 2], [3, 4]])
    S['recarray'] = np.rec.array([(1, 2.0), (3, 4.0)], dtype=[('a', '<i4'), ('b', '>f8')])
    S['masked_int'] = np.ma.array([1, 2, 3], mask=[0, 1, 0], fill_value=99)
    # Explicit fill values only: a pickled None makes numpy compute a default fill value on load, which
    # picklejar does not reproduce (MaskedArray.fillValue stays null).
    S['masked_float'] = np.ma.array([1.5, NAN], mask=[False, True], fill_value=-1.5)
    S['masked_struct'] = np.ma.array(np.array([(1, 2.0), (3, 4.0)], dtype=[('a', '<i4'), ('b', '<f8')]),
                                     mask=[(0, 1), (1, 0)], fill_value=(-1, 0.5))
    S['masked_fortran'] = np.ma.array(np.asfortranarray(np.arange(6.).reshape(2, 3)),
                                      mask=np.asfortranarray([[0, 1, 0], [1, 0, 0]]), fill_value=7.0)
    # Object dtype (scikit-learn's GridSearchCV.cv_results_ 'param_*' columns are such arrays).
    S['masked_object'] = np.ma.MaskedArray(_obj_array([1, 'rbf', None, 2.5]), mask=[False, False, True, False],
                                           fill_value='?')
    S['masked_object_2d'] = np.ma.array(_obj_array([(1, 'a'), [2], 'b', {'k': 3}]).reshape(2, 2),
                                        mask=[[0, 1], [1, 0]], fill_value='N/A')
    return S


def scalars() -> dict[str, Any]:
    x = np.array([(1, 2.5)], dtype=[('a', '<i4'), ('b', '<f8')])
    return {
        'bool': np.bool_(True), 'int8': np.int8(-5), 'int16': np.int16(300), 'int32': np.int32(7),
        'int64_min': np.int64(-2**63), 'int64_small': np.int64(42), 'uint8': np.uint8(200),
        'uint64_max': np.uint64(2**64 - 1), 'float16': np.float16(1.5), 'float32': np.float32(0.1),
        'float64': np.float64(1.5), 'float64_nan': np.float64(NAN), 'longdouble': _zeroed([1.5], np.longdouble)[0],
        'complex64': np.complex64(1 + 2j), 'complex128': np.complex128(-1.5 + 0.25j),
        'str': np.str_('hi\u00e9'), 'str_empty': np.str_(''), 'bytes': np.bytes_(b'ab'),
        'void': np.void(b'\x01\x02'), 'record': x[0], 'datetime_D': np.datetime64('2020-01-01'),
        'datetime_NaT': np.datetime64('NaT'), 'datetime_ns': np.datetime64('2021-02-03T04:05:06.000000007'),
        'timedelta_5ms': np.timedelta64(5, 'ms').astype('m8[5ms]'), 'timedelta_s': np.timedelta64(-3, 's'),
    }


def dtypes() -> dict[str, Any]:
    return {
        'f8': np.dtype('f8'), 'be_i4': np.dtype('>i4'), 'U5': np.dtype('U5'), 'S3': np.dtype('S3'),
        'V7': np.dtype('V7'), 'O': np.dtype('O'), 'b1': np.dtype('b1'), 'f16': np.dtype(np.longdouble),
        'M8_ns': np.dtype('M8[ns]'), 'm8_5ms': np.dtype('m8[5ms]'), 'M8_generic': np.dtype('M8'),
        'struct_packed': np.dtype([('x', '<i4'), ('y', '>f8'), ('s', 'S3')]),
        'struct_aligned': np.dtype([('a', '<f4', (2,)), ('b', 'u1'), ('c', '<i8')], align=True),
        'struct_nested': np.dtype([('pos', [('x', '<f4'), ('y', '<f4')]), ('id', '<u2')]),
        'struct_titles': np.dtype({'names': ['a', 'b'], 'formats': ['<i4', '<f8'], 'titles': ['Alpha', 'Beta']}),
        'struct_object': np.dtype([('a', 'O'), ('b', '<i4')]),
        'subarray': np.dtype(('<f4', (2, 3))),
        'record': np.dtype((np.record, [('a', '<i4'), ('b', '>f8')])),
        'metadata': np.dtype('f4', metadata={'k': 1}),
        'datetime_metadata': np.dtype('M8[s]', metadata={'tz': 'UTC'}),
        'unicode_field_name': np.dtype([('caf\u00e9', '<i2')]),
    }


def containers() -> dict[str, Any]:
    d = np.dtype('f8')
    arr = np.arange(3, dtype='<i2')
    return {
        # Several arrays share one dtype object: later ones fetch the (built) dtype from the memo.
        'shared_dtype': {'a': np.zeros(2, d), 'b': np.ones(3, d), 'c': np.zeros((2, 2), '<i4'),
                         'd': np.array([1.0], d)},
        'same_array_twice': [arr, arr],
        'estimator_like': {'coef_': np.array([[0.5, -1.25]]), 'intercept_': np.float64(0.125),
                           'n_features_in_': 2, 'n_iter_': np.int32(7), 'classes_': np.array(['a', 'b'], dtype=object),
                           'dtype_': np.dtype('f4')},
    }


# ---------------------------------------------------------------------------------------------------
# Streams numpy 1.x does not write: made with reducer_override, verified by CPython + numpy loading them
# ---------------------------------------------------------------------------------------------------

def _frombuffer_k(buf, dtype, shape, order, axis_order=None):
    """numpy >= 2.3's `_frombuffer` (docs/FORMATS.md §4.2): 'K' order with an axis permutation."""
    array = np.frombuffer(buf, dtype=dtype)
    if order == 'K' and axis_order is not None:
        return array.reshape(shape, order='C').transpose(axis_order)
    return array.reshape(shape, order=order)


def _reconstruct(*args):
    return np.core.multiarray._reconstruct(*args)


def _scalar(*args):
    return np.core.multiarray.scalar(*args)


class _Shims:
    """Install fixture-only modules `numpy._core`, `numpy._core.multiarray`, `numpy._core.numeric`
    (numpy 1.24 has no numpy._core) whose functions forward to numpy 1.x; the numeric one takes the
    numpy 2.3 'K'-order signature."""

    NAMES = ('numpy._core', 'numpy._core.multiarray', 'numpy._core.numeric')

    def __enter__(self):
        core = types.ModuleType('numpy._core')
        ma = types.ModuleType('numpy._core.multiarray')
        nu = types.ModuleType('numpy._core.numeric')
        for fn, mod, name in ((_reconstruct, ma, '_reconstruct'), (_scalar, ma, 'scalar'),
                              (_frombuffer_k, nu, '_frombuffer')):
            f = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
            f.__module__ = mod.__name__
            f.__qualname__ = name
            setattr(mod, name, f)
        self.saved = {n: sys.modules.get(n) for n in self.NAMES}
        sys.modules.update({'numpy._core': core, 'numpy._core.multiarray': ma, 'numpy._core.numeric': nu})
        self.ma, self.nu = ma, nu
        return self

    def __exit__(self, *exc):
        for n, m in self.saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


class _Custom(pickle.Pickler):
    """A pickler whose numpy reductions are replaced by `override(obj, protocol)` when it returns one."""

    def __init__(self, f, protocol, override, **kw):
        super().__init__(f, protocol, **kw)
        self.protocol_ = protocol
        self.override = override

    def reducer_override(self, obj):
        rv = self.override(obj, self.protocol_)
        return NotImplemented if rv is None else rv


def custom_dumps(value, protocol, override, buffer_callback=None) -> bytes:
    f = io.BytesIO()
    kw = {'buffer_callback': buffer_callback} if buffer_callback is not None else {}
    _Custom(f, protocol, override, **kw).dump(value)
    return f.getvalue()


def _is_array(obj) -> bool:
    return type(obj) is np.ndarray


def _custom_streams(writer) -> None:
    def raw(name, data, expect, note, **kw):
        writer.raw(FAMILY, name, data, expect=expect, note=note, **kw)

    # Old ndarray state without the version item: (shape, dtype, is_fortran, rawdata).
    def four_tuple(obj, p):
        if _is_array(obj):
            fn, args, state = obj.__reduce__()
            return fn, args, state[1:]
        return None
    for p in (0, 2, 4):
        v = np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3))
        raw(f'state_4tuple_p{p}', custom_dumps(v, p, four_tuple), v,
            'ndarray BUILD state (shape, dtype, is_fortran, rawdata) without a version, as very old numpy wrote')

    # Old dtype state layouts (numpy accepts 5- to 9-item tuples).
    def dtype_state(make):
        def override(obj, p):
            if isinstance(obj, np.dtype):
                fn, args, state = obj.__reduce__()
                return fn, args, make(obj, state)
            return None
        return override

    def v2_7tuple(dt, s):  # (version, endian, subarray, names, fields, elsize, alignment)
        return (2,) + s[1:7]

    def v1_6tuple(dt, s):  # (version, endian, subarray, fields+{-1: names}, elsize, alignment)
        fields = None
        if s[4] is not None:
            fields = dict(s[4])
            fields[-1] = s[3]
        return (1, s[1], s[2], fields, s[5], s[6])

    def v0_5tuple(dt, s):  # (endian, subarray, fields+{-1: names}, elsize, alignment)
        return v1_6tuple(dt, s)[1:]

    struct_arr = np.array([(1, 2.5), (3, -1.0)], dtype=[('a', '<i4'), ('b', '>f8')])
    for tag, make in (('v2', v2_7tuple), ('v1', v1_6tuple), ('v0', v0_5tuple)):
        for p in (0, 2):
            raw(f'dtype_state_{tag}_struct_p{p}', custom_dumps(struct_arr, p, dtype_state(make)), struct_arr,
                f'structured array whose dtype states use the {tag} layout (older numpy)')
        v = np.array([1, 2], '>u4')
        raw(f'dtype_state_{tag}_simple_p2', custom_dumps(v, 2, dtype_state(make)), v.astype('<u4'),
            f'plain big-endian array whose dtype state uses the {tag} layout')

    # numpy 2 module names (numpy._core.*), produced through the shim modules and loaded through them.
    with _Shims() as shims:
        def np2(obj, p):
            if _is_array(obj):
                fn, args, *rest = obj.__reduce_ex__(p)
                target = shims.nu._frombuffer if fn.__name__ == '_frombuffer' else shims.ma._reconstruct
                return (target, args, *rest)
            if isinstance(obj, np.generic):
                fn, args = obj.__reduce__()
                return shims.ma.scalar, args
            return None
        value = {'a': np.arange(6, dtype='<f8').reshape(2, 3), 'f': np.asfortranarray(np.ones((2, 2), '<i2')),
                 's': np.float64(2.5), 'o': _obj_array(['x', 1])}
        for p in (2, 3, 4, 5):
            raw(f'numpy2_names_p{p}', custom_dumps(value, p, np2), value,
                'numpy 2 module names (numpy._core.multiarray/_core.numeric); written and loaded through '
                'fixture shim modules because the generating numpy is 1.x')
        bufs: list = []
        data = custom_dumps(value, 5, np2, buffer_callback=lambda b: bufs.append(b) or False)
        raw('numpy2_names_oob_p5', data, value,
            'numpy 2 names with out-of-band buffers',
            buffers=[(bytes(b.raw()), b.raw().readonly) for b in bufs])

        # numpy >= 2.3: _frombuffer(buf, dtype, c_shape, 'K', axis_order) for permuted-contiguous arrays.
        base = np.arange(24, dtype='<i4').reshape(2, 3, 4)
        for axes in ((1, 0, 2), (2, 1, 0), (0, 2, 1)):
            want = base.transpose(axes)
            stream = _k_stream(shims.nu._frombuffer, base, axes)
            raw('frombuffer_K_' + ''.join(map(str, axes)), stream, want,
                "numpy >= 2.3 'K'-order _frombuffer(buf, dtype, c_shape, 'K', axis_order); loaded with a shim "
                'implementing that signature')


class _KArray:
    """Stands for one array pickled the numpy-2.3 way (its reduction is given explicitly)."""

    def __init__(self, fn, base, axes):
        self.rv = (fn, (pickle.PickleBuffer(bytearray(base.tobytes())), base.dtype, base.shape, 'K', axes))

    def __reduce__(self):
        return self.rv


def _k_stream(fn, base, axes) -> bytes:
    return pickle.dumps(_KArray(fn, base, axes), protocol=5)


# ---------------------------------------------------------------------------------------------------
# Python 2 streams, byte by byte (numpy under Python 2 wrote str payloads as STRING opcodes)
# ---------------------------------------------------------------------------------------------------

class Py2:
    """A tiny Python-2-style pickle emitter (protocol 0 or 2), enough for numpy arrays and scalars."""

    def __init__(self, protocol: int):
        self.p = protocol
        self.out = bytearray(b'\x80\x02' if protocol == 2 else b'')

    def glob(self, module: str, name: str) -> 'Py2':
        self.out += b'c' + module.encode() + b'\n' + name.encode() + b'\n'
        return self

    def string(self, b: bytes) -> 'Py2':
        if self.p == 0:
            esc = ''.join(chr(c) if 0x20 <= c < 0x7f and c not in (0x27, 0x5c) else f'\\x{c:02x}' for c in b)
            self.out += b"S'" + esc.encode('ascii') + b"'\n"
        elif len(b) < 256:
            self.out += b'U' + bytes([len(b)]) + b
        else:
            self.out += b'T' + struct.pack('<i', len(b)) + b
        return self

    def int(self, n: int) -> 'Py2':
        if self.p == 0:
            self.out += b'I' + str(n).encode() + b'\n'
        elif 0 <= n < 256:
            self.out += b'K' + bytes([n])
        else:
            self.out += b'J' + struct.pack('<i', n)
        return self

    def boolean(self, v: bool) -> 'Py2':
        if self.p == 0:
            self.out += b'I01\n' if v else b'I00\n'
        else:
            self.out += b'\x88' if v else b'\x89'
        return self

    def none(self) -> 'Py2':
        self.out += b'N'
        return self

    def mark(self) -> 'Py2':
        self.out += b'('
        return self

    def tuple(self) -> 'Py2':
        self.out += b't'
        return self

    def op(self, code: bytes) -> 'Py2':
        self.out += code
        return self

    def dtype(self, typestr: str, endian: str, names=None, fields=None, elsize=-1, alignment=-1, flags=0) -> 'Py2':
        self.glob('numpy', 'dtype').mark().string(typestr.encode()).int(0).int(1).tuple().op(b'R')
        self.mark().int(3).string(endian.encode()).none()
        if names is None:
            self.none().none()
        else:
            self.mark()
            for n in names:
                self.string(n.encode())
            self.tuple()
            self.mark().op(b'd')
            for n, (sub, off) in fields.items():
                self.string(n.encode())
                self.mark()
                sub(self)
                self.int(off).tuple()
                self.op(b's')
        self.int(elsize).int(alignment).int(flags).tuple().op(b'b')
        return self

    def array(self, shape, dtype_fn, fortran: bool, raw: bytes) -> bytes:
        self.glob('numpy.core.multiarray', '_reconstruct').mark().glob('numpy', 'ndarray')
        self.mark().int(0).tuple().string(b'b').tuple().op(b'R')
        self.mark().int(1).mark()
        for d in shape:
            self.int(d)
        self.tuple()
        dtype_fn(self)
        self.boolean(fortran).string(raw).tuple().op(b'b').op(b'.')
        return bytes(self.out)

    def scalar(self, dtype_fn, raw: bytes) -> bytes:
        self.glob('numpy.core.multiarray', 'scalar').mark()
        dtype_fn(self)
        self.string(raw).tuple().op(b'R').op(b'.')
        return bytes(self.out)


def _py2_streams(writer) -> None:
    f8 = np.array([0.5, -1.0, 1e300], '<f8')
    i4f = np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3))
    ascii_only = np.array([1, 2, 3], '<i2')  # every byte < 0x80: loads with the default ascii encoding
    st = np.array([(1, b'ab'), (2, b'c')], dtype=[('n', '<i2'), ('s', 'S2')])
    for p in (0, 2):
        def note(what):
            return f'Python 2 numpy stream (protocol {p}), {what}; STRING payloads decode per encoding'
        raw_f8 = f8.tobytes()
        s = Py2(p).array((3,), lambda e: e.dtype('f8', '<'), False, raw_f8)
        writer.raw(FAMILY, f'py2_f8_p{p}', s, note=note('float64 array'))
        s = Py2(p).array((2, 3), lambda e: e.dtype('i4', '<'), True, i4f.tobytes(order='F'))
        writer.raw(FAMILY, f'py2_i4_fortran_p{p}', s, note=note('Fortran-ordered int32 array'))
        s = Py2(p).array((3,), lambda e: e.dtype('i2', '<'), False, ascii_only.tobytes())
        writer.raw(FAMILY, f'py2_i2_ascii_p{p}', s, note=note('int16 array whose bytes are all ASCII'))

        def st_dtype(e):
            e.dtype('V4', '|', names=['n', 's'],
                    fields={'n': (lambda e2: e2.dtype('i2', '<'), 0),
                            's': (lambda e2: e2.dtype('S2', '|', elsize=2, alignment=1), 2)},
                    elsize=4, alignment=1, flags=16)
        s = Py2(p).array((2,), st_dtype, False, st.tobytes())
        writer.raw(FAMILY, f'py2_struct_p{p}', s, note=note('structured array with str field names'))
        s = Py2(p).scalar(lambda e: e.dtype('f8', '<'), np.float64(1.5).tobytes())
        writer.raw(FAMILY, f'py2_scalar_f8_p{p}', s, note=note('numpy.float64 scalar'))


# ---------------------------------------------------------------------------------------------------
# Protocol 5 out-of-band buffers
# ---------------------------------------------------------------------------------------------------

def _oob(writer) -> None:
    cases = {
        'oob_f8_2d': np.arange(6, dtype='<f8').reshape(2, 3),
        'oob_i2_fortran': np.asfortranarray(np.arange(6, dtype='<i2').reshape(2, 3)),
        'oob_be_f4': np.array([1.5, -2.0], '>f4'),
        'oob_list_two': [np.arange(3, dtype='u1'), np.array([[True], [False]])],
        'oob_struct': np.array([(1, 2.0)], dtype=[('a', '<i4'), ('b', '<f8')]),
    }
    ro = np.arange(4, dtype='<u4')
    ro.flags.writeable = False
    cases['oob_readonly'] = ro
    for name, v in cases.items():
        bufs: list = []
        data = pickle.dumps(v, protocol=5, buffer_callback=lambda b: bufs.append(b) or False)
        writer.raw(FAMILY, name, data, expect=v, note='protocol 5 with out-of-band buffers (NEXT_BUFFER)',
                   buffers=[(bytes(b.raw()), b.raw().readonly) for b in bufs])


# ---------------------------------------------------------------------------------------------------
# .npy files
# ---------------------------------------------------------------------------------------------------

def _npy(writer) -> None:
    cases: list[tuple[str, Any, tuple[int, int] | None]] = [
        ('npy_v1_f8_2d', np.arange(6, dtype='<f8').reshape(2, 3), None),
        ('npy_v1_i4_fortran', np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3)), None),
        ('npy_v1_be_u2', np.array([1, 2, 65535], '>u2'), None),
        ('npy_v1_struct', np.array([(1, 2.5, b'ab')], dtype=[('x', '<i4'), ('y', '>f8'), ('s', 'S3')]), None),
        ('npy_v1_struct_aligned', np.zeros(2, np.dtype([('a', 'u1'), ('b', '<i8')], align=True)), None),
        ('npy_v1_struct_nested_sub', np.zeros(1, [('p', [('x', '<f4')]), ('m', '<i2', (2, 3))]), None),
        ('npy_v1_titles', np.zeros(1, np.dtype({'names': ['a'], 'formats': ['<i4'], 'titles': ['T']})), None),
        ('npy_v1_U', np.array(['ab', 'c\u00e9']), None),
        ('npy_v1_M8', np.array(['2020-01-01', 'NaT'], 'M8[D]'), None),
        ('npy_v1_zero_d', np.array(3.25), None),
        ('npy_v1_empty', np.zeros((0, 4), 'i8'), None),
        ('npy_v1_object', _obj_array([1, 'x', None, [2]]), None),
        ('npy_v2_f4', np.arange(5, dtype='<f4'), (2, 0)),
        ('npy_v2_object', _obj_array(['a', {'b': 1}]), (2, 0)),
        ('npy_v3_unicode_field', np.zeros(2, [('caf\u00e9', '<i2')]), (3, 0)),
    ]
    for name, arr, version in cases:
        f = io.BytesIO()
        np.lib.format.write_array(f, arr, version=version, allow_pickle=True)
        data = f.getvalue()
        back = np.load(io.BytesIO(data), allow_pickle=True)
        # What np.load gives (an aligned struct comes back packed with explicit padding: .npy headers
        # keep offsets, not the align flag).
        desc = gen_fixtures.describe(back)
        path = writer.file(FAMILY, f'{name}.npy', data)
        writer.fixture(FAMILY, name, {'desc': desc, 'protocols': [], 'npy_version': list(data[6:8]),
                                      'note': 'numpy.save format (np.lib.format.write_array)'},
                       [{'path': path, 'kind': 'npy'}])


def _per_protocol(writer, name: str, v: Any) -> None:
    """Non-native arrays: numpy's ndarray __setstate__ (protocols 0-4) byte-swaps them to native order
    and gives them a native dtype, while protocol 5's _frombuffer keeps the stored order. The value loaded
    differs from the value dumped, so each protocol is its own fixture described from what numpy loads."""
    for p in range(6):
        data = pickle.dumps(v, protocol=p)
        writer.raw(FAMILY, f'{name}_p{p}', data, protocol=p,
                   note='non-native byte order: numpy loads protocols 0-4 as native (swapped), 5 as stored')


# ---------------------------------------------------------------------------------------------------

def generate(writer) -> None:
    def value(name: str, v: Any, protocols=range(6)) -> None:
        writer.value(FAMILY, name, v, protocols=protocols)

    for name, v in arrays().items():
        if name.startswith('be_'):
            _per_protocol(writer, f'arr_{name}', v)
        else:
            value(f'arr_{name}', v)
    for name, v in subclasses().items():
        value(f'sub_{name}', v)
    for name, v in scalars().items():
        value(f'scalar_{name}', v)
    for name, v in dtypes().items():
        value(f'dtype_{name}', v)
    for name, v in containers().items():
        value(name, v)
    _oob(writer)
    _custom_streams(writer)
    _py2_streams(writer)
    _npy(writer)
