// The codecs behind joblib's containers (src/codecs): files made by Python's own modules (zlib, gzip,
// bz2, lzma, lz4.frame) and by the zstd CLI decode to the stream they hold; what JS writes is within
// 1.1x of Python's size at the same level, honours the level, and loads in joblib (live); caps and
// corrupt data are refused with their codes. Fixtures: scripts/fixtures_codecs.py.
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready, type CodecName } from '../src/codecs/index.js';
import { CODECS } from '../src/codecs/builtin.node.js';
import * as zlibBrowser from '../src/codecs/zlib.browser.js';
import * as lzmaBrowser from '../src/codecs/lzma.browser.js';
import { UnpicklingError, PicklingError, loads, load } from '../src/index.js';
import {
  ALL_COMPRESSORS,
  compressJoblib,
  decompressJoblib,
  detectJoblibCompression,
} from '../src/joblib/compress.js';
import { dumpsJoblib } from '../src/joblib/write.js';
import { dumpJoblib } from '../src/joblib/write-file.js';
import { readFixtureBytes } from './helpers/fixtures.js';
import { describeWithPython, runPython } from './helpers/python.js';
import { describe as describeValue } from './helpers/describe.js';

const payload = readFixtureBytes('joblib/large.p4.raw.joblib');
const pySizes = (
  JSON.parse(readFileSync(new URL('../fixtures/codecs/sizes.json', import.meta.url), 'utf8')) as {
    sizes: Record<string, number>;
  }
).sizes;
const NAMES: CodecName[] = ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4', 'zstd'];
const same = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.length),
    Buffer.from(b.buffer, b.byteOffset, b.length),
  ) === 0;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof UnpicklingError || e instanceof PicklingError) return e.code;
    throw e;
  }
  return undefined;
}

beforeAll(() => ready());

describe.each(NAMES)('%s', (name) => {
  const codec = CODECS[name];

  test('decodes what the reference (Python module / zstd CLI) wrote at levels 1 and 9', () => {
    for (const lv of [1, 9]) {
      const out = codec.decode(readFixtureBytes(`codecs/large.${name}${lv}`), 1 << 30);
      expect(same(out, payload), `level ${lv}`).toBe(true);
      expect(out.byteOffset % 16).toBe(0);
    }
  });

  test('round trip, size within 1.1x of the reference at levels 1, 3, 9, and the level honoured', () => {
    const sizes: Record<number, number> = {};
    for (const lv of [1, 3, 9]) {
      const c = codec.encode(payload, lv);
      sizes[lv] = c.length;
      expect(same(codec.decode(c, payload.length), payload), `level ${lv}`).toBe(true);
      expect(
        c.length,
        `level ${lv}: ${c.length} vs reference ${pySizes[`${name}${lv}`]}`,
      ).toBeLessThanOrEqual(1.1 * (pySizes[`${name}${lv}`] as number));
    }
    // Where the reference gets smaller from level 1 to 9, so must we (lzma's presets 7-9 only grow the
    // dictionary, which costs a few header bytes here; the reference gets larger there too).
    if ((pySizes[`${name}9`] as number) < 0.98 * (pySizes[`${name}1`] as number))
      expect(sizes[9]).toBeLessThan(sizes[1] as number);
  });

  test('output one byte over the cap is refused with code limit', () => {
    const c = codec.encode(payload, 3);
    expect(codeOf(() => codec.decode(c, payload.length - 1))).toBe('limit');
    expect(codec.decode(c, payload.length).length).toBe(payload.length);
  });

  test('corrupt and cut data are refused with code corrupt or truncated', () => {
    const c = codec.encode(payload, 3);
    expect(['corrupt', 'truncated']).toContain(
      codeOf(() => codec.decode(c.subarray(0, Math.floor(c.length / 2)), 1 << 30)),
    );
    const header = c.slice();
    header.fill(0xee, 3, 12);
    expect(['corrupt', 'truncated']).toContain(codeOf(() => codec.decode(header, 1 << 30)));
    for (const at of [Math.floor(c.length / 3), c.length - 6]) {
      const bad = c.slice();
      bad[at] = (bad[at] as number) ^ 0x55;
      const code = codeOf(() => codec.decode(bad, 1 << 30));
      // lz4 and zstd frames without a checked checksum may decode a flipped literal: never another error
      if (code !== undefined || (name !== 'lz4' && name !== 'zstd'))
        expect(['corrupt', 'truncated'], `flip at ${at}`).toContain(code);
    }
  });

  test('a level outside the codec range is refused', () => {
    expect(codeOf(() => codec.encode(payload, codec.levels[1] + 1))).toBe('invalid-value');
  });
});

describe('zstd', () => {
  test('a 64 MiB bomb from the CLI is refused at a 1 MiB cap (declared content size checked first)', () => {
    const bomb = readFixtureBytes('codecs/bomb64m.zstd');
    expect(codeOf(() => loads(bomb, { limits: { maxInputBytes: 1 << 20 } }))).toBe('limit');
  });

  test('a bomb without a declared size stops at the cap block by block', () => {
    // zstd --no-content-size style frame: strip the size by re-encoding through two frames is not
    // possible here, so build one by concatenating frames whose sizes each fit but together do not.
    const one = CODECS.zstd.encode(new Uint8Array(600 << 10), 19);
    const two = Buffer.concat([one, one]);
    expect(codeOf(() => CODECS.zstd.decode(two, 1 << 20))).toBe('limit');
    expect(CODECS.zstd.decode(two, 2 * (600 << 10)).length).toBe(2 * (600 << 10));
  });

  test('a frame declaring a window over 128 MiB is refused before allocating it', () => {
    const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00]); // window 2^41
    expect(codeOf(() => CODECS.zstd.decode(frame, 1 << 30))).toBe('corrupt');
  });

  test('detected by magic; loads and dumpJoblib(compress: [zstd, 3]) round trip; never chosen by extension', async () => {
    const c = compressJoblib(payload, 'zstd', 3);
    expect(detectJoblibCompression(c)).toBe('zstd');
    expect(same(decompressJoblib(c, 1 << 30) as Uint8Array, payload)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'pj-zstd-'));
    try {
      const value = loads(payload);
      await dumpJoblib(join(dir, 'm.joblib'), value, { compress: ['zstd', 3] });
      const written = readFileSync(join(dir, 'm.joblib'));
      expect(detectJoblibCompression(written)).toBe('zstd');
      expect(describeValue(await load(join(dir, 'm.joblib')))).toEqual(describeValue(value));
      expect(detectJoblibCompression(dumpsJoblib(value, { compress: 3 }))).toBe('zlib');
      expect(ALL_COMPRESSORS).toContain('zstd');
      // the reference decoder reads what we wrote
      const cli = spawnSync('zstd', ['-d', '-c', '-q'], { input: written });
      if (cli.status === 0)
        expect(describeValue(loads(new Uint8Array(cli.stdout)))).toEqual(describeValue(value));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('browser variants (run under Node)', () => {
  test('fflate zlib/gzip: decode Python files, round trip, sizes within 1.1x, cap', () => {
    for (const [codec, name] of [
      [zlibBrowser.zlibCodec, 'zlib'],
      [zlibBrowser.gzipCodec, 'gzip'],
    ] as const) {
      for (const lv of [1, 9])
        expect(same(codec.decode(readFixtureBytes(`codecs/large.${name}${lv}`), 1 << 30), payload)).toBe(
          true,
        );
      for (const lv of [1, 3, 9]) {
        const c = codec.encode(payload, lv);
        expect(same(CODECS[name].decode(c, 1 << 30), payload), `${name} ${lv} read by node:zlib`).toBe(true);
        expect(c.length).toBeLessThanOrEqual(1.1 * (pySizes[`${name}${lv}`] as number));
      }
      expect(codeOf(() => codec.decode(readFixtureBytes(`codecs/large.${name}9`), payload.length - 1))).toBe(
        'limit',
      );
    }
  });

  test('pure-TS lzma/xz decoder: Python files, cap, and writing refused with a clear message', () => {
    for (const [codec, name] of [
      [lzmaBrowser.lzmaCodec, 'lzma'],
      [lzmaBrowser.xzCodec, 'xz'],
    ] as const) {
      for (const lv of [1, 9])
        expect(same(codec.decode(readFixtureBytes(`codecs/large.${name}${lv}`), 1 << 30), payload)).toBe(
          true,
        );
      expect(codeOf(() => codec.decode(readFixtureBytes(`codecs/large.${name}9`), payload.length - 1))).toBe(
        'limit',
      );
      expect(() => codec.encode(payload, 3)).toThrow(/Node only/);
    }
  });
});

describeWithPython('live: joblib.load reads what every joblib compressor wrote here', () => {
  test('each compressor at level 3 (and lzma/xz at 1 and 6): equal to the value, and the same size as Python within 1.1x', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pj-codecs-'));
    try {
      const value = loads(payload);
      const cases: [string, number][] = [
        ['zlib', 3],
        ['gzip', 3],
        ['bz2', 3],
        ['lzma', 1],
        ['lzma', 6],
        ['xz', 1],
        ['xz', 6],
        ['lz4', 3],
      ];
      for (const [m, lv] of cases)
        writeFileSync(join(dir, `${m}-${lv}.joblib`), dumpsJoblib(value, { compress: [m as 'zlib', lv] }));
      const code = `
import joblib, os, sys, json, io
d = sys.argv[1]
ref = joblib.load(io.BytesIO(open(sys.argv[2], 'rb').read()))
out = {}
for f in sorted(os.listdir(d)):
    v = joblib.load(os.path.join(d, f))
    same = joblib.hash(v) == joblib.hash(ref)
    m, lv = f[:-7].split('-')[0], int(f[:-7].split('-')[1])
    p = os.path.join(d, 'py-' + f)
    joblib.dump(ref, p, compress=(m, lv))
    out[f] = [same, os.path.getsize(os.path.join(d, f)), os.path.getsize(p)]
    os.remove(p)
print(json.dumps(out))
`;
      const fixture = new URL('../fixtures/joblib/large.p4.raw.joblib', import.meta.url).pathname;
      const r = JSON.parse((await runPython(code, [dir, fixture])).stdout) as Record<
        string,
        [boolean, number, number]
      >;
      expect(Object.keys(r)).toHaveLength(cases.length);
      for (const [f, [equal, js, py]] of Object.entries(r)) {
        expect(equal, f).toBe(true);
        expect(js, `${f}: ${js} bytes vs Python's ${py}`).toBeLessThanOrEqual(1.1 * py);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
