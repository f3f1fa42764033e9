"""Fixtures for the security scanner (family `hostile`, written to fixtures/hostile/).

Hostile streams are only ever *dumped* (pickle.dumps / joblib.dump call __reduce__, which returns a
callable and its arguments without calling them) or assembled byte by byte. Nothing here loads them.

Each fixture's json carries `cases`, one per file:
  [{"path", "dangerous": bool,
    "findings": [{"module", "name", "offset", "opcode", "use", "severity", "pickle"}...],   # must be reported
    "decompress": "zlib" (compressed joblib files only)}]
`findings` list the globals the scanner must report with exactly these fields; other globals may be
reported too. Benign controls (`benign_*`) must come out with dangerous == false.

Files: `<name>.p<N>.pkl` (+ pickletools text) for plain pickles, `<name>.joblib` / `<name>.joblib.z`
for joblib streams. Index kind is "hostile" or "benign" so that decoding tests leave them alone.
"""
from __future__ import annotations

import io
import os
import pickle
import pickletools
import struct
import subprocess
import sys
import zlib
from typing import Any

FAMILY = 'hostile'


# -- helpers ------------------------------------------------------------------------------------

class Reduce:
    """An object whose pickle calls `func(*args)` on load (pickling does not call it)."""

    def __init__(self, func: Any, args: tuple) -> None:
        self.func = func
        self.args = args

    def __reduce__(self):
        return (self.func, self.args)


def global_offsets(data: bytes, module: str, name: str, start: int = 0) -> list[tuple[int, str]]:
    """Offsets of the opcodes that import module.name: GLOBAL/INST by their text, STACK_GLOBAL by the
    two strings it pops (tracked through the memo)."""
    f = io.BytesIO(data)
    f.seek(start)
    strings: list[Any] = []  # a shadow stack that only knows strings (None = anything else)
    memo: dict[int, Any] = {}
    found = []
    for op, arg, pos in pickletools.genops(f):
        n = op.name
        if n in ('GLOBAL', 'INST'):
            if arg == f'{module} {name}':
                found.append((pos, n))
            strings.append(None)
        elif n in ('SHORT_BINUNICODE', 'BINUNICODE', 'BINUNICODE8', 'UNICODE', 'STRING', 'BINSTRING',
                   'SHORT_BINSTRING'):
            strings.append(arg)
        elif n in ('PUT', 'BINPUT', 'LONG_BINPUT'):
            memo[arg] = strings[-1] if strings else None
        elif n == 'MEMOIZE':
            memo[len(memo)] = strings[-1] if strings else None
        elif n in ('GET', 'BINGET', 'LONG_BINGET'):
            strings.append(memo.get(arg))
        elif n == 'STACK_GLOBAL':
            nm = strings.pop() if strings else None
            md = strings.pop() if strings else None
            if (md, nm) == (module, name):
                found.append((pos, n))
            strings.append(None)
        elif n in ('FRAME', 'PROTO', 'STOP'):
            pass
        else:
            # Good enough for the streams below: any other opcode makes the top an unknown value.
            strings.append(None)
    return found


def finding(data: bytes, module: str, name: str, use: str, severity: str = 'dangerous', nth: int = 0,
            pickle_index: int = 0, start: int = 0) -> dict:
    hits = global_offsets(data, module, name, start)
    if len(hits) <= nth:
        raise RuntimeError(f'{module}.{name} not found in stream')
    pos, opcode = hits[nth]
    return {'module': module, 'name': name, 'offset': pos, 'opcode': opcode, 'use': use,
            'severity': severity, 'pickle': pickle_index}


def joblib_finding(raw: bytes, module: str, name: str, protocol: int) -> dict:
    """Locate a global in a joblib stream by its byte pattern (genops cannot walk the array payloads)."""
    if protocol < 4:
        pat = b'c' + module.encode() + b'\n' + name.encode() + b'\n'
        at, opcode = raw.find(pat), 'GLOBAL'
    else:
        pat = u8(module) + b'\x94' + u8(name) + b'\x94\x93'
        at, opcode = raw.find(pat) + len(pat) - 1, 'STACK_GLOBAL'
    if raw.count(pat) != 1:
        raise RuntimeError(f'{module}.{name}: expected exactly one occurrence')
    return {'module': module, 'name': name, 'offset': at, 'opcode': opcode, 'use': 'called',
            'severity': 'dangerous', 'pickle': 0}


def u8(s: str) -> bytes:
    """SHORT_BINUNICODE."""
    b = s.encode('utf-8')
    return b'\x8c' + bytes([len(b)]) + b


def xu(s: str) -> bytes:
    """BINUNICODE."""
    b = s.encode('utf-8')
    return b'X' + struct.pack('<I', len(b)) + b


class Builder:
    """Concatenates opcodes and remembers offsets by label."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.marks: dict[str, int] = {}

    def add(self, b: bytes, label: str | None = None) -> 'Builder':
        if label is not None:
            self.marks[label] = len(self.buf)
        self.buf += b
        return self

    def at(self, label: str) -> int:
        return self.marks[label]

    def data(self) -> bytes:
        return bytes(self.buf)


def dtype_f8_p2() -> bytes:
    """numpy dtype('<f8') as protocol-2 opcodes (REDUCE + BUILD state)."""
    return (b'cnumpy\ndtype\n' + xu('f8') + b'\x89\x88\x87R'
            + b'(K\x03' + xu('<') + b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb')


# -- generation ---------------------------------------------------------------------------------

def generate(writer) -> None:
    cases: dict[str, list[dict]] = {}
    notes: dict[str, str] = {}

    def add_case(name: str, entry: dict, findings: list[dict], note: str, dangerous: bool, extra: dict) -> None:
        cases.setdefault(name, []).append({'path': entry['path'], 'dangerous': dangerous, 'findings': findings,
                                           **extra})
        notes[name] = note

    def hostile(name: str, data: bytes, protocol: int, findings: list[dict], note: str,
                dangerous: bool = True, **extra: Any) -> None:
        entry = writer.pickle_file(FAMILY, name, protocol, data, kind='hostile' if dangerous else 'benign')
        add_case(name, entry, findings, note, dangerous, extra)
        files.setdefault(name, []).append(entry)

    def hostile_file(name: str, relname: str, data: bytes, findings: list[dict], note: str,
                     dangerous: bool = True, kind: str = 'hostile', **extra: Any) -> None:
        entry = {'path': writer.file(FAMILY, relname, data), 'kind': kind}
        add_case(name, entry, findings, note, dangerous, extra)
        files.setdefault(name, []).append(entry)

    files: dict[str, list[dict]] = {}
    _hostile(writer, hostile, hostile_file)
    _benign(writer, hostile, hostile_file)
    for name, cs in cases.items():
        writer.fixture(FAMILY, name, {'note': notes[name], 'cases': cs}, files[name])


def _hostile(writer, hostile, hostile_file) -> None:
    # 1. os.system through __reduce__, every protocol (os.system lives in posix on Linux).
    evil = Reduce(os.system, ('echo hi',))
    sysmod = os.system.__module__
    for p in range(6):
        d = pickle.dumps(evil, p)
        hostile('os_system_reduce', d, p, [finding(d, sysmod, 'system', 'called')],
                f'pickle.dumps of an object whose __reduce__ is ({sysmod}.system, ("echo hi",))')

    # 2. Hand-written protocol 0: GLOBAL 'os system' + REDUCE.
    d = b"cos\nsystem\n(S'echo hi'\ntR."
    hostile('os_system_p0_handmade', d, 0,
            [{'module': 'os', 'name': 'system', 'offset': 0, 'opcode': 'GLOBAL', 'use': 'called',
              'severity': 'dangerous', 'pickle': 0}],
            'protocol-0 text stream calling os.system')

    # 3. subprocess.Popen via STACK_GLOBAL whose strings come back from the memo.
    b = Builder().add(b'\x80\x04').add(u8('subprocess') + b'\x94').add(u8('Popen') + b'\x94').add(b'00')
    b.add(b'h\x00h\x01').add(b'\x93', 'sg').add(u8('id') + b'\x85\x85R.')
    d = b.data()
    hostile('popen_stack_global_binget', d, 4,
            [{'module': 'subprocess', 'name': 'Popen', 'offset': b.at('sg'), 'opcode': 'STACK_GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'module and name strings are memoized, popped, then fetched with BINGET before STACK_GLOBAL')
    b = Builder().add(b'\x80\x04').add(xu('subprocess') + b'r\x00\x01\x00\x00').add(xu('Popen') + b'r\x07\x00\x00\x00')
    b.add(b'00j\x00\x01\x00\x00j\x07\x00\x00\x00').add(b'\x93', 'sg').add(xu('id') + b'\x85\x85R.')
    d = b.data()
    hostile('popen_stack_global_long_binget', d, 4,
            [{'module': 'subprocess', 'name': 'Popen', 'offset': b.at('sg'), 'opcode': 'STACK_GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'same with LONG_BINPUT / LONG_BINGET')
    b = Builder().add(b'Vsubprocess\np0\n0VPopen\np1\n0g0\ng1\n').add(b'\x93', 'sg').add(b"(Vid\ntR.")
    d = b.data()
    hostile('popen_stack_global_get', d, 4,
            [{'module': 'subprocess', 'name': 'Popen', 'offset': b.at('sg'), 'opcode': 'STACK_GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'text PUT/GET memo then STACK_GLOBAL, no PROTO header')
    b = Builder().add(b'\x80\x04').add(u8('subprocess')).add(u8('Popen')).add(b'\x93', 'sg').add(b'\x94)')
    b.add(b'\x81.')
    d = b.data()
    hostile('popen_newobj', d, 4,
            [{'module': 'subprocess', 'name': 'Popen', 'offset': b.at('sg'), 'opcode': 'STACK_GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'class instantiated with NEWOBJ')

    # 4. builtins.eval.
    ev = Reduce(eval, ('1+1',))
    for p in (0, 2, 4):
        d = pickle.dumps(ev, p)
        module = '__builtin__' if p < 3 else 'builtins'
        hostile('builtins_eval', d, p, [finding(d, module, 'eval', 'called')], 'eval("1+1") via __reduce__')

    # 5. getattr chains: getattr(__import__('os'), 'system')('id').
    b = Builder().add(b'\x80\x02').add(b'c__builtin__\ngetattr\n', 'getattr').add(b'q\x00')
    b.add(b'c__builtin__\n__import__\n', 'import').add(xu('os') + b'\x85R').add(xu('system') + b'\x86R')
    b.add(xu('id') + b'\x85R.')
    d = b.data()
    hostile('getattr_import_chain', d, 2,
            [{'module': '__builtin__', 'name': 'getattr', 'offset': b.at('getattr'), 'opcode': 'GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0},
             {'module': '__builtin__', 'name': '__import__', 'offset': b.at('import'), 'opcode': 'GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'getattr(__import__("os"), "system")("id")')
    # getattr walking dunders from a harmless class: getattr(getattr(OrderedDict, '__init__'), '__globals__')
    b = Builder().add(b'\x80\x04').add(u8('builtins') + u8('getattr')).add(b'\x93', 'getattr').add(b'\x94')
    b.add(u8('collections') + u8('OrderedDict')).add(b'\x93', 'od').add(u8('__init__') + b'\x86R')
    b.add(b'\x94')  # memo 1 = OrderedDict.__init__
    # POP it, then getattr and OrderedDict.__init__ from the memo.
    b.add(b'0h\x00h\x01').add(u8('__globals__') + b'\x86R.')
    d = b.data()
    hostile('getattr_dunder_chain', d, 4,
            [{'module': 'builtins', 'name': 'getattr', 'offset': b.at('getattr'), 'opcode': 'STACK_GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'getattr(getattr(OrderedDict, "__init__"), "__globals__") — dunder walk from a safe class')

    # 6. STACK_GLOBAL operands that are not strings.
    b = Builder().add(b'\x80\x04K\x01K\x02').add(b'\x93', 'sg').add(b'.')
    d = b.data()
    hostile('stack_global_ints', d, 4,
            [{'module': '<int>', 'name': '<int>', 'offset': b.at('sg'), 'opcode': 'STACK_GLOBAL',
              'use': 'referenced', 'severity': 'dangerous', 'pickle': 0}],
            'STACK_GLOBAL on two ints: unresolvable, flagged')
    b = Builder().add(b'\x80\x04').add(u8('builtins') + u8('str')).add(b'\x93', 'str').add(b'C\x02os\x85R')
    b.add(u8('system')).add(b'\x93', 'sg').add(u8('id') + b'\x85R.')
    d = b.data()
    hostile('stack_global_computed_module', d, 4,
            [{'module': '<result of a call>', 'name': 'system', 'offset': b.at('sg'), 'opcode': 'STACK_GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'module name computed by a call (str(b"os")): the scanner cannot know it, so it is dangerous')

    # 7. INST 'os system'.
    b = Builder().add(b"(S'echo hi'\n").add(b'ios\nsystem\n', 'inst').add(b'.')
    d = b.data()
    hostile('inst_os_system', d, 0,
            [{'module': 'os', 'name': 'system', 'offset': b.at('inst'), 'opcode': 'INST', 'use': 'called',
              'severity': 'dangerous', 'pickle': 0}],
            'Python 2 INST opcode calling os.system')
    b = Builder().add(b'(').add(b'cos\nsystem\n', 'g').add(b"S'id'\no.")
    d = b.data()
    hostile('obj_os_system', d, 1,
            [{'module': 'os', 'name': 'system', 'offset': b.at('g'), 'opcode': 'GLOBAL', 'use': 'called',
              'severity': 'dangerous', 'pickle': 0}],
            'OBJ opcode calling os.system')

    # 8. Nested pickle.loads of a malicious payload.
    inner = pickle.dumps(evil, 2)
    nested = Reduce(pickle.loads, (inner,))
    d = pickle.dumps(nested, 4)
    hostile('nested_pickle_loads', d, 4, [finding(d, pickle.loads.__module__, 'loads', 'called')],
            'pickle.loads(<malicious bytes>) — a nested unpickler')

    # 9. A malicious second pickle after a benign one.
    first = pickle.dumps({'weights': [1.0, 2.0], 'name': 'model'}, 4)
    second = pickle.dumps(evil, 2)
    d = first + second
    f = finding(d, sysmod, 'system', 'called', pickle_index=1, start=len(first))
    hostile('second_pickle', d, 4, [f], 'benign pickle followed by a malicious one in the same file')

    # 10. joblib: a malicious object after an array payload (uncompressed and zlib-compressed).
    import joblib
    import numpy as np
    for p in (2, 4, 5):
        buf = io.BytesIO()
        joblib.dump({'a': np.arange(10, dtype='<f8'), 'evil': evil, 'c': np.arange(6, dtype='<i4').reshape(2, 3)},
                    buf, protocol=p)
        raw = buf.getvalue()
        f = joblib_finding(raw, sysmod, 'system', p)
        hostile_file(f'joblib_after_array_p{p}', f'joblib_after_array_p{p}.joblib', raw, [f],
                     f'joblib.dump (protocol {p}) of a dict with arrays and a malicious object')
        zbuf = io.BytesIO()
        joblib.dump({'a': np.arange(10, dtype='<f8'), 'evil': evil}, zbuf, protocol=p, compress=('zlib', 3))
        z = zbuf.getvalue()
        fz = joblib_finding(zlib.decompress(z), sysmod, 'system', p)
        hostile_file(f'joblib_zlib_p{p}', f'joblib_zlib_p{p}.joblib.z', z, [fz],
                     'zlib-compressed joblib file; offsets are in the decompressed stream', decompress='zlib')
    # Object array: the malicious object sits inside the nested pickle of an object-dtype array.
    buf = io.BytesIO()
    joblib.dump([np.arange(3.0), np.array([1, evil], dtype=object), np.arange(4)], buf, protocol=4)
    raw = buf.getvalue()
    f = joblib_finding(raw, sysmod, 'system', 2)  # the nested object-array pickle is protocol 2
    hostile_file('joblib_object_array', 'joblib_object_array.joblib', raw, [f],
                 'malicious element of an object array (nested protocol-2 pickle inside the joblib stream)')

    # 11. joblib parser differential: the padding-length byte is 'c' (99), so joblib skips 99 bytes
    # that pickle.load would run as opcodes (a GLOBAL + REDUCE), then both readers agree again.
    b = Builder().add(b'\x80\x02}(').add(xu('a'))
    b.add(b'cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81')
    b.add(b'}(' + xu('subclass') + b'cnumpy\nndarray\n' + xu('shape') + b'K\x00\x85' + xu('order') + xu('C')
          + xu('dtype') + dtype_f8_p2() + xu('allow_mmap') + b'\x88' + xu('numpy_array_alignment_bytes')
          + b'K\x10ub')
    pad_at = len(b.buf)
    hidden = Builder().add(b'c').add(b'posix\nsystem\n').add(b"(S'id'\ntR0")
    filler = 99 - (len(hidden.buf) - 1)
    assert filler > 0 and filler % 2 == 0
    b.add(hidden.data(), 'hidden').add(b'N0' * (filler // 2))
    assert len(b.buf) == pad_at + 1 + 99
    b.add(xu('b') + b'K\x01u.')
    d = b.data()
    hostile_file('joblib_padding_differential', 'joblib_padding_differential.joblib', d,
                 [{'module': 'posix', 'name': 'system', 'offset': b.at('hidden'), 'opcode': 'GLOBAL',
                   'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
                 'bytes joblib skips as array padding are a GLOBAL+REDUCE for pickle.load')

    # 11b. A wrapper built by calling NumpyArrayWrapper(subclass, shape, order, dtype) (REDUCE, so
    # __init__ sets the attributes and the alignment defaults to 16) with an empty BUILD state: joblib
    # still reads a payload after the BUILD, then runs the GLOBAL that follows.
    b = Builder().add(b'\x80\x02').add(b'cjoblib.numpy_pickle\nNumpyArrayWrapper\n')
    b.add(b'(cnumpy\nndarray\nK\x02\x85' + xu('C') + dtype_f8_p2() + b'tR}b')
    b.add(b'\x01\xff' + struct.pack('<2d', 1.0, 2.0))  # padding length 1, one pad byte, 16 data bytes
    b.add(b'0').add(b'cposix\nsystem\n', 'g').add(xu('id') + b'\x85R.')
    d = b.data()
    hostile_file('joblib_wrapper_init_args', 'joblib_wrapper_init_args.joblib', d,
                 [{'module': 'posix', 'name': 'system', 'offset': b.at('g'), 'opcode': 'GLOBAL',
                   'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
                 'NumpyArrayWrapper created by REDUCE (attributes from __init__), payload, then os.system')

    # 12. Other shapes: BUILD on a global, Python 2 names, dunder names, numpy/torch loaders, EXT.
    b = Builder().add(b'ccollections\nOrderedDict\n', 'g').add(b'(N}' + xu('__reduce__') + b'K\x01stb.')
    d = b.data()
    hostile('build_on_global', d, 2,
            [{'module': 'collections', 'name': 'OrderedDict', 'offset': b.at('g'), 'opcode': 'GLOBAL',
              'use': 'built', 'severity': 'dangerous', 'pickle': 0}],
            'BUILD with slot state on a class object: setattr on the class itself')
    b = Builder().add(b'ccommands\ngetoutput\n', 'g').add(b"(S'id'\ntR.")
    d = b.data()
    hostile('py2_commands', d, 0,
            [{'module': 'commands', 'name': 'getoutput', 'offset': b.at('g'), 'opcode': 'GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'Python 2 module name (commands -> subprocess)')
    b = Builder().add(b'\x80\x04').add(u8('builtins') + u8('object.__subclasses__')).add(b'\x93', 'sg')
    b.add(b')R.')
    d = b.data()
    hostile('dunder_name', d, 4,
            [{'module': 'builtins', 'name': 'object.__subclasses__', 'offset': b.at('sg'),
              'opcode': 'STACK_GLOBAL', 'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'dotted protocol-4 name reaching a dunder attribute')
    b = Builder().add(b'\x80\x04').add(u8('numpy.testing._private.utils') + u8('runstring')).add(b'\x93', 'sg')
    b.add(u8('import os') + b'}\x86R.')
    d = b.data()
    hostile('numpy_runstring', d, 4,
            [{'module': 'numpy.testing._private.utils', 'name': 'runstring', 'offset': b.at('sg'),
              'opcode': 'STACK_GLOBAL', 'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'numpy.testing helper that executes a code string')
    b = Builder().add(b'\x80\x02').add(b'ctorch.serialization\nload\n', 'g').add(xu('/tmp/x.pt') + b'\x85R.')
    d = b.data()
    hostile('torch_load', d, 2,
            [{'module': 'torch.serialization', 'name': 'load', 'offset': b.at('g'), 'opcode': 'GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'a pickle that loads another (torch) file')
    b = Builder().add(b'\x80\x02').add(b'cnumpy\nmemmap\n', 'g').add(xu('/tmp/victim') + xu('w+') + b'\x86R.')
    d = b.data()
    hostile('numpy_memmap_called', d, 2,
            [{'module': 'numpy', 'name': 'memmap', 'offset': b.at('g'), 'opcode': 'GLOBAL',
              'use': 'called', 'severity': 'dangerous', 'pickle': 0}],
            'numpy.memmap called directly creates/overwrites a file (as a class reference it is benign)')
    d = b'\x80\x02\x82\x01.'
    hostile('ext_code', d, 2,
            [{'module': '<extension>', 'name': '1', 'offset': 2, 'opcode': 'EXT1', 'use': 'referenced',
              'severity': 'unknown', 'pickle': 0}],
            'copyreg extension code: not resolvable statically, graded unknown', dangerous=False)


def _benign(writer, hostile, hostile_file) -> None:
    import collections
    import datetime as dt
    import decimal
    import fractions
    import uuid
    import zoneinfo

    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.RandomState(0)
    x = rng.rand(20, 3)
    y = (x[:, 0] > 0.5).astype(int)
    pipe = Pipeline([('scale', StandardScaler()), ('clf', LogisticRegression())]).fit(x, y)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y)
    frame = pd.DataFrame({'a': [1, 2, 3], 'b': [0.5, 1.5, 2.5], 's': ['x', 'y', 'z'],
                          't': pd.date_range('2020-01-01', periods=3), 'c': pd.Categorical(['u', 'v', 'u'])})
    values = {
        'stdlib': [collections.OrderedDict(a=1), collections.defaultdict(list, {'k': [1]}), collections.Counter('abca'),
                   collections.deque([1, 2], maxlen=5), dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
                   dt.date(2020, 1, 1), dt.timedelta(days=2), decimal.Decimal('1.25'), fractions.Fraction(1, 3),
                   uuid.UUID(int=12345), zoneinfo.ZoneInfo('UTC'), range(3), slice(1, 2), complex(1, 2),
                   b'bytes', bytearray(b'ba'), frozenset({1}), {1, 2}, ValueError('x')],
        'numpy': [np.arange(5.0), np.array([[1, 2], [3, 4]], dtype='>i8'), np.array(['a', None], dtype=object),
                  np.zeros(3, dtype=[('x', '<i4'), ('y', 'f8')]), np.array(['2020-01-01'], dtype='M8[D]'),
                  np.float64(1.5), np.int32(7), np.str_('hi'), np.dtype('f4'), np.matrix([[1, 2]]),
                  np.ma.masked_array([1, 2], mask=[0, 1]), np.random.default_rng(0), np.random.RandomState(1),
                  np.float32],
        'sklearn': [pipe, tree],
        'pandas': [frame, frame['a'], pd.Series([1.0, None], index=['p', 'q'], name='n')],
    }
    try:
        import scipy.sparse as sp
        values['scipy'] = [sp.csr_matrix(np.eye(3)), sp.coo_matrix(np.eye(2))]
    except ImportError:
        pass
    for group, vals in values.items():
        for p in (0, 2, 4, 5):
            try:
                d = pickle.dumps(vals, p)
            except Exception:  # noqa: BLE001 - some values need protocol >= 2
                continue
            hostile(f'benign_{group}', d, p, [], f'benign {group} values (negative control)', dangerous=False)
    for p in (2, 4, 5):
        buf = io.BytesIO()
        joblib.dump({'pipe': pipe, 'tree': tree, 'frame': frame, 'arrays': values['numpy'][:5]}, buf, protocol=p)
        hostile_file(f'benign_joblib_p{p}', f'benign_joblib_p{p}.joblib', buf.getvalue(), [],
                     'benign joblib file with estimators, a DataFrame and arrays', dangerous=False, kind='benign')
    buf = io.BytesIO()
    joblib.dump({'pipe': pipe, 'frame': frame}, buf, compress=('zlib', 3))
    hostile_file('benign_joblib_zlib', 'benign_joblib_zlib.joblib.z', buf.getvalue(), [],
                 'benign zlib-compressed joblib file', dangerous=False, kind='benign', decompress='zlib')


if __name__ == '__main__':
    # Regenerate only this family: `python3 scripts/fixtures_dis.py`.
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), 'gen_fixtures.py'), 'dis'], check=True)
