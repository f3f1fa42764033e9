/**
 * Live round trips: JS writes torch archives (dumpsTorch / dumpTorch), real torch loads them —
 * with weights_only=True where the content allows — and compares with what torch itself saved.
 */
import { expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loads } from '../src/load.js';
import { Complex } from '../src/python/values.js';
import { Tensor } from '../src/torch/tensor.js';
import { dumpsTorch } from '../src/torch/write.js';
import { dumpTorch } from '../src/torch/write-file.js';
import { ZipReader } from '../src/containers/zip.js';
import { fixturesOf, readFixtureBytes, readMeta } from './helpers/fixtures.js';
import { describeWithPython, runPython } from './helpers/python.js';

const CHECK = `
import json, sys, io, torch, gen_fixtures, fixtures_torch
fixtures_torch.register(gen_fixtures)
jobs = json.load(sys.stdin)
out = {}
for j in jobs:
    try:
        mine = torch.load(j['js'], weights_only=j['weights_only'])
        same = gen_fixtures.describe(mine, 2) == j['want']
        shared = all(len({mine[k].storage().data_ptr() for k in g}) == 1 for g in j.get('shared', []))
        out[j['name']] = 'ok' if same and shared else ('values differ' if not same else 'sharing lost')
    except Exception as e:
        out[j['name']] = 'error: ' + str(e).splitlines()[0]
print(json.dumps(out))
`;

describeWithPython('dumpsTorch output loads in torch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'picklejar-torch-'));

  it('every fixture written back by JS loads in torch equal to the original', async () => {
    const jobs: Record<string, unknown>[] = [];
    for (const entry of fixturesOf('torch')) {
      const meta = readMeta(entry);
      if (meta.desc === null || meta['torchscript'] || meta['error']) continue;
      const path = (entry.files[0] as { path: string }).path;
      const value = loads(readFixtureBytes(path), { lossless: true });
      // Files torch's safe loader accepts are written without allowGlobals and read with weights_only.
      const weightsOnly =
        meta['weights_only'] === true ||
        (String(meta['handmade'] ?? '').length > 0 && entry.name !== 'handmade_legacy_view');
      const bytes = dumpsTorch(
        value,
        weightsOnly ? { lossless: true } : { lossless: true, allowGlobals: true },
      );
      const js = join(dir, `${entry.name}.pt`);
      writeFileSync(js, bytes);
      // `want`: the description of what torch.load returned for the fixture (or, for hand-crafted
      // files, the values they were built from).
      jobs.push({
        name: entry.name,
        js,
        want: meta.desc,
        weights_only: weightsOnly && !entry.name.startsWith('handmade_v3'),
        shared: meta['shared'] ?? [],
      });
    }
    // float8 (v3) needs torch >= 2.1 to load; its bytes are checked below instead.
    const runnable = jobs.filter((j) => !String(j['name']).startsWith('handmade_v3'));
    const r = JSON.parse((await runPython(CHECK, [], JSON.stringify(runnable))).stdout) as Record<
      string,
      string
    >;
    expect(Object.keys(r).length).toBeGreaterThan(15);
    for (const [name, status] of Object.entries(r)) expect(status, name).toBe('ok');
  });

  it('data.pkl is byte-identical to torch.save of the same state dict', async () => {
    const w = Tensor.fromTypedArray(new Float32Array([0, 1, 2, 3, 4, 5]), [2, 3]);
    const sd = {
      weight: w,
      bias: Tensor.fromTypedArray(new Float32Array([1, 1])),
      tail: new Tensor({ dtype: 'float32', shape: [2], stride: [3], storageOffset: 1, storage: w.storage }),
    };
    const mine = ZipReader.open(dumpsTorch(sd));
    const pkl = mine.read(mine.get('archive/data.pkl')!);
    const code = `
import io, sys, torch, zipfile
w = torch.arange(6.).reshape(2, 3)
b = io.BytesIO(); torch.save({'weight': w, 'bias': torch.ones(2), 'tail': w.view(-1)[1::3]}, b)
sys.stdout.write(zipfile.ZipFile(b).read('archive/data.pkl').hex())`;
    expect(Buffer.from(pkl).toString('hex')).toBe((await runPython(code)).stdout);
  });

  it('tensors made in JS: every dtype, views, tied weights, weights_only', async () => {
    const base = Tensor.fromTypedArray(new Float32Array([...Array(12).keys()]), [3, 4]);
    const t = (dtype: string, values: unknown[]): Tensor => Tensor.fromValues(dtype, values);
    const value = {
      f32: base,
      view_T: new Tensor({ dtype: 'float32', shape: [4, 3], stride: [1, 4], storage: base.storage }),
      view_row: new Tensor({
        dtype: 'float32',
        shape: [4],
        stride: [1],
        storageOffset: 8,
        storage: base.storage,
      }),
      f64: t('float64', [1 / 3, -0, Infinity]),
      f16: t('float16', [1.5, -2, 65504]),
      bf16: t('bfloat16', [1.5, -2, 3e38]),
      i8: t('int8', [-128, 127]),
      u8: t('uint8', [0, 255]),
      i16: t('int16', [-32768, 32767]),
      i32: t('int32', [-(2 ** 31), 2 ** 31 - 1]),
      i64: t('int64', [-(2n ** 63n), 2n ** 63n - 1n]),
      bool: t('bool', [true, false]),
      c64: t('complex64', [new Complex(1, -2)]),
      c128: t('complex128', [new Complex(0.5, 1e300)]),
      grad: Object.assign(t('float32', [1, 2]), { requiresGrad: true }),
      nested: [t('int32', [7]), { deep: base }],
    };
    const file = join(dir, 'made.pt');
    await dumpTorch(file, value);
    expect(ZipReader.open(readFileSync(file)).entries[0]!.name).toBe('made/data.pkl');
    const code = `
import json, sys, torch
v = torch.load(sys.argv[1], weights_only=True)
f = lambda t: [str(t.dtype), list(t.shape), list(t.stride()), t.storage_offset(), t.requires_grad, [repr(x) for x in t.reshape(-1).tolist()]]
out = {k: f(x) for k, x in v.items() if isinstance(x, torch.Tensor)}
out['rounding'] = torch.equal(v['f16'], torch.tensor([1.5, -2, 65504], dtype=torch.float16)) and torch.equal(v['bf16'], torch.tensor([1.5, -2, 3e38], dtype=torch.bfloat16))
out['shared'] = v['f32'].storage().data_ptr() == v['view_T'].storage().data_ptr() == v['view_row'].storage().data_ptr() == v['nested'][1]['deep'].storage().data_ptr()
print(json.dumps(out))`;
    const r = JSON.parse((await runPython(code, [file])).stdout) as Record<string, unknown>;
    expect(r['shared']).toBe(true);
    expect(r['view_T']).toEqual([
      'torch.float32',
      [4, 3],
      [1, 4],
      0,
      false,
      ['0.0', '4.0', '8.0', '1.0', '5.0', '9.0', '2.0', '6.0', '10.0', '3.0', '7.0', '11.0'],
    ]);
    expect(r['view_row']).toEqual(['torch.float32', [4], [1], 8, false, ['8.0', '9.0', '10.0', '11.0']]);
    expect((r['f16'] as unknown[])[5]).toEqual(['1.5', '-2.0', '65504.0']);
    expect(r['rounding']).toBe(true); // JS rounds to half/bfloat16 as torch does
    expect((r['i64'] as unknown[])[5]).toEqual(['-9223372036854775808', '9223372036854775807']);
    expect((r['bool'] as unknown[])[5]).toEqual(['True', 'False']);
    expect((r['c128'] as unknown[])[5]).toEqual(['(0.5+1e+300j)']);
    expect((r['grad'] as unknown[])[4]).toBe(true);
    expect((r['f64'] as unknown[])[5]).toEqual(['0.3333333333333333', '-0.0', 'inf']);
  });

  it('float8 tensors are written as _rebuild_tensor_v3 over an untyped storage (torch >= 2.1 form)', () => {
    const v = loads(readFixtureBytes('torch/handmade_v3_float8.pt'));
    const back = loads(dumpsTorch(v)) as Record<string, Tensor>;
    expect(back['e4m3']!.toNested()).toEqual((v as Record<string, Tensor>)['e4m3']!.toNested());
    const zip = ZipReader.open(dumpsTorch(v));
    const pkl = new TextDecoder('latin1').decode(zip.read(zip.get('archive/data.pkl')!));
    expect(pkl).toContain('_rebuild_tensor_v3');
    expect(pkl).toContain('UntypedStorage');
    expect(pkl).toContain('float8_e4m3fn');
  });
});
