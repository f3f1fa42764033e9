// Engine references: what the JS engine itself allows when it builds the same values. For a workload's
// value (as picklejar decodes it), msgpackr (the fastest JS binary codec measured here) packs and unpacks
// the same value, and V8's native JSON.parse / JSON.stringify handle it as JSON text. Timed in the same
// process as picklejar, with the same measure() (forced GC before each run).
//
// What "the same value" means per codec (reported as notes):
// - msgpackr: `useRecords: false` (plain msgpack, no shape-sharing extension); `int64AsType: 'auto'`
//   gives a number when exact and a BigInt beyond 2**53, as picklejar does. Ints wider than 64 bits
//   (ints_1m's 100 huge ints) cannot be msgpack ints: they are packed as floats (`largeBigIntToFloat`).
//   Tuples are arrays. Shared references (graph) need `structuredClone: true`, msgpackr's only mode that
//   keeps them (an extension per shared object).
// - JSON: ints beyond 2**53 become doubles (JSON has no exact form for them; JSON.parse then builds an
//   array of doubles, which is cheaper than BigInts); graph is skipped (JSON cannot share, and the
//   node -> parent chains would expand into copies).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The msgpackr module and version, or undefined when the dev dependency is missing. */
export async function loadMsgpackr() {
  try {
    const mod = await import('msgpackr');
    // (msgpackr's exports map hides package.json: read it next to its entry point)
    let dir = dirname(require.resolve('msgpackr'));
    while (!dir.endsWith('msgpackr') && dir !== dirname(dir)) dir = dirname(dir);
    const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    let native = false;
    try {
      native = typeof require('msgpackr-extract').extractStrings === 'function';
    } catch {
      /* optional native string extractor not installed */
    }
    return { mod, version, native };
  } catch (e) {
    return { error: `msgpackr not importable: ${e.message}` };
  }
}

const hasShared = (w) => w.group === 'graph';

/** Codecs for one workload: { msgpack: {pack, unpack, bytes}, json: {text} , notes }. */
export function engineInputs(msgpackr, value, w) {
  const notes = [];
  const out = { notes };
  if (msgpackr?.mod) {
    const { Packr, Unpackr } = msgpackr.mod;
    const shared = hasShared(w);
    const packr = new Packr({ useRecords: false, largeBigIntToFloat: true, structuredClone: shared });
    const unpackr = new Unpackr({ useRecords: false, int64AsType: 'auto', structuredClone: shared });
    try {
      const bytes = packr.pack(value);
      out.msgpack = { bytes, pack: () => packr.pack(value), unpack: () => unpackr.unpack(bytes) };
      if (shared) notes.push('msgpackr with structuredClone (keeps shared references)');
      if (w.name === 'ints_1m.p4') notes.push('msgpackr: the 100 ints wider than 64 bits are floats');
    } catch (e) {
      out.msgpack = { na: `pack failed: ${e.message}` };
    }
  } else out.msgpack = { na: msgpackr?.error ?? 'msgpackr not installed' };
  if (hasShared(w)) out.json = { na: 'JSON cannot share references' };
  else {
    let lossy = false;
    const text = JSON.stringify(value, (k, v) => {
      if (typeof v === 'bigint') {
        lossy = true;
        return Number(v);
      }
      return v;
    });
    const stringify = lossy ? () => JSON.stringify(value, replacer) : () => JSON.stringify(value);
    out.json = { text, parse: () => JSON.parse(text), stringify };
    if (lossy) notes.push('JSON: ints beyond 2**53 are doubles');
  }
  return out;
}

// JSON.stringify cannot write BigInts; the encode reference converts them (a replacer runs per value, so
// it is only installed when the value holds BigInts).
function replacer(k, v) {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Checks that an engine decoded a value of the workload's shape (length / keys), like checkResult. */
export function engineCheck(v, w) {
  const c = w.check ?? {};
  if (c.length !== undefined && (!Array.isArray(v) || v.length !== c.length)) return 'wrong result length';
  if (
    c.keys !== undefined &&
    (typeof v !== 'object' || v === null || Object.keys(v).length !== c.keys.length)
  )
    return 'wrong result keys';
  return undefined;
}

/**
 * Time the engine references for one workload with `measure` (bench/lib/measure.mjs):
 * { msgpackDecode, msgpackEncode, jsonDecode, jsonEncode, notes }.
 */
export function measureEngines(measure, msgpackr, value, w) {
  const inp = engineInputs(msgpackr, value, w);
  const r = { notes: inp.notes };
  const mp = inp.msgpack;
  r.msgpackDecode = mp.na ? { na: mp.na } : measure(mp.unpack, (v) => engineCheck(v, w));
  r.msgpackEncode = mp.na ? { na: mp.na } : measure(mp.pack);
  const js = inp.json;
  r.jsonDecode = js.na ? { na: js.na } : measure(js.parse, (v) => engineCheck(v, w));
  r.jsonEncode = js.na ? { na: js.na } : measure(js.stringify);
  return r;
}
