/**
 * The browser build's codec plumbing, run under Node: the bzip2 reader a page uses (unbzip2-stream's
 * decoder behind picklejar's bounded driver) on files Python's bz2 module wrote, with the same
 * refusals as the Node reader (cut streams, corrupt blocks, the output cap); and the registry a
 * browser bundle starts with (no compressor until `ready()` registers them).
 */
import { describe, expect, test } from 'vitest';
import { bz2Codec as browserBz2 } from '../src/codecs/bz2.browser.js';
import { CODECS } from '../src/codecs/builtin.node.js';
import { BUILTIN_CODECS, startCodecs } from '../src/codecs/builtin.browser.js';
import { readFixtureBytes } from './helpers/fixtures.js';

const payload = readFixtureBytes('joblib/large.p4.raw.joblib');
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('bzip2 in the browser build', () => {
  test('decodes what Python wrote at levels 1 and 9, equal to the Node reader', () => {
    for (const lv of [1, 9]) {
      const file = readFixtureBytes(`codecs/large.bz2${lv}`);
      const out = browserBz2.decode(file, 1 << 30);
      expect(same(out, payload)).toBe(true);
      expect(same(out, CODECS.bz2.decode(file, 1 << 30))).toBe(true);
    }
  });

  test('streams back to back are read in turn; trailing bytes that start no stream are ignored', () => {
    const a = readFixtureBytes('codecs/large.bz21');
    const b = readFixtureBytes('codecs/large.bz29');
    const both = new Uint8Array([...a, ...b, 0x00, 0x01]);
    const out = browserBz2.decode(both, 1 << 30);
    expect(out.length).toBe(2 * payload.length);
    expect(same(out, CODECS.bz2.decode(both, 1 << 30))).toBe(true);
  });

  test('a stream cut anywhere is truncated, a flipped bit is corrupt, as with the Node reader', () => {
    const file = readFixtureBytes('codecs/large.bz29');
    for (const cut of [
      0,
      3,
      4,
      10,
      100,
      file.length >> 1,
      file.length - 10,
      file.length - 5,
      file.length - 1,
    ]) {
      const piece = file.subarray(0, cut);
      expect(
        codeOf(() => browserBz2.decode(piece, 1 << 30)),
        `cut at ${cut}`,
      ).toBe(codeOf(() => CODECS.bz2.decode(piece, 1 << 30)));
    }
    expect(codeOf(() => browserBz2.decode(file.subarray(0, file.length - 1), 1 << 30))).toBe('truncated');
    const bad = file.slice();
    bad[file.length >> 1]! ^= 0x10;
    expect(codeOf(() => browserBz2.decode(bad, 1 << 30))).toBe('corrupt');
  });

  test('output stops at the cap (limit), and writing is refused with a clear message', () => {
    const file = readFixtureBytes('codecs/large.bz29');
    expect(codeOf(() => browserBz2.decode(file, payload.length - 1))).toBe('limit');
    expect(browserBz2.decode(file, payload.length).length).toBe(payload.length);
    const bomb = readFixtureBytes('joblib/bomb64m.bz2');
    expect(codeOf(() => browserBz2.decode(bomb, 1 << 20))).toBe('limit');
    expect(() => browserBz2.encode(payload, 9)).toThrow(/Node only/);
  });
});

describe('the browser registry', () => {
  test('starts empty; ready() registers every compressor without starting the zstd encoder', async () => {
    expect(Object.keys(BUILTIN_CODECS)).toEqual([]);
    const { codecs, started } = startCodecs({ write: false });
    await started;
    expect(Object.keys(codecs).sort()).toEqual(['bz2', 'gzip', 'lz4', 'lzma', 'xz', 'zlib', 'zstd']);
    for (const [name, codec] of Object.entries(codecs)) {
      const file = readFixtureBytes(`codecs/large.${name === 'bz2' ? 'bz2' : name}9`);
      expect(same(codec.decode(file, 1 << 30), payload), name).toBe(true);
    }
  });
});
