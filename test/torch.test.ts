/**
 * Torch archives written by real torch 1.13 (and hand-crafted newer-era files, see
 * scripts/fixtures_torch.py): every fixture decodes to the description of what torch.load returned.
 */
import { describe as suite, expect, it } from 'vitest';
import { join } from 'node:path';
import { loads, load } from '../src/load.js';
import { UnpicklingError } from '../src/errors.js';
import { PyObject } from '../src/python/values.js';
import { OrderedDict } from '../src/python/stdlib.js';
import { Parameter, QuantizedTensor, SparseTensor, Tensor } from '../src/torch/tensor.js';
import { TorchScriptArchive } from '../src/containers/torch-archive.js';
import { describe } from './helpers/describe.js';
import { tensorDesc } from './helpers/describe-torch.js';
import { FIXTURES_DIR, fixturesOf, readFixtureBytes, readMeta } from './helpers/fixtures.js';

const entries = fixturesOf('torch');

function fileOf(name: string): string {
  const e = entries.find((x) => x.name === name);
  if (!e) throw new Error(`no fixture ${name}`);
  return (e.files[0] as { path: string }).path;
}

suite('torch fixtures decode to what torch.load returns', () => {
  it('has fixtures', () => expect(entries.length).toBeGreaterThan(20));
  for (const entry of entries) {
    const meta = readMeta(entry);
    if (meta.desc === null || meta['torchscript'] || meta['error']) continue;
    const path = (entry.files[0] as { path: string }).path;
    it(`${entry.name} (loads, lossless)`, () => {
      expect(describe(loads(readFixtureBytes(path), { lossless: true }))).toEqual(meta.desc);
    });
    it(`${entry.name} (load from the file)`, async () => {
      expect(describe(await load(join(FIXTURES_DIR, path), { lossless: true }))).toEqual(meta.desc);
    });
  }
});

suite('refusals say what the file is', () => {
  for (const entry of entries) {
    const meta = readMeta(entry);
    if (typeof meta['error'] !== 'string') continue;
    it(entry.name, () => {
      const bytes = readFixtureBytes((entry.files[0] as { path: string }).path);
      let err: unknown;
      try {
        loads(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnpicklingError);
      expect((err as Error).message).toContain(meta['error'] as string);
      expect(['wrong-format', 'unsupported']).toContain((err as UnpicklingError).code);
    });
  }
});

suite('sharing and structure', () => {
  it('tied weights and views share one Storage object', () => {
    for (const name of ['tied_state_dict', 'views']) {
      const meta = readMeta(entries.find((e) => e.name === name)!);
      const v = loads(readFixtureBytes(fileOf(name))) as Map<string, Tensor> | Record<string, Tensor>;
      const get = (k: string): Tensor => (v instanceof Map ? v.get(k) : v[k]) as Tensor;
      const groups = meta['shared'] as string[][];
      expect(groups.length).toBeGreaterThan(0);
      for (const g of groups) for (const k of g) expect(get(k).storage).toBe(get(g[0] as string).storage);
    }
  });

  it('contiguous float32 data is a view of the archive bytes (no copy)', () => {
    const bytes = readFixtureBytes(fileOf('views'));
    const v = loads(bytes) as Record<string, Tensor>;
    const rows = v['rows'] as Tensor;
    expect(rows.data.buffer).toBe(bytes.buffer);
    expect([...(rows.data as Float32Array)]).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect((v['T'] as Tensor).get(5, 3)).toBe(23);
    expect((v['expand'] as Tensor).toNested()).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
  });

  it('state dicts keep _metadata; parameters are Parameters', () => {
    const sd = loads(readFixtureBytes(fileOf('tied_state_dict'))) as OrderedDict;
    expect(sd).toBeInstanceOf(OrderedDict);
    const state = sd.__state__ as Record<string, unknown>;
    expect(state['_metadata']).toBeInstanceOf(OrderedDict);
    const p = loads(readFixtureBytes(fileOf('parameters'))) as Record<string, Tensor>;
    expect(p['p']).toBeInstanceOf(Parameter);
    expect(p['p']!.requiresGrad).toBe(true);
    expect(p['frozen']!.requiresGrad).toBe(false);
  });

  it('whole-model pickles stay inert objects with reachable tensors', () => {
    const m = loads(readFixtureBytes(fileOf('whole_model'))) as PyObject;
    expect(m).toBeInstanceOf(PyObject);
    expect(m.__qualname__).toMatch(/TinyNet$/);
    const modules = m['_modules'] as Map<string, PyObject>;
    const fc = modules.get('fc') as PyObject;
    const emb = modules.get('emb') as PyObject;
    const w = (fc['_parameters'] as Map<string, Tensor>).get('weight') as Tensor;
    expect(w).toBeInstanceOf(Parameter);
    expect(w.storage).toBe(((emb['_parameters'] as Map<string, Tensor>).get('weight') as Tensor).storage);
  });

  it('quantized tensors dequantize; sparse tensors densify', () => {
    const q = loads(readFixtureBytes(fileOf('quantized'))) as Record<string, QuantizedTensor>;
    expect(q['qint8']).toBeInstanceOf(QuantizedTensor);
    expect(q['per_channel']!.qscheme).toBe('per_channel_affine');
    const s = loads(readFixtureBytes(fileOf('sparse'))) as Record<string, SparseTensor>;
    expect(s['coo']!.toNested()).toEqual([
      [0, 0, 3],
      [4, 0, 5],
    ]);
  });

  it('TorchScript: the module object with parameters as attributes, and the constants', () => {
    for (const name of ['torchscript_scripted', 'torchscript_traced']) {
      const meta = readMeta(entries.find((e) => e.name === name)!);
      const a = loads(readFixtureBytes(fileOf(name)), { lossless: true }) as TorchScriptArchive;
      expect(a).toBeInstanceOf(TorchScriptArchive);
      const mod = a.module as PyObject;
      expect(mod.__qualname__).toContain(meta['cls'] as string);
      for (const [path, want] of Object.entries(meta['state'] as Record<string, unknown>)) {
        let cur: unknown = mod;
        for (const part of path.split('.')) cur = (cur as Record<string, unknown>)[part];
        expect(tensorDesc(cur as Tensor), path).toEqual(want);
      }
      expect(describe(a.constants)).toEqual(meta['constants']);
    }
  });
});
