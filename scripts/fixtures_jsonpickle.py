"""Python side of the jsonpickle interop tests (test/jsonpickle.test.ts).

Imported as the module `fixtures_jsonpickle` (scripts/ is on sys.path), so the classes below pickle
and jsonpickle-encode as `fixtures_jsonpickle.<Name>`. `main()` serves one batch of jobs: it reads a
JSON request on stdin and writes a JSON answer on stdout (one Python process per test file).

Requests:
  {"op": "values"}            every value in VALUES: its pickle (protocol 4, base64) and
                              jsonpickle.encode(v, keys=True) text; "jp_ok" says whether jsonpickle's
                              own decode gives the value back (`same`).
  {"op": "fixtures", "paths": [...]}   the same for fixture pickles (fixtures/<path>).
  {"op": "check", "items": [{"id", "pickle" (base64) | "fixture" (path), "text"}]}
                              decode each text with jsonpickle.decode(text, keys=True) and compare it
                              with the unpickled value: {"id", "ok", "why"}.
  {"op": "views"}             values and their plain JSON view (src/interop/jsonview.ts) as computed
                              here in Python: {"views": [{"name", "pickle", "view"}]}.
  {"op": "batch", "jobs": [request, ...]}   several of the above in one process.
"""
import base64
import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import json
import math
import os
import pickle
import sys
import uuid
import zoneinfo

import numpy as np
import jsonpickle
import jsonpickle.ext.numpy as jsonpickle_numpy

jsonpickle_numpy.register_handlers()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, 'fixtures')


# ---------------------------------------------------------------------------------------------
# classes

class Plain:
    def __init__(self, a=None, b=None):
        self.a = a
        self.b = b


class Slots:
    __slots__ = ('x', 'y')

    def __init__(self, x=0, y=0):
        self.x = x
        self.y = y


class Reduced:
    def __init__(self, v):
        self.v = v

    def __reduce__(self):
        return (Reduced, (self.v,))


class NewArgs(int):
    def __new__(cls, v, tag='t'):
        o = int.__new__(cls, v)
        o.tag = tag
        return o

    def __getnewargs__(self):
        return (int(self), self.tag)


class KwArgs:
    def __new__(cls, a, *, b):
        o = object.__new__(cls)
        o.a = a
        o.b = b
        return o

    def __getnewargs_ex__(self):
        return ((self.a,), {'b': self.b})


class GetState:
    def __init__(self, v):
        self.v = v

    def __getstate__(self):
        return (self.v,)

    def __setstate__(self, s):
        self.v = s[0]


class MyDict(dict):
    pass


class MyList(list):
    pass


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@dataclasses.dataclass
class DC:
    x: int
    y: list


Point = collections.namedtuple('Point', 'x y')


def func():
    return None


# ---------------------------------------------------------------------------------------------
# values

def _cycle_list():
    a = []
    a.append(a)
    return a


def _cycle_dict():
    d = {}
    d['self'] = d
    return d


def _cycle_object():
    p = Plain()
    p.a = {'back': p}
    p.b = [p]
    return p


def _shared():
    inner = [1, 2]
    d = {'k': 'v'}
    return [inner, inner, d, {'again': d}]


def _deep(n):
    v = 'leaf'
    for i in range(n):
        v = [v] if i % 2 else {'k': v}
    return v


def _mydict():
    d = MyDict(a=1)
    d[2] = 'two'
    d.extra = 'attr'
    return d


def _mylist():
    l = MyList([1, 'x'])
    l.tag = 'attr'
    return l


def _od_attr():
    o = collections.OrderedDict([('a', 1), (2, 'b')])
    o.meta = {'version': 1}
    return o


UTC = datetime.timezone.utc
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30), 'IST')

VALUES = {
    'none': lambda: None,
    'bools': lambda: [True, False],
    'ints': lambda: [0, 1, -1, 255, 65536, -2**31, 2**31, 2**53, 2**53 + 1, -2**63, 2**64],
    'int_huge': lambda: 2**200 + 12345,
    'int_huge_neg': lambda: -(3**150),
    'floats': lambda: [0.0, -0.0, 1.5, 1.0, 1e16, 1e-5, 1e300, 5e-324, 2.0**53, -123.456],
    'float_specials': lambda: [float('nan'), float('inf'), float('-inf')],
    'strs': lambda: ['', 'plain', 'h\u00e9llo \u20ac \U0001F600', 'a\ud800b', '\x00\x1f"\\/\x7f', 'json://x', 'py/object'],
    'bytes': lambda: [b'', b'\x00\xff abc', bytes(range(256))],
    'bytearray': lambda: bytearray(b'\x01\x02hi'),
    'bytearray_shared': lambda: (lambda b: [b, b])(bytearray(b'xy')),
    'complex': lambda: [1 + 2j, complex(float('nan'), -0.0), -1.5j],
    'tuples': lambda: ((), (1,), (1, (2, (3,))), ([],)),
    'lists': lambda: [[], [1, [2, [3]]]],
    'set': lambda: {1, 'a', (1, 2)},
    'frozenset': lambda: frozenset({1, 2, frozenset({3})}),
    'frozenset_empty': lambda: frozenset(),
    'dict_int_keys': lambda: {1: 'a', 2: 'b', -5: 'c', 2**70: 'big'},
    'dict_mixed_keys': lambda: {'s': 1, 2: 'int', None: 'none', 1.5: 'float', (1, 'x'): 'tuple',
                                 frozenset({1}): 'fs', b'k': 'bytes', False: 'bool'},
    'dict_tag_keys': lambda: {'py/object': 1, 'json://x': 2, 'py/tuple': 3, 'py/id': 4, 'plain': 5},
    'dict_proto': lambda: {'__proto__': {'polluted': 1}, 'constructor': 2},
    'dict_order': lambda: {'b': 1, 'a': 2, '10': 3, '2': 4},
    'shared': _shared,
    'cycle_list': _cycle_list,
    'cycle_dict': _cycle_dict,
    'cycle_object': _cycle_object,
    'deep': lambda: _deep(60),
    'obj_plain': lambda: Plain(1, [2, 'three']),
    'obj_shared': lambda: (lambda p: [p, p, {'p': p}])(Plain('s')),
    'obj_slots': lambda: Slots(1, 2),
    'obj_reduce': lambda: Reduced([1, 2]),
    'obj_newargs': lambda: NewArgs(3, 'x'),
    'obj_kwargs': lambda: KwArgs(1, b='two'),
    'obj_getstate': lambda: GetState({'k': 4}),
    'obj_mydict': _mydict,
    'obj_mylist': _mylist,
    'obj_enum': lambda: [Color.RED, Color.RED, Color.GREEN],
    'obj_dataclass': lambda: DC(1, [2]),
    'obj_namedtuple': lambda: Point(1, 'y'),
    'globals': lambda: [func, Plain, int, len, collections.OrderedDict],
    'datetime': lambda: datetime.datetime(2020, 1, 2, 3, 4, 5, 678901),
    'datetime_utc': lambda: [datetime.datetime(2020, 1, 2, tzinfo=UTC), datetime.datetime(2021, 1, 2, tzinfo=UTC)],
    'datetime_ist': lambda: datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=IST),
    'datetime_fold': lambda: datetime.datetime(2020, 11, 1, 1, 30, fold=1),
    'date': lambda: datetime.date(2020, 1, 31),
    'time': lambda: datetime.time(1, 2, 3, 4, tzinfo=IST),
    'timedelta': lambda: [datetime.timedelta(days=-1, seconds=5, microseconds=7), datetime.timedelta(0)],
    'timezone': lambda: [UTC, IST],
    'decimal': lambda: [decimal.Decimal('1.10'), decimal.Decimal('-Infinity'), decimal.Decimal('NaN')],
    'fraction': lambda: fractions.Fraction(-3, 4),
    'uuid': lambda: uuid.UUID('12345678-1234-5678-1234-567812345678'),
    'uuid_safe': lambda: uuid.UUID(int=5, is_safe=uuid.SafeUUID.safe),
    'safeuuid': lambda: uuid.SafeUUID.unsafe,
    'zoneinfo': lambda: zoneinfo.ZoneInfo('Europe/Paris'),
    'ordereddict': lambda: collections.OrderedDict([(2, 'b'), ('a', 1)]),
    'ordereddict_attr': _od_attr,
    'defaultdict': lambda: collections.defaultdict(list, {'a': [1], 3: []}),
    'defaultdict_none': lambda: collections.defaultdict(None, {1: 2}),
    'counter': lambda: collections.Counter('abracadabra'),
    'deque': lambda: collections.deque([1, 'two', 3.0]),
    'deque_maxlen': lambda: collections.deque([1, 2], maxlen=5),
    'range': lambda: [range(10), range(-5, 50, 7), range(2**70, 2**71, 2**65)],
    'slice': lambda: [slice(1, 2, None), slice(None, 'a', (1,))],
    # numpy
    'np_int64': lambda: np.arange(5),
    'np_int64_big': lambda: np.arange(100) * 3 - 7,
    'np_float32': lambda: np.array([1.5, -0.1, float('nan'), float('inf')], dtype=np.float32),
    'np_float16': lambda: np.linspace(-2, 2, 7).astype(np.float16),
    'np_float64_big': lambda: np.linspace(0, 1, 40),
    'np_bool': lambda: np.array([True, False, True]),
    'np_bool_big': lambda: np.arange(30) % 3 == 0,
    'np_complex': lambda: np.array([1 + 2j, -0.5j]),
    'np_complex64_big': lambda: (np.arange(20) * (1 + 1j)).astype(np.complex64),
    'np_str': lambda: np.array(['ab', 'c', '\u20ac']),
    'np_str_big': lambda: np.array(['x' * (i % 5) for i in range(20)]),
    'np_bytes': lambda: np.array([b'ab', b'c']),
    'np_bytes_big': lambda: np.array([b'y' * (i % 4) for i in range(20)]),
    'np_int8': lambda: np.array([-128, 0, 127], dtype=np.int8),
    'np_uint64': lambda: np.array([0, 2**64 - 1], dtype=np.uint64),
    'np_bigendian': lambda: np.array([1, -2, 3], dtype='>i4'),
    'np_bigendian_big': lambda: np.arange(40, dtype='>f8'),
    'np_2d': lambda: np.arange(6).reshape(2, 3),
    'np_2d_big': lambda: np.arange(60.0).reshape(6, 10),
    'np_fortran': lambda: np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    'np_fortran_big': lambda: np.asfortranarray(np.arange(40.0).reshape(5, 8)),
    'np_3d': lambda: np.arange(24, dtype=np.int16).reshape(2, 3, 4).copy(),
    'np_transposed': lambda: np.arange(12.0).reshape(3, 4).T,
    'np_slice_view': lambda: np.arange(30)[5:25:2],
    'np_0d': lambda: np.array(3.25),
    'np_empty': lambda: np.zeros((0, 3)),
    'np_datetime': lambda: np.array(['2020-01-01T00:00:01', '1969-12-31T23:59:59', 'NaT'], dtype='M8[s]'),
    'np_datetime_days': lambda: np.array(['2020-01-01', '1900-03-01'], dtype='M8[D]'),
    'np_datetime_big': lambda: np.arange(20).astype('M8[ms]'),
    'np_timedelta': lambda: np.array([1, -2, 3], dtype='m8[ms]'),
    'np_structured': lambda: np.array([(1, 2.5, b'x'), (-3, 0.0, b'yz')],
                                      dtype=[('a', '<i4'), ('b', '<f8'), ('c', 'S2')]),
    'np_structured_big': lambda: np.array([(i, i / 2) for i in range(20)], dtype=[('i', '<i8'), ('f', '>f4')]),
    'np_object': lambda: np.array([1, 'two', None, {'k': 3}], dtype=object),
    'np_shared': lambda: (lambda a: [a, a])(np.arange(3)),
    'np_scalars': lambda: [np.float64(1.5), np.float32(0.1), np.int8(-3), np.uint64(2**64 - 1), np.bool_(True),
                           np.complex64(1 + 2j), np.str_('hi'), np.bytes_(b'x'), np.int64(7), np.float16(0.1)],
    'np_scalar_datetime': lambda: np.datetime64('2020-01-01T12:00', 'm'),
    'np_scalar_longdouble': lambda: np.longdouble(1.5),
    'np_dtypes': lambda: [np.dtype('f8'), np.dtype('>i4'), np.dtype('U3'), np.dtype('M8[ns]'),
                          np.dtype([('a', '<i4'), ('b', '>f8')]), np.dtype('O'), np.dtype('?')],
}


# ---------------------------------------------------------------------------------------------
# comparison

SHARED_TYPES = (list, dict, bytearray)


def same(a, b):
    """Deep equality that also checks types, float bits (nan, -0.0), and that lists, dicts,
    bytearrays and class instances shared (or cyclic) in `a` are shared the same way in `b`.
    Returns None when equal, else a short explanation."""
    pairs = {}  # id(a_obj) -> b_obj
    stack = [(a, b, 'root')]
    while stack:
        x, y, path = stack.pop()
        if type(x) is not type(y):
            return f'{path}: type {type(x).__name__} != {type(y).__name__}'
        if x is None or isinstance(x, (bool, int, str, bytes)) and not hasattr(x, '__dict__'):
            if x != y:
                return f'{path}: {x!r} != {y!r}'
            continue
        tracked = isinstance(x, SHARED_TYPES) or (hasattr(x, '__dict__') and not isinstance(x, type)) \
            or isinstance(x, np.ndarray)
        if tracked:
            seen = pairs.get(id(x))
            if seen is not None:
                if seen is not y:
                    return f'{path}: sharing differs'
                continue
            pairs[id(x)] = y
        if isinstance(x, float):
            if not (x == y and math.copysign(1, x) == math.copysign(1, y) or (x != x and y != y)):
                return f'{path}: {x!r} != {y!r}'
        elif isinstance(x, complex):
            stack.append((x.real, y.real, path + '.real'))
            stack.append((x.imag, y.imag, path + '.imag'))
        elif isinstance(x, (list, tuple)) and not hasattr(x, '_fields'):
            if len(x) != len(y):
                return f'{path}: length {len(x)} != {len(y)}'
            for i, (p, q) in enumerate(zip(x, y)):
                stack.append((p, q, f'{path}[{i}]'))
            if hasattr(x, '__dict__'):
                stack.append((vars(x), vars(y), path + '.__dict__'))
        elif isinstance(x, dict):
            if len(x) != len(y):
                return f'{path}: {len(x)} keys != {len(y)}'
            if isinstance(x, collections.OrderedDict) and list(x.keys()) != list(y.keys()):
                return f'{path}: key order differs'
            for k, v in x.items():
                if k not in y:
                    return f'{path}: key {k!r} missing'
                stack.append((v, y[k], f'{path}[{k!r}]'))
            if isinstance(x, collections.defaultdict) and x.default_factory is not y.default_factory:
                return f'{path}: default_factory differs'
            if hasattr(x, '__dict__'):
                stack.append((vars(x), vars(y), path + '.__dict__'))
        elif isinstance(x, (set, frozenset)):
            if x != y:
                return f'{path}: {x!r} != {y!r}'
        elif isinstance(x, np.ma.MaskedArray):
            # Elements of a masked object array iterate as the `masked` constant: compare the parts.
            if type(x) is not type(y):
                return f'{path}: {type(x).__name__} != {type(y).__name__}'
            if not np.array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y)):
                return f'{path}: masks differ'
            xd, yd = np.ma.getdata(x), np.ma.getdata(y)
            if xd.dtype != yd.dtype or xd.shape != yd.shape:
                return f'{path}: masked array {xd.dtype}{xd.shape} != {yd.dtype}{yd.shape}'
            if xd.dtype.hasobject:
                # (.data is a fresh view on every access: compare its elements, not its identity)
                for i, (p, q) in enumerate(zip(xd.ravel().tolist(), yd.ravel().tolist())):
                    stack.append((p, q, f'{path}.data.flat[{i}]'))
            elif xd.tobytes() != yd.tobytes():
                return f'{path}: masked array data differs'
            if repr(x.fill_value) != repr(y.fill_value):
                return f'{path}: fill_value {x.fill_value!r} != {y.fill_value!r}'

        elif isinstance(x, np.ndarray):
            if x.dtype != y.dtype or x.shape != y.shape:
                return f'{path}: array {x.dtype}{x.shape} != {y.dtype}{y.shape}'
            if x.ndim >= 2 and x.flags.c_contiguous != y.flags.c_contiguous:
                return f'{path}: memory order differs'
            if x.dtype.hasobject:
                for i, (p, q) in enumerate(zip(x.ravel(), y.ravel())):
                    stack.append((p, q, f'{path}.flat[{i}]'))
            elif x.dtype.names is not None:
                # Field by field: padding bytes between fields carry no value.
                for name in x.dtype.names:
                    if x[name].tobytes() != y[name].tobytes():
                        return f'{path}: field {name!r} differs'
            elif x.tobytes() != y.tobytes():
                return f'{path}: array data differs: {x!r} != {y!r}'
        elif isinstance(x, np.generic):
            if x.dtype != y.dtype or x.tobytes() != y.tobytes():
                return f'{path}: {x!r} != {y!r}'
        elif isinstance(x, datetime.datetime) or isinstance(x, datetime.time):
            if x != y or x.fold != y.fold or repr(x.tzinfo) != repr(y.tzinfo):
                return f'{path}: {x!r} != {y!r}'
        elif isinstance(x, uuid.UUID):
            if x != y or x.is_safe != y.is_safe:
                return f'{path}: {x!r} != {y!r}'
        elif isinstance(x, decimal.Decimal):
            if str(x) != str(y):
                return f'{path}: {x!r} != {y!r}'
        elif isinstance(x, collections.deque):
            if x.maxlen != y.maxlen or len(x) != len(y):
                return f'{path}: {x!r} != {y!r}'
            for i, (p, q) in enumerate(zip(x, y)):
                stack.append((p, q, f'{path}[{i}]'))
        elif hasattr(x, '__dict__') and not isinstance(x, (type, enum.Enum)) and not callable(x):
            stack.append((vars(x), vars(y), path + '.__dict__'))
        elif hasattr(type(x), '__slots__') and not isinstance(x, (type, enum.Enum)):
            for s in type(x).__slots__:
                if hasattr(x, s) != hasattr(y, s):
                    return f'{path}: slot {s} presence differs'
                if hasattr(x, s):
                    stack.append((getattr(x, s), getattr(y, s), f'{path}.{s}'))
        elif type(x).__eq__ is object.__eq__ and not isinstance(x, (type, enum.Enum)) and not callable(x):
            # No value equality (extension types such as sklearn's Tree): compare pickle recipes.
            rx, ry = x.__reduce_ex__(4), y.__reduce_ex__(4)
            rx = [list(r) if hasattr(r, '__next__') else r for r in rx[1:]]
            ry = [list(r) if hasattr(r, '__next__') else r for r in ry[1:]]
            stack.append((rx, ry, path + '.__reduce__'))
        else:
            try:
                eq = x == y
            except Exception as e:  # noqa: BLE001
                return f'{path}: cannot compare ({e})'
            if not eq:
                return f'{path}: {x!r} != {y!r}'
    return None


# ---------------------------------------------------------------------------------------------
# jobs

def _encode(value):
    out = {}
    try:
        text = jsonpickle.encode(value, keys=True)
    except Exception as e:  # noqa: BLE001
        out['text'] = None
        out['error'] = f'{type(e).__name__}: {e}'
        return out
    out['text'] = text
    try:
        back = jsonpickle.decode(text, keys=True)
        why = same(value, back)
    except Exception as e:  # noqa: BLE001
        why = f'decode failed: {type(e).__name__}: {e}'
    out['jp_ok'] = why is None
    if why is not None:
        out['jp_why'] = why
    return out


def _load_fixture(path):
    with open(os.path.join(FIXTURES, path), 'rb') as f:
        return pickle.loads(f.read())


def job_values(_req):
    out = []
    for name, make in VALUES.items():
        value = make()
        entry = {'name': name, 'pickle': base64.b64encode(pickle.dumps(value, 4)).decode('ascii')}
        entry.update(_encode(value))
        out.append(entry)
    return {'values': out}


def job_fixtures(req):
    out = []
    for path in req['paths']:
        entry = {'path': path}
        try:
            value = _load_fixture(path)
        except Exception as e:  # noqa: BLE001
            entry['load_error'] = f'{type(e).__name__}: {e}'
            out.append(entry)
            continue
        entry.update(_encode(value))
        out.append(entry)
    return {'fixtures': out}


def job_check(req):
    out = []
    for item in req['items']:
        try:
            if 'fixture' in item:
                original = _load_fixture(item['fixture'])
            else:
                original = pickle.loads(base64.b64decode(item['pickle']))
        except Exception as e:  # noqa: BLE001
            out.append({'id': item['id'], 'ok': False, 'why': f'pickle.loads failed: {type(e).__name__}: {e}'})
            continue
        try:
            back = jsonpickle.decode(item['text'], keys=True)
            why = same(original, back)
        except Exception as e:  # noqa: BLE001
            why = f'jsonpickle.decode failed: {type(e).__name__}: {e}'
        out.append({'id': item['id'], 'ok': why is None, 'why': why})
    return {'results': out}


# ---------------------------------------------------------------------------------------------
# the plain JSON view (src/interop/jsonview.ts), computed independently from the Python value

def _ptr(keys):
    return '#' + ''.join('/' + str(k).replace('~', '~0').replace('/', '~1') for k in keys)


def _num(x):
    if x != x:
        return 'NaN'
    if x in (float('inf'), float('-inf')):
        return 'Infinity' if x > 0 else '-Infinity'
    return x


def _int(x):
    return x if -(2**53 - 1) <= x <= 2**53 - 1 else str(x)


def _key(k):
    return '$' + k if k.startswith('$') else k


def view(value, max_items=1000):
    """The documented view of `value` (the subset of types the tests use)."""
    first = {}  # id -> path
    keep = []  # keep objects alive so ids stay unique

    def walk(v, path):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and not isinstance(v, enum.Enum):
            return _int(v)
        if isinstance(v, float):
            return _num(v)
        if isinstance(v, (bytes, bytearray)):
            return {'$bytes': base64.b64encode(bytes(v)).decode('ascii')}
        if isinstance(v, complex):
            return {'$complex': [_num(v.real), _num(v.imag)]}
        if isinstance(v, datetime.datetime):
            return {'$datetime': v.isoformat()}
        if isinstance(v, datetime.date):
            return {'$date': v.isoformat()}
        if isinstance(v, datetime.time):
            return {'$time': v.isoformat()}
        if isinstance(v, datetime.timedelta):
            return {'$timedelta': v.total_seconds()}
        if isinstance(v, decimal.Decimal):
            return {'$decimal': str(v)}
        if isinstance(v, fractions.Fraction):
            return {'$fraction': str(v)}
        if isinstance(v, uuid.UUID):
            return {'$uuid': str(v)}
        if isinstance(v, np.dtype):
            return {'$dtype': json.dumps(v.descr, separators=(',', ':')) if v.names or v.subdtype else v.str}
        if isinstance(v, np.generic):
            return walk(v.item(), path)
        if isinstance(v, type) or callable(v):
            return {'$global': f'{v.__module__}.{v.__qualname__}'}
        if id(v) in first:
            return {'$ref': _ptr(first[id(v)])}
        first[id(v)] = path
        keep.append(v)
        if isinstance(v, np.ndarray):
            body = {'dtype': json.dumps(v.dtype.descr, separators=(',', ':')) if v.dtype.names else v.dtype.str,
                    'shape': list(v.shape)}
            if v.dtype.kind in 'Mm':
                data = v.view('i8')
            else:
                data = v
            if v.dtype.names:
                flat = [dict(zip(v.dtype.names, r)) for r in data.ravel().tolist()]
            else:
                flat = data.ravel().tolist()
            if v.size > max_items:
                body['truncated'] = True
                body['head'] = walk(flat[:max_items], path + ['$ndarray', 'head'])
            else:
                nested = np.array(flat, dtype=object).reshape(v.shape).tolist() if v.ndim else flat[0]
                if v.dtype.names and v.ndim:
                    nested = np.empty(v.shape, dtype=object)
                    for i, rec in enumerate(flat):
                        nested.flat[i] = rec
                    nested = nested.tolist()
                body['data'] = walk(nested, path + ['$ndarray', 'data'])
            return {'$ndarray': body}
        if isinstance(v, (list, tuple, set, frozenset, collections.deque)):
            return [walk(x, path + [i]) for i, x in enumerate(v)]
        if isinstance(v, dict):
            if all(isinstance(k, str) for k in v):
                return {_key(k): walk(x, path + [_key(k)]) for k, x in v.items()}
            return {'$map': [[walk(k, path + ['$map', i, 0]), walk(x, path + ['$map', i, 1])]
                             for i, (k, x) in enumerate(v.items())]}
        if hasattr(v, '__dict__'):
            out = {'$class': f'{type(v).__module__}.{type(v).__qualname__}'}
            for k, x in vars(v).items():
                out[_key(k)] = walk(x, path + [_key(k)])
            return out
        raise TypeError(f'view: {type(v)}')

    return walk(value, [])


def _view_values():
    shared = [1, 2]
    cyc = []
    cyc.append(cyc)
    d = {'k': 1}
    d['self'] = d
    p = Plain('x', None)
    p.b = [p, shared]
    return {
        'scalars': [None, True, 0, -7, 2**53 - 1, 2**53, -2**63, 2**100, 1.5, -0.0, float('nan'),
                    float('inf'), float('-inf'), '', 'h\u00e9 \U0001F600'],
        'bytes': [b'', b'\x00\xffab', bytearray(b'xyz')],
        'containers': [(1, (2,)), {3}, frozenset({4}), collections.deque([5, 6])],
        'dict_str': {'b': 1, 'a': [2], '$ref': 3, '__proto__': {'x': 1}, '$$': 4},
        'dict_mixed': {1: 'one', 'two': 2, (3, 4): None},
        'shared': [shared, shared, {'again': shared}],
        'cycle_list': cyc,
        'cycle_dict': d,
        'object': p,
        'stdlib': [datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(1999, 12, 31),
                   datetime.time(23, 59, 1), datetime.timedelta(days=-1, seconds=30, microseconds=5),
                   decimal.Decimal('1.10'), fractions.Fraction(3, -4),
                   uuid.UUID('12345678-1234-5678-1234-567812345678')],
        'np_int': np.arange(6, dtype=np.int64).reshape(2, 3),
        'np_big_uint': np.array([0, 2**64 - 1], dtype=np.uint64),
        'np_float': np.array([1.5, float('nan'), float('inf'), -0.0]),
        'np_fortran': np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        'np_bool': np.array([[True], [False]]),
        'np_complex': np.array([1 + 2j]),
        'np_str': np.array(['a', '\u20ac\u20ac']),
        'np_bytes': np.array([b'a', b'bc']),
        'np_struct': np.array([(1, 2.5), (3, -1.0)], dtype=[('i', '<i4'), ('f', '<f8')]),
        'np_datetime': np.array(['2020-01-01', 'NaT'], dtype='M8[D]'),
        'np_object': np.array([1, 'a', None], dtype=object),
        'np_0d': np.array(7.5),
        'np_empty': np.zeros((2, 0)),
        'np_large': np.arange(2500, dtype=np.int32),
        'np_scalars': [np.float32(0.5), np.int64(2**60), np.bool_(False), np.str_('s')],
        'np_dtypes': [np.dtype('>i4'), np.dtype([('a', '<i4'), ('b', '>f8')])],
    }


def job_views(_req):
    out = []
    for name, v in _view_values().items():
        out.append({'name': name, 'pickle': base64.b64encode(pickle.dumps(v, 4)).decode('ascii'),
                    'view': view(v)})
    return {'views': out}


JOBS = {'values': job_values, 'fixtures': job_fixtures, 'check': job_check, 'views': job_views}


def main():
    sys.setrecursionlimit(20000)
    req = json.loads(sys.stdin.read())
    if req['op'] == 'batch':
        res = {}
        for job in req['jobs']:
            res.update(JOBS[job['op']](job))
    else:
        res = JOBS[req['op']](req)
    sys.stdout.write(json.dumps(res))


if __name__ == '__main__':
    main()
