"""Fixtures for test/codecs.test.ts: one joblib stream compressed by Python's own modules (zlib, gzip,
bz2, lzma, lz4.frame) at levels 1 and 9, and by the zstd CLI (Python 3.11 has no zstd module), plus a
zstd bomb (64 MiB of zeros). sizes.json records each output size, which the tests compare against.

Usage: node scripts/run-python.mjs scripts/fixtures_codecs.py
"""
import bz2
import gzip
import json
import lzma
import os
import subprocess
import zlib

import lz4.frame

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, 'fixtures', 'codecs')
PAYLOAD = os.path.join(ROOT, 'fixtures', 'joblib', 'large.p4.raw.joblib')


def zstd_cli(data: bytes, level: int) -> bytes:
    return subprocess.run(['zstd', f'-{level}', '-q', '-c'], input=data, capture_output=True, check=True).stdout


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    data = open(PAYLOAD, 'rb').read()
    makers = {
        'zlib': lambda d, lv: zlib.compress(d, lv),
        'gzip': lambda d, lv: gzip.compress(d, lv, mtime=0),
        'bz2': lambda d, lv: bz2.compress(d, lv),
        'lzma': lambda d, lv: lzma.compress(d, format=lzma.FORMAT_ALONE, preset=lv),
        'xz': lambda d, lv: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=lv),
        # joblib writes lz4 through lz4.frame with compression_level = its level
        'lz4': lambda d, lv: lz4.frame.compress(d, compression_level=lv),
        'zstd': zstd_cli,
    }
    sizes = {}
    for name, make in makers.items():
        for lv in (1, 3, 9):
            out = make(data, lv)
            sizes[f'{name}{lv}'] = len(out)
            if lv != 3:
                with open(os.path.join(OUT, f'large.{name}{lv}'), 'wb') as f:
                    f.write(out)
    with open(os.path.join(OUT, 'bomb64m.zstd'), 'wb') as f:
        f.write(zstd_cli(bytes(64 << 20), 19))
    zstd_version = subprocess.run(['zstd', '--version'], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(OUT, 'sizes.json'), 'w') as f:
        json.dump({'payload': 'joblib/large.p4.raw.joblib', 'zstd': zstd_version, 'sizes': sizes}, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
