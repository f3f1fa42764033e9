/**
 * Scenarios of the hostile suite that may be super-linear if something is wrong (deep nesting,
 * shared-reference fan-out, fuzzing): they run inside a Sandbox worker (test/helpers/hostile.ts) with
 * a 1 MiB stack and a deadline, and report plain data back. Nothing here asserts; the tests do.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dumps, dumpsJoblib, loads, PickleError } from '../../src/index.js';
import { toJsonPickle } from '../../src/interop/jsonpickle-write.js';
import { fromJsonPickle } from '../../src/interop/jsonpickle-read.js';
import { protoChanges, protoSnapshot, type ConsumerOutcome } from './core.js';

// ---------------------------------------------------------------------------------------------
// Pickles built here (bytes are cheap to build in the worker; only summaries cross the boundary)
// ---------------------------------------------------------------------------------------------

export type DeepKind = 'list' | 'tuple1' | 'dict' | 'object' | 'mark';

/** A pickle nesting `n` containers of `kind` (protocol 4, no frames). */
export function deepPickle(kind: DeepKind, n: number): Uint8Array {
  const out = new Uint8Array(n * 12 + 64);
  let o = 0;
  const put = (...b: number[]): void => {
    for (const x of b) out[o++] = x;
  };
  put(0x80, 4);
  switch (kind) {
    case 'list': // [[[...[]...]]] : n EMPTY_LISTs, then n-1 APPENDs
      for (let i = 0; i < n; i++) put(0x5d);
      for (let i = 1; i < n; i++) put(0x61);
      break;
    case 'tuple1': // ((((None,),),),)
      put(0x4e);
      for (let i = 0; i < n; i++) put(0x85);
      break;
    case 'dict': // {'k': {'k': ... {} ...}}: EMPTY_DICT 'k' ... then SETITEMs
      for (let i = 0; i < n; i++) put(0x7d, 0x8c, 1, 0x6b);
      put(0x7d);
      for (let i = 0; i < n; i++) put(0x73);
      break;
    case 'object': // foo.Bar objects whose state holds the next one: NEWOBJ, then BUILD
      put(0x8c, 3, 0x66, 0x6f, 0x6f, 0x8c, 3, 0x42, 0x61, 0x72, 0x93, 0x94); // memo 0 = foo.Bar
      for (let i = 0; i < n; i++) put(0x68, 0, 0x29, 0x81, 0x7d, 0x8c, 1, 0x6b);
      put(0x4e);
      for (let i = 0; i < n; i++) put(0x73, 0x62);
      break;
    case 'mark': // (((((( ... : refused by limits.maxDepth
      for (let i = 0; i < n; i++) put(0x28);
      put(0x4e);
      break;
  }
  put(0x2e);
  return out.subarray(0, o);
}

/** 60 levels of `x = [x, x]` (or tuples / dicts) sharing one object through BINGET: 2^60 paths. */
export function fanoutPickle(kind: 'list' | 'tuple' | 'dict', levels: number): Uint8Array {
  const b: number[] = [0x80, 4, 0x5d, 0x94, 0x30]; // memo 0 = []
  for (let i = 1; i <= levels; i++) {
    if (kind === 'list')
      b.push(0x5d, 0x28, 0x68, i - 1, 0x68, i - 1, 0x65); // [m[i-1], m[i-1]]
    else if (kind === 'tuple')
      b.push(0x68, i - 1, 0x68, i - 1, 0x86); // (m[i-1], m[i-1])
    else b.push(0x7d, 0x28, 0x8c, 1, 0x61, 0x68, i - 1, 0x8c, 1, 0x62, 0x68, i - 1, 0x75); // {'a': m, 'b': m}
    b.push(0x94, 0x30); // memo i = it
  }
  b.push(0x68, levels, 0x2e);
  return Uint8Array.from(b);
}

// ---------------------------------------------------------------------------------------------
// Consumers
// ---------------------------------------------------------------------------------------------

type Consumer = (v: unknown) => string | Uint8Array | unknown;

interface OptionalModules {
  jsonview?: { toJSONValue: (v: unknown) => unknown; toPlainJson: (v: unknown, indent?: number) => string };
}

async function optionalModules(): Promise<OptionalModules> {
  const out: OptionalModules = {};
  const url = new URL('../../src/interop/jsonview.ts', import.meta.url);
  if (existsSync(fileURLToPath(url))) {
    out.jsonview = (await import(/* @vite-ignore */ url.href)) as OptionalModules['jsonview'];
  }
  return out;
}

async function consumers(): Promise<{ list: [string, Consumer][]; missing: string[] }> {
  const mods = await optionalModules();
  const list: [string, Consumer][] = [
    ['dumps p4', (v) => dumps(v, { protocol: 4, allowGlobals: true })],
    ['dumps p0', (v) => dumps(v, { protocol: 0, allowGlobals: true })],
    ['toJsonPickle', (v) => toJsonPickle(v)],
    ['dumpsJoblib', (v) => dumpsJoblib(v, { allowGlobals: true })],
  ];
  const missing: string[] = [];
  if (mods.jsonview) {
    const jv = mods.jsonview;
    list.push(['toJSONValue', (v) => jv.toJSONValue(v)]);
    list.push(['toPlainJson', (v) => jv.toPlainJson(v)]);
  } else missing.push('JSON view (src/interop/jsonview.ts not present)');
  return { list, missing };
}

function size(out: unknown): number | undefined {
  if (typeof out === 'string') return out.length;
  if (out instanceof Uint8Array) return out.length;
  return undefined;
}

/** Run one consumer, classifying the outcome; never throws. */
function runConsumer(name: string, fn: () => unknown): { outcome: ConsumerOutcome; output: unknown } {
  const snap = protoSnapshot();
  const t0 = performance.now();
  let output: unknown;
  let kind: ConsumerOutcome['kind'] = 'value';
  let errorName: string | undefined;
  let message: string | undefined;
  try {
    output = fn();
  } catch (e) {
    kind = e instanceof PickleError ? 'pickle-error' : 'crash';
    errorName = (e as Error)?.constructor?.name ?? typeof e;
    message = String((e as Error)?.message ?? e).slice(0, 300);
  }
  const ms = performance.now() - t0;
  const outcome: ConsumerOutcome = {
    consumer: name,
    kind,
    ms,
    ...(errorName !== undefined ? { errorName } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(kind === 'value' && size(output) !== undefined ? { outputSize: size(output) } : {}),
    protoChanges: protoChanges(snap),
  };
  return { outcome, output };
}

export interface ScenarioReport {
  readonly inputBytes: number;
  readonly decode: ConsumerOutcome;
  readonly outcomes: ConsumerOutcome[];
  readonly missing: string[];
  /** Nesting depth of the decoded value (following the first child), when it decoded. */
  readonly depth?: number;
}

function depthOf(v: unknown): number {
  let d = 0;
  let x: unknown = v;
  for (;;) {
    if (Array.isArray(x)) x = x[0];
    else if (x instanceof Map) x = x.values().next().value;
    else if (x !== null && typeof x === 'object' && Object.keys(x).length > 0)
      x = (x as Record<string, unknown>)[Object.keys(x)[0] as string];
    else return d;
    d++;
  }
}

/**
 * Decode `data`, then hand the value to the consumers named in `only` (all when undefined), and read
 * back the encoder's and jsonpickle's output when `only` names those follow-ups too.
 */
async function decodeAndConsume(
  data: Uint8Array,
  lossless: boolean,
  only?: readonly string[],
): Promise<ScenarioReport> {
  const all = await consumers();
  const wanted = (name: string): boolean => only === undefined || only.includes(name);
  const list = all.list.filter(([name]) => wanted(name));
  const missing = all.missing;
  const dec = runConsumer(lossless ? 'loads lossless' : 'loads', () => loads(data, { lossless }));
  const outcomes: ConsumerOutcome[] = [];
  if (dec.outcome.kind === 'value') {
    for (const [name, fn] of list) {
      const r = runConsumer(name, () => fn(dec.output));
      outcomes.push(r.outcome);
      if (r.outcome.kind !== 'value') continue;
      // The consumers' own outputs are inputs too: read them back.
      if (name === 'toJsonPickle' && wanted('fromJsonPickle(toJsonPickle)')) {
        outcomes.push(
          runConsumer('fromJsonPickle(toJsonPickle)', () => fromJsonPickle(r.output as string)).outcome,
        );
      }
      if (name === 'dumps p4' && wanted('loads(dumps p4)')) {
        outcomes.push(runConsumer('loads(dumps p4)', () => loads(r.output as Uint8Array)).outcome);
      }
    }
  }
  return {
    inputBytes: data.length,
    decode: dec.outcome,
    outcomes,
    missing,
    ...(dec.outcome.kind === 'value' ? { depth: depthOf(dec.output) } : {}),
  };
}

/** Category 8: an n-deep value of `kind`, decoded and given to the consumers (all by default). */
export async function deep(kind: DeepKind, n: number, only?: readonly string[]): Promise<ScenarioReport> {
  return decodeAndConsume(deepPickle(kind, n), false, only);
}

/** Category 9: 2^levels paths to one object, decoded and given to every consumer. */
export async function fanout(kind: 'list' | 'tuple' | 'dict', levels: number): Promise<ScenarioReport> {
  return decodeAndConsume(fanoutPickle(kind, levels), false);
}

/** jsonpickle text nested `n` deep (a hostile input of fromJsonPickle itself). */
export function deepJsonPickle(kind: 'array' | 'object' | 'tuple', n: number): ConsumerOutcome {
  const open = kind === 'array' ? '[' : kind === 'object' ? '{"k": ' : '{"py/tuple": [';
  const close = kind === 'array' ? ']' : kind === 'object' ? '}' : ']}';
  const text = open.repeat(n) + 'null' + close.repeat(n);
  return runConsumer(`fromJsonPickle ${kind} x ${n}`, () => fromJsonPickle(text)).outcome;
}

/** jsonpickle text with `levels` levels of [ref, ref] (py/id fan-out) — read, then written again. */
export function fanoutJsonPickle(levels: number): ConsumerOutcome[] {
  // py/id numbering (0-based, pre-order): the outer list is 0, each nested list registers as it is met.
  let text = '[]';
  for (let i = 1; i <= levels; i++) text = `[${text}, {"py/id": ${levels - i + 1}}]`;
  const read = runConsumer('fromJsonPickle fan-out', () => fromJsonPickle(text));
  const out = [read.outcome];
  if (read.outcome.kind === 'value') {
    out.push(runConsumer('toJsonPickle(fromJsonPickle fan-out)', () => toJsonPickle(read.output)).outcome);
    out.push(runConsumer('dumps(fromJsonPickle fan-out)', () => dumps(read.output)).outcome);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Category 12: fuzzing (fast-check), run here so a hang or blow-up cannot stall the suite
// ---------------------------------------------------------------------------------------------

export interface FuzzFailure {
  readonly reader: string;
  readonly error: string;
  readonly inputHex: string;
}

export interface FuzzReport {
  readonly runs: number;
  readonly ms: number;
  readonly slowestMs: number;
  readonly failures: FuzzFailure[];
  /** fast-check's own verdict (a counterexample is reported in `failures`). */
  readonly failed: boolean;
  readonly seed: number;
  /** Readers that returned a value / threw a PickleError, over all runs (to show the fuzz reaches both). */
  readonly values: number;
  readonly refusals: number;
}

type ByteReader = [string, (d: Uint8Array) => unknown];

async function fuzzReaders(): Promise<ByteReader[]> {
  const { loadsAll } = await import('../../src/index.js');
  const { disassemble } = await import('../../src/tools/dis.js');
  const { genops } = await import('../../src/tools/genops.js');
  const { scan } = await import('../../src/tools/scan/index.js');
  const { decompressJoblib } = await import('../../src/joblib/compress.js');
  const mods = await optionalModules();
  const small = { limits: { maxInputBytes: 1 << 24 } };
  const readers: ByteReader[] = [
    ['loads', (d) => loads(d, small)],
    ['loads lossless inert', (d) => loads(d, { ...small, lossless: true, dangerousGlobals: 'inert' })],
    ['loadsAll', (d) => loadsAll(d, small)],
    ['disassemble', (d) => disassemble(d, { all: true })],
    ['genops', (d) => [...genops(d)].length],
    ['scan', (d) => scan(d, { decompress: (x) => decompressJoblib(x, 1 << 24) })],
  ];
  // Whatever decodes goes on to the consumers.
  const consume: [string, (v: unknown) => unknown][] = [
    ['dumps', (v) => dumps(v, { allowGlobals: true })],
    ['toJsonPickle', (v) => toJsonPickle(v)],
  ];
  if (mods.jsonview) {
    const jv = mods.jsonview;
    consume.push(['toPlainJson', (v) => jv.toPlainJson(v)]);
  }
  readers.push([
    'consumers of the decoded value',
    (d) => {
      let v: unknown;
      try {
        v = loads(d, { ...small, dangerousGlobals: 'inert' });
      } catch (e) {
        if (e instanceof PickleError) return undefined;
        throw e;
      }
      for (const [name, fn] of consume) {
        try {
          fn(v);
        } catch (e) {
          if (!(e instanceof PickleError)) {
            throw new Error(`${name}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, {
              cause: e,
            });
          }
        }
      }
      return v;
    },
  ]);
  return readers;
}

/**
 * Run every reader on inputs from `arbitrary`; a throw that is not a PickleError, or a prototype
 * change, is a failure. Deterministic for a given seed.
 */
async function runFuzz(
  arbitrary: import('fast-check').Arbitrary<Uint8Array>,
  seed: number,
  numRuns: number,
): Promise<FuzzReport> {
  const fc = (await import('fast-check')).default;
  const readers = await fuzzReaders();
  const failures: FuzzFailure[] = [];
  let values = 0;
  let refusals = 0;
  let slowest = 0;
  let runs = 0;
  const t0 = performance.now();
  const result = fc.check(
    fc.property(arbitrary, (data) => {
      runs++;
      const snap = protoSnapshot();
      for (const [name, read] of readers) {
        const t = performance.now();
        try {
          read(data);
          values++;
        } catch (e) {
          if (e instanceof PickleError) refusals++;
          else {
            failures.push({
              reader: name,
              error: `${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)}`,
              inputHex: Buffer.from(data.subarray(0, 4096)).toString('hex'),
            });
            return false;
          }
        }
        slowest = Math.max(slowest, performance.now() - t);
      }
      const changes = protoChanges(snap);
      if (changes.length > 0) {
        failures.push({
          reader: 'prototypes',
          error: changes.join(', '),
          inputHex: Buffer.from(data.subarray(0, 4096)).toString('hex'),
        });
        return false;
      }
      return true;
    }),
    { seed, numRuns, endOnFailure: true },
  );
  return {
    runs,
    ms: performance.now() - t0,
    slowestMs: slowest,
    failures: failures.slice(0, 5),
    failed: result.failed,
    seed,
    values,
    refusals,
  };
}

/** Random bytes, bare or behind a PROTO header / a compressor's magic. */
export async function fuzzRandom(seed: number, numRuns: number): Promise<FuzzReport> {
  const fc = (await import('fast-check')).default;
  const prefixes = [
    [],
    [0x80, 2],
    [0x80, 4],
    [0x80, 5],
    [0x80, 4, 0x95],
    [0x78, 0x9c],
    [0x1f, 0x8b, 8],
    [0x5d, 0],
    [0x42, 0x5a, 0x68],
    [0x04, 0x22, 0x4d, 0x18],
    [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0],
    [0x5a, 0x46],
  ];
  const arb = fc
    .tuple(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 96 }))
    .map(([p, b]) => Uint8Array.from([...p, ...b]));
  return runFuzz(arb, seed, numRuns);
}

/** Mutations of real files (`paths` relative to fixtures/); compressed joblib files are also re-compressed after mutating their stream. */
export async function fuzzMutations(
  paths: readonly string[],
  seed: number,
  numRuns: number,
): Promise<FuzzReport> {
  const fc = (await import('fast-check')).default;
  const { readFileSync } = await import('node:fs');
  const { detectJoblibCompression, decompressJoblib, compressJoblib } =
    await import('../../src/joblib/compress.js');
  const root = new URL('../../fixtures/', import.meta.url);
  const corpus = paths.map((p) => new Uint8Array(readFileSync(new URL(p, root))));
  const edit = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom(
      'overwrite',
      'insert',
      'delete',
      'truncate',
      'flip',
      'huge-u32',
      'huge-u64',
      'duplicate',
      'zero',
    ),
    byte: fc.integer({ min: 0, max: 255 }),
    len: fc.integer({ min: 1, max: 64 }),
  });
  const mutate = (
    src: Uint8Array,
    edits: { at: number; kind: string; byte: number; len: number }[],
  ): Uint8Array => {
    let b = Array.from(src);
    for (const e of edits) {
      const i = b.length === 0 ? 0 : e.at % b.length;
      switch (e.kind) {
        case 'overwrite':
          b[i] = e.byte;
          break;
        case 'insert':
          b.splice(i, 0, e.byte);
          break;
        case 'delete':
          b.splice(i, Math.min(e.len, 8));
          break;
        case 'truncate':
          b = b.slice(0, i);
          break;
        case 'flip':
          b[i] = (b[i] ?? 0) ^ (1 << (e.byte & 7));
          break;
        case 'huge-u32':
          b.splice(i, 4, 0xff, 0xff, 0xff, e.byte & 0x7f);
          break;
        case 'huge-u64':
          b.splice(i, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0);
          break;
        case 'duplicate':
          b.splice(i, 0, ...b.slice(i, i + e.len));
          break;
        case 'zero':
          for (let k = i; k < Math.min(b.length, i + e.len); k++) b[k] = 0;
          break;
      }
    }
    return Uint8Array.from(b);
  };
  const arb = fc
    .record({
      file: fc.integer({ min: 0, max: corpus.length - 1 }),
      edits: fc.array(edit, { minLength: 1, maxLength: 4 }),
      inner: fc.boolean(),
    })
    .map(({ file, edits, inner }) => {
      const src = corpus[file] as Uint8Array;
      const method = detectJoblibCompression(src);
      if (inner && method !== undefined && method !== 'zfile') {
        // Mutate the decompressed stream, then compress it again: the container stays valid.
        const plain = decompressJoblib(src, 1 << 24) as Uint8Array;
        return compressJoblib(mutate(plain, edits), method, 1);
      }
      return mutate(src, edits);
    });
  return runFuzz(arb, seed, numRuns);
}
