#!/usr/bin/env node
// `node bench/convert-tensors.mjs`: time and peak memory of `picklejar convert` between .pt,
// .safetensors and .npz on a generated state dict (BENCH_TENSOR_GB, default 1.5 GiB; written under
// /tmp, never committed), against Python doing the same conversion (torch.load, then the safetensors
// layout written with json + struct, as Hugging Face's converter lays it out: the safetensors package is
// not installed here). A harness: it prints a table and asserts nothing. Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from './lib/python.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = process.env.BENCH_TENSOR_DIR ?? '/tmp/picklejar-bench-tensors';
const GB = Number(process.env.BENCH_TENSOR_GB ?? '1.5');
const python = findPython().path;
if (!python) {
  console.error('no Python with torch found (set PYTHON)');
  process.exit(1);
}
mkdirSync(DIR, { recursive: true });
const big = join(DIR, 'big.pt');

const GEN = `
import torch, collections, sys
torch.manual_seed(0)
target = int(float(sys.argv[2]) * 2**30)
sd = collections.OrderedDict()
emb = torch.randn(32000, 1024)            # the largest tensor: 125 MiB
sd['embed.weight'] = emb; total = emb.numel() * 4; i = 0
while total < target - 64 * 2**20:
    w = torch.randn(4096, 1024) if i % 2 == 0 else torch.randn(1024, 4096)
    sd[f'layers.{i}.w'] = w; sd[f'layers.{i}.b'] = torch.randn(w.shape[0])
    sd[f'layers.{i}.n'] = torch.ones(1024, dtype=torch.float16)
    sd[f'layers.{i}.steps'] = torch.tensor(i, dtype=torch.int64)
    total += w.numel() * 4; i += 1
sd['head.weight'] = emb                   # tied to embed.weight
torch.save(sd, sys.argv[1])
`;

/** Python doing each conversion, reporting its own peak RSS (KiB) and time. */
const PY = `
import json, resource, struct, sys, time, torch, numpy as np
how, src, dst = sys.argv[1:4]
t = time.time()
if how == 'load':
    sd = torch.load(src, map_location='cpu')
elif how == 'pt2st':
    sd = torch.load(src, map_location='cpu')
    seen, head, blobs, at, meta = {}, {}, [], 0, {'format': 'pt'}
    for k in sorted(sd):
        v = sd[k]; key = (v.storage().data_ptr(), v.storage_offset(), tuple(v.shape), v.stride())
        if key in seen: meta[k] = seen[key]; continue
        seen[key] = k
    names = sorted((k for k in sd if k not in meta or k == 'format'), key=lambda k: (-sd[k].element_size(), k))
    for k in names:
        b = sd[k].contiguous().numpy().tobytes()
        head[k] = {'dtype': {torch.float32: 'F32', torch.float16: 'F16', torch.int64: 'I64'}[sd[k].dtype], 'shape': list(sd[k].shape), 'data_offsets': [at, at + len(b)]}
        blobs.append(b); at += len(b)
    h = json.dumps({'__metadata__': meta, **head}).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
    with open(dst, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h)
        for b in blobs: f.write(b)
elif how == 'st2pt':
    data = np.memmap(src, dtype=np.uint8, mode='r')
    n = int(np.frombuffer(data[:8], '<u8')[0]); head = json.loads(bytes(data[8:8 + n])); head.pop('__metadata__', None)
    dt = {'F32': '<f4', 'F16': '<f2', 'I64': '<i8'}
    sd = {k: torch.from_numpy(np.array(data[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]].view(dt[v['dtype']]).reshape(v['shape']))) for k, v in head.items()}
    torch.save(sd, dst)
print(json.dumps({'s': time.time() - t, 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
`;

/** Node running the CLI in a child; peak RSS from its resource usage. */
const CHILD = `
import { main } from ${JSON.stringify(join(ROOT, 'dist', 'cli', 'main.js'))};
const t = performance.now();
const code = await main(process.argv.slice(1), { ...process.env });
console.log(JSON.stringify({ s: (performance.now() - t) / 1000, rss_kib: process.resourceUsage().maxRSS, code }));
`;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

if (!existsSync(big)) {
  console.log(`generating ${big} (${GB} GiB)…`);
  const r = spawnSync(python, ['-c', GEN, big, String(GB)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const size = (f) => statSync(f).size;
const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const rows = [];
const node = (args) =>
  run(process.execPath, ['--input-type=module', '-e', CHILD, '--', 'convert', '--no-progress', ...args]);
const cases = [
  ['pt → safetensors', 'pt2st', big, join(DIR, 'out.safetensors'), join(DIR, 'py.safetensors')],
  ['safetensors → pt', 'st2pt', join(DIR, 'out.safetensors'), join(DIR, 'back.pt'), join(DIR, 'py_back.pt')],
  ['pt → npz', undefined, big, join(DIR, 'out.npz'), undefined],
];
for (const [name, how, src, dst, pyDst] of cases) {
  const js = node([src, dst]);
  const p = how ? run(python, ['-c', PY, how, src, pyDst]) : undefined;
  rows.push({
    name,
    input: mib(size(src)),
    js: `${js.s.toFixed(1)} s, ${mib(js.rss_kib * 1024)}`,
    py: p ? `${p.s.toFixed(1)} s, ${mib(p.rss_kib * 1024)}` : '—',
  });
}
const load = run(python, ['-c', PY, 'load', big, '']);
rows.push({
  name: 'torch.load alone',
  input: mib(size(big)),
  js: '—',
  py: `${load.s.toFixed(1)} s, ${mib(load.rss_kib * 1024)}`,
});
console.log(
  '| conversion | input | picklejar (time, peak RSS) | Python torch.load + write (time, peak RSS) |',
);
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.input} | ${r.js} | ${r.py} |`);
if (process.env.BENCH_KEEP !== '1')
  for (const f of ['out.safetensors', 'py.safetensors', 'back.pt', 'py_back.pt', 'out.npz'])
    rmSync(join(DIR, f), { force: true });
