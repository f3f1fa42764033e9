/**
 * Defects a wider corpus found, each checked against CPython: the writer refuses the dict keys and set
 * members Python cannot hash (deeply, with the path), writes default-mode numbers as Python expects, and
 * files of other formats get an error that says what they are.
 */
import { describe, expect, it } from 'vitest';
import {
  dumps,
  loads,
  scan,
  tuple,
  DType,
  FrozenSet,
  NDArray,
  PicklingError,
  UnpicklingError,
} from '../src/index.js';
import { describeWithPython, runPython } from './helpers/python.js';

function refusal(value: unknown): PicklingError {
  try {
    dumps(value);
  } catch (e) {
    expect(e).toBeInstanceOf(PicklingError);
    return e as PicklingError;
  }
  throw new Error('dumps accepted the value');
}

describeWithPython('writer: dict keys and set members must be hashable (as CPython decides)', () => {
  // Each case: the JS value, the same value in Python, the path of the offending key or member.
  const cases: [string, () => unknown, string, string | undefined][] = [
    [
      'tuple holding a list as a dict key',
      () => new Map([[tuple<unknown>(1, [2]), 'x']]),
      '{(1, [2]): "x"}',
      'root.keys()[0]',
    ],
    [
      'tuple nested in a tuple holding a dict',
      () => new Map([[tuple<unknown>(tuple<unknown>(1, new Map()), 3), 1]]),
      '{((1, {}), 3): 1}',
      'root.keys()[0]',
    ],
    [
      'tuple holding a set, as a set member',
      () => new Set([1, tuple<unknown>('a', new Set([1]))]),
      '{1, ("a", {1})}',
      'root.values()[1]',
    ],
    [
      'tuple holding a list, as a frozenset member',
      () => new FrozenSet([tuple<unknown>([1])]),
      'frozenset({([1],)})',
      'root.values()[0]',
    ],
    [
      'dict key in a nested dict',
      () => ({ a: new Map([[tuple<unknown>([]), 1]]) }),
      '{"a": {([],): 1}}',
      'root.a.keys()[0]',
    ],
    [
      'hashable nested tuples',
      () =>
        new Map([[tuple<unknown>(tuple<unknown>(1, 'a'), tuple<unknown>(2n, new FrozenSet([3])), null), 1]]),
      '{((1, "a"), (2, frozenset({3})), None): 1}',
      undefined,
    ],
  ];

  it('refuses exactly what CPython cannot build, naming the path', async () => {
    const code = `
import json, sys
out = []
for text in json.loads(sys.stdin.read()):
    try:
        eval(text)
        out.append(True)
    except TypeError as e:
        out.append(str(e))
print(json.dumps(out))`;
    const py = JSON.parse((await runPython(code, [], JSON.stringify(cases.map((c) => c[2])))).stdout) as (
      true | string
    )[];
    cases.forEach(([name, make, , path], i) => {
      const pythonOk = py[i] === true;
      if (pythonOk) {
        expect(() => dumps(make()), name).not.toThrow();
        expect(path, name).toBeUndefined();
      } else {
        expect(py[i], name).toMatch(/unhashable type/);
        const err = refusal(make());
        expect(err.code, name).toBe('unhashable');
        expect(err.path, name).toBe(path);
      }
    });
  });

  it('numpy arrays are not hashable either', () => {
    const a = new NDArray({ dtype: new DType('i', 4), shape: [1], raw: new Uint8Array(4) });
    const err = refusal(new Map([[a, 1]]));
    expect(err.code).toBe('unhashable');
  });
});

describeWithPython('writer: default-mode numbers reach Python as it expects', () => {
  it('only safe integers become ints; -0, ±inf, NaN, fractions and integral numbers past 2^53 are floats', async () => {
    const values = [
      0,
      1,
      -1,
      2 ** 31,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53,
      -(2 ** 53),
      1e21,
      1e308,
      -0,
      0.5,
      NaN,
      Infinity,
      -Infinity,
    ];
    const code = `
import json, pickle, sys
out = []
for h in json.loads(sys.stdin.read()):
    v = pickle.loads(bytes.fromhex(h))
    out.append([type(v).__name__, repr(v)])
print(json.dumps(out))`;
    for (const protocol of [0, 2, 4] as const) {
      const hex = values.map((v) => Buffer.from(dumps(v, { protocol })).toString('hex'));
      const py = JSON.parse((await runPython(code, [], JSON.stringify(hex))).stdout) as [string, string][];
      const want = values.map((v): [string, string] => {
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) return ['int', String(v)];
        const r = Number.isNaN(v)
          ? 'nan'
          : v === Infinity
            ? 'inf'
            : v === -Infinity
              ? '-inf'
              : Object.is(v, -0)
                ? '-0.0'
                : null;
        return ['float', r ?? ''];
      });
      py.forEach(([type, repr], i) => {
        expect(type, `${values[i]} p${protocol}`).toBe(want[i]![0]);
        if (want[i]![1] !== '') expect(repr, `${values[i]} p${protocol}`).toBe(want[i]![1]);
        else expect(Number(repr), `${values[i]} p${protocol}`).toBe(values[i]);
      });
    }
  });
});

describeWithPython('files of other formats get an error that says what they are', () => {
  it('zip, gzip-compressed text, HDF5, Parquet, JSON: code wrong-format, the format named, in loads and scan (safetensors: read)', async () => {
    // Python makes each file (HDF5 and Parquet: their signatures, as h5py/pyarrow write them first).
    const code = `
import gzip, io, json, struct, zipfile
out = {}
b = io.BytesIO()
with zipfile.ZipFile(b, 'w') as z: z.writestr('notes.txt', 'hello')
out['zip archive'] = b.getvalue().hex()
out['gzip-compressed data holding text'] = gzip.compress(b'name,value\\nx,1\\n').hex()
out['HDF5 file'] = (b'\\x89HDF\\r\\n\\x1a\\n' + bytes(56)).hex()
header = json.dumps({'w': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}}).encode()
header += b' ' * (-len(header) % 8)
out['safetensors file'] = (struct.pack('<Q', len(header)) + header + struct.pack('<2f', 1, 2)).hex()
out['Apache Parquet file'] = (b'PAR1' + bytes(20) + b'PAR1').hex()
out['JSON text'] = json.dumps({'a': [1, 2]}).encode().hex()
print(json.dumps(out))`;
    const files = JSON.parse((await runPython(code)).stdout) as Record<string, string>;
    for (const [what, hex] of Object.entries(files)) {
      const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
      if (what === 'safetensors file') {
        // loads reads safetensors files (dispatched by their header); scan still says they hold no pickle.
        const st = loads(bytes) as { tensors: Map<string, { toNested(): unknown }> };
        expect(st.tensors.get('w')?.toNested()).toEqual([1, 2]);
        expect(scan(bytes).errors[0]).toContain(what);
        continue;
      }
      let err: unknown;
      try {
        loads(bytes);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(UnpicklingError);
      expect((err as UnpicklingError).code, what).toBe('wrong-format');
      expect((err as Error).message, what).toContain(what);
      if (what !== 'gzip-compressed data holding text') {
        const report = scan(bytes);
        expect(report.complete, what).toBe(false);
        expect(report.errors[0], what).toContain(what);
      }
    }
  });

  it('a broken protocol-0 pickle (text) keeps its opcode error', () => {
    const bad = new TextEncoder().encode('(lp0\nI1\naI2\n');
    let err: unknown;
    try {
      loads(bad);
    } catch (e) {
      err = e;
    }
    expect((err as UnpicklingError).code).toBe('truncated');
  });
});

describe('errors carry stable codes', () => {
  it('truncated, bad opcode, limit, memo, stack', () => {
    const code = (data: number[], options = {}): string | undefined => {
      try {
        loads(Uint8Array.from(data), options);
      } catch (e) {
        return (e as UnpicklingError).code;
      }
      return undefined;
    };
    expect(code([0x80, 4, 0x8c, 5, 0x61])).toBe('truncated');
    expect(code([0x80, 4, 0xff])).toBe('bad-opcode');
    expect(code([0x80, 4, 0x68, 7, 0x2e])).toBe('memo');
    expect(code([0x80, 4, 0x61, 0x2e])).toBe('stack');
    expect(code([0x80, 4, 0x28, 0x28, 0x28, 0x4e, 0x2e], { limits: { maxDepth: 2 } })).toBe('limit');
    expect(code([0x80, 4, 0x8f, 0x28, 0x5d, 0x90, 0x2e])).toBe('unhashable');
  });
});
