/**
 * Facts about jsonpickle 3.x's format shared by the reader and the writer (established by reading
 * jsonpickle 3.0.0's pickler/unpickler and by encoding real values with it).
 */
import type { Policy } from '../unpickle/policy.js';

export const TAG = {
  B64: 'py/b64',
  B85: 'py/b85',
  FUNCTION: 'py/function',
  ID: 'py/id',
  INITARGS: 'py/initargs',
  ITERATOR: 'py/iterator',
  NEWARGS: 'py/newargs',
  NEWARGSEX: 'py/newargsex',
  NEWOBJ: 'py/newobj',
  OBJECT: 'py/object',
  REDUCE: 'py/reduce',
  REPR: 'py/repr',
  SEQ: 'py/seq',
  SET: 'py/set',
  STATE: 'py/state',
  TUPLE: 'py/tuple',
  TYPE: 'py/type',
} as const;

/** Prefix of a dict key that holds the jsonpickle encoding of a non-string key (with `keys=True`). */
export const JSON_KEY = 'json://';

/**
 * Keys jsonpickle's unpickler skips when it sets attributes from a `py/object` dict
 * (`tags.RESERVED`; note that `py/b64`/`py/b85` are not in it).
 */
export const RESERVED = new Set([
  'py/bytes',
  'py/function',
  'py/id',
  'py/initargs',
  'py/iterator',
  'py/newargs',
  'py/newargsex',
  'py/newobj',
  'py/object',
  'py/property',
  'py/reduce',
  'py/ref',
  'py/repr',
  'py/seq',
  'py/set',
  'py/state',
  'py/tuple',
  'py/type',
]);

/**
 * Split jsonpickle's dotted `module.qualname` into a module and a (possibly dotted) name. jsonpickle
 * does not record where the module ends; Python packages are lower-case by convention and classes
 * capitalised, so the name starts at the first capitalised segment after the first one (so
 * `pkg.mod.Outer.Inner` → `pkg.mod` + `Outer.Inner`), else at the last segment. The registry and
 * the policy look names up by the joined `module.name`, so the split only affects how a PyGlobal reads.
 */
export function splitQualified(full: string): [module: string, name: string] {
  const parts = full.split('.');
  if (parts.length < 2) return ['builtins', full];
  for (let i = 1; i < parts.length; i++) {
    if (/^_*[A-Z]/.test(parts[i] as string)) return [parts.slice(0, i).join('.'), parts.slice(i).join('.')];
  }
  return [parts.slice(0, -1).join('.'), parts[parts.length - 1] as string];
}

/**
 * The reason a global written as one dotted `full` name is refused, when any module/name split of it
 * is dangerous (jsonpickle does not record where the module ends); undefined when none is.
 */
export function dangerousQualified(policy: Policy, full: string): string | undefined {
  const parts = full.split('.');
  if (parts.length < 2) {
    const v = policy.classify('builtins', full);
    return v.severity === 'dangerous' ? v.reason : undefined;
  }
  for (let i = 1; i < parts.length; i++) {
    const v = policy.classify(parts.slice(0, i).join('.'), parts.slice(i).join('.'));
    if (v.severity === 'dangerous') return v.reason;
  }
  return undefined;
}

/** Names jsonpickle 3.0 writes wrongly for some stdlib globals, mapped to the importable ones. */
export const NAME_FIXES: ReadonlyMap<string, string> = new Map([
  // A bound classmethod's `__module__` is 'builtins', so jsonpickle writes ZoneInfo's reducer under it.
  ['builtins.ZoneInfo._unpickle', 'zoneinfo.ZoneInfo._unpickle'],
]);

/** Python builtins that are types (for `py/type` rather than `py/function`). */
const BUILTIN_TYPES = new Set([
  'object',
  'int',
  'float',
  'complex',
  'bool',
  'str',
  'bytes',
  'bytearray',
  'list',
  'tuple',
  'dict',
  'set',
  'frozenset',
  'type',
  'range',
  'slice',
  'memoryview',
  'property',
  'staticmethod',
  'classmethod',
  'super',
  'enumerate',
  'zip',
  'map',
  'filter',
  'reversed',
  'NoneType',
  'NotImplementedType',
  'ellipsis',
  'BaseException',
  'Exception',
]);

/**
 * Whether a global is (most likely) a class: jsonpickle tags classes `py/type` and functions
 * `py/function`. Python restores both the same way (by import), so only readability depends on it.
 */
export function looksLikeType(module: string, name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  if (module === 'builtins' || module === '__builtin__') {
    return BUILTIN_TYPES.has(last) || /(Error|Exception|Warning)$/.test(last);
  }
  return /^_*[A-Z]/.test(last);
}

/** Node's Buffer codes base64 natively; a browser bundle uses the loops below (no Node built-in). */
interface NodeBufferLike {
  from(b: ArrayBufferLike, off: number, len: number): { toString(enc: 'base64'): string };
  from(s: string, enc: 'base64'): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Standard base64 (what Python's `base64.b64encode` writes). */
export function toBase64(b: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let s = 0; s < b.length; s += CHUNK) {
    const end = Math.min(b.length, s + CHUNK);
    let t = '';
    let i = s;
    for (; i + 2 < end; i += 3) {
      const n = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8) | (b[i + 2] as number);
      t += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
    }
    if (i < end) {
      const n = ((b[i] as number) << 16) | (i + 1 < end ? (b[i + 1] as number) << 8 : 0);
      t += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < end ? B64[(n >> 6) & 63] : '=') + '=';
    }
    parts.push(t);
  }
  return parts.join('');
}

/** Bytes of unpadded base64 text made only of alphabet characters. */
function decodeBase64Body(body: string): Uint8Array {
  if (NodeBuffer) {
    const buf = NodeBuffer.from(body, 'base64');
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < body.length; i++) {
    acc = (acc << 6) | (B64_INDEX[body.charCodeAt(i)] as number);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= 0xff;
  }
  return out.subarray(0, o);
}

/** Python's `base64.b64decode` with default `validate=False`: characters outside the alphabet are dropped. */
export function fromBase64(s: string): Uint8Array | undefined {
  const clean = s.replace(/[^A-Za-z0-9+/=]/g, '');
  const body = clean.replace(/=+$/, '');
  // Python requires complete 4-character groups ("Incorrect padding" otherwise).
  if (body.includes('=') || clean.length % 4 !== 0 || clean.length - body.length > 2) return undefined;
  return decodeBase64Body(body);
}

const B85_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';
const B85_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B85_ALPHABET.length; i++) B85_INDEX[B85_ALPHABET.charCodeAt(i)] = i;

/** Python's `base64.b85decode` (jsonpickle's `use_base85=True` output). */
export function fromBase85(s: string): Uint8Array | undefined {
  const pad = (5 - (s.length % 5)) % 5;
  const text = s + '~'.repeat(pad);
  const out = new Uint8Array((text.length / 5) * 4);
  let o = 0;
  for (let i = 0; i < text.length; i += 5) {
    let acc = 0;
    for (let j = 0; j < 5; j++) {
      const c = text.charCodeAt(i + j);
      const d = c < 128 ? (B85_INDEX[c] as number) : -1;
      if (d < 0) return undefined;
      acc = acc * 85 + d;
    }
    if (acc > 0xffffffff) return undefined;
    out[o++] = acc >>> 24;
    out[o++] = (acc >>> 16) & 0xff;
    out[o++] = (acc >>> 8) & 0xff;
    out[o++] = acc & 0xff;
  }
  return out.subarray(0, out.length - pad);
}
