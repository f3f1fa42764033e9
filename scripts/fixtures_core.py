"""Core fixtures: builtin values pickled by CPython at every protocol, plus hand-made streams (`raw_*`)."""
from __future__ import annotations

import copyreg
import io
import pickle

import fixture_classes as fc

FAMILY = 'core'


def generate(w) -> None:
    scalars(w)
    text_and_bytes(w)
    containers(w)
    identity(w)
    objects(w)
    raw_text_streams(w)
    raw_binary_streams(w)
    raw_hooks(w)


# ---------------------------------------------------------------------------------------------------
# Values pickled with pickle.dumps
# ---------------------------------------------------------------------------------------------------

def scalars(w) -> None:
    v = lambda name, value, **kw: w.value(FAMILY, name, value, **kw)  # noqa: E731
    v('none', None)
    v('true', True)
    v('false', False)
    ints = {
        '0': 0, '1': 1, '255': 255, '256': 256, '65535': 65535, '65536': 65536,
        'neg1': -1, 'neg255': -255, 'neg256': -256,
        '2p31_minus1': 2**31 - 1, 'neg2p31': -2**31, '2p31': 2**31, 'neg2p31_minus1': -2**31 - 1,
        '2p63': 2**63, 'neg2p63': -2**63, '2p64': 2**64,
        'neg128': -128, '2p53_plus1': 2**53 + 1, 'neg2p53_minus1': -2**53 - 1,
        # LONG1 ends at 255 bytes of two's complement; LONG4 begins above
        '2p2039_minus1': 2**2039 - 1, '2p2039': 2**2039,
    }
    for name, x in ints.items():
        v(f'int_{name}', x)
    for sign, s in (('pos', 1), ('neg', -1)):
        # deterministic digit strings: "1234567890" repeated
        for digits in (300, 3000):
            x = s * int(('1234567890' * (digits // 10 + 1))[:digits])
            v(f'int_{sign}_{digits}_digits', x)
    floats = {
        '0': 0.0, 'neg0': -0.0, '1_5': 1.5, '1e100': 1e100, '1e_300': 1e-300, 'min_subnormal': 5e-324,
        'inf': float('inf'), 'neg_inf': float('-inf'), 'nan': float('nan'), '0_1': 0.1, 'third': 1 / 3,
        '1e16': 1e16, '1e15': 1e15, '1e_4': 1e-4, '1e_5': 1e-5, 'neg_1_5e300': -1.5e300,
        'max': 1.7976931348623157e308, 'subnormal': 2.5e-310, '123456789_125': 123456789.125,
        '2p53': 2.0**53,
    }
    for name, x in floats.items():
        v(f'float_{name}', x)
    v('complex', complex(1.5, -2.0))
    v('complex_special', complex(float('inf'), -0.0))
    v('complex_in_list', [1j, complex(0, 0), complex(-1e300, 5e-324)])
    v('range', range(0, 10, 2))
    v('range_negative_step', range(10, -5, -3))
    v('range_big', range(-2**70, 2**70, 2**65))
    v('slice', slice(1, 10, None))
    v('slice_mixed', slice(None, 'end', 2.5))


def text_and_bytes(w) -> None:
    v = lambda name, value, **kw: w.value(FAMILY, name, value, **kw)  # noqa: E731
    strings = {
        'empty': '', 'ascii': 'hello world', 'latin1': 'caf\u00e9', 'bmp': '\u03a9\u20ac',
        'astral': '\U0001f600', 'lone_high': '\ud800', 'lone_low': '\udfff',
        'lone_mixed': 'a\ud800b\udfffc\ud83d', 'split_pair': '\ud800\udc00',
        'controls': 'a\x00b\nc\\d\'e"f\r\tg\x1a\x7f',
        'unicode_escape_like': '\\u20ac \\U0001f600 \\x41',
        '255': 'x' * 255, '256': 'y' * 256, '300': ('abc\u00e9\u20ac' * 60),
        '70000': 'z' * 69990 + '\u00e9\u20ac\U0001f600' + 'end!!!!',
    }
    for name, s in strings.items():
        v(f'str_{name}', s)
    v('str_list_mixed', ['', 'a', '\u00e9', '\u20ac', '\U0001f600', '\ud800', 'a\ud800'])
    blobs = {
        'empty': b'', 'short': b'abc', '255': bytes(range(255)), '256': bytes(range(256)),
        'all_values': bytes(range(256)) * 2, '70000': b'0123456789abcdef' * 4375 + bytes(range(256)),
        'high': b'\x80\xff\x00\xc3\xa9',
    }
    for name, b in blobs.items():
        v(f'bytes_{name}', b)
    v('bytearray_empty', bytearray())
    v('bytearray_small', bytearray(b'\x00ab\xff'))
    v('bytearray_large', bytearray(b'ABCDEFGH' * 8500 + bytes(range(128, 256))))


def containers(w) -> None:
    v = lambda name, value, **kw: w.value(FAMILY, name, value, **kw)  # noqa: E731
    v('list_empty', [])
    v('list_small', [1, 'two', 3.0, None, True])
    v('list_nested', [[1, [2, [3, []]]], [], ['x']])
    v('tuple_empty', ())
    v('tuple_1', (1,))
    v('tuple_2', (1, 'b'))
    v('tuple_3', (1, 'b', None))
    v('tuple_4', (1, 'b', None, 4.5))
    v('tuple_nested', ((), ((),), (1, (2, (3,)))))
    v('dict_empty', {})
    v('dict_str_keys', {'a': 1, 'b': [2, 3], 'c': {'d': None}})
    v('dict_int_keys', {1: 'one', -5: 'minus five', 2**70: 'big', 0: 'zero'})
    v('dict_float_keys', {1.5: 'a', 0.0: 'zero', float('inf'): 'inf', 1e-300: 'tiny'})
    v('dict_negzero_key', {-0.0: 'negzero', 1.0: 'one'})
    v('dict_tuple_keys', {(1, 2): 'a', (): 'empty', ('x', (3,)): 'nested'})
    v('dict_none_key', {None: 1, 'None': 2})
    v('dict_bool_keys', {True: 'yes', False: 'no'})
    v('dict_bytes_keys', {b'k': 1, b'': 2, b'\xff': 3})
    v('dict_mixed_keys', {'s': 1, 2: 's', None: (), (1,): [], b'b': 0.5, 1.5: frozenset([1])})
    v('dict_js_names', {'__proto__': {'polluted': True}, 'constructor': 1, 'toString': 'x',
                        'hasOwnProperty': None, 'valueOf': [], 'prototype': 2})
    v('dict_nested', {'a': {'b': {'c': {'d': [1, {'e': ()}]}}}})
    v('set_empty', set())
    v('set_ints', {3, 1, 2, 100000, -7, 2**70})
    v('frozenset_empty', frozenset())
    v('frozenset_ints', frozenset({5, -1, 2**40}))
    v('set_in_list', [set(), {1}, frozenset(), frozenset({2})])
    v('list_2500', list(range(2500)))
    v('list_1001', list(range(1001)))
    v('dict_2500', {i: -i for i in range(2500)})
    v('dict_str_1100', {f'k{i}': i for i in range(1100)})
    v('set_2500', set(range(2500)), protocols=range(4, 6), note='protocols 0-3 pickle sets as '
      'set([...]) via REDUCE; covered by set_ints; this one exercises ADDITEMS batching')
    deep = []
    cur = deep
    for _ in range(400):
        nxt = []
        cur.append(nxt)
        cur = nxt
    v('list_deep_400', deep)
    t: tuple = ()
    for i in range(120):
        t = (i, t)
    v('tuple_deep_120', t)


def identity(w) -> None:
    v = lambda name, value, **kw: w.value(FAMILY, name, value, **kw)  # noqa: E731
    shared = [1, 2]
    v('shared_list_in_tuple', (shared, shared))
    d = {'k': 'v'}
    v('shared_dict_in_list', [d, [d], {'again': d}])
    st = (1, 'x')
    v('shared_tuple', [st, st, (st,)])
    fs = frozenset({1, 2})
    v('shared_frozenset', [fs, fs])
    ba = bytearray(b'ab')
    v('shared_bytearray', [ba, ba])
    self_list: list = []
    self_list.append(self_list)
    v('list_self', self_list)
    self_list2: list = [1]
    self_list2.append(self_list2)
    self_list2.append([self_list2])
    v('list_self_nested', self_list2)
    self_dict: dict = {}
    self_dict['me'] = self_dict
    v('dict_self', self_dict)
    rec_t = ([],)
    rec_t[0].append(rec_t)
    v('tuple_recursive', rec_t)
    rec_t2 = ({'k': None}, 5)
    rec_t2[0]['k'] = rec_t2
    v('tuple_recursive_dict', rec_t2)


def objects(w) -> None:
    v = lambda name, value, **kw: w.value(FAMILY, name, value, **kw)  # noqa: E731
    v('obj_point', fc.Point(1, 'two'))
    v('obj_empty', fc.Empty())
    v('obj_points_shared', [fc.Point(1, 2)] * 2 + [fc.Point(3, 4)])
    v('obj_slots', fc.Slotted([1], 'b'), note='a __slots__ class without __getstate__ cannot be pickled '
      'at protocols 0-1 (TypeError); those are skipped')
    v('obj_getstate_tuple', fc.Pair('l', [2]))
    v('obj_reduce', fc.Reduced('tag', 7))
    v('obj_list_subclass', fc.TaggedList([1, 'a', None], tag='lst'))
    v('obj_dict_subclass', fc.TaggedDict({'k': 1, 2: 'two'}, tag='dct'))
    v('obj_newargs_ex', fc.KwOnly(1, b='bee'),
      note='protocols 2-3 pickle a __getnewargs_ex__ class as REDUCE of functools.partial(getattr(cls, '
      "'__new__'), cls, *args, **kwargs): object creation, described like NEWOBJ_EX. Protocols 0-1 ignore "
      '__getnewargs_ex__ (copyreg._reconstructor).')
    v('obj_newargs_ex_inherited', fc.NewArgsEx(2, b=[3]),
      note='__getnewargs_ex__ without an own __new__: protocols 2-3 name getattr(object, "__new__")')
    v('obj_enum', fc.Color.RED)
    v('obj_enum_list', [fc.Color.GREEN, fc.Color.BLUE, fc.Color.GREEN])
    root = fc.Node('root')
    a = root.add(fc.Node('a'))
    b = root.add(fc.Node('b'))
    leaf = fc.Node('leaf')
    a.children.append(leaf)
    b.children.append(leaf)  # shared, parent points at a
    leaf.parent = a
    v('obj_graph', root)
    v('obj_recorder', fc.Recorder(1, 'x', [2]))
    v('global_class', fc.Point)
    v('global_function', fc.some_function)
    v('global_enum_class', fc.Color)
    v('global_builtins', [object, range, bytes, int, str, ValueError])
    v('global_list', [fc.Point, fc.Point, fc.some_function])


# ---------------------------------------------------------------------------------------------------
# Hand-made streams
# ---------------------------------------------------------------------------------------------------

def raw_text_streams(w) -> None:
    """Protocol 0 as Python 2 wrote it (text opcodes CPython 3 never emits in this form)."""
    r = lambda name, data, **kw: w.raw(FAMILY, name, data, **kw)  # noqa: E731
    r('raw_p0_int', b'(lp0\nI0\naI1\naI01\naI00\naI-7\naI2147483648\naI-99999999999999999999\na.',
      expect=[0, 1, True, False, -7, 2147483648, -99999999999999999999])
    r('raw_p0_long', b'(L0L\nL12345678901234567890L\nL-12345678901234567890L\nL7\nL-0L\nt.',
      expect=(0, 12345678901234567890, -12345678901234567890, 7, 0))
    r('raw_p0_float', b'(F0.0\nF-0.0\nF1.5\nF0.10000000000000001\nF1e+100\nF1E-300\nFinf\nF-inf\nFnan\n'
      b'F5e-324\nF12\nF-1.5e+300\nt.')
    r('raw_p0_string_quotes', rb"""(S'abc'
S"it's"
S'a\x00b\nc\'d\\e\tf'
S'\101\102\0'
S''
S'say "hi"'
t.""", expect=('abc', "it's", "a\x00b\nc'd\\e\tf", 'AB\x00', '', 'say "hi"'))
    r('raw_p0_string_escaped_high', b"S'caf\\xe9'\np0\n.",
      note='one byte 0xe9 after escape decoding: ascii and utf-8 refuse it')
    r('raw_p0_string_utf8_bytes', b"S'caf\xc3\xa9'\np0\n.",
      note='raw UTF-8 bytes inside the quotes: ascii refuses, latin1 gives mojibake, utf-8 gives cafe-acute')
    r('raw_p0_unicode', b'(V\\u20ac\\U0001f600\nV\\ud800\nVcaf\xe9\nVa\\b\nV\\u005c\\u000a\nV\nt.',
      expect=('\u20ac\U0001f600', '\ud800', 'caf\u00e9', 'a\\b', '\\\n', ''))
    r('raw_p0_dict_opcode', b'(I2\nI0\nI1\nI0\nI2\nI9\nd.', expect={2: 9, 1: 0},
      note='DICT with a repeated key: the last value wins, the first insertion fixes the order')
    r('raw_p0_dup_tuple', b'(I1\n2t.', expect=(1, 1))
    r('raw_p0_dup_list_self', b'(l2a.', note='DUP then APPEND: a list containing itself')
    r('raw_p0_inst', b"(I1\nS'two'\nifixture_classes\nRecorder\np0\n(dp1\nS'k'\np2\nI3\nsb.",
      note='INST with args (1, str) and a BUILD dict; Recorder reports its args/state as an inert reader '
      'sees them')
    r('raw_p0_inst_noargs', b'(ifixture_classes\nRecorder\np0\n.',
      note='INST with no args calls cls.__new__(cls) only')
    r('raw_p0_reconstructor', b"ccopy_reg\n_reconstructor\np0\n(cfixture_classes\nPoint\np1\n"
      b"c__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nS'x'\np6\nI1\nsS'y'\np7\nI2\nsb.",
      note='Python 2 new-style instance; copy_reg._reconstructor(cls, object, None) is described as '
      'cls with no args (the same object NEWOBJ makes)')
    r('raw_p0_py2_names', b'(c__builtin__\nxrange\nc__builtin__\nunicode\ncexceptions\nValueError\n'
      b'ccopy_reg\n_reconstructor\nc__builtin__\nlong\nt.',
      expect=(range, str, ValueError, copyreg._reconstructor, int))
    r('raw_p0_xrange_call', b'c__builtin__\nxrange\n(I0\nI5\nI1\ntR.', expect=range(0, 5))
    r('raw_p0_get_put_sparse', b'(lp1000000000\nI1\nag1000000000\na.',
      note='PUT/GET with a memo index of 10**9 (sparse memo)')
    r('raw_p0_put_overwrite', b'(I1\np0\nI2\np0\ng0\nt.', expect=(1, 2, 2))
    r('raw_p1_pop', b'I9\n(I1\nI2\n1I3\n0.', expect=9, note='POP_MARK discards the mark and its slice; POP '
      'discards the top item')


def raw_binary_streams(w) -> None:
    r = lambda name, data, **kw: w.raw(FAMILY, name, data, **kw)  # noqa: E731
    r('raw_p1_binstring', b'(T\x03\x00\x00\x00abcU\x02hiU\x00t.', expect=('abc', 'hi', ''))
    r('raw_p1_binstring_high', b'(U\x04caf\xe9T\x02\x00\x00\x00\xc3\xa9t.',
      note='BINSTRING/SHORT_BINSTRING with bytes >= 0x80: per-encoding results')
    r('raw_p1_obj', b'(cfixture_classes\nRecorder\nK\x01X\x01\x00\x00\x00ao}X\x01\x00\x00\x00kK\x02sb.',
      note='OBJ (class above the mark, then args), then BUILD with a dict')
    r('raw_p1_obj_tuple_state', b'(cfixture_classes\nRecorder\noK\x01K\x02\x86b.',
      note='OBJ with no args, BUILD with a non-dict state')
    r('raw_p1_long_binget', b']r\x00\xca\x9a\x3bK\x01aj\x00\xca\x9a\x3ba.',
      note='LONG_BINPUT/LONG_BINGET with index 10**9')
    r('raw_p1_binput_overwrite', b'(K\x01q\x00K\x02q\x00h\x00t.', expect=(1, 2, 2))
    r('raw_p2_long_forms', b'\x80\x02(\x8a\x00\x8a\x02\xff\xff\x8a\x02\x00\x80\x8b\x00\x00\x00\x00'
      b'\x8b\x01\x00\x00\x00\x80\x8a\x03\xff\x00\x00t.',
      expect=(0, -1, -32768, 0, -128, 255), note='LONG1/LONG4 with zero length and non-minimal encodings')
    r('raw_p2_bool_mix', b'\x80\x02(I01\nI00\n\x88\x89t.', expect=(True, False, True, False))
    r('raw_p2_setitems_dup_keys', b'\x80\x02}q\x00(K\x01K\x02K\x01K\x03u.', expect={1: 3})
    r('raw_p2_shared_tuple', b'\x80\x02K\x01\x85q\x00h\x00\x86q\x01.')
    r('raw_p2_memo_empty_tuple', b'\x80\x02)q\x00h\x00\x86q\x01.', expect=((), ()))
    r('raw_p2_py2_names', b'\x80\x02(c__builtin__\nset\nc__builtin__\nobject\ncexceptions\nKeyError\nt.',
      expect=(set, object, KeyError))
    r('raw_p4_additems_dups', b'\x80\x04\x8f\x94(K\x01K\x01K\x02\x90(K\x03K\x03\x91\x86.',
      expect=({1, 2}, frozenset({3})))
    r('raw_p4_8byte_lengths', b'\x80\x04(\x8d\x03\x00\x00\x00\x00\x00\x00\x00abc'
      b'\x8e\x02\x00\x00\x00\x00\x00\x00\x00\x00\xff\x8d\x00\x00\x00\x00\x00\x00\x00\x00t.',
      expect=('abc', b'\x00\xff', ''), note='BINUNICODE8/BINBYTES8, which CPython emits only above 4 GiB')
    r('raw_p5_bytearray8', b'\x80\x05\x96\x03\x00\x00\x00\x00\x00\x00\x00abc\x94h\x00\x86.',
      note='BYTEARRAY8 memoized and fetched twice: one shared bytearray')
    r('raw_p4_frames', b'\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00]\x94K\x01a'
      b'\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x02a'
      b'K\x03a.', expect=[1, 2, 3], note='two frames, then opcodes outside any frame')
    r('raw_p4_frame_empty', b'\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00N.', expect=None)
    r('raw_p4_memoize_stack_global', b'\x80\x04\x8c\x0ffixture_classes\x94\x8c\x05Point\x94\x93\x94'
      b'h\x00\x8c\x0dsome_function\x94\x93\x94h\x02\x87.',
      expect=(fc.Point, fc.some_function, fc.Point))
    # Real pickles of things an ordinary dumps of one value does not produce
    big = ['s' * 65536, b'b' * 65536, 1]
    r('raw_p4_unframed_payloads', pickle.dumps(big, 4), expect=big,
      note='payloads >= 64 KiB are written outside frames')
    multi_vals = [1, 'two', [3], {'four': 4}, None, (6,)]
    data = b''.join(pickle.dumps(x, p) for x, p in zip(multi_vals, (0, 2, 4, 5, 1, 3)))
    r('raw_multi', data, multi=True, expect=multi_vals,
      note='six pickles back to back (protocols 0, 2, 4, 5, 1, 3): decode with loadsAll')
    r('raw_multi_same_memo_index', pickle.dumps(['a', 'a'], 2) + pickle.dumps(['b'], 2), multi=True,
      note='each pickle has its own memo: index 0 means different objects')
    bufs: list = []
    oob = [pickle.PickleBuffer(bytearray(b'writable')), pickle.PickleBuffer(b'readonly'), 'after']
    data = pickle.dumps(oob, protocol=5, buffer_callback=bufs.append)
    r('raw_p5_out_of_band', data,
      buffers=[(bytes(b.raw()), b.raw().readonly) for b in bufs],
      note='NEXT_BUFFER / NEXT_BUFFER READONLY_BUFFER. Python gets pickle.PickleBuffer(bytearray(file)) '
      'for each buffer: NEXT_BUFFER yields it as is ({"t":"buffer","readonly":false}), READONLY_BUFFER a '
      'read-only view ({"t":"buffer","readonly":true})')
    inband = [pickle.PickleBuffer(bytearray(b'rw')), pickle.PickleBuffer(b'ro')]
    r('raw_p5_in_band_buffers', pickle.dumps(inband, 5), expect=[bytearray(b'rw'), b'ro'],
      note='PickleBuffer in band: a writable one becomes BYTEARRAY8, a read-only one bytes')


def raw_hooks(w) -> None:
    r = lambda name, data, **kw: w.raw(FAMILY, name, data, **kw)  # noqa: E731
    table = {1: ('fixture_classes', 'Point'), 0x1234: ('fixture_classes', 'some_function'),
             0x12345678: ('fixture_classes', 'Node')}
    node = fc.Node('n')
    value = [fc.Point, fc.some_function, fc.Point(1, 2), node, fc.Point]
    for p in (2, 4):
        for code, (mod, name) in table.items():
            copyreg.add_extension(mod, name, code)
        try:
            data = pickle.dumps(value, p)
        finally:
            for code, (mod, name) in table.items():
                copyreg.remove_extension(mod, name, code)
            copyreg.clear_extension_cache()
        r(f'raw_p{p}_ext', data, extensions=table, expect=value,
          note='EXT1 1, EXT2 0x1234, EXT4 0x12345678; load with options.extensions = the "extensions" field '
          '({code: [module, name]})')

    class Persisting(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, fc.External):
                return f'ext:{obj.key}' if self.proto == 0 else ('ext', obj.key, 7)
            return None

    ext = fc.External('a')
    for p in (0, 1, 2, 4):
        f = io.BytesIO()
        pk = Persisting(f, protocol=p)
        pk.proto = p
        pk.dump([ext, 1, fc.External('b'), ext])
        kind = 'PERSID' if p == 0 else 'BINPERSID'
        r(f'raw_p{p}_persistent', f.getvalue(), persistent=True,
          note=f'{kind}: every persistent id is passed to persistentLoad, which returns the tuple '
          "('persistent', pid); \"persistent.pids\" lists the pids in call order")
