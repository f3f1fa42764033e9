/**
 * scan inside containers: every pickle of a torch.save / TorchScript zip, an .npz's object arrays and
 * a legacy torch file is scanned; what loads refuses there, scan flags, naming the entry.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loads, scan, UnpicklingError } from '../src/index.js';
import type { ByteSource } from '../src/bytes/source.js';
import { FileSource } from '../src/containers/file-source.js';
import { scanSource } from '../src/tools/scan/index.js';
import { loadIndex, readFixtureBytes } from './helpers/fixtures.js';
import { describeWithPython, runPython } from './helpers/python.js';

describe('scan of torch and npz fixtures', () => {
  const entries = loadIndex().filter((e) => e.family === 'torch' || e.family === 'npz');
  it('has the fixtures', () => {
    expect(entries.length).toBeGreaterThan(20);
  });
  it('grades no fixture dangerous, and scans every pickle of each archive', () => {
    const flagged: string[] = [];
    let archives = 0;
    for (const e of entries) {
      for (const f of e.files) {
        if (f.kind !== 'torch' && f.kind !== 'npz') continue;
        const bytes = readFixtureBytes(f.path);
        let loadsRefused = false;
        try {
          loads(bytes);
        } catch (err) {
          loadsRefused = err instanceof UnpicklingError && err.code === 'dangerous-global';
        }
        const r = scan(bytes);
        if (r.dangerous || loadsRefused)
          flagged.push(`${f.path}: scan ${r.dangerous}, loads refused ${loadsRefused}`);
        if (r.container !== undefined) {
          archives++;
          for (const g of r.globals) expect(g.entry, f.path).toBeDefined();
        }
      }
    }
    expect(flagged).toEqual([]);
    expect(archives).toBeGreaterThan(20);
  });
});

describeWithPython('scan of hostile archives made by real torch (live)', () => {
  it('a torch.save archive or legacy file whose pickle calls os.system: loads refuses, scan flags the entry', async () => {
    const code = `
import io, json, os, torch
class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))
out = {}
for name, kw in (('zip', {}), ('legacy', {'_use_new_zipfile_serialization': False})):
    b = io.BytesIO()
    torch.save({'weights': torch.arange(3.0), 'payload': Evil()}, b, **kw)
    out[name] = b.getvalue().hex()
print(json.dumps(out))`;
    const files = JSON.parse((await runPython(code)).stdout) as Record<string, string>;
    for (const [kind, hex] of Object.entries(files)) {
      const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
      let err: unknown;
      try {
        loads(bytes);
      } catch (e) {
        err = e;
      }
      expect((err as UnpicklingError)?.code, kind).toBe('dangerous-global');
      const r = scan(bytes);
      expect(r.dangerous, kind).toBe(true);
      const bad = r.globals.find((g) => g.severity === 'dangerous');
      expect(bad?.name, kind).toBe('system');
      expect(bad?.entry, kind).toMatch(kind === 'zip' ? /\/data\.pkl$/ : /^legacy:object$/);
    }
  });
});

describe('scan of compressed joblib streams', () => {
  it('a zstd-compressed stream is decompressed and scanned like the other compressors', () => {
    const bytes = readFixtureBytes('codecs/large.zstd1');
    const r = scan(bytes);
    expect(r.compression).toBe('zstd');
    expect(r.complete).toBe(true);
    expect(r.pickles).toBe(1);
    expect(r.dangerous).toBe(false);
    expect(r.globals.length).toBeGreaterThan(0);
  });
});

describeWithPython('scanSource of archives by position (live)', () => {
  it('reads the pickles of a torch file and the object arrays of an .npz, never tensor or numeric data', async () => {
    const code = `
import io, json, os, sys, numpy as np, torch
d = sys.argv[1]
class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))
torch.save({'big': torch.zeros(1_000_000), 'payload': Evil()}, d + '/m.pt')
np.savez(d + '/m.npz', big=np.zeros(1_000_000), objs=np.array([{'a': 1}, None], dtype=object))`;
    const dir = mkdtempSync(join(tmpdir(), 'picklejar-scan-'));
    try {
      await runPython(code, [dir]);
      for (const [file, dangerous, entry] of [
        ['m.pt', true, /\/data\.pkl$/],
        ['m.npz', false, /^objs\.npy$/],
      ] as const) {
        const path = join(dir, file);
        const src = FileSource.open(path);
        let read = 0;
        const counted: ByteSource = {
          size: src.size,
          inMemory: false,
          read: (o, n) => {
            read += n;
            return src.read(o, n);
          },
        };
        try {
          const r = scanSource(counted);
          expect(r, file).toEqual(scan(readFileSync(path)));
          expect(r.dangerous, file).toBe(dangerous);
          expect(r.globals.length, file).toBeGreaterThan(0);
          expect(
            r.globals.every((g) => entry.test(g.entry ?? '')),
            file,
          ).toBe(true);
        } finally {
          src.close();
        }
        // the 4 MB / 8 MB of zeros were stepped over
        expect(read, file).toBeLessThan(200_000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
