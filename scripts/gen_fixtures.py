#!/usr/bin/python3
"""Generate the test fixtures under fixtures/ from real CPython pickles.

Every module scripts/fixtures_<family>.py is imported and its `generate(writer)` is called (an optional
`register(writer)` runs first for all modules, so describer hooks exist before any value is described).
The writer pickles values with the C pickler, describes them (test/helpers/DESCRIPTION_FORMAT.md),
checks that Python's own `pickle.loads` gives back a value with the same description, and writes:

  fixtures/<family>/<name>.p<N>.pkl      the pickle at protocol N
  fixtures/<family>/<name>.p<N>.dis.txt  pickletools.dis() of it (what `python -m pickletools FILE` prints)
  fixtures/<family>/<name>.json          {"name", "desc", "protocols", ...}
  fixtures/index.json                    every fixture and its files

Fixture json fields: "desc" (highest protocol), "descs" ({protocol: Desc} where it differs), "protocols",
"note", "skipped" ({protocol: pickling error}); for hand-made streams ("raw": true) also "error" (CPython
refuses it with the default encoding), "encodings" ({ascii|latin1|bytes|utf-8: {"desc"} or {"error"}},
for Python 2 STRING opcodes), "multi" (several pickles: desc is a list, decode with loadsAll),
"extensions" ({code: [module, name]}), "persistent" ({"returns", "pids"}: persistent_load returns
('persistent', pid)), "buffers" ([{"path", "readonly_source"}], out-of-band buffers in order).
Index file entries: {"path", "kind", "protocol", "dis", "stops"?}; "stops" (offsets after each STOP) only
when a file holds more than one pickle or trailing bytes.

Usage: gen_fixtures.py [family-module ...]   (e.g. `core`; default: every fixtures_*.py module).
Output is deterministic: fixed seeds, PYTHONHASHSEED=0 (set-iteration order of strings), sorted keys.
"""
from __future__ import annotations

import codecs
import copyreg
import glob
import importlib
import io
import json
import math
import os
import pickle
import pickletools
import shutil
import sys
import types
from typing import Any, Callable, Iterable

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SCRIPTS)
FIXTURES = os.path.join(ROOT, 'fixtures')

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the work tree
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)
# Family modules may `import gen_fixtures`; make that the running module, not a second copy.
if __name__ == '__main__':
    sys.modules.setdefault('gen_fixtures', sys.modules['__main__'])

ENCODINGS = ('ascii', 'latin1', 'bytes', 'utf-8')
STRING_OPCODES = {'STRING', 'BINSTRING', 'SHORT_BINSTRING'}


class Unsupported(Exception):
    """A value the description format cannot express (the caller decides whether that is fatal)."""


# ---------------------------------------------------------------------------------------------------
# Descriptions
# ---------------------------------------------------------------------------------------------------

def canonical_json(d: Any) -> str:
    """The sort key of set elements: JSON with sorted keys, no spaces, ASCII escapes (json's defaults)."""
    return json.dumps(d, sort_keys=True, separators=(',', ':'))


def float_repr(x: float) -> str:
    return repr(float(x))


def global_name(obj: Any) -> str:
    """`module.qualname` of a class or function, as pickle would look it up (Python 3 names)."""
    name = getattr(obj, '__qualname__', None) or getattr(obj, '__name__', None)
    if not isinstance(name, str):
        raise Unsupported(f'not a global: {obj!r}')
    module = getattr(obj, '__module__', None)
    if module is None:
        module = pickle.whichmodule(obj, name)
    return f'{module}.{name}'


def is_global(obj: Any) -> bool:
    return isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType))


# Hooks registered by families: hook(value, child) -> Desc | None.
DESCRIBERS: list[Callable[[Any, 'Describer'], Any]] = []


def register_describer(hook: Callable[[Any, 'Describer'], Any]) -> None:
    if hook not in DESCRIBERS:
        DESCRIBERS.append(hook)


class Describer:
    """One description run: shared identity bookkeeping, pre-order ids, and an explicit work stack
    (no recursion through containers, so deep values do not exhaust the Python stack).

    Hooks receive this object as `child`: `child(v)` describes a nested value, `child.track(obj)`
    returns `(id, None)` for a first visit or `(None, ref_desc)` for a repeat, `child.protocol` is the
    protocol whose `__reduce_ex__` is used for objects.
    """

    def __init__(self, protocol: int = pickle.HIGHEST_PROTOCOL, hooks: Iterable[Callable] | None = None):
        self.protocol = protocol
        self.hooks = list(DESCRIBERS if hooks is None else hooks)
        self._ids: dict[int, int] = {}
        self._keep: list[Any] = []  # keep visited objects alive so that id() values are not reused
        self._next = 0

    def track(self, obj: Any):
        key = id(obj)
        if key in self._ids:
            return None, {'t': 'ref', 'id': self._ids[key]}
        n = self._next
        self._next += 1
        self._ids[key] = n
        self._keep.append(obj)
        return n, None

    def __call__(self, value: Any) -> Any:
        return self.run(value)

    def run(self, value: Any) -> Any:
        out = [None]
        # Tasks: ('v', value, target_list, index) describes value into target[index]; ('f', fn) runs fn.
        stack: list[tuple] = [('v', value, out, 0)]
        while stack:
            task = stack.pop()
            if task[0] == 'f':
                task[1]()
                continue
            _, v, target, index = task
            self._keep.append(v)
            target[index] = self._one(v, stack)
        return out[0]

    @staticmethod
    def _push_children(stack: list, values: list, target: list) -> None:
        for i in range(len(values) - 1, -1, -1):
            stack.append(('v', values[i], target, i))

    def _one(self, v: Any, stack: list) -> Any:
        for hook in self.hooks:
            d = hook(v, self)
            if d is not None:
                return d
        t = type(v)
        if v is None:
            return {'t': 'none'}
        if t is bool:
            return {'t': 'bool', 'v': v}
        if t is int:
            return {'t': 'int', 'v': str(v)}
        if t is float:
            return {'t': 'float', 'v': float_repr(v)}
        if t is str:
            return {'t': 'str', 'v': v}
        if t is bytes:
            return {'t': 'bytes', 'v': v.hex()}
        if t is bytearray:
            return {'t': 'bytearray', 'v': v.hex()}
        if t is complex:
            return {'t': 'complex', 're': float_repr(v.real), 'im': float_repr(v.imag)}
        if t is range:
            return {'t': 'range', 'start': str(v.start), 'stop': str(v.stop), 'step': str(v.step)}
        if t is slice:
            return {'t': 'slice', 'start': self.run(v.start), 'stop': self.run(v.stop), 'step': self.run(v.step)}
        if t is pickle.PickleBuffer:
            m = v.raw()
            return {'t': 'buffer', 'v': m.tobytes().hex(), 'readonly': m.readonly}
        if t is memoryview:
            return {'t': 'buffer', 'v': v.tobytes().hex(), 'readonly': v.readonly}
        if (t is tuple or t is frozenset) and len(v) == 0:
            return {'t': t.__name__, 'v': []}
        if t in (list, tuple, dict, set, frozenset):
            n, ref = self.track(v)
            if ref is not None:
                return ref
            if t is dict:
                pairs = [[None, None] for _ in range(len(v))]
                d = {'t': 'dict', 'id': n, 'v': pairs}
                for (k, val), pair in reversed(list(zip(v.items(), pairs))):
                    stack.append(('v', val, pair, 1))
                    stack.append(('v', k, pair, 0))
                return d
            items = list(v)
            if t in (set, frozenset):
                # Order is not data: sort the elements by their description made on its own (fresh ids,
                # so it does not depend on iteration order), then describe them in that order.
                keyed = [(canonical_json(Describer(self.protocol, self.hooks).run(x)), i) for i, x in enumerate(items)]
                items = [items[i] for _, i in sorted(keyed)]
            children = [None] * len(items)
            d = {'t': t.__name__, 'id': n, 'v': children}
            self._push_children(stack, items, children)
            return d
        if is_global(v):
            return {'t': 'global', 'v': global_name(v)}
        return self._object(v, stack)

    def _object(self, v: Any, stack: list) -> Any:
        if id(v) in self._ids:
            return {'t': 'ref', 'id': self._ids[id(v)]}
        p = self.protocol
        reducer = copyreg.dispatch_table.get(type(v))
        rv = reducer(v) if reducer is not None else v.__reduce_ex__(p)
        if isinstance(rv, str):
            module = getattr(v, '__module__', None) or pickle.whichmodule(v, rv)
            return {'t': 'global', 'v': f'{module}.{rv}'}
        rv = tuple(rv) + (None,) * (6 - len(rv))
        func, args, state, listitems, dictitems, setter = rv
        if setter is not None:
            raise Unsupported(f'{type(v)!r}: reducers with a state_setter are not describable')
        kwargs = None
        fname = getattr(func, '__name__', '')
        if fname == '__newobj__' and p >= 2:
            cls, args = args[0], tuple(args[1:])
        elif fname == '__newobj_ex__':
            # Below protocol 4 pickle writes functools.partial(cls.__new__, cls, *args, **kwargs)():
            # the same object creation NEWOBJ_EX describes.
            cls, args, kwargs = args
        elif func is copyreg._reconstructor and len(args) == 3:
            # Protocols 0-1: `_reconstructor(cls, object, state)` is `object.__new__(cls)` (state unused),
            # the same object NEWOBJ makes; for a builtin base it is `base.__new__(cls, state)`, described
            # as cls with args (base, state).
            cls, base, initial = args
            args = () if base is object else (base, initial)
        elif (func is getattr and len(args) == 2 and is_global(args[0]) and isinstance(args[1], str)
              and state is None and listitems is None and dictitems is None):
            # `getattr(cls, name)` (Enum members) is resolved, without running it, to the global cls.name.
            return {'t': 'global', 'v': f'{global_name(args[0])}.{args[1]}'}
        else:
            cls = func
        if not is_global(cls):
            raise Unsupported(f'{type(v)!r}: reduce callable {cls!r} is not a global')
        n, _ = self.track(v)  # only now: globals above are atoms and get no id
        d: dict[str, Any] = {
            't': 'object', 'id': n, 'cls': global_name(cls),
            'args': [None] * len(args), 'state': None, 'items': [], 'dictitems': [],
        }
        tasks: list[tuple] = []
        for i, a in enumerate(args):
            tasks.append(('v', a, d['args'], i))
        if kwargs is not None:
            d['kwargs'] = [[None, None] for _ in range(len(kwargs))]
            for (k, val), pair in zip(kwargs.items(), d['kwargs']):
                tasks.append(('v', k, pair, 0))
                tasks.append(('v', val, pair, 1))
        if state is not None:
            tasks.append(('v', state, d, 'state'))
        if listitems is not None:
            items = list(listitems)
            d['items'] = [None] * len(items)
            for i, x in enumerate(items):
                tasks.append(('v', x, d['items'], i))
        if dictitems is not None:
            ditems = list(dictitems)
            d['dictitems'] = [[None, None] for _ in range(len(ditems))]
            for (k, val), pair in zip(ditems, d['dictitems']):
                tasks.append(('v', k, pair, 0))
                tasks.append(('v', val, pair, 1))
        self._keep.append(rv)
        stack.extend(reversed(tasks))
        return d


def describe(value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> Any:
    """The Desc of `value`; objects are described through `__reduce_ex__(protocol)`."""
    return Describer(protocol).run(value)


# ---------------------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------------------

def _lenient_stringnl(f: Any) -> str:
    # pickletools insists on ASCII after escape decoding; for scanning, any byte will do.
    line = f.readline()
    if not line.endswith(b'\n'):
        raise ValueError('no newline found when trying to read stringnl')
    return codecs.escape_decode(line[1:-2])[0].decode('latin-1')


def stream_ops(data: bytes) -> list[tuple[Any, Any, int]]:
    """Every opcode of every pickle in `data` (several may sit back to back)."""
    ops = []
    f = io.BytesIO(data)
    saved = pickletools.stringnl.reader
    pickletools.stringnl.reader = _lenient_stringnl
    try:
        while f.tell() < len(data):
            ops.extend(pickletools.genops(f))
    finally:
        pickletools.stringnl.reader = saved
    return ops


def stream_protocol(data: bytes) -> int:
    """The protocol a stream claims (PROTO) or needs (highest opcode protocol), as pickletools reports."""
    proto = 0
    for op, arg, _pos in stream_ops(data):
        proto = max(proto, op.proto)
        if op.name == 'PROTO':
            proto = max(proto, arg)
    return proto


def stream_opcodes(data: bytes) -> set[str]:
    return {op.name for op, _arg, _pos in stream_ops(data)}


def dis_text(data: bytes) -> tuple[str | None, str | None]:
    out = io.StringIO()
    try:
        pickletools.dis(data, out=out)
    except Exception as e:  # noqa: BLE001 - recorded in the index instead
        return None, f'{type(e).__name__}: {e}'
    return out.getvalue(), None


def error_text(e: BaseException) -> str:
    return f'{type(e).__name__}: {e}'


class _Extensions:
    """Temporarily register copyreg extension codes {code: (module, name)}."""

    def __init__(self, table: dict[int, tuple[str, str]] | None):
        self.table = table or {}

    def __enter__(self):
        for code, (module, name) in self.table.items():
            copyreg.add_extension(module, name, code)

    def __exit__(self, *exc):
        for code, (module, name) in self.table.items():
            copyreg.remove_extension(module, name, code)
        copyreg.clear_extension_cache()


NO_EXPECT = object()


def persistent_result(pid: Any) -> Any:
    """What the fixtures' persistent_load returns (tests mirror it: the tuple ('persistent', pid))."""
    return ('persistent', pid)


class Writer:
    """Collects fixtures in memory; `save()` writes them. Family modules get one in `generate(writer)`."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.metas: dict[tuple[str, str], dict] = {}
        self.index: dict[tuple[str, str], dict] = {}

    # -- describing -------------------------------------------------------------------------------
    def register_describer(self, hook: Callable[[Any, Describer], Any]) -> None:
        register_describer(hook)

    def describe(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> Any:
        return describe(value, protocol)

    # -- low level --------------------------------------------------------------------------------
    def file(self, family: str, relname: str, data: bytes) -> str:
        """Store an arbitrary artifact at fixtures/<family>/<relname>; returns the index path."""
        path = f'{family}/{relname}'
        if path in self.files:
            raise ValueError(f'duplicate fixture file {path}')
        self.files[path] = bytes(data)
        return path

    def fixture(self, family: str, name: str, meta: dict, files: list[dict]) -> None:
        """Register a fixture: its json (`meta`, plus name) and index entry. `files` items are
        {"path", "protocol"?, "kind"} where kind is "pickle" (decodable by `loads`), "joblib", "buffer",
        or anything a family defines."""
        key = (family, name)
        if key in self.metas:
            raise ValueError(f'duplicate fixture {family}/{name}')
        check_name(name)
        for f in files:
            # Where a file holds more than one pickle (or trailing bytes), record the offsets after each
            # STOP: a prefix cut there is itself a valid stream (prefix tests need to know).
            data = self.files.get(f['path'])
            if data is not None and f.get('kind') in STOP_KINDS and 'stops' not in f:
                stops = pickle_stops(data)
                if stops and stops != [len(data)]:
                    f['stops'] = stops
        meta = dict(meta, name=name)
        self.metas[key] = meta
        self.index[key] = {'family': family, 'name': name, 'json': f'{family}/{name}.json', 'files': files}

    def pickle_file(self, family: str, name: str, protocol: int, data: bytes, kind: str = 'pickle') -> dict:
        """Store a pickle as <name>.p<protocol>.pkl with its disassembly; returns the index file entry."""
        path = self.file(family, f'{name}.p{protocol}.pkl', data)
        text, err = dis_text(data)
        entry: dict[str, Any] = {'path': path, 'protocol': protocol, 'kind': kind}
        if text is not None:
            entry['dis'] = self.file(family, f'{name}.p{protocol}.dis.txt', text.encode('utf-8'))
        else:
            entry['dis'] = None
            entry['dis_error'] = err
        return entry

    # -- values pickled by CPython ----------------------------------------------------------------
    def value(self, family: str, name: str, value: Any, protocols: Iterable[int] = range(6),
              note: str | None = None, check_loaded: bool = True, **extra: Any) -> None:
        """Pickle `value` with `pickle.dumps(value, protocol=p)` for each protocol.

        A protocol where pickling fails is skipped only when `note` explains it. The description is
        taken per protocol from the value; Python's `pickle.loads` of each pickle must describe the same.
        """
        descs: dict[int, Any] = {}
        files = []
        skipped: dict[str, str] = {}
        for p in protocols:
            try:
                data = pickle.dumps(value, protocol=p)
            except Exception as e:  # noqa: BLE001
                if note is None:
                    raise RuntimeError(f'{family}/{name}: pickling failed at protocol {p}: {e}') from e
                skipped[str(p)] = error_text(e)
                continue
            d = describe(value, p)
            if check_loaded:
                back = describe(pickle.loads(data), p)
                if back != d:
                    raise RuntimeError(f'{family}/{name} p{p}: loaded value describes differently\n'
                                       f'  dumped: {canonical_json(d)[:600]}\n  loaded: {canonical_json(back)[:600]}')
            descs[p] = d
            files.append(self.pickle_file(family, name, p, data))
        if not descs:
            raise RuntimeError(f'{family}/{name}: no protocol could pickle the value')
        meta = self._desc_fields(descs)
        meta['protocols'] = sorted(descs)
        if note is not None:
            meta['note'] = note
        if skipped:
            meta['skipped'] = skipped
        meta.update(extra)
        self.fixture(family, name, meta, files)

    @staticmethod
    def _desc_fields(descs: dict[int, Any]) -> dict:
        """`desc` is the highest protocol's description; `descs` lists protocols that differ from it."""
        top = descs[max(descs)]
        out: dict[str, Any] = {'desc': top}
        diff = {str(p): d for p, d in sorted(descs.items()) if d != top}
        if diff:
            out['descs'] = diff
        return out

    # -- hand-made streams ------------------------------------------------------------------------
    def raw(self, family: str, name: str, data: bytes, *, note: str | None = None,
            expect: Any = NO_EXPECT,
            extensions: dict[int, tuple[str, str]] | None = None,
            persistent: bool = False,
            buffers: list[tuple[bytes, bool]] | None = None,
            multi: bool = False, python_loads: str = 'c', protocol: int | None = None,
            describe_protocol: int | None = None) -> None:
        """A byte stream not produced by `pickle.dumps` of one value (Python 2 pickles, opcodes CPython
        never emits, hooks). The description is computed from what CPython's `pickle.loads` returns
        with the same extensions / persistent_load / buffers / encoding; `expect` (when given) is an
        independent check of the author's intent. Streams with Python 2 STRING opcodes get one
        expectation per `encoding`.

        buffers: out-of-band buffers as (bytes, readonly_source) pairs; written to side files.
        python_loads: 'c' (pickle.loads) or 'py' (the pure-Python pickle._loads, when the C unpickler
        cannot run the stream); recorded in the json.
        """
        check_name(name)
        ops = stream_opcodes(data)
        proto = stream_protocol(data) if protocol is None else protocol
        dproto = proto if describe_protocol is None else describe_protocol
        pids: list[Any] = []

        def load(encoding: str) -> Any:
            kw: dict[str, Any] = {'encoding': encoding}
            if buffers is not None:
                kw['buffers'] = [pickle.PickleBuffer(bytearray(b)) for b, _ro in buffers]
            results = []
            f = io.BytesIO(data)
            while True:
                if python_loads == 'c':
                    u = pickle.Unpickler(f, **kw)
                else:
                    u = pickle._Unpickler(f, **kw)  # type: ignore[attr-defined]
                if persistent:
                    def persistent_load(pid: Any) -> Any:
                        pids.append(pid)
                        return persistent_result(pid)
                    u.persistent_load = persistent_load
                results.append(u.load())
                if not multi or f.tell() >= len(data):
                    break
            if f.tell() != len(data):
                raise RuntimeError(f'{family}/{name}: {len(data) - f.tell()} bytes left after STOP')
            return results if multi else results[0]

        def desc_of(v: Any) -> Any:
            if multi:
                return [describe(x, dproto) for x in v]
            return describe(v, dproto)

        meta: dict[str, Any] = {'raw': True, 'protocols': [proto]}
        with _Extensions(extensions):
            encs = ENCODINGS if ops & STRING_OPCODES else ('ascii',)
            results: dict[str, dict] = {}
            for enc in encs:
                pids.clear()
                try:
                    v = load(enc)
                except Exception as e:  # noqa: BLE001
                    results[enc] = {'error': error_text(e)}
                    continue
                r: dict[str, Any] = {'desc': desc_of(v)}
                if persistent:
                    r['pids'] = [describe(pid, dproto) for pid in pids]
                results[enc] = r
        default = results['ascii']
        if 'error' in default:
            if not (ops & STRING_OPCODES):
                raise RuntimeError(f'{family}/{name}: CPython refuses the stream: {default["error"]}')
            meta['desc'] = None
            meta['error'] = default['error']
        else:
            meta['desc'] = default['desc']
            if persistent:
                meta['persistent'] = {'returns': "tuple ('persistent', pid)", 'pids': default['pids']}
        if expect is not NO_EXPECT:
            want = [describe(x, dproto) for x in expect] if multi else describe(expect, dproto)
            if want != meta['desc']:
                raise RuntimeError(f'{family}/{name}: loaded value differs from the expected one\n'
                                   f'  expected: {canonical_json(want)[:600]}\n'
                                   f'  loaded:   {canonical_json(meta["desc"])[:600]}')
        if ops & STRING_OPCODES:
            meta['encodings'] = {enc: {k: r[k] for k in ('desc', 'error') if k in r} for enc, r in results.items()}
        if multi:
            meta['multi'] = True
        if extensions:
            meta['extensions'] = {str(c): list(mn) for c, mn in sorted(extensions.items())}
        if python_loads != 'c':
            meta['python_loads'] = 'pure-Python pickle._Unpickler'
        if note is not None:
            meta['note'] = note
        files = [self.pickle_file(family, name, proto, data)]
        if buffers is not None:
            meta['buffers'] = []
            for i, (b, ro) in enumerate(buffers):
                path = self.file(family, f'{name}.buf{i}.bin', b)
                meta['buffers'].append({'path': path, 'readonly_source': ro})
                files.append({'path': path, 'kind': 'buffer'})
        self.fixture(family, name, meta, files)

    # -- output -----------------------------------------------------------------------------------
    def save(self, partial: bool) -> None:
        """Replace fixtures/<family>/ for every family written; with `partial` (only some family
        modules ran), keep the other families' index entries."""
        written = {f for f, _ in self.metas} | {p.split('/', 1)[0] for p in self.files}
        for fam in sorted(written):
            shutil.rmtree(os.path.join(FIXTURES, fam), ignore_errors=True)
        for path, data in sorted(self.files.items()):
            full = os.path.join(FIXTURES, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'wb') as f:
                f.write(data)
        for (fam, name), meta in sorted(self.metas.items()):
            with open(os.path.join(FIXTURES, fam, f'{name}.json'), 'w', encoding='ascii') as f:
                f.write(dump_json(meta))
        entries = list(self.index.values())
        index_path = os.path.join(FIXTURES, 'index.json')
        if partial and os.path.exists(index_path):
            with open(index_path, encoding='utf-8') as f:
                old = json.load(f)['fixtures']
            entries += [e for e in old if e['family'] not in written]
        entries.sort(key=lambda e: (e['family'], e['name']))
        with open(index_path, 'w', encoding='ascii') as f:
            f.write(json.dumps({'fixtures': entries}, sort_keys=True, indent=1) + '\n')


STOP_KINDS = {'pickle', 'hostile', 'benign'}


def pickle_stops(data: bytes) -> list[int]:
    """Offsets just after each STOP, for as many pickles as parse one after another."""
    f = io.BytesIO(data)
    out: list[int] = []
    saved = pickletools.stringnl.reader
    pickletools.stringnl.reader = _lenient_stringnl
    try:
        while f.tell() < len(data):
            for _ in pickletools.genops(f):
                pass
            out.append(f.tell())
    except Exception:  # noqa: BLE001 - trailing bytes that are not a pickle
        pass
    finally:
        pickletools.stringnl.reader = saved
    return out


def dump_json(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, indent=1)
    if len(text) > 100_000:  # big descriptions stay on few lines
        text = json.dumps(obj, sort_keys=True, separators=(',', ':'))
    return text + '\n'


def check_name(name: str) -> None:
    if not name or not all(c.isascii() and (c.isalnum() or c in '_-') for c in name):
        raise ValueError(f'bad fixture name {name!r}')


# ---------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------

def family_modules() -> list[str]:
    names = []
    for path in sorted(glob.glob(os.path.join(SCRIPTS, 'fixtures_*.py'))):
        names.append(os.path.splitext(os.path.basename(path))[0])
    return names


def main(argv: list[str]) -> int:
    if os.environ.get('PYTHONHASHSEED') != '0':
        # String hashing decides set iteration order, hence pickle bytes: re-run with a fixed seed.
        env = dict(os.environ, PYTHONHASHSEED='0')
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *argv], env)
    all_mods = family_modules()
    if argv:
        wanted = ['fixtures_' + a.removeprefix('fixtures_') for a in argv]
        unknown = [m for m in wanted if m not in all_mods]
        if unknown:
            print(f'unknown family modules: {unknown}; have {all_mods}', file=sys.stderr)
            return 2
        mods = wanted
    else:
        mods = all_mods
    writer = Writer()
    loaded = []
    for m in mods:
        mod = importlib.import_module(m)
        if callable(getattr(mod, 'generate', None)):
            loaded.append(mod)
        elif argv:
            print(f'{m} has no generate(writer)', file=sys.stderr)
            return 2
        else:
            # fixtures_*.py files that are helpers, not generators (e.g. a test's Python side)
            print(f'{m}: no generate(writer), skipped', file=sys.stderr)
    for mod in loaded:
        if hasattr(mod, 'register'):
            mod.register(writer)
    for mod in loaded:
        before = len(writer.metas)
        mod.generate(writer)
        print(f'{mod.__name__}: {len(writer.metas) - before} fixtures', file=sys.stderr)
    writer.save(partial=bool(argv))
    total = sum(1 for e in writer.index.values() for f in e['files'] if f.get('kind') == 'pickle')
    print(f'wrote {len(writer.metas)} fixtures, {total} pickle files', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
