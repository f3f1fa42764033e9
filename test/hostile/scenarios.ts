/**
 * Scenarios of the hostile suite that may be super-linear if something is wrong (deep nesting,
 * shared-reference fan-out, fuzzing): they run inside a Sandbox worker (test/helpers/hostile.ts) with
 * a 1 MiB stack and a deadline, and report plain data back. Nothing here asserts; the tests do.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dumps, loads, PickleError } from '../../src/index.js';
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
    if (kind === 'list') b.push(0x5d, 0x28, 0x68, i - 1, 0x68, i - 1, 0x65); // [m[i-1], m[i-1]]
    else if (kind === 'tuple') b.push(0x68, i - 1, 0x68, i - 1, 0x86); // (m[i-1], m[i-1])
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
    else if (x !== null && typeof x === 'object' && Object.keys(x).length > 0) x = (x as Record<string, unknown>)[Object.keys(x)[0] as string];
    else return d;
    d++;
  }
}

/**
 * Decode `data`, then hand the value to the consumers named in `only` (all when undefined), and read
 * back the encoder's and jsonpickle's output when `only` names those follow-ups too.
 */
async function decodeAndConsume(data: Uint8Array, lossless: boolean, only?: readonly string[]): Promise<ScenarioReport> {
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
        outcomes.push(runConsumer('fromJsonPickle(toJsonPickle)', () => fromJsonPickle(r.output as string)).outcome);
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
