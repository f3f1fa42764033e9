// The CLI on torch files, .npz and safetensors: `show`, `dis`, `scan`, `json` and `convert`, run in
// this process from the sources (no spawn), checked against what torch, numpy and pickletools give
// for the same files; converted files are loaded back by Python (one Python run checks them all).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execute, plan } from '../src/cli/run.js';
import { makeStyle } from '../src/cli/style.js';
import { load, loads } from '../src/load.js';
import { Tensor } from '../src/torch/tensor.js';
import type { NDArray } from '../src/numpy/ndarray.js';
import { dumpsNpz } from '../src/containers/npz.js';
import { dumpsSafetensors } from '../src/containers/safetensors.js';
import { torchToSafetensors } from '../src/containers/convert.js';
import { ndarrayToTensor, tensorToNDArray } from '../src/containers/convert.js';
import { convertTensorFile } from '../src/containers/convert-file.js';
import { ZipReader } from '../src/containers/zip.js';
import { describeWithPython, runPython } from './helpers/python.js';

const FIX = path.resolve('fixtures');
const T = (name: string): string => path.join(FIX, 'torch', name);
let TMP = '';

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string[] }> {
  const p = plan(argv);
  if (p.kind !== 'run') return { code: 0, stdout: p.text, stderr: [] };
  const out: string[] = [];
  const stderr: string[] = [];
  const code = await execute(p, {
    out: (c) => void out.push(typeof c === 'string' ? c : Buffer.from(c).toString('latin1')),
    err: (l) => void stderr.push(l),
    status: () => undefined,
    stdin: async () => new Uint8Array(0),
    stdoutIsTTY: false,
    columns: undefined,
    style: makeStyle(false),
    debug: false,
  }).catch(async (e: unknown) => {
    const { errorReport } = await import('../src/cli/report.js');
    const r = errorReport(e, false);
    stderr.push(r.message);
    return r.code;
  });
  return { code, stdout: out.join(''), stderr };
}

/** The summary (first line, continued on indented lines after a trailing separator) and the tree lines. */
function splitShow(stdout: string): { head: string; tree: string[] } {
  const lines = stdout.split('\n');
  let i = 1;
  while (i < lines.length && /[:;,]$/.test(lines[i - 1] as string)) i++;
  return {
    head: lines
      .slice(0, i)
      .join(' ')
      .replace(/([:;,]) +/g, '$1 '),
    tree: lines.slice(i),
  };
}

/** What Python says about the fixtures and the files it writes for the tests. */
interface PyFacts {
  totals: Record<
    string,
    { tensors: number; storages: number; parameters: number; bytes: Record<string, number> }
  >;
  shapes: Record<string, Record<string, number[]>>;
  previews: Record<string, string>;
  quant: { scale: string; zero_point: number };
  dis: Record<string, string>;
  lists: Record<string, unknown>;
}
let py: PyFacts;

const FACTS = String.raw`
import io, json, sys, struct, zipfile, pickletools, collections, torch, numpy as np, joblib
F, tmp = sys.argv[1], sys.argv[2]
def totals(sd):
    ts = [v for v in sd.values() if torch.is_tensor(v)]
    views, stor, by = set(), {}, collections.Counter()
    for t in ts:
        s = t.storage()
        key = (s.data_ptr(), t.dtype, t.storage_offset(), tuple(t.shape), t.stride())
        views.add((key, t.numel()))
        if s.data_ptr() not in stor:
            stor[s.data_ptr()] = 1
            by[str(t.dtype).replace('torch.', '')] += s.nbytes()
    ids = {id(t) for t in ts}
    return {'tensors': len(ids), 'storages': len(stor), 'parameters': sum(n for _, n in views), 'bytes': dict(by)}
out = {'totals': {}, 'shapes': {}, 'dis': {}, 'lists': {}}
for name in ['tied_state_dict', 'views', 'all_dtypes']:
    sd = torch.load(F + '/torch/' + name + '.pt')
    out['totals'][name] = totals(sd)
    out['shapes'][name] = {k: list(v.shape) for k, v in sd.items()}
tied = torch.load(F + '/torch/tied_state_dict.pt')
out['previews'] = {'fc.bias': '[' + ', '.join('%.6g' % x for x in tied['fc.bias'].tolist()) + ']'}
q = torch.load(F + '/torch/quantized.pt')['qint8']
out['quant'] = {'scale': repr(q.q_scale()), 'zero_point': q.q_zero_point()}
out['lists'] = {k: v.tolist() for k, v in tied.items()}
# pickletools listings: each .pkl entry of an archive, each pickle of a legacy file (one open file)
for name in ['tied_state_dict', 'torchscript_traced']:
    z = zipfile.ZipFile(F + '/torch/' + name + '.pt'); s = io.StringIO()
    for n in z.namelist():
        if n.endswith('.pkl'):
            s.write('--- %s ---\n' % n); pickletools.dis(z.read(n), s)
    out['dis'][name] = s.getvalue()
titles = ['magic number', 'protocol version', 'sys_info', 'the saved object', 'storage keys']
for name in ['legacy_p2', 'legacy_model']:
    f = open(F + '/torch/' + name + '.pt', 'rb'); s = io.StringIO()
    for t in titles:
        s.write('--- %s (byte %d) ---\n' % (t, f.tell())); pickletools.dis(f, s)
    out['dis'][name] = s.getvalue()
# a safetensors file as the reference layout has it (json + struct: the safetensors package is not installed)
def write_st(path, tensors, meta):
    head, blobs, at = {'__metadata__': meta}, [], 0
    for k, t in tensors.items():
        b = t.contiguous().numpy().tobytes() if t.dtype != torch.bfloat16 else t.contiguous().view(torch.int16).numpy().tobytes()
        head[k] = {'dtype': {torch.float32: 'F32', torch.int64: 'I64', torch.bfloat16: 'BF16', torch.float16: 'F16'}[t.dtype], 'shape': list(t.shape), 'data_offsets': [at, at + len(b)]}
        blobs.append(b); at += len(b)
    h = json.dumps(head).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
torch.manual_seed(1)
st = {'w': torch.randn(3, 4), 'b16': torch.randn(5).to(torch.bfloat16), 'steps': torch.tensor([7, -8])}
write_st(tmp + '/py.safetensors', st, {'format': 'pt', 'tied': 'w'})
torch.save(st, tmp + '/py_st.pt')
joblib.dump({'x': np.arange(6, dtype='<f4').reshape(2, 3), 'y': np.array([1, 2], dtype='>i8')}, tmp + '/arrays.joblib')
joblib.dump({'x': np.arange(3.0), 'label': 'not an array'}, tmp + '/mixed.joblib')
rng = np.random.default_rng(0)
np.savez_compressed(tmp + '/num.npz', f8=rng.standard_normal((3, 4)), fortran=np.asfortranarray(rng.standard_normal((2, 3)).astype('<f4')),
                    big=np.arange(5, dtype='>i2'), b1=np.array([True, False]), c8=np.array([1 + 2j, -3j], dtype='<c8'),
                    u1=np.arange(4, dtype='u1'), f2=np.array([0.5, -2], dtype='<f2'), empty=np.zeros((0, 3), '<f4'), scalar=np.float64(2.5))
print(json.dumps(out))
`;

beforeAll(async () => {
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'picklejar-cli-torch-'));
}, 60_000);
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

describeWithPython('the CLI on tensor files', () => {
  beforeAll(async () => {
    py = JSON.parse((await runPython(FACTS, [FIX, TMP])).stdout) as PyFacts;
  }, 120_000);

  it('show: a state dict with per-tensor lines, tied weights and totals as torch counts them', async () => {
    const r = await run(['show', T('tied_state_dict.pt')]);
    expect(r.code).toBe(0);
    const { head, tree } = splitShow(r.stdout);
    const t = py.totals['tied_state_dict'] as PyFacts['totals'][string];
    expect(head).toContain('torch.save zip archive');
    expect(head).toContain('no byteorder entry (torch 1.6–2.0)');
    expect(head).toContain(`${t.tensors} tensors in ${t.storages} storages, ${t.parameters} parameters`);
    expect(head).toContain(`float32 ${t.bytes['float32']} bytes, int64 ${t.bytes['int64']} bytes`);
    const shapes = py.shapes['tied_state_dict'] as Record<string, number[]>;
    for (const [k, shape] of Object.entries(shapes)) {
      const line = tree.find((l) => l.startsWith(`  '${k}': `));
      const shapeText = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
      expect(line, k).toMatch(
        new RegExp(`^  '${k.replace(/\./g, '\\.')}': Tensor (float32|int64) \\${shapeText.slice(0, -1)}\\)`),
      );
    }
    expect(tree).toContain(`  'fc.bias': Tensor float32 (5,) ${py.previews['fc.bias']}`);
    expect(tree.find((l) => l.startsWith("  'fc.weight'"))).toContain("tied to 'emb.weight'");
    expect(tree.find((l) => l.startsWith("  'emb.weight'"))).toContain('storage shared by 2 tensors');

    const v = await run(['show', '--width', '0', T('views.pt')]);
    const tv = py.totals['views'] as PyFacts['totals'][string];
    expect(splitShow(v.stdout).head).toContain(
      `${tv.tensors} tensors in ${tv.storages} storages, ${tv.parameters} parameters`,
    );
    expect(v.stdout).toContain("'rows': Tensor float32 (2, 6) shares storage with 'base'");
  });

  it('show: parameters, quantized, sparse, meta, legacy, TorchScript, npz and safetensors files', async () => {
    const out = async (f: string): Promise<string> => (await run(['show', '--width', '0', f])).stdout;
    expect(await out(T('parameters.pt'))).toContain("'p': Parameter float32 (2,) requires_grad [1.0, 2.0]");
    const q = await out(T('quantized.pt'));
    expect(q).toContain(
      `'qint8': Tensor qint8 (2, 3) scale=${py.quant.scale} zero_point=${py.quant.zero_point}`,
    );
    expect(q).toContain("'per_channel': Tensor qint8 (2, 3) per-channel axis=0 (2 scales)");
    expect(await out(T('sparse.pt'))).toContain(
      "'csr': Tensor sparse_csr float32 (2, 3) nnz=3 values [1.5, 2.0, -1.0]",
    );
    const meta = await out(T('meta.pt'));
    expect(meta).toContain("'m': Tensor float32 (2, 3) meta (no data)");
    expect(meta.split('\n')[0]).toContain('1 without data');
    const legacy = await out(T('legacy_model.pt'));
    expect(legacy.split('\n')[0]).toContain('legacy torch file (pre-1.6 layout)');
    expect(legacy).toContain("'weight': Parameter float32 (5, 3) requires_grad");
    const ts = await out(T('torchscript_traced.pt'));
    expect(ts.split('\n')[0]).toContain('TorchScript archive (torch.jit.save)');
    expect(ts).toContain('constants: tuple (1 item)');
    expect((await out(T('handmade_big_endian.pt'))).split('\n')[0]).toContain('byteorder big (torch ≥ 2.1)');
    const npz = await out(path.join(FIX, 'npz', 'savez_compressed.npz'));
    expect(npz.split('\n')[0]).toContain('.npz archive (np.savez_compressed)');
    expect(npz).toContain("'f4': ndarray float32 (4,) [1.5, 0.0, inf, nan]");
    const st = await out(path.join(TMP, 'py.safetensors'));
    expect(st.split('\n')[0]).toContain('safetensors file');
    expect(st.split('\n')[0]).toContain('3 tensors in 3 storages, 19 parameters');
    expect(st).toContain("'b16': Tensor bfloat16 (5,)");
    expect(st).toContain("'tied': 'w'");
  });

  it('dis: every pickle of an archive or legacy file, as pickletools lists it, under a heading', async () => {
    for (const name of ['tied_state_dict', 'torchscript_traced', 'legacy_p2', 'legacy_model']) {
      const r = await run(['dis', T(`${name}.pt`)]);
      expect(r.code, name).toBe(0);
      const want = py.dis[name] as string;
      expect(r.stdout.slice(0, want.length), name).toBe(want);
      expect(r.stdout.slice(want.length), name).toMatch(
        /^--- (\d+ storage entr|\d+ raw storage)[^\n]*---\n$/,
      );
    }
    const npz = await run(['dis', path.join(FIX, 'npz', 'object_array.npz')]);
    expect(npz.stdout).toMatch(
      /^--- obj\.npy: object array \(3,\), its pickle \(offsets from byte \d+\) ---\n {4}0: \\x80 PROTO/,
    );
    const st = await run(['dis', path.join(TMP, 'py.safetensors')]);
    expect(st.code).toBe(3);
    expect(st.stderr.join('\n')).toMatch(/is a safetensors file/);
  });

  it('scan: globals grouped by the entry they are in', async () => {
    const r = await run(['scan', T('torchscript_traced.pt'), T('legacy_model.pt')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('  archive/data.pkl');
    expect(lines).toContain('  archive/constants.pkl');
    expect(lines).toContain('  legacy:object');
    expect(lines[0]).toMatch(/2 pickles, zip archive$/);
    expect(r.stdout).toMatch(/legacy_model\.pt: ok — \d+ globals .*legacy torch file/);
    const st = await run(['scan', path.join(TMP, 'py.safetensors')]);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/py\.safetensors: ok — no globals; safetensors file, no pickle inside\n$/);
  });

  it('json: tensors as their values with dtype and shape; --array-items cuts them', async () => {
    const r = await run(['json', T('tied_state_dict.pt')]);
    const v = JSON.parse(r.stdout) as Record<
      string,
      { $tensor: { dtype: string; shape: number[]; data: unknown } }
    >;
    for (const [k, want] of Object.entries(py.lists)) {
      expect(v[k]?.$tensor.data, k).toEqual(want);
      expect(v[k]?.$tensor.shape, k).toEqual(py.shapes['tied_state_dict']?.[k]);
    }
    expect(v['norm.num_batches_tracked']?.$tensor.dtype).toBe('int64');
    const cut = JSON.parse(
      (await run(['json', '--array-items', '2', T('tied_state_dict.pt')])).stdout,
    ) as Record<string, { $tensor: { truncated?: boolean; head?: unknown } }>;
    expect(cut['fc.bias']?.$tensor).toMatchObject({
      truncated: true,
      head: (py.lists['fc.bias'] as number[]).slice(0, 2),
    });
    const st = JSON.parse((await run(['json', path.join(TMP, 'py.safetensors')])).stdout) as {
      tensors: Record<string, { $tensor: { data: unknown } }>;
      metadata: unknown;
    };
    expect(st.tensors['steps']?.$tensor.data).toEqual([7, -8]);
    expect(st.metadata).toEqual({ format: 'pt', tied: 'w' });
  });

  it('loads and load dispatch safetensors files by their header', async () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(TMP, 'py.safetensors')));
    for (const v of [loads(bytes), await load(path.join(TMP, 'py.safetensors'))]) {
      const st = v as { tensors: Map<string, Tensor>; metadata: unknown };
      expect([...st.tensors.keys()]).toEqual(['w', 'b16', 'steps']);
      expect(st.tensors.get('steps')?.toNested()).toEqual([7n, -8n]);
      expect(st.metadata).toEqual({ format: 'pt', tied: 'w' });
    }
  });

  it('convert between pt, safetensors and npz (and joblib → npz); Python loads every output equal', async () => {
    const o = (name: string): string => path.join(TMP, name);
    const jobs: [string, string][] = [
      [T('tied_state_dict.pt'), o('tied.safetensors')],
      [T('views.pt'), o('views.safetensors')],
      [T('checkpoint_numpy.pt'), o('ckpt.safetensors')],
      [T('handmade_big_endian.pt'), o('big_endian.pt')],
      [T('legacy_p2.pt'), o('legacy.pt')],
      [o('tied.safetensors'), o('tied_back.pt')],
      [o('py.safetensors'), o('py_back.pt')],
      [T('views.pt'), o('views.npz')],
      [o('views.npz'), o('views_back.pt')],
      [o('num.npz'), o('num.safetensors')],
      [o('num.npz'), o('num.pt')],
      [o('tied.safetensors'), o('tied.npz')],
      [o('arrays.joblib'), o('arrays.npz')],
      [o('arrays.joblib'), o('arrays.safetensors')],
      [T('quantized.pt'), o('quantized_copy.pt')],
    ];
    for (const [a, b] of jobs) {
      const r = await run(['convert', a, b]);
      expect(r.stderr, `${a} -> ${b}`).toEqual([]);
      expect(r.code, `${a} -> ${b}`).toBe(0);
    }
    const code = String.raw`
import json, sys, struct, torch, numpy as np, joblib
F, tmp = sys.argv[1], sys.argv[2]
def st_load(path):
    data = open(path, 'rb').read(); n, = struct.unpack('<Q', data[:8]); head = json.loads(data[8:8 + n]); body = data[8 + n:]
    meta = head.pop('__metadata__', None); out = {}
    offs = sorted(v['data_offsets'] for v in head.values())
    assert n % 8 == 0 and offs[0][0] == 0 and all(a[1] == b[0] for a, b in zip(offs, offs[1:])) and offs[-1][1] == len(body)
    for k, v in head.items():
        a, b = v['data_offsets']
        if v['dtype'] == 'BF16': t = torch.frombuffer(bytearray(body[a:b]), dtype=torch.bfloat16)
        else: t = torch.from_numpy(np.frombuffer(body[a:b], dtype={'F32': '<f4', 'F64': '<f8', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2', 'I8': 'i1', 'U8': 'u1', 'BOOL': '?', 'C64': '<c8'}[v['dtype']]).copy())
        out[k] = t.reshape(v['shape'])
    return out, meta
def same(a, b): return torch.equal(torch.as_tensor(np.asarray(a)) if not torch.is_tensor(a) else a.detach(), torch.as_tensor(np.asarray(b)) if not torch.is_tensor(b) else b.detach())
res = {}
tied = torch.load(F + '/torch/tied_state_dict.pt')
st, meta = st_load(tmp + '/tied.safetensors')
res['tied.safetensors'] = meta == {'format': 'pt', 'fc.weight': 'emb.weight'} and set(st) == set(tied) - {'fc.weight'} and all(same(st[k], tied[k]) for k in st)
views = torch.load(F + '/torch/views.pt')
st, meta = st_load(tmp + '/views.safetensors')
res['views.safetensors'] = meta == {'format': 'pt'} and set(st) == set(views) and all(same(st[k], views[k]) for k in st)
ck = torch.load(F + '/torch/checkpoint_numpy.pt')['state_dict']
st, meta = st_load(tmp + '/ckpt.safetensors')
res['ckpt.safetensors'] = set(st) == set(ck) and all(same(st[k], ck[k]) for k in st)
ad, be = torch.load(F + '/torch/all_dtypes.pt'), torch.load(tmp + '/big_endian.pt', weights_only=True)
res['big_endian.pt'] = set(be) == set(ad) and all(torch.equal(be[k], ad[k]) or (be[k].is_floating_point() and torch.equal(be[k].isnan(), ad[k].isnan()) and torch.equal(be[k].nan_to_num(), ad[k].nan_to_num())) or (be[k].is_complex() and torch.equal(torch.view_as_real(be[k]).nan_to_num(), torch.view_as_real(ad[k]).nan_to_num())) for k in ad)
lg = torch.load(F + '/torch/legacy_p2.pt')
lb = torch.load(tmp + '/legacy.pt', weights_only=True)
res['legacy.pt'] = set(lb) == set(lg) and lb['n'] == 5 and all(same(lb[k], lg[k]) for k in lg if torch.is_tensor(lg[k]))
back = torch.load(tmp + '/tied_back.pt', weights_only=True)
res['tied_back.pt'] = list(back) == sorted(tied) or set(back) == set(tied)
res['tied_back.pt'] = res['tied_back.pt'] and all(same(back[k], tied[k]) for k in tied) and back['fc.weight'].data_ptr() == back['emb.weight'].data_ptr()
pst = torch.load(tmp + '/py_st.pt')
pb = torch.load(tmp + '/py_back.pt', weights_only=True)
res['py_back.pt'] = all(same(pb[k], pst[k]) and pb[k].dtype == pst[k].dtype for k in pst) and same(pb['tied'], pst['w'])
z = np.load(tmp + '/views.npz')
res['views.npz'] = set(z.files) == set(views) and all(np.array_equal(z[k], views[k].numpy()) for k in views)
vb = torch.load(tmp + '/views_back.pt', weights_only=True)
res['views_back.pt'] = all(same(vb[k], views[k]) for k in views)
num = np.load(tmp + '/num.npz')
st, meta = st_load(tmp + '/num.safetensors')
res['num.safetensors'] = set(st) == set(num.files) and all(np.array_equal(st[k].numpy(), num[k]) and st[k].numpy().dtype == num[k].dtype.newbyteorder('<') for k in num.files)
npt = torch.load(tmp + '/num.pt', weights_only=True)
res['num.pt'] = set(npt) == set(num.files) and all(np.array_equal(npt[k].numpy(), num[k]) and tuple(npt[k].shape) == num[k].shape for k in num.files)
z = np.load(tmp + '/tied.npz')
res['tied.npz'] = set(z.files) == set(tied) and all(np.array_equal(z[k], tied[k].numpy()) for k in z.files)
arr = joblib.load(tmp + '/arrays.joblib')
z = np.load(tmp + '/arrays.npz')
res['arrays.npz'] = all(np.array_equal(z[k], arr[k]) for k in arr) and set(z.files) == set(arr)
st, meta = st_load(tmp + '/arrays.safetensors')
res['arrays.safetensors'] = all(np.array_equal(st[k].numpy(), arr[k]) for k in arr)
qa, qb = torch.load(F + '/torch/quantized.pt'), torch.load(tmp + '/quantized_copy.pt')
res['quantized_copy.pt'] = all(torch.equal(qa[k].int_repr(), qb[k].int_repr()) and qa[k].qscheme() == qb[k].qscheme() for k in qa)
print(json.dumps(res))`;
    // savez.npz holds complex128, strings, records: refused (naming the array), no output left behind.
    const refused = await run(['convert', path.join(FIX, 'npz', 'savez.npz'), o('savez.safetensors')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(
      /a complex128 tensor: safetensors has no such dtype \(at root\['c16'\]\)/,
    );
    expect(fs.existsSync(o('savez.safetensors'))).toBe(false);
    const res = JSON.parse((await runPython(code, [FIX, TMP])).stdout) as Record<string, boolean>;
    expect(res).toEqual(Object.fromEntries(Object.keys(res).map((k) => [k, true])));
    expect(Object.keys(res)).toHaveLength(15);
  });

  it('convert: --to names the format, --compress zlib deflates .npz entries, - writes stdout', async () => {
    const npz = path.join(TMP, 'views.deflated');
    expect((await run(['convert', T('views.pt'), npz, '--to', 'npz', '--compress', 'zlib'])).code).toBe(0);
    const zip = ZipReader.open(new Uint8Array(fs.readFileSync(npz)));
    expect(new Set(zip.entries.map((e) => e.method))).toEqual(new Set([8]));
    const viaStdout = await run(['convert', T('tied_state_dict.pt'), '-', '--to', 'safetensors']);
    expect(viaStdout.code).toBe(0);
    const st = loads(new Uint8Array(Buffer.from(viaStdout.stdout, 'latin1'))) as { metadata: unknown };
    expect(st.metadata).toEqual({ format: 'pt', 'fc.weight': 'emb.weight' });
    const views = loads(new Uint8Array(fs.readFileSync(T('views.pt')))) as Record<string, Tensor>;
    const back = loads(new Uint8Array(fs.readFileSync(npz))) as Map<string, NDArray>;
    for (const [k, t] of Object.entries(views)) expect(back.get(k)?.toNested(), k).toEqual(t.toNested());
  });

  it("the README's library examples do what they say", async () => {
    const sd = (await load(T('tied_state_dict.pt'))) as Map<string, Tensor>;
    const w = sd.get('fc.weight') as Tensor;
    expect([w.dtype, w.shape, w.stride, w.storageOffset, w.requiresGrad]).toEqual([
      'float32',
      [5, 3],
      [3, 1],
      0,
      false,
    ]);
    expect(w.toNested()).toEqual(py.lists['fc.weight']);
    expect(w.get(0, 2)).toBe((py.lists['fc.weight'] as number[][])[0]?.[2]);
    expect(w.data).toBeInstanceOf(Float32Array);
    const t = Tensor.fromTypedArray(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const { tensors, metadata } = torchToSafetensors(sd);
    expect(metadata).toEqual({ format: 'pt', 'fc.weight': 'emb.weight' });
    const back = loads(dumpsSafetensors(tensors, metadata)) as { tensors: Map<string, Tensor> };
    expect(back.tensors.get('emb.weight')?.toNested()).toEqual(py.lists['emb.weight']);
    const npz = loads(dumpsNpz({ weight: tensorToNDArray(t) })) as Map<string, NDArray>;
    expect(ndarrayToTensor(npz.get('weight') as NDArray).toNested()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const out = path.join(TMP, 'readme.safetensors');
    convertTensorFile(T('tied_state_dict.pt'), out, 'safetensors');
    expect((loads(new Uint8Array(fs.readFileSync(out))) as { metadata: unknown }).metadata).toEqual(metadata);
  });

  it('convert refuses what a format cannot hold, naming the path; nothing is written', async () => {
    const o = (name: string): string => path.join(TMP, 'refused', name);
    fs.mkdirSync(path.join(TMP, 'refused'), { recursive: true });
    const cases: [string, string, RegExp][] = [
      [
        T('whole_model.pt'),
        'm.safetensors',
        /a whole fixtures_torch\.TinyNet module, not a dict of tensors; save model\.state_dict\(\) instead \(at root\)/,
      ],
      [
        T('quantized.pt'),
        'q.safetensors',
        /a qint8 tensor: safetensors has no such dtype \(at root\['qint8'\]\)/,
      ],
      [T('sparse.pt'), 's.npz', /a sparse_coo tensor: only dense tensors convert \(at root\['coo'\]\)/],
      [T('meta.pt'), 'meta.safetensors', /a meta tensor, without data \(at root\['m'\]\)/],
      [T('all_dtypes.pt'), 'd.npz', /a bfloat16 tensor: numpy has no such dtype \(at root\['bfloat16'\]\)/],
      [T('torchscript_traced.pt'), 'ts.safetensors', /a TorchScript archive/],
      [path.join(TMP, 'mixed.joblib'), 'mixed.npz', /a str, not a tensor \(at root\['label'\]\)/],
      [
        T('tied_state_dict.pt'),
        'tied.pkl',
        /a torch tensor: pickle output cannot hold tensors here; convert to \.pt, \.safetensors or \.npz instead \(at root\['emb\.weight'\]\)/,
      ],
    ];
    for (const [input, out, message] of cases) {
      const r = await run(['convert', input, o(out)]);
      expect(r.code, out).toBe(1);
      expect(r.stderr.join('\n'), out).toMatch(message);
    }
    expect(fs.readdirSync(path.join(TMP, 'refused'))).toEqual([]);
    const usage = await run(['convert', T('views.pt'), o('x.safetensors'), '--compress', 'zlib']);
    expect(usage.code).toBe(2);
  });
});
