"""Python side of the large-file benchmark (bench/large.mjs): generate the multi-GB files and time
Python's own loaders on them, one measurement per process.

  large_py.py gen-joblib OUT GB        a dict of float64/float32/int64 arrays + small objects, joblib.dump
  large_py.py gen-zlib OUT GB          the same layout, smaller and more compressible, joblib.dump(compress=('zlib', 3))
  large_py.py gen-torch OUT GB         a state dict of float32 tensors + an int64 buffer, torch.save (zip)
  large_py.py joblib FILE none|r       joblib.load(FILE, mmap_mode=None / 'r'), then touch one array
  large_py.py torch FILE               torch.load(FILE)
  large_py.py joblib-dump FILE OUT     joblib.load then joblib.dump into OUT (uncompressed)
  large_py.py torch-save FILE OUT      torch.load then torch.save into OUT

Every measurement prints one JSON line: seconds, peak RSS (VmHWM of this process, which exec starts
afresh) and a CRC-32 per array (over its C-order bytes) that the JS side computes the same way.
"""
import json
import os
import sys
import time
import zlib

import numpy as np

CRC_CHUNK = 1 << 28


def hwm():
    """Peak resident set of this process, in bytes (Linux VmHWM)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    return None


def rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return None


def crc_of(a):
    """CRC-32 of an array's bytes in C order (chunked: crc32 continues across calls)."""
    b = memoryview(np.ascontiguousarray(a)).cast('B')
    c = 0
    for i in range(0, len(b), CRC_CHUNK):
        c = zlib.crc32(b[i:i + CRC_CHUNK], c)
    return c


def split(total, parts):
    """Bytes per array: shares of `total` (each under 2 GiB so every language can hash it whole)."""
    # Whole rows of 1024 elements of 8 bytes, so that every array reshapes.
    return [int(total * p) // 8192 * 8192 for p in parts]


def joblib_value(total_bytes, compressible):
    rng = np.random.default_rng(7)
    n64, n32, ni = split(total_bytes, [0.4, 0.3, 0.3])
    if compressible:
        # Rounded values compress about 2x with zlib level 3, as real weights rounded to a few digits do.
        w64 = np.round(rng.standard_normal(n64 // 8), 2)
        w32 = np.round(rng.standard_normal(n32 // 4).astype(np.float32), 2)
        idx = rng.integers(0, 1000, ni // 8, dtype=np.int64)
    else:
        w64 = rng.standard_normal(n64 // 8)
        w32 = rng.standard_normal(n32 // 4, dtype=np.float32)
        idx = rng.integers(0, 2 ** 40, ni // 8, dtype=np.int64)
    return {
        'meta': {'name': 'large-bench', 'epochs': 12, 'lr': 0.001, 'tags': ['a', 'b', 'c'], 'shape': (3, 4)},
        'w64': w64.reshape(-1, 1024),
        'w32': w32.reshape(-1, 512),
        'idx': idx,
        'small': np.arange(10, dtype=np.int32),
        'notes': ['x' * 10, 3.5, None, True],
    }


def torch_value(total_bytes):
    import torch
    g = torch.Generator().manual_seed(7)
    sd = {}
    layers = 8
    per = int(total_bytes * 0.95) // layers // 4
    rows = per // 4096
    for i in range(layers):
        sd[f'layers.{i}.weight'] = torch.randn(rows, 4096, generator=g)
        sd[f'layers.{i}.bias'] = torch.randn(4096, generator=g)
    n = int(total_bytes * 0.05) // 8
    sd['positions'] = torch.arange(n, dtype=torch.int64)
    sd['scale'] = torch.tensor(0.5)
    return sd


def arrays_of(value):
    """name -> numpy array for every array or tensor at the top level."""
    out = {}
    for k, v in value.items():
        if isinstance(v, np.ndarray):
            out[k] = v
        elif hasattr(v, 'numpy'):
            out[k] = v.numpy()
    return out


def checks(value):
    return {k: crc_of(a) for k, a in arrays_of(value).items()}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def main():
    cmd = sys.argv[1]
    import joblib
    if cmd in ('gen-joblib', 'gen-zlib'):
        out, gb = sys.argv[2], float(sys.argv[3])
        value = joblib_value(int(gb * 1e9), cmd == 'gen-zlib')
        t = time.perf_counter()
        tmp = out + '.tmp'
        joblib.dump(value, tmp, compress=('zlib', 3) if cmd == 'gen-zlib' else 0)
        os.replace(tmp, out)
        emit({'file': out, 'size': os.path.getsize(out), 'seconds': time.perf_counter() - t,
              'unpacked': sum(a.nbytes for a in arrays_of(value).values()), 'crc': checks(value)})
    elif cmd == 'gen-torch':
        import torch
        out, gb = sys.argv[2], float(sys.argv[3])
        value = torch_value(int(gb * 1e9))
        tmp = out + '.tmp'
        torch.save(value, tmp)
        os.replace(tmp, out)
        emit({'file': out, 'size': os.path.getsize(out),
              'unpacked': sum(a.nbytes for a in arrays_of(value).values()), 'crc': checks(value)})
    elif cmd == 'joblib':
        path, mode = sys.argv[2], sys.argv[3]
        t = time.perf_counter()
        value = joblib.load(path, mmap_mode=None if mode == 'none' else mode)
        opened = time.perf_counter() - t
        peak_open = hwm()
        # Touch one array: its values into memory (a copy, as reading a lazy array does in picklejar).
        t = time.perf_counter()
        first = np.array(value['w32'], copy=True)
        touched = time.perf_counter() - t
        peak = hwm()
        del first
        emit({'seconds': opened, 'touchSeconds': touched, 'peakOpen': peak_open, 'peak': peak, 'crc': checks(value)})
    elif cmd == 'torch':
        import torch
        path = sys.argv[2]
        t = time.perf_counter()
        value = torch.load(path)
        opened = time.perf_counter() - t
        emit({'seconds': opened, 'peak': hwm(), 'crc': checks(value)})
    elif cmd == 'joblib-dump':
        path, out = sys.argv[2], sys.argv[3]
        value = joblib.load(path)
        before = rss()
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # VmHWM back to the current RSS: the next peak is the dump's own
        t = time.perf_counter()
        joblib.dump(value, out)
        emit({'seconds': time.perf_counter() - t, 'peak': hwm(), 'before': before})
    elif cmd == 'torch-save':
        import torch
        path, out = sys.argv[2], sys.argv[3]
        value = torch.load(path)
        before = rss()
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        t = time.perf_counter()
        torch.save(value, out)
        emit({'seconds': time.perf_counter() - t, 'peak': hwm(), 'before': before})
    else:
        raise SystemExit(f'unknown command {cmd}')


if __name__ == '__main__':
    main()
