/** safetensors: JS writes the layout of docs/FORMATS.md §8.7 (checked by parsing it in Python with json+struct and numpy) and reads it back. */
import { expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loads } from '../src/load.js';
import { Tensor } from '../src/torch/tensor.js';
import { dumpsSafetensors, loadsSafetensors } from '../src/containers/safetensors.js';
import { torchToSafetensors } from '../src/containers/convert.js';
import { readFixtureBytes } from './helpers/fixtures.js';
import { describeWithPython, runPython } from './helpers/python.js';

describeWithPython('safetensors', () => {
  it('a converted torch checkpoint has the safetensors layout and torch values', async () => {
    const sd = loads(readFixtureBytes('torch/tied_state_dict.pt'));
    const { tensors, metadata } = torchToSafetensors(sd);
    // fc.weight is emb.weight: one is dropped and recorded, as Hugging Face's converter does.
    expect(metadata).toEqual({ format: 'pt', 'fc.weight': 'emb.weight' });
    const bytes = dumpsSafetensors(tensors, metadata);
    const back = loadsSafetensors(bytes);
    for (const [k, t] of tensors) expect(back.tensors.get(k)?.toNested()).toEqual(t.toNested());
    const file = join(mkdtempSync(join(tmpdir(), 'picklejar-st-')), 'm.safetensors');
    writeFileSync(file, bytes);
    const code = `
import json, struct, sys, torch, numpy as np
data = open(sys.argv[1], 'rb').read()
n, = struct.unpack('<Q', data[:8])
assert n % 8 == 0 and data[8:9] == b'{'
head = json.loads(data[8:8 + n]); body = data[8 + n:]
meta = head.pop('__metadata__')
ends = sorted((v['data_offsets'] for v in head.values()))
assert ends[0][0] == 0 and all(a[1] == b[0] for a, b in zip(ends, ends[1:])) and ends[-1][1] == len(body)
sd = torch.load('${'fixtures/torch/tied_state_dict.pt'}')
ok = all(np.array_equal(np.frombuffer(body[v['data_offsets'][0]:v['data_offsets'][1]], dtype={'F32': '<f4', 'I64': '<i8'}[v['dtype']]).reshape(v['shape']), sd[k].numpy()) for k, v in head.items())
print(json.dumps({'meta': meta, 'ok': ok, 'names': sorted(head)}))`;
    const r = JSON.parse((await runPython(code, [file])).stdout) as {
      meta: unknown;
      ok: boolean;
      names: string[];
    };
    expect(r.ok).toBe(true);
    expect(r.meta).toEqual(metadata);
    expect(r.names).not.toContain('fc.weight');
  });

  it('every safetensors dtype round-trips; bad headers are refused', () => {
    const t = {
      a: Tensor.fromValues('bfloat16', [1.5, -2]),
      b: Tensor.fromValues('int64', [1n, -1n]),
      c: Tensor.fromValues('bool', [true, false]),
      d: Tensor.fromValues('float16', [0.5]),
    };
    const back = loadsSafetensors(dumpsSafetensors(t));
    expect(back.tensors.get('a')?.toNested()).toEqual([1.5, -2]);
    expect(back.tensors.get('b')?.toNested()).toEqual([1n, -1n]);
    expect(back.tensors.get('c')?.toNested()).toEqual([true, false]);
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => loadsSafetensors(bad)).toThrow(/header length/);
  });
});
