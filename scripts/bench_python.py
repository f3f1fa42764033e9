"""The CPython side of `npm run bench`: time pickle.loads / pickle.dumps / joblib.load on the workload files.

  bench_python.py time OUT_DIR [NAME ...]   time every workload of OUT_DIR/manifest.json (or the named ones);
                                            prints one JSON object on stdout
  bench_python.py mem OUT_DIR NAME          peak RSS of one decode in this fresh process (VmHWM reset just
                                            before reading the file, minus the RSS then); prints JSON

Timing: each measurement runs in this one process, once with the cyclic GC enabled and once disabled
(gc.collect() between runs, outside the timed region); after warm-up runs the median of N runs is kept (wall
clock, plus process CPU time as a cross-check on shared machines), and
the faster of the two GC modes is reported (both are in the JSON). N is chosen so that one mode takes about
BENCH_BUDGET seconds (default 1.0), between 3 and 25 runs.
"""
from __future__ import annotations

import gc
import io
import json
import math
import os
import pickle
import resource
import statistics
import sys
import time

BUDGET = float(os.environ.get('BENCH_BUDGET', '1.0') or '1.0')


def runs_for(seconds: float) -> int:
    lo = 3 if seconds > 0.3 else 5
    return max(lo, min(25, math.ceil(BUDGET / max(seconds, 1e-6))))


def time_mode(fn, gc_enabled: bool) -> dict:
    gc.collect()
    if not gc_enabled:
        gc.disable()
    try:
        t = time.perf_counter()
        r = fn()
        first = time.perf_counter() - t
        del r
        warmups = 1 if first > 0.2 else 2
        for _ in range(warmups - 1):
            gc.collect()
            r = fn()
            del r
        times = []
        cpu = []
        for _ in range(runs_for(first)):
            gc.collect()
            c = time.process_time()
            t = time.perf_counter()
            r = fn()
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            del r
    finally:
        gc.enable()
    return {'ms': statistics.median(times) * 1000, 'cpuMs': statistics.median(cpu) * 1000, 'runs': len(times),
            'minMs': min(times) * 1000}


def measure(fn) -> dict:
    on = time_mode(fn, True)
    off = time_mode(fn, False)
    best = on if on['ms'] <= off['ms'] else off
    return {'ms': best['ms'], 'cpuMs': best['cpuMs'], 'minMs': min(on['minMs'], off['minMs']), 'runs': best['runs'],
            'gc': 'on' if best is on else 'off',
            'msGcOn': on['ms'], 'msGcOff': off['ms']}


def decoder_for(w: dict):
    if w['kind'] == 'joblib':
        import joblib
        return lambda data: joblib.load(io.BytesIO(data))
    return pickle.loads


def cmd_time(out_dir: str, names: list[str]) -> None:
    with open(os.path.join(out_dir, 'manifest.json')) as f:
        manifest = json.load(f)
    results = {}
    for w in manifest['workloads']:
        if names and w['name'] not in names:
            continue
        with open(os.path.join(out_dir, w['file']), 'rb') as f:
            data = f.read()
        dec = decoder_for(w)
        entry = {'decode': measure(lambda: dec(data))}
        if w['kind'] == 'pickle':
            obj = pickle.loads(data)
            p = w['protocol']
            entry['encode'] = measure(lambda: pickle.dumps(obj, protocol=p))
            del obj
        results[w['name']] = entry
        print(f"  python {w['name']}: decode {entry['decode']['ms']:.1f} ms"
              + (f", encode {entry['encode']['ms']:.1f} ms" if 'encode' in entry else ''), file=sys.stderr)
    print(json.dumps({'python': sys.version.split()[0], 'implementation': sys.implementation.name,
                      'numpy': _version('numpy'), 'joblib': _version('joblib'), 'results': results}))


def _version(mod: str):
    try:
        return __import__(mod).__version__
    except ImportError:
        return None


def rss_now() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def vm_hwm():
    """Linux's peak RSS of this address space (unlike ru_maxrss, it does not survive exec)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def cmd_mem(out_dir: str, name: str) -> None:
    with open(os.path.join(out_dir, 'manifest.json')) as f:
        w = next(x for x in json.load(f)['workloads'] if x['name'] == name)
    import numpy  # noqa: F401  (imported before the baseline, as the decoder needs it)
    dec = decoder_for(w)
    gc.collect()
    base = rss_now()
    reset = reset_peak()
    with open(os.path.join(out_dir, w['file']), 'rb') as f:
        data = f.read()
    value = dec(data)
    peak = (vm_hwm() if reset else None) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    after = rss_now()
    print(json.dumps({'baselineRss': base, 'peakRss': peak, 'peakDelta': peak - base,
                      'peakSource': 'VmHWM' if reset else 'maxrss (approximate: inherited across exec)',
                      'retainedDelta': after - base, 'ok': value is not None}))


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == 'time':
        cmd_time(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 4 and sys.argv[1] == 'mem':
        cmd_mem(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
