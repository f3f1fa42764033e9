"""Fixtures of the stdlib family: datetime, zoneinfo, decimal, fractions, uuid, collections.

Values are pickled by CPython at every protocol (`writer.value`); streams in the shapes Python 2 and
older Python 3 releases wrote are added with `writer.raw` (described from what CPython 3 loads).
The describer hook below implements the stdlib rows of test/helpers/DESCRIPTION_FORMAT.md, plus:
  * datetime/time: `"tz"` is present for every non-None tzinfo (not only `timezone`), and `"fold"`
    is what the pickle carries: CPython writes fold only at protocol >= 4, so below it is 0;
  * OrderedDict/defaultdict/Counter/deque: `"state"` (a Desc) when the instance has attributes;
  * `uuid.SafeUUID` members: `{"t":"SafeUUID","v":"<name>"}`;
  * pytz tzinfos: `{"t":"pytz","func":"_p"|"_UTC"|"FixedOffset","args":[Desc...]}` (the pickled call).
"""
from __future__ import annotations

import collections
import datetime as dt
import decimal
import fractions
import pickle
import uuid
from typing import Any

FAMILY = 'stdlib'

try:
    import zoneinfo
    zoneinfo.ZoneInfo('Europe/Paris')
    HAVE_ZONEINFO = True
except Exception:  # noqa: BLE001 - no zoneinfo module or no tz database: skip those fixtures
    HAVE_ZONEINFO = False

try:
    import pytz
    PYTZ_FUNCS = {pytz._p: '_p', pytz._UTC: '_UTC', pytz.FixedOffset: 'FixedOffset'}
except ImportError:
    pytz = None
    PYTZ_FUNCS = {}

_EXACT_COLLECTIONS = {
    collections.OrderedDict: 'OrderedDict',
    collections.defaultdict: 'defaultdict',
    collections.Counter: 'Counter',
}


def _timedelta(v: dt.timedelta) -> dict:
    return {'t': 'timedelta', 'days': v.days, 'seconds': v.seconds, 'microseconds': v.microseconds}


def describe_stdlib(v: Any, child) -> Any:
    """Desc of a stdlib value, or None when `v` is not one (exact types only: subclasses are objects)."""
    t = type(v)
    if t is dt.datetime or t is dt.time:
        # fold travels in the pickle only at protocol >= 4; a value pickled below loads with fold=0.
        fold = v.fold if child.protocol >= 4 else 0
        shown = v.replace(fold=fold)
        d = {'t': t.__name__, 'v': shown.isoformat(), 'fold': fold}
        if v.tzinfo is not None:
            d['tz'] = child(v.tzinfo)
        return d
    if t is dt.date:
        return {'t': 'date', 'v': v.isoformat()}
    if t is dt.timedelta:
        return _timedelta(v)
    if t is dt.timezone:
        args = v.__getinitargs__()
        return {'t': 'timezone', 'offset': _timedelta(args[0]), 'name': args[1] if len(args) > 1 else None}
    if HAVE_ZONEINFO and t is zoneinfo.ZoneInfo:
        return {'t': 'zoneinfo', 'key': v.key}
    if t is decimal.Decimal:
        return {'t': 'decimal', 'v': str(v)}
    if t is fractions.Fraction:
        return {'t': 'fraction', 'v': f'{v.numerator}/{v.denominator}'}
    if t is uuid.UUID:
        return {'t': 'uuid', 'v': str(v)}
    if t is uuid.SafeUUID:
        return {'t': 'SafeUUID', 'v': v.name}
    if pytz is not None and isinstance(v, dt.tzinfo) and type(v).__module__.startswith('pytz'):
        func, args = v.__reduce__()[:2]
        if func in PYTZ_FUNCS:
            return {'t': 'pytz', 'func': PYTZ_FUNCS[func], 'args': [child(a) for a in args]}
    if t in _EXACT_COLLECTIONS:
        n, ref = child.track(v)
        if ref is not None:
            return ref
        d: dict[str, Any] = {'t': _EXACT_COLLECTIONS[t], 'id': n}
        if t is collections.defaultdict:
            d['factory'] = None if v.default_factory is None else child(v.default_factory)
        d['v'] = [[child(k), child(x)] for k, x in v.items()]
        _attrs(v, d, child)
        return d
    if t is collections.deque:
        n, ref = child.track(v)
        if ref is not None:
            return ref
        d = {'t': 'deque', 'id': n, 'maxlen': v.maxlen, 'v': [child(x) for x in v]}
        _attrs(v, d, child)
        return d
    return None


def _attrs(v: Any, d: dict, child) -> None:
    # Only instance attributes that the pickle carries (OrderedDict keeps them; Counter's reducer drops them).
    rv = v.__reduce_ex__(child.protocol)
    state = rv[2] if len(rv) > 2 else None
    if state:
        d['state'] = child(state)


def writer_probe(writer):
    """A throwaway describer, only to ask the hook whether a value belongs to this family."""
    import gen_fixtures
    return gen_fixtures.Describer(4)


def reduce_desc(writer, v: Any, protocol: int) -> dict:
    """`v.__reduce_ex__(protocol)` as JSON: the callable (`module.qualname`, plus `attr` when it is a
    classmethod reached through getattr), REDUCE or NEWOBJ, and each part described on its own."""
    import gen_fixtures
    rv = tuple(v.__reduce_ex__(protocol)) + (None,) * 5
    func, args, state, listitems, dictitems = rv[:5]
    attr = None
    if getattr(func, '__name__', '') == '__newobj__':
        kind, target, args = 'newobj', args[0], tuple(args[1:])
    else:
        kind, target = 'reduce', func
        owner = getattr(func, '__self__', None)
        if isinstance(owner, type):  # a classmethod such as ZoneInfo._unpickle: getattr(cls, name)
            target, attr = owner, func.__name__
    d = lambda x: writer.describe(x, protocol)  # noqa: E731 - one fresh id space per part
    return {
        'callable': gen_fixtures.global_name(target), 'attr': attr, 'kind': kind,
        'args': d(tuple(args)),
        'state': None if state is None else d(state),
        'listitems': None if listitems is None else d(list(listitems)),
        'dictitems': None if dictitems is None else d([tuple(kv) for kv in dictitems]),
    }


def register(writer) -> None:
    writer.register_describer(describe_stdlib)


def generate(writer) -> None:
    def value(name: str, v: Any, **kw: Any) -> None:
        if describe_stdlib(v, writer_probe(writer)) is not None:
            # How CPython reduces the value itself: the encoder's table (stdlibReduce) must agree.
            kw['reduce'] = {str(p): reduce_desc(writer, v, p) for p in (2, 4)}
        writer.value(FAMILY, name, v, **kw)

    utc = dt.timezone.utc
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30), 'IST')
    pst = dt.timezone(dt.timedelta(hours=-8), 'PST')
    odd = dt.timezone(dt.timedelta(hours=-5, seconds=-3, microseconds=-1))

    # -- datetime ----------------------------------------------------------------------------------
    value('datetime_naive', dt.datetime(2020, 1, 2, 3, 4, 5))
    value('datetime_micro', dt.datetime(2020, 1, 2, 3, 4, 5, 678901))
    value('datetime_utc', dt.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=utc))
    value('datetime_ist', dt.datetime(2021, 6, 30, 23, 59, 59, 999999, tzinfo=ist))
    value('datetime_pst', dt.datetime(1999, 12, 31, 16, 0, tzinfo=pst))
    value('datetime_unnamed_offset', dt.datetime(2020, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=-8))))
    value('datetime_offset_seconds', dt.datetime(2020, 1, 2, tzinfo=odd))
    value('datetime_fold', dt.datetime(2021, 10, 31, 2, 30, fold=1),
          note='CPython writes fold only at protocol >= 4; below, the value loads with fold=0')
    value('datetime_min', dt.datetime.min)
    value('datetime_max', dt.datetime.max)
    value('datetime_max_tz', dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=23, minutes=59))))
    value('datetime_year_50', dt.datetime(50, 3, 1, tzinfo=utc))
    value('datetime_high_bytes', dt.datetime(2047, 12, 31, 23, 59, 59, 999999, fold=1),
          note='packed bytes 0xff and 0x8c (fold): latin-1 text at protocols 0-2; fold only at protocol >= 4')
    if HAVE_ZONEINFO:
        paris = zoneinfo.ZoneInfo('Europe/Paris')
        value('datetime_zoneinfo_summer', dt.datetime(2024, 7, 14, 12, 0, tzinfo=paris))
        value('datetime_zoneinfo_fold0', dt.datetime(2021, 10, 31, 2, 30, tzinfo=paris))
        value('datetime_zoneinfo_fold1', dt.datetime(2021, 10, 31, 2, 30, fold=1, tzinfo=paris),
              note='fold only at protocol >= 4: below, the repeated hour resolves to the first offset')
        value('datetime_zoneinfo_gap', dt.datetime(2021, 3, 28, 2, 30, tzinfo=paris))
        value('datetime_zoneinfo_lmt', dt.datetime(1850, 6, 1, 12, 0, tzinfo=paris))
        value('datetime_zoneinfo_new_york', dt.datetime(2024, 1, 1, tzinfo=zoneinfo.ZoneInfo('America/New_York')))

    if pytz is not None:
        paris_pytz = pytz.timezone('Europe/Paris')
        value('datetime_pytz_summer', paris_pytz.localize(dt.datetime(2020, 7, 1, 12, 0, 0, 5)))
        value('datetime_pytz_winter', paris_pytz.localize(dt.datetime(2020, 1, 1, 12)))
        value('datetime_pytz_utc', dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=pytz.utc))
        value('datetime_pytz_fixed', dt.datetime(2020, 1, 2, tzinfo=pytz.FixedOffset(-330)))
        value('datetime_pytz_static', dt.datetime(2020, 7, 1, tzinfo=pytz.timezone('EST')))
        value('datetime_pytz_unlocalized', dt.datetime(2020, 7, 1, tzinfo=paris_pytz),
              note='tzinfo=pytz zone without localize(): the LMT variant, as pytz users get by mistake')
        value('time_pytz_dst_variant', dt.time(1, 0, tzinfo=paris_pytz),
              note='a pytz DST-zone variant gives no offset without a date')
        value('time_pytz_fixed', dt.time(1, 0, tzinfo=pytz.FixedOffset(90)))
        value('pytz_zones', [pytz.utc, pytz.FixedOffset(90), pytz.timezone('EST'), paris_pytz])

    # -- date, time ----------------------------------------------------------------------------------
    value('date', dt.date(2020, 1, 31))
    value('date_min', dt.date.min)
    value('date_max', dt.date.max)
    value('time_naive', dt.time(1, 2, 3, 4))
    value('time_midnight', dt.time())
    value('time_max', dt.time.max)
    value('time_tz', dt.time(1, 2, 3, 4, tzinfo=ist))
    value('time_fold', dt.time(1, 30, fold=1), note='fold only at protocol >= 4')
    if HAVE_ZONEINFO:
        value('time_zoneinfo', dt.time(8, 0, tzinfo=zoneinfo.ZoneInfo('Europe/Paris')),
              note='ZoneInfo.utcoffset(None) is None: the isoformat has no offset')

    # -- timedelta, timezone, zoneinfo ---------------------------------------------------------------
    value('timedelta_zero', dt.timedelta(0))
    value('timedelta_negative', dt.timedelta(days=-1, seconds=5, microseconds=7))
    value('timedelta_minus_one_us', dt.timedelta(microseconds=-1))
    value('timedelta_max', dt.timedelta.max)
    value('timedelta_min', dt.timedelta.min)
    value('timedelta_large', dt.timedelta(days=123456, seconds=3723, microseconds=1))
    value('timedelta_microseconds', dt.timedelta(microseconds=999999))
    value('timezone_utc', utc)
    value('timezone_named', ist)
    value('timezone_negative', dt.timezone(dt.timedelta(hours=-8)))
    value('timezone_seconds', dt.timezone(dt.timedelta(hours=5, seconds=3, microseconds=4)))
    value('timezone_zero_named', dt.timezone(dt.timedelta(0), 'Z'))
    if HAVE_ZONEINFO:
        value('zoneinfo_paris', zoneinfo.ZoneInfo('Europe/Paris'))
        value('zoneinfo_utc', zoneinfo.ZoneInfo('UTC'))

    # -- decimal, fractions --------------------------------------------------------------------------
    decimals = {
        'decimal_1_1': '1.1', 'decimal_trailing_zero': '1.10', 'decimal_neg_zero': '-0',
        'decimal_nan': 'NaN', 'decimal_neg_nan': '-NaN', 'decimal_snan': 'sNaN',
        'decimal_inf': 'Infinity', 'decimal_neg_inf': '-Infinity', 'decimal_exp': '1E+10',
        'decimal_small_exp': '-1.5E-7', 'decimal_tiny': '1E-400',
        'decimal_many_digits': '3.14159265358979323846264338327950288419716939937510582097494459',
        'decimal_zero_scale': '0.000',
    }
    for name, text in decimals.items():
        value(name, decimal.Decimal(text))
    value('fraction', fractions.Fraction(3, 4))
    value('fraction_negative', fractions.Fraction(-7, 3))
    value('fraction_integer', fractions.Fraction(5))
    value('fraction_zero', fractions.Fraction(0))
    value('fraction_huge', fractions.Fraction(2 ** 200 + 1, 3 ** 90))

    # -- uuid ----------------------------------------------------------------------------------------
    value('uuid_fixed', uuid.UUID('12345678-1234-5678-1234-567812345678'))
    value('uuid_v1', uuid.UUID('a8098c1a-f86e-11da-bd1a-00112444be1e'))
    value('uuid_v4', uuid.UUID('16fd2706-8baf-433b-82eb-8c7fada847da'))
    value('uuid_v5', uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org'))
    value('uuid_nil', uuid.UUID(int=0))
    value('uuid_max', uuid.UUID(int=2 ** 128 - 1))
    value('uuid_safe', uuid.UUID('16fd2706-8baf-433b-82eb-8c7fada847da', is_safe=uuid.SafeUUID.safe))
    value('uuid_unsafe', uuid.UUID(int=7, is_safe=uuid.SafeUUID.unsafe))
    value('safeuuid_members', [uuid.SafeUUID.safe, uuid.SafeUUID.unsafe, uuid.SafeUUID.unknown])
    value('safeuuid_unsafe', uuid.SafeUUID.unsafe)

    # -- collections ---------------------------------------------------------------------------------
    od = collections.OrderedDict([('b', 1), ('a', 2), ('c', [1, 2])])
    value('ordereddict', od)
    value('ordereddict_empty', collections.OrderedDict())
    value('ordereddict_nested', collections.OrderedDict(
        [('inner', collections.OrderedDict(x=1, y=collections.OrderedDict(z=None))), ('list', [od, od])]))
    value('ordereddict_keys', collections.OrderedDict([(1, 'int'), ((1, 2), 'tuple'), (None, 'none'), (2.5, 'f')]))
    value('ordereddict_large', collections.OrderedDict((f'k{i}', i) for i in range(1001)),
          note='1001 items: a SETITEMS batch of 1000, then a lone SETITEM')
    with_attr = collections.OrderedDict([('weight', [1.0, 2.0]), ('bias', [0.5])])
    with_attr._metadata = collections.OrderedDict([('', {'version': 1})])
    value('ordereddict_attribute', with_attr, note='an instance attribute travels as BUILD state (torch state_dict)')
    self_ref = collections.OrderedDict(a=1)
    self_ref['me'] = self_ref
    value('ordereddict_cycle', self_ref)

    dd_list = collections.defaultdict(list)
    dd_list['a'].append(1)
    dd_list['b'].extend([2, 3])
    value('defaultdict_list', dd_list)
    dd_int = collections.defaultdict(int)
    for ch in 'hello':
        dd_int[ch] += 1
    value('defaultdict_int', dd_int)
    value('defaultdict_none', collections.defaultdict(None, {1: 2}))
    value('defaultdict_empty', collections.defaultdict(dict))

    value('counter', collections.Counter('abracadabra'))
    value('counter_mixed', collections.Counter({1: 3, 'x': -2, 'zero': 0, (1, 2): 2 ** 70}))
    value('counter_empty', collections.Counter())

    value('deque', collections.deque([1, 'two', 3.0]))
    value('deque_maxlen', collections.deque([1, 2, 3], maxlen=5))
    value('deque_maxlen_full', collections.deque(range(10), maxlen=3))
    value('deque_maxlen_zero', collections.deque(maxlen=0))
    value('deque_empty', collections.deque())
    value('deque_nested', collections.deque([collections.deque([1]), (2, 3), [4]]))
    value('deque_large', collections.deque(range(1001)), note='1001 items: an APPENDS batch of 1000, then APPEND')

    # -- mixtures ------------------------------------------------------------------------------------
    when = dt.datetime(2020, 5, 17, 8, 30, tzinfo=utc)
    record = {
        'id': uuid.UUID('16fd2706-8baf-433b-82eb-8c7fada847da'),
        'created': when,
        'updated': when,  # the same object twice: BINGET
        'price': decimal.Decimal('19.99'),
        'ratio': fractions.Fraction(2, 3),
        'duration': dt.timedelta(hours=1, minutes=30),
        'day': dt.date(2020, 5, 17),
        'tags': collections.Counter(['a', 'b', 'a']),
        'history': collections.deque([dt.date(2020, 5, 16), dt.date(2020, 5, 17)], maxlen=30),
        'by_day': collections.defaultdict(list, {dt.date(2020, 5, 17): [when]}),
        'meta': collections.OrderedDict(zone=dt.timezone(dt.timedelta(hours=2), 'CEST')),
    }
    value('mixed_record', record)
    value('mixed_list', [record, [record['meta'], record['tags']], (when, when.date(), when.timetz())])
    if HAVE_ZONEINFO:
        paris = zoneinfo.ZoneInfo('Europe/Paris')
        value('mixed_zoneinfo', {'paris': paris, 'times': [dt.datetime(2024, m, 1, tzinfo=paris) for m in (1, 7)]})

    _raw_streams(writer)


def _raw_streams(writer) -> None:
    """Pickles in the shapes Python 2 (and Python 3 before 3.11/3.12) wrote for these types."""
    def raw(name: str, data: bytes, expect: Any, note: str) -> None:
        # The writer checks `expect` against the default (ASCII) load; streams whose Python 2 str
        # needs latin1 are checked here instead.
        loaded = pickle.loads(data, encoding='latin1')
        if type(loaded) is not type(expect) or loaded != expect:
            raise RuntimeError(f'{FAMILY}/{name}: loads gives {loaded!r}, expected {expect!r}')
        try:
            pickle.loads(data)
        except UnicodeDecodeError:
            writer.raw(FAMILY, name, data, note=note)
        else:
            writer.raw(FAMILY, name, data, expect=expect, note=note)

    dtm = dt.datetime(2020, 1, 2, 3, 4, 5, 678901)
    raw('py2_datetime_p2',
        b'\x80\x02cdatetime\ndatetime\nq\x00U\n\x07\xe4\x01\x02\x03\x04\x05\n[\xf5q\x01\x85q\x02Rq\x03.',
        dtm, 'Python 2 cPickle protocol 2: the packed state is a Python 2 str (SHORT_BINSTRING)')
    raw('py2_datetime_p0',
        b"cdatetime\ndatetime\np0\n(S'\\x07\\xe4\\x01\\x02\\x03\\x04\\x05\\n[\\xf5'\np1\ntp2\nRp3\n.",
        dtm, 'Python 2 protocol 0: the packed state is an escaped STRING')
    raw('py2_date_p2', b'\x80\x02cdatetime\ndate\nq\x00U\x04\x07\xe4\x01\x1fq\x01\x85q\x02Rq\x03.',
        dt.date(2020, 1, 31), 'Python 2 protocol 2 date')
    raw('py2_time_p2', b'\x80\x02cdatetime\ntime\nq\x00U\x06\x01\x02\x03\x00\x00\x04q\x01\x85q\x02Rq\x03.',
        dt.time(1, 2, 3, 4), 'Python 2 protocol 2 time (ASCII-only state bytes)')
    raw('py2_timedelta_p0', b'cdatetime\ntimedelta\np0\n(I-1\nI5\nI7\ntp1\nRp2\n.',
        dt.timedelta(days=-1, seconds=5, microseconds=7), 'Python 2 protocol 0 timedelta')
    od = collections.OrderedDict([('a', 1), ('b', 2)])
    raw('py2_ordereddict_p0',
        b"ccollections\nOrderedDict\np0\n((lp1\n(lp2\nS'a'\np3\naI1\naa(lp4\nS'b'\np5\naI2\naatp6\nRp7\n.",
        od, "Python 2.7 OrderedDict.__reduce__: (OrderedDict, ([[k, v], ...],))")
    raw('py2_ordereddict_p2',
        b'\x80\x02ccollections\nOrderedDict\nq\x00]q\x01(]q\x02(U\x01aq\x03K\x01e]q\x04(U\x01bq\x05K\x02ee'
        b'\x85q\x06Rq\x07.',
        od, 'Python 2.7 OrderedDict at protocol 2')
    raw('py2_deque_p2', b'\x80\x02ccollections\ndeque\nq\x00]q\x01(K\x01K\x02K\x03e\x85q\x02Rq\x03.',
        collections.deque([1, 2, 3]), 'Python 2 deque.__reduce__: (deque, (list,))')
    raw('py2_deque_maxlen_p2',
        b'\x80\x02ccollections\ndeque\nq\x00]q\x01(K\x01K\x02eK\x05\x86q\x02Rq\x03.',
        collections.deque([1, 2], maxlen=5), 'Python 2 deque with maxlen: (deque, (list, maxlen))')
    raw('py2_defaultdict_p2',
        b'\x80\x02ccollections\ndefaultdict\nq\x00c__builtin__\nlist\nq\x01\x85q\x02Rq\x03U\x01a]q\x04K\x01as.',
        collections.defaultdict(list, {'a': [1]}), 'Python 2 defaultdict(list)')
    raw('py2_counter_p2', b'\x80\x02ccollections\nCounter\nq\x00}q\x01U\x01aK\x02s\x85q\x02Rq\x03.',
        collections.Counter(a=2), 'Python 2 Counter')
    raw('py2_fraction_p0', b"cfractions\nFraction\np0\n(S'-3/4'\np1\ntp2\nRp3\n.",
        fractions.Fraction(-3, 4), 'Python 2 / early Python 3 Fraction.__reduce__: (Fraction, (str(self),))')
    raw('py2_decimal_p0', b"cdecimal\nDecimal\np0\n(S'1.10'\np1\ntp2\nRp3\n.",
        decimal.Decimal('1.10'), 'Python 2 Decimal: the str argument is a Python 2 str')
    uuid_int = 0x12345678123456781234567812345678
    raw('py2_uuid_p2',
        b'\x80\x02cuuid\nUUID\nq\x00)\x81q\x01}q\x02U\x03intq\x03\x8a\x10' + uuid_int.to_bytes(16, 'little') + b'sb.',
        uuid.UUID(int=uuid_int), 'Python 2 UUID at protocol 2: NEWOBJ + BUILD {"int": N} with a Python 2 str key')
    raw('py2_uuid_p0',
        b"ccopy_reg\n_reconstructor\np0\n(cuuid\nUUID\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n"
        b"(dp5\nS'int'\np6\nL" + str(uuid_int).encode() + b"L\nsb.",
        uuid.UUID(int=uuid_int), 'Python 2 UUID at protocol 0: copy_reg._reconstructor + BUILD')
    raw('py310_safeuuid',
        b'\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x04uuid\x94\x8c\x08SafeUUID\x94\x93\x94J\xff\xff\xff\xff'
        b'\x85\x94R\x94.',
        uuid.SafeUUID.unsafe, 'Python 3.4-3.10 pickle enum members by value: SafeUUID(-1)')
    raw('py35_deque_list',
        b"\x80\x04\x95'\x00\x00\x00\x00\x00\x00\x00\x8c\x0bcollections\x94\x8c\x05deque\x94\x93\x94]\x94(K\x01K\x02e"
        b'K\x03\x86\x94R\x94.',
        collections.deque([1, 2], maxlen=3), 'older Python 3 releases reduced deque to (deque, (list, maxlen))')
    raw('deque_overflow_appends',
        b'\x80\x02ccollections\ndeque\n)K\x02\x86R(K\x01K\x02K\x03e.',
        collections.deque([2, 3], maxlen=2), 'APPENDS beyond maxlen: deque.extend drops items from the left')
