"""Fixtures of the torch family: torch.save zip archives, legacy (pre-1.6 layout) files, TorchScript
archives, and hand-crafted archives of layouts torch 1.13 cannot write.

Real files: written by the installed torch (1.13) with `torch.save` / `torch.jit.save`. Each fixture's
json holds `desc`, the description (test/helpers/DESCRIPTION_FORMAT.md plus the torch rows below) of the
value *torch.load* returns for the file (checked equal to the description of the value saved), so a
test compares what picklejar decodes with what torch itself reads back.

Hand-crafted files (json `"handmade": "<why>"`): torch 1.13 cannot write them (a big-endian archive,
`_rebuild_tensor_v3` with float8 dtypes, the `.format_version` / `.storage_alignment` / `byteorder`
entries and numeric key order of torch >= 2.1, conj/neg metadata, old legacy view metadata) or they are
formats picklejar must refuse clearly (torch.package, torch.export, a plain zip, the pre-0.4 tar). They
are built from the byte-level facts of docs/FORMATS.md section 8; their expected values are computed here
independently of the file bytes (e.g. float8 decoded by formula), and said so in each json.

Torch descriptions:
  tensor   {"t":"tensor","dtype":"float32","shape":[..],"stride":[..],"offset":n,"requires_grad":bool,
            "data":"<hex of the elements in C order, little-endian>" | null (meta tensors),
            "list": nested values (see plain_list), "cls": "torch.nn.parameter.Parameter" (parameters only),
            "device": "meta" (only when not cpu)}
  qtensor  tensor fields + "qscheme" ("per_tensor_affine" | "per_channel_affine"), "scale"/"zero_point"
            or "scales"/"zero_points"/"axis"; "data" is the hex of int_repr() (one byte per quint4x2 value),
            "list" the dequantized values.
  sparse   {"t":"sparse","layout":"sparse_coo"|"sparse_csr","shape":[..],"indices"|"crow","col": tensor,
            "values": tensor, "dense": tensor description of to_dense()}
"""
from __future__ import annotations

import copy
import io
import json
import math
import os
import pickle
import struct
import tarfile
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

import gen_fixtures

try:
    import torch
except ImportError:  # pragma: no cover - the generator needs torch
    torch = None  # type: ignore[assignment]

FAMILY = 'torch'


# ---------------------------------------------------------------------------------------------------
# Descriptions
# ---------------------------------------------------------------------------------------------------

def fl(x: float) -> str:
    return gen_fixtures.float_repr(float(x))


def plain_list(v: Any) -> Any:
    """tolist() output as JSON: floats as Python repr strings, ints as decimal strings, bools as bools,
    complex as {"re","im"}."""
    if isinstance(v, list):
        return [plain_list(x) for x in v]
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return fl(v)
    if isinstance(v, complex):
        return {'re': fl(v.real), 'im': fl(v.imag)}
    raise TypeError(f'unexpected tolist element {v!r}')


def element_bytes(t: 'torch.Tensor') -> bytes:
    """The elements of a dense CPU tensor, C order, little-endian."""
    c = t.detach().resolve_conj().resolve_neg().contiguous().reshape(-1)
    if c.dtype == torch.bfloat16:
        return c.view(torch.int16).numpy().astype('<i2').tobytes()
    if c.dtype == torch.bool:
        return c.numpy().astype('u1').tobytes()
    a = c.numpy()
    return a.astype(a.dtype.newbyteorder('<')).tobytes()


def dtype_name(dt: 'torch.dtype') -> str:
    return str(dt).removeprefix('torch.')


def tensor_desc(t: 'torch.Tensor', describe_child: Any) -> dict:
    if t.layout == torch.sparse_coo:
        return {'t': 'sparse', 'layout': 'sparse_coo', 'shape': list(t.shape),
                'indices': tensor_desc(t._indices(), describe_child),
                'values': tensor_desc(t._values(), describe_child),
                'dense': tensor_desc(t.to_dense(), describe_child)}
    if t.layout == torch.sparse_csr:
        return {'t': 'sparse', 'layout': 'sparse_csr', 'shape': list(t.shape),
                'crow': tensor_desc(t.crow_indices(), describe_child),
                'col': tensor_desc(t.col_indices(), describe_child),
                'values': tensor_desc(t.values(), describe_child),
                'dense': tensor_desc(t.to_dense(), describe_child)}
    d: dict[str, Any] = {'t': 'tensor', 'dtype': dtype_name(t.dtype), 'shape': list(t.shape),
                         'stride': list(t.stride()), 'offset': t.storage_offset(),
                         'requires_grad': bool(t.requires_grad)}
    if type(t) is not torch.Tensor:
        d['cls'] = gen_fixtures.global_name(type(t))
    if t.device.type != 'cpu':
        d['device'] = t.device.type
    if t.device.type == 'meta':
        d['data'] = None
        return d
    if t.is_quantized:
        d['t'] = 'qtensor'
        scheme = t.qscheme()
        if scheme in (torch.per_tensor_affine, torch.per_tensor_symmetric):
            d['qscheme'] = 'per_tensor_affine'
            d['scale'] = fl(t.q_scale())
            d['zero_point'] = str(t.q_zero_point())
        else:
            d['qscheme'] = 'per_channel_affine'
            d['scales'] = [fl(x) for x in t.q_per_channel_scales().tolist()]
            d['zero_points'] = [str(x) for x in t.q_per_channel_zero_points().tolist()]
            d['axis'] = t.q_per_channel_axis()
        d['data'] = t.int_repr().contiguous().numpy().tobytes().hex()
        d['list'] = plain_list(t.dequantize().tolist())
        return d
    d['data'] = element_bytes(t).hex()
    d['list'] = plain_list(t.detach().resolve_conj().resolve_neg().tolist())
    return d


def describe_torch(v: Any, child: Any) -> Any:
    if torch is not None and isinstance(v, torch.Tensor):
        return tensor_desc(v, child)
    return None


def register(writer: Any) -> None:
    import fixtures_numpy  # checkpoints hold numpy arrays: their rows of the description format
    import fixtures_stdlib  # state dicts are OrderedDicts with a _metadata attribute
    fixtures_numpy.register(writer)
    if hasattr(fixtures_stdlib, 'register'):
        fixtures_stdlib.register(writer)
    writer.register_describer(describe_torch)


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------

def saved(value: Any, **kw: Any) -> bytes:
    b = io.BytesIO()
    torch.save(value, b, **kw)
    return b.getvalue()


def add(writer: Any, name: str, data: bytes, desc: Any, *, ext: str = 'pt', **meta: Any) -> None:
    path = writer.file(FAMILY, f'{name}.{ext}', data)
    writer.fixture(FAMILY, name, dict(meta, desc=desc), [{'path': path, 'kind': 'torch'}])


def add_saved(writer: Any, name: str, value: Any, note: str | None = None, **kw: Any) -> bytes:
    """torch.save `value`, check that torch.load gives a value with the same description, store both."""
    data = saved(value, **kw)
    want = gen_fixtures.describe(value, 2)
    back = torch.load(io.BytesIO(data))
    got = gen_fixtures.describe(back, 2)
    if got != want:
        raise RuntimeError(f'torch/{name}: torch.load describes differently\n {str(want)[:400]}\n {str(got)[:400]}')
    meta: dict[str, Any] = {'torch': torch.__version__}
    if note:
        meta['note'] = note
    try:
        torch.load(io.BytesIO(data), weights_only=True)
        meta['weights_only'] = True
    except Exception as e:  # noqa: BLE001 - recorded: torch's safe loader refuses the file
        meta['weights_only'] = False
        meta['weights_only_error'] = str(e).splitlines()[0][:200]
    shared = shared_groups(value)
    if shared:
        meta['shared'] = shared
    add(writer, name, data, got, **meta)
    return data


def shared_groups(value: Any) -> list[list[str]]:
    """Top-level dict keys whose tensors share a storage (tied weights, views), as groups."""
    if not isinstance(value, dict):
        return []
    groups: dict[int, list[str]] = {}
    for k, v in value.items():
        if isinstance(v, torch.Tensor) and v.layout == torch.strided and v.device.type == 'cpu' and not v.is_quantized:
            groups.setdefault(v.storage().data_ptr(), []).append(k)
    return [g for g in groups.values() if len(g) > 1]


def zip_entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def write_zip(entries: list[tuple[str, bytes]], *, align: int = 64, compress: set[str] | None = None) -> bytes:
    """A zip whose stored entries start on `align`-byte boundaries (torch's 'FB' padding extra field)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            if compress and name in compress:
                info.compress_type = zipfile.ZIP_DEFLATED
            else:
                info.compress_type = zipfile.ZIP_STORED
                here = out.tell() + 30 + len(name.encode())
                pad = (-(here + 4)) % align
                info.extra = b'FB' + struct.pack('<H', pad) + b'Z' * pad
            z.writestr(info, data)
    return out.getvalue()


class G:
    """Pickles as the global `module.name` (for hand-crafted data.pkl streams)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name


class R:
    """Pickles as `func(*args)` (REDUCE)."""

    def __init__(self, func: G, args: tuple) -> None:
        self.func, self.args = func, args


class PID:
    def __init__(self, pid: tuple) -> None:
        self.pid = pid


def handmade_pickle(value: Any) -> bytes:
    """Protocol-2 pickle of `value` where G/R/PID stand for globals, REDUCE calls and persistent ids."""
    out = io.BytesIO()

    class P(pickle._Pickler):  # type: ignore[name-defined]
        def persistent_id(self, obj: Any) -> Any:
            return obj.pid if isinstance(obj, PID) else None

        def save(self, obj: Any, save_persistent_id: bool = True) -> None:  # noqa: FBT001
            if isinstance(obj, G):
                if id(obj) in self.memo:
                    self.write(self.get(self.memo[id(obj)][0]))
                    return
                self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode())
                self.memoize(obj)
                return
            if isinstance(obj, R):
                self.save(obj.func)
                self.save(obj.args)
                self.write(pickle.REDUCE)
                return
            super().save(obj, save_persistent_id)

    P(out, 2).dump(value)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------

def all_dtypes() -> dict:
    g = torch.Generator().manual_seed(0)
    f = torch.tensor([0.0, -0.0, 1.5, -2.25, float('inf'), float('-inf'), float('nan'), 1e-3, 65504.0, 3.0e38])
    return {
        'float32': f.clone(),
        'float64': torch.tensor([0.0, -0.0, 1 / 3, 1e300, float('nan'), float('-inf')], dtype=torch.float64),
        'float16': torch.tensor([0.0, -0.0, 1.5, 65504.0, 6e-8, float('inf'), float('nan'), -2.0], dtype=torch.float16),
        'bfloat16': torch.tensor([0.0, -0.0, 1.5, 3.0e38, 1e-3, float('-inf'), float('nan'), 255.0], dtype=torch.bfloat16),
        'complex64': torch.tensor([1 + 2j, -0.5 - 1j, complex(float('inf'), 0)], dtype=torch.complex64),
        'complex128': torch.tensor([1 / 3 + 1e-300j, -2j], dtype=torch.complex128),
        'int8': torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        'uint8': torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        'int16': torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16),
        'int32': torch.tensor([-2**31, -1, 0, 2**31 - 1], dtype=torch.int32),
        'int64': torch.tensor([-2**63, -1, 0, 2**53 + 1, 2**63 - 1], dtype=torch.int64),
        'bool': torch.tensor([True, False, True]),
        'matrix': torch.randn(3, 4, generator=g),
        'scalar0d': torch.tensor(7.5),
        'empty': torch.empty(0, 3),
        'grad': torch.randn(2, generator=g).requires_grad_(True),
    }


def views() -> dict:
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    small = torch.tensor([1.0, 2.0])
    return {
        'base': base,
        'rows': base[1:3],
        'T': base.t(),
        'col': base[:, 2],
        'step': base[::2, ::3],
        'elem': base[2, 5],
        'expand': small.expand(3, 2),
        'small': small,
        'flat_tail': base.view(-1)[20:],
        'permuted': torch.arange(24, dtype=torch.int64).reshape(2, 3, 4).permute(2, 0, 1),
    }


class TinyNet(torch.nn.Module if torch is not None else object):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(5, 3)
        self.fc = torch.nn.Linear(3, 5)
        self.fc.weight = self.emb.weight  # tied
        self.norm = torch.nn.BatchNorm1d(3)

    def forward(self, x: 'torch.Tensor') -> 'torch.Tensor':
        return self.fc(self.norm(self.emb(x).mean(1)))


class ScriptNet(torch.nn.Module if torch is not None else object):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 2)
        self.seq = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
        self.register_buffer('scale', torch.tensor([0.5, 2.0]))

    def forward(self, x: 'torch.Tensor') -> 'torch.Tensor':
        return self.seq(self.lin(x)) * self.scale + torch.tensor([1.0, -1.0])


def optimizer_state() -> dict:
    torch.manual_seed(1)
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    loss = net(torch.randn(4, 3)).pow(2).sum()
    loss.backward()
    opt.step()
    return {'model': net.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 3, 'loss': float(loss)}


def quantized() -> dict:
    x = torch.tensor([[-1.0, 0.0, 0.5], [1.0, 2.0, 3.5]])
    return {
        'qint8': torch.quantize_per_tensor(x, 0.05, 0, torch.qint8),
        'quint8': torch.quantize_per_tensor(x, 0.1, 10, torch.quint8),
        'qint32': torch.quantize_per_tensor(x, 0.001, -5, torch.qint32),
        'quint4x2': torch.quantize_per_tensor(torch.tensor([0.0, 0.5, 1.0, 7.0, 3.0]), 0.5, 0, torch.quint4x2),
        'per_channel': torch.quantize_per_channel(
            x, torch.tensor([0.1, 0.02], dtype=torch.float64), torch.tensor([1, -2]), 0, torch.qint8),
        'per_channel_ax1': torch.quantize_per_channel(
            x, torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64), torch.tensor([0, 3, 5]), 1, torch.quint8),
    }


def checkpoint_with_numpy() -> dict:
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 7.0]]))
    torch.manual_seed(2)
    net = torch.nn.Linear(2, 2)
    return {
        'state_dict': net.state_dict(),
        'epoch': 12,
        'best': np.float64(0.125),
        'history': np.array([0.5, 0.25, 0.125], dtype=np.float32),
        'ids': np.arange(6, dtype=np.int64).reshape(2, 3),
        'scaler': scaler,
        'config': {'lr': 1e-3, 'layers': [2, 2], 'name': 'tiny', 'flags': (True, None)},
    }


# ---------------------------------------------------------------------------------------------------
# Hand-crafted archives
# ---------------------------------------------------------------------------------------------------

def float8_e4m3fn(b: int) -> float:
    """Decode one float8_e4m3fn byte by formula (bias 7, no infinities, S.1111.111 = NaN)."""
    s = -1.0 if b & 0x80 else 1.0
    e = (b >> 3) & 0xF
    m = b & 7
    if e == 0xF and m == 7:
        return math.nan
    if e == 0:
        return s * m * 2.0 ** -9
    return s * (1 + m / 8) * 2.0 ** (e - 7)


def float8_e5m2(b: int) -> float:
    """Decode one float8_e5m2 byte by formula (IEEE-like, bias 15)."""
    s = -1.0 if b & 0x80 else 1.0
    e = (b >> 2) & 0x1F
    m = b & 3
    if e == 0x1F:
        return s * math.inf if m == 0 else math.nan
    if e == 0:
        return s * m * 2.0 ** -16
    return s * (1 + m / 4) * 2.0 ** (e - 15)


def hand_tensor(dtype: str, shape: list, values: list, raw: bytes, stride: list | None = None,
                offset: int = 0) -> dict:
    if stride is None:
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
    return {'t': 'tensor', 'dtype': dtype, 'shape': shape, 'stride': stride, 'offset': offset,
            'requires_grad': False, 'data': raw.hex(), 'list': values}


def new_era_archive(writer: Any) -> None:
    """torch >= 2.1 layout: byteorder, .format_version, .storage_alignment, numeric key order,
    `_rebuild_tensor_v3` with UntypedStorage + a float8 dtype global."""
    e4 = bytes([0x00, 0x38, 0x40, 0xB8, 0x7E, 0x7F, 0x01, 0x08])  # 0, 1, 2, -1, 448, nan, min subnormal, min normal
    e5 = bytes([0x3C, 0x7C, 0xFC, 0x7F, 0x01, 0x44])  # 1, inf, -inf, nan, subnormal, 4
    f32 = struct.pack('<4f', 1.0, 2.0, 3.0, 4.0)
    us = G('torch', 'UntypedStorage')
    od = G('collections', 'OrderedDict')
    value = R(od, ())
    rebuild3 = G('torch._utils', '_rebuild_tensor_v3')
    rebuild2 = G('torch._utils', '_rebuild_tensor_v2')
    items = [
        ('e4m3', R(rebuild3, (PID(('storage', us, '0', 'cpu', len(e4))), 0, (2, 4), (4, 1), False, R(od, ()),
                              G('torch', 'float8_e4m3fn')))),
        ('e5m2', R(rebuild3, (PID(('storage', us, '1', 'cpu', len(e5))), 0, (6,), (1,), False, R(od, ()),
                              G('torch', 'float8_e5m2')))),
        ('f32', R(rebuild2, (PID(('storage', G('torch', 'FloatStorage'), '2', 'cpu', 4)), 1, (3,), (1,), False,
                             R(od, ())))),
    ]
    stream = handmade_pickle(_DictOf(items))
    entries = [('ckpt/data.pkl', stream), ('ckpt/.format_version', b'1'), ('ckpt/.storage_alignment', b'64'),
               ('ckpt/byteorder', b'little'), ('ckpt/data/0', e4), ('ckpt/data/1', e5), ('ckpt/data/2', f32),
               ('ckpt/version', b'3\n'), ('ckpt/.data/serialization_id', b'1234567890' * 4)]
    desc_items = [
        [{'t': 'str', 'v': 'e4m3'}, hand_tensor('float8_e4m3fn', [2, 4], [[fl(float8_e4m3fn(b)) for b in e4[:4]], [fl(float8_e4m3fn(b)) for b in e4[4:]]], e4)],
        [{'t': 'str', 'v': 'e5m2'}, hand_tensor('float8_e5m2', [6], [fl(float8_e5m2(b)) for b in e5], e5)],
        [{'t': 'str', 'v': 'f32'}, hand_tensor('float32', [3], [fl(2.0), fl(3.0), fl(4.0)], f32[4:], offset=1)],
    ]
    add(writer, 'handmade_v3_float8', write_zip(entries), {'t': 'dict', 'id': 0, 'v': desc_items},
        handmade='torch 1.13 has no float8 dtypes, no _rebuild_tensor_v3 and none of the torch >= 2.1 entries; '
                 'built from docs/FORMATS.md 8.1/8.3, float8 values decoded by formula in fixtures_torch.py')


class _DictOf:
    """A dict-like value pickled as a plain dict with the given (key, value) pairs in order."""

    def __init__(self, items: list) -> None:
        self.items = items

    def __reduce__(self) -> Any:
        return (dict, (), None, None, iter(self.items))


def conj_neg_archive(writer: Any) -> None:
    """`_rebuild_tensor_v2` with its 7th argument {'conj': True} / {'neg': True} (torch >= 2.x)."""
    c64 = struct.pack('<4f', 1.0, 2.0, -3.0, 0.5)
    f32 = struct.pack('<2f', 1.5, -2.0)
    od = G('collections', 'OrderedDict')
    rebuild2 = G('torch._utils', '_rebuild_tensor_v2')
    items = [
        ('conj', R(rebuild2, (PID(('storage', G('torch', 'ComplexFloatStorage'), '0', 'cpu', 2)), 0, (2,), (1,),
                              False, R(od, ()), {'conj': True}))),
        ('neg', R(rebuild2, (PID(('storage', G('torch', 'FloatStorage'), '1', 'cpu', 2)), 0, (2,), (1,), False,
                             R(od, ()), {'neg': True}))),
    ]
    stream = handmade_pickle(_DictOf(items))
    x = torch.view_as_complex(torch.tensor([[1.0, 2.0], [-3.0, 0.5]])).conj()
    y = torch._neg_view(torch.tensor([1.5, -2.0]))
    desc = gen_fixtures.describe({'conj': x, 'neg': y}, 2)
    entries = [('archive/data.pkl', stream), ('archive/data/0', c64), ('archive/data/1', f32),
               ('archive/version', b'3\n')]
    add(writer, 'handmade_conj_neg', write_zip(entries), desc,
        handmade='torch 1.13 has no metadata argument (its _rebuild_tensor_v2 takes 6); the 7th argument '
                 '(docs/FORMATS.md 8.3) is written by hand; the expected values are torch\'s own conj() and '
                 '_neg_view() of the stored values')


def big_endian_archive(writer: Any, little: bytes, desc: Any) -> None:
    """The all-dtypes archive with every storage byte-swapped per element and `byteorder` = big."""
    sizes = {'DoubleStorage': 8, 'FloatStorage': 4, 'HalfStorage': 2, 'BFloat16Storage': 2, 'LongStorage': 8,
             'IntStorage': 4, 'ShortStorage': 2, 'CharStorage': 1, 'ByteStorage': 1, 'BoolStorage': 1,
             'ComplexFloatStorage': 4, 'ComplexDoubleStorage': 8}
    entries = zip_entries(little)
    prefix = entries[0][0].split('/')[0]
    pkl = dict(entries)[f'{prefix}/data.pkl']
    key_size: dict[str, int] = {}

    class U(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if name.endswith('Storage'):
                return name
            if module == 'torch._utils':
                return lambda *a: None
            return super().find_class(module, name)

        def persistent_load(self, pid: Any) -> Any:
            key_size[pid[2]] = sizes[pid[1]]
            return torch.zeros(0)

    try:
        U(io.BytesIO(pkl)).load()
    except Exception:  # noqa: BLE001 - only the persistent ids are needed
        pass
    out = []
    for name, data in entries:
        key = name.split('/data/', 1)[1] if '/data/' in name else None
        if key is not None:
            n = key_size[key]
            data = b''.join(data[i:i + n][::-1] for i in range(0, len(data), n))
        out.append((name, data))
        if name.endswith('/data.pkl'):
            out.append((f'{prefix}/byteorder', b'big'))
    add(writer, 'handmade_big_endian', write_zip(out), desc,
        handmade='torch 1.13 writes little-endian only; this is all_dtypes.pt with each storage element '
                 'byte-swapped (complex: each half) and a byteorder entry "big" (docs/FORMATS.md 8.1/8.2)')


def legacy_view_metadata(writer: Any) -> None:
    """A legacy stream whose persistent ids carry (view_key, offset, numel) view metadata (torch < 1.0)."""
    root = struct.pack('<6f', 0, 1, 2, 3, 4, 5)
    fs = G('torch', 'FloatStorage')
    od = G('collections', 'OrderedDict')
    rebuild = G('torch._utils', '_rebuild_tensor')
    obj = _DictOf([
        ('whole', R(rebuild, (PID(('storage', fs, '1000', 'cpu', 6, None)), 0, (2, 3), (3, 1)))),
        ('view', R(rebuild, (PID(('storage', fs, '1000', 'cpu', 6, ('1001', 2, 3))), 1, (2,), (1,)))),
    ])
    _ = od
    parts = [pickle.dumps(0x1950a86a20f9469cfc6c, 2), pickle.dumps(1001, 2),
             pickle.dumps({'protocol_version': 1001, 'little_endian': True,
                           'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, 2),
             handmade_pickle(obj), pickle.dumps(['1000'], 2), struct.pack('<q', 6), root]
    data = b''.join(parts)
    back = torch.load(io.BytesIO(data))
    desc = gen_fixtures.describe(back, 2)
    add(writer, 'handmade_legacy_view', data, desc,
        handmade='view metadata in legacy persistent ids is written by torch < 1.0 only; stream built from '
                 'docs/FORMATS.md 8.4; torch 1.13 loads it to the described values (view = elements 3..4)')


def refusals(writer: Any, sample: bytes) -> None:
    entries = zip_entries(sample)
    pkg = write_zip([('pkg/.data/version', b'6\n'), ('pkg/.data/extern_modules', b''), ('pkg/model/model.pkl', entries[0][1])])
    add(writer, 'refuse_torch_package', pkg, None, ext='pt', error='torch.package',
        handmade='torch.package layout (docs/FORMATS.md 8.1): refused with a message naming it')
    export = write_zip([('model/archive_format', b'pt2'), ('model/version', b'0'), ('model/data.pkl', entries[0][1])])
    add(writer, 'refuse_torch_export', export, None, ext='pt2', error='torch.export',
        handmade='torch.export (pt2) archive_format entry: refused with a message naming it')
    plain = write_zip([('readme.txt', b'hello'), ('dir/x.bin', b'\x00\x01')])
    add(writer, 'refuse_plain_zip', plain, None, ext='zip', error='zip archive',
        handmade='a zip that is no torch or npz archive: refused with a message listing what it holds')
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode='w', format=tarfile.USTAR_FORMAT) as t:
        for member in ('sys_info', 'pickle', 'storages', 'tensors'):
            info = tarfile.TarInfo(member)
            payload = pickle.dumps(1, 2)
            info.size = len(payload)
            info.mtime = 0
            t.addfile(info, io.BytesIO(payload))
    add(writer, 'refuse_tar_legacy', tar.getvalue(), None, ext='tar', error='tar',
        handmade='the pre-0.4 tar layout (members sys_info, pickle, storages, tensors): refused clearly')


# ---------------------------------------------------------------------------------------------------
# TorchScript
# ---------------------------------------------------------------------------------------------------

def script_constants(data: bytes) -> Any:
    """Read constants.pkl of a TorchScript archive with torch's own rebuild functions."""
    entries = dict(zip_entries(data))
    prefix = next(iter(entries)).split('/')[0]

    class U(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            _, cls, key, _loc, numel = pid
            raw = entries[f'{prefix}/constants/{key}']
            return cls.from_buffer(raw, byte_order='little') if raw else cls()

    return U(io.BytesIO(entries[f'{prefix}/constants.pkl'])).load()


def torchscript(writer: Any) -> None:
    torch.manual_seed(3)
    net = ScriptNet().eval()
    for kind, mod in (('scripted', torch.jit.script(net)), ('traced', torch.jit.trace(net, torch.randn(1, 4)))):
        b = io.BytesIO()
        torch.jit.save(mod, b)
        data = b.getvalue()
        loaded = torch.jit.load(io.BytesIO(data))
        named = {**dict(loaded.named_parameters()), **dict(loaded.named_buffers())}
        state = {k: tensor_desc(v, None) for k, v in named.items()}
        for d in state.values():
            d.pop('cls', None)  # TorchScript stores plain tensors (requires_grad kept)
        consts = script_constants(data)
        add(writer, f'torchscript_{kind}', data, None, ext='pt', torchscript=True, state=state,
            constants=gen_fixtures.describe(consts, 2), cls=loaded.original_name,
            note=f'torch.jit.{"script" if kind == "scripted" else "trace"}(ScriptNet()); `state` is '
                 'torch.jit.load(f).state_dict() (dotted attribute paths), `constants` constants.pkl '
                 'read with torch\'s rebuild functions')


# ---------------------------------------------------------------------------------------------------
# Generate
# ---------------------------------------------------------------------------------------------------

def generate(writer: Any) -> None:
    if torch is None:
        raise RuntimeError('fixtures_torch needs torch (apt-get install python3-torch)')
    torch.manual_seed(0)
    little = add_saved(writer, 'all_dtypes', all_dtypes(), note='every dense dtype torch 1.13 saves')
    add_saved(writer, 'views', views(), note='views share one storage: offsets, transposes, steps, stride 0')
    net = TinyNet()
    add_saved(writer, 'tied_state_dict', net.state_dict(), note='fc.weight is emb.weight (tied): one storage')
    add_saved(writer, 'whole_model', net, note='torch.save(model): nn.Module objects stay inert')
    add_saved(writer, 'optimizer', optimizer_state(), note='Adam state_dict with its step tensors')
    add_saved(writer, 'parameters', {'p': torch.nn.Parameter(torch.tensor([1.0, 2.0])),
                                     'frozen': torch.nn.Parameter(torch.ones(2, 2), requires_grad=False)})
    add_saved(writer, 'quantized', quantized(), note='per-tensor and per-channel affine quantization')
    i = torch.tensor([[0, 1, 1], [2, 0, 2]])
    coo = torch.sparse_coo_tensor(i, torch.tensor([3.0, 4.0, 5.0]), (2, 3))
    csr = torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]).to_sparse_csr()
    add_saved(writer, 'sparse', {'coo': coo, 'coalesced': coo.coalesce(), 'csr': csr})
    add_saved(writer, 'meta', {'m': torch.empty(2, 3, device='meta'), 'c': torch.ones(1)},
              note='meta tensors: shape and dtype, no data')
    add_saved(writer, 'checkpoint_numpy', checkpoint_with_numpy(), note='numpy arrays, a numpy scalar, sklearn')
    for p in (1, 2, 3, 4, 5):
        add_saved(writer, f'legacy_p{p}', {'a': torch.arange(6.0).reshape(2, 3), 'b': torch.arange(6.0).reshape(2, 3)[:, 1],
                                            'i': torch.tensor([1, -2], dtype=torch.int32), 'n': 5},
                  note=f'_use_new_zipfile_serialization=False, pickle_protocol={p}',
                  pickle_protocol=p, _use_new_zipfile_serialization=False)
    add_saved(writer, 'legacy_model', net, _use_new_zipfile_serialization=False,
              note='legacy format of a whole model')
    # torch names the folder after the file saved to: a path with dots gives a dotted prefix.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'my.model.v2.pth')
        torch.save({'w': torch.tensor([1, 2, 3], dtype=torch.int16)}, path)
        with open(path, 'rb') as f:
            dotted = f.read()
    back = torch.load(io.BytesIO(dotted))
    add(writer, 'dotted_prefix', dotted, gen_fixtures.describe(back, 2),
        note='saved to my.model.v2.pth: entries live under the folder "my.model.v2/"')
    rezipped = write_zip(zip_entries(dotted))
    add(writer, 'rezipped', rezipped, gen_fixtures.describe(torch.load(io.BytesIO(rezipped)), 2),
        handmade='the same entries re-zipped by Python zipfile (sizes in local headers, no data descriptor)')
    new_era_archive(writer)
    conj_neg_archive(writer)
    big_endian_archive(writer, little, gen_fixtures.describe(torch.load(io.BytesIO(little)), 2))
    legacy_view_metadata(writer)
    refusals(writer, little)
    torchscript(writer)
