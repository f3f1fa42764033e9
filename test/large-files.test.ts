/**
 * Files of any size: load(path) never holds a whole file; `lazy` leaves uncompressed payloads in the
 * file until first used (joblib's mmap_mode); `sharedMemory` puts payloads in SharedArrayBuffers.
 * The multi-GB runs belong to `npm run bench`; here a sparse file stands for a 5 GB one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { dumps, load, toJsonPickle, NDArray, Tensor, UnpicklingError } from '../src/index.js';
import { isLoaded } from '../src/numpy/index.js';
import { buildShowTree, renderShowText } from '../src/tools/show/index.js';
import { describeWithPython, runPython } from './helpers/python.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pj-large-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = new TextEncoder();

/** A protocol-2 joblib stream, assembled by hand so that a payload can be a hole of a sparse file. */
class JoblibWriter {
  parts: Uint8Array[] = [];
  length = 0;
  memo = 0;
  push(...b: (number | Uint8Array | string)[]): void {
    for (const x of b) {
      const u = typeof x === 'number' ? Uint8Array.of(x) : typeof x === 'string' ? enc.encode(x) : x;
      this.parts.push(u);
      this.length += u.length;
    }
  }
  str(s: string): void {
    const b = enc.encode(s);
    this.push(0x58, Uint8Array.from([b.length, 0, 0, 0]), b);
  }
  int(n: number): void {
    // BININT / LONG1 for the big shape
    if (n < 2 ** 31)
      this.push(0x4a, Uint8Array.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff]));
    else {
      const b = new Uint8Array(9);
      new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
      this.push(0x8a, 5, b.subarray(0, 5));
    }
  }
  /** The wrapper of an array of `n` elements of `typestr` ('f8', 'i8'); returns where its payload starts. */
  wrapper(n: number, typestr: string): number {
    this.push('cjoblib.numpy_pickle\nNumpyArrayWrapper\n', 0x29, 0x81, 0x7d, 0x28);
    this.str('subclass');
    this.push('cnumpy\nndarray\n');
    this.str('shape');
    this.int(n);
    this.push(0x85);
    this.str('order');
    this.str('C');
    this.str('dtype');
    this.push('cnumpy\ndtype\n');
    this.str(typestr);
    this.push(0x89, 0x88, 0x87, 0x52, 0x28, 0x4b, 3);
    this.str('<');
    this.push(
      0x4e,
      0x4e,
      0x4e,
      0x4a,
      0xff,
      0xff,
      0xff,
      0xff,
      0x4a,
      0xff,
      0xff,
      0xff,
      0xff,
      0x4b,
      0,
      0x74,
      0x62,
    );
    this.str('allow_mmap');
    this.push(0x88);
    this.str('numpy_array_alignment_bytes');
    this.push(0x4b, 16, 0x75, 0x62);
    const pad = 16 - ((this.length + 1) % 16);
    this.push(pad, new Uint8Array(pad).fill(0xff));
    return this.length;
  }
}

/** {'big': float64 array of `n` zeros (a hole), 'after': arange(10) int64}, written sparse. */
function sparseJoblib(path: string, n: number): void {
  const w = new JoblibWriter();
  w.push(0x80, 2, 0x7d, 0x28);
  w.str('big');
  const bigAt = w.wrapper(n, 'f8');
  const head = w.parts;
  const tail = new JoblibWriter();
  tail.length = bigAt + n * 8;
  tail.str('after');
  tail.wrapper(10, 'i8');
  const payload = new Uint8Array(80);
  for (let i = 0; i < 10; i++) new DataView(payload.buffer).setBigInt64(i * 8, BigInt(i), true);
  tail.push(payload, 0x75, 0x2e);
  const fd = openSync(path, 'w');
  try {
    let at = 0;
    for (const p of head) at += writeSync(fd, p, 0, p.length, at);
    at = bigAt + n * 8;
    for (const p of tail.parts) at += writeSync(fd, p, 0, p.length, at);
  } finally {
    closeSync(fd);
  }
}

describe('files past 4 GiB', () => {
  it('a 5 GB joblib file opens lazily: the structure now, an array past 4 GiB when first used', async () => {
    const path = join(dir, 'sparse.joblib');
    const n = (5 * 2 ** 30) / 8; // 5 GiB of float64
    sparseJoblib(path, n);
    const v = (await load(path, { lazy: true })) as Record<string, NDArray>;
    const big = v['big'] as NDArray;
    const after = v['after'] as NDArray;
    expect(big.shape).toEqual([n]);
    expect(big.dtype.str).toBe('<f8');
    expect(isLoaded(big)).toBe(false);
    expect(isLoaded(after)).toBe(false);
    expect(after.toArray()).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    expect(isLoaded(after)).toBe(true);
    expect(isLoaded(big)).toBe(false); // touching one array reads only it
  });
});

describeWithPython('lazy and shared payloads (files written by Python)', () => {
  let files: Record<string, string> = {};
  let expected: Record<string, { shape: number[]; values: number[] }> = {};
  beforeAll(async () => {
    const code = `
import json, sys, numpy as np, joblib, torch
d = sys.argv[1]
arrays = {'w': np.arange(12, dtype='<f4').reshape(3, 4) * 0.5, 'b': np.arange(5, dtype='<i8') - 2, 'f': np.asfortranarray(np.arange(6.).reshape(2, 3))}
joblib.dump(arrays, d + '/m.joblib')
joblib.dump(arrays, d + '/m.z.joblib', compress=3)
np.save(d + '/w.npy', arrays['w'])
np.savez(d + '/a.npz', **arrays)
torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}, d + '/m.pt')
print(json.dumps({k: {'shape': list(v.shape), 'values': v.ravel(order='C').tolist()} for k, v in arrays.items()}))`;
    expected = JSON.parse((await runPython(code, [dir])).stdout);
    files = { joblib: 'm.joblib', compressed: 'm.z.joblib', npz: 'a.npz', pt: 'm.pt' };
  });

  const values = (a: unknown): unknown[] => {
    if (a instanceof Tensor) return (a.toNested() as unknown[]).flat(3).map(Number);
    return (a as NDArray).toArray().map(Number);
  };

  it('lazy values equal eager ones, and are read only when used (joblib, .npy, .npz, torch)', async () => {
    for (const kind of ['joblib', 'npz', 'pt'] as const) {
      const path = join(dir, files[kind] as string);
      const lazy = (await load(path, { lazy: true })) as Record<string, unknown> | Map<string, unknown>;
      const eager = (await load(path)) as Record<string, unknown> | Map<string, unknown>;
      const get = (o: typeof lazy, k: string): unknown => (o instanceof Map ? o.get(k) : o[k]);
      for (const k of Object.keys(expected)) {
        const a = get(lazy, k);
        if (a instanceof NDArray) expect(isLoaded(a), `${kind} ${k}`).toBe(false);
        if (a instanceof Tensor) expect(a.storage?.loaded, `${kind} ${k}`).toBe(false);
        expect(values(a), `${kind} ${k}`).toEqual(expected[k]?.values);
        expect(values(get(eager, k)), `${kind} ${k}`).toEqual(expected[k]?.values);
      }
    }
    const npy = (await load(join(dir, 'w.npy'), { lazy: true })) as NDArray;
    expect(isLoaded(npy)).toBe(false);
    expect(values(npy)).toEqual(expected['w']?.values);
  });

  it('every consumer sees a lazy value as the eager one (dumps, toJsonPickle, show)', async () => {
    const path = join(dir, 'm.joblib');
    const lazy = await load(path, { lazy: true });
    const eager = await load(path);
    expect(Buffer.from(dumps(lazy)).equals(Buffer.from(dumps(eager)))).toBe(true);
    const lazy2 = await load(path, { lazy: true });
    expect(toJsonPickle(lazy2)).toBe(toJsonPickle(eager));
    const lazy3 = await load(path, { lazy: true });
    expect(renderShowText(buildShowTree(lazy3)).join('\n')).toBe(
      renderShowText(buildShowTree(eager)).join('\n'),
    );
  });

  it('a compressed file cannot be lazy: it is decoded eagerly, values right', async () => {
    const v = (await load(join(dir, 'm.z.joblib'), { lazy: true })) as Record<string, NDArray>;
    expect(isLoaded(v['w'] as NDArray)).toBe(true);
    expect(values(v['w'])).toEqual(expected['w']?.values);
  });

  it('a file changed after a lazy open is refused when its arrays are read', async () => {
    const path = join(dir, 'changing.joblib');
    writeFileSync(path, readFileSync(join(dir, 'm.joblib')));
    const v = (await load(path, { lazy: true })) as Record<string, NDArray>;
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    let err: unknown;
    try {
      (v['w'] as NDArray).toArray();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnpicklingError);
    expect((err as UnpicklingError).code).toBe('io');
  });

  it('sharedMemory: payloads in SharedArrayBuffers that a worker thread reads without a copy', async () => {
    for (const kind of ['joblib', 'pt'] as const) {
      const v = (await load(join(dir, files[kind] as string), { sharedMemory: true })) as Record<
        string,
        unknown
      >;
      const w = v['w'];
      const raw = w instanceof Tensor ? (w.storage?.bytes as Uint8Array) : (w as NDArray).raw;
      expect(raw.buffer).toBeInstanceOf(SharedArrayBuffer);
      const worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
         parentPort.once('message', (buf) => { const f = new Float32Array(buf); f[0] = 42; parentPort.postMessage(Array.from(f)); });`,
        { eval: true },
      );
      const seen = await new Promise<number[]>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(raw.buffer);
      });
      await worker.terminate();
      expect(seen.slice(1)).toEqual(expected['w']?.values.slice(1));
      // The worker wrote into the same memory.
      expect(values(w)[0]).toBe(42);
    }
  });
});
